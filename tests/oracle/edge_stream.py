#!/usr/bin/env python3
"""Write tests/data/edge/edge-cases.stream, a hand-made SCP v2 request stream.

Every chunk body below is written out by hand, cell by cell, exactly as the
bytes should appear (quoting done by hand, Splunk style: names and values
with anything but ASCII letters and digits quoted). Only the chunk header
lengths are computed, as byte counts, so that editing a body cannot leave a
wrong length behind.

What the chunks exercise (see tests/README.md for the expected files):
  1  getinfo with args, session_key "SECRET-edge-key", splunk_version 9.0.0
  2  execute, `\\n` records: a two-event group with different _time; a
     quoted value with raw newline, doubled quotes and commas; case
     variants of the pattern; a multivalue Opcode; a non-ASCII near-miss
     (U+0130) that ASCII-only folding must not match
  3  execute, `\\r\\n` records, other columns in another order (no dest, no
     Guid; Path added): ProcessID 2, 10, 1a; a user_id multivalue with a
     repeated value; a _time tie (1700000000 vs 1700000000.000); the only
     event with Path, which does not match
  4  execute with an empty body (0 bytes)
  5  execute, `\\n` records, no signature column: a multivalue
     ScriptBlockText whose `__mv_` cell holds `$$`; leading/trailing
     spaces; invalid UTF-8; a CR LF inside a quoted value; an empty _time;
     upper-case dest
  6  execute finished:true, header-only body

Usage: python3 tests/oracle/edge_stream.py [OUTPUT]
"""

import json
import os
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "data", "edge", "edge-cases.stream")

SEARCH = ('search index=main sourcetype=XmlWinEventLog EventCode=4104 '
          '| scriptblockhunt pattern="*Get-NetTcpconnection*"')

GETINFO = {
    "action": "getinfo",
    "preview": False,
    "streaming_command_will_restart": False,
    "searchinfo": {
        "args": ["pattern=*Get-NetTcpconnection*"],
        "raw_args": ['pattern="*Get-NetTcpconnection*"'],
        "dispatch_dir": "/opt/splunk/var/run/splunk/dispatch/1700000000.42",
        "sid": "1700000000.42",
        "app": "search",
        "owner": "admin",
        "username": "admin",
        "session_key": "SECRET-edge-key",
        "splunkd_uri": "https://127.0.0.1:8089",
        "splunk_version": "9.0.0",
        "search": urllib.parse.quote(SEARCH, safe=""),
        "command": "scriptblockhunt",
        "maxresultrows": 50000,
        "earliest_time": "0",
        "latest_time": "0",
    },
}

EXEC_MORE = b'{"action":"execute","finished":false}'
EXEC_LAST = b'{"action":"execute","finished":true}'

D = b'"attack_pc.attack_range.local"'
SIG = b'"Microsoft-Windows-PowerShell Execute a Remote Command"'
U = b'"S-1-5-21-111-222-333-500"'
VP = b'"Microsoft Windows"'
G = b'"{a0c1853b-5c40-4b15-8766-3cf1c58f985a}"'
N = b'"Microsoft-Windows-PowerShell"'
ID1 = b'"0be6ea7f-ff36-4527-af0d-5125b95be731"'
ID2 = b'"6c1f8a2e-3b7d-4e2a-9f10-2d5c7e8b9a01"'
ID3 = b'"9d2e4f60-1a3b-4c5d-8e7f-0a1b2c3d4e5f"'
ID4 = b'"11111111-2222-4333-8444-555555555555"'
ID5 = b'"aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"'
E = b""  # an empty cell

# Chunk 2: 13 fields, then their 13 __mv_ twins.
HEADER_2 = (b'"_time",dest,signature,"signature_id","user_id",'
            b'"vendor_product",EventID,Guid,Opcode,Name,ProcessID,'
            b'ScriptBlockId,ScriptBlockText,"__mv__time","__mv_dest",'
            b'"__mv_signature","__mv_signature_id","__mv_user_id",'
            b'"__mv_vendor_product","__mv_EventID","__mv_Guid",'
            b'"__mv_Opcode","__mv_Name","__mv_ProcessID",'
            b'"__mv_ScriptBlockId","__mv_ScriptBlockText"')
ROWS_2 = [
    # e1: matches (other case than the pattern), PID 812.
    [b'"1686322435.205161"', D, SIG, b"4104", U, VP, b"4104", G, b"15", N,
     b"812", ID1, b'"Get-NetTCPConnection -State Listen"'] + [E] * 13,
    # e2: same group as e1, later _time.
    [b'"1686322435.5"', D, SIG, b"4104", U, VP, b"4104", G, b"15", N,
     b"812", ID1, b'"Get-NetTCPConnection -State Listen"'] + [E] * 13,
    # e3: raw newline, doubled quotes, commas inside the value; PID 5336.
    [b"1686322436", D, SIG, b"4104", U, VP, b"4104", G, b"15", N,
     b"5336", ID2,
     b'"$c = Get-NetTcpconnection\n$c | ? { $_.State -eq ""Listen"" }'
     b' | Select LocalAddress,LocalPort"'] + [E] * 13,
    # e4: does not match.
    [b'"1686322436.1"', D, SIG, b"4104", U, VP, b"4104", G, b"15", N,
     b"812", ID1, b'"Get-Process | Select Name"'] + [E] * 13,
    # e5: lower-case match; Opcode is multivalue -> two groups.
    [b"1686322437", D, SIG, b"4104", U, VP, b"4104", G,
     b'"15\nOn create calls"', N, b"812", ID3,
     b'"get-nettcpconnection -localport 445"']
    + [E] * 8 + [b'"$15$;$On create calls$"'] + [E] * 4,
    # e6: U+0130 (dotted capital I) is not ASCII: no match.
    [b"1686322438", D, SIG, b"4104", U, VP, b"4104", G, b"15", N,
     b"812", ID1, b'"Get-NetTcpconnect\xc4\xb0on"'] + [E] * 13,
]

# Chunk 3: other columns, other order, CR LF records.
HEADER_3 = (b'ScriptBlockText,ProcessID,"_time",signature,"signature_id",'
            b'"user_id","vendor_product",EventID,Opcode,Name,ScriptBlockId,'
            b'Path,"__mv_ScriptBlockText","__mv_ProcessID","__mv__time",'
            b'"__mv_signature","__mv_signature_id","__mv_user_id",'
            b'"__mv_vendor_product","__mv_EventID","__mv_Opcode",'
            b'"__mv_Name","__mv_ScriptBlockId","__mv_Path"')
ROWS_3 = [
    # f1: PID 2; dest and Guid are null here (filled with the value).
    [b'"Get-NetTCPConnection"', b"2", b'"1700000000.000"', SIG, b"4104",
     U, VP, b"4104", b"15", N, ID4, E] + [E] * 12,
    # f2: PID 10; user_id holds the same value twice -> counts twice.
    [b'"Get-NetTCPConnection"', b"10", b"1700000000", SIG, b"4104",
     b'"S-1-5-18\nS-1-5-18"', VP, b"4104", b"15", N, ID4, E]
    + [E] * 5 + [b'"$S-1-5-18$;$S-1-5-18$"'] + [E] * 6,
    # f3: the only event with Path; it does not match the default pattern.
    [b'"Write-Output ""no match here"""', b"2", b'"1700000000.5"', SIG,
     b"4104", U, VP, b"4104", b"15", N, ID5,
     b'"C:\\Scripts\\inventory.ps1"'] + [E] * 12,
    # f4: PID 1a (not a number: sorts after every number).
    [b'"Get-NetTCPConnection"', b"1a", b"1700000001", SIG, b"4104",
     U, VP, b"4104", b"15", N, ID4, E] + [E] * 12,
    # f5: same group as f1; _time ties f1's numerically.
    [b'"Get-NetTCPConnection"', b"2", b"1700000000", SIG, b"4104",
     U, VP, b"4104", b"15", N, ID4, E] + [E] * 12,
    # f6: same group as f1; the earliest time of the group.
    [b'"Get-NetTCPConnection"', b"2", b'"1699999999.9"', SIG, b"4104",
     U, VP, b"4104", b"15", N, ID4, E] + [E] * 12,
]

# Chunk 5: no signature column; multivalue ScriptBlockText with `$$`.
HEADER_5 = (b'"_time",dest,"signature_id","user_id","vendor_product",'
            b'EventID,Guid,Opcode,Name,ProcessID,ScriptBlockId,'
            b'ScriptBlockText,"__mv__time","__mv_dest","__mv_signature_id",'
            b'"__mv_user_id","__mv_vendor_product","__mv_EventID",'
            b'"__mv_Guid","__mv_Opcode","__mv_Name","__mv_ProcessID",'
            b'"__mv_ScriptBlockId","__mv_ScriptBlockText"')
ROWS_5 = [
    # g1: two values; only the second matches, both become groups.
    [b"1686322500", D, b"4104", U, VP, b"4104", G, b"15", N, b"812", ID3,
     b'"Write-Host $env:COMPUTERNAME\nGet-NetTCPConnection | Select'
     b' $_.LocalPort"'] + [E] * 11
    + [b'"$Write-Host $$env:COMPUTERNAME$;$Get-NetTCPConnection | Select'
       b' $$_.LocalPort$"'],
    # g2: leading and trailing spaces; empty _time.
    [E, D, b"4104", U, VP, b"4104", G, b"15", N, b"812", ID3,
     b'"  Get-NetTCPConnection "'] + [E] * 12,
    # g3: invalid UTF-8 bytes kept as they are.
    [b"1686322501", D, b"4104", U, VP, b"4104", G, b"15", N, b"812", ID3,
     b'"Get-NetTCPConnection # \xff\xfe"'] + [E] * 12,
    # g4: CR LF inside a quoted value.
    [b"1686322502", D, b"4104", U, VP, b"4104", G, b"15", N, b"812", ID3,
     b'"Get-NetTCPConnection\r\n| Out-Null"'] + [E] * 12,
    # g5: upper-case dest and text; Guid null (filled); PID 5336.
    [b"1686322503", b'"ATTACK_PC.ATTACK_RANGE.LOCAL"', b"4104", U, VP,
     b"4104", E, b"15", N, b"5336", ID2, b"GET-NETTCPCONNECTION"]
    + [E] * 12,
]

HEADER_6 = b'"_time",ScriptBlockText,"__mv__time","__mv_ScriptBlockText"'


def body(header, rows, end):
    """Header line and records, each ended by `end`."""
    for row in rows:
        assert len(row) == header.count(b",") + 1, (header, row)
    return b"".join(line + end for line in
                    [header] + [b",".join(row) for row in rows])


def chunk(metadata, payload):
    """Frame one chunk; lengths are byte counts."""
    return (b"chunked 1.0,%d,%d\n" % (len(metadata), len(payload))
            + metadata + payload)


def build():
    """The whole stream, as bytes."""
    getinfo = json.dumps(GETINFO, separators=(",", ":")).encode()
    return b"".join([
        chunk(getinfo, b""),
        chunk(EXEC_MORE, body(HEADER_2, ROWS_2, b"\n")),
        chunk(EXEC_MORE, body(HEADER_3, ROWS_3, b"\r\n")),
        chunk(EXEC_MORE, b""),
        chunk(EXEC_MORE, body(HEADER_5, ROWS_5, b"\n")),
        chunk(EXEC_LAST, HEADER_6 + b"\n"),
    ])


def main(argv):
    out = argv[0] if argv else DEFAULT_OUT
    with open(out, "wb") as handle:
        handle.write(build())


if __name__ == "__main__":
    main(sys.argv[1:])
