//! `distributed=true` end to end: the real binary in map and reduce
//! processes over pipes, with this file playing Splunk.
//!
//! The oracle is the single-process search over the same events (the
//! command as it runs without `distributed`): for any event set split
//! across any number of indexers, the search head's final reply must be
//! the same bytes.
//!
//! What "playing Splunk" means here, and where each piece comes from:
//!
//! * bodies are written as Splunk writes them: every value that is not
//!   plain letters and digits quoted, an `__mv_` twin for every column,
//!   multivalue fields joined by newlines (protocol notes §4);
//! * the preop text is split into the map phase's arguments by the model
//!   of Splunk's tokenisation, which `recorded_arguments_tokenize_...`
//!   checks against Splunk 6.3's recordings;
//! * the map phases' rows reach the reduce process shuffled, re-chunked
//!   and re-encoded in Splunk's quoting, and a chunk leaves out columns
//!   that are empty in all its rows (Splunk does not keep null fields);
//!   `splunk_reencoding_matches_the_6_3_recording` checks the encoding
//!   against what Splunk 6.3 sent the SDK's reduce phase.

use std::io::{BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use proptest::prelude::*;
use serde_json::{json, Value};

use scriptblockhunt::chunk::{write_chunk, ChunkReader};
use scriptblockhunt::preop;
use scriptblockhunt::records;

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_scriptblockhunt");

/// Metadata of an execute chunk that more chunks follow.
const MORE: &str = r#"{"action":"execute","finished":false}"#;

/// Metadata of Splunk's last execute chunk.
const LAST: &str = r#"{"action":"execute","finished":true}"#;

/// The fields every test event may have, in column order.
const NAMES: [&str; 5] = ["t", "h", "p", "n", "_time"];

/// A reply chunk: metadata and body.
type Reply = (Vec<u8>, Vec<u8>);

/// One command process, talked to in lock step.
struct Process {
    /// The child.
    child: Child,
    /// Its stdin; dropped to close it.
    stdin: Option<ChildStdin>,
    /// Its stdout, read chunk by chunk.
    replies: ChunkReader<BufReader<ChildStdout>>,
}

impl Process {
    /// Starts the binary in protocol mode, logging errors only.
    fn start() -> Process {
        let mut child = Command::new(BIN)
            .env("SCRIPTBLOCKHUNT_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the binary starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("piped stdout");
        Process {
            child,
            stdin,
            replies: ChunkReader::new(BufReader::new(stdout)),
        }
    }

    /// Sends one request and reads the one reply.
    fn ask(&mut self, metadata: &[u8], body: &[u8]) -> Reply {
        let stdin = self.stdin.as_mut().expect("stdin open");
        write_chunk(stdin, metadata, body).expect("request written");
        stdin.flush().expect("request flushed");
        let reply = self
            .replies
            .read_chunk()
            .expect("a well-formed reply")
            .expect("a reply before the end of the stream");
        (reply.metadata.to_vec(), reply.body.to_vec())
    }

    /// Closes stdin and waits; true when the process exited with 0.
    fn end(mut self) -> bool {
        drop(self.stdin.take());
        self.child.wait().expect("the process ends").success()
    }
}

/// A getinfo request with these arguments (and the raw arguments Splunk
/// would send, which the command does not read).
fn getinfo(args: &[String]) -> Vec<u8> {
    let metadata = json!({
        "action": "getinfo",
        "preview": false,
        "searchinfo": {
            "args": args,
            "raw_args": args,
            "sid": "test",
            "splunk_version": "8.2.1",
            "command": "scriptblockhunt",
            "session_key": "NOT-A-KEY",
            "maxresultrows": 50000,
        }
    });
    serde_json::to_vec(&metadata).unwrap()
}

/// A CSV cell as Splunk writes it: quoted unless it is plain ASCII letters
/// and digits (an empty cell stays empty).
fn splunk_cell(value: &[u8], out: &mut Vec<u8>) {
    if value.iter().all(u8::is_ascii_alphanumeric) {
        out.extend_from_slice(value);
        return;
    }
    out.push(b'"');
    for &b in value {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// A chunk body as Splunk writes it: the columns, then an `__mv_` twin for
/// each; a field of several values is joined by newlines and its twin is
/// `$v1$;$v2$` with `$` doubled.
fn splunk_body(names: &[&str], rows: &[Vec<Vec<Vec<u8>>>]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut header: Vec<Vec<u8>> =
        names.iter().map(|n| n.as_bytes().to_vec()).collect();
    header.extend(names.iter().map(|n| format!("__mv_{n}").into_bytes()));
    for (i, name) in header.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        splunk_cell(name, &mut out);
    }
    out.push(b'\n');
    for row in rows {
        let mut cells: Vec<Vec<u8>> = Vec::new();
        let mut twins: Vec<Vec<u8>> = Vec::new();
        for values in row {
            cells.push(values.join(&b'\n'));
            let mut twin = Vec::new();
            if values.len() > 1 {
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        twin.push(b';');
                    }
                    twin.push(b'$');
                    for &b in v {
                        if b == b'$' {
                            twin.push(b'$');
                        }
                        twin.push(b);
                    }
                    twin.push(b'$');
                }
            }
            twins.push(twin);
        }
        cells.extend(twins);
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            splunk_cell(cell, &mut out);
        }
        out.push(b'\n');
    }
    out
}

/// One test event: the values of each of `NAMES` (empty = null).
type Event = Vec<Vec<String>>;

/// The cells of an event for `splunk_body`.
fn cells(event: &Event) -> Vec<Vec<Vec<u8>>> {
    event
        .iter()
        .map(|values| values.iter().map(|v| v.as_bytes().to_vec()).collect())
        .collect()
}

/// Cuts `items` into chunks of the sizes in `sizes`, used in turn.
fn cut<T: Clone>(items: &[T], sizes: &[usize]) -> Vec<Vec<T>> {
    let mut chunks = Vec::new();
    let mut start = 0;
    let mut turn = 0;
    while start < items.len() {
        let size = sizes[turn % sizes.len()];
        turn += 1;
        let end = (start + size).min(items.len());
        chunks.push(items[start..end].to_vec());
        start = end;
    }
    chunks
}

/// How Splunk frames one side's input.
#[derive(Clone, Debug)]
struct Framing {
    /// Chunk sizes, in rows, used in turn.
    sizes: Vec<usize>,
    /// End with a separate, empty `finished:true` chunk.
    separate_last: bool,
    /// An empty chunk's body is the header row alone (else zero bytes).
    header_only: bool,
}

/// The execute chunks (metadata, body) for `rows` under `framing`.
fn frame(
    names: &[&str],
    rows: &[Vec<Vec<Vec<u8>>>],
    framing: &Framing,
) -> Vec<(&'static str, Vec<u8>)> {
    let empty = || {
        if framing.header_only {
            splunk_body(names, &[])
        } else {
            Vec::new()
        }
    };
    let mut chunks: Vec<(&'static str, Vec<u8>)> = cut(rows, &framing.sizes)
        .iter()
        .map(|c| {
            let body = if c.is_empty() {
                empty()
            } else {
                splunk_body(names, c)
            };
            (MORE, body)
        })
        .collect();
    if framing.separate_last || chunks.is_empty() {
        chunks.push((LAST, empty()));
    } else {
        chunks.last_mut().expect("not empty").0 = LAST;
    }
    chunks
}

/// Runs a reporting invocation (single process or reduce) and returns
/// its getinfo reply and its final reply.
fn report(args: &[String], chunks: &[(&str, Vec<u8>)]) -> (Value, Reply) {
    let mut process = Process::start();
    let (info, _) = process.ask(&getinfo(args), b"");
    let info: Value = serde_json::from_slice(&info).unwrap();
    let mut last = None;
    for (metadata, body) in chunks {
        let reply = process.ask(metadata.as_bytes(), body);
        last = Some(reply);
    }
    assert!(process.end(), "the reporting process exits with 0");
    (info, last.expect("at least one execute chunk"))
}

/// Runs one map phase and returns the bodies of its replies.
fn map_phase(args: &[String], chunks: &[(&str, Vec<u8>)]) -> Vec<Vec<u8>> {
    let mut process = Process::start();
    let (info, body) = process.ask(&getinfo(args), b"");
    assert_eq!(info, br#"{"type":"streaming"}"#);
    assert!(body.is_empty());
    let mut bodies = Vec::new();
    for (metadata, body) in chunks {
        let (reply, body) = process.ask(metadata.as_bytes(), body);
        let finished = *metadata == LAST;
        let expected = format!("{{\"finished\":{finished}}}");
        assert_eq!(String::from_utf8(reply).unwrap(), expected);
        bodies.push(body);
    }
    assert!(process.end(), "the map process exits with 0");
    bodies
}

/// Splunk's handling of the map phases' rows on their way to the search
/// head: all rows, in `order`, cut into chunks by `framing`, each chunk
/// without the columns that are empty in all its rows, in Splunk's
/// encoding.
fn to_search_head(
    bodies: &[Vec<u8>],
    order: &[u32],
    framing: &Framing,
) -> Vec<(&'static str, Vec<u8>)> {
    let mut header: Vec<Vec<u8>> = Vec::new();
    let mut rows: Vec<Vec<Vec<u8>>> = Vec::new();
    for body in bodies {
        let mut lines = records::all_rows(body).unwrap().into_iter();
        if let Some(h) = lines.next() {
            if !header.is_empty() {
                assert_eq!(header, h, "every map reply has the same columns");
            }
            header = h;
        }
        rows.extend(lines);
    }
    let mut keyed: Vec<(u32, Vec<Vec<u8>>)> = rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| (order[i % order.len()], row))
        .collect();
    keyed.sort_by_key(|(key, _)| *key);
    let rows: Vec<Vec<Vec<u8>>> = keyed.into_iter().map(|(_, r)| r).collect();

    let mut chunks = Vec::new();
    let pieces = cut(&rows, &framing.sizes);
    for piece in &pieces {
        if piece.is_empty() {
            chunks.push((MORE, Vec::new()));
            continue;
        }
        let keep: Vec<usize> = (0..header.len())
            .filter(|&c| piece.iter().any(|row| !row[c].is_empty()))
            .collect();
        let names: Vec<String> = keep
            .iter()
            .map(|&c| String::from_utf8(header[c].clone()).unwrap())
            .collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let kept: Vec<Vec<Vec<Vec<u8>>>> = piece
            .iter()
            .map(|row| keep.iter().map(|&c| vec![row[c].clone()]).collect())
            .collect();
        // A single empty value is written as an empty cell, not as "".
        let kept: Vec<Vec<Vec<Vec<u8>>>> = kept
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|v| if v[0].is_empty() { Vec::new() } else { v })
                    .collect()
            })
            .collect();
        chunks.push((MORE, splunk_body(&names, &kept)));
    }
    chunks.push((LAST, Vec::new()));
    chunks
}

/// One random search: options, events, and how Splunk splits and frames
/// them.
#[derive(Clone, Debug)]
struct Case {
    /// The search's arguments, without `distributed`.
    args: Vec<String>,
    /// How `distributed=true` is spelled.
    yes: &'static str,
    /// The events, as values of `NAMES`.
    events: Vec<Event>,
    /// Number of indexers.
    indexers: usize,
    /// Indexer of event i is `placement[i] % indexers`.
    placement: Vec<usize>,
    /// Framing of the single process's input.
    single: Framing,
    /// Framing of each map phase's input.
    map: Framing,
    /// Framing of the reduce phase's input.
    reduce: Framing,
    /// Sort keys that shuffle the partial rows.
    order: Vec<u32>,
}

/// Values of BY fields: ties between numbers spelled differently, the
/// fill values themselves, text that needs quoting, unicode, `$`.
const BY_VALUES: [&str; 16] = [
    "a",
    "B",
    "ж",
    "日本",
    "0",
    "1",
    "1.0",
    "01",
    "10",
    "-2",
    "x,y",
    "q\"t",
    " lead",
    "two\nlines",
    "$d$",
    "n/a",
];

/// Values of the matched field: hits for each pattern and misses.
const TEXTS: [&str; 8] = [
    "Get-NetTCPConnection -State Listen",
    "$c = get-nettcpconnection",
    "Get-Process",
    "say \"q\" now",
    "C:\\temp\\run.ps1 -x",
    "ж only",
    "\"q\" and Get-NetTcpConnection",
    "nothing",
];

/// `_time` values: numbers, ties, strings.
const TIMES: [&str; 8] = [
    "5",
    "5.0",
    "05",
    "1651495181.710158",
    "1651495181.71",
    "abc",
    "-1",
    "ж",
];

/// A field: null, one value, or several (an empty item among them now
/// and then).
fn field(pool: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    let value = prop_oneof![
        12 => proptest::sample::select(pool).prop_map(str::to_string),
        1 => Just(String::new()),
    ];
    prop_oneof![
        3 => Just(Vec::new()),
        5 => proptest::sample::select(pool).prop_map(|v| vec![v.to_string()]),
        2 => proptest::collection::vec(value, 2..4),
    ]
}

/// A `_time`: mostly one value, sometimes null, rarely several.
fn time() -> impl Strategy<Value = Vec<String>> {
    let value = prop_oneof![
        8 => proptest::sample::select(&TIMES[..]).prop_map(str::to_string),
        1 => Just(String::new()),
    ];
    prop_oneof![
        2 => Just(Vec::new()),
        8 => proptest::sample::select(&TIMES[..])
            .prop_map(|v| vec![v.to_string()]),
        1 => proptest::collection::vec(value, 2..3),
    ]
}

/// One event.
fn event() -> impl Strategy<Value = Event> {
    (
        field(&TEXTS),
        field(&BY_VALUES),
        field(&BY_VALUES),
        field(&BY_VALUES),
        time(),
    )
        .prop_map(|(t, h, p, n, time)| vec![t, h, p, n, time])
}

/// A framing.
fn framing() -> impl Strategy<Value = Framing> {
    (
        proptest::collection::vec(0..6usize, 1..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(mut sizes, separate_last, header_only)| {
            if sizes.iter().all(|&s| s == 0) {
                sizes.push(1);
            }
            Framing {
                sizes,
                separate_last,
                header_only,
            }
        })
}

/// A whole case.
fn case() -> impl Strategy<Value = Case> {
    let patterns = proptest::sample::subsequence(
        vec!["*Get-NetTcpconnection*", "*\"q\"*", "*C:\\temp\\*", "*ж*"],
        1..3,
    );
    let by = proptest::sample::select(vec![
        "h,p,n", "h", "n,h", "h,t", "p,_time", "t", "_time,h",
    ]);
    let value = proptest::sample::select(vec![
        "0",
        "n/a",
        "ж",
        "a \"b\" \\",
        "1.0",
        "C:\\",
    ]);
    let yes =
        proptest::sample::select(vec!["true", "t", "1", "yes", "TRUE", "Y"]);
    (
        (patterns, by, value, yes),
        proptest::collection::vec(event(), 0..40),
        1..=4usize,
        proptest::collection::vec(0..4usize, 40),
        (framing(), framing(), framing()),
        proptest::collection::vec(any::<u32>(), 1..60),
    )
        .prop_map(
            |(
                (patterns, by, value, yes),
                events,
                indexers,
                placement,
                (single, map, reduce),
                order,
            )| {
                let mut args: Vec<String> =
                    patterns.iter().map(|p| format!("pattern={p}")).collect();
                args.push("field=t".to_string());
                args.push(format!("by={by}"));
                args.push(format!("value={value}"));
                Case {
                    args,
                    yes,
                    events,
                    indexers,
                    placement,
                    single,
                    map,
                    reduce,
                    order,
                }
            },
        )
}

/// Runs a case both ways and returns (single-process final reply,
/// map + reduce final reply).
fn both_ways(case: &Case) -> (Reply, Reply) {
    let rows: Vec<Vec<Vec<Vec<u8>>>> = case.events.iter().map(cells).collect();
    let (_, single) = report(&case.args, &frame(&NAMES, &rows, &case.single));

    let mut reduce_args = case.args.clone();
    reduce_args.push(format!("distributed={}", case.yes));
    let mut probe = Process::start();
    let (info, _) = probe.ask(&getinfo(&reduce_args), b"");
    assert!(probe.end(), "a getinfo probe exits with 0");
    let info: Value = serde_json::from_slice(&info).unwrap();
    assert_eq!(info["type"], "reporting");
    let preop = info["streaming_preop"].as_str().expect("a preop");
    let tokens = preop::tokenize(preop).unwrap();
    assert_eq!(tokens[0], "scriptblockhunt");
    let map_args = &tokens[1..];

    let mut bodies = Vec::new();
    for indexer in 0..case.indexers {
        let mine: Vec<Vec<Vec<Vec<u8>>>> = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| case.placement[*i] % case.indexers == indexer)
            .map(|(_, r)| r.clone())
            .collect();
        bodies.extend(map_phase(map_args, &frame(&NAMES, &mine, &case.map)));
    }
    let chunks = to_search_head(&bodies, &case.order, &case.reduce);
    let (_, reduced) = report(&reduce_args, &chunks);
    (single, reduced)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    })]

    #[test]
    fn map_and_reduce_over_pipes_equal_one_process(case in case()) {
        let (single, reduced) = both_ways(&case);
        prop_assert_eq!(
            String::from_utf8_lossy(&reduced.0),
            String::from_utf8_lossy(&single.0)
        );
        prop_assert_eq!(
            String::from_utf8_lossy(&reduced.1),
            String::from_utf8_lossy(&single.1)
        );
    }
}

/// A case with everything that matters at once, run every time.
#[test]
fn a_fixed_case_with_nulls_multivalues_and_fill_collisions() {
    let ev = |t: &[&str], h: &[&str], p: &[&str], time: &[&str]| -> Event {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        vec![own(t), own(h), own(p), Vec::new(), own(time)]
    };
    let hit = "Get-NetTCPConnection";
    let events = vec![
        ev(&[hit], &["a"], &[], &["5"]),
        ev(&[hit], &["a"], &["0"], &["1651495181.71"]),
        ev(&[hit], &["a", "b", "a"], &["x"], &["5.0"]),
        ev(&["Get-Process"], &["a"], &["y"], &["1"]),
        ev(&[hit], &["ж"], &["", "q"], &["abc"]),
        ev(&[hit], &[], &["x"], &[]),
        ev(&[hit], &["a"], &[], &["05"]),
    ];
    let framing = |sizes: Vec<usize>| Framing {
        sizes,
        separate_last: true,
        header_only: true,
    };
    let case = Case {
        args: vec!["field=t".to_string(), "by=h,p".to_string()],
        yes: "true",
        events,
        indexers: 3,
        placement: (0..40).collect(),
        single: framing(vec![2]),
        map: framing(vec![1]),
        reduce: framing(vec![3]),
        order: vec![5, 1, 4, 2, 3],
    };
    let (single, reduced) = both_ways(&case);
    assert_eq!(reduced, single);
    // Hand-computed: p is null in events 1 and 7 and is filled with 0,
    // joining event 2's real "0" (min 05: equal to 5 as a number, smaller
    // as text); the multivalue h counts a twice; the empty item of p
    // stays an empty value; event 6's null h is filled too (h is present
    // elsewhere) and, as a number, sorts first.
    assert_eq!(
        String::from_utf8(single.1).unwrap(),
        "h,p,count,firstTime,lastTime\n\
         0,x,1,,\n\
         a,0,3,05,1651495181.71\n\
         a,x,2,5.0,5.0\n\
         b,x,1,5.0,5.0\n\
         ж,,1,abc,abc\n\
         ж,q,1,abc,abc\n"
    );
}

/// The recordings copied into tests/data.
fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The chunks of a recorded reply file.
fn chunks_of(bytes: &[u8]) -> Vec<Reply> {
    let mut reader = ChunkReader::new(bytes);
    let mut out = Vec::new();
    while let Some(c) = reader.read_chunk().unwrap() {
        out.push((c.metadata.to_vec(), c.body.to_vec()));
    }
    out
}

#[test]
fn map_getinfo_reply_is_the_sdk_map_phase_reply() {
    let recorded =
        std::fs::read(data("sum.map.response.sdk-3.0.1.bin")).unwrap();
    let recorded = chunks_of(&recorded);
    let mut process = Process::start();
    let reply = process.ask(&getinfo(&["phase=map".to_string()]), b"");
    assert_eq!(reply, recorded[0]);
    assert!(process.end());
}

#[test]
fn recorded_arguments_tokenize_as_splunk_delivered_them() {
    let text =
        std::fs::read_to_string(data("splunk-6.3-scpv2-args.json")).unwrap();
    let recorded: Value = serde_json::from_str(&text).unwrap();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    for name in ["countmatches", "pypygeneratetext", "sum.map"] {
        let raw = strings(&recorded[name]["raw_args"]).join(" ");
        let args = strings(&recorded[name]["args"]);
        assert_eq!(preop::tokenize(&raw).unwrap(), args, "{name}");
    }

    // The SDK's reduce phase named this preop; Splunk started the map
    // phase with these arguments (in another order).
    let reply =
        std::fs::read(data("sum.reduce.response.sdk-3.0.1.bin")).unwrap();
    let info: Value = serde_json::from_slice(&chunks_of(&reply)[0].0).unwrap();
    let preop = info["streaming_preop"].as_str().unwrap();
    let mut tokens = preop::tokenize(preop).unwrap();
    assert_eq!(tokens.remove(0), "sum");
    tokens.sort();
    let mut delivered = strings(&recorded["sum.map"]["args"]);
    delivered.sort();
    assert_eq!(tokens, delivered);
}

#[test]
fn splunk_reencoding_matches_the_6_3_recording() {
    let text =
        std::fs::read_to_string(data("splunk-6.3-scpv2-args.json")).unwrap();
    let recorded: Value = serde_json::from_str(&text).unwrap();
    let body = recorded["sum.reduce"]["execute_body"].as_str().unwrap();
    let row = vec![vec![b"2147943.07811".to_vec()]];
    assert_eq!(splunk_body(&["total"], &[row]), body.as_bytes());
}

#[test]
fn reduce_refuses_events_that_are_not_partial_rows() {
    let args = vec!["field=t".to_string(), "distributed=yes".to_string()];
    let rows = vec![cells(&vec![
        vec!["Get-NetTcpConnection".to_string()],
        vec!["a".to_string()],
        Vec::new(),
        Vec::new(),
        vec!["5".to_string()],
    ])];
    let mut process = Process::start();
    process.ask(&getinfo(&args), b"");
    let (metadata, body) =
        process.ask(LAST.as_bytes(), &splunk_body(&NAMES, &rows));
    let metadata = String::from_utf8(metadata).unwrap();
    assert!(body.is_empty());
    assert!(
        metadata.contains(
            "chunk 2: CSV record 1: no scriptblockhunt_options cell: this \
             is not a partial row of the map phase"
        ),
        "{metadata}"
    );
    assert!(metadata.contains(r#""finished":true"#));
    assert!(!process.end(), "the reduce exits non-zero");
}

/// A unique scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("scriptblockhunt-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn replay_indexers_gives_the_rows_of_replay() {
    // Event i: a miss when i % 3 == 0, so h is b or ж; p null when
    // i % 4 == 0, else i % 5; _time 100 + i + 0.5.
    let hit = "Get-NetTcpConnection".to_string();
    let mut rows = Vec::new();
    for i in 0..30u32 {
        rows.push(cells(&vec![
            vec![if i % 3 == 0 {
                "no".to_string()
            } else {
                hit.clone()
            }],
            vec![["a", "b", "ж"][i as usize % 3].to_string()],
            if i % 4 == 0 {
                Vec::new()
            } else {
                vec![(i % 5).to_string()]
            },
            Vec::new(),
            vec![format!("{}.5", 100 + i)],
        ]));
    }
    let mut stream = Vec::new();
    write_chunk(&mut stream, &getinfo(&[]), b"").unwrap();
    for (metadata, body) in frame(
        &NAMES,
        &rows,
        &Framing {
            sizes: vec![7],
            separate_last: false,
            header_only: true,
        },
    ) {
        write_chunk(&mut stream, metadata.as_bytes(), &body).unwrap();
    }
    let dir = scratch("replay");
    let path = dir.join("stream.bin");
    std::fs::write(&path, &stream).unwrap();

    let run = |extra: &[&str]| {
        let output = Command::new(BIN)
            .arg("replay")
            .args(extra)
            .args(["--format", "csv"])
            .arg(&path)
            .args(["field=t", "by=h,p", "value=none"])
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, single, _) = run(&[]);
    assert_eq!(code, Some(0));
    assert_eq!(
        single,
        "h,p,count,firstTime,lastTime\n\
         b,0,2,110.5,125.5\n\
         b,1,1,101.5,101.5\n\
         b,2,2,107.5,122.5\n\
         b,3,1,113.5,113.5\n\
         b,4,1,119.5,119.5\n\
         b,none,3,104.5,128.5\n\
         ж,0,1,105.5,105.5\n\
         ж,1,2,111.5,126.5\n\
         ж,2,2,102.5,117.5\n\
         ж,3,1,123.5,123.5\n\
         ж,4,2,114.5,129.5\n\
         ж,none,2,108.5,120.5\n"
    );
    for extra in [
        &["--indexers", "3"][..],
        &["--indexers=2", "--chunk-rows=2", "--map-flush=end"],
        &["--indexers", "4", "--measure"],
    ] {
        let (code, rows, stderr) = run(extra);
        assert_eq!(code, Some(0), "{extra:?}: {stderr}");
        assert_eq!(rows, single, "{extra:?}");
        if extra.contains(&"--measure") {
            assert!(stderr.contains("identical"), "{stderr}");
            assert!(stderr.contains("events per indexer"), "{stderr}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The `replay_oracle.py` commands of tests/expected/README.md: (expected
/// file, stream, arguments). Those files were computed by an independent
/// Python oracle over real Splunk recordings and hand-made streams.
fn oracle_cases() -> Vec<(String, String, Vec<String>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let readme =
        std::fs::read_to_string(root.join("tests/expected/README.md"))
            .unwrap();
    let mut cases = Vec::new();
    for line in readme.lines() {
        let Some(command) =
            line.strip_prefix("    python3 tests/oracle/replay_oracle.py ")
        else {
            continue;
        };
        let (command, target) = command.split_once(" > ").unwrap();
        // The README quotes with single quotes only.
        let mut words = Vec::new();
        for (i, piece) in command.split('\'').enumerate() {
            if i % 2 == 1 {
                words.push(piece.to_string());
            } else {
                words.extend(piece.split_whitespace().map(String::from));
            }
        }
        let stream = words.remove(0);
        cases.push((target.to_string(), stream, words));
    }
    cases
}

#[test]
fn replay_indexers_matches_the_oracle_on_every_recorded_stream() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cases = oracle_cases();
    assert!(cases.len() >= 10, "found {} oracle cases", cases.len());
    for (i, (target, stream, args)) in cases.iter().enumerate() {
        let expected = std::fs::read(root.join(target)).unwrap();
        let big =
            std::fs::metadata(root.join(stream)).unwrap().len() > 1 << 20;
        let mut flags =
            vec!["--indexers".to_string(), (2 + i % 4).to_string()];
        if i % 2 == 1 {
            flags.push("--chunk-rows".to_string());
            flags.push(if big { "1000" } else { "3" }.to_string());
        }
        let output = Command::new(BIN)
            .arg("replay")
            .args(&flags)
            .args(["--format", "csv"])
            .arg(stream)
            .args(args)
            .current_dir(&root)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "{target} {flags:?}");
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&expected),
            "{target} {flags:?}"
        );
    }
}
