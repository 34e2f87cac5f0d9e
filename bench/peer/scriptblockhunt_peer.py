#!/usr/bin/env python3
"""The benchmark's peer: scriptblockhunt written with the Splunk SDK for
Python (splunklib, splunk-sdk 2.1.1) as a ReportingCommand.

It does the same work with the same semantics as the Rust command (README,
"What it does, exactly"): an anchored, ASCII case-insensitive wildcard match
on one field (any value of a multivalue field), then a bare fillnull over
the matching events (a null is filled only when some matching event has the
field; a BY field no matching event has drops every row), then stats count
min(_time) max(_time) BY the fields (one group per combination of values,
repeats counted), rows sorted by the BY tuple in the same total order
(numbers first by value, then by bytes; other values by bytes).

The SDK calls reduce() once per execute chunk; this command keeps its groups
on the instance across calls and yields the rows only on Splunk's
finished:true chunk. It takes one pattern (SDK options do not repeat).

Run as Splunk runs it: no arguments, the chunk stream on stdin.
"""

import itertools
import re
import struct
import sys

from splunklib.searchcommands import (
    Configuration,
    Option,
    ReportingCommand,
    dispatch,
)

DEFAULT_BY = (
    "dest,signature,signature_id,user_id,vendor_product,EventID,Guid,"
    "Opcode,Name,Path,ProcessID,ScriptBlockId,ScriptBlockText"
)

NUMBER = re.compile(
    r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z"
)


def sort_key(text):
    """The total order of the Rust command: (not a number, value in IEEE
    total order, text)."""
    if NUMBER.match(text):
        bits = struct.unpack("<q", struct.pack("<d", float(text)))[0]
        if bits < 0:
            bits ^= 0x7FFFFFFFFFFFFFFF
        return (0, bits, text.encode("utf-8", "surrogateescape"))
    return (1, 0, text.encode("utf-8", "surrogateescape"))


def wildcard(pattern):
    """A Splunk search wildcard as an anchored regex: * is any run of
    characters (newlines too), only ASCII letters fold case."""
    body = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.compile(body, re.IGNORECASE | re.ASCII | re.DOTALL)


def values(record, name):
    """The field's values as a list; [] for null (missing or empty)."""
    value = record.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


@Configuration()
class ScriptBlockHunt(ReportingCommand):
    """match, fillnull, stats: the ESCU hunt's pipeline."""

    pattern = Option(require=False, default="*Get-NetTcpconnection*")
    field = Option(require=False, default="ScriptBlockText")
    by = Option(require=False, default=DEFAULT_BY)
    value = Option(require=False, default="0")

    def reduce(self, records):
        if not hasattr(self, "groups"):
            self.by_fields = [f for f in self.by.split(",") if f]
            self.regex = wildcard(self.pattern)
            self.groups = {}
            self.present = [False] * len(self.by_fields)
        regex, field, by = self.regex, self.field, self.by_fields
        groups, present = self.groups, self.present

        for record in records:
            if not any(regex.fullmatch(v) for v in values(record, field)):
                continue
            lists = []
            for i, name in enumerate(by):
                vs = values(record, name)
                if vs:
                    present[i] = True
                    lists.append(vs)
                else:
                    lists.append([None])
            times = values(record, "_time")
            time = times[0] if times else None
            for key in itertools.product(*lists):
                group = groups.get(key)
                if group is None:
                    groups[key] = [1, time, time]
                    continue
                group[0] += 1
                if time is not None:
                    if group[1] is None or sort_key(time) < sort_key(group[1]):
                        group[1] = time
                    if group[2] is None or sort_key(time) > sort_key(group[2]):
                        group[2] = time

        if not self._finished:
            return
        if not all(present):
            return
        filled = {}
        for key, (count, first, last) in groups.items():
            key = tuple(self.value if v is None else v for v in key)
            merged = filled.get(key)
            if merged is None:
                filled[key] = [count, first, last]
                continue
            merged[0] += count
            if first is not None and (
                merged[1] is None or sort_key(first) < sort_key(merged[1])
            ):
                merged[1] = first
            if last is not None and (
                merged[2] is None or sort_key(last) > sort_key(merged[2])
            ):
                merged[2] = last
        for key in sorted(filled, key=lambda k: [sort_key(v) for v in k]):
            count, first, last = filled[key]
            row = dict(zip(by, key))
            row["count"] = count
            row["firstTime"] = first or ""
            row["lastTime"] = last or ""
            yield row


if __name__ == "__main__":
    dispatch(ScriptBlockHunt, sys.argv, sys.stdin, sys.stdout, __name__)
