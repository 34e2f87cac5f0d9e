#!/usr/bin/env python3
"""Compares the result rows of two reply streams of the chunked protocol.

    python3 bench/compare.py OURS PEERS

Each file is what a command wrote on stdout. The rows are the CSV body of
the reply marked finished:true, parsed (the SDK quotes minimally and ends
lines with CRLF, the Rust command quotes what needs it and ends lines with
LF) with the `__mv_` twin columns dropped (the SDK writes them, empty for
single values). Exit status 0 when header and rows are equal, 1 otherwise.
A reply without a body counts as no rows.
"""

import csv
import io
import json
import re
import sys

HEADER = re.compile(rb"chunked\s+1.0\s*,\s*(\d+)\s*,\s*(\d+)\s*\n")


def final_body(path):
    """The body of the reply whose metadata says finished:true."""
    data = open(path, "rb").read()
    pos, body = 0, None
    while pos < len(data):
        match = HEADER.match(data, pos)
        if not match:
            raise SystemExit(f"{path}: no chunk header at byte {pos}")
        m, b = int(match.group(1)), int(match.group(2))
        start = match.end()
        metadata = json.loads(data[start : start + m] or b"{}")
        if metadata.get("finished") is True:
            body = data[start + m : start + m + b]
        pos = start + m + b
    if body is None:
        raise SystemExit(f"{path}: no finished:true reply")
    return body


def rows(path):
    """(header, rows) of the final body, without __mv_ columns."""
    text = final_body(path).decode("utf-8", "surrogateescape")
    table = list(csv.reader(io.StringIO(text, newline="")))
    if not table:
        return None, []
    keep = [i for i, name in enumerate(table[0]) if not name.startswith("__mv_")]
    pick = lambda row: [row[i] for i in keep]
    return pick(table[0]), [pick(row) for row in table[1:]]


def main():
    ours, peers = sys.argv[1], sys.argv[2]
    our_header, our_rows = rows(ours)
    peer_header, peer_rows = rows(peers)
    if peer_header is not None and peer_header != our_header:
        print(f"headers differ: {our_header} vs {peer_header}")
        return 1
    if our_rows != peer_rows:
        for i, (a, b) in enumerate(zip(our_rows, peer_rows)):
            if a != b:
                print(f"row {i + 1} differs:\n  ours {a!r:.300}\n  peer {b!r:.300}")
                break
        print(f"{len(our_rows)} rows vs {len(peer_rows)} rows")
        return 1
    print(f"equal: {len(our_rows)} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
