//! `fillnull` followed by `stats count min(_time) max(_time) BY ...`.
//!
//! The two run as one. A bare `fillnull` fills a null field only when some
//! event of the result set has that field ("fillnull without a field list
//! fills only fields present in some result", SPL reference), so it can only
//! be decided once the whole set is known. The table therefore keeps its
//! groups with nulls as nulls and remembers which BY fields were ever seen
//! with a value. `finish` then fills, drops the groups that still have a
//! null (stats puts an event with a null BY field in no group), sorts, and
//! merges the groups that filling made equal (sorting puts them side by
//! side).
//!
//! These partial groups are exactly what a map phase can send to a reduce
//! phase: `merge` adds one partial group to a table, and the same `finish`
//! gives the same rows.
//!
//! State is one entry per distinct BY tuple, never per event, and at most
//! `max_groups` of them (default 1,000,000, Splunk's `limits.conf`
//! `[stats] max_keymap_rows`): the group that would pass the limit is
//! refused before it is stored. An event with multivalue BY fields joins
//! one group per combination of its values; those combinations are counted
//! over distinct values, a repeated value adding to the count instead of
//! being visited again, so one event costs at most `max_groups` steps
//! however its values repeat.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::ops::Range;

use hashbrown::hash_table::{Entry, HashTable};

use crate::grouphash::GroupHasher;
use crate::order::{self, Key};

/// The default limit on groups held: 1,000,000, the default of Splunk's
/// `limits.conf` `[stats] max_keymap_rows`.
pub const DEFAULT_MAX_GROUPS: usize = 1_000_000;

/// Key length from which a new group takes the table's key buffer instead
/// of a copy of it: 64 KiB, past which one more allocation per new group
/// costs nothing next to the bytes it spares.
const MOVE_KEY: usize = 64 * 1024;

/// Why the table refused an event or a partial group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Taking it would hold more groups than the limit.
    Groups {
        /// The limit in force.
        limit: usize,
    },
    /// Its count would not fit in 64 bits (BY values repeated so often
    /// that the combinations of one event overflow).
    Count,
}

impl std::fmt::Display for Limit {
    /// The reason, as an error message states it after the place.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Groups { limit } => write!(
                f,
                "stats would hold more than {limit} groups, the limit set \
                 by option max_groups; narrow the search or the BY fields, \
                 or raise max_groups"
            ),
            Limit::Count => write!(
                f,
                "the multivalue BY fields of this event repeat values so \
                 often that count would pass 18446744073709551615"
            ),
        }
    }
}

/// A `_time` value kept as a group's min or max: its text, and its number
/// parsed once.
#[derive(Clone, Debug)]
struct Extreme {
    /// The number the text spells, if any.
    number: Option<f64>,
    /// The original text, returned as is.
    text: Box<[u8]>,
}

impl Extreme {
    /// The extreme for `text`, whose number was parsed already.
    fn with_number(number: Option<f64>, text: &[u8]) -> Extreme {
        Extreme {
            number,
            text: text.into(),
        }
    }

    /// The sort key of this value.
    fn key(&self) -> Key<'_> {
        Key::with_number(self.number, &self.text)
    }
}

/// The aggregates of one group.
#[derive(Clone, Debug, Default)]
pub struct Aggregate {
    /// Number of events (one per value combination) in the group.
    count: u64,
    /// The smallest `_time`, if any event had one.
    min: Option<Extreme>,
    /// The largest `_time`, if any event had one.
    max: Option<Extreme>,
}

impl Aggregate {
    /// Folds one more `_time` value (or none) and a count into the group.
    /// The caller keeps every count within `Stats::total`, so the sums
    /// cannot overflow.
    fn add(&mut self, count: u64, min: Option<&[u8]>, max: Option<&[u8]>) {
        self.count += count;
        // A value is copied only when it becomes the new min or max.
        if let Some(t) = min {
            let number = order::number(t);
            let key = Key::with_number(number, t);
            if self.min.as_ref().is_none_or(|m| key < m.key()) {
                self.min = Some(Extreme::with_number(number, t));
            }
        }
        if let Some(t) = max {
            let number = order::number(t);
            let key = Key::with_number(number, t);
            if self.max.as_ref().is_none_or(|m| key > m.key()) {
                self.max = Some(Extreme::with_number(number, t));
            }
        }
    }

    /// Folds another group's aggregates into this one (the counts of all
    /// groups sum to at most `Stats::total`).
    fn absorb(&mut self, other: Aggregate) {
        self.count += other.count;
        if let Some(t) = other.min {
            if self.min.as_ref().is_none_or(|m| t.key() < m.key()) {
                self.min = Some(t);
            }
        }
        if let Some(t) = other.max {
            if self.max.as_ref().is_none_or(|m| t.key() > m.key()) {
                self.max = Some(t);
            }
        }
    }
}

/// One result row: the BY values, then count, firstTime, lastTime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The BY values, in BY order, encoded as a group key without nulls
    /// (see `push_key_part`): the table's own key, moved, not copied into
    /// one allocation per value. Equal keys are equal tuples.
    key: Box<[u8]>,
    /// `count`.
    pub count: u64,
    /// `firstTime`: the text of `min(_time)`, empty if no event had one.
    pub first: Box<[u8]>,
    /// `lastTime`: the text of `max(_time)`, empty if no event had one.
    pub last: Box<[u8]>,
}

impl Row {
    /// The row of BY values `values`, with its count and times.
    pub fn new(
        values: &[&[u8]],
        count: u64,
        first: &[u8],
        last: &[u8],
    ) -> Row {
        let mut key = Vec::new();
        for value in values {
            push_key_part(&mut key, Some(value));
        }
        Row {
            key: key.into(),
            count,
            first: first.into(),
            last: last.into(),
        }
    }

    /// The BY values, in BY order.
    pub fn values(&self) -> impl Iterator<Item = &[u8]> + '_ {
        // A row's key holds no null; were one there, it would read empty.
        KeyParts(&self.key).map(Option::unwrap_or_default)
    }
}

/// A partial group, as a map phase emits it: BY values with nulls kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partial {
    /// The BY values, `None` where the field was null.
    pub values: Vec<Option<Box<[u8]>>>,
    /// Events in the group.
    pub count: u64,
    /// The smallest `_time`, if any.
    pub min: Option<Box<[u8]>>,
    /// The largest `_time`, if any.
    pub max: Option<Box<[u8]>>,
}

/// What `finish` found besides the rows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The rows, sorted.
    pub rows: Vec<Row>,
    /// BY fields that no event had, so that fillnull did not create them
    /// and stats dropped every event.
    pub absent: Vec<String>,
    /// Group memberships dropped because of `absent` fields.
    pub dropped: u64,
}

/// One group of the table.
#[derive(Debug)]
struct Group {
    /// The hash of `key`, kept so that the table grows without hashing any
    /// multi-KB key again.
    hash: u64,
    /// The encoded BY tuple (see `push_key_part`).
    key: Box<[u8]>,
    /// Its aggregates.
    aggregate: Aggregate,
}

/// The groups of one search, with nulls not yet filled.
#[derive(Debug)]
pub struct Stats {
    /// The BY field names, in order.
    by: Vec<String>,
    /// The groups, found by the hash of their key.
    groups: HashTable<Group>,
    /// Hashes the keys, under this table's random seed.
    hasher: GroupHasher,
    /// For each BY field: seen with a value in some event.
    present: Vec<bool>,
    /// Reused key buffer.
    key: Vec<u8>,
    /// Most groups held at once.
    limit: usize,
    /// Sum of every group's count; checked, so that no count and no sum of
    /// counts (when fillnull merges groups) can overflow.
    total: u64,
}

impl Stats {
    /// An empty table over the BY fields `by`, holding at most
    /// `DEFAULT_MAX_GROUPS` groups.
    pub fn new(by: &[String]) -> Stats {
        Stats::with_limit(by, DEFAULT_MAX_GROUPS)
    }

    /// An empty table over the BY fields `by`, holding at most `limit`
    /// groups.
    pub fn with_limit(by: &[String], limit: usize) -> Stats {
        Stats {
            by: by.to_vec(),
            groups: HashTable::new(),
            hasher: GroupHasher::random(),
            present: vec![false; by.len()],
            key: Vec::new(),
            limit,
            total: 0,
        }
    }

    /// Sets the most groups the table may hold from now on (groups it
    /// already holds stay).
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Number of groups held.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    /// True when no group is held.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Takes the groups held so far, leaving an empty table over the same
    /// BY fields (the map phase sends them and starts over).
    pub fn take(&mut self) -> Stats {
        let fresh = Stats::with_limit(&self.by, self.limit);
        std::mem::replace(self, fresh)
    }

    /// Adds one event. `values[i]` lists the ranges in `arena` of BY field
    /// i's values (empty = null); the event joins one group per combination
    /// of values, a repeated value counting once per occurrence
    /// (`dedup_splitvals` defaults to false). Refused, with nothing added,
    /// when its distinct combinations alone pass the group limit; refused
    /// part way when a new group would pass it (the search ends then).
    pub fn add_event(
        &mut self,
        arena: &[u8],
        values: &[Vec<Range<usize>>],
        time: Option<&[u8]>,
    ) -> Result<(), Limit> {
        if values.iter().all(|list| list.len() <= 1) {
            // One combination: no lists to build, no allocation.
            for (present, list) in self.present.iter_mut().zip(values) {
                *present |= !list.is_empty();
            }
            self.key.clear();
            // The key's exact size up front: a large key grown by
            // doubling would keep up to twice its bytes.
            let size: usize = values
                .iter()
                .map(|list| list.first().map_or(1, |r| 5 + r.len()))
                .sum();
            self.key.reserve_exact(size);
            for list in values {
                let value = list.first().map(|r| &arena[r.clone()]);
                push_key_part(&mut self.key, value);
            }
            return self.bump(1, time, time);
        }
        let hasher = &self.hasher;
        let distinct: Vec<Vec<(&[u8], u64)>> = values
            .iter()
            .map(|list| distinct(arena, list, hasher))
            .collect();
        let combinations = distinct
            .iter()
            .try_fold(1usize, |n, d| n.checked_mul(d.len().max(1)));
        if combinations.is_none_or(|n| n > self.limit) {
            return Err(Limit::Groups { limit: self.limit });
        }
        for (present, list) in self.present.iter_mut().zip(values) {
            *present |= !list.is_empty();
        }

        let mut choice = vec![0usize; distinct.len()];
        loop {
            self.key.clear();
            let mut count = 1u64;
            for (list, &c) in distinct.iter().zip(&choice) {
                let value = list.get(c);
                push_key_part(&mut self.key, value.map(|(v, _)| *v));
                if let Some((_, times)) = value {
                    count = count.checked_mul(*times).ok_or(Limit::Count)?;
                }
            }
            self.bump(count, time, time)?;

            let mut i = distinct.len();
            loop {
                if i == 0 {
                    return Ok(());
                }
                i -= 1;
                choice[i] += 1;
                if choice[i] < distinct[i].len() {
                    break;
                }
                choice[i] = 0;
            }
        }
    }

    /// Adds one partial group (from a map phase); refused when it would
    /// be a new group past the limit, or its count would overflow.
    pub fn merge(&mut self, partial: &Partial) -> Result<(), Limit> {
        self.key.clear();
        for (present, value) in self.present.iter_mut().zip(&partial.values) {
            *present |= value.is_some();
            push_key_part(&mut self.key, value.as_deref());
        }
        self.bump(
            partial.count,
            partial.min.as_deref(),
            partial.max.as_deref(),
        )
    }

    /// Adds `count` and the times to the group of the key in `self.key`,
    /// creating the group unless that would pass the limit.
    fn bump(
        &mut self,
        count: u64,
        min: Option<&[u8]>,
        max: Option<&[u8]>,
    ) -> Result<(), Limit> {
        let total = self.total.checked_add(count).ok_or(Limit::Count)?;
        let full = self.groups.len() >= self.limit;
        let key = self.key.as_slice();
        let hash = self.hasher.hash_one(key);
        let same = |g: &Group| g.hash == hash && *g.key == *key;
        let group = match self.groups.entry(hash, same, |g| g.hash) {
            Entry::Occupied(group) => group.into_mut(),
            Entry::Vacant(_) if full => {
                return Err(Limit::Groups { limit: self.limit });
            }
            Entry::Vacant(group) => {
                // A large key moves into the group with its buffer, so
                // that the buffer does not keep a second copy (hunts=all
                // would hold two per hunt); a small one is copied.
                let key = if key.len() >= MOVE_KEY {
                    std::mem::take(&mut self.key).into_boxed_slice()
                } else {
                    key.into()
                };
                group
                    .insert(Group {
                        hash,
                        key,
                        aggregate: Aggregate::default(),
                    })
                    .into_mut()
            }
        };
        group.aggregate.add(count, min, max);
        self.total = total;
        Ok(())
    }

    /// The groups with nulls kept, in no particular order (for a map
    /// phase).
    pub fn partials(&self) -> impl Iterator<Item = Partial> + '_ {
        self.groups.iter().map(|group| Partial {
            values: decode_key(&group.key),
            count: group.aggregate.count,
            min: group.aggregate.min.as_ref().map(|m| m.text.clone()),
            max: group.aggregate.max.as_ref().map(|m| m.text.clone()),
        })
    }

    /// Fills nulls with `fill` where the field is present somewhere, drops
    /// the groups with a field present nowhere, merges, and sorts.
    pub fn finish(self, fill: &[u8]) -> Outcome {
        let absent: Vec<String> = self
            .by
            .iter()
            .zip(&self.present)
            .filter(|(_, present)| !**present)
            .map(|(name, _)| name.clone())
            .collect();
        let mut outcome = Outcome {
            absent,
            ..Outcome::default()
        };
        if !outcome.absent.is_empty() {
            outcome.dropped =
                self.groups.iter().map(|g| g.aggregate.count).sum();
            return outcome;
        }

        // The keys move into the rows; only a key with a null is written
        // anew (and the old one freed at once), filled.
        let mut filled: Vec<(Box<[u8]>, Aggregate)> =
            Vec::with_capacity(self.groups.len());
        for Group { key, aggregate, .. } in self.groups {
            let key = if KeyParts(&key).any(|v| v.is_none()) {
                filled_key(&key, fill)
            } else {
                key
            };
            filled.push((key, aggregate));
        }
        outcome.rows = merge_sorted(filled);
        outcome
    }
}

/// The distinct values of one field, each with how often it occurs, in
/// order of first occurrence.
fn distinct<'a>(
    arena: &'a [u8],
    list: &[Range<usize>],
    hasher: &GroupHasher,
) -> Vec<(&'a [u8], u64)> {
    let mut out: Vec<(&[u8], u64)> = Vec::with_capacity(list.len());
    if list.len() < 2 {
        out.extend(list.iter().map(|r| (&arena[r.clone()], 1)));
        return out;
    }
    let mut index: HashMap<&[u8], usize, GroupHasher> =
        HashMap::with_capacity_and_hasher(list.len(), hasher.clone());
    for r in list {
        let value = &arena[r.clone()];
        match index.get(value) {
            Some(&i) => out[i].1 += 1,
            None => {
                index.insert(value, out.len());
                out.push((value, 1));
            }
        }
    }
    out
}

/// Sorts rows by their BY tuple, field by field, in the total order.
pub fn sort_rows(rows: &mut [Row]) {
    rows.sort_by(|a, b| compare_keys(&a.key, &b.key));
}

/// Compares two null-free group keys as BY tuples, field by field in the
/// total order.
fn compare_keys(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let mut b_parts = KeyParts(b);
    for x in KeyParts(a) {
        let Some(y) = b_parts.next() else {
            return std::cmp::Ordering::Greater;
        };
        // Equal bytes compare Equal; checking that first spares parsing
        // numbers for the fields most rows share.
        if x == y {
            continue;
        }
        let ordering =
            order::compare(x.unwrap_or_default(), y.unwrap_or_default());
        if ordering.is_ne() {
            return ordering;
        }
    }
    if b_parts.next().is_some() {
        return std::cmp::Ordering::Less;
    }
    std::cmp::Ordering::Equal
}

/// The rows of filled groups: sorted, and with the groups that filling
/// made equal merged into one. Only a key that held a null can meet
/// another after filling, but sorting puts equal tuples side by side
/// anyway, so one pass over neighbours merges them without hashing any
/// tuple again. That relies on `order::compare` being `Equal` only for
/// equal bytes (see its tests).
fn merge_sorted(mut filled: Vec<(Box<[u8]>, Aggregate)>) -> Vec<Row> {
    filled.sort_unstable_by(|a, b| compare_keys(&a.0, &b.0));
    filled.dedup_by(|later, kept| {
        if later.0 != kept.0 {
            return false;
        }
        kept.1.absorb(std::mem::take(&mut later.1));
        true
    });
    filled
        .into_iter()
        .map(|(key, aggregate)| Row {
            key,
            count: aggregate.count,
            first: aggregate.min.map_or_else(Default::default, |m| m.text),
            last: aggregate.max.map_or_else(Default::default, |m| m.text),
        })
        .collect()
}

/// Appends one BY value (or null) to an encoded group key: a 0 byte for
/// null, or a 1 byte, the length as 4 little-endian bytes, and the value.
fn push_key_part(key: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        None => key.push(0),
        Some(v) => {
            key.push(1);
            key.extend_from_slice(&(v.len() as u32).to_le_bytes());
            key.extend_from_slice(v);
        }
    }
}

/// The BY values (or nulls) of a group key made by `push_key_part`, in
/// order.
struct KeyParts<'a>(&'a [u8]);

impl<'a> Iterator for KeyParts<'a> {
    type Item = Option<&'a [u8]>;

    /// The next value, `None` inside for a null.
    fn next(&mut self) -> Option<Option<&'a [u8]>> {
        let (&tag, rest) = self.0.split_first()?;
        if tag == 0 {
            self.0 = rest;
            return Some(None);
        }
        let (len, rest) = rest.split_at(4);
        let len =
            u32::from_le_bytes(len.try_into().expect("4 bytes")) as usize;
        let (value, rest) = rest.split_at(len);
        self.0 = rest;
        Some(Some(value))
    }
}

/// Decodes a group key made by `push_key_part`.
fn decode_key(key: &[u8]) -> Vec<Option<Box<[u8]>>> {
    KeyParts(key).map(|v| v.map(Into::into)).collect()
}

/// `key` with every null replaced by `fill`.
fn filled_key(key: &[u8], fill: &[u8]) -> Box<[u8]> {
    // A null takes 1 byte; a filled one 5 and the fill.
    let nulls = KeyParts(key).filter(Option::is_none).count();
    let mut out = Vec::with_capacity(key.len() + nulls * (4 + fill.len()));
    for value in KeyParts(key) {
        push_key_part(&mut out, Some(value.unwrap_or(fill)));
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds an event from per-field value lists.
    fn add(stats: &mut Stats, fields: &[&[&str]], time: Option<&str>) {
        let mut arena = Vec::new();
        let mut values = Vec::new();
        for list in fields {
            let mut ranges = Vec::new();
            for v in *list {
                let start = arena.len();
                arena.extend_from_slice(v.as_bytes());
                ranges.push(start..arena.len());
            }
            values.push(ranges);
        }
        stats
            .add_event(&arena, &values, time.map(str::as_bytes))
            .unwrap();
    }

    fn by(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn show(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| {
                let mut cells: Vec<String> = r
                    .values()
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .collect();
                cells.push(r.count.to_string());
                cells.push(String::from_utf8_lossy(&r.first).into_owned());
                cells.push(String::from_utf8_lossy(&r.last).into_owned());
                cells.join("|")
            })
            .collect()
    }

    #[test]
    fn count_min_max_per_group() {
        let mut stats = Stats::new(&by(&["h"]));
        add(&mut stats, &[&["a"]], Some("1651498781.710158"));
        add(&mut stats, &[&["a"]], Some("1651495181.710158"));
        add(&mut stats, &[&["a"]], Some("1651495181.999"));
        add(&mut stats, &[&["b"]], Some("9"));
        add(&mut stats, &[&["b"]], Some("10"));
        let outcome = stats.finish(b"0");
        assert_eq!(
            show(&outcome.rows),
            vec!["a|3|1651495181.710158|1651498781.710158", "b|2|9|10"]
        );
    }

    #[test]
    fn fillnull_fills_fields_present_somewhere() {
        let mut stats = Stats::new(&by(&["h", "Path"]));
        add(&mut stats, &[&["x"], &[]], Some("1"));
        add(&mut stats, &[&["x"], &["C:\\a.ps1"]], Some("2"));
        add(&mut stats, &[&["x"], &["0"]], Some("3"));
        let outcome = stats.finish(b"0");
        // The filled null and the real "0" land in the same group.
        assert_eq!(
            show(&outcome.rows),
            vec!["x|0|2|1|3", "x|C:\\a.ps1|1|2|2"]
        );
        assert!(outcome.absent.is_empty());
    }

    #[test]
    fn field_absent_everywhere_drops_every_event() {
        let mut stats = Stats::new(&by(&["h", "Path"]));
        add(&mut stats, &[&["x"], &[]], Some("1"));
        add(&mut stats, &[&["y"], &[]], Some("2"));
        let outcome = stats.finish(b"0");
        assert!(outcome.rows.is_empty());
        assert_eq!(outcome.absent, vec!["Path"]);
        assert_eq!(outcome.dropped, 2);
    }

    #[test]
    fn multivalue_by_fields_cross_product_with_repeats() {
        let mut stats = Stats::new(&by(&["a", "b"]));
        add(&mut stats, &[&["1", "2", "1"], &["x", "y"]], Some("5"));
        let outcome = stats.finish(b"0");
        assert_eq!(
            show(&outcome.rows),
            vec!["1|x|2|5|5", "1|y|2|5|5", "2|x|1|5|5", "2|y|1|5|5"]
        );
    }

    #[test]
    fn rows_sort_numbers_first_then_bytes() {
        let mut stats = Stats::new(&by(&["p"]));
        for v in ["1a", "10", "2", "5336", "812", "B", "a"] {
            add(&mut stats, &[&[v]], None);
        }
        let outcome = stats.finish(b"0");
        let first: Vec<String> = show(&outcome.rows)
            .iter()
            .map(|r| r[..r.find('|').unwrap()].to_string())
            .collect();
        assert_eq!(first, vec!["2", "10", "812", "5336", "1a", "B", "a"]);
        assert_eq!(show(&outcome.rows)[0], "2|1||");
    }

    #[test]
    fn groups_compare_exact_bytes() {
        let mut stats = Stats::new(&by(&["h"]));
        add(&mut stats, &[&["ABC"]], Some("1"));
        add(&mut stats, &[&["abc"]], Some("2"));
        add(&mut stats, &[&["ABC "]], Some("3"));
        let outcome = stats.finish(b"0");
        assert_eq!(
            show(&outcome.rows),
            vec!["ABC|1|1|1", "ABC |1|3|3", "abc|1|2|2"]
        );
    }

    #[test]
    fn min_max_numbers_before_strings_and_original_text() {
        let mut stats = Stats::new(&by(&["h"]));
        for t in ["10", "abc", "9.50", "1e1", "B"] {
            add(&mut stats, &[&["x"]], Some(t));
        }
        add(&mut stats, &[&["x"]], None);
        let outcome = stats.finish(b"0");
        // 9.50 is the smallest number (text kept, not 9.5); strings come
        // after numbers, and "abc" > "B" by bytes.
        assert_eq!(show(&outcome.rows), vec!["x|6|9.50|abc"]);
    }

    #[test]
    fn no_events_no_rows() {
        let outcome = Stats::new(&by(&["h"])).finish(b"0");
        assert!(outcome.rows.is_empty());
    }

    #[test]
    fn merged_partials_equal_a_single_table() {
        let events: Vec<(Vec<&[&str]>, &str)> = vec![
            (vec![&["a"], &[]], "3"),
            (vec![&["a"], &["p"]], "1"),
            (vec![&["b", "a"], &["0"]], "2"),
            (vec![&["a"], &[]], "7"),
        ];
        let names = by(&["h", "Path"]);
        let mut whole = Stats::new(&names);
        let mut left = Stats::new(&names);
        let mut right = Stats::new(&names);
        for (i, (fields, time)) in events.iter().enumerate() {
            add(&mut whole, fields, Some(time));
            let side = if i % 2 == 0 { &mut left } else { &mut right };
            add(side, fields, Some(time));
        }
        let mut reduce = Stats::new(&names);
        for partial in left.partials().chain(right.partials()) {
            reduce.merge(&partial).unwrap();
        }
        assert_eq!(reduce.finish(b"0"), whole.finish(b"0"));
    }

    /// `add`, keeping the result.
    fn try_add(stats: &mut Stats, fields: &[Vec<&str>]) -> Result<(), Limit> {
        let mut arena = Vec::new();
        let mut values = Vec::new();
        for list in fields {
            let mut ranges = Vec::new();
            for v in list {
                let start = arena.len();
                arena.extend_from_slice(v.as_bytes());
                ranges.push(start..arena.len());
            }
            values.push(ranges);
        }
        stats.add_event(&arena, &values, Some(b"1"))
    }

    #[test]
    fn the_group_past_the_limit_is_refused() {
        let mut stats = Stats::with_limit(&by(&["h"]), 2);
        try_add(&mut stats, &[vec!["a"]]).unwrap();
        try_add(&mut stats, &[vec!["b"]]).unwrap();
        assert_eq!(
            try_add(&mut stats, &[vec!["c"]]),
            Err(Limit::Groups { limit: 2 })
        );
        // Existing groups still take events.
        try_add(&mut stats, &[vec!["a"]]).unwrap();
        assert_eq!(stats.len(), 2);
        assert_eq!(show(&stats.finish(b"0").rows), vec!["a|2|1|1", "b|1|1|1"]);
    }

    #[test]
    fn a_cross_product_past_the_limit_is_refused_before_any_group() {
        let mut stats = Stats::with_limit(&by(&["a", "b"]), 3);
        let err = try_add(&mut stats, &[vec!["1", "2"], vec!["x", "y"]]);
        assert_eq!(err, Err(Limit::Groups { limit: 3 }));
        assert!(stats.is_empty());
        // 2 x 1 combinations fit.
        try_add(&mut stats, &[vec!["1", "2"], vec!["x"]]).unwrap();
        assert_eq!(stats.len(), 2);
    }

    #[test]
    fn repeated_values_are_counted_not_visited() {
        // 100,000 copies of one value in each of three BY fields: Splunk's
        // stats counts the event 10^15 times in one group. Visiting every
        // combination would take days; counting distinct values is one
        // step.
        let mut stats = Stats::new(&by(&["a", "b", "c"]));
        let field = |v: &'static str| vec![v; 100_000];
        try_add(&mut stats, &[field("x"), field("y"), field("z")]).unwrap();
        assert_eq!(
            show(&stats.finish(b"0").rows),
            vec!["x|y|z|1000000000000000|1|1"]
        );
    }

    #[test]
    fn a_count_past_64_bits_is_refused() {
        // Seven fields of 1024 repeats: 2^70 combinations of one group.
        let names = by(&["a", "b", "c", "d", "e", "f", "g"]);
        let mut stats = Stats::new(&names);
        let fields: Vec<Vec<&str>> = (0..7).map(|_| vec!["v"; 1024]).collect();
        assert_eq!(try_add(&mut stats, &fields), Err(Limit::Count));
        // 2^60 per event: fifteen events fit in 64 bits, the 16th does not.
        let mut stats = Stats::new(&names);
        let fields: Vec<Vec<&str>> = (0..7)
            .map(|i| vec!["v"; if i < 6 { 1024 } else { 1 }])
            .collect();
        for _ in 0..15 {
            try_add(&mut stats, &fields).unwrap();
        }
        assert_eq!(try_add(&mut stats, &fields), Err(Limit::Count));
    }

    #[test]
    fn keys_with_nulls_colliding_after_fill_merge_counts_min_max() {
        // Four groups before filling; with fill "0" three of them are
        // (x, 0, 0): the real "0"s, a null Path, and both null. Counts add
        // (2 + 1 + 3), min and max are taken over all three, by number
        // (9.5 < 10 < 100), keeping the original text.
        let mut stats = Stats::new(&by(&["h", "Path", "u"]));
        add(&mut stats, &[&["x"], &["0"], &["0"]], Some("10"));
        add(&mut stats, &[&["x"], &["0"], &["0"]], Some("100"));
        add(&mut stats, &[&["x"], &[], &["0"]], Some("9.50"));
        add(&mut stats, &[&["x"], &[], &[]], Some("11"));
        add(&mut stats, &[&["x"], &[], &[]], None);
        add(&mut stats, &[&["x"], &[], &[]], Some("12"));
        add(&mut stats, &[&["x"], &["p"], &[]], Some("5"));
        assert_eq!(stats.len(), 4);
        let outcome = stats.finish(b"0");
        assert_eq!(
            show(&outcome.rows),
            vec!["x|0|0|6|9.50|100", "x|p|0|1|5|5"]
        );
    }

    #[test]
    fn keys_with_nulls_only_merge_among_themselves() {
        // (a, null) and (null, a) both hold a null and an "a", yet stay
        // apart; (a, null) meets (a, "NULL") because the fill is "NULL",
        // and (null, null) meets ("NULL", "NULL").
        let mut stats = Stats::new(&by(&["h", "Path"]));
        add(&mut stats, &[&["a"], &[]], Some("3"));
        add(&mut stats, &[&[], &["a"]], Some("4"));
        add(&mut stats, &[&["a"], &["NULL"]], Some("2"));
        add(&mut stats, &[&["NULL"], &["NULL"]], Some("1"));
        add(&mut stats, &[&[], &[]], Some("8"));
        let outcome = stats.finish(b"NULL");
        assert_eq!(
            show(&outcome.rows),
            vec!["NULL|NULL|2|1|8", "NULL|a|1|4|4", "a|NULL|2|2|3"]
        );
    }

    #[test]
    fn merged_partials_with_null_keys_equal_a_single_table() {
        // Partial groups from two map phases, each with its own table and
        // hasher seed: the filled merge gives the rows of one table.
        let names = by(&["h", "Path"]);
        let mut left = Stats::new(&names);
        let mut right = Stats::new(&names);
        add(&mut left, &[&["a"], &[]], Some("5"));
        add(&mut left, &[&["a"], &["0"]], Some("7"));
        add(&mut right, &[&["a"], &[]], Some("1"));
        add(&mut right, &[&["a"], &["0"]], None);
        add(&mut right, &[&["b"], &["q"]], Some("2"));
        let mut reduce = Stats::new(&names);
        for partial in right.partials().chain(left.partials()) {
            reduce.merge(&partial).unwrap();
        }
        assert_eq!(
            show(&reduce.finish(b"0").rows),
            vec!["a|0|4|1|7", "b|q|1|2|2"]
        );
    }

    /// The rows of `events` (single values or nulls, with times) computed
    /// the plain way: fill each event's nulls where the field is present
    /// in some event, group in an ordered map by exact bytes, then sort
    /// the groups in the total order.
    fn oracle(
        fields: usize,
        events: &[(Vec<Option<String>>, Option<String>)],
        fill: &str,
    ) -> Vec<String> {
        use std::collections::BTreeMap;
        let present: Vec<bool> = (0..fields)
            .map(|i| events.iter().any(|(v, _)| v[i].is_some()))
            .collect();
        if present.contains(&false) {
            return Vec::new();
        }
        let mut groups: BTreeMap<Vec<String>, (u64, Vec<String>)> =
            BTreeMap::new();
        for (values, time) in events {
            let key = values
                .iter()
                .map(|v| v.clone().unwrap_or_else(|| fill.to_string()))
                .collect();
            let group = groups.entry(key).or_default();
            group.0 += 1;
            group.1.extend(time.clone());
        }
        let mut rows: Vec<(Vec<String>, String)> = groups
            .into_iter()
            .map(|(key, (count, mut times))| {
                times.sort_by(|a, b| {
                    order::compare(a.as_bytes(), b.as_bytes())
                });
                let first = times.first().cloned().unwrap_or_default();
                let last = times.last().cloned().unwrap_or_default();
                let row = format!("{}|{count}|{first}|{last}", key.join("|"));
                (key, row)
            })
            .collect();
        rows.sort_by(|a, b| {
            let pairs = a.0.iter().zip(&b.0);
            pairs
                .map(|(x, y)| order::compare(x.as_bytes(), y.as_bytes()))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        rows.into_iter().map(|(_, row)| row).collect()
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
            256
        ))]

        #[test]
        fn finish_agrees_with_the_plain_way(
            events in proptest::collection::vec(
                (
                    proptest::collection::vec(
                        proptest::option::of(proptest::sample::select(
                            vec!["0", "00", "0.0", "a", "A", "1", "10", "2"],
                        )),
                        3,
                    ),
                    proptest::option::of(proptest::sample::select(
                        vec!["1", "1.0", "9", "10", "x", "", "-1"],
                    )),
                ),
                0..40,
            ),
        ) {
            let events: Vec<(Vec<Option<String>>, Option<String>)> = events
                .into_iter()
                .map(|(v, t)| {
                    let v = v.into_iter().map(|x| x.map(String::from));
                    (v.collect(), t.map(String::from))
                })
                .collect();
            let mut stats = Stats::new(&by(&["a", "b", "c"]));
            for (values, time) in &events {
                let fields: Vec<Vec<&str>> = values
                    .iter()
                    .map(|v| v.as_deref().into_iter().collect())
                    .collect();
                let fields: Vec<&[&str]> =
                    fields.iter().map(Vec::as_slice).collect();
                add(&mut stats, &fields, time.as_deref());
            }
            proptest::prop_assert_eq!(
                show(&stats.finish(b"0").rows),
                oracle(3, &events, "0")
            );
        }
    }

    #[test]
    fn a_row_gives_back_its_values_empty_and_binary_ones_too() {
        let values: [&[u8]; 4] = [b"", b"\0\x01\0\0\0", b"a", b""];
        let row = Row::new(&values, 2, b"1", b"");
        let back: Vec<&[u8]> = row.values().collect();
        assert_eq!(back, values);
        // A null filled in a key reads as the fill.
        let mut key = Vec::new();
        push_key_part(&mut key, None);
        push_key_part(&mut key, Some(b"x"));
        push_key_part(&mut key, None);
        let filled = filled_key(&key, b"0");
        let parts: Vec<Option<&[u8]>> = KeyParts(&filled).collect();
        assert_eq!(parts, vec![Some(&b"0"[..]), Some(b"x"), Some(b"0")]);
    }

    #[test]
    fn merge_respects_the_limit() {
        let mut stats = Stats::with_limit(&by(&["h"]), 1);
        let partial = |v: &str| Partial {
            values: vec![Some(v.as_bytes().into())],
            count: 3,
            min: None,
            max: None,
        };
        stats.merge(&partial("a")).unwrap();
        stats.merge(&partial("a")).unwrap();
        assert_eq!(
            stats.merge(&partial("b")),
            Err(Limit::Groups { limit: 1 })
        );
        assert_eq!(show(&stats.finish(b"0").rows), vec!["a|6||"]);
    }
}
