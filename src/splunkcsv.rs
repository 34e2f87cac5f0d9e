//! Splunk search results exported as CSV (`outputcsv`, or Export in Splunk
//! Web), read as events that already carry their extracted fields.
//!
//! The header row names the fields. A column `__mv_F` is the multivalue
//! twin of column `F` in Splunk's `$v1$;$v2$` encoding; when its cell is
//! not empty it gives `F`'s values, else `F`'s cell is the one value. An
//! empty cell is no value (Splunk's CSV cannot tell them apart).
//!
//! `_time` is epoch seconds in `outputcsv` (`1689744769.048`) and an ISO
//! 8601 string in a Splunk Web export (`2023-07-19T07:32:49.048+02:00`);
//! both are read (see [`crate::eventtime`]), and a time without a zone is
//! read in the `--tz` zone.
//!
//! An export holding `_raw` but no `EventCode` column (a `| table _time
//! _raw` export) has its fields extracted from `_raw` as the add-on would
//! at search time; the CSV's own columns then replace what the extraction
//! found, because they are what Splunk had.

use std::io::{self, Read};

use jiff::tz::TimeZone;

use crate::event::decode;
use crate::eventtime;
use crate::sources::{Place, Sink};
use crate::winevent::{extract, WinEvent};

/// Field names that only a Splunk export has in its header; one of them
/// makes a CSV a Splunk export.
const SPLUNK_FIELDS: [&str; 12] = [
    "_time",
    "_raw",
    "_serial",
    "_cd",
    "_bkt",
    "_indextime",
    "source",
    "sourcetype",
    "EventCode",
    "ScriptBlockText",
    "splunk_server",
    "index",
];

/// True when the first line of `head` is a CSV header with a Splunk
/// field name.
pub fn is_header(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line);
    let mut record = csv::ByteRecord::new();
    if !matches!(reader.read_byte_record(&mut record), Ok(true)) {
        return false;
    }
    record.iter().any(|name| {
        let name = name.strip_suffix(b"\r").unwrap_or(name);
        SPLUNK_FIELDS.iter().any(|f| f.as_bytes() == name)
    })
}

/// The columns of an export: which name each has and where its twin is.
struct Columns {
    /// Field name of each column that is not an `__mv_` twin, with its
    /// index and the index of its twin, if any.
    fields: Vec<(String, usize, Option<usize>)>,
    /// Index of the `_raw` column, when fields come from `_raw`.
    raw: Option<usize>,
}

impl Columns {
    /// The columns of a header row.
    fn new(header: &csv::ByteRecord) -> Columns {
        let names: Vec<String> = header
            .iter()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        let fields = names
            .iter()
            .enumerate()
            .filter(|(_, n)| !n.starts_with("__mv_"))
            .map(|(i, n)| {
                let twin = format!("__mv_{n}");
                (n.clone(), i, names.iter().position(|m| *m == twin))
            })
            .collect();
        let has = |name: &str| names.iter().any(|n| n == name);
        let raw = if has("EventCode") {
            None
        } else {
            names.iter().position(|n| n == "_raw")
        };
        Columns { fields, raw }
    }
}

/// Reads an export into `sink`, one event a row.
pub fn read<R: Read, S: Sink>(
    input: R,
    tz: &TimeZone,
    sink: &mut S,
) -> io::Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(input);
    let header = match reader.byte_headers() {
        Ok(header) => header.clone(),
        Err(e) => return Err(csv_error(e)),
    };
    let columns = Columns::new(&header);
    let mut record = csv::ByteRecord::new();
    let mut row = 0u64;
    let mut scratch = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                row += 1;
                match event(&columns, &record, tz, &mut scratch) {
                    Ok(event) => sink.event(event, Place::Row(row)),
                    Err(reason) => sink.skip(Place::Row(row), &reason),
                }
            }
            Err(e) => {
                row += 1;
                if let csv::ErrorKind::Io(_) = e.kind() {
                    return Err(csv_error(e));
                }
                sink.skip(Place::Row(row), &e.to_string());
            }
        }
    }
}

/// The event of one row.
fn event(
    columns: &Columns,
    record: &csv::ByteRecord,
    tz: &TimeZone,
    scratch: &mut Vec<u8>,
) -> Result<WinEvent, String> {
    let mut event = match columns.raw.and_then(|i| record.get(i)) {
        Some(raw) if !raw.is_empty() => extract(raw),
        _ => WinEvent::default(),
    };
    for (name, index, twin) in &columns.fields {
        let cell = record.get(*index).unwrap_or_default();
        let encoded = twin.and_then(|t| record.get(t)).unwrap_or_default();
        if cell.is_empty() && encoded.is_empty() {
            continue;
        }
        let mut values: Vec<Vec<u8>> = Vec::new();
        if encoded.is_empty() {
            values.push(cell.to_vec());
        } else {
            decode(encoded, scratch, |v| values.push(v.to_vec())).map_err(
                |e| {
                    format!(
                        "column __mv_{name}: not Splunk's $value$;$value$ \
                         encoding (byte {} of the cell)",
                        e.offset
                    )
                },
            )?;
        }
        if name == "_time" {
            values = values
                .into_iter()
                .filter_map(|v| {
                    eventtime::epoch(&String::from_utf8_lossy(&v), tz)
                })
                .map(String::into_bytes)
                .collect();
        }
        event.set(name, b"");
        for value in values {
            event.add(name, &value);
        }
    }
    Ok(event)
}

/// A CSV reading error as an I/O error.
fn csv_error(e: csv::Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        events: Vec<WinEvent>,
        skipped: Vec<String>,
    }

    impl Sink for Collect {
        fn event(&mut self, event: WinEvent, _: Place) {
            self.events.push(event);
        }
        fn skip(&mut self, place: Place, reason: &str) {
            self.skipped.push(format!("{place}: {reason}"));
        }
    }

    fn run(text: &str) -> Collect {
        let mut sink = Collect::default();
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        read(text.as_bytes(), &tz, &mut sink).unwrap();
        sink
    }

    /// The values of `name`, joined by `|` (see `WinEvent::joined`).
    fn get(event: &WinEvent, name: &str) -> Option<String> {
        event.joined(name)
    }

    #[test]
    fn outputcsv_with_twins_and_epoch_time() {
        let sink =
            run("\"_time\",source,EventCode,Opcode,\"__mv_Opcode\",Path,\
             ScriptBlockText\n\
             \"1689744769.048\",\"XmlWinEventLog:Microsoft-Windows-\
             PowerShell/Operational\",4104,\"15\non\",\"$15$;$on$$x$\",,\
             \"two\nlines\"\n");
        assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
        let e = &sink.events[0];
        assert_eq!(get(e, "_time").as_deref(), Some("1689744769.048"));
        assert_eq!(get(e, "Opcode").as_deref(), Some("15|on$x"));
        assert_eq!(get(e, "Path"), None);
        assert_eq!(get(e, "ScriptBlockText").as_deref(), Some("two\nlines"));
        assert!(e.is_script_block());
    }

    #[test]
    fn export_with_iso_time_and_raw_only() {
        let raw = "<Event xmlns='x'><System><EventID>4104</EventID>\
                   <Channel>Microsoft-Windows-PowerShell/Operational\
                   </Channel><Computer>h1</Computer></System><EventData>\
                   <Data Name='ScriptBlockText'>a</Data></EventData></Event>";
        let sink = run(&format!(
            "_time,host,_raw\n2023-07-19T07:32:49.048+02:00,fwd,\"{raw}\"\n\
             2023-07-19 07:32:49,fwd,\n"
        ));
        let e = &sink.events[0];
        assert_eq!(get(e, "_time").as_deref(), Some("1689744769.048"));
        assert_eq!(get(e, "dest").as_deref(), Some("h1"));
        assert_eq!(get(e, "host").as_deref(), Some("fwd"));
        assert!(e.is_script_block());
        // No zone: read in Europe/Berlin (UTC+2 in July).
        assert_eq!(
            get(&sink.events[1], "_time").as_deref(),
            Some("1689744769")
        );
    }

    #[test]
    fn bad_twin_is_skipped_with_its_row() {
        let sink = run("EventCode,__mv_EventCode\n4104,$x\n4104,\n");
        assert_eq!(sink.events.len(), 1);
        assert_eq!(
            sink.skipped,
            vec![
                "row 1: column __mv_EventCode: not Splunk's $value$;$value$ \
                 encoding (byte 2 of the cell)"
            ]
        );
    }

    #[test]
    fn headers() {
        assert!(is_header(b"\"_time\",\"_raw\"\r\n"));
        assert!(is_header(b"source,count\n"));
        assert!(!is_header(b"a,b\n"));
        assert!(!is_header(b""));
    }
}
