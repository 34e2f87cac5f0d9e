#!/usr/bin/env bash
# Benchmark of distributed=true: the bytes that reach the search head and
# the time of each phase, with and without the map phase, on a large
# synthetic stream. Not a test; run by hand:
#
#   bash bench/distributed.sh [EVENTS]        (default 500000)
#
# Builds the release binary, writes the stream with bench/gen_stream.py
# (a stand-in until `scriptblockhunt gen` exists) into $BENCH_DIR
# (default /tmp/scriptblockhunt-bench, about 1.4 KB per event), and runs
# `scriptblockhunt replay --indexers K --measure` for each setting below.
# Each run also runs the single-process search and fails if the rows differ.
set -euo pipefail

events="${1:-500000}"
dir="${BENCH_DIR:-/tmp/scriptblockhunt-bench}"
here="$(cd "$(dirname "$0")/.." && pwd)"
bin="$here/target/release/scriptblockhunt"
stream="$dir/stream-$events.bin"

mkdir -p "$dir"
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
if [ ! -s "$stream" ]; then
    python3 "$here/bench/gen_stream.py" --events "$events" > "$stream"
fi
echo "stream: $stream, $(stat -L -c %s "$stream") bytes, $events events"
echo "machine: $(nproc) cores; $(uname -sr)"
echo

run() {
    echo "\$ scriptblockhunt replay $* --format csv STREAM ... > /dev/null"
    "$bin" replay "$@" --format csv "$stream" "${args[@]}" > /dev/null
    echo
}

for by in default dest; do
    if [ "$by" = dest ]; then args=(by=dest); else args=(); fi
    echo "=== BY fields: $by ==="
    echo
    for k in 4 16; do
        run --indexers "$k" --measure
        run --indexers "$k" --measure --map-flush end
    done
    run --indexers 4 --measure --chunk-rows 1000
    run --indexers 4 --measure --chunk-rows 1000 --map-flush end
done
