//! The real binary in protocol mode (no arguments, as splunkd runs it),
//! fed whole chunk streams on stdin.

use std::io::Write;
use std::process::{Command, Stdio};

/// What one run of the binary returned.
struct Run {
    /// Exit status code.
    code: i32,
    /// The reply chunks: (metadata, body).
    replies: Vec<(String, Vec<u8>)>,
    /// Everything written to stdout.
    stdout: Vec<u8>,
    /// Everything written to stderr.
    stderr: String,
}

/// Runs the binary on `stream`.
fn run(stream: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_scriptblockhunt"))
        .env("SCRIPTBLOCKHUNT_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = stream.to_vec();
    let writer = std::thread::spawn(move || {
        // The command may stop reading early on an error: ignore EPIPE.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: output.status.code().unwrap(),
        replies: parse_replies(&output.stdout),
        stdout: output.stdout,
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Splits stdout into chunks, insisting that nothing else is there.
fn parse_replies(mut out: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut replies = Vec::new();
    while !out.is_empty() {
        let end = out.iter().position(|&b| b == b'\n').unwrap();
        let header = std::str::from_utf8(&out[..end]).unwrap();
        let lengths = header.strip_prefix("chunked 1.0,").unwrap();
        let (m, b) = lengths.split_once(',').unwrap();
        let (m, b): (usize, usize) = (m.parse().unwrap(), b.parse().unwrap());
        let rest = &out[end + 1..];
        replies.push((
            String::from_utf8(rest[..m].to_vec()).unwrap(),
            rest[m..m + b].to_vec(),
        ));
        out = &rest[m + b..];
    }
    replies
}

/// One chunk.
fn chunk(metadata: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("chunked 1.0,{},{}\n", metadata.len(), body.len())
        .into_bytes();
    out.extend_from_slice(metadata.as_bytes());
    out.extend_from_slice(body);
    out
}

/// A getinfo chunk with these arguments and a session key to look for.
fn getinfo(args: &[&str]) -> Vec<u8> {
    let args: Vec<String> = args.iter().map(|a| format!("{a:?}")).collect();
    chunk(
        &format!(
            r#"{{"action":"getinfo","preview":false,"searchinfo":{{"args":[{}],"session_key":"SECRET-session-key-0123","splunkd_uri":"https://127.0.0.1:8089","splunk_version":"9.1.0","sid":"1700000000.1"}}}}"#,
            args.join(",")
        ),
        b"",
    )
}

/// An execute chunk.
fn execute(finished: bool, body: &[u8]) -> Vec<u8> {
    chunk(
        &format!(r#"{{"action":"execute","finished":{finished}}}"#),
        body,
    )
}

#[test]
fn probe_process_answers_getinfo_and_exits_zero() {
    let run = run(&getinfo(&[]));
    assert_eq!(run.code, 0);
    assert_eq!(
        run.replies,
        vec![(
            r#"{"required_fields":["ScriptBlockText","dest","signature","signature_id","user_id","vendor_product","EventID","Guid","Opcode","Name","Path","ProcessID","ScriptBlockId","_time"],"type":"reporting"}"#
                .to_string(),
            Vec::new()
        )]
    );
}

#[test]
fn one_reply_per_request_and_rows_at_the_end() {
    let mut stream = getinfo(&["field=t", "by=h", "pattern=*get-nettcp*"]);
    stream.extend(execute(
        false,
        b"\"_time\",t,h\n\"2\",\"Get-NetTCPConnection\",A\n",
    ));
    stream.extend(execute(false, b""));
    stream.extend(execute(false, b"h,t,\"_time\"\n"));
    stream.extend(execute(true, b"t,\"_time\",h\n\"GET-NETTCPCONNECTION -x\",\"1.5\",A\n\"Get-Process\",\"0\",A\n"));
    let run = run(&stream);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.replies.len(), 5);
    for reply in &run.replies[1..4] {
        assert_eq!(reply, &(r#"{"finished":false}"#.to_string(), Vec::new()));
    }
    assert_eq!(
        run.replies[4],
        (
            r#"{"finished":true}"#.to_string(),
            b"h,count,firstTime,lastTime\nA,2,1.5,2\n".to_vec()
        )
    );
}

#[test]
fn unknown_option_error_is_shown_and_exits_one() {
    let mut stream = getinfo(&["patern=*x*"]);
    stream.extend(execute(true, b""));
    let run = run(&stream);
    assert_eq!(run.code, 1);
    let text = "unknown option 'patern=*x*'; valid options are pattern, \
                condition, hunts, hunts_file, field, by, value, distributed, \
                reassemble, reassembly_limit, max_chunk_bytes, max_groups \
                (each as name=value)";
    assert_eq!(run.replies.len(), 1);
    assert_eq!(
        run.replies[0].0,
        format!(
            r#"{{"error":"{text}","finished":true,"inspector":{{"messages":[["ERROR","{text}"]]}}}}"#
        )
    );
    assert!(
        run.stderr.contains(&format!("ERROR {text}")),
        "{}",
        run.stderr
    );
}

#[test]
fn repeated_option_and_empty_list_are_errors() {
    for (args, text) in [
        (&["by=a", "by=b"][..], "option by is given more than once"),
        (&["by="][..], "option by needs a comma-separated list"),
    ] {
        let run = run(&getinfo(args));
        assert_eq!(run.code, 1);
        assert!(run.replies[0].0.contains(text), "{}", run.replies[0].0);
    }
}

#[test]
fn eof_inside_a_chunk_is_an_error() {
    let mut stream = getinfo(&[]);
    stream.extend(b"chunked 1.0,37,500\n{\"action\":\"execute\",\"finished\":false}ScriptBlockText");
    let run = run(&stream);
    assert_eq!(run.code, 1);
    assert!(run.replies[1].0.contains(
        "chunk 2: the stream ended inside the body (15 of 500 bytes arrived)"
    ));
}

#[test]
fn ragged_csv_is_an_error_with_its_record() {
    let mut stream = getinfo(&["field=t", "by=t"]);
    stream.extend(execute(true, b"t,_time\n\"x\",\"1\"\n\"y\"\n"));
    let run = run(&stream);
    assert_eq!(run.code, 1);
    assert!(run.replies[1]
        .0
        .contains("chunk 2: CSV record 2: has 1 fields, the header has 2"));
}

#[test]
fn invalid_utf8_is_kept_byte_for_byte() {
    let mut all = getinfo(&["field=t", "by=t", "pattern=a*"]);
    all.extend(execute(true, b"t,_time\n\"a\xffb\",1\n"));
    let run = run(&all);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.replies[1].1,
        b"t,count,firstTime,lastTime\na\xffb,1,1,1\n".to_vec()
    );
}

#[test]
fn stdin_closed_before_the_last_chunk_is_a_quiet_end() {
    let mut stream = getinfo(&[]);
    stream.extend(execute(false, b"ScriptBlockText\n"));
    let run = run(&stream);
    assert_eq!(run.code, 0);
    assert_eq!(run.replies.len(), 2);
    assert!(
        run.stderr.contains("without a final chunk"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_session_key_never_appears_at_trace_level() {
    let mut streams = Vec::new();
    let mut ok = getinfo(&["field=t", "by=t", "pattern=*"]);
    ok.extend(execute(true, b"t,_time\nx,1\n"));
    streams.push(ok);
    streams.push(getinfo(&["bogus"]));
    let mut broken = getinfo(&[]);
    broken.extend(b"chunked 1.0,x,y\n");
    streams.push(broken);
    for stream in streams {
        let run = run(&stream);
        for secret in ["SECRET-session-key-0123", "127.0.0.1:8089"] {
            assert!(!run.stderr.contains(secret), "{}", run.stderr);
            assert!(!String::from_utf8_lossy(&run.stdout).contains(secret));
        }
    }
}

#[test]
fn splunk_8_2_1_stream_gets_one_reply_per_request() {
    let stream =
        std::fs::read("tests/data/recordings/doubleage-8.2.1.request.bin")
            .unwrap();
    let mut words = stream.split(|&b| b == b'\n');
    assert!(words.next().unwrap().starts_with(b"chunked 1.0,895,0"));
    let run = run(&stream);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // getinfo + two execute requests (5 rows, then a header-only end).
    assert_eq!(run.replies.len(), 3);
    assert_eq!(run.replies[1].0, r#"{"finished":false}"#);
    assert_eq!(run.replies[2].0, r#"{"finished":true}"#);
}
