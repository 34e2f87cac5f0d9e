//! All 101 ESCU hunts in one pass give, for each hunt, exactly the rows a
//! run of that hunt alone gives (`condition=` its condition, `by=` its
//! list), byte for byte: through the real binary speaking the chunked
//! protocol, and through the offline `hunt` front end.
//!
//! The events are generated from the catalog's own literals: for each hunt,
//! texts that satisfy its condition, the same texts with every letter's
//! case swapped, near misses (a backtick inside a literal, as obfuscated
//! PowerShell writes it), texts that add what a `NOT` excludes, and texts
//! split over two `ScriptBlockText` values. Their other fields vary so that
//! `fillnull` decides differently per hunt: some hunts only match events
//! without `Path`, some events come from the PowerShell Core channel
//! (which has no `dest` or `signature`), some have a multivalue `Opcode`,
//! and some are repeated.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use scriptblockhunt::catalog::{Catalog, Hunt};
use scriptblockhunt::chunk::{write_chunk, ChunkReader};
use scriptblockhunt::condition::Node;
use scriptblockhunt::options::Options;
use scriptblockhunt::output::write_csv;
use scriptblockhunt::records::all_rows;
use scriptblockhunt::search::Search;
use scriptblockhunt::stream;
use scriptblockhunt::winevent::{extract, split_events, WinEvent};

/// The program under test.
const BIN: &str = env!("CARGO_BIN_EXE_scriptblockhunt");

/// Rows per execute chunk in the generated streams: small, so a stream
/// has many chunks.
const BATCH: usize = 97;

/// How many satisfying texts are built per hunt at most.
const ALTERNATIVES: usize = 6;

/// A deterministic pseudo-random source (an LCG).
struct Lcg(u64);

impl Lcg {
    /// A number below `n`.
    fn next(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1);
        ((self.0 >> 33) % n as u64) as usize
    }
}

/// Benign PowerShell pieces put around the literals.
const FILLER: [&str; 8] = [
    "Write-Output 'ok'",
    "$x = 1; $y = $x + 2",
    "foreach ($i in 1..3) { $i }",
    "param([string]$Name)",
    "# comment line",
    "Get-Date -Format o",
    "$list = @('a', 'b')",
    "if ($true) { return }",
];

/// The sets of positive leaves, any of which satisfies `node` (NOT
/// subtrees require nothing here), at most `ALTERNATIVES`.
fn alternatives(node: &Node) -> Vec<Vec<String>> {
    let mut out = match node {
        Node::Leaf(p) => vec![vec![p.clone()]],
        Node::Not(_) => vec![vec![]],
        Node::Or(children) => children.iter().flat_map(alternatives).collect(),
        Node::And(children) => {
            let mut acc: Vec<Vec<String>> = vec![vec![]];
            for child in children {
                let mut next = Vec::new();
                for a in &acc {
                    for b in alternatives(child) {
                        let mut joined = a.clone();
                        joined.extend(b);
                        next.push(joined);
                    }
                }
                next.truncate(ALTERNATIVES * 4);
                acc = next;
            }
            acc
        }
    };
    // Keep a spread: the first, the last, and some in between.
    if out.len() > ALTERNATIVES {
        let step = out.len() as f64 / ALTERNATIVES as f64;
        out = (0..ALTERNATIVES)
            .map(|i| out[(i as f64 * step) as usize].clone())
            .collect();
    }
    out
}

/// The first leaf under every NOT of `node`.
fn negated(node: &Node, out: &mut Vec<String>) {
    match node {
        Node::Not(inner) => inner.leaves(&mut |p| {
            if !out.iter().any(|o| o == p) {
                out.push(p.to_string())
            }
        }),
        Node::And(children) | Node::Or(children) => {
            children.iter().for_each(|c| negated(c, out))
        }
        Node::Leaf(_) => {}
    }
}

/// A wildcard's literal text, inner stars shown as ` ~ `.
fn instance(pattern: &str) -> String {
    pattern
        .trim_matches('*')
        .split('*')
        .collect::<Vec<_>>()
        .join(" ~ ")
}

/// A text matching every pattern of `leaves`, if one can be built: an
/// exact pattern is the whole text, a prefix pattern starts it, a suffix
/// pattern ends it, the others sit in between among filler.
fn text(leaves: &[String], rng: &mut Lcg) -> Option<String> {
    let starred = |p: &String| p.contains('*');
    if let Some(exact) = leaves
        .iter()
        .find(|p| !starred(p) || (!p.starts_with('*') && !p.ends_with('*')))
    {
        return Some(instance(exact));
    }
    let prefix = leaves.iter().find(|p| !p.starts_with('*'));
    let suffix = leaves.iter().find(|p| !p.ends_with('*'));
    let mut out = String::new();
    if let Some(p) = prefix {
        out.push_str(&instance(p));
        out.push_str("\r\n");
    }
    out.push_str(FILLER[rng.next(FILLER.len())]);
    for leaf in leaves {
        if Some(leaf) == prefix || Some(leaf) == suffix {
            continue;
        }
        out.push(' ');
        out.push_str(&instance(leaf));
        out.push_str(if rng.next(2) == 0 { " " } else { "\n" });
        out.push_str(FILLER[rng.next(FILLER.len())]);
    }
    if let Some(s) = suffix {
        out.push_str("; $o");
        out.push_str(&instance(s));
    }
    Some(out)
}

/// `text` with every ASCII letter's case swapped.
fn swapped(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// `text` with a backtick inside the longest literal of `leaves`.
fn near_miss(text: &str, leaves: &[String]) -> Option<String> {
    let literal = leaves
        .iter()
        .flat_map(|l| l.split('*'))
        .max_by_key(|l| l.len())
        .filter(|l| l.len() >= 2)?;
    let at = text.find(literal)?;
    let mid = at + literal.char_indices().nth(literal.chars().count() / 2)?.0;
    Some(format!("{}`{}", &text[..mid], &text[mid..]))
}

/// The script texts of one generated event: one value, or several.
struct Script {
    /// The values of ScriptBlockText (empty: no field).
    values: Vec<String>,
    /// The hunt the texts were built for, by catalog position.
    hunt: usize,
}

/// Every generated script, hunt by hunt.
fn scripts(hunts: &[Hunt]) -> Vec<Script> {
    let mut rng = Lcg(4104);
    let mut out = Vec::new();
    for (h, hunt) in hunts.iter().enumerate() {
        let mut excluded = Vec::new();
        negated(hunt.condition.root(), &mut excluded);
        for leaves in alternatives(hunt.condition.root()) {
            let Some(hit) = text(&leaves, &mut rng) else {
                continue;
            };
            let mut push =
                |values: Vec<String>| out.push(Script { values, hunt: h });
            push(vec![hit.clone()]);
            push(vec![swapped(&hit)]);
            if let Some(miss) = near_miss(&hit, &leaves) {
                push(vec![miss]);
            }
            for not in &excluded {
                push(vec![format!("{hit} {}", instance(not))]);
            }
            if leaves.len() >= 2
                && leaves
                    .iter()
                    .all(|l| l.starts_with('*') && l.ends_with('*'))
            {
                let first = instance(&leaves[0]);
                let rest: Vec<String> =
                    leaves[1..].iter().map(|l| instance(l)).collect();
                push(vec![format!("{first} {}", FILLER[0]), rest.join(" ")]);
            }
        }
    }
    out.push(Script {
        values: vec![],
        hunt: 0,
    });
    out.push(Script {
        values: vec![FILLER.join("\n")],
        hunt: 1,
    });
    out
}

/// One event's XML, its fields varied by its number `k` and its hunt.
fn event_xml(k: usize, script: &Script, second: u64) -> String {
    let core = k % 23 == 5;
    let channel = if core {
        "PowerShellCore/Operational"
    } else {
        "Microsoft-Windows-PowerShell/Operational"
    };
    let computer = ["ws-01.corp.local", "DC-02.corp.local"][k % 2];
    let user = if k % 3 == 0 {
        "S-1-5-18"
    } else {
        "S-1-5-21-1-2-3-500"
    };
    let pid = ["812", "5336", "10", "77"][k % 4];
    let opcode = if k % 29 == 3 {
        "<Opcode>15</Opcode><Opcode>On create calls</Opcode>"
    } else {
        "<Opcode>15</Opcode>"
    };
    let path = if script.hunt % 17 == 0 || k % 5 == 0 {
        String::new()
    } else {
        format!("C:\\Users\\a\\s{}.ps1", k % 3)
    };
    let texts: String = if script.values.is_empty() {
        "<Data Name='ScriptBlockText'></Data>".to_string()
    } else {
        script
            .values
            .iter()
            .map(|v| format!("<Data Name='ScriptBlockText'>{v}</Data>"))
            .collect()
    };
    let (minute, sec) = (second / 60, second % 60);
    format!(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'>\
         <System><Provider Name='Microsoft-Windows-PowerShell' \
         Guid='{{A0C1853B-5C40-4B15-8766-3CF1C58F985A}}'/><EventID>4104</EventID>\
         <Version>1</Version><Level>5</Level><Task>2</Task>{opcode}\
         <Keywords>0x0</Keywords><TimeCreated \
         SystemTime='2025-03-01T10:{minute:02}:{sec:02}.{k:07}Z'/>\
         <EventRecordID>{k}</EventRecordID><Execution ProcessID='{pid}' \
         ThreadID='2228'/><Channel>{channel}</Channel>\
         <Computer>{computer}</Computer><Security UserID='{user}'/></System>\
         <EventData><Data Name='MessageNumber'>1</Data>\
         <Data Name='MessageTotal'>1</Data>{texts}\
         <Data Name='ScriptBlockId'>{k:08x}-0000-4000-8000-{k:012x}</Data>\
         <Data Name='Path'>{path}</Data></EventData></Event>\n"
    )
}

/// The generated event file: every script once, every 11th twice (the
/// copy a minute later), so some groups count more than one event.
fn event_file(hunts: &[Hunt]) -> String {
    let mut out = String::new();
    for (k, script) in scripts(hunts).iter().enumerate() {
        out.push_str(&event_xml(k, script, (k % 3000) as u64));
        if k % 11 == 0 {
            out.push_str(&event_xml(k, script, (k % 3000) as u64 + 60));
        }
    }
    out
}

/// Writes the event file for the test `tag` and returns its path.
fn events_path(hunts: &[Hunt], tag: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("escu_one_pass");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{tag}-{}.xml", std::process::id()));
    std::fs::write(&path, event_file(hunts)).unwrap();
    path
}

/// A getinfo chunk for `args`, then the events as execute chunks of
/// `BATCH` rows with the fields the search asks for.
fn stream_for(events: &[WinEvent], args: &[String]) -> Vec<u8> {
    let options = Options::parse(args).unwrap();
    let names = Search::new(&options).unwrap().layout().names.clone();
    let getinfo = serde_json::json!({
        "action": "getinfo",
        "preview": false,
        "searchinfo": {
            "args": args, "raw_args": args, "sid": "escu-test",
            "session_key": "", "splunk_version": "test",
        }
    });
    let mut out = Vec::new();
    write_chunk(&mut out, getinfo.to_string().as_bytes(), b"").unwrap();
    let batches: Vec<&[WinEvent]> = events.chunks(BATCH).collect();
    for (i, batch) in batches.iter().enumerate() {
        let finished = i + 1 == batches.len();
        let metadata =
            format!(r#"{{"action":"execute","finished":{finished}}}"#);
        write_chunk(
            &mut out,
            metadata.as_bytes(),
            &stream::body(batch, &names),
        )
        .unwrap();
    }
    out
}

/// What the binary answered: the final body and its WARN messages.
struct Answer {
    /// The body of the final reply (the result CSV).
    body: Vec<u8>,
    /// The texts of its WARN messages.
    warnings: Vec<String>,
}

/// Runs the binary in protocol mode on `input`.
fn serve(input: &[u8], scratch: &Path) -> Answer {
    std::fs::write(scratch, input).unwrap();
    let output = Command::new(BIN)
        .stdin(Stdio::from(std::fs::File::open(scratch).unwrap()))
        .env("SCRIPTBLOCKHUNT_LOG", "error")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut reader = ChunkReader::new(&output.stdout[..]);
    let mut last = None;
    while let Some(chunk) = reader.read_chunk().unwrap() {
        last = Some((chunk.metadata.to_vec(), chunk.body.to_vec()));
    }
    let (metadata, body) = last.expect("a reply");
    let metadata: serde_json::Value =
        serde_json::from_slice(&metadata).unwrap();
    assert_eq!(metadata["finished"], true, "{metadata}");
    let warnings = metadata
        .pointer("/inspector/messages")
        .and_then(|m| m.as_array())
        .map(|list| {
            list.iter()
                .filter(|m| m[0] == "WARN")
                .map(|m| m[1].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    Answer { body, warnings }
}

/// Runs the offline front end on the event file with `flags`.
fn hunt_offline(flags: &[&str], events: &Path) -> Vec<u8> {
    let output = Command::new(BIN)
        .arg("hunt")
        .args(flags)
        .args(["--format", "csv"])
        .arg(events)
        .output()
        .unwrap();
    let code = output.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The single-hunt arguments of `hunt`.
fn single_args(hunt: &Hunt, condition: &str) -> Vec<String> {
    vec![
        format!("condition={condition}"),
        format!("by={}", hunt.by.join(",")),
    ]
}

/// The table `hunts=all` must give, built from each hunt's own run: the
/// hunt's rows (decoded from its CSV) under the union header, hunts sorted
/// by name. Also checks that re-encoding a hunt's rows gives back its
/// bytes, so that comparing through decoding loses nothing.
fn expected_all(
    sorted: &[&Hunt],
    singles: &BTreeMap<String, Vec<u8>>,
) -> Vec<u8> {
    let mut union: Vec<String> = Vec::new();
    for hunt in sorted {
        for f in &hunt.by {
            if !union.contains(f) {
                union.push(f.clone());
            }
        }
    }
    let mut columns = vec!["hunt".to_string()];
    columns.extend(union.iter().cloned());
    columns.extend(["count", "firstTime", "lastTime"].map(String::from));
    let mut rows: Vec<Vec<Vec<u8>>> = Vec::new();
    for hunt in sorted {
        let body = &singles[&hunt.name];
        if body.is_empty() {
            continue;
        }
        let table = all_rows(body).unwrap();
        let header: Vec<String> = table[0]
            .iter()
            .map(|c| String::from_utf8(c.clone()).unwrap())
            .collect();
        let mut again = Vec::new();
        write_csv(
            &header,
            table[1..]
                .iter()
                .map(|r| r.iter().map(|c| Cow::Borrowed(&c[..])).collect()),
            &mut again,
        );
        assert_eq!(&again, body, "{}: CSV does not round-trip", hunt.name);
        for row in &table[1..] {
            let mut cells = vec![hunt.name.as_bytes().to_vec()];
            for column in &union {
                cells.push(match header.iter().position(|h| h == column) {
                    Some(i) => row[i].clone(),
                    None => Vec::new(),
                });
            }
            cells.extend(row[header.len() - 3..].iter().cloned());
            rows.push(cells);
        }
    }
    let mut out = Vec::new();
    if !rows.is_empty() {
        write_csv(
            &columns,
            rows.iter()
                .map(|r| r.iter().map(|c| Cow::Borrowed(&c[..])).collect()),
            &mut out,
        );
    }
    out
}

/// Runs `run` on every hunt, on two threads (the single runs are many
/// processes), and collects the results by hunt name.
fn each_hunt<T, F>(hunts: &[&Hunt], run: F) -> BTreeMap<String, T>
where
    T: Send,
    F: Fn(&Hunt) -> T + Sync,
{
    let (left, right) = hunts.split_at(hunts.len() / 2);
    let run = &run;
    std::thread::scope(|scope| {
        let side = |list: &[&Hunt]| {
            list.iter()
                .map(|h| (h.name.clone(), run(h)))
                .collect::<Vec<_>>()
        };
        let other = scope.spawn(move || side(left));
        let mut out: BTreeMap<String, T> = side(right).into_iter().collect();
        out.extend(other.join().unwrap());
        out
    })
}

/// The catalog, sorted by name as the output is.
fn sorted(catalog: &Catalog) -> Vec<&Hunt> {
    let mut hunts: Vec<&Hunt> = catalog.hunts().iter().collect();
    hunts.sort_by(|a, b| a.name.as_bytes().cmp(b.name.as_bytes()));
    hunts
}

/// The condition text of each hunt, from the data file itself.
fn condition_texts() -> BTreeMap<String, String> {
    scriptblockhunt::catalog::ESCU_4104
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("name\t"))
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[0].to_string(), cols[3].to_string())
        })
        .collect()
}

#[test]
fn every_hunt_in_one_pass_equals_its_own_run_through_the_protocol() {
    let catalog = Catalog::builtin().unwrap();
    let path = events_path(catalog.hunts(), "protocol");
    let xml = std::fs::read(&path).unwrap();
    let events: Vec<WinEvent> = split_events(&xml)
        .into_iter()
        .map(extract)
        .filter(WinEvent::is_script_block)
        .collect();
    assert!(events.len() > 700, "{} events", events.len());
    let scratch = path.with_extension("stream");
    let texts = condition_texts();

    let all =
        serve(&stream_for(&events, &["hunts=all".to_string()]), &scratch);
    let answers = each_hunt(&sorted(&catalog), |hunt| {
        let scratch = scratch.with_extension(format!("{}.stream", hunt.id));
        let answer = serve(
            &stream_for(&events, &single_args(hunt, &texts[&hunt.name])),
            &scratch,
        );
        std::fs::remove_file(&scratch).ok();
        answer
    });
    let mut singles = BTreeMap::new();
    let mut single_warnings = Vec::new();
    for hunt in sorted(&catalog) {
        let answer = &answers[&hunt.name];
        for w in &answer.warnings {
            single_warnings.push(format!("hunt '{}': {w}", hunt.name));
        }
        singles.insert(hunt.name.clone(), answer.body.clone());
    }
    std::fs::remove_file(&scratch).ok();
    std::fs::remove_file(&path).ok();

    let with_rows = singles.values().filter(|b| !b.is_empty()).count();
    let filled = singles
        .values()
        .filter(|b| String::from_utf8_lossy(b).contains(",0,"))
        .count();
    assert!(with_rows >= 90, "only {with_rows} hunts have rows");
    assert!(filled >= 50, "only {filled} hunts have a filled null");
    assert!(
        !single_warnings.is_empty(),
        "no hunt lost its rows to fillnull"
    );
    let expected = expected_all(&sorted(&catalog), &singles);
    assert!(
        all.body == expected,
        "hunts=all differs from the single runs"
    );
    if single_warnings.len() <= 10 {
        assert_eq!(all.warnings, single_warnings);
    }
}

#[test]
fn every_hunt_in_one_pass_equals_its_own_run_offline() {
    let catalog = Catalog::builtin().unwrap();
    let path = events_path(catalog.hunts(), "offline");
    let texts = condition_texts();

    let all = hunt_offline(&["--hunts", "all"], &path);
    let singles = each_hunt(&sorted(&catalog), |hunt| {
        let by = hunt.by.join(",");
        let body = hunt_offline(
            &["--condition", &texts[&hunt.name], "--by", &by],
            &path,
        );
        // The offline front end prints the header even without rows.
        if body.iter().filter(|&&b| b == b'\n').count() <= 1 {
            Vec::new()
        } else {
            body
        }
    });
    std::fs::remove_file(&path).ok();
    assert!(singles.values().filter(|b| !b.is_empty()).count() >= 90);
    let expected = expected_all(&sorted(&catalog), &singles);
    assert!(
        all == expected,
        "hunt --hunts all differs from the single runs"
    );
}
