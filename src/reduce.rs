//! The reduce phase: the reporting command on the search head when
//! `distributed=true`.
//!
//! Its getinfo reply names the map phase as `streaming_preop`, so Splunk
//! puts that pipeline before it (on a single instance as well: the Splunk
//! 6.3 recording of the SDK's `sum` ran its map phase on one machine), and
//! everything this invocation reads is partial rows. It knows that from its
//! own `distributed` option, never by guessing from columns, and refuses
//! anything else. Merging then leaves exactly the state a single process
//! would hold after seeing every event: the same groups with nulls kept,
//! the same record of which BY fields were ever seen, so `Stats::finish`
//! (fillnull over the fields present somewhere, count sums, min of mins,
//! max of maxes, the same sort) gives the same rows.

use crate::error::Result;
use crate::metadata::Reply;
use crate::options::Options;
use crate::partial;
use crate::preop;
use crate::search::{Counters, Layout};
use crate::stats::{Outcome, Partial, Stats};

/// The getinfo reply of the reduce phase: `reporting`, the preop, and as
/// `required_fields` both what the map phase reads from the events and
/// the partial columns. Splunk narrows a reporting command's input to its
/// `required_fields` (Splunk 8.2.1 sent `averageage`, which declared
/// `age`, nothing else), so the partial columns must be in the list.
pub fn getinfo_reply(options: &Options, command: Option<&str>) -> Reply {
    let mut required = Layout::new(&options.field, &options.by).names;
    required.extend(partial::columns(options.by.len()));
    Reply {
        command_type: Some("reporting"),
        required_fields: required,
        streaming_preop: Some(preop::streaming_preop(
            preop::command_name(command),
            options,
        )),
        ..Reply::default()
    }
}

/// The merged partial rows of one search.
#[derive(Debug)]
pub struct Reduce {
    /// The groups, as a single process would hold them.
    stats: Stats,
    /// The fillnull value.
    fill: Vec<u8>,
    /// Number of BY fields.
    by_len: usize,
    /// The options fingerprint every row must carry.
    check: String,
    /// Matched events, as the map phases counted them.
    matched: u64,
    /// The sum of all partial counts, kept to refuse counts that would
    /// overflow (every group's count is at most this).
    total: u64,
    /// Partial rows read.
    rows: u64,
}

impl Reduce {
    /// An empty reduce for `options`.
    pub fn new(options: &Options) -> Reduce {
        Reduce {
            stats: Stats::with_limit(&options.by, options.max_groups),
            fill: options.value.as_bytes().to_vec(),
            by_len: options.by.len(),
            check: partial::fingerprint(options),
            matched: 0,
            total: 0,
            rows: 0,
        }
    }

    /// Merges the partial rows of one chunk body.
    pub fn feed(&mut self, chunk: u64, body: &[u8]) -> Result<()> {
        let stats = &mut self.stats;
        let matched = &mut self.matched;
        let total = &mut self.total;
        let merge = |p: &Partial, events: u64| {
            let too_many = || {
                format!("the counts add up to more than {} events", u64::MAX)
            };
            *total = total.checked_add(p.count).ok_or_else(too_many)?;
            *matched = matched.checked_add(events).ok_or_else(too_many)?;
            stats.merge(p).map_err(|limit| limit.to_string())
        };
        self.rows +=
            partial::read(chunk, body, self.by_len, &self.check, merge)?;
        Ok(())
    }

    /// Partial rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Number of groups held.
    pub fn groups(&self) -> usize {
        self.stats.len()
    }

    /// Ends the search: fillnull, stats, sorted rows. Only matched events
    /// reach the search head, so both counters are the matched events the
    /// map phases reported.
    pub fn finish(self) -> (Outcome, Counters) {
        let counters = Counters {
            events: self.matched,
            matched: self.matched,
        };
        (self.stats.finish(&self.fill), counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getinfo_reply_names_preop_and_partial_columns() {
        let options =
            Options::parse(&["field=t", "by=h", "distributed=1"]).unwrap();
        let reply = getinfo_reply(&options, Some("scriptblockhunt"));
        assert_eq!(
            String::from_utf8(reply.to_json()).unwrap(),
            "{\"required_fields\":[\"t\",\"h\",\"_time\",\
             \"scriptblockhunt_by1\",\"scriptblockhunt_count\",\
             \"scriptblockhunt_min\",\"scriptblockhunt_max\",\
             \"scriptblockhunt_empty\",\"scriptblockhunt_events\",\
             \"scriptblockhunt_options\"],\
             \"streaming_preop\":\"scriptblockhunt phase=map \
             pattern=\\\"*Get-NetTcpconnection*\\\" field=\\\"t\\\" \
             by=\\\"h\\\" value=\\\"0\\\"\",\"type\":\"reporting\"}"
        );
    }

    #[test]
    fn merges_rows_and_counts_matched_events() {
        let options = Options::parse(&["by=h,p", "value=z"]).unwrap();
        let check = partial::fingerprint(&options);
        let body = format!(
            "scriptblockhunt_by1,scriptblockhunt_by2,scriptblockhunt_count,\
             scriptblockhunt_min,scriptblockhunt_max,scriptblockhunt_events,\
             scriptblockhunt_options\n\
             a,,2,5,7,3,{check}\na,q,1,4,4,,{check}\n"
        );
        let other = format!(
            "scriptblockhunt_by1,scriptblockhunt_count,\
             scriptblockhunt_min,scriptblockhunt_max,\
             scriptblockhunt_events,scriptblockhunt_options\n\
             a,4,1,9,4,{check}\n"
        );
        let mut reduce = Reduce::new(&options);
        reduce.feed(2, body.as_bytes()).unwrap();
        reduce.feed(3, other.as_bytes()).unwrap();
        reduce.feed(4, b"").unwrap();
        assert_eq!(reduce.rows(), 3);
        let (outcome, counters) = reduce.finish();
        assert_eq!(counters.matched, 7);
        let rows: Vec<String> = outcome
            .rows
            .iter()
            .map(|r| {
                let values: Vec<&[u8]> = r.values().collect();
                format!(
                    "{}|{}|{}|{}|{}",
                    String::from_utf8_lossy(values[0]),
                    String::from_utf8_lossy(values[1]),
                    r.count,
                    String::from_utf8_lossy(&r.first),
                    String::from_utf8_lossy(&r.last)
                )
            })
            .collect();
        // The nulls of p are filled with z (p is present in one row) and
        // the two a|null groups merge: 2 + 4 events, min 1, max 9.
        assert_eq!(rows, vec!["a|q|1|4|4", "a|z|6|1|9"]);
    }

    #[test]
    fn groups_past_max_groups_are_refused() {
        let options = Options::parse(&["by=h", "max_groups=2"]).unwrap();
        let check = partial::fingerprint(&options);
        let body = format!(
            "scriptblockhunt_by1,scriptblockhunt_count,\
             scriptblockhunt_options\n\
             a,1,{check}\nb,1,{check}\na,1,{check}\nc,1,{check}\n"
        );
        let mut reduce = Reduce::new(&options);
        let err = reduce.feed(4, body.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk 4: CSV record 4: stats would hold more than 2 groups, the \
             limit set by option max_groups; narrow the search or the BY \
             fields, or raise max_groups"
        );
    }

    #[test]
    fn counts_that_would_overflow_are_refused() {
        let options = Options::parse(&["by=h"]).unwrap();
        let check = partial::fingerprint(&options);
        let body = format!(
            "scriptblockhunt_by1,scriptblockhunt_count,\
             scriptblockhunt_options\n\
             a,18446744073709551615,{check}\nb,1,{check}\n"
        );
        let mut reduce = Reduce::new(&options);
        let err = reduce.feed(5, body.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "chunk 5: CSV record 2: the counts add up to more than \
             18446744073709551615 events"
        );
    }
}
