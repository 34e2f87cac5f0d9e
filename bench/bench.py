#!/usr/bin/env python3
"""Runs scriptblockhunt, the plain-scan floor and the Python SDK peer on the
same generated stream and prints a table: median wall time, input MB/s
(10^6 bytes), events/s, peak RSS, and the ratios. Run it through
bench/run.sh, which builds and installs what it needs.

Every program reads the stream from a file on stdin (the file is read once
before the runs, so it comes from the page cache) and writes to a file.
Wall time is taken around each run, peak RSS comes from /usr/bin/time. The peer's rows are
compared with ours (parsed, `__mv_` columns dropped) before anything is
reported; a difference stops the benchmark.
"""

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import compare  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target/release/scriptblockhunt")
SCAN = os.path.join(ROOT, "target/release/examples/scan")
PEER = [sys.executable, os.path.join(ROOT, "bench/peer/scriptblockhunt_peer.py")]
WORK = os.path.join(ROOT, "target/bench")


def machine():
    """nproc, CPU model, memory, load."""
    model = "unknown"
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem = "unknown"
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
            break
    return f"{os.cpu_count()} x {model}, {mem}, {platform.system()} {platform.release()}"


def load():
    """The 1, 5 and 15 minute load averages."""
    return " ".join(open("/proc/loadavg").read().split()[:3])


def generate(args, name, gen_args):
    """Generates a stream once; returns its path."""
    path = os.path.join(WORK, name)
    if not os.path.exists(path):
        os.makedirs(WORK, exist_ok=True)
        subprocess.run([BINARY, "gen", *gen_args, "-o", path + ".tmp"], check=True)
        os.rename(path + ".tmp", path)
    return path


def timed(command, stdin_path, stdout_path):
    """Runs command once; returns (wall seconds, peak RSS in KiB, stderr).
    The time is taken around the child's whole life; the peak RSS comes
    from /usr/bin/time (the ru_maxrss of a child forked from Python counts
    Python's own pages)."""
    report = os.path.join(WORK, "time.txt")
    with open(stdin_path, "rb") as stdin, open(stdout_path, "wb") as stdout:
        start = time.perf_counter()
        done = subprocess.run(
            ["/usr/bin/time", "-o", report, "-f", "%M", *command],
            stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
        )
        wall = time.perf_counter() - start
    stderr = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        sys.exit(f"{command[0]} failed: {stderr[-2000:]}")
    return wall, int(open(report).read().split()[-1]), stderr


def series(label, command, stream, out, runs):
    """Runs command `runs` times; returns a dict of medians and spreads."""
    walls, rsss, stderr = [], [], ""
    for _ in range(runs):
        wall, rss, stderr = timed(command, stream, out)
        walls.append(wall)
        rsss.append(rss)
        print(f"  {label}: {wall:.3f} s, {rss / 1024:.1f} MiB", file=sys.stderr)
    return {
        "label": label,
        "wall": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "rss": max(rsss),
        "stderr": stderr,
        "runs": runs,
    }


def events_of(stderr):
    """Events, matched, rows from our INFO line."""
    match = re.search(r"(\d+) events, (\d+) matched, (\d+) rows", stderr)
    if not match:
        sys.exit("no summary line from scriptblockhunt; is SCRIPTBLOCKHUNT_LOG set?")
    return tuple(int(g) for g in match.groups())


def throughput(args):
    """The side-by-side table on one stream."""
    stream = generate(
        args,
        f"s{args.size}-m{args.match_share}-g{args.groups}-seed{args.seed}.stream",
        ["--size", args.size, "--match-share", str(args.match_share),
         "--groups", str(args.groups), "--seed", str(args.seed)],
    )
    size = os.path.getsize(stream)
    subprocess.run(["cat", stream], stdout=subprocess.DEVNULL, check=True)
    print(f"load before: {load()}", file=sys.stderr)
    before = load()

    ours_out = os.path.join(WORK, "ours.out")
    ours = series("scriptblockhunt", [BINARY], stream, ours_out, args.runs)
    events, matched, rows = events_of(ours["stderr"])
    scan = series("scan", [SCAN], stream, os.devnull, args.runs)
    cat = series("cat", ["cat"], stream, os.devnull, args.runs)
    peer = None
    if args.peer_runs > 0:
        peer_out = os.path.join(WORK, "peer.out")
        peer = series("peer", PEER, stream, peer_out, args.peer_runs)
        our_rows = compare.rows(ours_out)
        peer_rows = compare.rows(peer_out)
        if (peer_rows[0] is not None and peer_rows[0] != our_rows[0]) or (
            peer_rows[1] != our_rows[1]
        ):
            sys.exit("the peer's rows differ from ours: python3 bench/compare.py "
                     f"{ours_out} {peer_out}")
        print(f"peer rows equal ours: {len(our_rows[1])} rows", file=sys.stderr)
    after = load()

    mb = size / 1e6
    lines = [
        f"machine: {machine()}",
        f"load average (1, 5, 15 min): {before} before, {after} after",
        f"stream: {size} bytes, {events} events, {matched} matching, "
        f"{rows} result rows (gen --size {args.size} --match-share "
        f"{args.match_share} --groups {args.groups} --seed {args.seed})",
        "",
        "| program | runs | median s (min-max) | MB/s | events/s | peak RSS MiB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in [ours, scan, cat] + ([peer] if peer else []):
        lines.append(
            f"| {r['label']} | {r['runs']} | {r['wall']:.3f} ({r['min']:.3f}-{r['max']:.3f}) "
            f"| {mb / r['wall']:.0f} | {events / r['wall']:,.0f} | {r['rss'] / 1024:.1f} |"
        )
    lines.append("")
    lines.append(f"ours / scan time: {ours['wall'] / scan['wall']:.2f}x "
                 f"(cat: {ours['wall'] / cat['wall']:.2f}x)")
    if peer:
        lines.append(f"ours / peer throughput: {peer['wall'] / ours['wall']:.1f}x "
                     f"(peer rows checked equal to ours)")
    print("\n".join(lines))


def rss(args):
    """Peak RSS of ours for few and many events into the same groups, the
    stream piped from the generator."""
    print(f"machine: {machine()}")
    print(f"load average: {load()}")
    print("| events | groups | stream bytes | peak RSS MiB | rows |")
    print("| --- | --- | --- | --- | --- |")
    os.makedirs(WORK, exist_ok=True)
    for events in args.rss_events:
        gen = subprocess.Popen(
            [BINARY, "gen", "--events", str(events), "--groups", str(args.groups),
             "--match-share", str(args.match_share), "--text-max",
             str(args.rss_text_max), "--seed", str(args.seed)],
            stdout=subprocess.PIPE,
        )
        report = os.path.join(WORK, "time.txt")
        errors = open(os.path.join(WORK, "stderr.txt"), "w+b")
        counted = subprocess.Popen(
            ["/usr/bin/time", "-o", report, "-f", "%M", BINARY],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors,
        )
        total = 0
        while True:
            block = gen.stdout.read(1 << 20)
            if not block:
                break
            total += len(block)
            counted.stdin.write(block)
        counted.stdin.close()
        status = counted.wait()
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
        if gen.wait() != 0 or status != 0:
            sys.exit(f"rss run failed: {stderr[-2000:]}")
        seen, _, rows = events_of(stderr)
        assert seen == events, (seen, events)
        peak = int(open(report).read().split()[-1])
        print(f"| {events:,} | {args.groups} | {total:,} | {peak / 1024:.1f} | {rows} |")
        sys.stdout.flush()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1G", help="stream size for gen")
    parser.add_argument("--match-share", type=float, default=0.01)
    parser.add_argument("--groups", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peer-runs", type=int, default=3)
    parser.add_argument("--rss", action="store_true",
                        help="measure peak RSS against event counts instead")
    parser.add_argument("--rss-events", type=int, nargs="+",
                        default=[100_000, 10_000_000])
    parser.add_argument("--rss-text-max", type=int, default=1000)
    args = parser.parse_args()
    os.environ["SCRIPTBLOCKHUNT_LOG"] = "info"
    if args.rss:
        rss(args)
    else:
        throughput(args)


if __name__ == "__main__":
    main()
