//! The session key and the splunkd URI never leave the process.
//!
//! Every request stream kept under tests/data (the Splunk recordings carry
//! real-looking session keys in their getinfo chunks; the generated streams,
//! which carry none, get a known key and a splunkd URI with a password put
//! into theirs; streams added later are picked up too) goes through the
//! real binary at the most verbose log level, several ways: as recorded (the recorded
//! arguments are other commands' options, so this is an error path), with
//! options that make every event match (the main path, rows out), cut in
//! half (a truncated stream), and, in debug builds, with a panic in the
//! last chunk. stdout and stderr must not hold the key, the URI, or any
//! 12-byte piece of either. The hand-made hostile streams of
//! tests/hostile.rs carry a key and a URI with a password and are checked
//! the same way there.

#![cfg(unix)]

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use common::{assert_no_secret, chunk, read_chunks};

/// Every file under `dir`, recursively, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The file's bytes, gunzipped when they are gzip.
fn bytes(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap();
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return raw;
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// The chunks of a stream, tolerating the blank lines old recorders left
/// between chunks; `None` if the bytes are not a chunk stream.
fn stream_chunks(bytes: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    if !bytes.starts_with(b"chunked 1.0,") {
        return None;
    }
    let mut cleaned = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        if rest[0] == b'\n' || rest[0] == b'\r' {
            rest = &rest[1..];
            continue;
        }
        let newline = rest.iter().position(|&b| b == b'\n')?;
        let header = std::str::from_utf8(&rest[..newline]).ok()?;
        let (m, b) = header.strip_prefix("chunked 1.0,")?.split_once(',')?;
        let (m, b): (usize, usize) = (m.parse().ok()?, b.parse().ok()?);
        let end = (newline + 1 + m + b).min(rest.len());
        cleaned.extend_from_slice(&rest[..end]);
        rest = &rest[end..];
    }
    Some(read_chunks(&cleaned))
}

/// The secrets in a getinfo metadata: session key and splunkd URI.
fn secrets(getinfo: &[u8]) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_slice(getinfo).unwrap();
    ["session_key", "splunkd_uri"]
        .iter()
        .filter_map(|k| value["searchinfo"][k].as_str())
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

/// Options that make every event of `body` match: the match field is the
/// body's first column, the BY field its second (or the first again).
fn matching_args(body: &[u8]) -> Vec<String> {
    let line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    let names: Vec<String> = String::from_utf8_lossy(line)
        .split(',')
        .map(|n| n.trim_matches('"').to_string())
        .filter(|n| !n.is_empty() && !n.starts_with("__mv_"))
        .collect();
    let field = names.first().cloned().unwrap_or_else(|| "_raw".into());
    let by = names.get(1).cloned().unwrap_or_else(|| field.clone());
    vec![
        "pattern=*".into(),
        format!("field={field}"),
        format!("by={by}"),
    ]
}

/// True when `metadata` is a getinfo request: the stream is one Splunk
/// sends (not a recorded reply).
fn is_getinfo(metadata: &[u8]) -> bool {
    serde_json::from_slice::<serde_json::Value>(metadata)
        .is_ok_and(|v| v["action"] == "getinfo")
}

/// `chunks` as a stream, with the getinfo arguments replaced by `args`
/// when given, and the known secrets put in when `inject`.
fn rewrite(
    chunks: &[(Vec<u8>, Vec<u8>)],
    args: Option<&[String]>,
    inject: bool,
) -> Vec<u8> {
    let mut getinfo: serde_json::Value =
        serde_json::from_slice(&chunks[0].0).unwrap();
    if let Some(args) = args {
        getinfo["searchinfo"]["args"] = serde_json::json!(args);
    }
    if inject {
        getinfo["searchinfo"]["session_key"] = common::SESSION_KEY.into();
        getinfo["searchinfo"]["splunkd_uri"] = common::SPLUNKD_URI.into();
    }
    let mut out = chunk(&serde_json::to_vec(&getinfo).unwrap(), b"");
    for (m, b) in &chunks[1..] {
        out.extend(chunk(m, b));
    }
    out
}

/// Runs `input` and checks that no secret shows; returns the run.
fn check(
    input: &[u8],
    env: &[(&str, &str)],
    secrets: &[String],
    what: &str,
) -> common::Run {
    let run = common::serve_with(input, env);
    let mut output = run.stdout.clone();
    output.extend(&run.stderr);
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    assert_no_secret(&output, &secrets, what);
    assert!(
        run.stderr_text().contains(" DEBUG ") || run.code() != 0,
        "{what}: the log was not verbose"
    );
    run
}

#[test]
fn no_stream_under_tests_data_leaks_a_secret() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    let mut streams = 0;
    for path in files(&root) {
        let bytes = bytes(&path);
        let Some(chunks) = stream_chunks(&bytes) else {
            continue;
        };
        if !is_getinfo(&chunks[0].0) {
            continue;
        }
        streams += 1;
        let name = path.display().to_string();
        let mut secrets = secrets(&chunks[0].0);
        let inject = secrets.is_empty();
        let recorded = if inject {
            secrets =
                vec![common::SESSION_KEY.into(), common::SPLUNKD_URI.into()];
            rewrite(&chunks, None, true)
        } else {
            bytes.clone()
        };

        let run = check(&recorded, &[], &secrets, &name);
        assert!(!run.stdout.is_empty(), "{name}: no reply at all");

        let body = chunks.get(1).map_or(&[][..], |c| &c.1[..]);
        let args = matching_args(body);
        let matching = rewrite(&chunks, Some(&args), inject);
        let run = check(&matching, &[], &secrets, &format!("{name} {args:?}"));
        assert_eq!(run.code(), 0, "{name}: {}", run.stderr_text());

        let half = &matching[..matching.len() / 2];
        check(half, &[], &secrets, &format!("{name}, first half"));

        if cfg!(debug_assertions) && chunks.len() > 1 {
            let last = chunks.len().to_string();
            let env =
                [("SCRIPTBLOCKHUNT_DEBUG_PANIC_AT_CHUNK", last.as_str())];
            let run =
                check(&matching, &env, &secrets, &format!("{name}, panic"));
            assert_eq!(run.code(), 1, "{name}: the panic was not reached");
        }
    }
    assert!(
        streams >= 5,
        "only {streams} request streams under tests/data"
    );
}

#[test]
fn a_recorded_key_is_found_when_it_is_there() {
    // The search itself must be able to fail: a run whose output holds a
    // secret is caught.
    let secret = "2gvTmLzI2Du9Xjd28TWT9fdCAi0ttIsRgOTdjyWobOWBePPC";
    let output = format!("INFO key {}", &secret[10..30]);
    let caught = std::panic::catch_unwind(|| {
        assert_no_secret(output.as_bytes(), &[secret], "output")
    });
    assert!(caught.is_err());
}
