#!/bin/sh
# Benchmark: every ESCU hunt in one pass against one hunt, on two streams.
#
# A. The ESCU mix: EVENTS synthetic 4104 events (bench/gen_events.py) in
#    which about one event in a hundred carries a line built from the
#    literals of a random ESCU hunt, so every hunt finds something; the
#    chunk stream Splunk would send is recorded (`scriptblockhunt record`)
#    once with the default options (the GetNetTcpconnection hunt) and once
#    with hunts=all (same 15 columns, only the getinfo arguments differ).
# B. The large generated stream of the performance benchmark
#    (`scriptblockhunt gen --size SIZE`, bench/run.sh), written twice with
#    different getinfo arguments: none (the default hunt) and hunts=all.
#    Its ordinary lines match no catalog hunt, so all 101 hunts find only
#    the events that match the default hunt.
#
# Each stream is played RUNS times through the release binary in protocol
# mode (stdin from the file, stdout to /dev/null), in turns so that load
# from other work on the machine falls on all alike; the best wall and
# CPU (user + system) times are reported, with the ratios.
#
# Usage: bench/escu.sh [EVENTS] [RUNS] [SIZE]   (defaults 300000, 5, 1G)
# Work files go to ${BENCH_DIR:-target/bench}.
set -eu

events=${1:-300000}
runs=${2:-5}
size=${3:-1G}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${BENCH_DIR:-$root/target/bench}
bin=$root/target/release/scriptblockhunt
mkdir -p "$dir"

cargo build --release --quiet --manifest-path "$root/Cargo.toml"

# A: the ESCU mix.
xml=$dir/escu-$events.xml
[ -s "$xml" ] || python3 "$root/bench/gen_events.py" "$events" "$xml"
[ -s "$dir/a-one.stream" ] && [ "$dir/a-one.stream" -nt "$xml" ] ||
    "$bin" record "$xml" > "$dir/a-one.stream"
[ -s "$dir/a-all.stream" ] && [ "$dir/a-all.stream" -nt "$xml" ] ||
    "$bin" record --hunts all "$xml" > "$dir/a-all.stream"

# B: the large generated stream, two ways.
stamp=$dir/gen-$size.stamp
if [ ! -e "$stamp" ] || [ "$bin" -nt "$stamp" ]; then
    "$bin" gen --size "$size" > "$dir/b-one.stream"
    "$bin" gen --size "$size" hunts=all > "$dir/b-all.stream"
    touch "$stamp"
fi

# Plays stream $1 once; appends "wall cpu" to $dir/$1.times; the log
# (the summary line) goes to $dir/$1.log.
play() {
    /usr/bin/time -f '%e %U %S' -o "$dir/$1.time" env SCRIPTBLOCKHUNT_LOG=info \
        "$bin" < "$dir/$1.stream" > /dev/null 2> "$dir/$1.log"
    awk '{ printf "%s %.2f\n", $1, $2 + $3 }' "$dir/$1.time" >> "$dir/$1.times"
}
names="a-one a-all b-one b-all"
for n in $names; do rm -f "$dir/$n.times"; done
i=0
while [ "$i" -lt "$runs" ]; do
    for n in $names; do play "$n"; done
    i=$((i + 1))
done
best() { sort -n -k"$2" "$dir/$1.times" | head -1 | cut -d' ' -f"$2"; }
ratio() { echo "scale=2; $(best "$1" "$3") / $(best "$2" "$3")" | bc; }
row() {
    printf '%-46s %7ss %7ss  %s\n' "$1" "$(best "$2" 1)" "$(best "$2" 2)" \
        "$(grep -o '[0-9]* rows' "$dir/$2.log")"
}

echo "runs: $runs each, in turns (best of)"
printf '%-46s %8s %8s\n' search wall cpu
echo "A. ESCU mix, $events events, $(du -m "$dir/a-one.stream" | cut -f1) MB"
row "  one hunt (GetNetTcpconnection)" a-one
row "  101 hunts (hunts=all)" a-all
echo "  ratio all/one: wall $(ratio a-all a-one 1), cpu $(ratio a-all a-one 2)"
echo "B. gen --size $size, $(du -m "$dir/b-one.stream" | cut -f1) MB"
row "  one hunt (GetNetTcpconnection)" b-one
row "  101 hunts (hunts=all)" b-all
echo "  ratio all/one: wall $(ratio b-all b-one 1), cpu $(ratio b-all b-one 2)"
for n in $names; do
    sed "s/^/log $n: /" "$dir/$n.log" | grep 'matched'
done
