#!/usr/bin/env python3
"""Expected output of the command for a recorded SCP v2 request stream.

Usage:
    python3 tests/oracle/replay_oracle.py STREAM [pattern=...]... \
        [field=...] [by=f1,f2,...] [value=...] > expected.csv

STREAM is a request stream (Splunk -> command), gzip or plain. The getinfo
chunk is skipped (its args belong to whatever command was recorded); the
options come from the command line. The CSV written to stdout is the body
the command returns for the whole input: firstTime/lastTime keep the
original `_time` text. `--summary` prints event counts and the `_time`
range to stderr as well.
"""

import sys

sys.dont_write_bytecode = True

import hunt_semantics  # noqa: E402
import scpstream  # noqa: E402


def summary(events, counts):
    """Event count per execute chunk and the min/max `_time` text."""
    times = [t for e in events for t in e.get(b"_time", ()) if t]
    first = min(times, key=hunt_semantics.order_key) if times else b""
    last = max(times, key=hunt_semantics.order_key) if times else b""
    return ("events=%d per_chunk=%s min_time=%s max_time=%s"
            % (len(events), counts, first.decode("utf-8", "replace"),
               last.decode("utf-8", "replace")))


def main(argv):
    args = [a for a in argv if a != "--summary"]
    if not args:
        raise SystemExit(__doc__)
    events, counts = scpstream.stream_events(scpstream.load_bytes(args[0]))
    options = hunt_semantics.parse_options(args[1:])
    if "--summary" in argv:
        print(summary(events, counts), file=sys.stderr)
    sys.stdout.buffer.write(hunt_semantics.run(events, options))


if __name__ == "__main__":
    main(sys.argv[1:])
