"""The expected result of `scriptblockhunt hunt --tz UTC --format csv`,
computed without the Rust code: read the inputs with offline_fields.py,
apply the base search, the wildcard match, fillnull and stats, sort the
rows, render the times with ctime in UTC, write CSV the way the command
does. Python 3 standard library only.

    python3 tests/oracle/offline_hunt.py [pattern=P]... [field=F] \
        [by=f1,f2,...] [value=V] [--summary FILE] [--fields FILE] INPUT...

An INPUT is a forwarder XmlWinEventLog text (`*.log`), JSON lines
(`*.jsonl`) or the output of `evtx_dump -o xml --no-indent` (`*.xml`).
The CSV goes to stdout. --summary writes the counts the command's summary
must show; --fields writes every event's fields as JSON lines.

Semantics (semantics.md sections 2-5): the pattern is anchored, `*` is any
run of bytes (newlines too), ASCII letters compare case-insensitively;
fillnull fills a null BY field with V only when some matching event has
that field, otherwise stats drops every event; a multivalue BY field puts
the event in one group per value, repeats counted; rows sort by their BY
values, each compared as (not a number, numeric value, bytes).
"""

import datetime
import itertools
import json
import re
import sys

import offline_fields as of

DEFAULT_BY = ("dest signature signature_id user_id vendor_product EventID "
              "Guid Opcode Name Path ProcessID ScriptBlockId "
              "ScriptBlockText").split()


def read_input(path):
    """(place, Fields) of every event of one input file."""
    data = open(path, "rb").read()
    if path.endswith(".jsonl"):
        out = []
        for n, line in enumerate(data.split(b"\n"), 1):
            if line.strip():
                out.append((f"line {n}", of.from_json(json.loads(line))))
        return out
    if path.endswith(".xml"):
        return [(f"record {n}", of.from_xml(of.forwarder_line(x)))
                for n, x in of.evtx_dump_records(data)]
    out = []
    for m in re.finditer(rb"(?s)<Event[\s>].*?</Event>", data):
        out.append((f"byte {m.start()}", of.from_xml(m.group())))
    return out


def matcher(patterns):
    compiled = []
    for p in patterns:
        parts = [re.escape(s) for s in p.encode().lower().split(b"*")]
        compiled.append(re.compile(b"(?s)" + b".*".join(parts) + rb"\Z"))
    return lambda v: any(c.match(v.lower()) for c in compiled)


NUMBER = re.compile(rb"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def key(v):
    if NUMBER.fullmatch(v):
        return (0, float(v), v)
    return (1, 0.0, v)


def ctime(t):
    if t is None:
        return b""
    seconds = int(float(t) // 1)
    dt = datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S").encode()


def csv_cell(v):
    if (any(c in v for c in (b",", b'"', b"\n", b"\r"))
            or v[:1] in (b" ", b"\t") or v[-1:] in (b" ", b"\t")):
        return b'"' + v.replace(b'"', b'""') + b'"'
    return v


def hunt(events, patterns, field, by, value):
    is_match = matcher(patterns)
    passed = [(p, f) for p, f in events if of.is_script_block(f)]
    matched = [(p, f) for p, f in passed
               if any(is_match(v) for v in f.values.get(field, []))]
    present = {b for b in by if any(b in f.values for _, f in matched)}
    absent = [b for b in by if b not in present]
    groups = {}
    if not absent:
        for _, f in matched:
            lists = [f.values.get(b) or [value] for b in by]
            t = f.first("_time")
            for combo in itertools.product(*lists):
                g = groups.setdefault(combo, [0, None, None])
                g[0] += 1
                if t is not None:
                    if g[1] is None or key(t) < key(g[1]):
                        g[1] = t
                    if g[2] is None or key(t) > key(g[2]):
                        g[2] = t
    rows = sorted(groups.items(), key=lambda kv: [key(v) for v in kv[0]])
    return passed, matched, absent, rows


def main(argv):
    patterns, field, by, value = [], "ScriptBlockText", DEFAULT_BY, b"0"
    summary_path = fields_path = None
    inputs = []
    it = iter(argv)
    for a in it:
        if a == "--summary":
            summary_path = next(it)
        elif a == "--fields":
            fields_path = next(it)
        elif a.startswith("pattern="):
            patterns.append(a[8:])
        elif a.startswith("field="):
            field = a[6:]
        elif a.startswith("by="):
            by = [b.strip() for b in a[3:].split(",")]
        elif a.startswith("value="):
            value = a[6:].encode()
        else:
            inputs.append(a)
    patterns = patterns or ["*Get-NetTcpconnection*"]
    events = []
    for path in inputs:
        events.extend(read_input(path))
    passed, matched, absent, rows = hunt(events, patterns, field, by, value)

    out = sys.stdout.buffer
    header = by + ["count", "firstTime", "lastTime"]
    out.write(b",".join(csv_cell(h.encode()) for h in header) + b"\n")
    for combo, (count, lo, hi) in rows:
        cells = list(combo) + [str(count).encode(), ctime(lo), ctime(hi)]
        out.write(b",".join(csv_cell(c) for c in cells) + b"\n")
    if summary_path:
        with open(summary_path, "w") as s:
            s.write(f"events={len(events)}\npassed={len(passed)}\n"
                    f"matched={len(matched)}\nabsent={','.join(absent)}\n"
                    f"rows={len(rows)}\n")
    if fields_path:
        with open(fields_path, "w") as s:
            for place, f in events:
                s.write(json.dumps({"place": place, "fields": f.as_json()},
                                   ensure_ascii=False, sort_keys=True))
                s.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
