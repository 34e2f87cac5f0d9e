//! The map phase: `phase=map`, the streaming preop that `distributed=true`
//! has Splunk run on every indexer.
//!
//! It matches like the search itself, pre-aggregates the matching events
//! per BY tuple with nulls kept (multivalue BY fields expanded, one group
//! per combination) and sends the groups as partial rows (`partial`) to
//! the search head.
//!
//! Its getinfo reply is `{"type":"streaming"}`, byte for byte what the
//! Python SDK's map phase sends (the SDK's `sum` example, recorded against
//! Splunk 6.3). It declares no `required_fields`: for a streaming command
//! Splunk then sends only those fields plus `_chunked_idx` and merges the
//! output back into the events by that index (protocol notes §2.2, §4.2),
//! which partial rows, one per group rather than per event, cannot honour.
//! Without it Splunk sends every field on the indexer's local pipe; what
//! crosses the network is only the partial rows.
//!
//! Every execute chunk is answered at once with the partial rows of that
//! chunk ([`Flush::EachChunk`]) and the groups are then forgotten, so state
//! is the groups of one chunk. Holding the groups until Splunk's last chunk
//! ([`Flush::AtEnd`]) sends fewer rows when groups repeat across chunks but
//! loses every count if Splunk ends the process without a `finished:true`
//! chunk; `docs/distributed.md` has the measurements behind the choice.

use std::io::{BufRead, Write};

use log::{debug, info, warn};

use crate::chunk::{write_chunk, ChunkReader};
use crate::error::Result;
use crate::metadata::Reply;
use crate::options::Options;
use crate::partial;
use crate::search::Search;
use crate::session;
use crate::stats::Partial;

/// When the map phase sends its partial rows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Flush {
    /// With the reply to every execute chunk. Default.
    #[default]
    EachChunk,
    /// With the reply to Splunk's last chunk only.
    AtEnd,
}

/// The getinfo reply of the map phase.
pub fn getinfo_reply() -> Reply {
    Reply {
        command_type: Some("streaming"),
        ..Reply::default()
    }
}

/// Serves the execute chunks of a map phase whose getinfo was answered.
pub fn converse<R: BufRead, W: Write>(
    reader: &mut ChunkReader<R>,
    output: &mut W,
    options: &Options,
    flush: Flush,
) -> Result<()> {
    let check = partial::fingerprint(options);
    info!(
        "map phase, options {:?}, fingerprint {check}",
        options.to_args()
    );
    let by_len = options.by.len();
    let mut search = Search::new(options)?;
    let names = search.layout().names.clone();
    let mut sent_matched = 0;
    let mut rows_sent = 0;

    loop {
        let Some(chunk) = reader.read_chunk()? else {
            let held = search.groups();
            if held > 0 {
                warn!(
                    "stdin closed without a final chunk; {held} groups \
                     held back were not sent"
                );
            } else {
                info!("stdin closed; {rows_sent} partial rows sent");
            }
            return Ok(());
        };
        let number = chunk.number;
        let finished = session::execute_finished(number, chunk.metadata)?;
        session::feed(&mut search, None, number, chunk.body, &names)?;

        let mut body = Vec::new();
        if flush == Flush::EachChunk || finished {
            let matched = search.counters().matched;
            let partials: Vec<Partial> =
                search.take_stats().partials().collect();
            partial::write(
                &partials,
                matched - sent_matched,
                &check,
                by_len,
                &mut body,
            );
            sent_matched = matched;
            rows_sent += partials.len();
            debug!("chunk {number}: {} partial rows", partials.len());
        }
        write_chunk(output, &Reply::execute(finished).to_json(), &body)?;
        if finished {
            let counters = search.counters();
            info!(
                "map phase done: {} events, {} matched, {rows_sent} partial \
                 rows",
                counters.events, counters.matched
            );
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::serve_with;

    fn chunk(metadata: &str, body: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_chunk(&mut out, metadata.as_bytes(), body.as_bytes()).unwrap();
        out
    }

    const MORE: &str = r#"{"action":"execute","finished":false}"#;
    const LAST: &str = r#"{"action":"execute","finished":true}"#;

    /// The replies (metadata, body) of a map phase with `by=h,p`.
    fn replies(
        bodies: &[(&str, &str)],
        flush: Flush,
    ) -> Vec<(String, String)> {
        let mut stream = chunk(
            r#"{"action":"getinfo","searchinfo":{"args":["phase=map","field=t","by=h,p"]}}"#,
            "",
        );
        for (metadata, body) in bodies {
            stream.extend(chunk(metadata, body));
        }
        let mut out = Vec::new();
        serve_with(&stream[..], &mut out, flush).unwrap();
        let mut reader = ChunkReader::new(&out[..]);
        let mut replies = Vec::new();
        while let Some(c) = reader.read_chunk().unwrap() {
            replies.push((
                String::from_utf8(c.metadata.to_vec()).unwrap(),
                String::from_utf8(c.body.to_vec()).unwrap(),
            ));
        }
        replies
    }

    /// The data rows of a partial body, sorted, without the events and
    /// fingerprint columns, and the sum of the events column.
    fn rows(body: &str) -> (Vec<String>, u64) {
        let mut events = 0;
        let mut rows: Vec<String> = crate::records::all_rows(body.as_bytes())
            .unwrap()
            .into_iter()
            .skip(1)
            .map(|row| {
                let cells: Vec<String> = row
                    .iter()
                    .map(|c| String::from_utf8(c.clone()).unwrap())
                    .collect();
                events += cells[6].parse::<u64>().unwrap_or(0);
                assert_eq!(cells[7].len(), 16, "fingerprint on every row");
                cells[..6].join("|")
            })
            .collect();
        rows.sort();
        (rows, events)
    }

    const FIRST: &str = "t,h,p,_time,__mv_h\n\
        Get-NetTcpConnection,\"a\nb\",,5,$a$;$b$\n\
        Get-Process,a,x,1,\n\
        get-nettcpconnection,a,,3,\n";
    const SECOND: &str = "t,h,_time\nGet-NetTcpConnection,a,9\n";

    #[test]
    fn every_chunk_is_answered_with_its_own_partials() {
        let replies = replies(
            &[(MORE, FIRST), (MORE, "t,h\n"), (LAST, SECOND)],
            Flush::EachChunk,
        );
        assert_eq!(replies.len(), 4);
        assert_eq!(replies[0], (r#"{"type":"streaming"}"#.into(), "".into()));
        assert_eq!(replies[1].0, r#"{"finished":false}"#);
        // h = a and b expand into two groups; p stays null; the miss is
        // not counted.
        assert_eq!(
            rows(&replies[1].1),
            (vec!["a||2|3|5|".to_string(), "b||1|5|5|".to_string()], 2)
        );
        assert_eq!(replies[2], (r#"{"finished":false}"#.into(), "".into()));
        assert_eq!(replies[3].0, r#"{"finished":true}"#);
        // The groups of the first chunk are not sent again.
        assert_eq!(rows(&replies[3].1), (vec!["a||1|9|9|".to_string()], 1));
    }

    #[test]
    fn at_end_holds_every_group_until_the_last_chunk() {
        let replies = replies(&[(MORE, FIRST), (LAST, SECOND)], Flush::AtEnd);
        assert_eq!(replies[1], (r#"{"finished":false}"#.into(), "".into()));
        assert_eq!(
            rows(&replies[2].1),
            (vec!["a||3|3|9|".to_string(), "b||1|5|5|".to_string()], 3)
        );
    }

    #[test]
    fn a_stream_that_just_ends_loses_only_held_groups() {
        let each = replies(&[(MORE, SECOND)], Flush::EachChunk);
        assert_eq!(each.len(), 2);
        assert_eq!(rows(&each[1].1), (vec!["a||1|9|9|".to_string()], 1));
        let held = replies(&[(MORE, SECOND)], Flush::AtEnd);
        assert_eq!(held.len(), 2);
        assert_eq!(held[1].1, "");
    }
}
