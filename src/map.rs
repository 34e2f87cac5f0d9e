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
use crate::error::{Error, ErrorKind, Result};
use crate::metadata::{parse_request, Reply, Request};
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
    info!(
        "map phase, options {:?}, fingerprint {}",
        options.to_args(),
        partial::fingerprint(options)
    );
    let check = partial::fingerprint(options);
    let by_len = options.by.len();
    let mut search = Search::new(options);
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
        let finished = match parse_request(number, chunk.metadata)? {
            Request::Execute { finished } => finished,
            Request::GetInfo(_) => {
                return Err(Error::new(ErrorKind::Sequence {
                    chunk: number,
                    reason: "a second getinfo request; expected execute"
                        .to_string(),
                }));
            }
        };
        session::feed(&mut search, number, chunk.body, &names)?;

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
