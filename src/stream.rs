//! Recorded chunk streams: writing them from events (`record`) the way
//! Splunk sends events to a reporting command, and playing them through the
//! command in-process (`replay`).

use std::io::{BufRead, BufReader, Cursor, Read, Write};

use serde_json::{json, Value};

use crate::chunk::{write_chunk, ChunkReader};
use crate::error::{Error, ErrorKind, Result};
use crate::session;
use crate::winevent::WinEvent;

/// Rows a chunk carries at most, as Splunk's `maxresultrows` (50,000).
pub const ROWS_PER_CHUNK: usize = 50_000;

/// Writes a stream: a getinfo chunk whose `searchinfo.args` are `args`,
/// then the events' `names` fields as execute chunks of at most
/// `ROWS_PER_CHUNK` rows, the last one `finished:true`.
pub fn record<W: Write>(
    events: &[WinEvent],
    names: &[String],
    args: &[String],
    out: &mut W,
) -> Result<()> {
    let search = format!("search | scriptblockhunt {}", args.join(" "));
    let getinfo = json!({
        "action": "getinfo",
        "preview": false,
        "streaming_command_will_restart": false,
        "searchinfo": {
            "args": args,
            "raw_args": args,
            "dispatch_dir": "",
            "sid": "offline",
            "app": "scriptblockhunt",
            "owner": "nobody",
            "username": "nobody",
            "session_key": "",
            "splunkd_uri": "",
            "splunk_version": "offline",
            "search": percent_encode(search.trim_end()),
            "command": "scriptblockhunt",
            "maxresultrows": ROWS_PER_CHUNK,
            "earliest_time": "0",
            "latest_time": "0",
        }
    });
    let metadata = serde_json::to_vec(&getinfo).expect("JSON serialises");
    write_chunk(out, &metadata, b"")?;

    let batches: Vec<&[WinEvent]> = if events.is_empty() {
        vec![&[]]
    } else {
        events.chunks(ROWS_PER_CHUNK).collect()
    };
    let last = batches.len() - 1;
    for (i, batch) in batches.iter().enumerate() {
        let metadata = if i == last {
            br#"{"action":"execute","finished":true}"#.as_slice()
        } else {
            br#"{"action":"execute","finished":false}"#.as_slice()
        };
        write_chunk(out, metadata, &body(batch, names))?;
    }
    Ok(())
}

/// The CSV body Splunk would send for `events`: the plain columns, then an
/// `__mv_` twin for each, values quoted unless they are letters and digits,
/// multivalue fields joined by newlines with the `$v$;$v$` twin.
pub fn body(events: &[WinEvent], names: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut header: Vec<String> = names.to_vec();
    header.extend(names.iter().map(|n| format!("__mv_{n}")));
    let header: Vec<&[u8]> = header.iter().map(|h| h.as_bytes()).collect();
    line(&header, &mut out);
    for event in events {
        let mut plain = Vec::new();
        let mut twins = Vec::new();
        for name in names {
            let values = event.get(name).unwrap_or_default();
            plain.push(values.join(&b'\n'));
            twins.push(if values.len() > 1 {
                multivalue(values)
            } else {
                Vec::new()
            });
        }
        plain.extend(twins);
        let cells: Vec<&[u8]> = plain.iter().map(Vec::as_slice).collect();
        line(&cells, &mut out);
    }
    out
}

/// Writes one CSV line the way Splunk quotes: everything that is not plain
/// ASCII letters and digits goes in quotes.
pub(crate) fn line(cells: &[&[u8]], out: &mut Vec<u8>) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if cell.iter().all(u8::is_ascii_alphanumeric) {
            out.extend_from_slice(cell);
            continue;
        }
        out.push(b'"');
        for &b in *cell {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    }
    out.push(b'\n');
}

/// Encodes values as an `__mv_` cell: `$v1$;$v2$`, `$` doubled.
pub(crate) fn multivalue(values: &[Vec<u8>]) -> Vec<u8> {
    let mut cell = Vec::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            cell.push(b';');
        }
        cell.push(b'$');
        for &b in value {
            if b == b'$' {
                cell.push(b'$');
            }
            cell.push(b);
        }
        cell.push(b'$');
    }
    cell
}

/// Percent-encodes a search string as Splunk sends `searchinfo.search`.
fn percent_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// What the command answered to a replayed stream.
#[derive(Debug)]
pub struct Replayed {
    /// The result CSV (the body of the final reply); empty if none.
    pub body: Vec<u8>,
    /// Inspector messages of every reply, as (level, text).
    pub messages: Vec<(String, String)>,
    /// The command's own end: an error if it failed.
    pub result: Result<()>,
    /// True when the command sent a `finished:true` reply.
    pub finished: bool,
}

/// Plays `stream` through the command in-process. When `args` is given, it
/// replaces the getinfo request's `searchinfo.args`, so one recording can be
/// replayed with other options.
pub fn replay<R: BufRead>(
    stream: R,
    args: Option<&[String]>,
) -> Result<Replayed> {
    let mut output = Vec::new();
    let result = match args {
        None => session::serve(stream, &mut output),
        Some(args) => {
            let mut reader = ChunkReader::new(stream);
            let first = rewrite_args(&mut reader, args)?;
            let rest = reader.into_inner();
            let input = BufReader::new(Cursor::new(first).chain(rest));
            session::serve(input, &mut output)
        }
    };
    let mut replayed = Replayed {
        body: Vec::new(),
        messages: Vec::new(),
        result,
        finished: false,
    };
    let mut replies = ChunkReader::new(&output[..]);
    while let Some(chunk) = replies.read_chunk()? {
        let metadata: Value = serde_json::from_slice(chunk.metadata)
            .map_err(|e| Error::usage(format!("bad reply metadata: {e}")))?;
        if let Some(Value::Array(messages)) =
            metadata.pointer("/inspector/messages")
        {
            for message in messages {
                let level = message[0].as_str().unwrap_or("").to_string();
                let text = message[1].as_str().unwrap_or("").to_string();
                replayed.messages.push((level, text));
            }
        }
        if metadata["finished"] == json!(true) {
            replayed.body = chunk.body.to_vec();
            replayed.finished = true;
        }
    }
    Ok(replayed)
}

/// Reads the first (getinfo) chunk and returns it re-encoded with `args`.
fn rewrite_args<R: BufRead>(
    reader: &mut ChunkReader<R>,
    args: &[String],
) -> Result<Vec<u8>> {
    let chunk = reader.read_chunk()?.ok_or_else(|| {
        Error::usage("the stream is empty: no getinfo chunk to replay")
    })?;
    let number = chunk.number;
    let mut metadata: Value =
        serde_json::from_slice(chunk.metadata).map_err(|e| {
            Error::new(ErrorKind::Metadata {
                chunk: number,
                reason: format!("not valid JSON ({e})"),
            })
        })?;
    let Some(searchinfo) = metadata
        .get_mut("searchinfo")
        .and_then(Value::as_object_mut)
    else {
        return Err(Error::new(ErrorKind::Metadata {
            chunk: number,
            reason: "no 'searchinfo' object to put the arguments in"
                .to_string(),
        }));
    };
    searchinfo.insert("args".into(), json!(args));
    searchinfo.insert("raw_args".into(), json!(args));
    let bytes = serde_json::to_vec(&metadata).expect("JSON serialises");
    let mut out = Vec::new();
    write_chunk(&mut out, &bytes, chunk.body)?;
    Ok(out)
}

/// The text of the error reply, if the command sent one: the message a
/// Splunk user would see.
pub fn error_message(replayed: &Replayed) -> Option<&str> {
    replayed
        .messages
        .iter()
        .find(|(level, _)| level == "ERROR")
        .map(|(_, text)| text.as_str())
}
