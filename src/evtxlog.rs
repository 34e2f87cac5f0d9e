//! EVTX files, through the `evtx` crate, made into the events a Splunk
//! forwarder would have sent for them.
//!
//! The crate renders each record as XML the way Windows does (`EvtRender`):
//! element text escapes `&`, `<` and `>` as `&amp;`, `&lt;`, `&gt;` and
//! leaves quotes as they are; an attribute value also escapes quotes, so
//! it never holds one. A forwarder with `renderXml = true` writes that same
//! XML, except that its attribute values are in single quotes and there is
//! no `<?xml ...?>` declaration (the XmlWinEventLog lines of the corpus,
//! and the add-on's `Data Name='...'` regex, which reads single quotes
//! only). [`forwarder_text`] makes exactly those two changes, then
//! [`crate::winevent::extract`] extracts the fields as it does for
//! XmlWinEventLog text, so both inputs give the same fields by one code
//! path.
//!
//! No `RenderingInfo` is added: an EVTX record holds none (the message
//! strings live in the provider's DLL or an `.MTA` file), and the corpus's
//! forwarder text has none either.

use std::io::{Read, Seek};

use evtx::err::EvtxError;
use evtx::EvtxParser;

use crate::sources::{Place, Sink};
use crate::winevent::extract;

/// Bytes before the first chunk: the file header block.
const FILE_HEADER: u64 = 4096;

/// Bytes of one chunk.
const CHUNK: u64 = 65536;

/// Reads every record of an EVTX log into `sink`. A damaged file header,
/// chunk or record is reported to the sink and skipped.
pub fn read<R: Read + Seek, S: Sink>(input: R, sink: &mut S) {
    let mut parser = match EvtxParser::from_read_seek(input) {
        Ok(parser) => parser,
        Err(e) => {
            sink.skip(Place::File, &describe(&e));
            return;
        }
    };
    let settings = evtx::ParserSettings::new().indent(false);
    parser = parser.with_configuration(settings);
    for record in parser.records() {
        match record {
            Ok(record) => {
                let text = forwarder_text(&record.data);
                sink.event(
                    extract(&text),
                    Place::Record(record.event_record_id),
                );
            }
            Err(e) => sink.skip(place(&e), &describe(&e)),
        }
    }
}

/// The record's XML as a forwarder writes it: no XML declaration, no
/// line break after the event, attribute values in single quotes.
///
/// Inside a tag (from `<` to `>`) every `"` becomes `'`. That is exact
/// because the crate escapes `<` and `>` in text and quotes in attribute
/// values, so text never holds a tag delimiter and a quote in a tag is
/// always an attribute delimiter.
pub fn forwarder_text(xml: &str) -> Vec<u8> {
    let mut body = xml.trim_end_matches(['\r', '\n']);
    if body.starts_with("<?xml") {
        body = match body.find("?>") {
            Some(end) => body[end + 2..].trim_start_matches(['\r', '\n']),
            None => body,
        };
    }
    let mut out = Vec::with_capacity(body.len());
    let mut in_tag = false;
    for &b in body.as_bytes() {
        match b {
            b'<' => in_tag = true,
            b'>' => in_tag = false,
            b'"' if in_tag => {
                out.push(b'\'');
                continue;
            }
            _ => {}
        }
        out.push(b);
    }
    out
}

/// Where in the file an error points, as far as the crate tells.
fn place(e: &EvtxError) -> Place {
    match e {
        EvtxError::FailedToParseChunk { chunk_id, .. } => {
            Place::Chunk(*chunk_id, FILE_HEADER + chunk_id * CHUNK)
        }
        EvtxError::FailedToParseRecord { record_id, .. } => {
            Place::Record(*record_id)
        }
        EvtxError::FailedToReadRecordAt {
            chunk: Some(chunk),
            offset,
            ..
        } => Place::Byte(FILE_HEADER + chunk * CHUNK + offset),
        _ => Place::File,
    }
}

/// The error and its causes on one line.
fn describe(e: &EvtxError) -> String {
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarder_shape() {
        let xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Event \
                   xmlns=\"http://x\"><System><Provider Name=\"P\" \
                   Guid=\"{a}\"/><Execution ProcessID=\"1\" \
                   ThreadID=\"2\"/></System><EventData><Data \
                   Name=\"ScriptBlockText\">say \"hi\" &amp; 'bye' \
                   &gt;x</Data></EventData></Event>\n";
        let got = String::from_utf8(forwarder_text(xml)).unwrap();
        assert_eq!(
            got,
            "<Event xmlns='http://x'><System><Provider Name='P' \
             Guid='{a}'/><Execution ProcessID='1' ThreadID='2'/></System>\
             <EventData><Data Name='ScriptBlockText'>say \"hi\" &amp; \
             'bye' &gt;x</Data></EventData></Event>"
        );
        let event = extract(got.as_bytes());
        assert_eq!(event.first("Name"), Some(&b"P"[..]));
        assert_eq!(event.first("ProcessID"), Some(&b"1"[..]));
        assert_eq!(
            event.first("ScriptBlockText"),
            Some(&b"say \"hi\" &amp; 'bye' &gt;x"[..])
        );
    }

    #[test]
    fn a_file_that_is_not_evtx_is_skipped_whole() {
        struct One(Vec<String>);
        impl Sink for One {
            fn event(&mut self, _: crate::winevent::WinEvent, _: Place) {
                panic!("no event expected");
            }
            fn skip(&mut self, place: Place, reason: &str) {
                self.0.push(format!("{place}: {reason}"));
            }
        }
        let mut sink = One(Vec::new());
        let mut bytes = b"ElfFile\0".to_vec();
        bytes.resize(100, 0);
        read(std::io::Cursor::new(bytes), &mut sink);
        assert_eq!(sink.0.len(), 1);
        assert!(sink.0[0].starts_with("the file: "), "{}", sink.0[0]);
    }
}
