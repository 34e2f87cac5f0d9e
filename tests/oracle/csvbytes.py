"""A byte-level CSV reader and writer for the oracle.

Reader: `,` delimiter, `"` quotes with doubled quotes inside, raw newlines
inside quoted values, records ending in `\\n` or `\\r\\n` (the last one may
lack a terminator). Cells stay bytes, invalid UTF-8 included.

Writer: the output rule of the expected files: a cell is quoted (with `"`
doubled) iff it contains `,` `"` `\\r` or `\\n`, or begins or ends with a
space or tab; every line ends with `\\n`.
"""


class CsvError(Exception):
    """The body is not CSV in the dialect above."""


def parse(data):
    """Return the list of records (lists of bytes cells) in `data`."""
    records = []
    record = []
    pos = 0
    size = len(data)
    if size == 0:
        return records
    while True:
        # At the start of a cell.
        if data[pos:pos + 1] == b'"':
            pos += 1
            cell = bytearray()
            while True:
                end = data.find(b'"', pos)
                if end < 0:
                    raise CsvError("unterminated quoted cell at %d" % pos)
                cell += data[pos:end]
                if data[end + 1:end + 2] == b'"':
                    cell += b'"'
                    pos = end + 2
                else:
                    pos = end + 1
                    break
            cell = bytes(cell)
        else:
            start = pos
            while pos < size and data[pos:pos + 1] not in (b",", b"\n"):
                if data[pos:pos + 2] == b"\r\n":
                    break
                pos += 1
            cell = data[start:pos]
        record.append(cell)
        # After a cell: delimiter, terminator or end of data.
        if pos >= size:
            records.append(record)
            return records
        if data[pos:pos + 1] == b",":
            pos += 1
            if pos >= size:
                record.append(b"")
                records.append(record)
                return records
            continue
        if data[pos:pos + 1] == b"\n":
            pos += 1
        elif data[pos:pos + 2] == b"\r\n":
            pos += 2
        else:
            raise CsvError("junk after quoted cell at %d: %r"
                           % (pos, data[pos:pos + 10]))
        records.append(record)
        record = []
        if pos >= size:
            return records


def needs_quotes(cell):
    """True when the writer must quote `cell`."""
    if any(ch in cell for ch in (b",", b'"', b"\r", b"\n")):
        return True
    if cell[:1] in (b" ", b"\t") or cell[-1:] in (b" ", b"\t"):
        return True
    return False


def format_cell(cell):
    """One output cell, quoted when needed."""
    if needs_quotes(cell):
        return b'"' + cell.replace(b'"', b'""') + b'"'
    return cell


def format_rows(header, rows):
    """The whole output: header line, then one line per row, `\\n` ends."""
    out = bytearray()
    for row in [header] + rows:
        out += b",".join(format_cell(cell) for cell in row) + b"\n"
    return bytes(out)
