#!/usr/bin/env python3
"""An independent oracle for the multi-hunt matcher, end to end.

Generates random hunts (a hunts file) and events (a chunked protocol
stream), runs the binary in protocol mode with `hunts=` over the file and
with `condition=` one hunt at a time, and compares both with the obvious
evaluation done here: a wildcard is an anchored, ASCII case-insensitive
regular expression in which `*` is `.*` over any byte (newlines too); a
leaf holds when any value of the field matches; NOT holds when the field
is absent. BY is `ScriptBlockId` (unique per event), so each hunt's rows
are exactly the set of events it matched.

Usage: breaker_oracle.py BIN [--seed N] [--events N] [--hunts N]
       [--mode few|long|wide|short|mixed] [--singles K]
Standard library only; nothing here reads the code under test.
"""

import argparse
import csv
import io
import json
import os
import random
import re
import subprocess
import sys
import tempfile

FIELD = "ScriptBlockText"

# Bytes texts are made of besides literals: letters that fold, '-' and
# '\r' (equal after | 0x20), newline, UTF-8 and invalid UTF-8, NUL.
FILL = [b"a", b"A", b"b", b"B", b"-", b"\r", b"\n", b" ", b"\xc3\xa9",
        b"\xff", b"\x00", b"m", b"M", b"x", b'"', b"$", b",", b'""']


def literal_alphabet(mode):
    """Characters literals are made of, per mode."""
    base = ["a", "B", "-", "\r", "m", "x", "\u00e9", "b", "A"]
    if mode == "quotes":
        base += ['"', "$", ",", "\\"]
    return base


def rand_literal(rng, mode):
    """One literal (str) of a length chosen by mode."""
    alpha = literal_alphabet(mode)
    if mode == "short":
        n = rng.choice([1, 2, 3, 3, 4, 4, 5, 6])
    elif mode == "long":
        n = rng.randint(7, 30)
    elif mode == "wide":
        n = rng.randint(4, 12)
    else:
        n = rng.choice([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 16, 20])
    return "".join(rng.choice(alpha) for _ in range(n))


def rand_wildcard(rng, lits):
    """A wildcard over literals from the pool `lits`."""
    shape = rng.randrange(8)
    a, b = rng.choice(lits), rng.choice(lits)
    if shape == 0:
        return f"{a}*"
    if shape == 1:
        return f"*{a}"
    if shape == 2:
        return a                     # exact term
    if shape == 3:
        return f"*{a}*{b}*"
    if shape == 4:
        return f"{a}*{b}"
    if shape == 5:
        return rng.choice(["*", "**"])
    return f"*{a}*"


def rand_tree(rng, lits, depth=0):
    """A condition tree: ('leaf', pat) | ('not', t) | ('and'|'or', [t])."""
    r = rng.random()
    if depth >= 3 or r < 0.45:
        return ("leaf", rand_wildcard(rng, lits))
    if r < 0.6:
        return ("not", rand_tree(rng, lits, depth + 1))
    kind = "and" if r < 0.8 else "or"
    k = rng.randint(2, 4)
    return (kind, [rand_tree(rng, lits, depth + 1) for _ in range(k)])


def spl_value(pat):
    """The SPL quoted value for a pattern."""
    return '"' + pat.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(tree, rng):
    """The tree as SPL, fully parenthesized."""
    kind = tree[0]
    if kind == "leaf":
        return f"{FIELD}={spl_value(tree[1])}"
    if kind == "not":
        return f"NOT ({render(tree[1], rng)})"
    parts = [f"({render(c, rng)})" for c in tree[1]]
    if kind == "or":
        if all(c[0] == "leaf" for c in tree[1]) and rng.random() < 0.5:
            return f"{FIELD} IN (" + ", ".join(
                spl_value(c[1]) for c in tree[1]) + ")"
        return " OR ".join(parts)
    return (" AND " if rng.random() < 0.5 else " ").join(parts)


def compile_wildcard(pat):
    """The wildcard as an anchored bytes regex (ASCII case folding)."""
    pieces = [re.escape(p.encode()) for p in pat.split("*")]
    return re.compile(b".*".join(pieces), re.DOTALL | re.IGNORECASE)


def evaluate(tree, values, cache):
    """The tree's value on the event's values (list of bytes)."""
    kind = tree[0]
    if kind == "leaf":
        rx = cache.setdefault(tree[1], compile_wildcard(tree[1]))
        return any(rx.fullmatch(v) for v in values)
    if kind == "not":
        return not evaluate(tree[1], values, cache)
    if kind == "and":
        return all(evaluate(c, values, cache) for c in tree[1])
    return any(evaluate(c, values, cache) for c in tree[1])


def flip_case(rng, s):
    """`s` (bytes) with random ASCII letter case."""
    out = bytearray(s)
    for i, c in enumerate(out):
        if c < 128 and chr(c).isalpha() and rng.random() < 0.5:
            out[i] = c ^ 0x20
    return bytes(out)


def rand_text(rng, lits):
    """A text: filler with literals at random offsets, any case."""
    target = rng.choice([0, 1, 3, 4, 5, 7, 8, 9, 15, 31, 32, 35, 36, 37,
                         40, 63, 64, 67, 68, 72, 80, rng.randint(0, 200)])
    out = b""
    while len(out) < target:
        if rng.random() < 0.35:
            out += flip_case(rng, rng.choice(lits).encode())
        else:
            out += rng.choice(FILL)
    if rng.random() < 0.3:
        # A literal at the very end (or start).
        lit = flip_case(rng, rng.choice(lits).encode())
        out = out + lit if rng.random() < 0.5 else lit + out
    if rng.random() < 0.1:
        # A literal with one byte changed: a near miss.
        lit = bytearray(rng.choice(lits).encode())
        if lit:
            i = rng.randrange(len(lit))
            lit[i] = rng.choice(b"\r-`\x00")
            out += bytes(lit)
    return out


def rand_values(rng, lits):
    """The field's values: none, one, or several (multivalue)."""
    r = rng.random()
    if r < 0.08:
        return []
    if r < 0.7:
        v = rand_text(rng, lits)
        return [v] if v else []
    vals = [rand_text(rng, lits) for _ in range(rng.randint(2, 4))]
    if rng.random() < 0.5:
        # One literal split across two items.
        lit = rng.choice(lits).encode()
        if len(lit) >= 2:
            cut = rng.randrange(1, len(lit))
            vals.append(b"zz" + lit[:cut])
            vals.append(lit[cut:] + b"zz")
    return [v for v in vals if v]


def quote(cell):
    """A CSV cell, always quoted."""
    return b'"' + cell.replace(b'"', b'""') + b'"'


def mv_cell(values):
    """The `__mv_` encoding of several values."""
    return b";".join(b"$" + v.replace(b"$", b"$$") + b"$" for v in values)


def chunk(meta, body=b""):
    """One protocol chunk."""
    m = json.dumps(meta).encode()
    return b"chunked 1.0,%d,%d\n" % (len(m), len(body)) + m + body


def stream(args, events, batch=50):
    """A getinfo and execute chunks carrying `events`."""
    info = {"action": "getinfo", "preview": False,
            "searchinfo": {"args": args, "raw_args": args,
                           "sid": "1.1", "command": "scriptblockhunt",
                           "maxresultrows": 50000}}
    out = [chunk(info)]
    header = (b'"_time",ScriptBlockId,ScriptBlockText,"__mv__time",'
              b'"__mv_ScriptBlockId","__mv_ScriptBlockText"\n')
    for start in range(0, len(events), batch):
        rows = [header]
        for eid, t, values in events[start:start + batch]:
            if len(values) > 1:
                plain, mv = b"\n".join(values), mv_cell(values)
            elif values:
                plain, mv = values[0], b""
            else:
                plain, mv = b"", b""
            rows.append(b",".join([quote(t), quote(eid),
                                   quote(plain) if plain else b"",
                                   b"", b"", quote(mv) if mv else b""])
                        + b"\n")
        out.append(chunk({"action": "execute", "finished": False},
                         b"".join(rows)))
    out.append(chunk({"action": "execute", "finished": True}, header))
    return b"".join(out)


def run(binary, data):
    """The final reply's rows (list of dicts), or raises with the error."""
    p = subprocess.run([binary], input=data, capture_output=True,
                       timeout=300)
    out, pos, last = p.stdout, 0, None
    while pos < len(out):
        nl = out.index(b"\n", pos)
        m = re.fullmatch(rb"chunked 1\.0,(\d+),(\d+)", out[pos:nl])
        ml, bl = int(m.group(1)), int(m.group(2))
        meta = json.loads(out[nl + 1:nl + 1 + ml])
        body = out[nl + 1 + ml:nl + 1 + ml + bl]
        if len(body) != bl:
            raise RuntimeError("short body")
        pos = nl + 1 + ml + bl
        last = (meta, body)
    if p.returncode != 0 or last is None or "error" in last[0]:
        raise RuntimeError(f"rc={p.returncode} {p.stderr[-2000:]!r} "
                           f"{last[0] if last else None}")
    text = last[1].decode("latin-1")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--events", type=int, default=400)
    ap.add_argument("--hunts", type=int, default=40)
    ap.add_argument("--pool", type=int, default=0)
    ap.add_argument("--mode", default="mixed")
    ap.add_argument("--singles", type=int, default=5)
    ap.add_argument("--all", action="store_true",
                    help="hunts=all (built-ins too) instead of a list")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    pool = a.pool or max(4, a.hunts * 2)
    lits = list({rand_literal(rng, a.mode) for _ in range(pool)})
    lits.sort()
    # Duplicates differing in case, and literals containing each other.
    lits += [l.swapcase() for l in rng.sample(lits, min(5, len(lits)))]
    lits += [l + rng.choice(lits) for l in rng.sample(lits, min(5, len(lits)))]
    hunts = []
    for i in range(a.hunts):
        tree = rand_tree(rng, lits)
        hunts.append((f"h{i:04d}", f"id-{a.seed}-{i:04d}", tree,
                      render(tree, rng)))
    # 20+ conditions opened by one text: share one gate literal.
    gate = rng.choice([l for l in lits if len(l) >= 3] or lits)
    for i in range(a.hunts, a.hunts + 20):
        extra = rand_tree(rng, lits, 2)
        tree = ("and", [("leaf", f"*{gate}*"), extra])
        hunts.append((f"h{i:04d}", f"id-{a.seed}-{i:04d}", tree,
                      render(tree, rng)))
    events = []
    for i in range(a.events):
        values = rand_values(rng, lits)
        if rng.random() < 0.1:
            values.append(flip_case(rng, gate.encode()))
        events.append((b"e%05d" % i, b"%d" % (1600000000 + i), values))

    cache = {}
    expected = {name: {e[0].decode() for e in events
                       if evaluate(tree, e[2], cache)}
                for name, _, tree, _ in hunts}

    fd, path = tempfile.mkstemp(suffix=".tsv")
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
        f.write("name\tid\tby\tcondition\n")
        for name, hid, _, spl in hunts:
            f.write(f"{name}\t{hid}\tScriptBlockId\t{spl}\n")
    bad = 0
    try:
        spec = "all" if a.all else ",".join(h[0] for h in hunts)
        rows = run(a.binary, stream([f"hunts={spec}", f"hunts_file={path}"],
                                    events))
        got = {name: set() for name, *_ in hunts}
        for r in rows:
            if r["hunt"] in got:
                got[r["hunt"]].add(r["ScriptBlockId"])
        for name, hid, tree, spl in hunts:
            if got[name] != expected[name]:
                bad += 1
                miss = sorted(expected[name] - got[name])[:5]
                extra = sorted(got[name] - expected[name])[:5]
                print(f"MULTI {name}: {spl!r}\n  missing {miss} "
                      f"extra {extra}")
                for eid in (miss + extra)[:2]:
                    ev = events[int(eid[1:])]
                    print(f"  event {eid}: {ev[2]!r}")
        for name, hid, tree, spl in rng.sample(hunts,
                                               min(a.singles, len(hunts))):
            rows = run(a.binary, stream([f"condition={spl}",
                                         "by=ScriptBlockId"], events))
            single = {r["ScriptBlockId"] for r in rows}
            if single != expected[name]:
                bad += 1
                print(f"SINGLE {name}: {spl!r} missing "
                      f"{sorted(expected[name] - single)[:5]} extra "
                      f"{sorted(single - expected[name])[:5]}")
    finally:
        os.unlink(path)
    total = sum(len(s) for s in expected.values())
    print(f"seed {a.seed} mode {a.mode}: {len(hunts)} hunts, "
          f"{len(lits)} literals, {len(events)} events, {total} expected "
          f"(hunt, event) pairs, {bad} hunt(s) wrong")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
