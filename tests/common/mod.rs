//! Helpers shared by the integration tests that run the real binary:
//! building chunk streams, running `scriptblockhunt` in protocol mode on
//! them, and reading its replies back.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// The session key put into every hand-made getinfo chunk.
pub const SESSION_KEY: &str = "SECRET-session-key-7f3a9c1e5b2d4f60";

/// The splunkd URI put into every hand-made getinfo chunk, with
/// credentials that must never show up either.
pub const SPLUNKD_URI: &str =
    "https://splunk-admin:SECRET-uri-password@127.0.0.1:8089";

/// How long a run may take before the test calls it a hang and kills the
/// child. Far above any real run (the slowest takes a few seconds in a
/// debug build); it only turns a hang into a failure.
pub const HANG: Duration = Duration::from_secs(300);

/// One chunk: header, metadata, body.
pub fn chunk(metadata: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = format!("chunked 1.0,{},{}\n", metadata.len(), body.len())
        .into_bytes();
    out.extend_from_slice(metadata);
    out.extend_from_slice(body);
    out
}

/// A getinfo chunk with the given `searchinfo.args`, the secret session
/// key and the secret splunkd URI.
pub fn getinfo(args: &[&str]) -> Vec<u8> {
    chunk(&getinfo_metadata(args), b"")
}

/// The metadata of `getinfo(args)`.
pub fn getinfo_metadata(args: &[&str]) -> Vec<u8> {
    let value = serde_json::json!({
        "action": "getinfo",
        "preview": false,
        "streaming_command_will_restart": false,
        "searchinfo": {
            "args": args,
            "raw_args": args,
            "dispatch_dir": "/opt/splunk/var/run/splunk/dispatch/1.1",
            "sid": "1700000000.1",
            "app": "search",
            "owner": "admin",
            "username": "admin",
            "session_key": SESSION_KEY,
            "splunkd_uri": SPLUNKD_URI,
            "splunk_version": "9.1.2",
            "command": "scriptblockhunt",
            "maxresultrows": 50000,
            "earliest_time": "0",
            "latest_time": "0"
        }
    });
    serde_json::to_vec(&value).unwrap()
}

/// An execute chunk; `finished` marks Splunk's last one.
pub fn execute(finished: bool, body: &[u8]) -> Vec<u8> {
    let metadata = if finished {
        &br#"{"action":"execute","finished":true}"#[..]
    } else {
        &br#"{"action":"execute","finished":false}"#[..]
    };
    chunk(metadata, body)
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit status.
    pub status: ExitStatus,
    /// Everything written on stdout.
    pub stdout: Vec<u8>,
    /// Everything written on stderr.
    pub stderr: Vec<u8>,
}

impl Run {
    /// The exit code; panics if a signal ended the process.
    pub fn code(&self) -> i32 {
        self.status.code().expect("the process exited by itself")
    }

    /// stderr as text.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    /// The reply chunks on stdout: (metadata as JSON, body).
    pub fn replies(&self) -> Vec<(serde_json::Value, Vec<u8>)> {
        read_chunks(&self.stdout)
            .into_iter()
            .map(|(m, b)| {
                let value = serde_json::from_slice(&m)
                    .expect("reply metadata is JSON");
                (value, b)
            })
            .collect()
    }
}

/// Splits a well-formed chunk stream into (metadata, body) pairs; panics
/// on anything else, since the command must only write whole chunks.
pub fn read_chunks(mut bytes: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let newline = bytes.iter().position(|&b| b == b'\n').unwrap();
        let header = std::str::from_utf8(&bytes[..newline]).unwrap();
        let lengths = header.strip_prefix("chunked 1.0,").unwrap();
        let (m, b) = lengths.split_once(',').unwrap();
        let (m, b): (usize, usize) = (m.parse().unwrap(), b.parse().unwrap());
        let rest = &bytes[newline + 1..];
        out.push((rest[..m].to_vec(), rest[m..m + b].to_vec()));
        bytes = &rest[m + b..];
    }
    out
}

/// The command for the real binary, with the log level at its most
/// verbose unless `env` says otherwise.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scriptblockhunt"));
    command
        .args(args)
        .env("SCRIPTBLOCKHUNT_LOG", "trace")
        .env_remove("SCRIPTBLOCKHUNT_DEBUG_PANIC_AT_CHUNK")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    command
}

/// Runs the binary in protocol mode on `input`.
pub fn serve(input: &[u8]) -> Run {
    serve_with(input, &[])
}

/// Runs the binary in protocol mode on `input` with extra environment.
pub fn serve_with(input: &[u8], env: &[(&str, &str)]) -> Run {
    run(command(&[], env), input)
}

/// Spawns `command`, writes `input` to its stdin from a thread (the child
/// may stop reading early, so write errors are ignored), closes stdin, and
/// collects stdout and stderr; kills the child and fails after `HANG`.
pub fn run(mut command: Command, input: &[u8]) -> Run {
    let child = command.spawn().expect("the binary starts");
    finish(child, input.to_vec())
}

/// Feeds and collects an already spawned child (see `run`); a stdout the
/// caller already took counts as empty.
pub fn finish(mut child: Child, input: Vec<u8>) -> Run {
    let mut stdin = child.stdin.take().unwrap();
    let writer = thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let stdout = child.stdout.take();
    let mut stderr = child.stderr.take().unwrap();
    let out = thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut stdout) = stdout {
            stdout.read_to_end(&mut buf).unwrap();
        }
        buf
    });
    let err = thread::spawn(move || {
        let mut buf = Vec::new();
        stderr.read_to_end(&mut buf).unwrap();
        buf
    });
    let status = wait(&mut child);
    writer.join().unwrap();
    Run {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// Waits for the child, killing it and failing the test after `HANG`.
pub fn wait(child: &mut Child) -> ExitStatus {
    let pid = child.id();
    let (done, timeout) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if timeout.recv_timeout(HANG).is_err() {
            kill(pid);
            panic!("process {pid} hung for {HANG:?}; killed");
        }
    });
    let status = child.wait().unwrap();
    let _ = done.send(());
    watchdog.join().expect("no hang");
    status
}

/// Sends SIGKILL to `pid`.
fn kill(pid: u32) {
    // SAFETY: kill(2) with a pid this test spawned and a valid signal.
    unsafe {
        libc::kill(pid as libc::pid_t, libc::SIGKILL);
    }
}

/// Fails when `haystack` holds the session key, the splunkd URI, its
/// password, or any 12-byte piece of one of them.
pub fn assert_no_secret(haystack: &[u8], secrets: &[&str], what: &str) {
    for secret in secrets {
        let bytes = secret.as_bytes();
        let window = bytes.len().min(12);
        for piece in bytes.windows(window) {
            assert!(
                !contains(haystack, piece),
                "{what} holds {:?}, a piece of a secret",
                String::from_utf8_lossy(piece)
            );
        }
    }
}

/// True when `needle` occurs in `haystack`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
