//! The offline inputs: which files the operands name, what format each
//! holds, and reading each into events.
//!
//! An operand is a file, a directory (walked, entries in byte order of
//! their names, so every run sees the same order) or `-` for stdin. gzip is
//! undone when the bytes start with its magic number. The format is told by
//! the content, never by the name:
//!
//! | first bytes | format |
//! | --- | --- |
//! | `ElfFile\0` | EVTX |
//! | `{` (after a BOM and white space) | JSON lines |
//! | `<` | XmlWinEventLog text |
//! | a CSV header naming a Splunk field (`_time`, `_raw`, `source`, ...) | Splunk CSV export |
//! | anything holding `<Event ` or `<Event>` | XmlWinEventLog text (lines with a prefix) |
//!
//! Each reader hands events to a [`Sink`] with the [`Place`] they came from,
//! and reports damaged records to it the same way; it stops only when the
//! input cannot be read at all.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use indicatif::ProgressBar;
use jiff::tz::TimeZone;

use crate::winevent::WinEvent;
use crate::{evtxlog, jsonlines, splunkcsv, xmlstream};

/// The formats read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// Windows event log files (`.evtx`).
    Evtx,
    /// XmlWinEventLog text, as a Splunk forwarder writes `_raw`.
    XmlWinEventLog,
    /// JSON lines from Winlogbeat, NXLog or OTRF Security-Datasets.
    JsonLines,
    /// A Splunk search result exported as CSV (`outputcsv`, or export).
    SplunkCsv,
}

impl Format {
    /// Every format, in the order the summary lists them.
    pub const ALL: [Format; 4] = [
        Format::Evtx,
        Format::XmlWinEventLog,
        Format::JsonLines,
        Format::SplunkCsv,
    ];

    /// The format's name in messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Evtx => "EVTX",
            Format::XmlWinEventLog => "XmlWinEventLog",
            Format::JsonLines => "JSON lines",
            Format::SplunkCsv => "Splunk CSV",
        }
    }
}

/// Where in its file an event or a damaged record is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Place {
    /// Byte offset in the (decompressed) text.
    Byte(u64),
    /// EVTX record number (the record header's `EventRecordID`).
    Record(u64),
    /// EVTX chunk number (0-based) and byte offset of the chunk in the
    /// file, for damage that has no record number.
    Chunk(u64, u64),
    /// 1-based line number.
    Line(u64),
    /// 1-based CSV data row (the header is row 0).
    Row(u64),
    /// The file as a whole.
    File,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Byte(n) => write!(f, "byte {n}"),
            Place::Record(n) => write!(f, "record {n}"),
            Place::Chunk(n, at) => write!(f, "chunk {n} at byte {at}"),
            Place::Line(n) => write!(f, "line {n}"),
            Place::Row(n) => write!(f, "row {n}"),
            Place::File => write!(f, "the file"),
        }
    }
}

/// What receives the events of one file.
pub trait Sink {
    /// One event, with its place in the file.
    fn event(&mut self, event: WinEvent, place: Place);

    /// A record that could not be read and was skipped, with its place and
    /// the reason (never the record's text).
    fn skip(&mut self, place: Place, reason: &str);
}

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The path as the user wrote it or the walk found it; `-` for stdin.
    pub name: String,
    /// Its size in bytes on disk (0 for stdin).
    pub size: u64,
}

/// The inputs the operands name, in order, and the errors for operands
/// that name nothing readable (they are reported, the others still read).
pub fn expand(operands: &[String]) -> (Vec<Input>, Vec<String>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for operand in operands {
        if operand == "-" {
            inputs.push(Input {
                name: "-".to_string(),
                size: 0,
            });
            continue;
        }
        let path = Path::new(operand);
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                walk(path, &mut inputs, &mut errors);
            }
            Ok(meta) => inputs.push(Input {
                name: operand.clone(),
                size: meta.len(),
            }),
            Err(e) => errors.push(format!("{operand}: cannot open: {e}")),
        }
    }
    (inputs, errors)
}

/// Adds the files under `dir`, entries sorted by name, depth first.
/// Symbolic links to directories are not followed (no loops).
fn walk(dir: &Path, inputs: &mut Vec<Input>, errors: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(format!("{}: cannot list: {e}", dir.display()));
            return;
        }
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => paths.push(entry.path()),
            Err(e) => {
                errors.push(format!("{}: cannot list: {e}", dir.display()))
            }
        }
    }
    paths.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    for path in paths {
        let Ok(kind) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, inputs, errors);
            continue;
        }
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_file() => inputs.push(Input {
                name: path.to_string_lossy().into_owned(),
                size: meta.len(),
            }),
            // Symbolic links to directories, sockets, dangling links.
            _ => {}
        }
    }
}

/// Tells the format from the first bytes of an input.
pub fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"ElfFile\0") {
        return Some(Format::Evtx);
    }
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    match text[start] {
        b'{' => return Some(Format::JsonLines),
        b'<' => return Some(Format::XmlWinEventLog),
        _ => {}
    }
    if splunkcsv::is_header(text) {
        return Some(Format::SplunkCsv);
    }
    let open = memchr::memmem::find_iter(text, b"<Event").any(|i| {
        matches!(text.get(i + 6), Some(b' ' | b'>' | b'\t' | b'\r' | b'\n'))
    });
    open.then_some(Format::XmlWinEventLog)
}

/// How many bytes detection looks at.
const HEAD: usize = 8 << 10;

/// A reader that counts the bytes it reads on a progress bar.
pub struct Counted<R> {
    /// The reader counted.
    inner: R,
    /// Where the count goes (a hidden bar when there is none).
    bar: ProgressBar,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bar.inc(n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Counted<R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// Reads one input into `sink`. `tz` is the zone for times written
/// without one. Returns the format found, `None` when it is none of the
/// formats (the file is then skipped), or an error when the input cannot
/// be read.
pub fn read<S: Sink>(
    input: &Input,
    tz: &TimeZone,
    bar: &ProgressBar,
    sink: &mut S,
) -> io::Result<Option<Format>> {
    let raw: Box<dyn Read + Send> = if input.name == "-" {
        Box::new(io::stdin())
    } else {
        let mut file = File::open(&input.name)?;
        let mut magic = [0u8; 8];
        let n = read_up_to(&mut file, &mut magic)?;
        file.seek(SeekFrom::Start(0))?;
        if magic[..n].starts_with(b"ElfFile\0") {
            let counted = Counted {
                inner: file,
                bar: bar.clone(),
            };
            evtxlog::read(counted, sink);
            return Ok(Some(Format::Evtx));
        }
        Box::new(file)
    };
    let mut stream = BufReader::with_capacity(
        64 << 10,
        Counted {
            inner: raw,
            bar: bar.clone(),
        },
    );
    let gzip = stream.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    let mut stream: Box<dyn Read + Send> = if gzip {
        Box::new(MultiGzDecoder::new(stream))
    } else {
        Box::new(stream)
    };

    let mut head = vec![0u8; HEAD];
    let n = read_up_to(&mut stream, &mut head)?;
    head.truncate(n);
    let Some(format) = detect(&head) else {
        return Ok(None);
    };
    let whole =
        BufReader::with_capacity(64 << 10, Cursor::new(head).chain(stream));
    match format {
        Format::Evtx => {
            // gzip or stdin: the parser needs to seek, so the log is read
            // into memory first.
            let mut bytes = Vec::new();
            { whole }.read_to_end(&mut bytes)?;
            evtxlog::read(Cursor::new(bytes), sink);
        }
        Format::XmlWinEventLog => xmlstream::read(whole, sink)?,
        Format::JsonLines => jsonlines::read(whole, tz, sink)?,
        Format::SplunkCsv => splunkcsv::read(whole, tz, sink)?,
    }
    Ok(Some(format))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_up_to<R: Read>(input: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_content() {
        let f = |b: &[u8]| detect(b);
        assert_eq!(f(b"ElfFile\0\0\0"), Some(Format::Evtx));
        assert_eq!(f(b"\xef\xbb\xbf  {\"a\":1}\n"), Some(Format::JsonLines));
        assert_eq!(f(b"\r\n<Event xmlns='x'>"), Some(Format::XmlWinEventLog));
        assert_eq!(
            f(b"\"_time\",source,\"_raw\"\n1,2,3\n"),
            Some(Format::SplunkCsv)
        );
        assert_eq!(
            f(b"Jul 19 host app: <Event xmlns='x'><System>"),
            Some(Format::XmlWinEventLog)
        );
        assert_eq!(f(b"a,b,c\n1,2,3\n"), None);
        assert_eq!(f(b"hello <EventData>"), None);
        assert_eq!(f(b""), None);
        assert_eq!(f(b"  \n"), None);
    }

    #[test]
    fn places_read_as_words() {
        assert_eq!(Place::Byte(12).to_string(), "byte 12");
        assert_eq!(Place::Record(7).to_string(), "record 7");
        assert_eq!(
            Place::Chunk(2, 135168).to_string(),
            "chunk 2 at byte 135168"
        );
        assert_eq!(Place::Line(3).to_string(), "line 3");
        assert_eq!(Place::Row(4).to_string(), "row 4");
    }

    #[test]
    fn directories_walk_in_name_order() {
        let dir = std::env::temp_dir()
            .join(format!("sbh-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("b")).unwrap();
        for name in ["c.log", "a.log", "b/z.log", "b/y.log"] {
            std::fs::write(dir.join(name), name).unwrap();
        }
        let (inputs, errors) =
            expand(&[dir.to_string_lossy().into_owned(), "-".into()]);
        let names: Vec<String> = inputs
            .iter()
            .map(|i| {
                i.name
                    .strip_prefix(dir.to_str().unwrap())
                    .unwrap_or(&i.name)
                    .to_string()
            })
            .collect();
        assert_eq!(
            names,
            vec!["/a.log", "/b/y.log", "/b/z.log", "/c.log", "-"]
        );
        assert!(errors.is_empty());
        let (_, errors) = expand(&[dir.join("nope").to_string_lossy().into()]);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("cannot open"), "{}", errors[0]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
