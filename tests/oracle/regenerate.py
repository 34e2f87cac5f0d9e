#!/usr/bin/env python3
"""Rebuild every file under tests/expected/ (and the two derived streams).

Usage (from anywhere):
    python3 tests/oracle/regenerate.py          # rewrite the files
    python3 tests/oracle/regenerate.py --check  # compare only; exit 1 on
                                                # any difference

Each expected file is the stdout of one oracle command, run exactly as it
is printed in tests/expected/README.md (that README is written from the
JOBS table below too). The derived streams are written first:
tests/data/edge/edge-cases.stream (edge_stream.py, hand-written bodies) and
tests/data/derived/xml-corpus.stream (xml_stream.py). Finally the
XmlWinEventLog replay files are computed a second way, by replaying
xml-corpus.stream, and must agree byte for byte.
"""

import os
import shlex
import subprocess
import sys

sys.dont_write_bytecode = True

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
PY = "python3"
REPLAY = "tests/oracle/replay_oracle.py"
HUNT = "tests/oracle/hunt_oracle.py"
REC = "tests/data/recordings/"
EDGE = "tests/data/edge/edge-cases.stream"
XML_STREAM = "tests/data/derived/xml-corpus.stream"
XML = ["tests/data/corpus/xmlwineventlog/certify_esc1_abuse_powershell.log",
       "tests/data/corpus/xmlwineventlog/i_am_goot.log"]
BY_DEFAULT = ("dest,signature,signature_id,user_id,vendor_product,EventID,"
              "Guid,Opcode,Name,Path,ProcessID,ScriptBlockId,ScriptBlockText")
BY_NOPATH = BY_DEFAULT.replace("Path,", "")

# (expected file, input, options, what it shows)
REPLAY_JOBS = [
    ("multibyte-teststring-T.csv", REC + "multibyte_input.gz",
     ["field=teststring", "by=teststring", "pattern=*T*"],
     "all 40,682 events in one group: ASCII folding of `t`, multibyte value,"
     " numeric min/max over `1599165038` and `1599172247.704` texts"),
    ("multibyte-nomatch.csv", REC + "multibyte_input.gz",
     ["field=teststring", "by=teststring", "pattern=*x*"],
     "nothing matches: header only"),
    ("multibyte-time-prefix.csv", REC + "multibyte_input.gz",
     ["field=_time", "by=_time", "pattern=159916503*",
      "pattern=159916504*"],
     "two patterns; integer and fractional `_time` groups, numeric order"),
    ("countmatches-rt-by-time.csv", REC + "countmatches.input.gz",
     ["field=text", "by=_time", "pattern=RT*"],
     "anchored prefix pattern; 7 groups with counts > 1"),
    ("countmatches-quotes-by-text.csv", REC + "countmatches.input.gz",
     ["field=text", "by=text", 'pattern=*"*', "pattern=*Seguidores*"],
     "values with embedded newlines, quotes and commas; one group of 3"),
    ("countmatches-http-by-serial.csv", REC + "countmatches.input.gz",
     ["field=text", "by=_serial", "pattern=*http*"],
     "99 groups: numeric order of `_serial` (0, 7, 16, ..., 99, 109, ...)"),
    ("countmatches-splunk.csv", REC + "countmatches.input.gz",
     ["field=text", "by=text", "pattern=*splunk*"],
     "no tweet mentions splunk: header only"),
    ("summap-value1-by-hour.csv", REC + "sum.map.input.gz",
     ["field=_raw", "by=date_hour", "pattern=*value1:1*"],
     "50,000 events; 15 groups; non-numeric `_time` texts compared as bytes"),
    ("summap-minute-by-hour-minute.csv", REC + "sum.map.input.gz",
     ["field=date_minute", "by=date_hour,date_minute", "pattern=1*",
      "pattern=5"],
     "two BY fields, two patterns (`5` is exact: not 15, 25, ...); 168"
     " groups of 60"),
    ("summap-absent-color.csv", REC + "sum.map.input.gz",
     ["field=_raw", "by=date_hour,color", "pattern=*value1:1*"],
     "`color` is empty in every event: fillnull does not create it, header"
     " only"),
    ("sumreduce-total.csv", REC + "sum.reduce.input.gz",
     ["field=total", "by=total", "pattern=2147943*"],
     "a group without `_time`: empty firstTime/lastTime"),
    ("doubleage-age.csv", REC + "doubleage-8.2.1.request.bin",
     ["field=age", "by=age", "pattern=*"],
     "Splunk 8.2.1 stream with `_chunked_idx` and a header-only last chunk;"
     " numeric order 18, 25, 52, 66, 96"),
    ("edge-default.csv", EDGE, [],
     "default options: `Path` is only in a non-matching event, so it is not"
     " present and every event is dropped: header only"),
    ("edge-nopath.csv", EDGE, ["by=" + BY_NOPATH],
     "the default BY list without Path: every edge case of the stream"),
    ("edge-by-processid.csv", EDGE, ["by=ProcessID"],
     "ProcessID order 2, 10, 812, 5336, 1a"),
    ("edge-path-present-value.csv", EDGE,
     ["by=dest,Path,ProcessID", "value=NULL",
      "pattern=*get-nettcpconnection*", "pattern=*WRITE-OUTPUT*"],
     "the Path event now matches, so Path is present and filled with"
     " `NULL` elsewhere"),
]

XML_PATTERNS = [("default", "*Get-NetTcpconnection*"),
                ("certify", "*Certify*"),
                ("ciminstance", "*CimInstance*"),
                ("invoke", "*Invoke-*")]


def xml_jobs():
    """(expected file, render, options, note) for the XML corpus."""
    jobs = []
    for name, pattern in XML_PATTERNS:
        for suffix, by in (("", None), (".nopath", BY_NOPATH)):
            options = ["pattern=" + pattern]
            if by:
                options.append("by=" + by)
            for render in ("hunt", "replay"):
                note = ("default field/by/value" if by is None
                        else "BY list without Path")
                jobs.append(("xml-%s%s.%s.csv" % (name, suffix, render),
                             render, options, note))
    return jobs


def replay_argv(source, options):
    """The oracle command for a recorded or hand-made stream."""
    return [PY, REPLAY, source] + options


def hunt_argv(render, options):
    """The oracle command for the XmlWinEventLog corpus."""
    return [PY, HUNT, "--render=" + render] + XML + options


def run(argv):
    """Run one oracle command from the repository root, return stdout."""
    return subprocess.run(argv, cwd=ROOT, check=True,
                          stdout=subprocess.PIPE).stdout


def shell(argv, out):
    """The command line as printed in the README."""
    return " ".join(shlex.quote(a) for a in argv) + " > tests/expected/" + out


def rows(data):
    """Number of data rows of an expected CSV (records, not lines)."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "oracle"))
    import csvbytes
    return len(csvbytes.parse(data)) - 1


def options_line(options):
    """`options:` line with the defaults spelled out."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "oracle"))
    import hunt_semantics
    return hunt_semantics.parse_options(options).describe()


def readme(entries):
    """tests/expected/README.md, from the jobs that were run."""
    lines = [
        "# Expected outputs",
        "",
        "Written by `python3 tests/oracle/regenerate.py`; do not edit by hand.",
        "Each file is the stdout of the command shown (run from the",
        "repository root). `options:` spells out every option, defaults",
        "included; `pattern=` may repeat (any pattern matching is enough),",
        "`by=` is a comma-separated list, `value=` is shown only when it is",
        "not the default `0`. See ../README.md for the semantics.",
        "",
    ]
    for out, argv, options, note, count in entries:
        lines += [
            "## " + out,
            "",
            options_line(options),
            "",
            "rows: %d. %s." % (count, note[0].upper() + note[1:]),
            "",
            "    " + shell(argv, out),
            "",
        ]
    return ("\n".join(lines)).encode()


def put(path, data, check, problems):
    """Write `data` to `path`, or in check mode compare with it."""
    full = os.path.join(ROOT, path)
    if check:
        try:
            with open(full, "rb") as handle:
                same = handle.read() == data
        except FileNotFoundError:
            same = False
        if not same:
            problems.append(path)
        return
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "wb") as handle:
        handle.write(data)


def main(argv):
    check = "--check" in argv
    problems = []
    sys.path.insert(0, os.path.join(ROOT, "tests", "oracle"))
    import edge_stream
    import xml_stream
    put(EDGE, edge_stream.build(), check, problems)
    put(XML_STREAM, xml_stream.build(), check, problems)
    if check and problems:
        # The expected files depend on these inputs; stop here.
        print("differs: " + ", ".join(problems), file=sys.stderr)
        return 1

    entries = []
    for out, source, options, note in REPLAY_JOBS:
        command = replay_argv(source, options)
        data = run(command)
        put("tests/expected/" + out, data, check, problems)
        entries.append((out, command, options, note, rows(data)))
    for out, render, options, note in xml_jobs():
        command = hunt_argv(render, options)
        data = run(command)
        if render == "replay":
            again = run(replay_argv(XML_STREAM, options))
            if again != data:
                print("oracle disagrees with itself on " + out,
                      file=sys.stderr)
                return 1
        put("tests/expected/" + out, data, check, problems)
        entries.append((out, command, options, note, rows(data)))
    put("tests/expected/README.md", readme(entries), check, problems)

    # tests/README.md is hand-written; it must still list every option set.
    with open(os.path.join(ROOT, "tests", "README.md"), "rb") as handle:
        overview = handle.read().decode("utf-8")
    for out, _, options, _, _ in entries:
        if options_line(options) not in overview:
            problems.append("tests/README.md (no options line for %s)" % out)

    if problems:
        print("differs: " + ", ".join(problems), file=sys.stderr)
        return 1
    print("%s %d expected files" % ("checked" if check else "wrote",
                                     len(entries)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
