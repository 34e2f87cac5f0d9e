//! Result rows as bytes: CSV for Splunk and for pipes, an aligned table for
//! people at a terminal.

use std::borrow::Cow;

use crate::stats::Row;

/// The cells of one row as text: BY values, count, firstTime, lastTime.
pub fn cells(row: &Row) -> Vec<Cow<'_, [u8]>> {
    let mut cells: Vec<Cow<'_, [u8]>> =
        row.values.iter().map(|v| Cow::Borrowed(&v[..])).collect();
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
    let header: Vec<&[u8]> = columns.iter().map(|c| c.as_bytes()).collect();
    write_line(&header, out);
    for row in rows {
        let cells: Vec<&[u8]> = row.iter().map(|c| c.as_ref()).collect();
        write_line(&cells, out);
    }
}

/// Writes one CSV line.
fn write_line(cells: &[&[u8]], out: &mut Vec<u8>) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_cell(cell, out);
    }
    out.push(b'\n');
}

/// Writes one CSV cell, quoted if it needs to be.
pub fn write_cell(cell: &[u8], out: &mut Vec<u8>) {
    let edge = |b: Option<&u8>| matches!(b, Some(b' ' | b'\t'));
    let needs_quotes = memchr::memchr3(b',', b'"', b'\n', cell).is_some()
        || memchr::memchr(b'\r', cell).is_some()
        || edge(cell.first())
        || edge(cell.last());
    if !needs_quotes {
        out.extend_from_slice(cell);
        return;
    }
    out.push(b'"');
    for &b in cell {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
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
            c if c.is_control() => out.push('\u{fffd}'),
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
