//! XmlWinEventLog text read as a stream: the `<Event ...>...</Event>`
//! pieces of a text of any size, one a line, several a line or one across
//! many lines, found without holding more than one event in memory.
//!
//! Each piece goes to [`crate::winevent::extract`], the add-on's search-time
//! extraction. Two kinds of damage are reported and skipped instead of
//! being glued to the next event: an `<Event` that another `<Event` opens
//! again before its `</Event>` (a cut line), and an `<Event` longer than
//! [`MAX_EVENT`] bytes or still open at the end of the input.

use std::io::{BufRead, ErrorKind};

use memchr::memmem::Finder;

use crate::sources::{Place, Sink};
use crate::winevent::extract;

/// The longest event accepted, in bytes. A 4104 fragment holds at most
/// about 20,000 UTF-16 characters, so even a fragment of multi-byte
/// characters stays far below this.
pub const MAX_EVENT: usize = 8 << 20;

/// How much is read at a time.
const BLOCK: usize = 64 << 10;

/// Length of `<Event`.
const OPEN_LEN: usize = 6;

/// Length of `</Event>`.
const CLOSE_LEN: usize = 8;

/// Reads every event of `input` into `sink`: fields as the add-on
/// extracts them, each with its byte offset. Returns an error only when
/// reading fails.
pub fn read<R: BufRead, S: Sink>(
    mut input: R,
    sink: &mut S,
) -> std::io::Result<()> {
    let open = Finder::new(b"<Event");
    let close = Finder::new(b"</Event>");
    let mut buf: Vec<u8> = Vec::with_capacity(2 * BLOCK);
    // Offset in the input of buf[0].
    let mut base: u64 = 0;
    // Where scanning resumes in buf.
    let mut pos = 0;
    let mut eof = false;
    loop {
        match next_event(&buf, pos, &open, &close) {
            Found::Event(start, end) => {
                sink.event(extract(&buf[start..end]), place(base, start));
                pos = end;
                continue;
            }
            Found::Cut(start, next) => {
                sink.skip(
                    place(base, start),
                    "an <Event> that ends without </Event> (a cut line?)",
                );
                pos = next;
                continue;
            }
            Found::Open(start) if buf.len() - start > MAX_EVENT => {
                sink.skip(
                    place(base, start),
                    &format!(
                        "an <Event> longer than {} MiB without </Event>",
                        MAX_EVENT >> 20
                    ),
                );
                pos = start + OPEN_LEN;
                continue;
            }
            Found::Open(start) if eof => {
                sink.skip(
                    place(base, start),
                    "an <Event> still open at the end of the input \
                     (a cut file?)",
                );
                return Ok(());
            }
            Found::Open(start) => pos = start,
            Found::Nothing if eof => return Ok(()),
            // Keep a tail that may be the start of a split `<Event`.
            Found::Nothing => pos = pos.max(buf.len().saturating_sub(5)),
        }

        buf.drain(..pos);
        base += pos as u64;
        pos = 0;
        eof = fill(&mut input, &mut buf)?;
    }
}

/// What the scan found from a position on.
enum Found {
    /// A whole event: its start and end in the buffer.
    Event(usize, usize),
    /// An event opened at the first offset and opened again at the second
    /// before it was closed.
    Cut(usize, usize),
    /// An event opened at this offset, not closed yet.
    Open(usize),
    /// No event opens.
    Nothing,
}

/// Scans `buf` from `pos` for the next event.
fn next_event(buf: &[u8], pos: usize, open: &Finder, close: &Finder) -> Found {
    let Some(start) = find_open(buf, pos, buf.len(), open, true) else {
        return Found::Nothing;
    };
    let after = start + OPEN_LEN;
    let Some(end) = close.find(&buf[start..]).map(|i| start + i + CLOSE_LEN)
    else {
        if let Some(again) = find_open(buf, after, buf.len(), open, false) {
            return Found::Cut(start, again);
        }
        return Found::Open(start);
    };
    match find_open(buf, after, end - CLOSE_LEN, open, false) {
        Some(again) => Found::Cut(start, again),
        None => Found::Event(start, end),
    }
}

/// The next `<Event` starting in `pos..limit` that is the element itself
/// (followed by `>` or white space), not `<EventData` or `<EventID`. An
/// `<Event` at the very end of `buf`, whose next byte is not read yet,
/// counts as one when `eager` (wait and see) and not otherwise.
fn find_open(
    buf: &[u8],
    pos: usize,
    limit: usize,
    open: &Finder,
    eager: bool,
) -> Option<usize> {
    let mut at = pos;
    while at < limit {
        let start = at + open.find(&buf[at..])?;
        if start >= limit {
            return None;
        }
        match buf.get(start + OPEN_LEN) {
            None if eager => return Some(start),
            Some(b'>' | b' ' | b'\t' | b'\r' | b'\n') => return Some(start),
            _ => at = start + OPEN_LEN,
        }
    }
    None
}

/// The place of buffer offset `at`.
fn place(base: u64, at: usize) -> Place {
    Place::Byte(base + at as u64)
}

/// Appends up to a block of input to `buf`; true at the end of the input.
fn fill<R: BufRead>(
    input: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    loop {
        let chunk = match input.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if chunk.is_empty() {
            return Ok(true);
        }
        let n = chunk.len().min(BLOCK);
        buf.extend_from_slice(&chunk[..n]);
        input.consume(n);
        return Ok(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::winevent::WinEvent;

    /// Collects what the reader hands on.
    #[derive(Default)]
    struct Collect {
        events: Vec<(String, WinEvent)>,
        skipped: Vec<String>,
    }

    impl Sink for Collect {
        fn event(&mut self, event: WinEvent, place: Place) {
            self.events.push((place.to_string(), event));
        }
        fn skip(&mut self, place: Place, reason: &str) {
            self.skipped.push(format!("{place}: {reason}"));
        }
    }

    fn event(id: &str) -> String {
        format!(
            "<Event xmlns='x'><System><EventID>4104</EventID>\
             <EventRecordID>{id}</EventRecordID></System><EventData>\
             <Data Name='ScriptBlockText'>a &lt; b</Data></EventData></Event>"
        )
    }

    /// Reads `text` through a reader that hands out `step` bytes at a time,
    /// so that events straddle reads.
    fn run(text: &str, step: usize) -> Collect {
        let reader = std::io::BufReader::with_capacity(step, text.as_bytes());
        let mut sink = Collect::default();
        read(reader, &mut sink).unwrap();
        sink
    }

    fn ids(sink: &Collect) -> Vec<String> {
        sink.events
            .iter()
            .map(|(place, e)| {
                let id = e.first("EventRecordID").unwrap_or(b"-");
                format!("{place} {}", String::from_utf8_lossy(id))
            })
            .collect()
    }

    #[test]
    fn events_across_reads_lines_and_one_line() {
        let one = event("1");
        let text = format!(
            "{one}\r\n{}{}\n<Events>\n{}\n</Events>\n",
            event("2"),
            event("3"),
            event("4").replace("><", ">\n  <")
        );
        let at2 = one.len() + 2;
        let at3 = at2 + one.len();
        let at4 = at3 + one.len() + 10;
        let want = vec![
            "byte 0 1".to_string(),
            format!("byte {at2} 2"),
            format!("byte {at3} 3"),
            format!("byte {at4} 4"),
        ];
        for step in [1, 7, 64, 100_000] {
            let sink = run(&text, step);
            assert_eq!(ids(&sink), want, "step {step}");
            assert!(sink.skipped.is_empty());
            let text = sink.events[0].1.first("ScriptBlockText").unwrap();
            assert_eq!(text, b"a &lt; b");
        }
    }

    #[test]
    fn a_cut_event_is_skipped_not_glued_to_the_next() {
        let one = event("1");
        let cut = &one[..40];
        let text = format!("{cut}\n{}\n{}", event("2"), &event("3")[..50]);
        for step in [3, 100_000] {
            let sink = run(&text, step);
            let at2 = cut.len() + 1;
            assert_eq!(ids(&sink), vec![format!("byte {at2} 2")]);
            let at3 = at2 + one.len() + 1;
            assert_eq!(
                sink.skipped,
                vec![
                    "byte 0: an <Event> that ends without </Event> \
                     (a cut line?)"
                        .to_string(),
                    format!(
                        "byte {at3}: an <Event> still open at the end of \
                         the input (a cut file?)"
                    ),
                ]
            );
        }
    }

    #[test]
    fn event_data_and_event_id_are_not_events() {
        let sink = run("<EventData><EventID>1</EventID></EventData>", 4);
        assert!(sink.events.is_empty());
        assert!(sink.skipped.is_empty());
    }
}
