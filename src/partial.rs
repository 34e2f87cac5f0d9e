//! Partial rows: what the map phase on an indexer sends to the search head
//! and what the reduce phase there reads back.
//!
//! One row per group of BY values, nulls kept as nulls (fillnull is left
//! to the search head: only the whole result set can decide it). Every
//! column is named with the reserved prefix `scriptblockhunt_`, the BY
//! values by position, so no BY field name ever becomes a column and no
//! `by=` list has to be refused:
//!
//! | column | cell |
//! | --- | --- |
//! | `scriptblockhunt_by1` … `_byN` | BY value N, one value; empty = null |
//! | `scriptblockhunt_count` | events in the group (at least 1) |
//! | `scriptblockhunt_min`, `_max` | min and max `_time` text; empty = none |
//! | `scriptblockhunt_empty` | cells above that hold an empty string rather than null, as `3;min` (BY number, `min`, `max`); usually empty |
//! | `scriptblockhunt_events` | matched events behind this reply, on its first row only |
//! | `scriptblockhunt_options` | fingerprint of the options the map phase parsed |
//!
//! Why each one:
//!
//! * Positional names starting with a letter: Splunk treats `__mv_x` as the
//!   multivalue twin of `x`, and drops fields starting with `_` that a
//!   search does not list when results leave an indexer (the remote search
//!   ends in `fields keepcolorder=t "*" "_bkt" ...`, protocol notes §11), so
//!   a BY field's own name is not a safe column name.
//! * `empty`: a CSV cell cannot tell null from an empty string (protocol
//!   notes §4.4), but stats keeps a group for an empty multivalue item
//!   apart from a null that fillnull fills.
//! * `events`: the search head's warning about BY fields that no event has
//!   quotes the number of matched events; counts of groups cannot give it
//!   when multivalue fields expand.
//! * `options`: the map phase gets its options through Splunk's
//!   tokenisation of the preop text (see `preop`). Rows made with other
//!   options would merge into wrong counts, so the search head refuses
//!   them.
//!
//! Only `count` and `options` must be there; a column missing from a
//! chunk reads as empty cells, so Splunk may leave out columns that are
//! empty in every row.

use std::borrow::Cow;

use crate::error::{Error, ErrorKind, Result};
use crate::event::{Event, Field};
use crate::options::Options;
use crate::output;
use crate::records::Records;
use crate::stats::Partial;

/// The prefix of every partial column.
pub const PREFIX: &str = "scriptblockhunt_";

/// Events in the group.
pub const COUNT: &str = "scriptblockhunt_count";

/// The group's smallest `_time` text.
pub const MIN: &str = "scriptblockhunt_min";

/// The group's largest `_time` text.
pub const MAX: &str = "scriptblockhunt_max";

/// Cells holding an empty string rather than null.
pub const EMPTY: &str = "scriptblockhunt_empty";

/// Matched events behind the reply (first row only).
pub const EVENTS: &str = "scriptblockhunt_events";

/// The options fingerprint.
pub const OPTIONS: &str = "scriptblockhunt_options";

/// The name of the column of BY value `index` (0-based): `_by1`, `_by2`…
pub fn by_column(index: usize) -> String {
    format!("{PREFIX}by{}", index + 1)
}

/// All partial columns for `by_len` BY fields, in order.
pub fn columns(by_len: usize) -> Vec<String> {
    let mut names: Vec<String> = (0..by_len).map(by_column).collect();
    names.extend([COUNT, MIN, MAX, EMPTY, EVENTS, OPTIONS].map(String::from));
    names
}

/// The fingerprint of what decides the partial rows and their merge: the
/// patterns, the field, the BY list, the fill value, and the version of
/// this format. 16 hex digits of FNV-1a (64 bit); 0xFF separates the parts
/// because it never occurs in UTF-8 text.
pub fn fingerprint(options: &Options) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut feed = |bytes: &[u8]| {
        for &b in bytes.iter().chain(&[0xff]) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    feed(b"scriptblockhunt partial rows 1");
    for pattern in &options.patterns {
        feed(pattern.as_bytes());
    }
    feed(b"field");
    feed(options.field.as_bytes());
    feed(b"by");
    for name in &options.by {
        feed(name.as_bytes());
    }
    feed(b"value");
    feed(options.value.as_bytes());
    if let Some(condition) = &options.condition {
        feed(b"condition");
        feed(condition.as_bytes());
    }
    format!("{hash:016x}")
}

/// Writes `partials` as one CSV body; `matched` is the number of matched
/// events behind them. Writes nothing when there are no partials.
pub fn write(
    partials: &[Partial],
    matched: u64,
    check: &str,
    by_len: usize,
    out: &mut Vec<u8>,
) {
    if partials.is_empty() {
        return;
    }
    let matched = matched.to_string();
    let rows = partials.iter().enumerate().map(|(i, partial)| {
        let mut cells: Vec<Cow<'_, [u8]>> = Vec::with_capacity(by_len + 6);
        let mut empty: Vec<String> = Vec::new();
        for (n, value) in partial.values.iter().enumerate() {
            if value.as_deref() == Some(b"") {
                empty.push((n + 1).to_string());
            }
            cells.push(Cow::Borrowed(value.as_deref().unwrap_or_default()));
        }
        cells.push(Cow::Owned(partial.count.to_string().into_bytes()));
        for (name, time) in [("min", &partial.min), ("max", &partial.max)] {
            if time.as_deref() == Some(b"") {
                empty.push(name.to_string());
            }
            cells.push(Cow::Borrowed(time.as_deref().unwrap_or_default()));
        }
        cells.push(Cow::Owned(empty.join(";").into_bytes()));
        let events = if i == 0 { matched.as_bytes() } else { b"" };
        cells.push(Cow::Borrowed(events));
        cells.push(Cow::Borrowed(check.as_bytes()));
        cells
    });
    output::write_csv(&columns(by_len), rows, out);
}

/// Reads the partial rows of one chunk body, calling `visit` with each
/// row and the matched events it reports; an error `visit` returns is
/// reported at that row. Refuses rows without a count or with another
/// options fingerprint than `check`. Returns the number of rows read.
pub fn read(
    chunk: u64,
    body: &[u8],
    by_len: usize,
    check: &str,
    mut visit: impl FnMut(&Partial, u64) -> std::result::Result<(), String>,
) -> Result<u64> {
    let names = columns(by_len);
    let mut records = Records::new(chunk, body, &names)?;
    let mut scratch = Vec::new();
    while records.advance()? {
        let record = records.count();
        let bad = |reason: String| {
            Error::new(ErrorKind::Csv {
                chunk,
                record,
                reason,
            })
        };
        let mut cell = |slot: usize| -> Result<Option<Box<[u8]>>> {
            match records.field(slot, &mut scratch) {
                Field::Null => Ok(None),
                Field::Single(v) => Ok(Some(v.into())),
                Field::Encoded(_) | Field::List(_) => Err(bad(format!(
                    "column {} holds several values; a partial row holds \
                     one value per cell",
                    names[slot]
                ))),
            }
        };

        let Some(found) = cell(by_len + 5)? else {
            return Err(bad(format!(
                "no {OPTIONS} cell: this is not a partial row of the map \
                 phase. With distributed=true the command reads only what \
                 its streaming_preop sends"
            )));
        };
        if *found != *check.as_bytes() {
            return Err(bad(format!(
                "the partial row was made with other options (fingerprint \
                 {} here {check}): Splunk passed the map phase different \
                 option values; see the indexer's search.log for the \
                 options it got",
                String::from_utf8_lossy(&found[..found.len().min(16)])
            )));
        }
        let mut values = Vec::with_capacity(by_len);
        for slot in 0..by_len {
            values.push(cell(slot)?);
        }
        let count = match cell(by_len)? {
            Some(text) => number(&text).filter(|n| *n > 0),
            None => None,
        }
        .ok_or_else(|| bad(format!("{COUNT} is not a count of 1 or more")))?;
        let mut min = cell(by_len + 1)?;
        let mut max = cell(by_len + 2)?;
        if let Some(list) = cell(by_len + 3)? {
            for item in list.split(|&b| b == b';') {
                let target = match item {
                    b"min" => &mut min,
                    b"max" => &mut max,
                    n => match number(n) {
                        Some(n) if (1..=by_len as u64).contains(&n) => {
                            &mut values[n as usize - 1]
                        }
                        _ => {
                            return Err(bad(format!(
                                "{EMPTY} names no column: '{}'",
                                String::from_utf8_lossy(
                                    &item[..item.len().min(20)]
                                )
                            )))
                        }
                    },
                };
                if target.is_some() {
                    return Err(bad(format!(
                        "{EMPTY} lists a cell that is not empty"
                    )));
                }
                *target = Some(Box::default());
            }
        }
        let events = match cell(by_len + 4)? {
            None => 0,
            Some(text) => number(&text).ok_or_else(|| {
                bad(format!("{EVENTS} is not a number of events"))
            })?,
        };
        let partial = Partial {
            values,
            count,
            min,
            max,
        };
        visit(&partial, events).map_err(bad)?;
    }
    Ok(records.count())
}

/// A decimal count: digits only, no sign, fits in 64 bits.
fn number(text: &[u8]) -> Option<u64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(values: &[Option<&str>], count: u64) -> Partial {
        Partial {
            values: values
                .iter()
                .map(|v| v.map(|s| s.as_bytes().into()))
                .collect(),
            count,
            min: Some(b"1.5"[..].into()),
            max: Some(b"9"[..].into()),
        }
    }

    fn read_all(body: &[u8], by_len: usize) -> Result<Vec<(Partial, u64)>> {
        let mut out = Vec::new();
        read(7, body, by_len, "00000000000000ab", |p, e| {
            out.push((p.clone(), e));
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn writes_the_documented_columns() {
        let mut partials = vec![
            partial(&[Some("a,b"), None], 2),
            partial(&[Some(""), Some("x")], 1),
        ];
        partials[1].min = Some(Box::default());
        partials[1].max = None;
        let mut out = Vec::new();
        write(&partials, 3, "00000000000000ab", 2, &mut out);
        assert_eq!(
            String::from_utf8(out.clone()).unwrap(),
            "scriptblockhunt_by1,scriptblockhunt_by2,scriptblockhunt_count,\
             scriptblockhunt_min,scriptblockhunt_max,scriptblockhunt_empty,\
             scriptblockhunt_events,scriptblockhunt_options\n\
             \"a,b\",,2,1.5,9,,3,00000000000000ab\n\
             ,x,1,,,1;min,,00000000000000ab\n"
        );
        let back = read_all(&out, 2).unwrap();
        assert_eq!(
            back,
            vec![(partials[0].clone(), 3), (partials[1].clone(), 0)]
        );
    }

    #[test]
    fn reads_splunk_quoting_and_missing_optional_columns() {
        // As Splunk re-encodes rows (every non-alphanumeric value quoted,
        // `__mv_` twins), and without the columns that were all empty.
        let body = b"\"scriptblockhunt_by1\",\"scriptblockhunt_count\",\
            \"scriptblockhunt_options\",\"__mv_scriptblockhunt_by1\"\n\
            \"\xd0\xb6 x\",5,\"00000000000000ab\",\n";
        let back = read_all(body, 1).unwrap();
        assert_eq!(back.len(), 1);
        let (p, events) = &back[0];
        assert_eq!(p.values, vec![Some("ж x".as_bytes().into())]);
        assert_eq!((p.count, &p.min, &p.max, *events), (5, &None, &None, 0));
    }

    #[test]
    fn refuses_rows_that_are_not_partials() {
        let err = read_all(b"ScriptBlockText,_time\nx,1\n", 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk 7: CSV record 1: no scriptblockhunt_options cell: this \
             is not a partial row of the map phase. With distributed=true \
             the command reads only what its streaming_preop sends"
        );
    }

    #[test]
    fn refuses_rows_made_with_other_options() {
        let body = b"scriptblockhunt_count,scriptblockhunt_options\n\
                     1,00000000000000ab\n1,ffffffffffffffff\n";
        let err = read_all(body, 0).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "chunk 7: CSV record 2: the partial row was made with other \
                 options (fingerprint ffffffffffffffff here 00000000000000ab)"
            ),
            "{err}"
        );
    }

    #[test]
    fn refuses_bad_cells() {
        let head = "scriptblockhunt_by1,__mv_scriptblockhunt_by1,\
                    scriptblockhunt_count,scriptblockhunt_empty,\
                    scriptblockhunt_events,scriptblockhunt_options\n";
        for (row, reason) in [
            (",,0,,,00000000000000ab", "is not a count of 1 or more"),
            (",,-1,,,00000000000000ab", "is not a count of 1 or more"),
            (",,,,,00000000000000ab", "is not a count of 1 or more"),
            (",,1,2,,00000000000000ab", "names no column: '2'"),
            (",,1,mid,,00000000000000ab", "names no column: 'mid'"),
            ("x,,1,1,,00000000000000ab", "lists a cell that is not empty"),
            (",,1,,x,00000000000000ab", "is not a number of events"),
            (
                "\"a\nb\",$a$;$b$,1,,,00000000000000ab",
                "holds several values",
            ),
        ] {
            let body = format!("{head}{row}\n");
            let err = read_all(body.as_bytes(), 1).unwrap_err().to_string();
            assert!(err.contains(reason), "{row}: {err}");
            assert!(err.starts_with("chunk 7: CSV record 1: "), "{err}");
        }
    }

    #[test]
    fn fingerprint_follows_every_option_that_matters() {
        let base = Options::default();
        let print = fingerprint(&base);
        assert_eq!(print.len(), 16);
        assert_eq!(print, fingerprint(&base.clone()));
        let variants = [
            Options::parse(&["pattern=*x*"]).unwrap(),
            Options::parse(&["field=Message"]).unwrap(),
            Options::parse(&["by=dest"]).unwrap(),
            Options::parse(&["value=none"]).unwrap(),
        ];
        for other in &variants {
            assert_ne!(fingerprint(other), print, "{other:?}");
        }
        // Where one option's text ends and the next begins matters too.
        let a = Options::parse(&["pattern=ab", "pattern=c"]).unwrap();
        let b = Options::parse(&["pattern=a", "pattern=bc"]).unwrap();
        assert_ne!(fingerprint(&a), fingerprint(&b));
        // distributed and phase do not change the rows.
        let map = Options::parse(&["phase=map"]).unwrap();
        assert_eq!(fingerprint(&map), print);
    }

    #[test]
    fn writes_nothing_without_partials() {
        let mut out = Vec::new();
        write(&[], 0, "x", 3, &mut out);
        assert!(out.is_empty());
    }
}
