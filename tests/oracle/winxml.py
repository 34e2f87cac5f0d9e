"""Field extraction of XmlWinEventLog events, as Splunk_TA_windows does it.

The regular expressions are the add-on's search-time transforms
(Splunk_TA_windows 8.4.0 default/transforms.conf: system_xml_block,
system_props_xml_kv, system_props_xml_attributes, eventdata_xml_block,
eventdata_xml_data, EventID_as_EventCode, EventID2_as_EventCode), plus the
TA >= 9 PowerShell source stanza (Computer_as_dest, EVAL-signature) and the
generic aliases/evals (user_id, signature_id, vendor_product). Values are
bytes exactly as they stand in the raw text: no entity decoding. Attribute
values lose their surrounding quotes. Empty values are dropped
(KEEP_EMPTY_VALS defaults to false).
"""

import calendar
import re

SYSTEM_BLOCK = re.compile(rb"(?ms)<System(?:\s+[^>]+)?>(.*?)</System>")
SYSTEM_KV = re.compile(rb"(?ms)<(\w*)>([^<]*)</\1>")
SYSTEM_ATTR = re.compile(rb"(?ms)\s([^\s=]+)\s*=\s*('[^<']*'|\"[^<\"]*\")")
EVENTDATA_BLOCK = re.compile(rb"(?ms)<EventData(?:\s+[^>]+)?>(.*?)</EventData>")
EVENTDATA_KV = re.compile(rb"<(?:\w+)\sName='([^>]*)'/?>([^<]*)")
EVENTID_RAW = re.compile(rb"<EventID.*?>(.+?)</EventID>")
COMPUTER_RAW = re.compile(rb"<Computer>([^<]+)</Computer>")
SYSTEM_TIME = re.compile(
    rb"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    rb"(?:\.([0-9]+))?Z")

POWERSHELL_SOURCE = b"xmlwineventlog:microsoft-windows-powershell/operational"
BASE_SOURCES = {
    b"wineventlog:microsoft-windows-powershell/operational",
    b"xmlwineventlog:microsoft-windows-powershell/operational",
    b"wineventlog:powershellcore/operational",
    b"xmlwineventlog:powershellcore/operational",
}


def add(event, name, value):
    """MV_ADD = 1: append a non-empty value to the field."""
    if value != b"":
        event.setdefault(name, []).append(value)


def epoch_text(system_time):
    """SystemTime (UTC) as epoch text: seconds, then up to 6 fraction
    digits, truncated, trailing zeros removed."""
    match = SYSTEM_TIME.fullmatch(system_time)
    if match is None:
        raise ValueError("unexpected SystemTime %r" % system_time)
    fields = [int(match[i]) for i in range(1, 7)]
    seconds = calendar.timegm(tuple(fields) + (0, 0, 0))
    fraction = (match[7] or b"")[:6].rstrip(b"0")
    text = str(seconds).encode()
    return text + b"." + fraction if fraction else text


def extract(raw):
    """All fields of one raw event (bytes, one `<Event>` element)."""
    event = {}
    system = SYSTEM_BLOCK.search(raw)
    if system:
        block = system[1]
        for match in SYSTEM_KV.finditer(block):
            add(event, match[1], match[2])
        for match in SYSTEM_ATTR.finditer(block):
            add(event, match[1], match[2][1:-1])
    for data in EVENTDATA_BLOCK.finditer(raw):
        for match in EVENTDATA_KV.finditer(data[1]):
            add(event, match[1], match[2])

    # EventCode: first EventID value, else the raw <EventID ...> text.
    if b"EventID" in event:
        event[b"EventCode"] = [event[b"EventID"][0]]
    else:
        match = EVENTID_RAW.search(raw)
        if match:
            event[b"EventCode"] = [match[1]]
    if b"Channel" in event:
        event[b"source"] = [b"XmlWinEventLog:" + event[b"Channel"][0]]
    event[b"sourcetype"] = [b"XmlWinEventLog"]
    if b"UserID" in event:
        event[b"user_id"] = list(event[b"UserID"])
    if b"EventCode" in event:
        event[b"signature_id"] = list(event[b"EventCode"])
    event[b"vendor_product"] = [b"Microsoft Windows"]
    if b"source" in event and event[b"source"][0].lower() == POWERSHELL_SOURCE:
        match = COMPUTER_RAW.search(raw)
        if match:
            event[b"dest"] = [match[1]]
        code = event.get(b"EventCode", [b""])[0]
        if code == b"4104":
            event[b"signature"] = [
                b"Microsoft-Windows-PowerShell Execute a Remote Command"]
        elif code == b"4103":
            event[b"signature"] = [
                b"Microsoft-Windows-PowerShell Executing Pipeline"]
    if b"SystemTime" in event:
        event[b"_time"] = [epoch_text(event[b"SystemTime"][0])]
    return event


def passes_base_search(event):
    """`powershell` macro source list and EventCode=4104."""
    source = event.get(b"source", [b""])[0].lower()
    return (event.get(b"EventCode", [b""])[0] == b"4104"
            and source in BASE_SOURCES)


def read_events(paths):
    """Raw events of the given files, one `<Event>` a line, in file order."""
    raws = []
    for path in paths:
        with open(path, "rb") as handle:
            for line in handle.read().split(b"\n"):
                line = line[:-1] if line.endswith(b"\r") else line
                if line.strip():
                    raws.append(line)
    return raws
