#!/usr/bin/env python3
"""Writes the seed corpus of the chunk_csv fuzz target into fuzz/seeds/.

The seeds are the recorded Splunk streams of tests/data/recordings/,
gunzipped, and shortened so that libFuzzer can mutate them quickly: every
execute body keeps its header row and its first records (cut at a record
end outside quotes), a long stream keeps its first execute chunks and its
last, and every length field is recomputed. Each stream is
also written with its getinfo arguments replaced by options that point the
command at the recording's own columns, so that mutations reach the
matcher and the stats table, not only the CSV reader, and once more for
each of the command's other modes (map phase, reduce phase, reassembly,
every ESCU hunt).

Usage: python3 fuzz/seeds.py   (from the repository root)
"""

import gzip
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = os.path.join(ROOT, "tests", "data", "recordings")
TARGET = os.path.join(ROOT, "fuzz", "seeds")
HEADER = re.compile(rb"chunked\s+1.0\s*,\s*(\d+)\s*,\s*(\d+)\s*\n")
MAX_BODY = 3000
MAX_EXECUTE = 3


def chunks(data):
    """Yields (metadata, body) pairs of a stream."""
    pos = 0
    while pos < len(data):
        if data[pos:pos + 1] in (b"\n", b"\r"):
            pos += 1
            continue
        m = HEADER.match(data, pos)
        if not m:
            raise ValueError(f"no header at byte {pos}")
        mlen, blen = int(m.group(1)), int(m.group(2))
        start = m.end()
        yield data[start:start + mlen], data[start + mlen:start + mlen + blen]
        pos = start + mlen + blen


def cut(body, limit):
    """The body's header and first records, at most `limit` bytes."""
    if len(body) <= limit:
        return body
    quoted = False
    end = 0
    for i, b in enumerate(body[:limit]):
        if b == 0x22:
            quoted = not quoted
        elif b == 0x0A and not quoted:
            end = i + 1
    return body[:end]


def frame(metadata, body):
    """One chunk's bytes."""
    return b"chunked 1.0,%d,%d\n" % (len(metadata), len(body)) + metadata + body


def columns(body):
    """The plain (non-__mv_) column names of a body's header row."""
    line = body.split(b"\n", 1)[0].decode("utf-8", "replace")
    names = [n.strip('"') for n in line.split(",")]
    return [n for n in names if n and not n.startswith("__mv_")]


def with_args(metadata, args):
    """A getinfo metadata with searchinfo.args replaced."""
    value = json.loads(metadata)
    value.setdefault("searchinfo", {})["args"] = args
    return json.dumps(value, separators=(",", ":")).encode()


def main():
    os.makedirs(TARGET, exist_ok=True)
    written = 0
    for name in sorted(os.listdir(SOURCE)):
        raw = open(os.path.join(SOURCE, name), "rb").read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        parts = [(m, cut(b, MAX_BODY)) for m, b in chunks(raw)]
        if len(parts) > MAX_EXECUTE + 2:
            parts = parts[:MAX_EXECUTE + 1] + parts[-1:]
        stem = name.removesuffix(".gz")
        variants = {"as-recorded": parts}
        bodies = [b for _, b in parts[1:] if b]
        if parts and bodies:
            names = columns(bodies[0])
            if len(names) >= 2:
                own = ["field=" + names[-1], "by=" + ",".join(names[:2])]
                modes = {
                    "own-columns": own + ["pattern=*a*"],
                    "map": own + ["pattern=*a*", "phase=map"],
                    "reduce": own + ["pattern=*a*", "distributed=true"],
                    "reassemble": own + ["pattern=*a*", "reassemble=true"],
                    "hunts": ["hunts=all", "max_groups=50"],
                }
                for label, args in modes.items():
                    getinfo = with_args(parts[0][0], args)
                    variants[label] = [(getinfo, parts[0][1])] + parts[1:]
        for label, chosen in variants.items():
            stream = b"".join(frame(m, b) for m, b in chosen)
            path = os.path.join(TARGET, f"{stem}.{label}.stream")
            open(path, "wb").write(stream)
            written += 1
            print(f"{path}: {len(stream)} bytes", file=sys.stderr)
    print(f"{written} seeds in {TARGET}", file=sys.stderr)


if __name__ == "__main__":
    main()
