//! The result table of one search: each hunt's rows under one header.
//!
//! One hunt gives the table ESCU's search gives: its BY fields, `count`,
//! `firstTime`, `lastTime`. Several hunts (`hunts=`) give one table with a
//! first column `hunt` holding the detection's name, then the union of the
//! hunts' BY fields, in the order they first appear going through the
//! hunts by name, then `count`, `firstTime`, `lastTime`. A hunt's rows
//! leave empty the cells of fields that are not in its BY list.
//!
//! That is the table Splunk itself makes when it puts result sets with
//! different fields together (`append`, `multisearch`): one column per
//! field of any set, and a field that a row does not have is empty (null)
//! in that row. Per-hunt headers are not an option: a CSV body, like a
//! Splunk results table, has one header. The 100 ESCU hunts with the
//! 13-field list come first in that order, and the one with 12 fields
//! (no `EventID`) has them in the same relative order, so every hunt's
//! cells read in its own BY order.
//!
//! Rows are ordered by hunt name (the order `sort hunt` and `stats ... BY
//! hunt` use, see `order`), then as `stats` orders them.

use std::borrow::Cow;
use std::collections::HashSet;
use std::convert::Infallible;
use std::io::{self, Write};

use crate::catalog::HUNT_COLUMN;
use crate::output;
use crate::stats::{Outcome, Row};

/// Most absent-field warnings sent for one search; the rest are counted.
pub const MAX_WARNINGS: usize = 10;

/// The CSV body goes out in pieces of about this many bytes (64 KiB), so
/// that it is never held whole next to the rows it is made of.
const PIECE: usize = 64 * 1024;

/// What one hunt found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HuntOutcome {
    /// The hunt's name; empty for the unnamed hunt.
    pub name: String,
    /// Its BY fields.
    pub by: Vec<String>,
    /// Events its condition matched.
    pub matched: u64,
    /// Its rows, and what stats dropped.
    pub outcome: Outcome,
}

/// The outcome of every hunt of a search, in output order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Results {
    /// True when the table has the `hunt` column.
    pub named: bool,
    /// The hunts, sorted by name when named.
    pub hunts: Vec<HuntOutcome>,
}

/// The union of BY lists: each field once, in order of first appearance.
pub fn union_by<'a, I>(lists: I) -> Vec<String>
where
    I: IntoIterator<Item = &'a [String]>,
{
    let mut union: Vec<String> = Vec::new();
    let mut seen: HashSet<&str> = HashSet::new();
    for list in lists {
        for field in list {
            if seen.insert(field) {
                union.push(field.clone());
            }
        }
    }
    union
}

impl Results {
    /// The results of one unnamed search over `by`.
    pub fn single(by: Vec<String>, matched: u64, outcome: Outcome) -> Results {
        Results {
            named: false,
            hunts: vec![HuntOutcome {
                name: String::new(),
                by,
                matched,
                outcome,
            }],
        }
    }

    /// The BY columns of the table.
    fn by_columns(&self) -> Vec<String> {
        union_by(self.hunts.iter().map(|h| h.by.as_slice()))
    }

    /// The column names.
    pub fn columns(&self) -> Vec<String> {
        let mut columns = Vec::new();
        if self.named {
            columns.push(HUNT_COLUMN.to_string());
        }
        columns.extend(self.by_columns());
        columns.extend(["count", "firstTime", "lastTime"].map(String::from));
        columns
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.hunts.iter().map(|h| h.outcome.rows.len()).sum()
    }

    /// The cells of every row, in order; `time` renders `firstTime` and
    /// `lastTime`.
    pub fn cells<'a, T>(&'a self, time: T) -> Vec<Vec<Cow<'a, [u8]>>>
    where
        T: Fn(&'a [u8]) -> Cow<'a, [u8]>,
    {
        let mut rows = Vec::with_capacity(self.rows());
        let visit = |cells: &[Cow<'a, [u8]>]| {
            rows.push(cells.to_vec());
            Ok::<(), Infallible>(())
        };
        let Ok(()) = self.each_row(time, visit);
        rows
    }

    /// Calls `visit` with the cells of every row, in order, one reused
    /// list at a time; `time` renders `firstTime` and `lastTime`. Stops at
    /// the first error `visit` returns.
    fn each_row<'a, T, E, F>(&'a self, time: T, mut visit: F) -> Result<(), E>
    where
        T: Fn(&'a [u8]) -> Cow<'a, [u8]>,
        F: FnMut(&[Cow<'a, [u8]>]) -> Result<(), E>,
    {
        let columns = self.by_columns();
        let mut cells = Vec::new();
        let mut values = Vec::new();
        for hunt in &self.hunts {
            let places: Vec<Option<usize>> = columns
                .iter()
                .map(|c| hunt.by.iter().position(|b| b == c))
                .collect();
            let name = self.named.then_some(&hunt.name);
            for row in &hunt.outcome.rows {
                cells.clear();
                values.clear();
                values.extend(row.values());
                row_cells(name, &places, &values, row, &time, &mut cells);
                visit(&cells)?;
            }
        }
        Ok(())
    }

    /// The CSV body for Splunk: the header and every row, times as they
    /// are; the header alone when there is no row.
    pub fn csv(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(self.csv_len());
        self.write_csv(&mut body).expect("writing to a Vec works");
        body
    }

    /// The length in bytes of [`Results::csv`], counted without writing
    /// it, for the chunk header that must come before the body.
    pub fn csv_len(&self) -> usize {
        let mut len = output::line_len(&self.columns());
        let Ok(()) = self.each_row(Cow::Borrowed, |cells| {
            len += output::line_len(cells);
            Ok::<(), Infallible>(())
        });
        len
    }

    /// Writes [`Results::csv`] to `out` in pieces of about [`PIECE`]
    /// bytes, never holding the whole body.
    pub fn write_csv<W: Write + ?Sized>(&self, out: &mut W) -> io::Result<()> {
        // The header goes out even with no rows: Splunk accepts header-only
        // bodies (protocol notes §4.5) and the columns tell what was asked.
        let mut piece = Vec::with_capacity(PIECE);
        output::write_line(&self.columns(), &mut piece);
        self.each_row(Cow::Borrowed, |cells| {
            output::write_line(cells, &mut piece);
            if piece.len() >= PIECE {
                out.write_all(&piece)?;
                piece.clear();
            }
            Ok::<(), io::Error>(())
        })?;
        out.write_all(&piece)
    }

    /// Sentences explaining hunts that matched events but returned no
    /// rows because a BY field is absent from all their matching events.
    pub fn warnings(&self) -> Vec<String> {
        let silent: Vec<&HuntOutcome> = self
            .hunts
            .iter()
            .filter(|h| h.matched > 0 && !h.outcome.absent.is_empty())
            .collect();
        let mut out: Vec<String> = silent
            .iter()
            .take(MAX_WARNINGS)
            .map(|h| {
                let text = crate::session::absent_message(
                    &h.outcome.absent,
                    h.matched,
                );
                if self.named {
                    format!("hunt '{}': {text}", h.name)
                } else {
                    text
                }
            })
            .collect();
        if silent.len() > MAX_WARNINGS {
            out.push(format!(
                "{} more hunts returned no rows for the same reason",
                silent.len() - MAX_WARNINGS
            ));
        }
        out
    }
}

/// Appends the cells of one row to `cells`: the hunt's name if named, its
/// `values` placed in the table's BY columns, then count, firstTime,
/// lastTime.
fn row_cells<'a, T>(
    name: Option<&'a String>,
    places: &[Option<usize>],
    values: &[&'a [u8]],
    row: &'a Row,
    time: &T,
    cells: &mut Vec<Cow<'a, [u8]>>,
) where
    T: Fn(&'a [u8]) -> Cow<'a, [u8]>,
{
    if let Some(name) = name {
        cells.push(Cow::Borrowed(name.as_bytes()));
    }
    for place in places {
        cells.push(match place {
            Some(i) => Cow::Borrowed(values[*i]),
            None => Cow::Borrowed(&b""[..]),
        });
    }
    cells.push(Cow::Owned(row.count.to_string().into_bytes()));
    cells.push(time(&row.first));
    cells.push(time(&row.last));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(values: &[&str], count: u64) -> Row {
        let values: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
        Row::new(&values, count, b"1", b"2")
    }

    fn hunt(name: &str, by: &[&str], rows: Vec<Row>) -> HuntOutcome {
        HuntOutcome {
            name: name.to_string(),
            by: by.iter().map(|s| s.to_string()).collect(),
            matched: rows.len() as u64,
            outcome: Outcome {
                rows,
                ..Outcome::default()
            },
        }
    }

    #[test]
    fn union_of_columns_with_empty_cells() {
        let results = Results {
            named: true,
            hunts: vec![
                hunt(
                    "A",
                    &["dest", "EventID", "t"],
                    vec![row(&["h", "4104", "x"], 2)],
                ),
                hunt(
                    "B, quoted",
                    &["dest", "t", "Path"],
                    vec![row(&["h", "y", "p"], 1)],
                ),
            ],
        };
        assert_eq!(
            results.columns(),
            vec![
                "hunt",
                "dest",
                "EventID",
                "t",
                "Path",
                "count",
                "firstTime",
                "lastTime"
            ]
        );
        assert_eq!(
            String::from_utf8(results.csv()).unwrap(),
            "hunt,dest,EventID,t,Path,count,firstTime,lastTime\n\
             A,h,4104,x,,2,1,2\n\
             \"B, quoted\",h,,y,p,1,1,2\n"
        );
    }

    #[test]
    fn one_unnamed_hunt_is_the_plain_table() {
        let results = Results {
            named: false,
            hunts: vec![hunt("", &["a"], vec![row(&["v"], 3)])],
        };
        assert_eq!(
            String::from_utf8(results.csv()).unwrap(),
            "a,count,firstTime,lastTime\nv,3,1,2\n"
        );
        let empty = Results {
            named: false,
            hunts: vec![hunt("", &["a"], vec![])],
        };
        assert_eq!(
            String::from_utf8(empty.csv()).unwrap(),
            "a,count,firstTime,lastTime\n"
        );
    }

    #[test]
    fn the_body_in_pieces_is_the_body_whole_and_counted_exactly() {
        // 5,000 rows of about 60 bytes: past four 64 KiB pieces, with
        // cells that need quotes and doubled quotes.
        let rows: Vec<Row> = (0..5000)
            .map(|i| {
                let text = format!("Stop-Service \"svc{i}\"\r\n, {i}");
                row(&[&text, " lead"], i)
            })
            .collect();
        let results = Results {
            named: true,
            hunts: vec![hunt("A, B", &["t", "u"], rows)],
        };
        let mut whole = Vec::new();
        output::write_csv(
            &results.columns(),
            results.cells(Cow::Borrowed),
            &mut whole,
        );
        let body = results.csv();
        assert_eq!(body, whole);
        assert_eq!(results.csv_len(), whole.len());
        assert!(whole.len() > 4 * PIECE, "{}", whole.len());
        let line =
            "\"A, B\",\"Stop-Service \"\"svc7\"\"\r\n, 7\",\" lead\",7,1,2\n";
        assert!(String::from_utf8(body).unwrap().contains(line));
    }

    #[test]
    fn warnings_per_hunt_capped() {
        let mut hunts = Vec::new();
        for i in 0..12 {
            let mut h = hunt(&format!("h{i:02}"), &["Path"], vec![]);
            h.matched = 2;
            h.outcome.absent = vec!["Path".to_string()];
            hunts.push(h);
        }
        let results = Results { named: true, hunts };
        let warnings = results.warnings();
        assert_eq!(warnings.len(), 11);
        assert!(warnings[0].starts_with(
            "hunt 'h00': 2 events matched, but no matching event has the \
             BY field Path"
        ));
        assert_eq!(
            warnings[10],
            "2 more hunts returned no rows for the same reason"
        );
    }
}
