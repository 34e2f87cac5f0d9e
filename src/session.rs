//! One conversation with Splunk over the chunked protocol (version 2).
//!
//! Splunk starts the program, sends a getinfo chunk, reads the reply, then
//! sends execute chunks until one says `finished:true`, reading exactly one
//! reply to each (protocol notes §0). This command is a reporting command:
//! it answers every intermediate execute chunk with an empty
//! `{"finished":false}` and the last one with the result rows. With
//! `distributed=true` it reads partial rows instead of events (`reduce`),
//! and `phase=map` is the streaming map phase (`map`).
//!
//! Ends:
//!
//! * stdin closes right after the getinfo reply: a probe process (the
//!   search optimizer asks getinfo only); a normal end.
//! * stdin closes between chunks before `finished:true`: Splunk cancelled
//!   the search; a normal end, logged.
//! * anything malformed: an error reply when one can still be written
//!   (`finished:true`, `error`, and the same text as an ERROR inspector
//!   message), one line on stderr, exit status 1.

use std::io::{BufRead, Write};

use log::{debug, info, warn};

use crate::chunk::{write_chunk, write_chunk_streamed, ChunkReader};
use crate::error::{Error, ErrorKind, Result};
use crate::map::{self, Flush};
use crate::metadata::{parse_request, Reply, Request};
use crate::options::{Options, Phase};
use crate::reassembly::{self, Joiner};
use crate::records::{Carry, Records};
use crate::reduce::{self, Reduce};
use crate::results::Results;
use crate::search::{BadField, Counters, Rejected, Search};

/// Serves one Splunk conversation from `input` to `output`. Returns `Ok`
/// on a normal end. On an error the error reply has already been written
/// (when the output still worked) and the error is returned for the exit
/// status and the log.
pub fn serve<R: BufRead, W: Write>(input: R, output: W) -> Result<()> {
    serve_with(input, output, Flush::default())
}

/// `serve`, with the map phase sending its partial rows as `flush` says.
pub fn serve_with<R: BufRead, W: Write>(
    input: R,
    mut output: W,
    flush: Flush,
) -> Result<()> {
    let mut reader = ChunkReader::new(input);
    match converse(&mut reader, &mut output, flush) {
        Ok(()) => Ok(()),
        Err(e) if e.is_broken_pipe() => Err(e),
        Err(e) => {
            let reply = Reply::fatal(&e.to_string());
            if let Err(write_error) =
                write_chunk(&mut output, &reply.to_json(), b"")
            {
                debug!("could not send the error reply: {write_error}");
            }
            Err(e)
        }
    }
}

/// The protocol itself: getinfo, then execute chunks.
fn converse<R: BufRead, W: Write>(
    reader: &mut ChunkReader<R>,
    output: &mut W,
    flush: Flush,
) -> Result<()> {
    let Some((options, mut search, mut joiner)) = getinfo(reader, output)?
    else {
        return Ok(());
    };
    reader.set_max_chunk_bytes(options.max_chunk_bytes);
    if options.phase == Phase::Map {
        return map::converse(reader, output, &options, flush);
    }
    let names = search.layout().names.clone();
    let mut reduce = splits(&options).then(|| Reduce::new(&options));
    let mut window = vec![0; WINDOW_BYTES];

    loop {
        let Some(chunk) = reader.read_head()? else {
            let chunks = reader.chunks_read();
            if chunks == 1 {
                debug!("stdin closed after getinfo: a getinfo probe");
            } else {
                info!(
                    "stdin closed after {chunks} chunks without a final \
                     chunk: the search was cancelled; no rows sent"
                );
            }
            return Ok(());
        };
        let number = chunk.number;
        let finished = execute_finished(number, chunk.metadata)?;
        if let Some(reduce) = &mut reduce {
            reduce.feed(number, reader.read_rest()?)?;
            debug!(
                "chunk {number}: {} partial rows so far, {} groups held",
                reduce.rows(),
                reduce.groups()
            );
        } else {
            let before = search.counters();
            let joiner = joiner.as_mut();
            feed_window(
                &mut search,
                joiner,
                reader,
                &mut window,
                number,
                &names,
            )?;
            let after = search.counters();
            debug!(
                "chunk {number}: {} events, {} matched, {} groups held",
                after.events - before.events,
                after.matched - before.matched,
                search.groups()
            );
        }
        if !finished {
            write_chunk(output, &Reply::execute(false).to_json(), b"")?;
            continue;
        }
        let mut warnings = Vec::new();
        if let Some(joiner) = &mut joiner {
            let counts = joiner
                .finish(&mut search)
                .map_err(|r| rejected(number, 0, &names, r))?;
            let (line, more) = reassembly::report(&counts);
            info!("{line}");
            warnings = more;
        }
        let full_checks = search.full_checks();
        let (results, counters) = match reduce {
            Some(reduce) => {
                let (outcome, counters) = reduce.finish();
                let by = options.by.clone();
                (Results::single(by, counters.matched, outcome), counters)
            }
            None => search.finish(),
        };
        return finish(results, counters, full_checks, warnings, output);
    }
}

/// Decodes the metadata of an execute chunk after getinfo: its
/// `finished` flag, or an error for a second getinfo.
pub(crate) fn execute_finished(number: u64, metadata: &[u8]) -> Result<bool> {
    match parse_request(number, metadata)? {
        Request::Execute { finished } => Ok(finished),
        Request::GetInfo(_) => Err(Error::new(ErrorKind::Sequence {
            chunk: number,
            reason: "a second getinfo request; expected execute".to_string(),
        })),
    }
}

/// True when the search runs split in a map and a reduce phase:
/// `distributed=true`, unless `reassemble=true` keeps it whole (the pieces
/// of one block can reach different indexers, since forwarders balance
/// their output over indexers, so only the search head sees every piece).
fn splits(options: &Options) -> bool {
    options.distributed && !options.reassemble
}

/// The search, and the joiner in front of it when `reassemble=true`.
type Prepared = (Options, Search, Option<Joiner>);

/// Reads and answers the getinfo request. Returns the options and the
/// search they describe, or `None` when the stream ended before any chunk.
fn getinfo<R: BufRead, W: Write>(
    reader: &mut ChunkReader<R>,
    output: &mut W,
) -> Result<Option<Prepared>> {
    let Some(chunk) = reader.read_chunk()? else {
        info!("stdin closed before any request; nothing to do");
        return Ok(None);
    };
    let number = chunk.number;
    let info = match parse_request(number, chunk.metadata)? {
        Request::GetInfo(info) => info,
        Request::Execute { .. } => {
            return Err(Error::new(ErrorKind::Sequence {
                chunk: number,
                reason: "an execute request before getinfo".to_string(),
            }));
        }
    };
    if !chunk.body.is_empty() {
        warn!("getinfo carried a {}-byte body; ignored", chunk.body.len());
    }
    info!(
        "getinfo: splunk {}, search id {}, {} arguments",
        info.splunk_version.as_deref().unwrap_or("(unknown)"),
        info.sid.as_deref().unwrap_or("(none)"),
        info.args.len()
    );
    let options = Options::parse(&info.args)?;
    debug!("options: {:?}", options.to_args());

    let mut search = Search::new(&options)?;
    let joiner = options
        .reassemble
        .then(|| Joiner::new(&mut search, options.reassembly_limit));
    let mut reply = match (options.phase, splits(&options)) {
        (Phase::Map, _) => map::getinfo_reply(),
        (Phase::Reduce, true) => {
            reduce::getinfo_reply(&options, info.command.as_deref())
        }
        (Phase::Reduce, false) => Reply {
            command_type: Some("reporting"),
            required_fields: search.layout().names.clone(),
            ..Reply::default()
        },
    };
    if options.distributed && options.reassemble {
        let text = "distributed=true is not used with reassemble=true: the \
                    pieces of one script block can reach different \
                    indexers, so they are joined on the search head";
        info!("{text}");
        reply.messages.push(("WARN", text.to_string()));
    }
    write_chunk(output, &reply.to_json(), b"")?;
    Ok(Some((options, search, joiner)))
}

/// Size of the window a chunk body is read through: 1 MiB, small enough
/// to stay in the processor's cache between the read and the scan, large
/// enough that the cut record moved to the front of each refill is a small
/// part of it. It doubles when one record does not fit.
const WINDOW_BYTES: usize = 1 << 20;

/// Reads the current chunk's body through `window` and offers every record
/// to the search (through `joiner` when script blocks are joined). Only the
/// window is held, never the whole body: a record cut by the window's end
/// moves to its front before the next read.
fn feed_window<R: BufRead>(
    search: &mut Search,
    mut joiner: Option<&mut Joiner>,
    reader: &mut ChunkReader<R>,
    window: &mut Vec<u8>,
    chunk: u64,
    names: &[String],
) -> Result<()> {
    let mut carry = Carry::default();
    let mut filled = 0;
    loop {
        let room = (window.len() - filled) as u64;
        let take = room.min(reader.body_left()) as usize;
        reader.read_body(&mut window[filled..filled + take])?;
        filled += take;
        let complete = reader.body_left() == 0;

        let body = &window[..filled];
        if carry.is_start() {
            crate::fault::debug_panic_point(chunk, body);
        }
        let mut records =
            Records::window(chunk, body, names, carry, complete)?;
        while records.advance()? {
            let offered = match joiner.as_deref_mut() {
                Some(joiner) => joiner.offer(search, &records),
                None => search.offer(&records).map(|_| ()),
            };
            if let Err(r) = offered {
                return Err(rejected(chunk, records.count(), names, r));
            }
        }
        let consumed = records.consumed();
        carry = records.carry();
        if complete {
            return Ok(());
        }
        if consumed == 0 && filled == window.len() {
            window.resize(2 * window.len(), 0);
        } else {
            window.copy_within(consumed..filled, 0);
            filled -= consumed;
        }
    }
}

/// Offers every record of one chunk body to the search.
pub(crate) fn feed(
    search: &mut Search,
    mut joiner: Option<&mut Joiner>,
    chunk: u64,
    body: &[u8],
    names: &[String],
) -> Result<()> {
    let mut records = Records::new(chunk, body, names)?;
    while records.advance()? {
        let offered = match joiner.as_deref_mut() {
            Some(joiner) => joiner.offer(search, &records),
            None => search.offer(&records).map(|_| ()),
        };
        if let Err(r) = offered {
            return Err(rejected(chunk, records.count(), names, r));
        }
    }
    Ok(())
}

/// The error for an event the search refused.
fn rejected(
    chunk: u64,
    record: u64,
    names: &[String],
    rejected: Rejected,
) -> Error {
    match rejected {
        Rejected::BadField(bad) => bad_field(chunk, record, names, &bad),
        Rejected::Limit(limit) => Error::new(ErrorKind::Limit {
            chunk,
            record,
            limit,
        }),
    }
}

/// The error for a `__mv_` cell that could not be decoded.
fn bad_field(
    chunk: u64,
    record: u64,
    names: &[String],
    bad: &BadField,
) -> Error {
    Error::new(ErrorKind::Csv {
        chunk,
        record,
        reason: format!(
            "field {}: the __mv_ cell is not in $value$;$value$ form (byte \
             {})",
            names[bad.slot], bad.error.offset
        ),
    })
}

/// Answers the last execute chunk with the result rows.
fn finish<W: Write>(
    results: Results,
    counters: Counters,
    full_checks: u64,
    warnings: Vec<String>,
    output: &mut W,
) -> Result<()> {
    info!(
        "{} events, {} matched, {} rows, {} hunts, {full_checks} full \
         wildcard checks",
        counters.events,
        counters.matched,
        results.rows(),
        results.hunts.len()
    );
    let mut reply = Reply::execute(true);
    for text in warnings.into_iter().chain(results.warnings()) {
        info!("{text}");
        reply.messages.push(("WARN", text));
    }
    // The body is counted, then written row by row: never held whole.
    let body_len = results.csv_len();
    write_chunk_streamed(output, &reply.to_json(), body_len, |out| {
        results.write_csv(out)
    })?;
    Ok(())
}

/// The sentence that explains an empty result caused by BY fields that no
/// matching event has.
pub fn absent_message(absent: &[String], matched: u64) -> String {
    let (noun, verb) = if absent.len() == 1 {
        ("field", "it")
    } else {
        ("fields", "them")
    };
    let events = if matched == 1 {
        "1 event matched".to_string()
    } else {
        format!("{matched} events matched")
    };
    let shown: Vec<&str> =
        absent.iter().take(20).map(String::as_str).collect();
    let more = if absent.len() > shown.len() {
        format!(" and {} more", absent.len() - shown.len())
    } else {
        String::new()
    };
    format!(
        "{events}, but no matching event has the BY {noun} {}{more}; \
         fillnull does not create {verb}, so stats returned no rows (leave \
         {verb} out with by=...)",
        shown.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(metadata: &str, body: &str) -> Vec<u8> {
        let mut out = Vec::new();
        write_chunk(&mut out, metadata.as_bytes(), body.as_bytes()).unwrap();
        out
    }

    fn getinfo(args: &[&str]) -> Vec<u8> {
        let args: Vec<String> =
            args.iter().map(|a| format!("{a:?}")).collect();
        chunk(
            &format!(
                r#"{{"action":"getinfo","searchinfo":{{"args":[{}],"session_key":"KEY-123"}}}}"#,
                args.join(",")
            ),
            "",
        )
    }

    fn replies(stream: &[u8]) -> (Result<()>, Vec<(String, String)>) {
        let mut out = Vec::new();
        let result = serve(stream, &mut out);
        let mut reader = ChunkReader::new(&out[..]);
        let mut replies = Vec::new();
        while let Some(c) = reader.read_chunk().unwrap() {
            replies.push((
                String::from_utf8(c.metadata.to_vec()).unwrap(),
                String::from_utf8(c.body.to_vec()).unwrap(),
            ));
        }
        (result, replies)
    }

    const EXECUTE: &str = r#"{"action":"execute","finished":false}"#;
    const FINISHED: &str = r#"{"action":"execute","finished":true}"#;

    #[test]
    fn reporting_conversation() {
        let mut stream = getinfo(&["field=t", "by=h"]);
        stream.extend(chunk(EXECUTE, "t,h,_time\nGet-NetTcpConnection,a,5\n"));
        stream.extend(chunk(EXECUTE, ""));
        stream.extend(chunk(EXECUTE, "h,\"_time\",t\n"));
        stream.extend(chunk(
            FINISHED,
            "_time,t,h,__mv_h\n3,x get-nettcpconnection,\"a\nb\",$a$;$b$\n",
        ));
        let (result, replies) = replies(&stream);
        result.unwrap();
        assert_eq!(
            replies,
            vec![
                (
                    r#"{"required_fields":["t","h","_time"],"type":"reporting"}"#
                        .to_string(),
                    String::new()
                ),
                (r#"{"finished":false}"#.to_string(), String::new()),
                (r#"{"finished":false}"#.to_string(), String::new()),
                (r#"{"finished":false}"#.to_string(), String::new()),
                (
                    r#"{"finished":true}"#.to_string(),
                    "h,count,firstTime,lastTime\na,2,3,5\nb,1,3,3\n"
                        .to_string()
                ),
            ]
        );
    }

    /// Feeds `body` as one chunk through a window of `size` bytes; returns
    /// the rows, the counters, or the error text.
    fn windowed(body: &str, size: usize, args: &[&str]) -> String {
        let options = Options::parse(args).unwrap();
        let mut search = Search::new(&options).unwrap();
        let names = search.layout().names.clone();
        let stream = chunk(EXECUTE, body);
        let mut reader = ChunkReader::new(&stream[..]);
        reader.read_head().unwrap().unwrap();
        let mut window = vec![0; size];
        let fed = feed_window(
            &mut search,
            None,
            &mut reader,
            &mut window,
            1,
            &names,
        );
        if let Err(e) = fed {
            return e.to_string();
        }
        let (outcome, counters) = search.finish();
        format!("{:?} {:?}", outcome, counters)
    }

    #[test]
    fn any_window_size_gives_what_the_whole_body_gives() {
        // Cut points fall inside quotes, between the two quotes of a
        // doubled quote, between \r and \n, in the header and in __mv_
        // cells; records longer than the window make it grow.
        let args = ["field=t", "by=h,t"];
        let bodies = [
            "t,h,__mv_h,_time\r\n\
             \"x \"\"get-nettcpconnection\"\"\",\"a\nb\",\"$a$;$b$\",5\r\n\
             \r\n\
             Get-NetTcpConnection,c,,7\n\
             \"\"\"\"\"get-nettcpconnection,\",z,,\"1.5\"\n\
             nope,d,,9",
            "t,h\nGet-NetTcpConnection,\"a\"\"\"\n\"never closes,x\n",
            "t,h\nGet-NetTcpConnection,a,b\n",
            "",
            "t,h",
        ];
        for body in bodies {
            let whole = windowed(body, body.len().max(1), &args);
            for size in 1..body.len() + 2 {
                assert_eq!(windowed(body, size, &args), whole, "{size}");
            }
        }
        let w = windowed(bodies[0], 3, &args);
        assert!(w.contains("Counters { events: 4, matched: 3 }"), "{w}");
        let w = windowed(bodies[1], 5, &args);
        assert!(
            w.contains(
                "CSV record 2: field 1 opens a quote at byte 31 of the body"
            ),
            "{w}"
        );
        assert!(windowed(bodies[2], 4, &args).contains("has 3 fields"));
    }

    #[test]
    fn probe_ends_after_getinfo() {
        let (result, replies) = replies(&getinfo(&[]));
        result.unwrap();
        assert_eq!(replies.len(), 1);
        assert!(replies[0].0.contains("\"ScriptBlockText\""));
    }

    #[test]
    fn unknown_option_is_an_error_reply() {
        let mut stream = getinfo(&["bogus=1"]);
        stream.extend(chunk(FINISHED, ""));
        let (result, replies) = replies(&stream);
        let err = result.unwrap_err().to_string();
        assert!(err.starts_with("unknown option 'bogus=1'"), "{err}");
        assert_eq!(replies.len(), 1);
        assert!(replies[0].0.contains(r#""finished":true"#));
        assert!(replies[0].0.contains(r#"["ERROR","unknown option"#));
    }

    #[test]
    fn truncated_body_is_an_error_reply() {
        let mut stream = getinfo(&[]);
        stream.extend(b"chunked 1.0,37,100\n");
        stream.extend(EXECUTE.as_bytes());
        stream.extend(b"ScriptBlockText\n");
        let (result, replies) = replies(&stream);
        assert_eq!(
            result.unwrap_err().to_string(),
            "chunk 2: the stream ended inside the body (16 of 100 bytes \
             arrived)"
        );
        assert!(replies[1].0.contains("the stream ended inside the body"));
    }

    #[test]
    fn execute_before_getinfo_and_second_getinfo() {
        let (result, _) = replies(&chunk(EXECUTE, ""));
        assert_eq!(
            result.unwrap_err().to_string(),
            "chunk 1: an execute request before getinfo"
        );
        let mut stream = getinfo(&[]);
        stream.extend(getinfo(&[]));
        let (result, _) = replies(&stream);
        assert!(result.unwrap_err().to_string().contains("second getinfo"));
    }

    #[test]
    fn absent_field_warns() {
        let mut stream = getinfo(&["field=t", "by=t,Path"]);
        stream.extend(chunk(FINISHED, "t,_time\nget-nettcpconnection,1\n"));
        let (result, replies) = replies(&stream);
        result.unwrap();
        assert_eq!(replies[1].1, "t,Path,count,firstTime,lastTime\n");
        assert!(replies[1].0.contains(
            "no matching event has the BY field Path; fillnull does not \
             create it"
        ));
    }

    #[test]
    fn session_key_never_reaches_the_output() {
        let mut stream = getinfo(&["nonsense"]);
        stream.extend(chunk(FINISHED, ""));
        let mut out = Vec::new();
        let err = serve(&stream[..], &mut out).unwrap_err();
        assert!(!String::from_utf8_lossy(&out).contains("KEY-123"));
        assert!(!err.to_string().contains("KEY-123"));
    }

    #[test]
    fn hunts_all_requires_the_union_of_their_fields() {
        let (result, replies) = replies(&getinfo(&["hunts=all"]));
        result.unwrap();
        let mut fields = vec!["ScriptBlockText"];
        fields.extend(
            crate::options::DEFAULT_BY
                .iter()
                .filter(|f| **f != "ScriptBlockText"),
        );
        fields.push("_time");
        let json: Vec<String> =
            fields.iter().map(|f| format!("{f:?}")).collect();
        assert_eq!(
            replies[0].0,
            format!(
                r#"{{"required_fields":[{}],"type":"reporting"}}"#,
                json.join(",")
            )
        );
    }

    #[test]
    fn named_hunts_get_a_first_column() {
        let mut stream = getinfo(&[
            "hunts=GetNetTcpconnection with PowerShell Script Block,\
             f1369394-48e1-4327-bf6d-14377f4b8687",
        ]);
        let header = "ScriptBlockText,dest,signature,signature_id,user_id,\
                      vendor_product,EventID,Guid,Opcode,Name,Path,ProcessID,\
                      ScriptBlockId,_time";
        let event = |text: &str, id: &str| {
            format!("{text},h,s,4104,u,v,4104,g,15,n,p,5,{id},9\n")
        };
        let body = format!(
            "{header}\n{}{}{}",
            event("Get-NetTCPConnection", "a"),
            event("Remove-Item (Get-PSReadlineOption).HistorySavePath", "b"),
            event("Get-Process", "c")
        );
        stream.extend(chunk(FINISHED, &body));
        let (result, replies) = replies(&stream);
        result.unwrap();
        assert_eq!(
            replies[1].1,
            "hunt,dest,signature,signature_id,user_id,vendor_product,\
             EventID,Guid,Opcode,Name,Path,ProcessID,ScriptBlockId,\
             ScriptBlockText,count,firstTime,lastTime\n\
             GetNetTcpconnection with PowerShell Script Block,h,s,4104,u,v,\
             4104,g,15,n,p,5,a,Get-NetTCPConnection,1,9,9\n\
             Windows Powershell History File Deletion,h,s,4104,u,v,,g,15,n,\
             p,5,b,Remove-Item (Get-PSReadlineOption).HistorySavePath,1,9,9\n"
        );
    }

    #[test]
    fn a_bad_condition_is_an_error_reply_that_points_at_the_byte() {
        let mut stream = getinfo(&[r#"condition=ScriptBlockText="*a"#]);
        stream.extend(chunk(FINISHED, ""));
        let (result, replies) = replies(&stream);
        assert_eq!(
            result.unwrap_err().to_string(),
            "option condition, byte 16: this quote never closes\n  \
             ScriptBlockText=\"*a\n                  ^"
        );
        assert!(replies[0].0.contains(r#""finished":true"#));
        assert!(replies[0].0.contains("byte 16: this quote never closes"));
    }
}
