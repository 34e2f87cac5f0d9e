//! `scriptblockhunt hunt` on every input format, run as the real binary on
//! the real corpus (tests/data/corpus) and on hand-made files
//! (tests/data/offline), against expectations that the Python oracle
//! computed without the Rust code (tests/expected/offline, rebuilt by
//! tests/oracle/offline_regenerate.py; see tests/README-offline.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use scriptblockhunt::sources::{self, Input, Place, Sink};
use scriptblockhunt::winevent::WinEvent;

/// The binary under test.
const BIN: &str = env!("CARGO_BIN_EXE_scriptblockhunt");

/// The repository root.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Reads a file of the repository.
fn read(rel: &str) -> Vec<u8> {
    std::fs::read(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Runs `hunt` with `args` in the repository root, stdin from `input`.
fn hunt(args: &[&str], input: Option<&[u8]>) -> Output {
    let mut child = Command::new(BIN)
        .arg("hunt")
        .args(args)
        .current_dir(root())
        .env_remove("SCRIPTBLOCKHUNT_LOG")
        .env_remove("COLUMNS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut stdin = child.stdin.take().unwrap();
    if let Some(bytes) = input {
        stdin.write_all(bytes).unwrap();
    }
    drop(stdin);
    child.wait_with_output().unwrap()
}

/// stderr as text.
fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// One line of jobs.tsv: name, the command's inputs, its options.
struct Job {
    name: String,
    inputs: Vec<String>,
    options: Vec<(String, String)>,
}

/// The oracle's jobs.
fn jobs() -> Vec<Job> {
    let text = String::from_utf8(read("tests/expected/offline/jobs.tsv"))
        .expect("UTF-8");
    text.lines()
        .map(|line| {
            let mut cols = line.split('\t');
            let name = cols.next().unwrap().to_string();
            let inputs =
                cols.next().unwrap().split(' ').map(String::from).collect();
            let options = cols
                .next()
                .unwrap_or("")
                .split(' ')
                .filter(|o| !o.is_empty())
                .map(|o| {
                    let (k, v) = o.split_once('=').unwrap();
                    (k.to_string(), v.to_string())
                })
                .collect();
            Job {
                name,
                inputs,
                options,
            }
        })
        .collect()
}

/// The oracle's counts for a job: `key=value` lines.
fn oracle_summary(name: &str) -> Vec<(String, String)> {
    let text = read(&format!("tests/expected/offline/{name}.summary"));
    String::from_utf8(text)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// A number in the summary line: the one before `label`.
fn count_before(summary: &str, label: &str) -> u64 {
    let at = summary
        .find(label)
        .unwrap_or_else(|| panic!("no '{label}' in {summary}"));
    let head = summary[..at].trim_end();
    let digits: String = head
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    digits.parse().unwrap()
}

/// Checks the command's summary against the oracle's counts.
fn check_summary(name: &str, err: &str, want: &[(String, String)]) {
    let get = |k: &str| {
        want.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let line = err
        .lines()
        .find(|l| l.starts_with("scriptblockhunt: read "))
        .unwrap_or_else(|| panic!("{name}: no summary in {err}"));
    let n = |k: &str| get(k).parse::<u64>().unwrap();
    assert_eq!(count_before(line, "event(s);"), n("events"), "{name}");
    assert_eq!(
        count_before(line, "passed EventCode"),
        n("passed"),
        "{name}"
    );
    assert_eq!(count_before(line, "matched;"), n("matched"), "{name}");
    assert_eq!(count_before(line, "group(s) returned"), n("rows"), "{name}");
    let matched = n("matched");
    let absent = get("absent");
    let dropped = count_before(line, "dropped by stats");
    let sentence = err.lines().skip_while(|l| *l != line).nth(1);
    if n("rows") > 0 {
        assert_eq!(dropped, 0, "{name}");
        assert_eq!(sentence, None, "{name}: no reason expected");
        return;
    }
    let sentence = sentence.unwrap_or_else(|| panic!("{name}: no reason"));
    if matched > 0 {
        // Every matching event dropped, for exactly the absent fields.
        assert_eq!(dropped, matched, "{name}");
        let fields = absent.replace(',', ", ");
        assert!(
            line.ends_with(&format!(
                "dropped by stats for BY field(s) {fields}; 0 group(s) \
                 returned"
            )),
            "{name}: {line}"
        );
        let noun = if absent.contains(',') {
            "fields"
        } else {
            "field"
        };
        let want = format!(
            "{matched} event(s) matched, but no matching event has the BY \
             {noun} {fields}; fillnull does not create"
        );
        assert!(sentence.starts_with(&want), "{name}: {sentence}");
        assert!(sentence.contains("out with --by "), "{name}: {sentence}");
    } else {
        assert_eq!(dropped, 0, "{name}");
        assert!(
            sentence.starts_with(&format!(
                "none of the {} event(s) that passed the filter has a \
                 ScriptBlockText matching",
                get("passed")
            )),
            "{name}: {sentence}"
        );
    }
}

/// The command's arguments for a job.
fn job_args(job: &Job, threads: &str) -> Vec<String> {
    let mut args: Vec<String> = ["--tz", "UTC", "--format", "csv"]
        .map(String::from)
        .to_vec();
    args.extend(["--threads".to_string(), threads.to_string()]);
    for (k, v) in &job.options {
        args.push(format!("--{k}"));
        args.push(v.clone());
    }
    args.extend(job.inputs.iter().cloned());
    args
}

#[test]
fn every_job_gives_the_oracle_table_and_counts() {
    let jobs = jobs();
    assert!(jobs.len() >= 40, "jobs.tsv has {} jobs", jobs.len());
    for job in &jobs {
        let args = job_args(job, "3");
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = hunt(&args, None);
        let want = read(&format!("tests/expected/offline/{}.csv", job.name));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&want),
            "{}: stdout differs from the oracle",
            job.name
        );
        let summary = oracle_summary(&job.name);
        let rows = summary.iter().find(|(k, _)| k == "rows").unwrap();
        let code = if rows.1 == "0" { 1 } else { 0 };
        assert_eq!(out.status.code(), Some(code), "{}", job.name);
        check_summary(&job.name, &stderr(&out), &summary);
    }
}

#[test]
fn default_search_gives_no_rows_on_every_corpus_file_and_says_why() {
    // The default 13 BY fields: Path is absent from every XML and EVTX
    // script block, UserID/Opcode/ProcessID from every OTRF line.
    for job in jobs()
        .iter()
        .filter(|j| j.name.ends_with(".all-default-by"))
    {
        let summary = oracle_summary(&job.name);
        let get = |k: &str| {
            summary.iter().find(|(key, _)| key == k).unwrap().1.clone()
        };
        assert_eq!(get("rows"), "0", "{}", job.name);
        let absent = get("absent");
        let want = if job.inputs[0].ends_with(".jsonl") {
            "user_id,Opcode,ProcessID"
        } else {
            "Path"
        };
        assert_eq!(absent, want, "{}", job.name);
    }
}

#[test]
fn the_real_positive_is_the_otrf_nettcpip_module() {
    let out = hunt(
        &[
            "--tz",
            "UTC",
            "--by",
            "dest,ScriptBlockId",
            "tests/data/corpus/json",
        ],
        None,
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "dest,ScriptBlockId,count,firstTime,lastTime\n\
         DC01.pandalab.com,42b654ea-aa0c-48bf-8f94-20bdab926e89,1,\
         2023-07-19T05:35:38,2023-07-19T05:35:38\n"
    );
    assert_eq!(out.status.code(), Some(0));
}

/// Collects (place, event) pairs.
#[derive(Default)]
struct Collect {
    events: Vec<(Place, WinEvent)>,
    skipped: Vec<String>,
}

impl Sink for Collect {
    fn event(&mut self, event: WinEvent, place: Place) {
        self.events.push((place, event));
    }
    fn skip(&mut self, place: Place, reason: &str) {
        self.skipped.push(format!("{place}: {reason}"));
    }
}

/// An event's fields as the oracle writes them.
fn as_json(place: &Place, event: &WinEvent) -> serde_json::Value {
    let mut fields = serde_json::Map::new();
    let mut names: Vec<&(String, Vec<Vec<u8>>)> =
        event.fields().iter().collect();
    names.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, values) in names {
        let values: Vec<serde_json::Value> = values
            .iter()
            .map(|v| String::from_utf8_lossy(v).into_owned().into())
            .collect();
        fields.insert(name.clone(), values.into());
    }
    serde_json::json!({"place": place.to_string(), "fields": fields})
}

#[test]
fn every_event_of_every_corpus_file_has_the_oracles_fields() {
    let tz = jiff::tz::TimeZone::UTC;
    let bar = indicatif::ProgressBar::hidden();
    let mut files = 0;
    let mut events = 0;
    for sub in ["evtx", "json", "xmlwineventlog"] {
        let dir = root().join("tests/data/corpus").join(sub);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        for name in names {
            let name = name.to_string_lossy().into_owned();
            let path = dir.join(&name);
            let input = Input {
                name: path.to_string_lossy().into_owned(),
                size: 0,
            };
            let mut sink = Collect::default();
            sources::read(&input, &tz, &bar, &mut sink)
                .unwrap()
                .unwrap();
            assert!(sink.skipped.is_empty(), "{name}: {:?}", sink.skipped);
            let want =
                read(&format!("tests/expected/offline/fields/{name}.jsonl"));
            let want: Vec<serde_json::Value> = String::from_utf8(want)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(sink.events.len(), want.len(), "{name}");
            for ((place, event), want) in sink.events.iter().zip(&want) {
                assert_eq!(&as_json(place, event), want, "{name}");
            }
            files += 1;
            events += want.len();
        }
    }
    assert_eq!((files, events), (8, 253));
}

#[test]
fn evtx_values_keep_windows_entities() {
    // T1482's script block writes to the pipeline with '>': the EVTX
    // renders it as &gt;, as the forwarder's text would hold it.
    let out = hunt(
        &[
            "--tz",
            "UTC",
            "--pattern",
            "*&gt;*",
            "--by",
            "ScriptBlockText",
            "tests/data/corpus/evtx",
        ],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().count() >= 2, "{text}");
    assert!(!text.contains("&amp;gt;"), "{text}");
    let out = hunt(
        &[
            "--pattern",
            "*>*",
            "--by",
            "ScriptBlockText",
            "tests/data/corpus",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "a literal > never matches");
}

/// The certify table of the XmlWinEventLog text, which the same two
/// events in every other format must give.
const CERTIFY_BY: &str = "dest,signature,signature_id,user_id,\
                          vendor_product,EventID,Guid,Opcode,Name,\
                          ProcessID,ScriptBlockId,ScriptBlockText";

#[test]
fn the_same_events_in_every_format_give_the_same_rows() {
    let want = String::from_utf8(read(
        "tests/expected/offline/certify_esc1_abuse_powershell.all.csv",
    ))
    .unwrap();
    for file in [
        "tests/data/offline/certify.nxlog.jsonl",
        "tests/data/offline/certify.outputcsv.csv",
        "tests/data/offline/certify.export.csv",
    ] {
        let out = hunt(
            &["--tz", "UTC", "--pattern", "*", "--by", CERTIFY_BY, file],
            None,
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{file}");
    }
    // Winlogbeat carries the opcode's name only (winlog.opcode), never
    // its number: the Opcode column says so.
    let out = hunt(
        &[
            "--tz",
            "UTC",
            "--pattern",
            "*",
            "--by",
            CERTIFY_BY,
            "tests/data/offline/certify.winlogbeat.jsonl",
        ],
        None,
    );
    let got = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(got, want.replace(",15,", ",On create calls,"));
}

#[test]
fn stdin_gzip_and_directories() {
    let log = read("tests/data/corpus/xmlwineventlog/i_am_goot.log");
    let want =
        String::from_utf8(read("tests/expected/offline/i_am_goot.all.csv"))
            .unwrap();
    let by = "dest,signature,signature_id,user_id,vendor_product,EventID,\
              Guid,Opcode,Name,ProcessID,ScriptBlockId,ScriptBlockText";
    let args = ["--tz", "UTC", "--pattern", "*", "--by", by, "-"];
    let out = hunt(&args, Some(&log));
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);

    let mut gz = flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    );
    gz.write_all(&log).unwrap();
    let gz = gz.finish().unwrap();
    let out = hunt(&args, Some(&gz));
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);

    // A gzip-compressed EVTX, on stdin: read into memory, same rows.
    let evtx = read(
        "tests/data/corpus/evtx/T1087-Account_discovery_ID4103-4104_-_SPN_\
         discovery_moder_nPowerShell_.evtx",
    );
    let mut gz = flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    );
    gz.write_all(&evtx).unwrap();
    let out = hunt(&args, Some(&gz.finish().unwrap()));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8(read("tests/expected/offline/T1087.all.csv"))
            .unwrap()
    );

    // A directory: walked, every format told by content.
    let out = hunt(&["--tz", "UTC", "tests/data/corpus"], None);
    let err = stderr(&out);
    assert!(
        err.contains(
            "read 8 file(s) (5 EVTX, 2 XmlWinEventLog, 1 JSON lines), 253 \
             event(s);"
        ),
        "{err}"
    );
}

#[test]
fn one_thread_and_many_give_the_same_rows_and_counts() {
    // Every corpus file three times over, so that groups merge across
    // threads with counts above one.
    let by = "dest,signature,signature_id,vendor_product,EventID,Guid,Name,\
              ScriptBlockId,ScriptBlockText";
    let run = |threads: &str| {
        hunt(
            &[
                "--tz",
                "UTC",
                "--threads",
                threads,
                "--pattern",
                "*",
                "--by",
                by,
                "tests/data/corpus",
                "tests/data/corpus/evtx",
                "tests/data/corpus",
                "tests/data/corpus/json",
                "tests/data/corpus",
            ],
            None,
        )
    };
    let one = run("1");
    assert_eq!(one.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&one.stdout).contains(",4,"));
    assert!(String::from_utf8_lossy(&one.stdout).contains(",3,"));
    for threads in ["2", "4", "16"] {
        let many = run(threads);
        assert_eq!(many.stdout, one.stdout, "--threads {threads}");
        assert_eq!(stderr(&many), stderr(&one), "--threads {threads}");
    }
    // 3 x 253 + 66 (the EVTX records) + 146 (the JSON lines) events.
    assert!(stderr(&one).contains(", 971 event(s);"), "{}", stderr(&one));
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("sbh-offline-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn damaged_records_and_files_are_reported_skipped_and_counted() {
    let dir = scratch("damaged");
    let evtx = read(
        "tests/data/corpus/evtx/T1027-Obfuscated_Files_or_Information_\
         ID4103-4104-CrackMapExec_payload_execution.evtx",
    );
    // Chunk 1 (the file header is 4096 bytes, a chunk 65536) gets a
    // broken magic; chunk 0 stays whole.
    let mut broken = evtx.clone();
    broken[4096 + 65536..4096 + 65536 + 8].copy_from_slice(b"garbage!");
    std::fs::write(dir.join("broken.evtx"), &broken).unwrap();
    std::fs::write(dir.join("short.evtx"), &evtx[..3000]).unwrap();
    let json = b"{\"EventID\":4104}\nnot json\n";
    std::fs::write(dir.join("bad.jsonl"), json).unwrap();
    let log = read(
        "tests/data/corpus/xmlwineventlog/certify_esc1_abuse_powershell.log",
    );
    let mut cut = log[..300].to_vec();
    cut.extend_from_slice(b"\n");
    cut.extend_from_slice(&log);
    std::fs::write(dir.join("cut.log"), &cut).unwrap();
    std::fs::write(dir.join("notes.txt"), b"nothing to see\n").unwrap();

    let d = dir.to_string_lossy().into_owned();
    let out = hunt(&["--tz", "UTC", "--pattern", "*", &d], None);
    let err = stderr(&out);
    let name = |f: &str| dir.join(f).to_string_lossy().into_owned();
    assert!(
        err.contains(&format!(
            "{}: line 2: not JSON (expected ident at line 1 column 2); \
             skipped",
            name("bad.jsonl")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: byte 0: an <Event> that ends without </Event> (a cut \
             line?); skipped",
            name("cut.log")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: chunk 1 at byte 69632: ",
            name("broken.evtx")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{}: the file: ", name("short.evtx"))),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{}: not EVTX, XmlWinEventLog, JSON lines or a Splunk CSV \
             export; skipped",
            name("notes.txt")
        )),
        "{err}"
    );
    // The whole first chunk still counts, and the two certify events of
    // the cut file.
    let summary = err.lines().find(|l| l.contains(" file(s) (")).unwrap();
    assert!(
        summary.contains(
            "(4 skipped as damaged, 1 file(s) of no known format skipped)"
        ),
        "{summary}"
    );
    // Damage does not make the run an error: no rows here only because
    // Path is absent.
    assert_eq!(out.status.code(), Some(1), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_file_is_an_error_after_the_others_are_read() {
    let out = hunt(
        &[
            "--tz",
            "UTC",
            "--by",
            "dest,ScriptBlockId",
            "no/such/file.evtx",
            "tests/data/corpus/json",
        ],
        None,
    );
    let err = stderr(&out);
    assert!(
        err.starts_with("scriptblockhunt: no/such/file.evtx: cannot open: "),
        "{err}"
    );
    assert!(err.contains("(1 input(s) unreadable)"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("DC01.pandalab.com"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn explain_lists_each_dropped_event_with_its_missing_fields() {
    let out = hunt(
        &["--tz", "UTC", "--explain", "tests/data/corpus/json"],
        None,
    );
    let err = stderr(&out);
    assert!(
        err.ends_with(
            "scriptblockhunt: dropped: tests/data/corpus/json/empire_ninjacopy_\
             dumping_ntds_dit_file__4104_only.jsonl: line 99: no user_id, \
             Opcode, Path, ProcessID\n"
        ),
        "{err}"
    );
    let out = hunt(
        &[
            "--tz",
            "UTC",
            "--explain",
            "--pattern",
            "*Certify*",
            "tests/data/corpus/xmlwineventlog",
        ],
        None,
    );
    let lines: Vec<String> = stderr(&out)
        .lines()
        .filter(|l| l.contains("dropped: "))
        .map(String::from)
        .collect();
    assert_eq!(
        lines,
        vec![
            "scriptblockhunt: dropped: tests/data/corpus/xmlwineventlog/\
             certify_esc1_abuse_powershell.log: byte 0 (EventRecordID \
             1350025): no Path",
            "scriptblockhunt: dropped: tests/data/corpus/xmlwineventlog/\
             certify_esc1_abuse_powershell.log: byte 1116 (EventRecordID \
             1350023): no Path",
        ]
    );
}

#[test]
fn json_and_table_output() {
    let by = "dest,ScriptBlockId,ScriptBlockText";
    let csv =
        hunt(&["--tz", "UTC", "--by", by, "tests/data/corpus/json"], None);
    let json = hunt(
        &[
            "--tz",
            "UTC",
            "--format",
            "json",
            "--by",
            by,
            "tests/data/corpus/json",
        ],
        None,
    );
    let line = String::from_utf8(json.stdout).unwrap();
    assert_eq!(line.lines().count(), 1);
    let row: serde_json::Value = serde_json::from_str(&line).unwrap();
    // Keys in column order, every value a string.
    let mut at = 0;
    for key in by.split(',').chain(["count", "firstTime", "lastTime"]) {
        let found = line[at..].find(&format!("\"{key}\":\"")).unwrap();
        at += found + 1;
    }
    assert!(
        line.starts_with("{\"dest\":\"DC01.pandalab.com\","),
        "{line}"
    );
    assert_eq!(row["count"], "1");
    let text = row["ScriptBlockText"].as_str().unwrap();
    assert!(
        text.starts_with("\n#requires -version 3.0\n\ntry {"),
        "{text}"
    );
    // The CSV holds the very same text, exactly.
    let csv = String::from_utf8(csv.stdout).unwrap();
    let quoted = format!("\"{}\"", text.replace('"', "\"\""));
    assert!(csv.contains(&quoted));

    // A table fits the width: multi-line text on one line, cut with a
    // marker.
    let mut cmd = Command::new(BIN);
    let out = cmd
        .args([
            "hunt",
            "--tz",
            "UTC",
            "--format",
            "table",
            "--by",
            by,
            "tests/data/corpus/json",
        ])
        .current_dir(root())
        .env("COLUMNS", "160")
        .output()
        .unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    for line in &lines {
        assert!(line.chars().count() <= 160, "{line}");
    }
    assert!(lines[2].contains("↵#requires -version 3.0↵↵try"), "{table}");
    assert!(lines[2].contains('…'), "{table}");
    // The narrow columns keep their whole values.
    assert!(lines[2].contains("42b654ea-aa0c-48bf-8f94-20bdab926e89"));
    assert!(lines[2].ends_with("2023-07-19T05:35:38  2023-07-19T05:35:38"));
}

#[test]
fn times_default_to_the_machines_zone() {
    let by = ["--by", "dest,ScriptBlockId", "tests/data/corpus/json"];
    let utc = hunt(&[&["--tz", "UTC"][..], &by[..]].concat(), None);
    let out = Command::new(BIN)
        .arg("hunt")
        .args(by)
        .current_dir(root())
        .env("TZ", "America/Los_Angeles")
        .output()
        .unwrap();
    // 05:35:38 UTC is 22:35:38 the day before in Los Angeles (UTC-7 in
    // July).
    assert!(
        String::from_utf8_lossy(&utc.stdout).contains("2023-07-19T05:35:38")
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(",2023-07-18T22:35:38,"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn no_progress_bar_or_other_noise_when_stderr_is_not_a_terminal() {
    let out = hunt(&["--tz", "UTC", "tests/data/corpus"], None);
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 2, "{err}");
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
}

#[test]
fn help_documents_the_exit_status() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("hunt: 0 with rows, 1 with no rows, 2 on errors"));
    assert!(help.contains("--explain"));
    assert!(help.contains("table, csv or json"));
    let _ = Path::new(BIN);
}
