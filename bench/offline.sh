#!/usr/bin/env bash
# Throughput of `scriptblockhunt hunt` on EVTX and on XmlWinEventLog text,
# side by side with the same work done by `evtx_dump -o xml | grep -c`
# (EVTX) and `grep -c` (text), and the peak memory of hunt as the input
# grows. A benchmark, not a test: it prints numbers, it asserts nothing.
#
#   bench/offline.sh [COPIES]
#
# The inputs are built from the corpus in tests/data/corpus: the five EVTX
# files copied COPIES times (default 40) into one directory, and the two
# XmlWinEventLog files concatenated COPIES*40 times into one text file
# (and the same text again as 4 files, to show the parallel reading).
# Each command runs 3 times; the fastest run is reported. Needs
# `evtx_dump` (cargo install evtx) and GNU time at /usr/bin/time.
set -euo pipefail

copies=${1:-40}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$root"
cargo build --release --quiet
bin=$root/target/release/scriptblockhunt
work=$root/target/bench-offline
rm -rf "$work"
mkdir -p "$work/evtx"

for i in $(seq 1 "$copies"); do
    for f in tests/data/corpus/evtx/*.evtx; do
        cp "$f" "$work/evtx/$i-$(basename "$f")"
    done
done
for i in $(seq 1 $((copies * 40))); do
    cat tests/data/corpus/xmlwineventlog/*.log
done > "$work/xml.log"
mkdir -p "$work/xml4"
for part in 1 2 3 4; do
    for i in $(seq 1 $((copies * 10))); do
        cat tests/data/corpus/xmlwineventlog/*.log
    done > "$work/xml4/$part.log"
done

# "elapsed cpu" seconds of the fastest of 3 runs of "$@" (stdout
# discarded); cpu is user + system time of all threads.
fastest() {
    local best= best_cpu=
    for _ in 1 2 3; do
        local t
        t=$( { /usr/bin/time -f '%e %U %S' bash -c '"$@" > /dev/null 2>&1' \
            _ "$@" || true; } 2>&1 | tail -1)
        local e=${t%% *}
        if [ -z "$best" ] || awk "BEGIN{exit !($e < $best)}"; then
            best=$e
            best_cpu=$(echo "$t" | awk '{print $2 + $3}')
        fi
    done
    echo "$best $best_cpu"
}

# Peak resident memory in MiB of one run of "$@".
peak() {
    { /usr/bin/time -f %M bash -c '"$@" > /dev/null 2>&1' _ "$@" \
        || true; } 2>&1 | tail -1 | awk '{printf "%.1f", $1 / 1024}'
}

# Events hunt reads from its inputs (from its summary).
events() {
    { "$bin" hunt --tz UTC "$@" 2>&1 >/dev/null || true; } \
        | sed -n 's/.*), \([0-9]*\) event(s).*/\1/p' | head -1
}

evtx_bytes=$(du -cb "$work"/evtx/*.evtx | tail -1 | cut -f1)
xml_bytes=$(stat -c %s "$work/xml.log")
evtx_events=$(events "$work/evtx")
xml_events=$(events "$work/xml.log")

dump_grep() {
    for f in "$work"/evtx/*.evtx; do
        evtx_dump -o xml "$f" | grep -c -i 'Get-NetTcpconnection' || true
    done
}
export -f dump_grep
export work

row() {
    # name, "elapsed cpu", events, bytes
    awk -v n="$1" -v t="$2" -v e="$3" -v b="$4" 'BEGIN {
        split(t, x, " "); s = x[1]; c = x[2] > 0 ? x[2] : 0.01
        printf "| %s | %.2f | %.2f | %.0f | %.1f | %.1f |\n", n, s, c,
            e / s, b / s / 1048576, b / c / 1048576
    }'
}

echo "machine: $(nproc) cores, $(uname -sr)"
echo "EVTX input: $(ls "$work/evtx" | wc -l) files, $evtx_bytes bytes, $evtx_events events"
echo "XmlWinEventLog input: 1 file, $xml_bytes bytes, $xml_events events"
echo
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| command | elapsed s | CPU s | events/s | MB/s | MB per CPU s |"
echo "| --- | --- | --- | --- | --- | --- |"
row "hunt EVTX (all cores)" \
    "$(fastest "$bin" hunt --tz UTC "$work/evtx")" "$evtx_events" "$evtx_bytes"
row "hunt EVTX (--threads 1)" \
    "$(fastest "$bin" hunt --tz UTC --threads 1 "$work/evtx")" \
    "$evtx_events" "$evtx_bytes"
row "evtx_dump -o xml FILE \| grep -c, per file" \
    "$(fastest bash -c dump_grep)" "$evtx_events" "$evtx_bytes"
row "hunt XmlWinEventLog (1 file)" \
    "$(fastest "$bin" hunt --tz UTC "$work/xml.log")" "$xml_events" "$xml_bytes"
row "hunt XmlWinEventLog (same text as 4 files, all cores)" \
    "$(fastest "$bin" hunt --tz UTC "$work/xml4")" "$xml_events" "$xml_bytes"
row "hunt XmlWinEventLog (same 4 files, --threads 1)" \
    "$(fastest "$bin" hunt --tz UTC --threads 1 "$work/xml4")" \
    "$xml_events" "$xml_bytes"
row "grep -c -i Get-NetTcpconnection" \
    "$(fastest grep -c -i Get-NetTcpconnection "$work/xml.log")" \
    "$xml_events" "$xml_bytes"

echo
echo "peak memory of hunt (MiB) as the XmlWinEventLog input grows:"
head -c $((xml_bytes / 4)) "$work/xml.log" > "$work/quarter.log"
echo "  $((xml_bytes / 4)) bytes: $(peak "$bin" hunt --tz UTC "$work/quarter.log")"
echo "  $xml_bytes bytes: $(peak "$bin" hunt --tz UTC "$work/xml.log")"
cat "$work/xml.log" "$work/xml.log" "$work/xml.log" "$work/xml.log" \
    > "$work/four.log"
echo "  $((xml_bytes * 4)) bytes: $(peak "$bin" hunt --tz UTC "$work/four.log")"
rm -f "$work/four.log" "$work/quarter.log"
