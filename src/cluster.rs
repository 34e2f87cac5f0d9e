//! `replay --indexers K`: a distributed search simulated on one machine.
//!
//! A recorded stream holds the events Splunk would send the command on the
//! search head. The simulation plays what a cluster of K indexers does
//! with `distributed=true`, in-process and one phase after another:
//!
//! 1. A getinfo probe of the reporting command (its arguments plus
//!    `distributed=true`) gives the `streaming_preop`, which is split into
//!    arguments by the model of Splunk's tokenisation (`preop::tokenize`).
//! 2. The events are dealt to the indexers: event n of the stream (counted
//!    from 0 over all chunks) goes to indexer n mod K. Each input chunk
//!    gives every indexer one chunk with its share, header row included
//!    (a chunk without even a header row gives nothing), or, with
//!    `--chunk-rows N`, each indexer's events are cut into chunks of N
//!    rows. Each indexer's stream ends with an empty `finished:true`
//!    chunk, as Splunk 8.2.1 ends a streaming command's input.
//! 3. Each indexer runs the map phase on its stream.
//! 4. The search head runs the reporting command on the partial rows: one
//!    execute chunk per non-empty map reply, indexer by indexer, then an
//!    empty `finished:true` chunk.
//!
//! With `--measure` it also runs the same search in a single process over
//! the whole stream and reports, side by side, the bytes of execute chunks
//! that the search-head command reads and the time each phase took. The
//! indexers' streams are built in memory first (about the stream's size).

use std::fmt;
use std::io::BufRead;
use std::time::Instant;

use serde_json::{json, Value};

use crate::chunk::{write_chunk, ChunkReader};
use crate::error::{Error, ErrorKind, Result};
use crate::map::Flush;
use crate::metadata::{parse_request, Request};
use crate::options::{Options, Phase};
use crate::preop;
use crate::records::Records;
use crate::session;
use crate::stream::{self, Replayed};

/// The largest number of simulated indexers.
pub const MAX_INDEXERS: usize = 1024;

/// The execute metadata of a chunk that more chunks follow.
const MORE: &[u8] = br#"{"action":"execute","finished":false}"#;

/// The execute metadata of the last chunk.
const LAST: &[u8] = br#"{"action":"execute","finished":true}"#;

/// How to simulate the cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Number of indexers, 1 or more.
    pub indexers: usize,
    /// Rows per chunk an indexer's map phase gets; `None` keeps the
    /// stream's chunks (each split K ways).
    pub chunk_rows: Option<usize>,
    /// When the map phase sends its rows. Default: with every chunk.
    pub flush: Flush,
    /// Also run the single-process search and report both.
    pub measure: bool,
}

/// Takes the simulation's flags (`--indexers K`, `--chunk-rows N`,
/// `--map-flush chunk|end`, `--measure`) out of a `replay` command line.
/// Returns the settings, if `--indexers` was given, and the other
/// arguments.
pub fn take_flags(argv: &[String]) -> Result<(Option<Settings>, Vec<String>)> {
    let mut indexers = None;
    let mut chunk_rows = None;
    let mut flush = None;
    let mut measure = false;
    let mut rest = Vec::new();
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if flag == "--measure" && inline.is_none() {
            measure = true;
            i += 1;
            continue;
        }
        if !matches!(flag, "--indexers" | "--chunk-rows" | "--map-flush") {
            rest.push(arg.clone());
            i += 1;
            continue;
        }
        let value = crate::cli::flag_value(argv, &mut i, flag, inline)?;
        match flag {
            "--indexers" => {
                indexers = Some(count(flag, &value, MAX_INDEXERS)?);
            }
            "--chunk-rows" => {
                chunk_rows = Some(count(flag, &value, usize::MAX)?);
            }
            _ => {
                flush = Some(match value.as_str() {
                    "chunk" => Flush::EachChunk,
                    "end" => Flush::AtEnd,
                    other => {
                        return Err(Error::usage(format!(
                            "--map-flush {other}: expected chunk or end"
                        )))
                    }
                })
            }
        }
        i += 1;
    }
    let Some(indexers) = indexers else {
        if chunk_rows.is_some() || flush.is_some() || measure {
            return Err(Error::usage(
                "--chunk-rows, --map-flush and --measure need --indexers K",
            ));
        }
        return Ok((None, rest));
    };
    let settings = Settings {
        indexers,
        chunk_rows,
        flush: flush.unwrap_or_default(),
        measure,
    };
    Ok((Some(settings), rest))
}

/// Parses a whole number from 1 to `max` for `flag`.
fn count(flag: &str, value: &str, max: usize) -> Result<usize> {
    match value.parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(Error::usage(format!(
            "{flag} takes a whole number from 1 to {max}, got '{value}'"
        ))),
    }
}

/// What `--measure` reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The settings simulated.
    pub settings: Settings,
    /// Events each indexer got.
    pub events: Vec<u64>,
    /// Bytes (whole chunks) of the stream's execute chunks: what the
    /// search head reads without the map phase.
    pub bytes_without: u64,
    /// Number of those chunks.
    pub chunks_without: u64,
    /// Bytes of the execute chunks the reduce phase reads.
    pub bytes_with: u64,
    /// Number of those chunks (the final empty one included).
    pub chunks_with: u64,
    /// Partial rows the map phases sent.
    pub partial_rows: u64,
    /// Seconds each indexer's map phase took.
    pub map_seconds: Vec<f64>,
    /// Seconds the reduce phase took.
    pub reduce_seconds: f64,
    /// Seconds the single-process search took.
    pub single_seconds: f64,
    /// Result rows.
    pub rows: u64,
    /// True when the two final replies are byte-identical.
    pub identical: bool,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flush = match self.settings.flush {
            Flush::EachChunk => "answers every chunk",
            Flush::AtEnd => "holds its rows until the last chunk",
        };
        let chunks = match self.settings.chunk_rows {
            Some(n) => format!("{n}-row chunks"),
            None => "the stream's chunks".to_string(),
        };
        let total: f64 = self.map_seconds.iter().sum();
        let slowest = self.map_seconds.iter().copied().fold(0.0, f64::max);
        let events: Vec<String> =
            self.events.iter().map(u64::to_string).collect();
        writeln!(
            f,
            "simulated: {} indexer(s), {chunks}; the map phase {flush}",
            self.settings.indexers
        )?;
        writeln!(f, "{:<28}{:>16}  map + reduce", "", "single process")?;
        let line =
            |f: &mut fmt::Formatter<'_>, name: &str, a: &str, b: &str| {
                writeln!(f, "{name:<28}{a:>16}  {b}")
            };
        line(f, "events per indexer", "-", &events.join(" "))?;
        line(
            f,
            "bytes to the search head",
            &self.bytes_without.to_string(),
            &self.bytes_with.to_string(),
        )?;
        line(
            f,
            "chunks to the search head",
            &self.chunks_without.to_string(),
            &self.chunks_with.to_string(),
        )?;
        line(f, "partial rows", "-", &self.partial_rows.to_string())?;
        line(
            f,
            "indexer time, slowest (s)",
            "-",
            &format!("{slowest:.3}"),
        )?;
        line(f, "indexer time, all (s)", "-", &format!("{total:.3}"))?;
        line(
            f,
            "search-head time (s)",
            &format!("{:.3}", self.single_seconds),
            &format!("{:.3}", self.reduce_seconds),
        )?;
        let same = if self.identical {
            "identical"
        } else {
            "DIFFERENT"
        };
        let rows = self.rows.to_string();
        line(f, "result rows", &rows, &format!("{rows} ({same})"))
    }
}

/// One simulated indexer's input, built chunk by chunk.
#[derive(Debug, Default)]
struct Indexer {
    /// The execute chunks written so far.
    stream: Vec<u8>,
    /// The body of the chunk being filled.
    body: Vec<u8>,
    /// The header row of that body.
    header: Vec<u8>,
    /// Rows in that body.
    rows: usize,
    /// Events dealt to this indexer.
    events: u64,
}

impl Indexer {
    /// Ends the chunk being filled, if it has a header.
    fn close(&mut self) -> Result<()> {
        if self.header.is_empty() {
            return Ok(());
        }
        write_chunk(&mut self.stream, MORE, &self.body)?;
        self.body.clear();
        self.header.clear();
        self.rows = 0;
        Ok(())
    }

    /// Adds one record under `header`, closing the chunk being filled
    /// when the header changes or it has `limit` rows.
    fn push(
        &mut self,
        header: &[u8],
        record: &[u8],
        limit: usize,
    ) -> Result<()> {
        if self.header != header {
            self.close()?;
            self.header.extend_from_slice(header);
            self.body.extend_from_slice(header);
        }
        push_line(&mut self.body, record);
        self.rows += 1;
        self.events += 1;
        if self.rows == limit {
            self.close()?;
        }
        Ok(())
    }
}

/// Appends a CSV line, adding the line end it lacks when it was the last
/// line of its body.
fn push_line(out: &mut Vec<u8>, line: &[u8]) {
    out.extend_from_slice(line);
    if !line.ends_with(b"\n") && !line.ends_with(b"\r") {
        out.push(b'\n');
    }
}

/// Plays `stream` through a simulated cluster. `args`, when given,
/// replace the recorded arguments; `distributed=true` is added.
pub fn replay<R: BufRead>(
    stream: R,
    args: Option<&[String]>,
    settings: &Settings,
) -> Result<(Replayed, Option<Report>)> {
    let mut reader = ChunkReader::new(stream);
    let getinfo = read_getinfo(&mut reader)?;
    let args = match args {
        Some(args) => args.to_vec(),
        None => recorded_args(&getinfo)?,
    };
    let options = match Options::parse(&args) {
        Ok(options) => options,
        Err(e) => return Ok((refused(e.to_string()), None)),
    };
    if options.phase == Phase::Map {
        return Err(Error::usage(
            "replay --indexers runs the map phase itself; leave phase=map \
             out of the arguments",
        ));
    }
    let single_args: Vec<String> = args
        .iter()
        .filter(|a| a.split('=').next().map(str::trim) != Some("distributed"))
        .cloned()
        .collect();
    let mut reduce_args = single_args.clone();
    reduce_args.push("distributed=true".to_string());

    let reduce_getinfo = with_args(&getinfo, &reduce_args)?;
    let map_args = probe(&reduce_getinfo)?;
    let map_getinfo = with_args(&getinfo, &map_args)?;

    let mut indexers: Vec<Indexer> =
        (0..settings.indexers).map(|_| Indexer::default()).collect();
    let mut whole = Vec::new();
    let (bytes_without, chunks_without) =
        deal(&mut reader, &mut indexers, settings, &mut whole)?;

    let mut reduce_input = reduce_getinfo.clone();
    let mut report = Report {
        settings: settings.clone(),
        events: indexers.iter().map(|x| x.events).collect(),
        bytes_without,
        chunks_without,
        bytes_with: 0,
        chunks_with: 0,
        partial_rows: 0,
        map_seconds: Vec::new(),
        reduce_seconds: 0.0,
        single_seconds: 0.0,
        rows: 0,
        identical: false,
    };
    for (n, indexer) in indexers.iter().enumerate() {
        let mut input = map_getinfo.clone();
        input.extend_from_slice(&indexer.stream);
        let mut output = Vec::new();
        let started = Instant::now();
        let result =
            session::serve_with(&input[..], &mut output, settings.flush);
        report.map_seconds.push(started.elapsed().as_secs_f64());
        if let Err(e) = result {
            let text = format!("indexer {}: the map phase failed: {e}", n + 1);
            return Ok((refused(text), None));
        }
        collect(&output, &mut reduce_input, &mut report)?;
    }
    write_chunk(&mut reduce_input, LAST, b"")?;
    report.bytes_with += chunk_len(LAST, b"");
    report.chunks_with += 1;

    let started = Instant::now();
    let replayed = stream::replay(&reduce_input[..], None)?;
    report.reduce_seconds = started.elapsed().as_secs_f64();
    report.rows = count_rows(&replayed.body)?;
    if !settings.measure {
        return Ok((replayed, None));
    }

    let mut single = with_args(&getinfo, &single_args)?;
    single.extend_from_slice(&whole);
    drop(whole);
    let started = Instant::now();
    let alone = stream::replay(&single[..], None)?;
    report.single_seconds = started.elapsed().as_secs_f64();
    report.identical = alone.body == replayed.body
        && alone.messages == replayed.messages
        && alone.result.is_ok() == replayed.result.is_ok();
    Ok((replayed, Some(report)))
}

/// What the command answered when it refused to run: the error as an
/// ERROR message, as `replay` reports a command's error reply.
fn refused(text: String) -> Replayed {
    Replayed {
        body: Vec::new(),
        messages: vec![("ERROR".to_string(), text.clone())],
        result: Err(Error::usage(text)),
        finished: true,
    }
}

/// Reads the stream's first chunk, which must be a getinfo request, as
/// JSON.
fn read_getinfo<R: BufRead>(reader: &mut ChunkReader<R>) -> Result<Value> {
    let chunk = reader.read_chunk()?.ok_or_else(|| {
        Error::usage("the stream is empty: no getinfo chunk to replay")
    })?;
    let number = chunk.number;
    if !matches!(parse_request(number, chunk.metadata)?, Request::GetInfo(_)) {
        return Err(Error::new(ErrorKind::Sequence {
            chunk: number,
            reason: "the stream does not start with getinfo".to_string(),
        }));
    }
    serde_json::from_slice(chunk.metadata).map_err(|e| {
        Error::new(ErrorKind::Metadata {
            chunk: number,
            reason: format!("not valid JSON ({e})"),
        })
    })
}

/// The recorded `searchinfo.args`.
fn recorded_args(getinfo: &Value) -> Result<Vec<String>> {
    let Some(args) = getinfo.pointer("/searchinfo/args") else {
        return Ok(Vec::new());
    };
    let Some(list) = args.as_array() else {
        return Err(metadata_error("'searchinfo.args' is not an array"));
    };
    list.iter()
        .map(|a| {
            a.as_str().map(str::to_string).ok_or_else(|| {
                metadata_error("'searchinfo.args' holds a non-string")
            })
        })
        .collect()
}

/// An error about the stream's getinfo chunk.
fn metadata_error(reason: &str) -> Error {
    Error::new(ErrorKind::Metadata {
        chunk: 1,
        reason: reason.to_string(),
    })
}

/// The getinfo chunk with `args` as its arguments.
fn with_args(getinfo: &Value, args: &[String]) -> Result<Vec<u8>> {
    let mut metadata = getinfo.clone();
    let Some(searchinfo) = metadata
        .get_mut("searchinfo")
        .and_then(Value::as_object_mut)
    else {
        return Err(metadata_error(
            "no 'searchinfo' object to put the arguments in",
        ));
    };
    searchinfo.insert("args".into(), json!(args));
    searchinfo.insert("raw_args".into(), json!(args));
    let bytes = serde_json::to_vec(&metadata).expect("JSON serialises");
    let mut out = Vec::new();
    write_chunk(&mut out, &bytes, b"")?;
    Ok(out)
}

/// Asks the reporting command for its getinfo reply, as Splunk's probe
/// does, and returns the map phase's arguments from its preop.
fn probe(getinfo: &[u8]) -> Result<Vec<String>> {
    let mut output = Vec::new();
    session::serve(getinfo, &mut output)?;
    let mut replies = ChunkReader::new(&output[..]);
    let reply = replies
        .read_chunk()?
        .ok_or_else(|| Error::usage("the command sent no getinfo reply"))?;
    let metadata: Value = serde_json::from_slice(reply.metadata)
        .map_err(|e| Error::usage(format!("bad getinfo reply: {e}")))?;
    let Some(preop) = metadata["streaming_preop"].as_str() else {
        return Err(Error::usage(
            "the getinfo reply of distributed=true has no streaming_preop",
        ));
    };
    let mut tokens = preop::tokenize(preop).map_err(Error::usage)?;
    if tokens.is_empty() {
        return Err(Error::usage("the streaming_preop is empty"));
    }
    tokens.remove(0);
    Ok(tokens)
}

/// Deals the stream's events to the indexers. Copies the execute chunks
/// into `whole` when the settings measure. Returns the bytes and the
/// number of those chunks.
fn deal<R: BufRead>(
    reader: &mut ChunkReader<R>,
    indexers: &mut [Indexer],
    settings: &Settings,
    whole: &mut Vec<u8>,
) -> Result<(u64, u64)> {
    let limit = settings.chunk_rows.unwrap_or(usize::MAX);
    let k = indexers.len() as u64;
    let mut next: u64 = 0;
    let (mut bytes, mut chunks) = (0, 0);
    while let Some(chunk) = reader.read_chunk()? {
        let number = chunk.number;
        if let Request::GetInfo(_) = parse_request(number, chunk.metadata)? {
            return Err(Error::new(ErrorKind::Sequence {
                chunk: number,
                reason: "a second getinfo request; expected execute"
                    .to_string(),
            }));
        }
        bytes += chunk_len(chunk.metadata, chunk.body);
        chunks += 1;
        if settings.measure {
            write_chunk(whole, chunk.metadata, chunk.body)?;
        }

        let mut records = Records::new(number, chunk.body, &[])?;
        let mut header = records.raw().to_vec();
        if header.is_empty() {
            continue;
        }
        if !header.ends_with(b"\n") && !header.ends_with(b"\r") {
            header.push(b'\n');
        }
        if settings.chunk_rows.is_none() {
            for indexer in indexers.iter_mut() {
                indexer.header.extend_from_slice(&header);
                indexer.body.extend_from_slice(&header);
            }
        }
        while records.advance()? {
            let indexer = &mut indexers[(next % k) as usize];
            next += 1;
            indexer.push(&header, records.raw(), limit)?;
        }
        if settings.chunk_rows.is_none() {
            for indexer in indexers.iter_mut() {
                indexer.close()?;
            }
        }
    }
    for indexer in indexers.iter_mut() {
        indexer.close()?;
        write_chunk(&mut indexer.stream, LAST, b"")?;
    }
    Ok((bytes, chunks))
}

/// Turns a map phase's replies into execute chunks for the reduce phase
/// and counts them.
fn collect(
    output: &[u8],
    reduce_input: &mut Vec<u8>,
    report: &mut Report,
) -> Result<()> {
    let mut replies = ChunkReader::new(output);
    let mut first = true;
    while let Some(reply) = replies.read_chunk()? {
        if std::mem::take(&mut first) {
            continue;
        }
        if reply.body.is_empty() {
            continue;
        }
        write_chunk(reduce_input, MORE, reply.body)?;
        report.bytes_with += chunk_len(MORE, reply.body);
        report.chunks_with += 1;
        report.partial_rows += count_rows(reply.body)?;
    }
    Ok(())
}

/// The bytes of a chunk with this metadata and body, header included.
fn chunk_len(metadata: &[u8], body: &[u8]) -> u64 {
    let header = format!("chunked 1.0,{},{}\n", metadata.len(), body.len());
    (header.len() + metadata.len() + body.len()) as u64
}

/// Records (header not counted) in a CSV body.
fn count_rows(body: &[u8]) -> Result<u64> {
    let mut records = Records::new(0, body, &[])?;
    while records.advance()? {}
    Ok(records.count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_are_taken_out_and_the_rest_kept() {
        let (settings, rest) = take_flags(&argv(&[
            "--indexers",
            "4",
            "--format=csv",
            "s.bin",
            "--chunk-rows=100",
            "--map-flush",
            "end",
            "--measure",
            "by=dest",
        ]))
        .unwrap();
        assert_eq!(
            settings,
            Some(Settings {
                indexers: 4,
                chunk_rows: Some(100),
                flush: Flush::AtEnd,
                measure: true,
            })
        );
        assert_eq!(rest, argv(&["--format=csv", "s.bin", "by=dest"]));
        let (settings, rest) = take_flags(&argv(&["s.bin"])).unwrap();
        assert_eq!((settings, rest), (None, argv(&["s.bin"])));
    }

    #[test]
    fn bad_flags_are_refused() {
        for (bad, text) in [
            (&["--indexers", "0"][..], "from 1 to 1024, got '0'"),
            (&["--indexers=x"], "from 1 to 1024, got 'x'"),
            (&["--indexers"], "--indexers needs a value"),
            (&["--measure"], "need --indexers K"),
            (
                &["--indexers=2", "--map-flush=later"],
                "expected chunk or end",
            ),
        ] {
            let err = take_flags(&argv(bad)).unwrap_err().to_string();
            assert!(err.contains(text), "{bad:?}: {err}");
        }
    }
}
