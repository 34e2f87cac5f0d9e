#!/bin/sh
# Benchmark: every ESCU hunt in one pass against one hunt, same stream.
#
# Generates EVENTS synthetic 4104 events (bench/gen_events.py), records the
# chunk stream Splunk would send (`scriptblockhunt record`) once with the
# default options (the GetNetTcpconnection hunt) and once with hunts=all;
# both streams carry the same 15 columns, only their getinfo arguments
# differ. Each is then played RUNS times through the release binary in
# protocol mode (stdin from the file, stdout to /dev/null), and the best
# wall and CPU times of each are reported, with the ratios all/one.
#
# Usage: bench/escu.sh [EVENTS] [RUNS]     (defaults 100000 and 3)
# Work files go to ${BENCH_DIR:-target/bench}.
set -eu

events=${1:-100000}
runs=${2:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-$root/target/bench}
bin=$root/target/release/scriptblockhunt
mkdir -p "$dir"

cargo build --release --quiet --manifest-path "$root/Cargo.toml"

xml=$dir/escu-$events.xml
if [ ! -s "$xml" ]; then
    python3 "$root/bench/gen_events.py" "$events" "$xml"
fi
[ -s "$dir/one.stream" ] && [ "$dir/one.stream" -nt "$xml" ] ||
    "$bin" record "$xml" > "$dir/one.stream"
[ -s "$dir/all.stream" ] && [ "$dir/all.stream" -nt "$xml" ] ||
    "$bin" record --hunts all "$xml" > "$dir/all.stream"

# Plays stream $1 $runs times; prints the best wall time and the best CPU
# time (user + system) in seconds. The two streams are played in turns
# (one, all, one, all, ...) so that load from other work on the machine
# falls on both alike. The last run's log line goes to $dir/$1.log.
play() {
    /usr/bin/time -f '%e %U %S' -o "$dir/$1.time" env SCRIPTBLOCKHUNT_LOG=info \
        "$bin" < "$dir/$1.stream" > /dev/null 2> "$dir/$1.log"
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$dir/$1.time" >> "$dir/$1.times"
}
rm -f "$dir/one.times" "$dir/all.times"
i=0
while [ "$i" -lt "$runs" ]; do
    play one
    play all
    i=$((i + 1))
done
best() { sort -n -k"$2" "$dir/$1.times" | head -1 | cut -d' ' -f"$2"; }

mb=$(du -m "$dir/one.stream" | cut -f1)
echo "events: $events; stream: $mb MB; runs: $runs each, in turns (best of)"
printf '%-34s %8s %8s\n' search wall cpu
printf '%-34s %7ss %7ss\n' "one hunt (GetNetTcpconnection)" \
    "$(best one 1)" "$(best one 2)"
printf '%-34s %7ss %7ss\n' "101 hunts (hunts=all)" \
    "$(best all 1)" "$(best all 2)"
echo "ratio all/one: wall $(echo "scale=2; $(best all 1) / $(best one 1)" | bc)," \
    "cpu $(echo "scale=2; $(best all 2) / $(best one 2)" | bc)"
grep -h 'matched' "$dir/one.log" "$dir/all.log" | sed 's/^/log: /'
