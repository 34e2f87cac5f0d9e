"""The search this project re-implements, evaluated the slow, obvious way.

    (<field> = "<pattern>" OR ...) | fillnull value=<value>
    | stats count min(_time) as firstTime max(_time) as lastTime BY <by...>

Events are dicts {field name bytes: [value bytes, ...]} with null fields
absent. Every rule here is the one written in the task brief (see
tests/README.md); nothing is taken from the Rust code.
"""

import itertools
import re
import time

import csvbytes

DEFAULT_PATTERN = "*Get-NetTcpconnection*"
DEFAULT_FIELD = "ScriptBlockText"
DEFAULT_BY = ("dest signature signature_id user_id vendor_product EventID "
              "Guid Opcode Name Path ProcessID ScriptBlockId "
              "ScriptBlockText").split()
DEFAULT_VALUE = "0"

NUMBER = re.compile(rb"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


class Options:
    """Parsed `key=value` options: pattern (repeatable), field, by, value."""

    def __init__(self, patterns, field, by, value):
        self.patterns = patterns
        self.field = field
        self.by = by
        self.value = value

    def describe(self):
        """The `options:` line used in tests/expected/README.md."""
        parts = ["field=" + self.field, "by=" + ",".join(self.by)]
        parts += ["pattern=" + p for p in self.patterns]
        if self.value != DEFAULT_VALUE:
            parts.append("value=" + self.value)
        return "options: " + " ".join(parts)


def parse_options(args):
    """Parse `pattern=`, `field=`, `by=` (commas or spaces) and `value=`."""
    patterns = []
    field = None
    by = None
    value = None
    for arg in args:
        key, sep, val = arg.partition("=")
        if not sep:
            raise SystemExit("option without '=': %r" % arg)
        if key == "pattern":
            patterns.append(val)
        elif key == "field" and field is None:
            field = val
        elif key == "by" and by is None:
            by = [name for name in re.split(r"[,\s]+", val) if name]
        elif key == "value" and value is None:
            value = val
        else:
            raise SystemExit("unknown or repeated option: %r" % arg)
    return Options(patterns or [DEFAULT_PATTERN],
                   field or DEFAULT_FIELD,
                   by or list(DEFAULT_BY),
                   DEFAULT_VALUE if value is None else value)


def to_bytes(text):
    """Command-line text to bytes (UTF-8, undecodable bytes kept)."""
    return text.encode("utf-8", "surrogateescape")


def compile_pattern(pattern):
    """A predicate: does a whole value match the wildcard pattern?

    `*` is any run of bytes (newlines too); everything else is literal;
    only ASCII letters fold case (bytes.lower folds A-Z only).
    """
    pieces = to_bytes(pattern).lower().split(b"*")
    regex = re.compile(b".*".join(re.escape(p) for p in pieces), re.DOTALL)
    return lambda value: regex.fullmatch(value.lower()) is not None


def order_key(value):
    """The total order: numbers (by float, then bytes) before non-numbers
    (by bytes)."""
    if NUMBER.fullmatch(value):
        return (0, float(value), value)
    return (1, value)


def matching(events, options):
    """Events whose `field` has a value matching one of the patterns."""
    tests = [compile_pattern(p) for p in options.patterns]
    field = to_bytes(options.field)
    return [event for event in events
            if any(test(value) for value in event.get(field, ())
                   for test in tests)]


def stats(events, options):
    """fillnull then stats over already-matched events.

    Returns rows [by values..., count, firstTime, lastTime] sorted by the
    BY tuple; firstTime/lastTime are the original `_time` texts (b"" when
    the group has none).
    """
    by = [to_bytes(name) for name in options.by]
    fill = to_bytes(options.value)
    present = {name for name in by if any(name in e for e in events)}

    groups = {}
    for event in events:
        columns = []
        for name in by:
            if name in event:
                columns.append(event[name])
            elif name in present:
                columns.append([fill])
            else:
                columns = None
                break
        if columns is None:
            continue
        times = [t for t in event.get(b"_time", ()) if t != b""]
        for key in itertools.product(*columns):
            group = groups.setdefault(key, [0, None, None])
            group[0] += 1
            for t in times:
                if group[1] is None or order_key(t) < order_key(group[1]):
                    group[1] = t
                if group[2] is None or order_key(t) > order_key(group[2]):
                    group[2] = t

    rows = []
    for key in sorted(groups, key=lambda k: [order_key(v) for v in k]):
        count, first, last = groups[key]
        rows.append(list(key) + [str(count).encode(),
                                 first or b"", last or b""])
    return rows


def header(options):
    """The output header: BY fields, count, firstTime, lastTime."""
    return ([to_bytes(name) for name in options.by]
            + [b"count", b"firstTime", b"lastTime"])


def ctime(value):
    """convert timeformat="%Y-%m-%dT%H:%M:%S" ctime(): UTC, fraction
    truncated; empty stays empty."""
    if value == b"":
        return b""
    if not NUMBER.fullmatch(value):
        raise ValueError("ctime of a non-number %r" % value)
    seconds = int(value.split(b".")[0]) if b"e" not in value.lower() \
        else int(float(value))
    if value.startswith(b"-") and b"." in value:
        raise ValueError("negative fractional time not expected: %r" % value)
    return time.strftime("%Y-%m-%dT%H:%M:%S",
                         time.gmtime(seconds)).encode()


def render(rows, options, hunt=False):
    """Output CSV bytes; `hunt` applies ctime to firstTime/lastTime."""
    if hunt:
        rows = [row[:-2] + [ctime(row[-2]), ctime(row[-1])] for row in rows]
    return csvbytes.format_rows(header(options), rows)


def run(events, options, hunt=False):
    """The whole pipeline: match, fillnull, stats, render."""
    return render(stats(matching(events, options), options), options, hunt)
