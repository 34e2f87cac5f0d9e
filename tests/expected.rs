//! Runs the real binary on every case listed in `tests/expected/README.md`
//! and compares its output, byte for byte, with the file the independent
//! Python oracle computed (see `tests/README.md`).
//!
//! Each case names the oracle command that produced it. The same inputs
//! and options go to the binary:
//!
//! * `replay_oracle.py STREAM [name=value...]` -> `scriptblockhunt replay
//!   STREAM [name=value...]`: a recorded Splunk stream through the
//!   protocol, the command's arguments replaced by the options.
//! * `hunt_oracle.py --render=hunt FILES [name=value...]` ->
//!   `scriptblockhunt hunt --tz UTC --format csv --name value ... FILES`.
//! * `hunt_oracle.py --render=replay FILES [name=value...]` ->
//!   `scriptblockhunt record --name value ... FILES`, then `replay` of that
//!   stream: the corpus events as Splunk would send them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One expected file and the oracle command that produced it.
struct Case {
    /// File name under tests/expected/.
    file: String,
    /// The oracle command's words, shell quotes removed.
    words: Vec<String>,
}

/// Splits a shell command line with single quotes.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut started = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                started = true;
            }
            ' ' if !quoted => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            c => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

/// The cases of tests/expected/README.md.
fn cases() -> Vec<Case> {
    let readme =
        std::fs::read_to_string(root().join("tests/expected/README.md"))
            .unwrap();
    let mut cases = Vec::new();
    let mut file = None;
    for line in readme.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            file = Some(name.trim().to_string());
        } else if let Some(command) = line.strip_prefix("    python3 ") {
            let command = command.split(" > ").next().unwrap();
            cases.push(Case {
                file: file.take().expect("a ## heading before the command"),
                words: shell_words(command),
            });
        }
    }
    cases
}

/// Runs the binary from the repository root.
fn run(args: &[String]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scriptblockhunt"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// `name=value` options as `--name value` flags.
fn flags(options: &[String]) -> Vec<String> {
    options
        .iter()
        .flat_map(|o| {
            let (name, value) = o.split_once('=').unwrap();
            [format!("--{name}"), value.to_string()]
        })
        .collect()
}

/// What the binary prints for one case.
fn actual(case: &Case, scratch: &Path) -> Vec<u8> {
    let (script, rest) = case.words.split_first().unwrap();
    let (inputs, options): (Vec<String>, Vec<String>) = rest
        .iter()
        .filter(|w| !w.starts_with("--render="))
        .cloned()
        .partition(|w| !w.contains('='));
    let render = rest.iter().find_map(|w| w.strip_prefix("--render="));
    let output = match (script.as_str(), render) {
        ("tests/oracle/replay_oracle.py", None) => {
            let mut args = vec!["replay".to_string(), inputs[0].clone()];
            args.extend(options);
            run(&args)
        }
        ("tests/oracle/hunt_oracle.py", Some("hunt")) => {
            let mut args: Vec<String> =
                ["hunt", "--tz", "UTC", "--format", "csv"]
                    .map(String::from)
                    .to_vec();
            args.extend(flags(&options));
            args.extend(inputs);
            run(&args)
        }
        ("tests/oracle/hunt_oracle.py", Some("replay")) => {
            let mut args = vec!["record".to_string()];
            args.extend(flags(&options));
            args.extend(inputs);
            let recorded = run(&args);
            assert!(recorded.status.success(), "{}", case.file);
            let stream = scratch.join(format!("{}.stream", case.file));
            std::fs::write(&stream, &recorded.stdout).unwrap();
            run(&["replay".to_string(), stream.to_string_lossy().into_owned()])
        }
        other => panic!("{}: unknown oracle command {other:?}", case.file),
    };
    output.stdout
}

#[test]
fn every_expected_file_matches_the_binary() {
    let cases = cases();
    assert!(cases.len() >= 30, "only {} cases found", cases.len());
    let scratch = std::env::temp_dir()
        .join(format!("scriptblockhunt-expected-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut failed = Vec::new();
    for case in &cases {
        let expected =
            std::fs::read(root().join("tests/expected").join(&case.file))
                .unwrap();
        let got = actual(case, &scratch);
        if got != expected {
            eprintln!(
                "--- {}: expected\n{}\n--- got\n{}",
                case.file,
                String::from_utf8_lossy(&expected),
                String::from_utf8_lossy(&got)
            );
            failed.push(case.file.clone());
        }
    }
    std::fs::remove_dir_all(&scratch).ok();
    assert!(failed.is_empty(), "differ from the oracle: {failed:?}");
}

#[test]
fn the_cases_cover_the_required_streams_and_patterns() {
    let files: Vec<String> = cases().into_iter().map(|c| c.file).collect();
    for needed in [
        "multibyte-teststring-T.csv",
        "countmatches-quotes-by-text.csv",
        "summap-value1-by-hour.csv",
        "xml-default.replay.csv",
        "xml-certify.nopath.replay.csv",
        "xml-ciminstance.nopath.replay.csv",
        "xml-invoke.nopath.replay.csv",
        "edge-by-processid.csv",
    ] {
        assert!(files.iter().any(|f| f == needed), "{needed} missing");
    }
}
