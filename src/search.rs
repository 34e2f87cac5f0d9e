//! The detection itself: match the field, then hand matching events to
//! fillnull and stats.
//!
//! `Search` is fed events one at a time by any front end (chunks from
//! Splunk, event files) and keeps only the stats groups, never the events.

use std::ops::Range;

use crate::event::{any_value, push_values, BadMultivalue, Event, Field};
use crate::options::Options;
use crate::pattern::PatternSet;
use crate::stats::{Outcome, Stats};

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
}

/// A `__mv_` cell that could not be decoded, with the slot it was in.
#[derive(Debug, PartialEq, Eq)]
pub struct BadField {
    /// Slot of the field.
    pub slot: usize,
    /// Where decoding failed.
    pub error: BadMultivalue,
}

/// Counts of what one search saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events offered.
    pub events: u64,
    /// Events whose field matched.
    pub matched: u64,
}

/// One running search.
pub struct Search {
    /// Field layout.
    layout: Layout,
    /// The patterns tested against the match field.
    patterns: PatternSet,
    /// True when no pattern holds `"`: the test then gives the same answer
    /// on CSV-escaped bytes (see `quote_free`).
    quote_free: bool,
    /// The fillnull value.
    fill: Vec<u8>,
    /// The groups.
    stats: Stats,
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
}

impl Search {
    /// A search for the given options.
    pub fn new(options: &Options) -> Search {
        let layout = Layout::new(&options.field, &options.by);
        Search {
            patterns: PatternSet::new(&options.patterns),
            quote_free: quote_free(&options.patterns),
            fill: options.value.as_bytes().to_vec(),
            stats: Stats::new(&options.by),
            counters: Counters::default(),
            scratch: Vec::new(),
            item: Vec::new(),
            arena: Vec::new(),
            values: vec![Vec::new(); layout.by_slots.len()],
            layout,
        }
    }

    /// The field layout: which fields the search needs.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Counts so far.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// Number of groups held.
    pub fn groups(&self) -> usize {
        self.stats.len()
    }

    /// Offers one event; returns whether it matched.
    pub fn offer<E: Event + ?Sized>(
        &mut self,
        event: &E,
    ) -> Result<bool, BadField> {
        self.counters.events += 1;
        let slot = self.layout.match_slot;
        let field = if self.quote_free {
            event.field_quotes_doubled(slot, &mut self.scratch)
        } else {
            event.field(slot, &mut self.scratch)
        };
        let patterns = &self.patterns;
        let matched =
            any_value(field, &mut self.item, |v| patterns.is_match(v))
                .map_err(|error| BadField { slot, error })?;
        if !matched {
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
        self.stats.add_event(&self.arena, &self.values, time);
        Ok(true)
    }

    /// Ends the search: fillnull, stats, sorted rows.
    pub fn finish(self) -> (Outcome, Counters) {
        (self.stats.finish(&self.fill), self.counters)
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
    fn layout_dedups_fields() {
        let layout = Layout::new("t", &["a".into(), "t".into()]);
        assert_eq!(layout.names, vec!["t", "a", "_time"]);
        assert_eq!(layout.by_slots, vec![1, 0]);
        assert_eq!(layout.time_slot, 2);
    }

    #[test]
    fn only_matching_events_count_for_fillnull() {
        let options = Options::parse(&["field=t", "by=h,Path"]).unwrap();
        let mut search = Search::new(&options);
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
        let (outcome, counters) = search.finish();
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
        let mut search = Search::new(&options);
        let layout = search.layout().clone();
        let e = event(&layout, &[("t", &["nope", "Get-NetTCPConnection"])]);
        assert_eq!(search.offer(&e), Ok(true));
        let (outcome, _) = search.finish();
        // Grouping by the multivalue field itself yields both values.
        assert_eq!(outcome.rows.len(), 2);
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
    fn bad_multivalue_names_the_slot() {
        struct Bad;
        impl Event for Bad {
            fn field<'s>(&'s self, _: usize, _: &'s mut Vec<u8>) -> Field<'s> {
                Field::Encoded(b"$x")
            }
        }
        let mut search = Search::new(&Options::default());
        let err = search.offer(&Bad).unwrap_err();
        assert_eq!(err.slot, 0);
    }
}
