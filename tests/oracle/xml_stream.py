#!/usr/bin/env python3
"""Write tests/data/derived/xml-corpus.stream: the XmlWinEventLog corpus as
the SCP v2 request stream Splunk would send the command.

NOT a recording. It is derived from tests/data/corpus/xmlwineventlog/ by
this oracle: each event gets its Splunk_TA_windows fields (winxml.py), the
base search keeps EventCode=4104 on the PowerShell sources, and the events
of each file become one execute chunk (columns `_time`, then every other
field in byte order, then the `__mv_` twins; cells quoted Splunk style,
i.e. unless they are ASCII letters and digits only; `\\n` records). A last
`finished:true` chunk carries only a header row.

The command's reply to this stream must equal tests/expected/xml-*.replay.csv
(regenerate.py checks that the oracle agrees with itself on this).

Usage: python3 tests/oracle/xml_stream.py [OUTPUT]
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True

import hunt_oracle  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
CORPUS = ["tests/data/corpus/xmlwineventlog/certify_esc1_abuse_powershell.log",
          "tests/data/corpus/xmlwineventlog/i_am_goot.log"]
DEFAULT_OUT = os.path.join(ROOT, "tests", "data", "derived",
                           "xml-corpus.stream")

GETINFO = {
    "action": "getinfo",
    "preview": False,
    "streaming_command_will_restart": False,
    "searchinfo": {
        "args": [],
        "raw_args": [],
        "dispatch_dir": "/opt/splunk/var/run/splunk/dispatch/1700000100.7",
        "sid": "1700000100.7",
        "app": "search",
        "owner": "admin",
        "username": "admin",
        "session_key": "SECRET-xml-corpus-key",
        "splunkd_uri": "https://127.0.0.1:8089",
        "splunk_version": "9.0.0",
        "search": "search%20%60powershell%60%20EventCode%3D4104%20%7C%20"
                  "scriptblockhunt",
        "command": "scriptblockhunt",
        "maxresultrows": 50000,
        "earliest_time": "0",
        "latest_time": "0",
    },
}

PLAIN = re.compile(rb"[A-Za-z0-9]+")


def cell(value):
    """Splunk-style cell: quoted unless empty or letters and digits only."""
    if value == b"" or PLAIN.fullmatch(value):
        return value
    return b'"' + value.replace(b'"', b'""') + b'"'


def mv_cell(values):
    """The `__mv_` twin: empty for one value, else `$v1$;$v2$`."""
    if len(values) < 2:
        return b""
    return b";".join(b"$" + v.replace(b"$", b"$$") + b"$" for v in values)


def body(events):
    """One execute body for these events."""
    names = sorted({name for e in events for name in e} - {b"_time"})
    names = [b"_time"] + names
    lines = [b",".join([cell(n) for n in names]
                       + [cell(b"__mv_" + n) for n in names])]
    for event in events:
        values = [event.get(n, []) for n in names]
        lines.append(b",".join([cell(b"\n".join(v)) for v in values]
                               + [cell(mv_cell(v)) for v in values]))
    return b"".join(line + b"\n" for line in lines)


def chunk(metadata, payload):
    """Frame one chunk; lengths are byte counts."""
    return (b"chunked 1.0,%d,%d\n" % (len(metadata), len(payload))
            + metadata + payload)


def build():
    """The whole stream, as bytes."""
    parts = [chunk(json.dumps(GETINFO, separators=(",", ":")).encode(), b"")]
    for path in CORPUS:
        events = hunt_oracle.base_events([os.path.join(ROOT, path)])
        parts.append(chunk(b'{"action":"execute","finished":false}',
                           body(events)))
    parts.append(chunk(b'{"action":"execute","finished":true}',
                       b'"_time",ScriptBlockText,"__mv__time",'
                       b'"__mv_ScriptBlockText"\n'))
    return b"".join(parts)


def main(argv):
    out = argv[0] if argv else DEFAULT_OUT
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "wb") as handle:
        handle.write(build())


if __name__ == "__main__":
    main(sys.argv[1:])
