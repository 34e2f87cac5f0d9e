#!/usr/bin/env python3
"""Write a large synthetic chunk stream for the distributed benchmark.

A stand-in until `scriptblockhunt gen` exists: the stream Splunk would send
the command on the search head for N PowerShell 4104 events, in the form
`scriptblockhunt record` writes (getinfo, then execute chunks of at most
50,000 rows with the command's 14 required fields and their `__mv_` twins,
Splunk's quoting), but generated directly so that no event file has to be
built and parsed first.

What the events look like (all choices of this script, seeded, so the same
arguments give the same bytes):

* 200 hosts, 500 user SIDs, a process id pool per host;
* script block texts from a pool of 2,000 PowerShell-like texts of 80 to
  3,000 characters (mean about 1,000), quotes and line breaks included;
* a share --match-rate of the events (default 1%) run
  `Get-NetTCPConnection`; half of those repeat an earlier matching
  event's host, process, script block id and text (the same block logged
  again), so groups hold more than one event;
* Path is empty (interactive) for 60% of the events;
* `_time` grows by about 0.05 s per event, with microseconds.

Usage: gen_stream.py --events N [--match-rate R] [--seed S] > stream.bin
"""

import argparse
import json
import random
import sys

ROWS_PER_CHUNK = 50_000

NAMES = [
    "ScriptBlockText", "dest", "signature", "signature_id", "user_id",
    "vendor_product", "EventID", "Guid", "Opcode", "Name", "Path",
    "ProcessID", "ScriptBlockId", "_time",
]

WORDS = [
    "Get-ChildItem", "Set-Location", "$env:TEMP", "Import-Module",
    "Write-Output", "ForEach-Object", "{", "}", "|", "$_", "-Path",
    "'C:\\Windows\\System32'", "\"done\"", "$true", "param(", ")",
    "Get-Service", "Where-Object", "-eq", "Invoke-Command", "$result",
    "Test-Path", "New-Object", "System.Net.WebClient", "Start-Sleep",
    "-Seconds", "30", "try", "catch", "finally", "return", "\n", "\n    ",
]


def text(rng, length):
    """A PowerShell-like text of about `length` characters."""
    out, size = [], 0
    while size < length:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)


def cell(value):
    """A CSV cell quoted the way Splunk quotes: all but letters and digits."""
    if value.isascii() and value.isalnum():
        return value
    return '"' + value.replace('"', '""') + '"'


def chunk(metadata, body):
    """One chunk's bytes."""
    meta = metadata.encode()
    return b"chunked 1.0,%d,%d\n" % (len(meta), len(body)) + meta + body


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--match-rate", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=4104)
    args = parser.parse_args()
    rng = random.Random(args.seed)

    hosts = ["ws-%04d.corp.example" % i for i in range(200)]
    users = ["S-1-5-21-3623811015-3361044348-30300820-%d" % (1000 + i)
             for i in range(500)]
    pids = {h: [str(rng.randrange(1000, 60000)) for _ in range(20)]
            for h in hosts}
    texts = [text(rng, int(rng.triangular(80, 3000, 200)))
             for _ in range(2000)]
    hits = [
        "Get-NetTCPConnection -State Listen | Select LocalPort",
        "$c = Get-NetTcpConnection; $c | Export-Csv $env:TEMP\\c.csv",
        "get-nettcpconnection -RemotePort 443 |\n  ft -AutoSize",
    ]

    getinfo = {
        "action": "getinfo", "preview": False,
        "streaming_command_will_restart": False,
        "searchinfo": {
            "args": [], "raw_args": [], "dispatch_dir": "",
            "sid": "bench", "app": "scriptblockhunt", "owner": "nobody",
            "username": "nobody", "session_key": "", "splunkd_uri": "",
            "splunk_version": "bench",
            "search": "search%20%7C%20scriptblockhunt",
            "command": "scriptblockhunt", "maxresultrows": ROWS_PER_CHUNK,
            "earliest_time": "0", "latest_time": "0",
        },
    }
    out = sys.stdout.buffer
    out.write(chunk(json.dumps(getinfo, separators=(",", ":")), b""))

    header = ",".join([cell(n) for n in NAMES]
                      + [cell("__mv_" + n) for n in NAMES]) + "\n"
    twins = "," * len(NAMES)
    matched = []
    time = 1_700_000_000.0
    left = args.events
    while True:
        rows = min(left, ROWS_PER_CHUNK)
        left -= rows
        lines = [header]
        for _ in range(rows):
            time += rng.uniform(0.0, 0.1)
            if rng.random() < args.match_rate:
                if matched and rng.random() < 0.5:
                    host, pid, block, body, user, path = rng.choice(matched)
                else:
                    host = rng.choice(hosts)
                    pid = rng.choice(pids[host])
                    block = "%032x" % rng.getrandbits(128)
                    body = rng.choice(hits)
                    user = rng.choice(users)
                    path = "" if rng.random() < 0.6 else \
                        "C:\\Scripts\\net%d.ps1" % rng.randrange(50)
                    matched.append((host, pid, block, body, user, path))
            else:
                host = rng.choice(hosts)
                pid = rng.choice(pids[host])
                block = "%032x" % rng.getrandbits(128)
                body = rng.choice(texts)
                user = rng.choice(users)
                path = "" if rng.random() < 0.6 else \
                    "C:\\Scripts\\task%d.ps1" % rng.randrange(500)
            values = [
                body, host,
                "Microsoft-Windows-PowerShell Execute a Remote Command",
                "4104", user, "Microsoft Windows", "4104",
                "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}", "15",
                "Microsoft-Windows-PowerShell", path, pid,
                block[:8] + "-" + block[8:12] + "-" + block[12:16] + "-"
                + block[16:20] + "-" + block[20:], "%.6f" % time,
            ]
            lines.append(",".join(cell(v) if v else "" for v in values)
                         + twins + "\n")
        finished = "true" if left == 0 else "false"
        metadata = '{"action":"execute","finished":%s}' % finished
        out.write(chunk(metadata, "".join(lines).encode()))
        if left == 0:
            break


if __name__ == "__main__":
    main()
