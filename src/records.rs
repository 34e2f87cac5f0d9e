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
//! field starts and ends (one pass, skipping ahead with `memchr`), and only
//! the fields the command asks for are ever decoded; a field with doubled
//! quotes is unescaped into a scratch buffer on demand.
//!
//! Accepted beyond what Splunk writes: `\r\n` and a lone `\r` as record
//! ends, empty lines (skipped), and a stray `"` inside an unquoted field
//! (kept as data). Refused, with the record number: a record whose number
//! of fields differs from the header's, a quoted field that never closes,
//! bytes between a closing quote and the next separator, and a header that
//! repeats a column the command needs.

use std::collections::HashMap;
use std::ops::Range;

use crate::error::{Error, ErrorKind, Result};
use crate::event::{Event, Field};

/// Where the required fields sit in one chunk's columns.
#[derive(Clone, Debug)]
struct Columns {
    /// Column index of each slot's plain column, if the chunk has it.
    plain: Vec<Option<usize>>,
    /// Column index of each slot's `__mv_` column, if the chunk has it.
    mv: Vec<Option<usize>>,
    /// Number of columns in the header.
    width: usize,
    /// Which columns' spans a record keeps (`None`: every column, for the
    /// header and for `all_rows`). `plain` and `mv` then count among the
    /// kept columns only: a header of millions of columns the command does
    /// not need costs no memory per column in its records.
    keep: Option<Vec<bool>>,
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
    /// Field spans of the current record, reused.
    spans: Vec<Span>,
    /// Number of fields in the current line, kept or not.
    fields: usize,
    /// While the header row is read: which cell lengths can be a wanted
    /// name (cells of other lengths are not kept), and the column of each
    /// kept cell.
    header_filter: Option<(Vec<bool>, Vec<usize>)>,
    /// True once the header row has been read.
    have_header: bool,
    /// Offset of `body` in the chunk's whole body, for errors.
    base: usize,
    /// True when `body` runs to the end of the chunk's body; false for a
    /// window with more to come, whose last record may be cut.
    complete: bool,
}

/// What one window of a chunk body hands to the next (see
/// `Records::window`): the header's layout, the record count, where the
/// next window starts in the body, and the buffers to reuse.
#[derive(Debug, Default)]
pub struct Carry {
    /// The column layout, once the header row has been read.
    columns: Option<Columns>,
    /// Records read so far.
    record: u64,
    /// Offset in the body of the next window's first byte.
    base: usize,
    /// The span buffer, kept for reuse.
    spans: Vec<Span>,
}

impl Carry {
    /// True before the first window of a body has been read.
    pub fn is_start(&self) -> bool {
        self.columns.is_none() && self.base == 0 && self.record == 0
    }
}

impl<'a> Records<'a> {
    /// Reads the header row of `body` and maps `names` (the required
    /// fields, by slot) to its columns. An empty body has no records.
    pub fn new(chunk: u64, body: &'a [u8], names: &[String]) -> Result<Self> {
        Records::window(chunk, body, names, Carry::default(), true)
    }

    /// Reads `window`, a piece of a chunk body that starts where the
    /// previous window's `carry` says (at the start of the body for a
    /// default `Carry`). When `complete` is false more of the body follows,
    /// and a record (or header row) cut by the window's end is left for
    /// the next window: `consumed` tells where it starts.
    pub fn window(
        chunk: u64,
        window: &'a [u8],
        names: &[String],
        carry: Carry,
        complete: bool,
    ) -> Result<Self> {
        let have_header = carry.columns.is_some();
        let mut records = Records {
            body: window,
            pos: 0,
            start: 0,
            chunk,
            record: carry.record,
            columns: carry.columns.unwrap_or_else(|| Columns {
                plain: vec![None; names.len()],
                mv: vec![None; names.len()],
                width: 0,
                keep: None,
            }),
            fields: 0,
            header_filter: None,
            spans: carry.spans,
            have_header,
            base: carry.base,
            complete,
        };
        if have_header {
            return Ok(records);
        }
        let wanted = wanted_names(names);
        if !names.is_empty() {
            let longest = wanted.keys().map(Vec::len).max().unwrap_or(0);
            let mut lengths = vec![false; longest + 1];
            for name in wanted.keys() {
                lengths[name.len()] = true;
            }
            records.header_filter = Some((lengths, Vec::new()));
        }
        if !records.next_spans()? {
            records.header_filter = None;
            return Ok(records);
        }
        records.have_header = true;
        records.columns.width = records.fields;
        if let Some((_, header_columns)) = records.header_filter.take() {
            records.map_header(&wanted, &header_columns)?;
        }
        Ok(records)
    }

    /// Number of records read so far, the header not counted.
    pub fn count(&self) -> u64 {
        self.record
    }

    /// Bytes of the window read so far: the start of the record that the
    /// window's end cut, or the window's length.
    pub fn consumed(&self) -> usize {
        self.pos
    }

    /// What the next window needs, its first byte being the first one not
    /// `consumed` here.
    pub fn carry(self) -> Carry {
        Carry {
            columns: self.have_header.then_some(self.columns),
            record: self.record,
            base: self.base + self.pos,
            spans: self.spans,
        }
    }

    /// The bytes of the current line as they are in the body, its line
    /// end included when it has one: the header row right after `new`,
    /// then each record after `advance`.
    pub fn raw(&self) -> &'a [u8] {
        &self.body[self.start..self.pos]
    }

    /// Maps the wanted names (plain names and `__mv_` twins, by slot) to
    /// the header's columns, refusing a header that repeats one of them,
    /// and from then on keeps only those columns' spans. `columns` gives
    /// the column of each header cell kept (those as long as some wanted
    /// name, or holding doubled quotes).
    fn map_header(
        &mut self,
        wanted: &HashMap<Vec<u8>, Vec<(usize, bool)>>,
        columns: &[usize],
    ) -> Result<()> {
        let mut kept: Vec<usize> = Vec::new();
        for (i, &column) in columns.iter().enumerate() {
            let name = self.decoded(i);
            let Some(roles) = wanted.get(name.as_ref()) else {
                continue;
            };
            for &(slot, is_mv) in roles {
                let found = if is_mv {
                    &mut self.columns.mv[slot]
                } else {
                    &mut self.columns.plain[slot]
                };
                if found.is_some() {
                    return Err(self.error(format!(
                        "column {} appears more than once",
                        String::from_utf8_lossy(&name)
                    )));
                }
                *found = Some(column);
            }
            kept.push(column);
        }
        let mut keep = vec![false; self.columns.width];
        for &column in &kept {
            keep[column] = true;
        }
        // `kept` is in column order: a column's position among the kept
        // ones is its index there.
        let position = |c: usize| kept.binary_search(&c).expect("kept");
        for slot in self.columns.plain.iter_mut().chain(&mut self.columns.mv) {
            *slot = slot.map(position);
        }
        self.columns.keep = Some(keep);
        // The header's spans are not needed again.
        self.spans = Vec::new();
        Ok(())
    }

    /// Advances to the next record; false when the body is exhausted.
    pub fn advance(&mut self) -> Result<bool> {
        if !self.have_header {
            return Ok(false);
        }
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

    /// The content of field `i` of the current record, unescaped.
    fn decoded(&self, i: usize) -> std::borrow::Cow<'a, [u8]> {
        let span = &self.spans[i];
        let raw = &self.body[span.range.clone()];
        if !span.escaped {
            return std::borrow::Cow::Borrowed(raw);
        }
        let mut out = Vec::with_capacity(raw.len());
        unescape(raw, &mut out);
        std::borrow::Cow::Owned(out)
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

    /// Splits the next non-empty line into field spans. Returns false at
    /// the end of the body, and at a record cut by the end of a window
    /// (leaving `pos` at its start).
    fn next_spans(&mut self) -> Result<bool> {
        let body = self.body;
        loop {
            match body.get(self.pos) {
                None => return Ok(false),
                Some(b'\n') => self.pos += 1,
                Some(b'\r') => self.pos += 1,
                Some(_) => break,
            }
        }
        self.start = self.pos;
        self.spans.clear();
        self.fields = 0;
        let mut pos = self.pos;
        loop {
            let (span, next) = if body.get(pos) == Some(&b'"') {
                match self.quoted(pos)? {
                    Some(field) => field,
                    None => return Ok(false),
                }
            } else {
                let end = unquoted_end(body, pos);
                (
                    Span {
                        range: pos..end,
                        escaped: false,
                    },
                    end,
                )
            };
            let kept = match (&mut self.header_filter, &self.columns.keep) {
                (Some((lengths, columns)), _) => {
                    let len = span.range.len();
                    let fits = lengths.get(len).copied().unwrap_or(false);
                    if span.escaped || fits {
                        columns.push(self.fields);
                    }
                    span.escaped || fits
                }
                (None, None) => true,
                (None, Some(keep)) => {
                    keep.get(self.fields).copied().unwrap_or(false)
                }
            };
            if kept {
                self.spans.push(span);
            }
            self.fields += 1;
            match body.get(next) {
                Some(b',') => pos = next + 1,
                Some(b'\r') if body.get(next + 1) == Some(&b'\n') => {
                    self.pos = next + 2;
                    return Ok(true);
                }
                Some(b'\r' | b'\n') => {
                    self.pos = next + 1;
                    return Ok(true);
                }
                None if !self.complete => return Ok(false),
                None => {
                    self.pos = next;
                    return Ok(true);
                }
                Some(_) => {
                    return Err(self.error(format!(
                        "field {} has bytes after its closing quote",
                        self.fields
                    )));
                }
            }
        }
    }

    /// Reads a quoted field starting at the quote at `start`; returns its
    /// span and the offset just after the closing quote, or `None` when
    /// the end of a window cuts it.
    fn quoted(&self, start: usize) -> Result<Option<(Span, usize)>> {
        let body = self.body;
        let mut i = start + 1;
        let mut escaped = false;
        loop {
            match memchr::memchr(b'"', &body[i..]) {
                None if !self.complete => return Ok(None),
                None => {
                    return Err(self.error(format!(
                        "field {} opens a quote at byte {} of the body \
                         that never closes",
                        self.fields + 1,
                        self.base + start
                    )));
                }
                Some(n) => {
                    i += n;
                    if i + 1 == body.len() && !self.complete {
                        // A doubled quote may go on in the next window.
                        return Ok(None);
                    }
                    if body.get(i + 1) == Some(&b'"') {
                        escaped = true;
                        i += 2;
                    } else {
                        let span = Span {
                            range: start + 1..i,
                            escaped,
                        };
                        return Ok(Some((span, i + 1)));
                    }
                }
            }
        }
    }
}

/// The end of an unquoted field starting at `pos`: the next `,`, `\n` or
/// `\r`, or the body's end. Most unquoted fields are empty `__mv_` cells or
/// a few digits, so the first bytes are looked at one by one before
/// `memchr3` takes over.
#[inline]
fn unquoted_end(body: &[u8], pos: usize) -> usize {
    let is_end = |b: &u8| matches!(b, b',' | b'\n' | b'\r');
    let near = &body[pos..body.len().min(pos + 8)];
    if let Some(n) = near.iter().position(is_end) {
        return pos + n;
    }
    let from = pos + near.len();
    memchr::memchr3(b',', b'\n', b'\r', &body[from..])
        .map_or(body.len(), |n| from + n)
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

    fn field_quotes_doubled<'s>(
        &'s self,
        slot: usize,
        scratch: &'s mut Vec<u8>,
    ) -> Field<'s> {
        if let Some(i) = self.columns.mv[slot] {
            if !self.spans[i].range.is_empty() {
                return self.field(slot, scratch);
            }
        }
        match self.columns.plain[slot] {
            Some(i) if !self.spans[i].range.is_empty() => {
                Field::Single(&self.body[self.spans[i].range.clone()])
            }
            _ => Field::Null,
        }
    }
}

/// Every field of every line of a CSV body, header first, decoded: for
/// showing a reply to a person.
pub fn all_rows(body: &[u8]) -> Result<Vec<Vec<Vec<u8>>>> {
    let mut records = Records::new(0, body, &[])?;
    let mut rows = Vec::new();
    if records.columns.width > 0 {
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

/// The names a search wants from a header, each with the (slot, is the
/// `__mv_` twin) pairs it serves.
fn wanted_names(names: &[String]) -> HashMap<Vec<u8>, Vec<(usize, bool)>> {
    let mut wanted: HashMap<Vec<u8>, Vec<(usize, bool)>> = HashMap::new();
    for (slot, name) in names.iter().enumerate() {
        let plain = name.as_bytes().to_vec();
        let twin = format!("__mv_{name}").into_bytes();
        wanted.entry(plain).or_default().push((slot, false));
        wanted.entry(twin).or_default().push((slot, true));
    }
    wanted
}

/// Appends `raw` to `out` with every `""` turned into `"`, copying the runs
/// between quotes whole.
fn unescape(raw: &[u8], out: &mut Vec<u8>) {
    let mut rest = raw;
    while let Some(i) = memchr::memchr(b'"', rest) {
        out.extend_from_slice(&rest[..=i]);
        rest = rest.get(i + 2..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
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
}
