"""Read a Splunk SCP v2 ("chunked") request stream into events.

This is the oracle's own reader, written from the protocol notes only
(chunk framing `chunked 1.0,<metadata bytes>,<body bytes>\\n`, JSON
metadata, a CSV body per execute chunk, `__mv_` multivalue twins). It does
not share code or design with the Rust implementation under test.

An event is a dict mapping a field name (bytes) to a non-empty list of
values (bytes). A field that is null (empty cell and empty `__mv_` cell) is
simply not in the dict.
"""

import gzip
import json
import re

import csvbytes

HEADER = re.compile(rb"chunked 1\.0,([0-9]+),([0-9]+)\n")


class StreamError(Exception):
    """The byte stream is not a well-formed SCP v2 request stream."""


def load_bytes(path):
    """Return the file's bytes, gunzipped in memory when it is gzip."""
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def chunks(data):
    """Yield (metadata dict, body bytes) for every chunk, strictly framed.

    Lengths are byte counts; nothing may sit between chunks.
    """
    pos = 0
    number = 0
    while pos < len(data):
        match = HEADER.match(data, pos)
        if match is None:
            raise StreamError(
                "chunk %d: no chunk header at byte %d: %r"
                % (number, pos, data[pos:pos + 30]))
        meta_len, body_len = int(match[1]), int(match[2])
        start = match.end()
        end = start + meta_len + body_len
        if end > len(data):
            raise StreamError(
                "chunk %d: declares %d+%d bytes, only %d left"
                % (number, meta_len, body_len, len(data) - start))
        metadata = json.loads(data[start:start + meta_len].decode("utf-8"))
        yield metadata, data[start + meta_len:end]
        pos = end
        number += 1


def decode_mv(cell):
    """Decode a `__mv_` cell `$v1$;$v2$` (`$$` is one literal `$`)."""
    items = []
    pos = 0
    while True:
        if pos >= len(cell) or cell[pos:pos + 1] != b"$":
            raise StreamError("bad __mv_ cell %r at %d" % (cell, pos))
        pos += 1
        item = bytearray()
        while True:
            if pos >= len(cell):
                raise StreamError("unterminated __mv_ item in %r" % cell)
            if cell[pos:pos + 2] == b"$$":
                item += b"$"
                pos += 2
            elif cell[pos:pos + 1] == b"$":
                pos += 1
                break
            else:
                item += cell[pos:pos + 1]
                pos += 1
        items.append(bytes(item))
        if pos == len(cell):
            return items
        if cell[pos:pos + 1] != b";":
            raise StreamError("expected ';' in %r at %d" % (cell, pos))
        pos += 1


def body_events(body):
    """Turn one execute chunk's CSV body into events."""
    records = csvbytes.parse(body)
    if not records:
        return []
    header = records[0]
    if len(set(header)) != len(header):
        raise StreamError("duplicate column in header %r" % header)
    index = {name: i for i, name in enumerate(header)}
    names = []
    for name in header:
        plain = name[5:] if name.startswith(b"__mv_") else name
        if plain not in names:
            names.append(plain)
    events = []
    for number, record in enumerate(records[1:], start=1):
        if len(record) > len(header):
            raise StreamError("record %d has %d cells, header has %d"
                              % (number, len(record), len(header)))
        record = record + [b""] * (len(header) - len(record))
        event = {}
        for name in names:
            mv_at = index.get(b"__mv_" + name)
            plain_at = index.get(name)
            mv_cell = record[mv_at] if mv_at is not None else b""
            plain_cell = record[plain_at] if plain_at is not None else b""
            if mv_cell != b"":
                # An empty item is no value: an empty cell is Splunk's null.
                items = [v for v in decode_mv(mv_cell) if v != b""]
                if items:
                    event[name] = items
            elif plain_cell != b"":
                event[name] = [plain_cell]
        events.append(event)
    return events


def stream_events(data):
    """All events of a request stream: skip getinfo, read each execute."""
    events = []
    counts = []
    for number, (metadata, body) in enumerate(chunks(data)):
        if number == 0:
            if metadata.get("action") != "getinfo":
                raise StreamError("first chunk is not getinfo")
            continue
        if metadata.get("action") != "execute":
            raise StreamError("chunk %d is not execute" % number)
        got = body_events(body)
        counts.append(len(got))
        events.extend(got)
    return events, counts
