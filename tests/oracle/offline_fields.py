"""Fields of one event, as the Splunk Add-on for Microsoft Windows would
give them, for every input format of `scriptblockhunt hunt`.

Written from the project's reference notes (semantics.md section 6, the
add-on's XmlWinEventLog transforms) and the mapping table in
docs/offline.md, without reading the Rust code. Python 3 standard library
only. Values are bytes; a field is a list of values (multivalue).

Formats:
- forwarder XmlWinEventLog text (one event),
- `evtx_dump -o xml --no-indent` records, first turned into forwarder text
  by re-serialising the parsed XML (see `forwarder_line`),
- JSON lines (OTRF, NXLog, Winlogbeat).
"""

import datetime
import json
import re
import xml.dom.minidom

POWERSHELL_SOURCES = [
    b"WinEventLog:Microsoft-Windows-PowerShell/Operational",
    b"XmlWinEventLog:Microsoft-Windows-PowerShell/Operational",
    b"WinEventLog:PowerShellCore/Operational",
    b"XmlWinEventLog:PowerShellCore/Operational",
]

# --- the add-on's search-time extraction on XmlWinEventLog text ----------

SYSTEM = re.compile(rb"(?s)<System(?:\s[^>]*)?>(.*?)</System>")
EVENTDATA = re.compile(rb"(?s)<EventData(?:\s[^>]*)?>(.*?)</EventData>")
# system_props_xml_kv: <tag>text</tag>, text without '<'.
ELEMENT = re.compile(rb"<(\w+)>([^<]*)</\1>")
# system_props_xml_attributes: whitespace, name, =, quoted value.
ATTRIBUTE = re.compile(rb"""\s([^\s=]+)\s*=\s*('[^<']*'|"[^<"]*")""")
# eventdata_xml_data: <Word Name='N'> then text up to the next '<'.
DATA = re.compile(rb"<\w+ Name='([^']+)'\s*/?>([^<]*)")
EVENTID_ANYWHERE = re.compile(rb"<EventID(?:\s[^>]*)?>(\d+)</EventID>")


class Fields:
    """Field name -> list of values; empty values are never kept
    (KEEP_EMPTY_VALS defaults to false)."""

    def __init__(self):
        self.values = {}

    def add(self, name, value):
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        if value:
            self.values.setdefault(name, []).append(value)

    def set(self, name, value):
        self.values.pop(name, None)
        self.add(name, value)

    def first(self, name):
        v = self.values.get(name)
        return v[0] if v else None

    def as_json(self):
        return {
            k: [x.decode("utf-8", "replace") for x in v]
            for k, v in sorted(self.values.items())
        }


def epoch_text(system_time):
    """SystemTime text -> epoch seconds text, fraction cut to six digits,
    trailing zeros dropped."""
    m = re.fullmatch(
        r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)",
        system_time,
    )
    if not m:
        return None
    zone = "+00:00" if m.group(3) == "Z" else m.group(3)
    whole = datetime.datetime.fromisoformat(m.group(1) + zone)
    seconds = int(whole.timestamp())
    fraction = (m.group(2) or "")[:6].rstrip("0")
    return f"{seconds}.{fraction}" if fraction else str(seconds)


def derive(f):
    """Aliases and calculated fields of the add-on (semantics 6.1-6.3)."""
    code = f.first("EventID")
    if code is not None:
        f.set("EventCode", code)
        f.set("signature_id", code)
    for user in f.values.get("UserID", []):
        f.add("user_id", user)
    f.set("vendor_product", b"Microsoft Windows")
    channel = f.first("Channel")
    if channel is not None:
        f.set("source", b"XmlWinEventLog:" + channel)
    f.set("sourcetype", b"XmlWinEventLog")
    source = f.first("source") or b""
    if source.lower() == POWERSHELL_SOURCES[1].lower():
        if f.first("Computer") is not None:
            f.set("dest", f.first("Computer"))
        sig = {
            b"4104": b"Microsoft-Windows-PowerShell Execute a Remote Command",
            b"4103": b"Microsoft-Windows-PowerShell Executing Pipeline",
        }.get(f.first("EventCode"))
        if sig:
            f.set("signature", sig)


def from_xml(raw):
    """Fields of one forwarder XmlWinEventLog event (bytes)."""
    f = Fields()
    for block in SYSTEM.findall(raw):
        for tag, text in ELEMENT.findall(block):
            f.add(tag, text)
        for name, quoted in ATTRIBUTE.findall(block):
            f.add(name, quoted[1:-1])
    if "EventID" not in f.values:
        m = EVENTID_ANYWHERE.search(raw)
        if m:
            f.add("EventID", m.group(1))
    for block in EVENTDATA.findall(raw):
        for name, text in DATA.findall(block):
            f.add(name, text)
    st = f.first("SystemTime")
    if st is not None:
        t = epoch_text(st.decode())
        if t:
            f.set("_time", t.encode())
    derive(f)
    return f


def is_script_block(f):
    source = (f.first("source") or b"").lower()
    return f.first("EventCode") == b"4104" and any(
        source == s.lower() for s in POWERSHELL_SOURCES
    )


def xml_events(text):
    """Events of an XmlWinEventLog text: <Event ...>...</Event>."""
    return re.findall(rb"(?s)<Event[\s>].*?</Event>", text)


# --- evtx_dump output -> forwarder text ----------------------------------

RECORD_HEAD = re.compile(
    rb'^Record (\d+)\r?\n<\?xml version="1.0" encoding="utf-8"\?>\r?\n',
    re.M,
)


def evtx_dump_records(text):
    """(record number, XML) pairs of `evtx_dump -o xml --no-indent`."""
    heads = list(RECORD_HEAD.finditer(text))
    out = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        out.append((int(m.group(1)), text[m.end():end].rstrip(b"\r\n")))
    return out


def escape_text(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attribute(s):
    return escape_text(s).replace("'", "&apos;").replace('"', "&quot;")


def forwarder_line(record_xml):
    """The XML of one evtx_dump record as a forwarder writes it: parsed,
    then written again with attributes in single quotes, text escaped
    as Windows does (& < > only), no declaration. Carriage returns are
    turned into character references first so that the XML parser keeps
    them (it would normalise a literal CR to LF)."""
    protected = record_xml.replace(b"\r", b"&#13;")
    doc = xml.dom.minidom.parseString(protected)
    return write_node(doc.documentElement).encode("utf-8")


def write_node(node):
    if node.nodeType == node.TEXT_NODE:
        return escape_text(node.data)
    if node.nodeType != node.ELEMENT_NODE:
        return ""
    attrs = "".join(
        f" {a.name}='{escape_attribute(a.value)}'"
        for a in (node.attributes.item(i)
                  for i in range(node.attributes.length))
    )
    inner = "".join(write_node(c) for c in node.childNodes)
    if not node.childNodes:
        return f"<{node.tagName}{attrs}/>"
    return f"<{node.tagName}{attrs}>{inner}</{node.tagName}>"


# --- JSON lines (mapping table of docs/offline.md) ----------------------

FLAT = [
    ("Computer", ["Hostname", "HostName"]),
    ("Name", ["SourceName"]),
    ("Guid", ["ProviderGuid"]),
    ("EventID", ["EventID"]),
    ("Version", ["Version"]),
    ("Level", ["Level"]),
    ("Task", ["TaskValue", "Task"]),
    ("Opcode", ["OpcodeValue"]),
    ("Keywords", ["Keywords"]),
    ("EventRecordID", ["RecordNumber"]),
    ("ActivityID", ["ActivityID"]),
    ("RelatedActivityID", ["RelatedActivityID"]),
    ("ProcessID", ["ExecutionProcessID", "ProcessID"]),
    ("ThreadID", ["ExecutionThreadID", "ThreadID"]),
    ("Channel", ["Channel"]),
    ("UserID", ["UserID"]),
    ("SystemTime", ["TimeCreated", "EventTime", "@timestamp"]),
]
FLAT_DROPPED = {
    "Message", "Opcode", "Category", "Severity", "SeverityValue",
    "EventType", "EventReceivedTime", "SourceModuleName",
    "SourceModuleType", "AccountName", "AccountType", "Domain",
    "@version", "host", "port", "tags", "type",
}
WINLOGBEAT = [
    ("Computer", ["winlog.computer_name"]),
    ("Name", ["winlog.provider_name"]),
    ("Guid", ["winlog.provider_guid"]),
    ("EventID", ["winlog.event_id", "event.code"]),
    ("Version", ["winlog.version"]),
    ("Task", ["winlog.task"]),
    ("Opcode", ["winlog.opcode"]),
    ("EventRecordID", ["winlog.record_id"]),
    ("ActivityID", ["winlog.activity_id"]),
    ("RelatedActivityID", ["winlog.related_activity_id"]),
    ("ProcessID", ["winlog.process.pid"]),
    ("ThreadID", ["winlog.process.thread.id"]),
    ("Channel", ["winlog.channel"]),
    ("UserID", ["winlog.user.identifier"]),
    ("SystemTime", ["@timestamp"]),
]


def json_texts(name, value):
    """The XmlWinEventLog values a JSON value stands for."""
    if value is None or isinstance(value, dict):
        return []
    if isinstance(value, list):
        return [t for v in value if not isinstance(v, list)
                for t in json_texts(name, v)]
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int) and name == "Keywords":
        text = "0x%x" % (value & 0xFFFFFFFFFFFFFFFF)
    elif isinstance(value, (int, float)):
        text = json.dumps(value)
    else:
        text = value
        if name == "Keywords" and re.fullmatch(r"-?\d+", text):
            text = "0x%x" % (int(text) & 0xFFFFFFFFFFFFFFFF)
    return [escape_text(text).encode("utf-8")] if text != "" else []


def lookup(obj, path):
    if path in obj:
        return obj[path]
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def first_present(obj, keys):
    for k in keys:
        v = lookup(obj, k)
        if v is None or v == "":
            continue
        return v
    return None


def iso_epoch(text):
    """OTRF/Winlogbeat times: ISO 8601 with Z or an offset."""
    m = re.fullmatch(
        r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,](\d+))?"
        r"(Z|[+-]\d\d:?\d\d)",
        text,
    )
    if not m:
        return None
    zone = m.group(4)
    if zone == "Z":
        zone = "+00:00"
    elif ":" not in zone:
        zone = zone[:3] + ":" + zone[3:]
    dt = datetime.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}{zone}")
    fraction = (m.group(3) or "")[:6].rstrip("0")
    seconds = int(dt.timestamp())
    return f"{seconds}.{fraction}" if fraction else str(seconds)


def from_json(obj):
    """Fields of one JSON object (OTRF/NXLog flat keys, or Winlogbeat)."""
    f = Fields()
    if isinstance(obj.get("winlog"), dict):
        for field, keys in WINLOGBEAT:
            v = first_present(obj, keys)
            for t in json_texts(field, v):
                f.add(field, t)
        for block in ("event_data", "user_data"):
            items = obj["winlog"].get(block)
            if isinstance(items, dict):
                for k, v in items.items():
                    for t in json_texts(k, v):
                        f.add(k, t)
    else:
        mapped = {k for _, keys in FLAT for k in keys}
        for field, keys in FLAT:
            v = first_present(obj, keys)
            for t in json_texts(field, v):
                f.add(field, t)
        for k, v in obj.items():
            if k not in mapped and k not in FLAT_DROPPED:
                for t in json_texts(k, v):
                    f.add(k, t)
    st = f.first("SystemTime")
    if st is not None:
        t = iso_epoch(st.decode())
        if t:
            f.set("_time", t.encode())
    derive(f)
    return f
