//! The detection itself: decide each hunt's condition on the match field,
//! then hand each hunt's matching events to its own fillnull and stats.
//!
//! `Search` is fed events one at a time by any front end (chunks from
//! Splunk, event files) and keeps only the stats groups, never the events.
//! All hunts of a search read each event once: the [`Matcher`] decides
//! every condition in one pass over the match field, and the BY values are
//! decoded once for all the hunts that matched. Each hunt has its own
//! [`Stats`], so `fillnull` is decided over that hunt's matching events
//! only, as each ESCU search decides it over its own results.

use std::ops::Range;

use crate::catalog::{self, Plan};
use crate::error::{Error, Result};
use crate::event::{any_value, push_values, BadMultivalue, Event, Field};
use crate::matcher::Matcher;
use crate::options::Options;
use crate::results::{union_by, HuntOutcome, Results};
use crate::stats::{Limit, Stats, DEFAULT_MAX_GROUPS};

/// The field that holds the event time.
pub const TIME_FIELD: &str = "_time";

/// The fields the command needs, each once, and where each role sits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The required field names, in slot order: the match field, the BY
    /// fields, `_time`, without repeats.
    pub names: Vec<String>,
    /// Slot of the matched field.
    pub match_slot: usize,
    /// Slot of each BY field, in BY order.
    pub by_slots: Vec<usize>,
    /// Slot of `_time`.
    pub time_slot: usize,
}

impl Layout {
    /// The layout for matching `field` and grouping by `by`.
    pub fn new(field: &str, by: &[String]) -> Layout {
        let mut names: Vec<String> = Vec::new();
        let mut slot = |name: &str| match names.iter().position(|n| n == name)
        {
            Some(i) => i,
            None => {
                names.push(name.to_string());
                names.len() - 1
            }
        };
        let match_slot = slot(field);
        let by_slots = by.iter().map(|b| slot(b)).collect();
        let time_slot = slot(TIME_FIELD);
        Layout {
            names,
            match_slot,
            by_slots,
            time_slot,
        }
    }

    /// The slot of `name`, added after the others when the layout does not
    /// have it yet.
    pub fn require(&mut self, name: &str) -> usize {
        match self.names.iter().position(|n| n == name) {
            Some(i) => i,
            None => {
                self.names.push(name.to_string());
                self.names.len() - 1
            }
        }
    }
}

/// A `__mv_` cell that could not be decoded, with the slot it was in.
#[derive(Debug, PartialEq, Eq)]
pub struct BadField {
    /// Slot of the field.
    pub slot: usize,
    /// Where decoding failed.
    pub error: BadMultivalue,
}

/// Why an event was refused; the search cannot go on after it.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    /// A `__mv_` cell could not be decoded.
    BadField(BadField),
    /// The groups would pass `max_groups` (counted over all hunts), or a
    /// count would pass 64 bits.
    Limit(Limit),
}

impl From<BadField> for Rejected {
    fn from(bad: BadField) -> Rejected {
        Rejected::BadField(bad)
    }
}

impl From<Limit> for Rejected {
    fn from(limit: Limit) -> Rejected {
        Rejected::Limit(limit)
    }
}

/// Counts of what one search saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events offered.
    pub events: u64,
    /// Events whose field matched.
    pub matched: u64,
}

/// One hunt's share of a running search.
struct Tally {
    /// The hunt's name (empty when unnamed).
    name: String,
    /// Its BY fields.
    by: Vec<String>,
    /// Index of each of its BY fields among the search's BY values.
    columns: Vec<usize>,
    /// True when `columns` is every BY value in order.
    identity: bool,
    /// Its groups.
    stats: Stats,
    /// Events it matched.
    matched: u64,
}

/// One running search.
pub struct Search {
    /// Field layout: the match field, the union of the BY fields, `_time`.
    layout: Layout,
    /// True when no pattern of any condition holds `"`: the test then
    /// gives the same answer on CSV-escaped bytes (see `quote_free`).
    quote_free: bool,
    /// Every hunt's condition, compiled together.
    matcher: Matcher,
    /// The hunts, in output order.
    hunts: Vec<Tally>,
    /// True when the output names the hunts.
    named: bool,
    /// The fillnull value.
    fill: Vec<u8>,
    /// What was seen so far.
    counters: Counters,
    /// Scratch for decoded field bytes.
    scratch: Vec<u8>,
    /// Scratch for decoded multivalue items.
    item: Vec<u8>,
    /// Arena for one event's BY values.
    arena: Vec<u8>,
    /// Ranges of each BY field's values in `arena`.
    values: Vec<Vec<Range<usize>>>,
    /// One hunt's BY values, picked from `values`.
    picked: Vec<Vec<Range<usize>>>,
    /// The hunts the current event matched.
    decided: Vec<usize>,
    /// The current event's match field values, when it has several.
    match_text: Vec<u8>,
    /// Their ranges in `match_text`.
    match_values: Vec<Range<usize>>,
    /// Most groups held at once, over all hunts (option `max_groups`).
    max_groups: usize,
    /// Groups held now, over all hunts.
    held: usize,
}

impl Search {
    /// A search for the given options; fails when a condition, the hunt
    /// selection or the hunts file is wrong.
    pub fn new(options: &Options) -> Result<Search> {
        let plan = catalog::plan(options)?;
        let mut search =
            Search::with_plan(&options.field, &plan, &options.value)?;
        search.max_groups = options.max_groups;
        Ok(search)
    }

    /// A search running `plan` on `field`, filling nulls with `fill`.
    pub fn with_plan(field: &str, plan: &Plan, fill: &str) -> Result<Search> {
        let union = union_by(plan.hunts.iter().map(|h| h.by.as_slice()));
        let layout = Layout::new(field, &union);
        let conditions: Vec<_> =
            plan.hunts.iter().map(|h| &h.condition).collect();
        let hunts = plan
            .hunts
            .iter()
            .map(|h| {
                let columns: Vec<usize> = h
                    .by
                    .iter()
                    .map(|b| {
                        union.iter().position(|u| u == b).expect("in union")
                    })
                    .collect();
                Tally {
                    name: h.name.clone(),
                    by: h.by.clone(),
                    identity: columns.iter().copied().eq(0..union.len()),
                    columns,
                    stats: Stats::new(&h.by),
                    matched: 0,
                }
            })
            .collect();
        let matcher = Matcher::new(&conditions).map_err(Error::option)?;
        let patterns: Vec<&str> =
            conditions.iter().flat_map(|c| c.patterns()).collect();
        Ok(Search {
            quote_free: quote_free(&patterns),
            matcher,
            hunts,
            named: plan.named,
            fill: fill.as_bytes().to_vec(),
            counters: Counters::default(),
            scratch: Vec::new(),
            item: Vec::new(),
            arena: Vec::new(),
            values: vec![Vec::new(); layout.by_slots.len()],
            picked: Vec::new(),
            decided: Vec::new(),
            match_text: Vec::new(),
            match_values: Vec::new(),
            max_groups: DEFAULT_MAX_GROUPS,
            held: 0,
            layout,
        })
    }

    /// The field layout: which fields the search needs.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The slot of `name`, which the search's input must then carry too
    /// (reassembly needs fields the hunts may not use).
    pub fn require(&mut self, name: &str) -> usize {
        self.layout.require(name)
    }

    /// The BY fields of the search: the union of its hunts' BY lists, in
    /// slot order.
    pub fn by_names(&self) -> Vec<String> {
        let names = &self.layout.names;
        self.layout
            .by_slots
            .iter()
            .map(|&s| names[s].clone())
            .collect()
    }

    /// Counts so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Number of groups held, over all hunts.
    pub fn groups(&self) -> usize {
        self.hunts.iter().map(|h| h.stats.len()).sum()
    }

    /// Takes the groups held so far and starts over with none; the counters
    /// keep counting. A search for the map phase runs one hunt (options
    /// refuse `hunts=` with `distributed=true`), whose groups these are.
    pub fn take_stats(&mut self) -> Stats {
        let taken = self.hunts[0].stats.take();
        self.held = self.groups();
        taken
    }

    /// Full wildcard checks the matcher needed so far (the prefilter
    /// decided all other wildcard tests).
    pub fn full_checks(&self) -> u64 {
        self.matcher.full_checks()
    }

    /// Offers one event; returns whether any hunt matched it. Refused when
    /// a `__mv_` cell is malformed or the groups would pass `max_groups`.
    pub fn offer<E: Event + ?Sized>(
        &mut self,
        event: &E,
    ) -> std::result::Result<bool, Rejected> {
        self.counters.events += 1;
        let slot = self.layout.match_slot;
        let field = if self.quote_free {
            event.field_quotes_doubled(slot, &mut self.scratch)
        } else {
            event.field(slot, &mut self.scratch)
        };
        if let Field::Single(v) = field {
            let whole = 0..v.len();
            let values = std::slice::from_ref(&whole);
            self.matcher.decide(v, values, &mut self.decided);
        } else {
            // Several values (or none): the matcher needs them all at
            // once, so they are gathered first.
            let (text, ranges) =
                (&mut self.match_text, &mut self.match_values);
            text.clear();
            ranges.clear();
            any_value(field, &mut self.item, |v| {
                ranges.push(text.len()..text.len() + v.len());
                text.extend_from_slice(v);
                false
            })
            .map_err(|error| BadField { slot, error })?;
            self.matcher.decide(text, ranges, &mut self.decided);
        }
        if self.decided.is_empty() {
            return Ok(false);
        }
        self.counters.matched += 1;

        self.arena.clear();
        for (list, &slot) in self.values.iter_mut().zip(&self.layout.by_slots)
        {
            list.clear();
            let field = event.field(slot, &mut self.scratch);
            push_values(field, &mut self.item, &mut self.arena, list)
                .map_err(|error| BadField { slot, error })?;
        }
        let time_start = self.arena.len();
        let time = match event.field(self.layout.time_slot, &mut self.scratch)
        {
            Field::Null => None,
            Field::Single(t) => {
                self.arena.extend_from_slice(t);
                Some(time_start..self.arena.len())
            }
            other => {
                // A multivalue _time does not occur in Splunk; its first
                // value stands for the event.
                let mut first = Vec::new();
                let mut ranges = Vec::new();
                push_values(other, &mut self.item, &mut first, &mut ranges)
                    .map_err(|error| BadField {
                        slot: self.layout.time_slot,
                        error,
                    })?;
                ranges.first().map(|r| {
                    self.arena.extend_from_slice(&first[r.clone()]);
                    time_start..self.arena.len()
                })
            }
        };
        let time = time.map(|r| &self.arena[r]);
        for &h in &self.decided {
            let tally = &mut self.hunts[h];
            tally.matched += 1;
            let before = tally.stats.len();
            // This hunt may hold what the other hunts leave of the limit.
            tally
                .stats
                .set_limit(self.max_groups.saturating_sub(self.held - before));
            let added = if tally.identity {
                tally.stats.add_event(&self.arena, &self.values, time)
            } else {
                self.picked.resize_with(tally.columns.len(), Vec::new);
                for (pick, &c) in self.picked.iter_mut().zip(&tally.columns) {
                    pick.clear();
                    pick.extend_from_slice(&self.values[c]);
                }
                let picked = &self.picked[..tally.columns.len()];
                tally.stats.add_event(&self.arena, picked, time)
            };
            self.held = self.held - before + tally.stats.len();
            added.map_err(|limit| self.whole(limit))?;
        }
        Ok(true)
    }

    /// A limit refusal of one hunt's table, stated for the whole search:
    /// the group limit is `max_groups`, whatever was left for that hunt.
    fn whole(&self, limit: Limit) -> Limit {
        match limit {
            Limit::Groups { .. } => Limit::Groups {
                limit: self.max_groups,
            },
            Limit::Count => Limit::Count,
        }
    }

    /// Folds another search over the same options into this one: each
    /// hunt's groups (nulls still unfilled, as a map phase hands them on)
    /// and the counts. A search per thread, absorbed at the end, gives the
    /// rows of one search over all the events.
    /// Refused when the merged groups would pass `max_groups`.
    pub fn absorb(&mut self, other: Search) -> std::result::Result<(), Limit> {
        let max_groups = self.max_groups;
        for (mine, theirs) in self.hunts.iter_mut().zip(other.hunts) {
            let before = mine.stats.len();
            mine.stats
                .set_limit(max_groups.saturating_sub(self.held - before));
            for partial in theirs.stats.partials() {
                if let Err(limit) = mine.stats.merge(&partial) {
                    return Err(match limit {
                        Limit::Groups { .. } => {
                            Limit::Groups { limit: max_groups }
                        }
                        Limit::Count => Limit::Count,
                    });
                }
            }
            self.held = self.held - before + mine.stats.len();
            mine.matched += theirs.matched;
        }
        self.counters.events += other.counters.events;
        self.counters.matched += other.counters.matched;
        Ok(())
    }

    /// Ends the search: each hunt's fillnull and stats, sorted rows.
    pub fn finish(self) -> (Results, Counters) {
        let fill = self.fill;
        let hunts = self
            .hunts
            .into_iter()
            .map(|t| HuntOutcome {
                name: t.name,
                by: t.by,
                matched: t.matched,
                outcome: t.stats.finish(&fill),
            })
            .collect();
        let results = Results {
            named: self.named,
            hunts,
        };
        (results, self.counters)
    }
}

/// True when no pattern holds `"`. Such a wildcard matches a value exactly
/// when it matches the value with every `"` doubled: its literals hold no
/// quote, so each occurrence lies in a quote-free run, and doubling quotes
/// leaves those runs, their order and the value's quote-free ends as they
/// are (a value too short for the head and tail literals has no quote).
pub fn quote_free<S: AsRef<str>>(patterns: &[S]) -> bool {
    patterns.iter().all(|p| !p.as_ref().contains('"'))
}

/// The output column names: the BY fields, then count, firstTime,
/// lastTime.
pub fn columns(by: &[String]) -> Vec<String> {
    let mut columns = by.to_vec();
    columns.extend(["count", "firstTime", "lastTime"].map(String::from));
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An event of owned values, by slot.
    struct Owned(Vec<Vec<Vec<u8>>>);

    impl Event for Owned {
        fn field<'s>(&'s self, slot: usize, _: &'s mut Vec<u8>) -> Field<'s> {
            match self.0[slot].as_slice() {
                [] => Field::Null,
                [one] => Field::Single(one),
                many => Field::List(many),
            }
        }
    }

    fn event(layout: &Layout, fields: &[(&str, &[&str])]) -> Owned {
        let mut slots = vec![Vec::new(); layout.names.len()];
        for (name, values) in fields {
            let slot = layout.names.iter().position(|n| n == name).unwrap();
            slots[slot] =
                values.iter().map(|v| v.as_bytes().to_vec()).collect();
        }
        Owned(slots)
    }

    #[test]
    fn quote_free_patterns_match_escaped_values_alike() {
        use crate::pattern::Pattern;
        let values = [
            "a\"b",
            "\"",
            "\"\"",
            "x\"Get-NetTcpconnection\"",
            "ab\"ba",
            "abba",
            "\"ab",
            "ab\"",
            "a",
            "",
            "\"a\"b\"c\"",
            "Get-\"NetTcpconnection",
            "ab\"\"ab",
        ];
        let patterns = [
            "*Get-NetTcpconnection*",
            "a*",
            "*a",
            "ab*ba",
            "a*b*c",
            "*",
            "ab",
            "*b*",
            "\"*",
            "*\"a*",
        ];
        for p in patterns {
            let pattern = Pattern::new(p);
            for v in values {
                let doubled = v.replace('"', "\"\"");
                let same = pattern.is_match(v.as_bytes())
                    == pattern.is_match(doubled.as_bytes());
                assert!(same || !quote_free(&[p]), "{p} on {v}");
            }
        }
        assert!(!quote_free(&["*\"a*"]));
        assert!(quote_free(&["*a*", "b"]));
    }

    #[test]
    fn layout_dedups_fields() {
        let layout = Layout::new("t", &["a".into(), "t".into()]);
        assert_eq!(layout.names, vec!["t", "a", "_time"]);
        assert_eq!(layout.by_slots, vec![1, 0]);
        assert_eq!(layout.time_slot, 2);
    }

    #[test]
    fn only_matching_events_count_for_fillnull() {
        let options = Options::parse(&["field=t", "by=h,Path"]).unwrap();
        let mut search = Search::new(&options).unwrap();
        let layout = search.layout().clone();
        let hit = event(
            &layout,
            &[
                ("t", &["x get-nettcpconnection"]),
                ("h", &["a"]),
                ("_time", &["1"]),
            ],
        );
        let miss = event(
            &layout,
            &[("t", &["Get-Process"]), ("h", &["a"]), ("Path", &["p"])],
        );
        assert_eq!(search.offer(&hit), Ok(true));
        assert_eq!(search.offer(&miss), Ok(false));
        let (results, counters) = search.finish();
        let outcome = &results.hunts[0].outcome;
        assert!(outcome.rows.is_empty());
        assert_eq!(outcome.absent, vec!["Path"]);
        assert_eq!(
            counters,
            Counters {
                events: 2,
                matched: 1
            }
        );
    }

    #[test]
    fn a_multivalue_match_field_matches_when_any_value_does() {
        let options = Options::parse(&["field=t", "by=t"]).unwrap();
        let mut search = Search::new(&options).unwrap();
        let layout = search.layout().clone();
        let e = event(&layout, &[("t", &["nope", "Get-NetTCPConnection"])]);
        assert_eq!(search.offer(&e), Ok(true));
        let (results, _) = search.finish();
        let outcome = &results.hunts[0].outcome;
        // Grouping by the multivalue field itself yields both values.
        assert_eq!(outcome.rows.len(), 2);
    }

    #[test]
    fn absorbed_searches_equal_one_search() {
        let options = Options::parse(&["field=t", "by=h,Path"]).unwrap();
        let mut whole = Search::new(&options).unwrap();
        let mut left = Search::new(&options).unwrap();
        let mut right = Search::new(&options).unwrap();
        let layout = whole.layout().clone();
        let events = [
            event(
                &layout,
                &[
                    ("t", &["Get-NetTCPConnection"]),
                    ("h", &["a"]),
                    ("_time", &["3"]),
                ],
            ),
            event(
                &layout,
                &[
                    ("t", &["Get-NetTCPConnection"]),
                    ("h", &["a"]),
                    ("Path", &["p"]),
                ],
            ),
            event(
                &layout,
                &[
                    ("t", &["Get-NetTCPConnection"]),
                    ("h", &["a"]),
                    ("_time", &["1"]),
                ],
            ),
            event(&layout, &[("t", &["no"]), ("h", &["b"])]),
        ];
        for (i, e) in events.iter().enumerate() {
            whole.offer(e).unwrap();
            let side = if i % 2 == 0 { &mut left } else { &mut right };
            side.offer(e).unwrap();
        }
        left.absorb(right).unwrap();
        let (rows, counters) = left.finish();
        assert_eq!((rows, counters), whole.finish());
        assert_eq!(counters.events, 4);
        assert_eq!(counters.matched, 3);
    }

    #[test]
    fn bad_multivalue_names_the_slot() {
        struct Bad;
        impl Event for Bad {
            fn field<'s>(&'s self, _: usize, _: &'s mut Vec<u8>) -> Field<'s> {
                Field::Encoded(b"$x")
            }
        }
        let mut search = Search::new(&Options::default()).unwrap();
        let err = search.offer(&Bad).unwrap_err();
        let Rejected::BadField(bad) = err else {
            panic!("not a bad field: {err:?}")
        };
        assert_eq!(bad.slot, 0);
    }

    /// A plan of named hunts over field `t`, from (name, by, condition).
    fn plan(hunts: &[(&str, &[&str], &str)]) -> Plan {
        let hunts = hunts
            .iter()
            .map(|(name, by, condition)| catalog::Hunt {
                name: name.to_string(),
                id: name.to_string(),
                by: by.iter().map(|b| b.to_string()).collect(),
                condition: crate::condition::Condition::parse(condition, "t")
                    .unwrap(),
            })
            .collect();
        Plan { hunts, named: true }
    }

    fn rows(results: &Results) -> Vec<String> {
        let cells = results.cells(std::borrow::Cow::Borrowed);
        cells
            .into_iter()
            .map(|row| {
                let row: Vec<String> = row
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).into_owned())
                    .collect();
                row.join("|")
            })
            .collect()
    }

    #[test]
    fn fillnull_is_decided_per_hunt() {
        // Hunt A matches only events without Path: fillnull cannot create
        // Path for it, so it has no rows. Hunt B also matches an event with
        // Path, so its Path-less event gets Path=0.
        let plan = plan(&[
            ("A", &["h", "Path"], "t=*alpha*"),
            ("B", &["h", "Path"], "t=*beta*"),
        ]);
        let mut search = Search::with_plan("t", &plan, "0").unwrap();
        let layout = search.layout().clone();
        assert_eq!(layout.names, vec!["t", "h", "Path", "_time"]);
        let e1 = event(
            &layout,
            &[("t", &["alpha beta"]), ("h", &["x"]), ("_time", &["5"])],
        );
        let e2 = event(
            &layout,
            &[
                ("t", &["BETA"]),
                ("h", &["x"]),
                ("Path", &["C:\\p.ps1"]),
                ("_time", &["7"]),
            ],
        );
        let e3 = event(
            &layout,
            &[("t", &["gamma"]), ("h", &["y"]), ("Path", &["q"])],
        );
        assert_eq!(search.offer(&e1), Ok(true));
        assert_eq!(search.offer(&e2), Ok(true));
        assert_eq!(search.offer(&e3), Ok(false));
        let (results, counters) = search.finish();
        assert_eq!(
            counters,
            Counters {
                events: 3,
                matched: 2
            }
        );
        assert_eq!(results.hunts[0].matched, 1);
        assert_eq!(results.hunts[0].outcome.absent, vec!["Path"]);
        assert_eq!(results.hunts[1].matched, 2);
        assert_eq!(rows(&results), vec!["B|x|0|1|5|5", "B|x|C:\\p.ps1|1|7|7"]);
        assert_eq!(
            results.warnings(),
            vec![
                "hunt 'A': 1 event matched, but no matching event has the BY \
                 field Path; fillnull does not create it, so stats returned \
                 no rows (leave it out with by=...)"
            ]
        );
    }

    #[test]
    fn hunts_with_different_by_lists_share_the_union() {
        let plan = plan(&[
            ("A", &["h", "EventID", "t"], "t=*a*"),
            ("B", &["h", "t"], "t=*a* NOT t=*b*"),
        ]);
        let mut search = Search::with_plan("t", &plan, "0").unwrap();
        let layout = search.layout().clone();
        assert_eq!(layout.names, vec!["t", "h", "EventID", "_time"]);
        for (text, id) in [("a", "4104"), ("ab", "4104"), ("c", "1")] {
            let e = event(
                &layout,
                &[("t", &[text]), ("h", &["x"]), ("EventID", &[id])],
            );
            search.offer(&e).unwrap();
        }
        let (results, _) = search.finish();
        assert_eq!(
            results.columns(),
            vec![
                "hunt",
                "h",
                "EventID",
                "t",
                "count",
                "firstTime",
                "lastTime"
            ]
        );
        assert_eq!(
            rows(&results),
            vec!["A|x|4104|a|1||", "A|x|4104|ab|1||", "B|x||a|1||"]
        );
    }

    #[test]
    fn max_groups_counts_the_groups_of_every_hunt() {
        let plan =
            plan(&[("A", &["h"], "t=*alpha*"), ("B", &["h"], "t=*beta*")]);
        let mut search = Search::with_plan("t", &plan, "0").unwrap();
        search.max_groups = 3;
        let layout = search.layout().clone();
        let e = |t: &str, h: &str| event(&layout, &[("t", &[t]), ("h", &[h])]);
        // Two groups, one per hunt, then one more: three in all.
        assert_eq!(search.offer(&e("alpha beta", "x")), Ok(true));
        assert_eq!(search.offer(&e("alpha", "y")), Ok(true));
        assert_eq!(search.groups(), 3);
        // Existing groups still count events; a fourth group is refused.
        assert_eq!(search.offer(&e("beta", "x")), Ok(true));
        assert_eq!(
            search.offer(&e("beta", "y")),
            Err(Rejected::Limit(Limit::Groups { limit: 3 }))
        );

        // Merging two searches respects it too.
        let mut left = Search::with_plan("t", &plan, "0").unwrap();
        let mut right = Search::with_plan("t", &plan, "0").unwrap();
        left.max_groups = 3;
        left.offer(&e("alpha beta", "x")).unwrap();
        right.offer(&e("alpha beta", "y")).unwrap();
        assert_eq!(left.absorb(right), Err(Limit::Groups { limit: 3 }));
    }

    #[test]
    fn a_not_hunt_matches_events_without_the_field() {
        let plan = plan(&[("N", &["h"], "NOT t=*x*")]);
        let mut search = Search::with_plan("t", &plan, "0").unwrap();
        let layout = search.layout().clone();
        let e = event(&layout, &[("h", &["z"])]);
        assert_eq!(search.offer(&e), Ok(true));
        let (results, _) = search.finish();
        assert_eq!(rows(&results), vec!["N|z|1||"]);
    }
}
