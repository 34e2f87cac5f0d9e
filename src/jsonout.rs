//! Result rows as JSON lines: one object a row, keys in column order,
//! every value a string, as Splunk's REST API writes results
//! (`output_mode=json`: `"count":"1"`).
//!
//! Values are bytes; bytes that are not UTF-8 become U+FFFD, since JSON
//! text is Unicode. Everything else, line breaks included, is kept exactly.

use std::borrow::Cow;

/// Writes one JSON object per row, `\n` after each.
pub fn write_rows<'a, I>(columns: &[String], rows: I, out: &mut Vec<u8>)
where
    I: IntoIterator<Item = Vec<Cow<'a, [u8]>>>,
{
    for row in rows {
        out.push(b'{');
        for (i, (name, cell)) in columns.iter().zip(&row).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            string(name, out);
            out.push(b':');
            string(&String::from_utf8_lossy(cell), out);
        }
        out.push(b'}');
        out.push(b'\n');
    }
}

/// Writes `text` as a JSON string.
fn string(text: &str, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, text).expect("writing to a Vec works");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_as_objects_in_column_order() {
        let columns = vec!["b".to_string(), "a".to_string()];
        let rows = vec![
            vec![Cow::Borrowed(&b"x\r\n\"y\""[..]), Cow::Borrowed(&b"1"[..])],
            vec![Cow::Borrowed(&b"\xff"[..]), Cow::Borrowed(&b""[..])],
        ];
        let mut out = Vec::new();
        write_rows(&columns, rows, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"b\":\"x\\r\\n\\\"y\\\"\",\"a\":\"1\"}\n\
             {\"b\":\"\u{fffd}\",\"a\":\"\"}\n"
        );
    }
}
