#!/bin/sh
# Benchmark: every ESCU hunt in one pass against one hunt, same stream.
#
# Generates EVENTS synthetic 4104 events (bench/gen_events.py), records the
# chunk stream Splunk would send (`scriptblockhunt record`) once with the
# default options (the GetNetTcpconnection hunt) and once with hunts=all;
# both streams carry the same 15 columns, only their getinfo arguments
# differ. Each is then played RUNS times through the release binary in
# protocol mode (stdin from the file, stdout to /dev/null), and the best
# wall time of each is reported, with the ratio all/one.
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

# best wall seconds of $runs plays of stream $1; the last run's log line
# goes to $dir/$1.log
best() {
    best=
    i=0
    while [ "$i" -lt "$runs" ]; do
        start=$(date +%s.%N)
        SCRIPTBLOCKHUNT_LOG=info "$bin" < "$dir/$1.stream" > /dev/null \
            2> "$dir/$1.log"
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc)" = 1 ]; then
            best=$t
        fi
        i=$((i + 1))
    done
    echo "$best"
}

one=$(best one)
all=$(best all)
mb=$(du -m "$dir/one.stream" | cut -f1)
echo "events: $events; stream: $mb MB; runs: $runs (best of)"
echo "one hunt  (GetNetTcpconnection): ${one} s"
echo "101 hunts (hunts=all):           ${all} s"
echo "ratio all/one: $(echo "scale=2; $all / $one" | bc)"
grep -h 'matched' "$dir/one.log" "$dir/all.log" | sed 's/^/log: /'
