#!/usr/bin/env bash
# The benchmark: builds the release binary and the plain-scan floor,
# installs the Python peer (splunk-sdk 2.1.1 in a venv under target/), and
# runs bench/bench.py with the arguments given (see bench/bench.py --help).
#
#   bench/run.sh                 # 1 GB stream, 5 runs each, peer 3 runs
#   bench/run.sh --rss           # peak RSS, 100,000 vs 10 million events
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/time ]; then
    apt-get update && apt-get install -y time
fi
cargo build --release --bin scriptblockhunt --example scan

venv=target/peer-venv
if ! "$venv/bin/python" -c 'import splunklib' 2>/dev/null; then
    python=$(command -v python3.11 || command -v python3)
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet splunk-sdk==2.1.1
fi
exec "$venv/bin/python" bench/bench.py "$@"
