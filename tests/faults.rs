//! Faults around the data, through the real binary: Splunk closing stdin
//! or stdout early, SIGTERM, and a panic inside the command.

#![cfg(unix)]

mod common;

use std::io::{Read, Write};

use common::{assert_no_secret, execute, getinfo};

/// The options the streams here use.
const ARGS: &[&str] = &["field=t", "by=h"];

/// A body with one matching event.
const BODY: &[u8] = b"t,h,_time\nGet-NetTcpConnection,a,1\n";

/// Sends `signal` to `pid`.
fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a child this test spawned and still owns.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill failed");
}

/// Reads exactly one reply chunk from `out`; returns its metadata.
fn read_reply(out: &mut impl Read) -> String {
    let mut header = Vec::new();
    let mut byte = [0u8];
    while byte[0] != b'\n' {
        out.read_exact(&mut byte).unwrap();
        header.push(byte[0]);
    }
    let header = String::from_utf8(header).unwrap();
    let lengths = header.trim_end().strip_prefix("chunked 1.0,").unwrap();
    let (m, b) = lengths.split_once(',').unwrap();
    let mut metadata = vec![0; m.parse().unwrap()];
    out.read_exact(&mut metadata).unwrap();
    let mut body = vec![0; b.parse().unwrap()];
    out.read_exact(&mut body).unwrap();
    String::from_utf8(metadata).unwrap()
}

/// The child processes of `pid`, from /proc.
fn children(pid: u32) -> Vec<String> {
    let mut all = Vec::new();
    let tasks = format!("/proc/{pid}/task");
    for task in std::fs::read_dir(tasks).unwrap() {
        let path = task.unwrap().path().join("children");
        let text = std::fs::read_to_string(path).unwrap_or_default();
        all.extend(text.split_whitespace().map(String::from));
    }
    all
}

#[test]
fn closed_stdout_is_a_normal_end() {
    // A child that another test thread forks at the same moment holds a
    // copy of the pipe's read end until it execs, so once in a while the
    // command's writes still succeed; a few tries make the closed pipe
    // certain to be seen, and every try must end cleanly.
    let mut seen = false;
    for _ in 0..5 {
        let mut child = common::command(&[], &[]).spawn().unwrap();
        // Splunk goes away before the command answers: the read end
        // closes.
        drop(child.stdout.take());
        let mut stream = getinfo(ARGS);
        stream.extend(execute(true, BODY));
        let run = common::finish(child, stream);
        let stderr = run.stderr_text();
        assert_eq!(run.code(), 0, "{stderr}");
        assert!(!stderr.contains("ERROR"), "{stderr}");
        if stderr.contains("INFO Splunk closed the output pipe; stopping") {
            seen = true;
            break;
        }
    }
    assert!(seen, "the closed output pipe was never reported");
}

#[test]
fn stdin_closed_mid_search_is_a_normal_end() {
    let mut stream = getinfo(ARGS);
    stream.extend(execute(false, BODY));
    let run = common::serve(&stream);
    assert_eq!(run.code(), 0);
    let replies = run.replies();
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[1].0, serde_json::json!({"finished": false}));
    assert!(run.stderr_text().contains(
        "INFO stdin closed after 2 chunks without a final chunk: the search \
         was cancelled; no rows sent"
    ));
}

#[test]
fn stdin_closed_after_getinfo_is_a_probe() {
    let run = common::serve(&getinfo(ARGS));
    assert_eq!(run.code(), 0);
    assert_eq!(run.replies().len(), 1);
    assert!(run
        .stderr_text()
        .contains("DEBUG stdin closed after getinfo: a getinfo probe"));
}

#[test]
fn sigterm_while_waiting_for_splunk_exits_cleanly() {
    let mut child = common::command(&[], &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    stdin.write_all(&getinfo(ARGS)).unwrap();
    stdin.flush().unwrap();
    // Once the getinfo reply is here, the command waits on stdin.
    assert!(read_reply(&mut stdout).contains("\"type\":\"reporting\""));
    assert!(children(child.id()).is_empty(), "the command forks nothing");

    signal(child.id(), libc::SIGTERM);
    let status = common::wait(&mut child);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(
        "INFO SIGTERM: splunkd stopped the search; exiting with no further \
         reply"
    ));
    drop(stdin);
}

#[test]
fn sigterm_while_blocked_writing_exits_cleanly() {
    // A 10 MiB result row and nobody reading stdout: the command blocks
    // in write(2) holding the stdout lock; SIGTERM must still end it.
    let mut child = common::command(&[], &[]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut field = vec![b'x'; 10 << 20];
    field.extend(b"Get-NetTcpConnection");
    let mut body = b"t,h,_time\n".to_vec();
    body.extend(&field);
    body.extend(b",a,1\n");
    let mut stream = getinfo(&["field=t", "by=t"]);
    stream.extend(execute(true, &body));
    stdin.write_all(&stream).unwrap();
    drop(stdin);
    let mut stdout = child.stdout.take().unwrap();
    // The reply header arrives first; the 10 MiB body cannot all fit in
    // the pipe, so the command is now blocked writing it.
    let mut first = [0u8; 18];
    stdout.read_exact(&mut first).unwrap();
    assert!(first.starts_with(b"chunked 1.0,"));

    signal(child.id(), libc::SIGTERM);
    let status = common::wait(&mut child);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("INFO SIGTERM: splunkd stopped the search"));
}

/// The panic tests need the debug-only panic trigger.
#[cfg(debug_assertions)]
#[test]
fn a_panic_still_gets_an_error_reply_without_event_text() {
    let marker = "EVENT-TEXT-7c1d Get-NetTcpConnection";
    let mut stream = getinfo(ARGS);
    stream.extend(execute(false, b"t,h,_time\nx,y,1\n"));
    let body = format!("t,h,_time\n\"{marker}\",a,1\n");
    stream.extend(execute(true, body.as_bytes()));
    let run = common::serve_with(
        &stream,
        &[
            ("SCRIPTBLOCKHUNT_DEBUG_PANIC_AT_CHUNK", "3"),
            ("RUST_BACKTRACE", "1"),
        ],
    );
    assert_eq!(run.code(), 1);

    let replies = run.replies();
    assert_eq!(replies.len(), 3, "getinfo, chunk 2, then the error reply");
    let last = &replies[2].0;
    assert_eq!(last["finished"], serde_json::json!(true));
    let text = last["error"].as_str().unwrap();
    assert!(
        text.starts_with(
            "internal error in scriptblockhunt (a bug): it panicked at \
             src/fault.rs:"
        ),
        "{text}"
    );
    assert_eq!(last["inspector"]["messages"][0][1].as_str(), Some(text));

    let stderr = run.stderr_text();
    assert!(stderr
        .contains("ERROR internal error (a bug): panic at src/fault.rs:"));
    assert!(stderr.contains("the panic's own message is not shown"));
    // The trigger formats the body into its message: none of it shows.
    let mut output = run.stdout.clone();
    output.extend(&run.stderr);
    assert_no_secret(&output, &[marker, "debug panic at chunk"], "output");
    assert_no_secret(
        &output,
        &[common::SESSION_KEY, common::SPLUNKD_URI],
        "output",
    );
}
