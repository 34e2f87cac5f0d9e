#!/usr/bin/env python3
"""Expected output of the whole hunting search over XmlWinEventLog files.

Usage:
    python3 tests/oracle/hunt_oracle.py --render=hunt|replay FILE... \
        [pattern=...]... [field=...] [by=f1,f2,...] [value=...] > out.csv

FILEs hold one `<Event>` per line and are read together as one input set.
Each event gets the Splunk_TA_windows fields (tests/oracle/winxml.py), the
base search keeps EventCode=4104 on the PowerShell sources, then the hunt
runs. `--render=hunt` formats firstTime/lastTime as %Y-%m-%dT%H:%M:%S UTC
(the saved search's ctime); `--render=replay` keeps the epoch text, i.e.
what the command returns when those events reach it through Splunk.
"""

import sys

sys.dont_write_bytecode = True

import hunt_semantics  # noqa: E402
import winxml  # noqa: E402


def base_events(paths):
    """Extracted events of the files that pass the base search."""
    events = [winxml.extract(raw) for raw in winxml.read_events(paths)]
    return [e for e in events if winxml.passes_base_search(e)]


def main(argv):
    render = None
    files = []
    options = []
    for arg in argv:
        if arg.startswith("--render="):
            render = arg.split("=", 1)[1]
        elif "=" in arg:
            options.append(arg)
        else:
            files.append(arg)
    if render not in ("hunt", "replay") or not files:
        raise SystemExit(__doc__)
    events = base_events(files)
    parsed = hunt_semantics.parse_options(options)
    sys.stdout.buffer.write(
        hunt_semantics.run(events, parsed, hunt=(render == "hunt")))


if __name__ == "__main__":
    main(sys.argv[1:])
