//! Result rows as bytes: CSV for Splunk and for pipes, an aligned table for
//! people at a terminal.

use std::borrow::Cow;

use crate::stats::Row;

/// The cells of one row as text: BY values, count, firstTime, lastTime.
pub fn cells(row: &Row) -> Vec<Cow<'_, [u8]>> {
    let mut cells: Vec<Cow<'_, [u8]>> =
        row.values().map(Cow::Borrowed).collect();
    cells.push(Cow::Owned(row.count.to_string().into_bytes()));
    cells.push(Cow::Borrowed(&row.first[..]));
    cells.push(Cow::Borrowed(&row.last[..]));
    cells
}

/// Writes a CSV table: the header, then one line per row, `\n` after each.
/// A cell is quoted when it holds `,` `"` CR or LF, or starts or ends with
/// a space or tab (Splunk drops leading spaces of unquoted values: SDK
/// issue 336); other bytes, invalid UTF-8 included, go out as they are.
pub fn write_csv<'a, I>(columns: &[String], rows: I, out: &mut Vec<u8>)
where
    I: IntoIterator<Item = Vec<Cow<'a, [u8]>>>,
{
    write_line(columns, out);
    for row in rows {
        write_line(&row, out);
    }
}

/// Writes one CSV line.
pub fn write_line<C: AsRef<[u8]>>(cells: &[C], out: &mut Vec<u8>) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cell(cell.as_ref(), out);
    }
    out.push(b'\n');
}

/// The number of bytes `write_line` writes for `cells`.
pub fn line_len<C: AsRef<[u8]>>(cells: &[C]) -> usize {
    let commas = cells.len().saturating_sub(1);
    let text: usize = cells.iter().map(|c| cell_len(c.as_ref())).sum();
    text + commas + 1
}

/// True when a cell must be quoted: it holds `,` `"` CR or LF, or starts
/// or ends with a space or tab.
fn needs_quotes(cell: &[u8]) -> bool {
    let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    edge(cell.first())
        || edge(cell.last())
        || memchr::memchr3(b',', b'"', b'\n', cell).is_some()
        || memchr::memchr(b'\r', cell).is_some()
}

/// Writes one CSV cell, quoted if it needs to be: the runs between
/// quotes are copied whole, each `"` doubled.
pub fn write_cell(cell: &[u8], out: &mut Vec<u8>) {
    if !needs_quotes(cell) {
        out.extend_from_slice(cell);
        return;
    }
    out.reserve(cell.len() + 2);
    out.push(b'"');
    let mut rest = cell;
    while let Some(i) = memchr::memchr(b'"', rest) {
        out.extend_from_slice(&rest[..=i]);
        out.push(b'"');
        rest = &rest[i + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

/// The number of bytes `write_cell` writes for `cell`.
pub fn cell_len(cell: &[u8]) -> usize {
    if !needs_quotes(cell) {
        return cell.len();
    }
    cell.len() + 2 + memchr::memchr_iter(b'"', cell).count()
}

/// Renders an aligned text table. Each cell shows at most `max_cell`
/// characters; line breaks show as `↵`, tabs as a space, other control
/// characters as `�`, and a cut cell ends in `…`.
pub fn table<'a, I>(columns: &[String], rows: I, max_cell: usize) -> String
where
    I: IntoIterator<Item = Vec<Cow<'a, [u8]>>>,
{
    let mut grid: Vec<Vec<String>> = vec![columns
        .iter()
        .map(|c| shown(c.as_bytes(), max_cell))
        .collect()];
    for row in rows {
        grid.push(row.iter().map(|c| shown(c, max_cell)).collect());
    }
    let mut widths = vec![0; columns.len()];
    for line in &grid {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for (n, line) in grid.iter().enumerate() {
        let padded: Vec<String> = line
            .iter()
            .zip(&widths)
            .map(|(cell, w)| {
                let pad = w - cell.chars().count();
                format!("{cell}{}", " ".repeat(pad))
            })
            .collect();
        out.push_str(padded.join("  ").trim_end());
        out.push('\n');
        if n == 0 {
            let rule: Vec<String> =
                widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("  "));
            out.push('\n');
        }
    }
    out
}

/// Renders an aligned text table no wider than `width` characters when it
/// can be: columns that fit keep their width, the widest ones are cut to
/// one common width (at least [`MIN_CUT`] characters), and a cut cell ends
/// in `…`. Cells show as in [`table`].
pub fn table_fit<'a, I>(columns: &[String], rows: I, width: usize) -> String
where
    I: IntoIterator<Item = Vec<Cow<'a, [u8]>>>,
{
    let mut grid: Vec<Vec<String>> = vec![columns
        .iter()
        .map(|c| shown(c.as_bytes(), usize::MAX))
        .collect()];
    for row in rows {
        grid.push(row.iter().map(|c| shown(c, usize::MAX)).collect());
    }
    let mut natural = vec![0; columns.len()];
    for line in &grid {
        for (w, cell) in natural.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let cap = common_cap(&natural, width);
    let rows = grid.into_iter().skip(1).map(|line| {
        line.into_iter()
            .map(|cell| Cow::Owned(cut(&cell, cap).into_bytes()))
            .collect()
    });
    let columns: Vec<String> = columns.iter().map(|c| cut(c, cap)).collect();
    table(&columns, rows, usize::MAX)
}

/// The narrowest a cut column gets.
pub const MIN_CUT: usize = 6;

/// The largest width such that the columns, each cut to it (a column
/// narrower than it keeps its width), with two spaces between columns,
/// fit in `width`; never below [`MIN_CUT`].
fn common_cap(natural: &[usize], width: usize) -> usize {
    let gaps = 2 * natural.len().saturating_sub(1);
    let room = width.saturating_sub(gaps);
    let needed =
        |cap: usize| -> usize { natural.iter().map(|&w| w.min(cap)).sum() };
    let widest = natural.iter().copied().max().unwrap_or(0);
    if needed(widest) <= room {
        return widest.max(MIN_CUT);
    }
    let (mut low, mut high) = (MIN_CUT, widest);
    while low < high {
        let mid = (low + high).div_ceil(2);
        if needed(mid) <= room {
            low = mid;
        } else {
            high = mid - 1;
        }
    }
    low
}

/// `text` cut to `cap` characters, the last one `…` when it was cut.
fn cut(text: &str, cap: usize) -> String {
    if text.chars().count() <= cap {
        return text.to_string();
    }
    let mut out: String = text.chars().take(cap.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// True for the characters that reorder text on a terminal (bidi
/// embeddings, overrides and isolates): attacker-written script text must
/// not rearrange the table a person reads.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One cell as the table shows it.
fn shown(cell: &[u8], max_cell: usize) -> String {
    let text = String::from_utf8_lossy(cell);
    let mut out = String::new();
    let mut chars = text.chars().peekable();
    let mut n = 0;
    while let Some(c) = chars.next() {
        if n + 1 == max_cell && chars.peek().is_some() {
            out.push('…');
            break;
        }
        match c {
            '\r' if chars.peek() == Some(&'\n') => continue,
            '\r' | '\n' => out.push('↵'),
            '\t' => out.push(' '),
            c if c.is_control() || is_bidi_control(c) => out.push('\u{fffd}'),
            c => out.push(c),
        }
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(rows: Vec<Vec<&[u8]>>) -> String {
        let mut out = Vec::new();
        let columns = vec!["a".to_string(), "b".to_string()];
        write_csv(
            &columns,
            rows.into_iter()
                .map(|r| r.into_iter().map(Cow::Borrowed).collect()),
            &mut out,
        );
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(
            csv(vec![
                vec![b"plain", b"x,y"],
                vec![b"say \"hi\"", b"two\nlines"],
                vec![b" lead", b"trail\t"],
                vec![b"", b"cr\r"],
            ]),
            "a,b\nplain,\"x,y\"\n\"say \"\"hi\"\"\",\"two\nlines\"\n\
             \" lead\",\"trail\t\"\n,\"cr\r\"\n"
        );
    }

    #[test]
    fn quotes_doubled_at_every_place() {
        let mut out = Vec::new();
        write_cell(b"\"\"a\"b\"", &mut out);
        assert_eq!(out, b"\"\"\"\"\"a\"\"b\"\"\"");
        assert_eq!(cell_len(b"\"\"a\"b\""), out.len());
    }

    proptest::proptest! {
        /// `write_cell` against the plain rule (quote when needed, double
        /// every `"`, one byte at a time), and `cell_len`/`line_len`
        /// against what is written.
        #[test]
        fn cells_as_the_plain_rule_writes_them(
            cells in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(
                        b"a \t,\"\r\n\xff".to_vec(),
                    ),
                    0..12,
                ),
                0..4,
            ),
        ) {
            let mut plain = Vec::new();
            for (i, cell) in cells.iter().enumerate() {
                if i > 0 {
                    plain.push(b',');
                }
                let special = |b: &u8| b",\"\r\n".contains(b);
                let edge = |b: Option<&u8>| b == Some(&b' ')
                    || b == Some(&b'\t');
                if cell.iter().any(special)
                    || edge(cell.first())
                    || edge(cell.last())
                {
                    plain.push(b'"');
                    for &b in cell {
                        if b == b'"' {
                            plain.push(b'"');
                        }
                        plain.push(b);
                    }
                    plain.push(b'"');
                } else {
                    plain.extend_from_slice(cell);
                }
            }
            plain.push(b'\n');
            let cells: Vec<&[u8]> = cells.iter().map(Vec::as_slice).collect();
            let mut out = Vec::new();
            write_line(&cells, &mut out);
            proptest::prop_assert_eq!(&out, &plain);
            proptest::prop_assert_eq!(line_len(&cells), plain.len());
        }
    }

    #[test]
    fn header_alone_when_no_rows() {
        assert_eq!(csv(vec![]), "a,b\n");
    }

    #[test]
    fn table_fits_a_width_cutting_the_widest_columns() {
        let columns = vec!["id".to_string(), "text".to_string()];
        let rows = vec![vec![
            Cow::Borrowed(&b"1"[..]),
            Cow::Borrowed(&b"first line\nsecond line of it"[..]),
        ]];
        // 2 + 2 spaces + 16 = 20 characters.
        assert_eq!(
            table_fit(&columns, rows.clone(), 20),
            "id  text\n--  ----------------\n1   first line↵seco…\n"
        );
        let wide = table_fit(&columns, rows, 200);
        assert!(wide.contains("first line↵second line of it"), "{wide}");
    }

    #[test]
    fn table_aligns_and_cuts() {
        let columns = vec!["name".to_string(), "n".to_string()];
        let rows = vec![
            vec![
                Cow::Borrowed(&b"line1\r\nline2"[..]),
                Cow::Borrowed(&b"1"[..]),
            ],
            vec![Cow::Borrowed(&b"x"[..]), Cow::Borrowed(&b"22"[..])],
        ];
        assert_eq!(
            table(&columns, rows, 8),
            "name      n\n--------  --\nline1↵l…  1\nx         22\n"
        );
    }
}
