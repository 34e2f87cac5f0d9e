//! JSON lines written by Winlogbeat, NXLog or the OTRF Security-Datasets,
//! made into the fields the add-on extracts from XmlWinEventLog text.
//!
//! A line whose object has a `winlog` object is Winlogbeat (ECS layout,
//! 7.x and 8.x); any other object is read with the flat key set that NXLog's
//! `im_msvistalog` writes and that the OTRF datasets keep (`Hostname`,
//! `SourceName`, `EventID`, ..., with the `EventData` items as top-level
//! keys). The tables [`FLAT`] and [`WINLOGBEAT`] give the mapping; the
//! project's docs (docs/offline.md) say where each entry comes from.
//!
//! Values become what the XmlWinEventLog text would hold:
//! - null, an empty string, or a missing key: no field (the add-on keeps
//!   no empty values);
//! - a number: its decimal text (`4104`), except `Keywords`, which Windows
//!   writes in hexadecimal (`0x8000000000000000`);
//! - `true`/`false`: that word; an array: one value per element
//!   (multivalue); an object: nothing;
//! - `&`, `<` and `>` become `&amp;`, `&lt;`, `&gt;`, because the
//!   forwarder's text is entity-escaped and the add-on does not decode
//!   entities: a JSON `ScriptBlockText` then gives the very value the
//!   XmlWinEventLog text of the same event gives.
//!
//! `Message` (the rendered message text) is not mapped: it would come from
//! `RenderingInfo`, which the forwarder's text of the corpus does not carry,
//! and with it `Opcode`, `Task` and `Level` would become multivalue.

use std::io::{self, BufRead};

use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use crate::eventtime;
use crate::sources::{Place, Sink};
use crate::winevent::WinEvent;

/// NXLog / OTRF keys: each add-on field and the keys that give it, the
/// first present one winning.
pub const FLAT: &[(&str, &[&str])] = &[
    ("Computer", &["Hostname", "HostName"]),
    ("Name", &["SourceName"]),
    ("Guid", &["ProviderGuid"]),
    ("EventID", &["EventID"]),
    ("Version", &["Version"]),
    ("Level", &["Level"]),
    ("Task", &["TaskValue", "Task"]),
    ("Opcode", &["OpcodeValue"]),
    ("Keywords", &["Keywords"]),
    ("EventRecordID", &["RecordNumber"]),
    ("ActivityID", &["ActivityID"]),
    ("RelatedActivityID", &["RelatedActivityID"]),
    ("ProcessID", &["ExecutionProcessID", "ProcessID"]),
    ("ThreadID", &["ExecutionThreadID", "ThreadID"]),
    ("Channel", &["Channel"]),
    ("UserID", &["UserID"]),
    ("SystemTime", &["TimeCreated", "EventTime", "@timestamp"]),
];

/// NXLog / OTRF keys that describe the collection, not the event, or
/// that repeat other keys in rendered form; they are dropped. Every other
/// key is an `EventData` item and keeps its name.
pub const FLAT_DROPPED: &[&str] = &[
    "Message",
    "Opcode",
    "Category",
    "Severity",
    "SeverityValue",
    "EventType",
    "EventReceivedTime",
    "SourceModuleName",
    "SourceModuleType",
    "AccountName",
    "AccountType",
    "Domain",
    "@version",
    "host",
    "port",
    "tags",
    "type",
];

/// Winlogbeat keys (dotted paths into the object): each add-on field and
/// the paths that give it. `winlog.event_data.*` and `winlog.user_data.*`
/// items keep their names.
pub const WINLOGBEAT: &[(&str, &[&str])] = &[
    ("Computer", &["winlog.computer_name"]),
    ("Name", &["winlog.provider_name"]),
    ("Guid", &["winlog.provider_guid"]),
    ("EventID", &["winlog.event_id", "event.code"]),
    ("Version", &["winlog.version"]),
    ("Task", &["winlog.task"]),
    ("Opcode", &["winlog.opcode"]),
    ("EventRecordID", &["winlog.record_id"]),
    ("ActivityID", &["winlog.activity_id"]),
    ("RelatedActivityID", &["winlog.related_activity_id"]),
    ("ProcessID", &["winlog.process.pid"]),
    ("ThreadID", &["winlog.process.thread.id"]),
    ("Channel", &["winlog.channel"]),
    ("UserID", &["winlog.user.identifier"]),
    ("SystemTime", &["@timestamp"]),
];

/// Reads JSON lines into `sink`, one event a line. Blank lines are passed
/// over; a line that is not a JSON object is reported and skipped.
pub fn read<R: BufRead, S: Sink>(
    mut input: R,
    tz: &TimeZone,
    sink: &mut S,
) -> io::Result<()> {
    let mut line = Vec::new();
    let mut number = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        number += 1;
        let text = line.trim_ascii();
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<Value>(text) {
            Ok(Value::Object(object)) => {
                sink.event(event(&object, tz), Place::Line(number))
            }
            Ok(_) => sink.skip(Place::Line(number), "not a JSON object"),
            Err(e) => {
                sink.skip(Place::Line(number), &format!("not JSON ({e})"))
            }
        }
    }
}

/// The event one JSON object describes. `tz` is the zone of a time
/// written without one.
pub fn event(object: &Map<String, Value>, tz: &TimeZone) -> WinEvent {
    let mut event = WinEvent::default();
    match object.get("winlog") {
        Some(Value::Object(winlog)) => winlogbeat(object, winlog, &mut event),
        _ => flat(object, &mut event),
    }
    let time = event.first("SystemTime").map(<[u8]>::to_vec);
    if let Some(time) = time.and_then(|t| String::from_utf8(t).ok()) {
        if let Some(epoch) = eventtime::epoch(&unescape(&time), tz) {
            event.set("_time", epoch.as_bytes());
        }
    }
    event.derive();
    event
}

/// Fills `event` from an NXLog / OTRF object.
fn flat(object: &Map<String, Value>, event: &mut WinEvent) {
    for (field, keys) in FLAT {
        if let Some(value) = keys.iter().find_map(|k| present(object.get(*k)))
        {
            add(event, field, value);
        }
    }
    for (key, value) in object {
        let mapped = FLAT.iter().any(|(_, keys)| keys.contains(&key.as_str()));
        if !mapped && !FLAT_DROPPED.contains(&key.as_str()) {
            add(event, key, value);
        }
    }
}

/// Fills `event` from a Winlogbeat object.
fn winlogbeat(
    object: &Map<String, Value>,
    winlog: &Map<String, Value>,
    event: &mut WinEvent,
) {
    for (field, paths) in WINLOGBEAT {
        if let Some(value) =
            paths.iter().find_map(|p| present(lookup(object, p)))
        {
            add(event, field, value);
        }
    }
    for block in ["event_data", "user_data"] {
        if let Some(Value::Object(items)) = winlog.get(block) {
            for (key, value) in items {
                add(event, key, value);
            }
        }
    }
}

/// The value at a dotted `path`: nested objects, or a key that is the
/// whole dotted path (some pipelines flatten the names).
fn lookup<'a>(
    object: &'a Map<String, Value>,
    path: &str,
) -> Option<&'a Value> {
    if let Some(value) = object.get(path) {
        return Some(value);
    }
    let mut parts = path.split('.');
    let mut value = object.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// `value` unless it is missing, null or an empty string.
fn present(value: Option<&Value>) -> Option<&Value> {
    match value? {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        v => Some(v),
    }
}

/// Adds the values of a JSON value to `field`, in XmlWinEventLog form.
fn add(event: &mut WinEvent, field: &str, value: &Value) {
    match value {
        Value::Null | Value::Object(_) => {}
        Value::Array(items) => {
            for item in items {
                if !item.is_array() {
                    add(event, field, item);
                }
            }
        }
        Value::Number(n) if field == "Keywords" => {
            event.add(field, keywords(&n.to_string()).as_bytes())
        }
        Value::String(s) if field == "Keywords" => {
            event.add(field, escape(&keywords(s)).as_bytes())
        }
        Value::Number(n) => event.add(field, n.to_string().as_bytes()),
        Value::Bool(b) => event.add(field, b.to_string().as_bytes()),
        Value::String(s) => event.add(field, escape(s).as_bytes()),
    }
}

/// `Keywords` as Windows writes them: a decimal (NXLog writes the 64-bit
/// mask as a signed decimal) becomes `0x` and lower-case hexadecimal;
/// anything else is kept.
fn keywords(text: &str) -> String {
    if let Ok(signed) = text.parse::<i64>() {
        return format!("0x{:x}", signed as u64);
    }
    if let Ok(unsigned) = text.parse::<u64>() {
        return format!("0x{unsigned:x}");
    }
    text.to_string()
}

/// Escapes `&`, `<` and `>` as the forwarder's XML text does.
pub fn escape(text: &str) -> String {
    if !text.contains(['&', '<', '>']) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// Undoes [`escape`], for reading a time back.
fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> WinEvent {
        let Value::Object(object) = serde_json::from_str(line).unwrap() else {
            panic!("not an object");
        };
        event(&object, &TimeZone::get("Europe/Berlin").unwrap())
    }

    /// The values of `name`, joined by `|` (see `WinEvent::joined`).
    fn get(event: &WinEvent, name: &str) -> Option<String> {
        event.joined(name)
    }

    #[test]
    fn otrf_line() {
        let e = parse(
            r#"{"SourceName":"Microsoft-Windows-PowerShell","ProviderGuid":"{a0c1853b-5c40-4b15-8766-3cf1c58f985a}","Level":"5","Keywords":"0x0","Channel":"Microsoft-Windows-PowerShell/Operational","Hostname":"DC01.pandalab.com","TimeCreated":"2023-07-19T05:32:49.048Z","@timestamp":"2023-07-19T05:32:49.048Z","EventID":4104,"Message":"Creating Scriptblock text (1 of 1):\r\nprompt","Task":"2","MessageNumber":"1","MessageTotal":"1","ScriptBlockText":"if ($a -lt 1 && $b) { 'x' > \"y\" }","ScriptBlockId":"81b7c74d-2ded-4cc1-b971-e0484597d467","Path":null}"#,
        );
        let want = [
            ("dest", "DC01.pandalab.com"),
            ("Computer", "DC01.pandalab.com"),
            (
                "signature",
                "Microsoft-Windows-PowerShell Execute a Remote Command",
            ),
            ("signature_id", "4104"),
            ("vendor_product", "Microsoft Windows"),
            ("EventID", "4104"),
            ("EventCode", "4104"),
            ("Guid", "{a0c1853b-5c40-4b15-8766-3cf1c58f985a}"),
            ("Name", "Microsoft-Windows-PowerShell"),
            ("Task", "2"),
            ("Level", "5"),
            ("Keywords", "0x0"),
            (
                "source",
                "XmlWinEventLog:Microsoft-Windows-PowerShell/Operational",
            ),
            ("ScriptBlockId", "81b7c74d-2ded-4cc1-b971-e0484597d467"),
            (
                "ScriptBlockText",
                "if ($a -lt 1 &amp;&amp; $b) { 'x' &gt; \"y\" }",
            ),
            ("SystemTime", "2023-07-19T05:32:49.048Z"),
            ("_time", "1689744769.048"),
        ];
        for (name, value) in want {
            assert_eq!(get(&e, name).as_deref(), Some(value), "{name}");
        }
        for absent in ["Path", "user_id", "UserID", "Opcode", "ProcessID"] {
            assert_eq!(get(&e, absent), None, "{absent}");
        }
        assert_eq!(get(&e, "Message"), None);
        assert_eq!(get(&e, "@timestamp"), None);
        assert!(e.is_script_block());
    }

    #[test]
    fn nxlog_line() {
        let e = parse(
            r#"{"EventTime":"2023-07-19 07:32:49","Hostname":"WS1.corp","Keywords":-9223372036854775808,"EventType":"VERBOSE","SeverityValue":1,"Severity":"DEBUG","EventID":4104,"SourceName":"Microsoft-Windows-PowerShell","ProviderGuid":"{A0C1853B-5C40-4B15-8766-3CF1C58F985A}","Version":1,"Task":2,"OpcodeValue":15,"RecordNumber":1201,"ActivityID":"{1F2E3D4C-0000-0001-A1B2-C3D4E5F60708}","ExecutionProcessID":5336,"ExecutionThreadID":2228,"Channel":"Microsoft-Windows-PowerShell/Operational","Domain":"CORP","AccountName":"admin","UserID":"S-1-5-21-1-2-3-500","AccountType":"User","Message":"Creating Scriptblock text","Category":"Execute a Remote Command","Opcode":"On create calls","MessageNumber":"1","MessageTotal":"1","ScriptBlockText":"Get-NetTCPConnection","ScriptBlockId":"0be6ea7f-ff36-4527-af0d-5125b95be731","Path":"","EventReceivedTime":"2023-07-19 07:32:50","SourceModuleName":"eventlog","SourceModuleType":"im_msvistalog"}"#,
        );
        let want = [
            ("Computer", "WS1.corp"),
            ("Keywords", "0x8000000000000000"),
            ("Version", "1"),
            ("Task", "2"),
            ("Opcode", "15"),
            ("EventRecordID", "1201"),
            ("ProcessID", "5336"),
            ("ThreadID", "2228"),
            ("UserID", "S-1-5-21-1-2-3-500"),
            ("user_id", "S-1-5-21-1-2-3-500"),
            ("ActivityID", "{1F2E3D4C-0000-0001-A1B2-C3D4E5F60708}"),
            // 07:32:49 in Berlin (UTC+2) is 05:32:49 UTC.
            ("_time", "1689744769"),
        ];
        for (name, value) in want {
            assert_eq!(get(&e, name).as_deref(), Some(value), "{name}");
        }
        for absent in ["Path", "Domain", "Category", "Severity", "Message"] {
            assert_eq!(get(&e, absent), None, "{absent}");
        }
    }

    #[test]
    fn winlogbeat_line() {
        let e = parse(
            r#"{"@timestamp":"2023-07-19T05:32:49.048Z","event":{"code":"4104","kind":"event"},"host":{"name":"collector"},"winlog":{"channel":"Microsoft-Windows-PowerShell/Operational","computer_name":"WS1.corp","event_id":"4104","provider_name":"Microsoft-Windows-PowerShell","provider_guid":"{a0c1853b-5c40-4b15-8766-3cf1c58f985a}","opcode":"On create calls","task":"Execute a Remote Command","record_id":55432,"process":{"pid":6328,"thread":{"id":7204}},"user":{"identifier":"S-1-5-21-1-2-3-1105","name":"bob","type":"User"},"event_data":{"MessageNumber":"1","MessageTotal":"1","ScriptBlockText":"a < b","ScriptBlockId":"x-1","Path":""}}}"#,
        );
        let want = [
            ("dest", "WS1.corp"),
            ("EventID", "4104"),
            ("Guid", "{a0c1853b-5c40-4b15-8766-3cf1c58f985a}"),
            ("Opcode", "On create calls"),
            ("Task", "Execute a Remote Command"),
            ("EventRecordID", "55432"),
            ("ProcessID", "6328"),
            ("ThreadID", "7204"),
            ("user_id", "S-1-5-21-1-2-3-1105"),
            ("ScriptBlockText", "a &lt; b"),
            ("ScriptBlockId", "x-1"),
            ("_time", "1689744769.048"),
        ];
        for (name, value) in want {
            assert_eq!(get(&e, name).as_deref(), Some(value), "{name}");
        }
        assert_eq!(get(&e, "Path"), None);
        assert_eq!(get(&e, "host"), None);
        assert!(e.is_script_block());
    }

    #[test]
    fn arrays_are_multivalue_and_numbers_decimal() {
        let e = parse(r#"{"EventID":4104,"Tags":["a","",null,2,true]}"#);
        assert_eq!(get(&e, "Tags").as_deref(), Some("a|2|true"));
        let e = parse(r#"{"EventID":4104.5}"#);
        assert_eq!(get(&e, "EventID").as_deref(), Some("4104.5"));
    }

    #[test]
    fn bad_lines_are_skipped_with_their_number() {
        struct Collect(Vec<String>, usize);
        impl Sink for Collect {
            fn event(&mut self, _: WinEvent, _: Place) {
                self.1 += 1;
            }
            fn skip(&mut self, place: Place, reason: &str) {
                self.0.push(format!("{place}: {reason}"));
            }
        }
        let text = "{\"EventID\":1}\n\n[1]\n{\"EventID\":\n{}\r\n";
        let mut sink = Collect(Vec::new(), 0);
        read(text.as_bytes(), &TimeZone::UTC, &mut sink).unwrap();
        assert_eq!(sink.1, 2);
        assert_eq!(sink.0.len(), 2);
        assert_eq!(sink.0[0], "line 3: not a JSON object");
        assert!(sink.0[1].starts_with("line 4: not JSON ("), "{}", sink.0[1]);
    }
}
