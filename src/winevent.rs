//! Fields of XmlWinEventLog events, extracted as the Splunk Add-on for
//! Microsoft Windows extracts them at search time.
//!
//! The add-on's `[XmlWinEventLog]` stanza runs regular expressions over
//! `_raw` (semantics notes §6): every `<tag>text</tag>` and every
//! `name='value'` attribute inside `<System>`, every `<Data Name='N'>text`
//! inside `<EventData>`, with `MV_ADD` (a repeat adds a value). Values are
//! the raw text: entities such as `&lt;` stay as they are, because
//! extractions do not decode XML. Empty values are dropped
//! (`KEEP_EMPTY_VALS` defaults to false), so `<Data Name='Path'></Data>`
//! gives no `Path` at all. Then come the aliases and calculated fields the
//! hunt's BY list needs: `EventCode`, `signature_id`, `user_id`,
//! `vendor_product`, and, for the Windows PowerShell channel only, `dest`
//! and `signature` (the add-on's PowerShell source stanza, TA 9 and later).

use std::sync::OnceLock;

use regex::bytes::Regex;

use crate::event::{Event, Field};

/// The sources the ESCU `powershell` macro accepts.
pub const POWERSHELL_SOURCES: [&str; 4] = [
    "WinEventLog:Microsoft-Windows-PowerShell/Operational",
    "XmlWinEventLog:Microsoft-Windows-PowerShell/Operational",
    "WinEventLog:PowerShellCore/Operational",
    "XmlWinEventLog:PowerShellCore/Operational",
];

/// The only source for which the add-on sets `dest` and `signature`.
const WINDOWS_POWERSHELL_SOURCE: &str =
    "XmlWinEventLog:Microsoft-Windows-PowerShell/Operational";

/// One event's fields: names with their values, in extraction order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WinEvent {
    /// (field name, values) pairs; names are unique.
    fields: Vec<(String, Vec<Vec<u8>>)>,
}

impl WinEvent {
    /// The values of `name`, if the event has the field.
    pub fn get(&self, name: &str) -> Option<&[Vec<u8>]> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The values of `name` as text joined by `|`, for tests that compare
    /// extracted fields with expected strings.
    #[cfg(test)]
    pub fn joined(&self, name: &str) -> Option<String> {
        let values = self.get(name)?;
        let texts: Vec<String> = values
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        Some(texts.join("|"))
    }

    /// The first value of `name`.
    pub fn first(&self, name: &str) -> Option<&[u8]> {
        self.get(name).and_then(|v| v.first()).map(|v| v.as_slice())
    }

    /// Adds a value to `name` (creating the field), dropping empty values.
    pub fn add(&mut self, name: &str, value: &[u8]) {
        if value.is_empty() {
            return;
        }
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) => values.push(value.to_vec()),
            None => self.fields.push((name.to_string(), vec![value.to_vec()])),
        }
    }

    /// Sets `name` to a single value, replacing any it had.
    pub fn set(&mut self, name: &str, value: &[u8]) {
        self.fields.retain(|(n, _)| n != name);
        self.add(name, value);
    }

    /// All fields, in extraction order.
    pub fn fields(&self) -> &[(String, Vec<Vec<u8>>)] {
        &self.fields
    }

    /// True when the base search keeps the event: `EventCode=4104` and a
    /// PowerShell source (values compared case-insensitively).
    pub fn is_script_block(&self) -> bool {
        let code = self.first("EventCode") == Some(b"4104");
        let source = self.first("source").is_some_and(|s| {
            POWERSHELL_SOURCES
                .iter()
                .any(|p| s.eq_ignore_ascii_case(p.as_bytes()))
        });
        code && source
    }

    /// A view of the event by the slots of `names`.
    pub fn slots<'a>(&'a self, names: &[String]) -> Slots<'a> {
        Slots {
            values: names.iter().map(|n| self.get(n)).collect(),
        }
    }

    /// Sets the fields the add-on derives from the extracted ones.
    pub fn derive(&mut self) {
        if let Some(code) = self.first("EventID").map(<[u8]>::to_vec) {
            self.set("EventCode", &code);
            self.set("signature_id", &code);
        }
        if let Some(users) = self.get("UserID").map(<[Vec<u8>]>::to_vec) {
            for user in users {
                self.add("user_id", &user);
            }
        }
        self.set("vendor_product", b"Microsoft Windows");
        if let Some(channel) = self.first("Channel").map(<[u8]>::to_vec) {
            let mut source = b"XmlWinEventLog:".to_vec();
            source.extend_from_slice(&channel);
            self.set("source", &source);
        }
        self.set("sourcetype", b"XmlWinEventLog");
        self.derive_powershell();
    }

    /// `dest` and `signature` from the add-on's stanza for the Windows
    /// PowerShell channel: `Computer_as_dest` and an `EVAL-signature` of
    /// `Microsoft-Windows-PowerShell` plus the task name.
    fn derive_powershell(&mut self) {
        let source = self.first("source").unwrap_or_default();
        if !source.eq_ignore_ascii_case(WINDOWS_POWERSHELL_SOURCE.as_bytes()) {
            return;
        }
        if let Some(computer) = self.first("Computer").map(<[u8]>::to_vec) {
            self.set("dest", &computer);
        }
        let signature: &[u8] = match self.first("EventCode") {
            Some(b"4104") => {
                b"Microsoft-Windows-PowerShell Execute a Remote Command"
            }
            Some(b"4103") => {
                b"Microsoft-Windows-PowerShell Executing Pipeline"
            }
            _ => return,
        };
        self.set("signature", signature);
    }
}

/// An event seen through a list of field names (slots).
pub struct Slots<'a> {
    /// Values of each slot's field, `None` when absent.
    values: Vec<Option<&'a [Vec<u8>]>>,
}

impl Event for Slots<'_> {
    fn field<'s>(&'s self, slot: usize, _: &'s mut Vec<u8>) -> Field<'s> {
        match self.values[slot] {
            None | Some([]) => Field::Null,
            Some([one]) => Field::Single(one),
            Some(many) => Field::List(many),
        }
    }
}

/// The compiled extraction regexes.
struct Extractors {
    /// `<tag>text</tag>` inside it.
    element: Regex,
    /// `name='value'` or `name="value"` inside it.
    attribute: Regex,
    /// `<Data Name='N'>text` inside it.
    data: Regex,
    /// `<EventID ...>digits</EventID>` anywhere, when the element form has
    /// attributes.
    event_id: Regex,
}

/// The regexes, compiled once.
fn extractors() -> &'static Extractors {
    static EXTRACTORS: OnceLock<Extractors> = OnceLock::new();
    EXTRACTORS.get_or_init(|| {
        let re = |s: &str| Regex::new(s).expect("extraction regex compiles");
        Extractors {
            element: re(r"<(\w+)>([^<]*)</(\w+)>"),
            attribute: re(r#"\s([^\s=]+)\s*=\s*('[^<']*'|"[^<"]*")"#),
            data: re(r#"<\w+ Name=(?:'([^']+)'|"([^"]+)")\s*(/?)>([^<]*)"#),
            event_id: re(r"<EventID(?:\s[^>]*)?>(\d+)</EventID>"),
        }
    })
}

/// Extracts the fields of one `<Event>...</Event>` text.
pub fn extract(raw: &[u8]) -> WinEvent {
    let x = extractors();
    let mut event = WinEvent::default();
    let name = |b: &[u8]| String::from_utf8_lossy(b).into_owned();

    for block in blocks(raw, b"System") {
        for m in x.element.captures_iter(block) {
            if m[1] == m[3] {
                event.add(&name(&m[1]), &m[2]);
            }
        }
        for m in x.attribute.captures_iter(block) {
            let quoted = &m[2];
            event.add(&name(&m[1]), &quoted[1..quoted.len() - 1]);
        }
    }
    if event.get("EventID").is_none() {
        if let Some(m) = x.event_id.captures(raw) {
            event.add("EventID", &m[1]);
        }
    }
    for block in blocks(raw, b"EventData") {
        for m in x.data.captures_iter(block) {
            // A self-closing element holds no text: what follows it (the
            // indentation of pretty-printed XML) is not its value. Double
            // quotes around the name, which Windows never writes but other
            // tools do, are read too.
            let field = m.get(1).or_else(|| m.get(2)).expect("one name");
            let value = if &m[3] == b"/" { &b""[..] } else { &m[4] };
            event.add(&name(field.as_bytes()), value);
        }
    }

    if let Some(time) = event.first("SystemTime").and_then(epoch_text) {
        event.set("_time", time.as_bytes());
    }
    event.derive();
    event
}

/// The contents of every `<NAME>` or `<NAME attributes>` block of `raw`,
/// each up to the first `</NAME>` after it: what the add-on's block regexes
/// (`(?s)<System(?:\s[^>]*)?>(.*?)</System>` and the same for `EventData`)
/// capture, found with plain substring search because a regex engine's
/// capture groups are slow over a long script block.
fn blocks<'a>(raw: &'a [u8], name: &[u8]) -> Vec<&'a [u8]> {
    let open = [b"<", name].concat();
    let close = [b"</", name, b">"].concat();
    let mut out = Vec::new();
    let mut pos = 0;
    while let Some(at) = memchr::memmem::find(&raw[pos..], &open) {
        let after = pos + at + open.len();
        let start = match raw.get(after) {
            Some(b'>') => after + 1,
            Some(b) if b.is_ascii_whitespace() => {
                match memchr::memchr(b'>', &raw[after..]) {
                    Some(gt) => after + gt + 1,
                    None => return out,
                }
            }
            _ => {
                pos = after;
                continue;
            }
        };
        let Some(end) = memchr::memmem::find(&raw[start..], &close) else {
            return out;
        };
        out.push(&raw[start..start + end]);
        pos = start + end + close.len();
    }
    out
}

/// Splits a text into the `<Event ...>...</Event>` pieces it holds: one a
/// line, several a line, or one across many lines.
pub fn split_events(text: &[u8]) -> Vec<&[u8]> {
    let open = memchr::memmem::Finder::new(b"<Event");
    let close = memchr::memmem::Finder::new(b"</Event>");
    let mut events = Vec::new();
    let mut pos = 0;
    while let Some(start) = open.find(&text[pos..]).map(|i| pos + i) {
        let after = text.get(start + 6).copied();
        if !matches!(after, Some(b'>' | b' ' | b'\t' | b'\r' | b'\n')) {
            pos = start + 6;
            continue;
        }
        let Some(end) = close.find(&text[start..]).map(|i| start + i + 8)
        else {
            break;
        };
        events.push(&text[start..end]);
        pos = end;
    }
    events
}

/// `_time` for a `SystemTime` such as `2023-06-09T14:53:55.2051612Z`:
/// epoch seconds, then the fraction cut to microseconds (Splunk keeps
/// sub-seconds to the microsecond) without trailing zeros.
pub fn epoch_text(system_time: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(system_time).ok()?;
    let micros = text.parse::<jiff::Timestamp>().ok()?.as_microsecond();
    let sign = if micros < 0 { "-" } else { "" };
    let (seconds, fraction) = (
        micros.unsigned_abs() / 1_000_000,
        micros.unsigned_abs() % 1_000_000,
    );
    let mut fraction = format!("{fraction:06}");
    while fraction.ends_with('0') {
        fraction.pop();
    }
    if fraction.is_empty() {
        Some(format!("{sign}{seconds}"))
    } else {
        Some(format!("{sign}{seconds}.{fraction}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-PowerShell' Guid='{A0C1853B-5C40-4B15-8766-3CF1C58F985A}'/><EventID>4104</EventID><Version>1</Version><Level>5</Level><Task>2</Task><Opcode>15</Opcode><Keywords>0x0</Keywords><TimeCreated SystemTime='2021-08-24T15:11:00.1230000Z'/><EventRecordID>1201</EventRecordID><Correlation ActivityID='{1F2E3D4C-0000-0001-A1B2-C3D4E5F60708}'/><Execution ProcessID='5336' ThreadID='2228'/><Channel>Microsoft-Windows-PowerShell/Operational</Channel><Computer>ar-win-dc.attackrange.local</Computer><Security UserID='S-1-5-21-111-222-333-500'/></System><EventData><Data Name='MessageNumber'>1</Data><Data Name='MessageTotal'>1</Data><Data Name='ScriptBlockText'>Get-NetTCPConnection | ? { $_.State -eq &quot;Listen&quot; } &gt; C:\\temp\\out.txt</Data><Data Name='ScriptBlockId'>0be6ea7f-ff36-4527-af0d-5125b95be731</Data><Data Name='Path'></Data></EventData></Event>";

    fn first(event: &WinEvent, name: &str) -> String {
        String::from_utf8_lossy(event.first(name).unwrap_or(b"<none>"))
            .into_owned()
    }

    #[test]
    fn the_thirteen_by_fields_of_a_4104() {
        let event = extract(RAW.as_bytes());
        let got: Vec<String> = crate::options::DEFAULT_BY
            .iter()
            .map(|n| first(&event, n))
            .collect();
        assert_eq!(
            got,
            vec![
                "ar-win-dc.attackrange.local",
                "Microsoft-Windows-PowerShell Execute a Remote Command",
                "4104",
                "S-1-5-21-111-222-333-500",
                "Microsoft Windows",
                "4104",
                "{A0C1853B-5C40-4B15-8766-3CF1C58F985A}",
                "15",
                "Microsoft-Windows-PowerShell",
                "<none>",
                "5336",
                "0be6ea7f-ff36-4527-af0d-5125b95be731",
                "Get-NetTCPConnection | ? { $_.State -eq &quot;Listen&quot; \
                 } &gt; C:\\temp\\out.txt",
            ]
        );
        assert_eq!(first(&event, "_time"), "1629817860.123");
        assert!(event.is_script_block());
    }

    #[test]
    fn other_channels_get_no_dest_or_signature() {
        let raw = RAW.replace(
            "Microsoft-Windows-PowerShell/Operational",
            "PowerShellCore/Operational",
        );
        let event = extract(raw.as_bytes());
        assert!(event.get("dest").is_none());
        assert!(event.get("signature").is_none());
        assert!(event.is_script_block());
        let event = extract(RAW.replace("4104", "4103").as_bytes());
        assert!(!event.is_script_block());
        assert_eq!(
            first(&event, "signature"),
            "Microsoft-Windows-PowerShell Executing Pipeline"
        );
    }

    #[test]
    fn repeated_elements_are_multivalue() {
        let raw = RAW.replace(
            "</System>",
            "</System><RenderingInfo><Opcode>On create calls</Opcode>\
             </RenderingInfo>",
        );
        let raw = raw.replace(
            "<Opcode>15</Opcode>",
            "<Opcode>15</Opcode><Opcode>x</Opcode>",
        );
        let event = extract(raw.as_bytes());
        assert_eq!(event.get("Opcode").unwrap().len(), 2);
    }

    #[test]
    fn events_split_one_per_line_several_per_line_and_across_lines() {
        let two =
            format!("{RAW}{RAW}\n<Events>\n{}\n", RAW.replace("><", ">\n  <"));
        let events = split_events(two.as_bytes());
        assert_eq!(events.len(), 3);
        let pretty = extract(events[2]);
        assert_eq!(first(&pretty, "ProcessID"), "5336");
        assert_eq!(
            first(&pretty, "ScriptBlockId"),
            "0be6ea7f-ff36-4527-af0d-5125b95be731"
        );
    }

    #[test]
    fn blocks_are_what_the_block_regexes_capture() {
        let raw = b"<SystemX>no</SystemX><System a='1'>one</System>\
                    <System>two</System><System>open";
        let got = blocks(raw, b"System");
        assert_eq!(got, vec![&b"one"[..], b"two"]);
        assert!(blocks(b"<EventData/>", b"EventData").is_empty());
    }

    #[test]
    fn pretty_printed_self_closing_data_has_no_value() {
        let raw = RAW
            .replace("<Data Name='Path'></Data>", "<Data Name='Path'/>\n  ")
            .replace(
                "<Data Name='ScriptBlockId'>",
                "<Data Name=\"ScriptBlockId\">",
            );
        let event = extract(raw.as_bytes());
        assert!(event.get("Path").is_none());
        assert_eq!(
            first(&event, "ScriptBlockId"),
            "0be6ea7f-ff36-4527-af0d-5125b95be731"
        );
    }

    #[test]
    fn epoch_text_truncates_to_microseconds() {
        let t = |s: &str| epoch_text(s.as_bytes());
        assert_eq!(
            t("2023-06-09T14:53:55.2051612Z").unwrap(),
            "1686322435.205161"
        );
        assert_eq!(
            t("2021-08-24T15:11:00.1230000Z").unwrap(),
            "1629817860.123"
        );
        assert_eq!(t("2021-08-24T15:11:00.0000000Z").unwrap(), "1629817860");
        assert_eq!(t("2021-08-24T15:11:00Z").unwrap(), "1629817860");
        assert!(t("yesterday").is_none());
        assert_eq!(t("1969-12-31T23:59:59.5Z").unwrap(), "-0.5");
    }
}
