//! The CSV body of an execute chunk, read in place.
//!
//! Splunk writes each chunk's body as a self-contained CSV: a header row,
//! then one record per event, `,` between fields, `"` around fields that
//! need it (in practice every value that is not plain letters and digits),
//! doubled `"` inside quotes, raw newlines inside quoted values, records
//! ended by `\n` (protocol notes §4). Every field `f` has a twin column
//! `__mv_f`, non-empty only when `f` holds several values.
//!
//! The reader never copies the body. For each record it finds where each
//! field starts and ends (one pass, skipping ahead with `memchr`), keeps
//! the positions of the columns the command asks for only, and decodes only
//! those; a field with doubled quotes is unescaped into a scratch buffer on
//! demand. The header row is matched against the wanted names as it is
//! scanned, so a row of millions of columns costs no memory per column:
//! memory stays within the body's own size, whatever its shape.
//!
//! Accepted beyond what Splunk writes: `\r\n` and a lone `\r` as record
//! ends, empty lines (skipped), and a stray `"` inside an unquoted field
//! (kept as data). Refused, with the record number: a record whose number
//! of fields differs from the header's, a quoted field that never closes,
//! bytes between a closing quote and the next separator, and a header that
//! repeats a column the command needs.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use crate::error::{Error, ErrorKind, Result};
use crate::event::{Event, Field};

/// Where the required fields sit in one chunk's columns.
#[derive(Debug)]
struct Columns {
    /// Position in the kept spans of each slot's plain column, if the
    /// chunk has it.
    plain: Vec<Option<usize>>,
    /// Position in the kept spans of each slot's `__mv_` column, if the
    /// chunk has it.
    mv: Vec<Option<usize>>,
    /// Number of columns in the header.
    width: usize,
}

/// Which fields of each record the reader keeps the position of.
#[derive(Debug)]
enum Keep {
    /// Every field (for showing whole rows).
    All,
    /// These column indexes, ascending.
    Columns(Vec<usize>),
}

/// One field's position in the body.
#[derive(Clone, Debug, Default)]
struct Span {
    /// Byte range of the field's content (inside the quotes, if quoted).
    range: Range<usize>,
    /// True when the content holds doubled quotes to undo.
    escaped: bool,
}

/// Reads the records of one chunk body.
pub struct Records<'a> {
    /// The whole body.
    body: &'a [u8],
    /// Offset of the next unread byte.
    pos: usize,
    /// Offset where the current line (header or record) starts.
    start: usize,
    /// 1-based chunk number, for errors.
    chunk: u64,
    /// Number of records read so far (the header is record 0).
    record: u64,
    /// The chunk's column layout.
    columns: Columns,
    /// Which fields are kept in `spans`.
    keep: Keep,
    /// Spans of the kept fields of the current record, reused.
    spans: Vec<Span>,
    /// Number of fields in the current record.
    fields: usize,
}

impl<'a> Records<'a> {
    /// Reads the header row of `body` and maps `names` (the required
    /// fields, by slot) to its columns. An empty body has no records.
    pub fn new(chunk: u64, body: &'a [u8], names: &[String]) -> Result<Self> {
        let mut records = Records::unread(chunk, body, names.len());
        if !records.skip_empty_lines() {
            return Ok(records);
        }
        records.start = records.pos;

        let mut wanted: HashMap<Vec<u8>, Vec<(usize, bool)>> = HashMap::new();
        for (slot, name) in names.iter().enumerate() {
            let mv_name = format!("__mv_{name}").into_bytes();
            wanted
                .entry(name.as_bytes().to_vec())
                .or_default()
                .push((slot, false));
            wanted.entry(mv_name).or_default().push((slot, true));
        }
        // Most columns of a wide header are not wanted; their length alone
        // says so, without hashing them (doubled quotes aside).
        let longest = wanted.keys().map(Vec::len).max().unwrap_or(0);
        let mut lengths = vec![false; longest + 1];
        for name in wanted.keys() {
            lengths[name.len()] = true;
        }
        let mut plain: Vec<Option<usize>> = vec![None; names.len()];
        let mut mv: Vec<Option<usize>> = vec![None; names.len()];
        let (width, end) = records.read_line(|column, span| {
            let length = span.range.len();
            if !span.escaped && !lengths.get(length).is_some_and(|&l| l) {
                return Ok(());
            }
            let name = content(body, &span);
            let Some(roles) = wanted.get(name.as_ref()) else {
                return Ok(());
            };
            for &(slot, is_mv) in roles {
                let found = if is_mv {
                    &mut mv[slot]
                } else {
                    &mut plain[slot]
                };
                if found.is_some() {
                    return Err(records.error(format!(
                        "column {} appears more than once",
                        String::from_utf8_lossy(&name)
                    )));
                }
                *found = Some(column);
            }
            Ok(())
        })?;
        records.pos = end;
        records.columns.width = width;

        let mut kept: Vec<usize> =
            plain.iter().chain(&mv).flatten().copied().collect();
        kept.sort_unstable();
        kept.dedup();
        let position = |column: Option<usize>| {
            column.map(|c| kept.binary_search(&c).expect("a kept column"))
        };
        records.columns.plain = plain.into_iter().map(position).collect();
        records.columns.mv = mv.into_iter().map(position).collect();
        records.keep = Keep::Columns(kept);
        Ok(records)
    }

    /// A reader positioned at the start of `body`, with no header read and
    /// `slots` unmapped slots.
    fn unread(chunk: u64, body: &'a [u8], slots: usize) -> Self {
        Records {
            body,
            pos: 0,
            start: 0,
            chunk,
            record: 0,
            columns: Columns {
                plain: vec![None; slots],
                mv: vec![None; slots],
                width: 0,
            },
            keep: Keep::All,
            spans: Vec::new(),
            fields: 0,
        }
    }

    /// Number of records read so far, the header not counted.
    pub fn count(&self) -> u64 {
        self.record
    }

    /// The bytes of the current line as they are in the body, its line
    /// end included when it has one: the header row right after `new`,
    /// then each record after `advance`.
    pub fn raw(&self) -> &'a [u8] {
        &self.body[self.start..self.pos]
    }

    /// Advances to the next record; false when the body is exhausted.
    pub fn advance(&mut self) -> Result<bool> {
        self.record += 1;
        if !self.next_spans()? {
            self.record -= 1;
            return Ok(false);
        }
        if self.fields != self.columns.width {
            return Err(self.error(format!(
                "has {} fields, the header has {}",
                self.fields, self.columns.width
            )));
        }
        Ok(true)
    }

    /// An error about the current record.
    fn error(&self, reason: String) -> Error {
        Error::new(ErrorKind::Csv {
            chunk: self.chunk,
            record: self.record,
            reason,
        })
    }

    /// The content of kept field `i` of the current record, unescaped.
    fn decoded(&self, i: usize) -> Cow<'a, [u8]> {
        content(self.body, &self.spans[i])
    }

    /// Field `i` of the current record, unescaped into `scratch` if needed.
    fn cell<'s>(&'s self, i: usize, scratch: &'s mut Vec<u8>) -> &'s [u8] {
        let span = &self.spans[i];
        let raw = &self.body[span.range.clone()];
        if !span.escaped {
            return raw;
        }
        scratch.clear();
        unescape(raw, scratch);
        scratch
    }

    /// Moves past empty lines; false at the end of the body.
    fn skip_empty_lines(&mut self) -> bool {
        loop {
            match self.body.get(self.pos) {
                None => return false,
                Some(b'\n' | b'\r') => self.pos += 1,
                Some(_) => return true,
            }
        }
    }

    /// Reads the next non-empty line, keeping the spans `self.keep` asks
    /// for. Returns false at the end of the body.
    fn next_spans(&mut self) -> Result<bool> {
        if !self.skip_empty_lines() {
            return Ok(false);
        }
        self.start = self.pos;
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        let mut next = 0;
        let read = self.read_line(|column, span| {
            match &self.keep {
                Keep::All => spans.push(span),
                Keep::Columns(kept) => {
                    if kept.get(next) == Some(&column) {
                        spans.push(span);
                        next += 1;
                    }
                }
            }
            Ok(())
        });
        self.spans = spans;
        let (fields, end) = read?;
        self.fields = fields;
        self.pos = end;
        Ok(true)
    }

    /// Splits the line that starts at `self.pos` into fields, calling
    /// `visit` with each field's column index and span. Returns the number
    /// of fields and the offset just after the line's end.
    fn read_line(
        &self,
        mut visit: impl FnMut(usize, Span) -> Result<()>,
    ) -> Result<(usize, usize)> {
        let body = self.body;
        let mut pos = self.pos;
        let mut column = 0;
        loop {
            let (span, next) = if body.get(pos) == Some(&b'"') {
                self.quoted(pos, column)?
            } else {
                let end = memchr::memchr3(b',', b'\n', b'\r', &body[pos..])
                    .map_or(body.len(), |n| pos + n);
                (
                    Span {
                        range: pos..end,
                        escaped: false,
                    },
                    end,
                )
            };
            visit(column, span)?;
            column += 1;
            match body.get(next) {
                Some(b',') => pos = next + 1,
                Some(b'\r') if body.get(next + 1) == Some(&b'\n') => {
                    return Ok((column, next + 2));
                }
                Some(b'\r' | b'\n') => return Ok((column, next + 1)),
                None => return Ok((column, next)),
                Some(_) => {
                    return Err(self.error(format!(
                        "field {column} has bytes after its closing quote"
                    )));
                }
            }
        }
    }

    /// Reads a quoted field (0-based `column`) starting at the quote at
    /// `start`; returns its span and the offset just after the closing
    /// quote.
    fn quoted(&self, start: usize, column: usize) -> Result<(Span, usize)> {
        let body = self.body;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            match memchr::memchr(b'"', &body[i..]) {
                None => {
                    return Err(self.error(format!(
                        "field {} opens a quote at byte {start} of the \
                         body that never closes",
                        column + 1
                    )));
                }
                Some(n) => {
                    i += n;
                    if body.get(i + 1) == Some(&b'"') {
                        escaped = true;
                        i += 2;
                    } else {
                        let span = Span {
                            range: start + 1..i,
                            escaped,
                        };
                        return Ok((span, i + 1));
                    }
                }
            }
        }
    }
}

impl Event for Records<'_> {
    fn field<'s>(
        &'s self,
        slot: usize,
        scratch: &'s mut Vec<u8>,
    ) -> Field<'s> {
        if let Some(i) = self.columns.mv[slot] {
            if !self.spans[i].range.is_empty() {
                return Field::Encoded(self.cell(i, scratch));
            }
        }
        match self.columns.plain[slot] {
            Some(i) if !self.spans[i].range.is_empty() => {
                Field::Single(self.cell(i, scratch))
            }
            _ => Field::Null,
        }
    }
}

/// Every field of every line of a CSV body, header first, decoded: for
/// showing a reply to a person.
pub fn all_rows(body: &[u8]) -> Result<Vec<Vec<Vec<u8>>>> {
    let mut records = Records::unread(0, body, 0);
    let mut rows = Vec::new();
    if records.next_spans()? {
        records.columns.width = records.fields;
        rows.push(records.line());
    }
    while records.advance()? {
        rows.push(records.line());
    }
    Ok(rows)
}

impl Records<'_> {
    /// All fields of the current line, decoded.
    fn line(&self) -> Vec<Vec<u8>> {
        (0..self.spans.len())
            .map(|i| self.decoded(i).into_owned())
            .collect()
    }
}

/// The content of the field at `span` in `body`, unescaped.
fn content<'a>(body: &'a [u8], span: &Span) -> Cow<'a, [u8]> {
    let raw = &body[span.range.clone()];
    if !span.escaped {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    unescape(raw, &mut out);
    Cow::Owned(out)
}

/// Appends `raw` to `out` with every `""` turned into `"`.
fn unescape(raw: &[u8], out: &mut Vec<u8>) {
    let mut i = 0;
    while i < raw.len() {
        out.push(raw[i]);
        i += if raw[i] == b'"' { 2 } else { 1 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn fields(body: &[u8], want: &[&str]) -> Result<Vec<Vec<String>>> {
        let names = names(want);
        let mut records = Records::new(1, body, &names)?;
        let mut out = Vec::new();
        while records.advance()? {
            let mut row = Vec::new();
            for slot in 0..names.len() {
                let mut scratch = Vec::new();
                row.push(match records.field(slot, &mut scratch) {
                    Field::Null => "<null>".to_string(),
                    Field::Single(v) => {
                        String::from_utf8_lossy(v).into_owned()
                    }
                    Field::Encoded(v) => {
                        format!("mv:{}", String::from_utf8_lossy(v))
                    }
                    Field::List(_) => unreachable!(),
                });
            }
            out.push(row);
        }
        Ok(out)
    }

    #[test]
    fn splunk_quoting_and_multivalue_twins() {
        let body = b"\"_time\",text,\"__mv__time\",\"__mv_text\"\n\
            \"1380899494\",\"line1\nline \"\"two\"\"\",,\n\
            \"5\",\"a\nb\",,\"$a$;$b$\"\n";
        let rows = fields(body, &["text", "_time", "missing"]).unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["line1\nline \"two\"", "1380899494", "<null>"],
                vec!["mv:$a$;$b$", "5", "<null>"],
            ]
        );
    }

    #[test]
    fn line_endings_and_empty_lines() {
        let body = b"a,b\r\n1,2\r\n\r\n3,4\r5,6";
        let rows = fields(body, &["b"]).unwrap();
        assert_eq!(rows, vec![vec!["2"], vec!["4"], vec!["6"]]);
    }

    #[test]
    fn empty_cells_are_null_and_empty_body_has_no_records() {
        assert_eq!(fields(b"a,b\n,x\n", &["a"]).unwrap(), vec![["<null>"]]);
        assert!(fields(b"", &["a"]).unwrap().is_empty());
        assert!(fields(b"a,b\n", &["a"]).unwrap().is_empty());
    }

    #[test]
    fn invalid_utf8_and_nul_are_data() {
        let body = b"a\n\xff\x00z\n";
        let names = names(&["a"]);
        let mut records = Records::new(1, body, &names).unwrap();
        assert!(records.advance().unwrap());
        let mut scratch = Vec::new();
        assert_eq!(
            records.field(0, &mut scratch),
            Field::Single(b"\xff\x00z")
        );
    }

    #[test]
    fn raw_gives_each_line_as_written() {
        let body = b"a,b\r\n\n\"x\ny\",2\n3,4";
        let mut records = Records::new(1, body, &[]).unwrap();
        assert_eq!(records.raw(), b"a,b\r\n");
        assert!(records.advance().unwrap());
        assert_eq!(records.raw(), b"\"x\ny\",2\n");
        assert!(records.advance().unwrap());
        assert_eq!(records.raw(), b"3,4");
        assert!(!records.advance().unwrap());
    }

    #[test]
    fn ragged_records_are_refused() {
        let err = fields(b"a,b\n1,2\n3\n", &["a"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk 1: CSV record 2: has 1 fields, the header has 2"
        );
    }

    #[test]
    fn unterminated_quote_is_refused() {
        let err = fields(b"a,b\n1,\"2\n", &["a"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk 1: CSV record 1: field 2 opens a quote at byte 6 of the \
             body that never closes"
        );
    }

    #[test]
    fn bytes_after_closing_quote_are_refused() {
        let err = fields(b"a\n\"x\"y\n", &["a"]).unwrap_err();
        assert!(err.to_string().contains("after its closing quote"));
    }

    #[test]
    fn repeated_needed_column_is_refused() {
        let err = fields(b"a,a\n1,2\n", &["a"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk 1: CSV header row: column a appears more than once"
        );
        assert!(fields(b"x,x,a\n1,2,3\n", &["a"]).is_ok());
    }

    #[test]
    fn header_names_with_doubled_quotes_are_found() {
        // The raw span of "a""b" is 4 bytes, the name 3: the length filter
        // must not throw it away.
        let rows = fields(b"x,\"a\"\"b\",c\n1,2,3\n", &["a\"b", "c"]).unwrap();
        assert_eq!(rows, vec![vec!["2", "3"]]);
    }

    #[test]
    fn wanted_columns_in_any_order_among_others() {
        let body = b"c,z,b,__mv_c,a,__mv_a\n3,,2,$x$;$y$,1,\n";
        let rows = fields(body, &["a", "c", "b"]).unwrap();
        assert_eq!(rows, vec![vec!["1", "mv:$x$;$y$", "2"]]);
    }
}
