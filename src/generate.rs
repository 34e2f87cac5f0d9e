//! `scriptblockhunt gen`: large recorded streams of realistic 4104 events,
//! for benchmarks.
//!
//! The stream is what Splunk would send the command with its default
//! options: a getinfo chunk (with a dummy session key), then execute chunks
//! of at most 50,000 rows carrying the required fields and their `__mv_`
//! twins, quoted as Splunk quotes (`stream::line`), the last one
//! `finished:true`.
//!
//! Everything is a pure function of the seed: event `i` is drawn from its
//! own generator seeded by `(seed, i)`, and the fields of group `g` from one
//! seeded by `(seed, g)`. So a chunk can be generated twice, once to learn
//! its length for the header and once to write it, and memory stays at one
//! row (plus a body buffer of at most `KEEP_BODY_BYTES`, which spares the
//! second pass for ordinary chunks) whatever the stream's size.
//!
//! What the events look like, and why:
//!
//! * `ScriptBlockText`: PowerShell lines (quotes, commas, `$`, braces,
//!   non-ASCII comments) up to a length drawn log-uniformly between
//!   `--text-min` and `--text-max` (30 bytes to 20 KB by default: most
//!   script blocks are short, a few are long; PowerShell splits longer
//!   scripts into several 4104 events). Interactive blocks end lines with
//!   `\n`, blocks from script files with `\r\n`. Non-matching texts are full
//!   of near misses (`Get-NetTCPSetting`, `Get-NetAdapter`).
//! * A share `--match-share` of events match `*Get-NetTcpconnection*` (in
//!   varied letter case). Matching events belong to `--groups` groups: each
//!   group has fixed BY values and its own `ScriptBlockId`; the first
//!   `groups` matching events visit every group once, so the result has
//!   exactly `groups` rows when at least that many events match.
//! * `Path` is null (an empty cell) for 85% of events: only script blocks
//!   run from a file carry one, and every 4104 event of the repository's
//!   corpus has an empty `Path`. Group 0 always has a Path, so that
//!   fillnull keeps the rows (it creates no field that no event has).
//! * 5% of events come from PowerShell 7 (`PowerShellCore` provider): the
//!   add-on sets no `dest` and no `signature` for that channel, so both are
//!   null there.
//! * `Opcode` is multivalue (`15` and `On create calls`) on 10% of hosts:
//!   the add-on's extractions add the rendered opcode as a second value
//!   when the event carries RenderingInfo (semantics notes §6.1), which is
//!   the case for hosts whose events come through event forwarding with
//!   rendered text. This is the only multivalue field a 4104 event has. A
//!   group on such a host counts as two groups (two result rows).

use std::fs::File;
use std::io::{self, BufWriter, Write};

use serde_json::json;

use crate::error::{Error, Result};
use crate::options::Options;
use crate::search::Search;
use crate::stream::{line, multivalue, ROWS_PER_CHUNK};

/// A chunk body up to this size is kept from the first pass and written as
/// is; a larger one is generated again for writing (64 MiB).
const KEEP_BODY_BYTES: usize = 64 << 20;

/// Share of events with a `Path`.
const PATH_SHARE: f64 = 0.15;

/// Share of events from PowerShell 7 (no `dest`, no `signature`).
const PWSH7_SHARE: f64 = 0.05;

/// Share of hosts whose events carry a multivalue `Opcode`.
const MULTIVALUE_HOST_SHARE: f64 = 0.1;

/// Number of distinct hosts (`dest`).
const HOSTS: u64 = 500;

/// First `_time` second (2023-11-14) and the span of times, 30 days.
const TIME_BASE: u64 = 1_700_000_000;

/// Span of `_time` values in microseconds: 30 days.
const TIME_SPAN_MICROS: u64 = 30 * 86_400 * 1_000_000;

/// Where the stream stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// Stop at the first chunk end at or past this many bytes.
    Bytes(u64),
    /// Exactly this many events.
    Events(u64),
}

/// What to generate. Defaults: 100 MB, 1% matching, 1,000 groups, seed 1,
/// texts of 30 bytes to 20 KB.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Where the stream stops.
    pub limit: Limit,
    /// Share of events that match, 0 to 1.
    pub match_share: f64,
    /// Number of result rows the matching events form.
    pub groups: u64,
    /// The seed.
    pub seed: u64,
    /// Shortest script block text, bytes.
    pub text_min: usize,
    /// The command's arguments in the getinfo request (`name=value`),
    /// none by default: the default hunt.
    pub args: Vec<String>,
    /// Longest script block text, bytes (about: a matching text may exceed
    /// it by less than one line).
    pub text_max: usize,
}

impl Default for Plan {
    fn default() -> Plan {
        Plan {
            limit: Limit::Bytes(100_000_000),
            match_share: 0.01,
            groups: 1000,
            seed: 1,
            text_min: 30,
            text_max: 20_000,
            args: Vec::new(),
        }
    }
}

/// The usage text of `gen`.
pub const HELP: &str = "\
scriptblockhunt gen [OPTIONS] [NAME=VALUE ...] > STREAM
  NAME=VALUE         an argument of the command in the getinfo request
                     (default none: the default hunt), e.g. hunts=all; the
                     columns stay those of the default search
  --size N[K|M|G]    stop at the first chunk end past N bytes (K, M, G are
                     powers of 1000; Ki, Mi, Gi of 1024; default 100M)
  --events N         exactly N events instead of a size
  --match-share F    share of events that match, 0..1 (default 0.01)
  --groups N         result rows the matching events form (default 1000)
  --seed N           the seed (default 1); same seed, same bytes
  --text-min B       shortest ScriptBlockText in bytes (default 30)
  --text-max B       longest ScriptBlockText in bytes (default 20000)
  -o, --output FILE  write to FILE instead of stdout
";

/// `gen`: parses its flags and writes the stream. Returns the exit status.
pub fn run(argv: &[String]) -> Result<i32> {
    if argv.iter().any(|a| a == "-h" || a == "--help") {
        print!("{HELP}");
        return Ok(0);
    }
    let (plan, output) = parse(argv)?;
    let summary = match output {
        Some(path) => {
            let file = File::create(&path).map_err(|e| {
                Error::input(&path, format!("cannot create: {e}"))
            })?;
            write(&plan, BufWriter::with_capacity(1 << 20, file))?
        }
        None => {
            let out = BufWriter::with_capacity(1 << 20, io::stdout().lock());
            write(&plan, out)?
        }
    };
    log::info!(
        "wrote {} bytes: {} events in {} chunks, {} matching",
        summary.bytes,
        summary.events,
        summary.chunks,
        summary.matched
    );
    Ok(0)
}

/// Parses the flags of `gen`; returns the plan and the output path.
fn parse(argv: &[String]) -> Result<(Plan, Option<String>)> {
    let mut plan = Plan::default();
    let mut output = None;
    let mut args = argv.iter();
    while let Some(flag) = args.next() {
        if !flag.starts_with('-') && flag.contains('=') {
            plan.args.push(flag.clone());
            continue;
        }
        let value = args.next().ok_or_else(|| {
            Error::usage(format!("gen: {flag} needs a value"))
        })?;
        let bad = |what: &str| {
            Error::usage(format!("gen: {flag} {value}: expected {what}"))
        };
        match flag.as_str() {
            "--size" => {
                plan.limit = Limit::Bytes(
                    size(value).ok_or_else(|| bad("a size such as 1G"))?,
                )
            }
            "--events" => {
                plan.limit = Limit::Events(
                    value.parse().map_err(|_| bad("a number of events"))?,
                )
            }
            "--match-share" => {
                plan.match_share = value
                    .parse()
                    .ok()
                    .filter(|f: &f64| (0.0..=1.0).contains(f))
                    .ok_or_else(|| bad("a share from 0 to 1"))?
            }
            "--groups" => {
                plan.groups = value
                    .parse()
                    .ok()
                    .filter(|&g| g > 0)
                    .ok_or_else(|| bad("a number of groups above 0"))?
            }
            "--seed" => {
                plan.seed = value.parse().map_err(|_| bad("a number"))?
            }
            "--text-min" => {
                plan.text_min = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| bad("a length above 0"))?
            }
            "--text-max" => {
                plan.text_max =
                    value.parse().map_err(|_| bad("a length in bytes"))?
            }
            "-o" | "--output" => output = Some(value.clone()),
            _ => {
                return Err(Error::usage(format!(
                    "gen: unknown flag {flag}; see scriptblockhunt gen --help"
                )))
            }
        }
    }
    // The arguments must be ones the command accepts.
    Search::new(&Options::parse(&plan.args)?)?;
    if plan.text_max < plan.text_min {
        return Err(Error::usage(format!(
            "gen: --text-max {} is below --text-min {}",
            plan.text_max, plan.text_min
        )));
    }
    Ok((plan, output))
}

/// Parses `1G`, `100M`, `64Ki`, `12345`.
fn size(text: &str) -> Option<u64> {
    let units: [(&str, u64); 6] = [
        ("Ki", 1 << 10),
        ("Mi", 1 << 20),
        ("Gi", 1 << 30),
        ("K", 1_000),
        ("M", 1_000_000),
        ("G", 1_000_000_000),
    ];
    for (suffix, unit) in units {
        if let Some(number) = text.strip_suffix(suffix) {
            return number.parse::<u64>().ok()?.checked_mul(unit);
        }
    }
    text.parse().ok()
}

/// What `write` wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Bytes of the whole stream.
    pub bytes: u64,
    /// Events (rows) in it.
    pub events: u64,
    /// Matching events.
    pub matched: u64,
    /// Chunks, getinfo included.
    pub chunks: u64,
}

/// Writes the stream for `plan` to `out`.
pub fn write<W: Write>(plan: &Plan, out: W) -> Result<Summary> {
    write_keeping(plan, out, KEEP_BODY_BYTES)
}

/// `write`, keeping chunk bodies of up to `keep` bytes from the first
/// pass.
fn write_keeping<W: Write>(
    plan: &Plan,
    mut out: W,
    keep: usize,
) -> Result<Summary> {
    let search = Search::new(&Options::default())?;
    let names = search.layout().names.clone();
    let mut generator = Generator::new(plan, &names);
    let mut summary = Summary::default();

    let metadata = getinfo(&plan.args);
    summary.bytes += put_header(&mut out, metadata.len(), 0)?;
    out.write_all(&metadata)?;
    summary.bytes += metadata.len() as u64;
    summary.chunks += 1;

    let mut header_row = Vec::new();
    let mut header: Vec<String> = names.clone();
    header.extend(names.iter().map(|n| format!("__mv_{n}")));
    let cells: Vec<&[u8]> = header.iter().map(|h| h.as_bytes()).collect();
    line(&cells, &mut header_row);

    let mut kept = Vec::new();
    loop {
        let start = generator.state();
        let Extent {
            rows,
            body_len,
            last,
            all_kept,
        } = chunk_extent(
            &mut generator,
            &summary,
            &header_row,
            &mut kept,
            keep,
        );
        let metadata: &[u8] = if last {
            br#"{"action":"execute","finished":true}"#
        } else {
            br#"{"action":"execute","finished":false}"#
        };
        summary.bytes += put_header(&mut out, metadata.len(), body_len)?;
        out.write_all(metadata)?;
        if rows > 0 {
            out.write_all(&header_row)?;
        }
        if all_kept {
            out.write_all(&kept)?;
        } else {
            generator.restore(start);
            for _ in 0..rows {
                out.write_all(generator.next_row())?;
            }
        }
        summary.bytes += (metadata.len() + body_len) as u64;
        summary.events += rows;
        summary.chunks += 1;
        if last {
            break;
        }
    }
    summary.matched = generator.matched;
    out.flush()?;
    Ok(summary)
}

/// The rows of the next chunk, as the first pass found them.
struct Extent {
    /// Number of rows.
    rows: u64,
    /// Length of the body, header row included.
    body_len: usize,
    /// True for the last chunk of the stream.
    last: bool,
    /// True when every row is in the kept buffer.
    all_kept: bool,
}

/// Generates the rows of the next chunk once, to learn how many there are
/// and how long the body is; keeps them in `kept` while it stays within
/// `limit` bytes.
fn chunk_extent(
    generator: &mut Generator,
    summary: &Summary,
    header_row: &[u8],
    kept: &mut Vec<u8>,
    limit: usize,
) -> Extent {
    kept.clear();
    let mut keep = true;
    let mut body_len = 0;
    let mut rows = 0u64;
    loop {
        let events = summary.events + rows;
        let done = match generator.plan.limit {
            Limit::Events(n) => events >= n,
            Limit::Bytes(n) => {
                rows > 0 && summary.bytes + body_len as u64 + 64 >= n
            }
        };
        if done || rows == ROWS_PER_CHUNK as u64 {
            return Extent {
                rows,
                body_len,
                last: done || peek_done(generator, events),
                all_kept: keep,
            };
        }
        if rows == 0 {
            body_len += header_row.len();
        }
        let row = generator.next_row();
        body_len += row.len();
        if keep {
            kept.extend_from_slice(row);
            if kept.len() > limit {
                keep = false;
                *kept = Vec::new();
            }
        }
        rows += 1;
    }
}

/// True when an event limit ends exactly at `events`.
fn peek_done(generator: &Generator, events: u64) -> bool {
    matches!(generator.plan.limit, Limit::Events(n) if events >= n)
}

/// Writes a chunk header line; returns its length.
fn put_header<W: Write>(out: &mut W, m: usize, b: usize) -> io::Result<u64> {
    let header = format!("chunked 1.0,{m},{b}\n");
    out.write_all(header.as_bytes())?;
    Ok(header.len() as u64)
}

/// The getinfo request: the command's arguments `args`, a dummy session
/// key.
fn getinfo(args: &[String]) -> Vec<u8> {
    let value = json!({
        "action": "getinfo",
        "preview": false,
        "streaming_command_will_restart": false,
        "searchinfo": {
            "args": args,
            "raw_args": args,
            "dispatch_dir": "",
            "sid": "gen",
            "app": "scriptblockhunt",
            "owner": "nobody",
            "username": "nobody",
            "session_key": "dummy-session-key-for-benchmarks",
            "splunkd_uri": "",
            "splunk_version": "offline",
            "search": "search%20%7C%20scriptblockhunt",
            "command": "scriptblockhunt",
            "maxresultrows": ROWS_PER_CHUNK,
            "earliest_time": "0",
            "latest_time": "0",
        }
    });
    serde_json::to_vec(&value).expect("JSON serialises")
}

/// SplitMix64: a small, fast generator, good enough for test data and
/// fully determined by its seed.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    /// A generator for item `index` of stream `domain` under `seed`.
    fn new(seed: u64, domain: u64, index: u64) -> Rng {
        let mut mixer = Rng(seed ^ domain.rotate_left(32));
        let a = mixer.next();
        Rng(a ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03))
    }

    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() as u128 * n as u128) >> 64) as u64
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    /// One element of `list`.
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len() as u64) as usize]
    }
}

/// Stream of event generators.
const EVENTS: u64 = 1;
/// Stream of group generators.
const GROUPS: u64 = 2;

/// Where the generator stands: next event and matching events so far.
#[derive(Clone, Copy, Debug)]
struct State {
    /// Index of the next event.
    event: u64,
    /// Matching events so far.
    matched: u64,
}

/// Makes rows one at a time into a reused buffer.
struct Generator<'p> {
    /// What to make.
    plan: &'p Plan,
    /// Number of group definitions: `plan.groups` minus the multivalue
    /// ones' second rows.
    definitions: u64,
    /// A definition whose host would make it two rows where one was left:
    /// it is made single-valued.
    forced_single: Option<u64>,
    /// Index of the next event.
    event: u64,
    /// Matching events so far.
    matched: u64,
    /// The values of one event, by field position; empty = null.
    values: Vec<Vec<Vec<u8>>>,
    /// One CSV row.
    row: Vec<u8>,
    /// Positions of the fields in the stream's columns.
    at: Positions,
}

/// Column positions of the fields the generator fills.
#[derive(Clone, Copy, Debug)]
struct Positions {
    /// ScriptBlockText.
    text: usize,
    /// dest.
    dest: usize,
    /// signature.
    signature: usize,
    /// signature_id.
    signature_id: usize,
    /// user_id.
    user_id: usize,
    /// vendor_product.
    vendor_product: usize,
    /// EventID.
    event_id: usize,
    /// Guid.
    guid: usize,
    /// Opcode.
    opcode: usize,
    /// Name.
    name: usize,
    /// Path.
    path: usize,
    /// ProcessID.
    process_id: usize,
    /// ScriptBlockId.
    block_id: usize,
    /// _time.
    time: usize,
}

impl Positions {
    /// Positions of the fields in `names`.
    fn new(names: &[String]) -> Positions {
        let at = |name: &str| {
            names
                .iter()
                .position(|n| n == name)
                .expect("the default layout has every 4104 field")
        };
        Positions {
            text: at("ScriptBlockText"),
            dest: at("dest"),
            signature: at("signature"),
            signature_id: at("signature_id"),
            user_id: at("user_id"),
            vendor_product: at("vendor_product"),
            event_id: at("EventID"),
            guid: at("Guid"),
            opcode: at("Opcode"),
            name: at("Name"),
            path: at("Path"),
            process_id: at("ProcessID"),
            block_id: at("ScriptBlockId"),
            time: at("_time"),
        }
    }
}

/// The fixed part of an event: everything but `_time` (and, for events
/// outside any group, everything but `_time` is random too).
struct Origin {
    /// Host number.
    host: u64,
    /// From PowerShell 7.
    pwsh7: bool,
    /// Carries a Path.
    path: bool,
}

impl<'p> Generator<'p> {
    /// A generator for `plan` over the stream's columns `names`.
    fn new(plan: &'p Plan, names: &[String]) -> Generator<'p> {
        let mut generator = Generator {
            plan,
            definitions: 0,
            forced_single: None,
            event: 0,
            matched: 0,
            values: vec![Vec::new(); names.len()],
            row: Vec::new(),
            at: Positions::new(names),
        };
        let mut rows = 0;
        while rows < plan.groups {
            let g = generator.definitions;
            let two = is_multivalue_host(generator.group(g).1.host);
            if two && rows + 2 > plan.groups {
                generator.forced_single = Some(g);
                rows += 1;
            } else {
                rows += if two { 2 } else { 1 };
            }
            generator.definitions += 1;
        }
        generator
    }

    /// Where the generator stands.
    fn state(&self) -> State {
        State {
            event: self.event,
            matched: self.matched,
        }
    }

    /// Goes back to `state`.
    fn restore(&mut self, state: State) {
        self.event = state.event;
        self.matched = state.matched;
    }

    /// The generator of group `g`'s fields, and its host, channel and
    /// Path presence. Group 0 has a Path and comes from Windows
    /// PowerShell, so fillnull always keeps rows.
    fn group(&self, g: u64) -> (Rng, Origin) {
        let mut rng = Rng::new(self.plan.seed, GROUPS, g);
        let mut origin = draw_origin(&mut rng);
        if g == 0 {
            origin.path = true;
            origin.pwsh7 = false;
        }
        (rng, origin)
    }

    /// The next event as one CSV row.
    fn next_row(&mut self) -> &[u8] {
        let index = self.event;
        self.event += 1;
        let mut rng = Rng::new(self.plan.seed, EVENTS, index);
        let micros = rng.below(TIME_SPAN_MICROS);
        let matches = rng.chance(self.plan.match_share);
        for values in &mut self.values {
            values.clear();
        }

        if matches {
            let k = self.matched;
            self.matched += 1;
            let g = if k < self.definitions {
                k
            } else {
                rng.below(self.definitions)
            };
            let (mut group_rng, origin) = self.group(g);
            let single = self.forced_single == Some(g);
            self.fill(&mut group_rng, &origin, true, single, g | 1 << 63);
        } else {
            let origin = draw_origin(&mut rng);
            self.fill(&mut rng, &origin, false, false, index);
        }

        let time = format!(
            "{}.{:06}",
            TIME_BASE + micros / 1_000_000,
            micros % 1_000_000
        );
        self.values[self.at.time].push(time.into_bytes());
        self.render();
        &self.row
    }

    /// Fills every field but `_time` from `rng`.
    fn fill(
        &mut self,
        rng: &mut Rng,
        origin: &Origin,
        matching: bool,
        single: bool,
        id: u64,
    ) {
        let at = self.at;
        let set = |values: &mut Vec<Vec<Vec<u8>>>, slot: usize, v: &[u8]| {
            values[slot].push(v.to_vec())
        };
        if !origin.pwsh7 {
            let prefix =
                ["ws", "srv", "dc", "sql", "web"][(origin.host % 5) as usize];
            let dest = format!("{prefix}-{:04}.corp.example.com", origin.host);
            set(&mut self.values, at.dest, dest.as_bytes());
            set(
                &mut self.values,
                at.signature,
                b"Microsoft-Windows-PowerShell Execute a Remote Command",
            );
        }
        set(&mut self.values, at.signature_id, b"4104");
        set(&mut self.values, at.event_id, b"4104");
        set(&mut self.values, at.vendor_product, b"Microsoft Windows");
        let (name, guid): (&[u8], &[u8]) = if origin.pwsh7 {
            (b"PowerShellCore", b"{f90714a8-5509-434a-bf6d-b1624c8a19a2}")
        } else {
            (
                b"Microsoft-Windows-PowerShell",
                b"{a0c1853b-5c40-4b15-8766-3cf1c58f985a}",
            )
        };
        set(&mut self.values, at.name, name);
        set(&mut self.values, at.guid, guid);
        set(&mut self.values, at.opcode, b"15");
        if is_multivalue_host(origin.host) && !single {
            set(&mut self.values, at.opcode, b"On create calls");
        }

        let user = match rng.below(10) {
            0..=2 => "S-1-5-18".to_string(),
            3 => format!("CORP\\svc_{}", rng.pick(&SERVICES)),
            _ => format!(
                "S-1-5-21-3623811015-3361044348-30300820-{}",
                1000 + rng.below(400)
            ),
        };
        set(&mut self.values, at.user_id, user.as_bytes());
        let pid = (4 * (100 + rng.below(16_000))).to_string();
        set(&mut self.values, at.process_id, pid.as_bytes());
        let block_id = guid_text(rng.next(), id);
        set(&mut self.values, at.block_id, block_id.as_bytes());

        let eol: &[u8] = if origin.path { b"\r\n" } else { b"\n" };
        if origin.path {
            let path = format!(
                "C:\\Users\\{}\\Documents\\{} {}.ps1",
                rng.pick(&USERS),
                rng.pick(&SCRIPT_NAMES),
                rng.below(100)
            );
            set(&mut self.values, at.path, path.as_bytes());
        }
        let mut text = Vec::new();
        script_text(rng, self.plan, matching, eol, &mut text);
        self.values[at.text].push(text);
    }

    /// Renders `self.values` as a CSV row in `self.row`.
    fn render(&mut self) {
        let mut cells: Vec<Vec<u8>> =
            Vec::with_capacity(2 * self.values.len());
        for values in &self.values {
            cells.push(values.join(&b'\n'));
        }
        for values in &self.values {
            cells.push(if values.len() > 1 {
                multivalue(values)
            } else {
                Vec::new()
            });
        }
        let cells: Vec<&[u8]> = cells.iter().map(Vec::as_slice).collect();
        self.row.clear();
        line(&cells, &mut self.row);
    }
}

/// Host, channel and Path presence drawn from `rng`.
fn draw_origin(rng: &mut Rng) -> Origin {
    Origin {
        host: rng.below(HOSTS),
        pwsh7: rng.chance(PWSH7_SHARE),
        path: rng.chance(PATH_SHARE),
    }
}

/// True for the hosts whose events carry RenderingInfo.
fn is_multivalue_host(host: u64) -> bool {
    (host as f64) < HOSTS as f64 * MULTIVALUE_HOST_SHARE
}

/// A GUID-shaped id: random bits, with the low 48 bits of `id` spread
/// over the last 48 bits by an invertible map and the next 14 in the
/// fourth group (so distinct ids below 2^62 give distinct GUIDs).
fn guid_text(random: u64, id: u64) -> String {
    let tail = (id.wrapping_mul(0x9E37_79B9_7F4B) ^ 0x5DEE_CE66_D2B1)
        & 0xFFFF_FFFF_FFFF;
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        random >> 32,
        (random >> 16) & 0xFFFF,
        random & 0xFFF,
        0x8000 | ((id >> 48) & 0x3FFF),
        tail
    )
}

/// Writes a script block text into `text`: lines up to a log-uniform
/// length, a matching line at a random line boundary when `matching`.
fn script_text(
    rng: &mut Rng,
    plan: &Plan,
    matching: bool,
    eol: &[u8],
    text: &mut Vec<u8>,
) {
    let (low, high) = (plan.text_min as f64, plan.text_max as f64);
    let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    let target = (low.ln() + u * (high.ln() - low.ln())).exp() as usize;
    let hit = rng.pick(&MATCHING_LINES).as_bytes();
    let target = if matching {
        target.saturating_sub(hit.len()).max(1)
    } else {
        target.max(1)
    };

    let mut boundaries = vec![0];
    while text.len() < target {
        text.extend_from_slice(rng.pick(&LINES).as_bytes());
        text.extend_from_slice(eol);
        boundaries.push(text.len());
    }
    text.truncate(target);
    while std::str::from_utf8(text).is_err() {
        text.pop();
    }
    if matching {
        boundaries.retain(|&b| b <= text.len());
        let at = boundaries[rng.below(boundaries.len() as u64) as usize];
        let mut line = hit.to_vec();
        line.extend_from_slice(eol);
        text.splice(at..at, line);
    }
    if text.is_empty() {
        text.extend_from_slice(b"{$true}");
    }
}

/// Lines that match `*Get-NetTcpconnection*`, in the letter cases people
/// type.
const MATCHING_LINES: [&str; 5] = [
    "Get-NetTCPConnection -State Listen | Select-Object LocalPort",
    "$c = get-nettcpconnection | ? { $_.RemotePort -eq 443 }",
    "GET-NETTCPCONNECTION -OwningProcess $PID",
    "Get-NetTcpconnection | Format-Table -AutoSize",
    "foreach ($x in (Get-NetTCPConnection)) { \"$($x.RemoteAddress),\" }",
];

/// Ordinary PowerShell lines, none of which matches the default hunt or
/// any hunt of the catalog (tested), so that `hunts=all` over a generated
/// stream finds the matching events and nothing else; several are near
/// misses for the matcher.
const LINES: [&str; 32] = [
    "$ErrorActionPreference = 'Stop'",
    "Get-NetTCPSetting -SettingName Internet",
    "Get-NetAdapter | Select-Object Name, Status, LinkSpeed",
    "Get-NetIPAddress -AddressFamily IPv4 | ? { $_.PrefixOrigin -ne 'WellKnown' }",
    "Get-NetIPConfiguration -Detailed",
    "# Get-NetTcp connection check disabled",
    "Get-NetFirewallRule -Enabled True | Measure-Object",
    "$procs = Get-Process | Where-Object { $_.CPU -gt 100 } | Sort-Object CPU",
    "Write-Host \"Processing $($item.Name), please wait\"",
    "Write-Output 'He said \"hello\", then left'",
    "$csv = Import-Csv -Path \"C:\\data\\report,2023.csv\" -Delimiter ','",
    "# Prüfung der Größe: übermäßig lange Zeilen kürzen",
    "# 检查网络连接状态",
    "# проверка сетевых подключений",
    "$h = @{ Name = 'svc'; Port = 8080; Tags = @('a', 'b', 'c') }",
    "if ($env:COMPUTERNAME -like 'WS-*') { return $false }",
    "function Test-Port { param([string]$Computer, [int]$Port) }",
    "Invoke-WebRequest -Uri 'https://example.com/api?x=1&y=2' -UseBasicParsing",
    "$bytes = [System.Text.Encoding]::UTF8.GetBytes($payload)",
    "[Convert]::ToBase64String($bytes) | Out-File -Encoding ascii $out",
    "Set-StrictMode -Version Latest",
    "try { Get-Service -Name 'Spooler' } catch { Write-Warning $_ }",
    "$list = New-Object System.Collections.Generic.List[string]",
    "$list.Add(\"item, with comma\") | Out-Null",
    "Get-ChildItem -Path $env:TEMP -Filter *.log -Recurse | Remove-Item",
    "Get-WinEvent -LogName 'Microsoft-Windows-PowerShell/Operational' -Max 10",
    "Resolve-DnsName -Name 'dc01.corp.example.com' -Type A",
    "Test-NetConnection -ComputerName 'srv-0001' -Port 445",
    "$s = \"${env:USERNAME}@${env:USERDOMAIN}\"; $s.ToLower()",
    "}",
    "{",
    "    return $result",
];

/// User names in script paths.
const USERS: [&str; 6] = [
    "alice",
    "bob",
    "Administrator",
    "svc_backup",
    "jürgen",
    "mário",
];

/// Script file names.
const SCRIPT_NAMES: [&str; 5] = [
    "inventory",
    "deploy",
    "backup, nightly",
    "check \"net\"",
    "audit",
];

/// Service account names.
const SERVICES: [&str; 4] = ["backup", "sql", "monitor", "deploy"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::ChunkReader;
    use crate::stream;

    fn plan(limit: Limit) -> Plan {
        Plan {
            limit,
            match_share: 0.3,
            groups: 7,
            seed: 42,
            text_min: 10,
            text_max: 3000,
            args: Vec::new(),
        }
    }

    fn generate(plan: &Plan) -> (Vec<u8>, Summary) {
        let mut out = Vec::new();
        let summary = write(plan, &mut out).unwrap();
        (out, summary)
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, _) = generate(&plan(Limit::Events(500)));
        let (b, _) = generate(&plan(Limit::Events(500)));
        assert_eq!(a, b);
        let mut other = plan(Limit::Events(500));
        other.seed = 43;
        assert_ne!(generate(&other).0, a);
    }

    #[test]
    fn chunks_of_50000_rows_and_exact_lengths() {
        let mut p = plan(Limit::Events(120_001));
        p.text_max = 40;
        let (bytes, summary) = generate(&p);
        assert_eq!(summary.bytes, bytes.len() as u64);
        let mut reader = ChunkReader::new(&bytes[..]);
        let mut rows = Vec::new();
        let mut finished = Vec::new();
        reader.read_chunk().unwrap().unwrap();
        while let Some(chunk) = reader.read_chunk().unwrap() {
            let all = crate::records::all_rows(chunk.body).unwrap();
            rows.push(all.len() - 1);
            finished.push(chunk.metadata.ends_with(b"true}"));
        }
        assert_eq!(rows, vec![50_000, 50_000, 20_001]);
        assert_eq!(finished, vec![false, false, true]);
        assert_eq!(summary.events, 120_001);
        assert_eq!(summary.chunks, 4);
    }

    #[test]
    fn size_limit_stops_at_the_first_chunk_end_past_it() {
        let (bytes, summary) = generate(&plan(Limit::Bytes(300_000)));
        assert!(bytes.len() >= 300_000, "{}", bytes.len());
        assert!(bytes.len() < 300_000 + 4_000, "{}", bytes.len());
        assert_eq!(summary.chunks, 2);
    }

    #[test]
    fn large_bodies_are_generated_twice_identically() {
        // With nothing kept from the first pass, every chunk is generated
        // again for writing: the bytes must be the same.
        let p = plan(Limit::Events(1200));
        let mut kept = Vec::new();
        let mut regenerated = Vec::new();
        let a = write_keeping(&p, &mut kept, KEEP_BODY_BYTES).unwrap();
        let b = write_keeping(&p, &mut regenerated, 0).unwrap();
        assert_eq!(kept, regenerated);
        assert_eq!(a, b);
    }

    #[test]
    fn replay_gives_exactly_the_groups_with_their_counts() {
        let (bytes, summary) = generate(&plan(Limit::Events(3000)));
        let replayed = stream::replay(&bytes[..], None).unwrap();
        replayed.result.unwrap();
        let rows = crate::records::all_rows(&replayed.body).unwrap();
        assert_eq!(rows.len() - 1, 7, "header plus one row per group");
        let count_col = rows[0].iter().position(|c| c == b"count").unwrap();
        let number = |r: &Vec<Vec<u8>>| -> u64 {
            std::str::from_utf8(&r[count_col]).unwrap().parse().unwrap()
        };
        let total: u64 = rows[1..].iter().map(number).sum();
        // A multivalue Opcode puts one event in two rows.
        let opcode = rows[0].iter().position(|c| c == b"Opcode").unwrap();
        let second: u64 = rows[1..]
            .iter()
            .filter(|r| r[opcode] == b"On create calls")
            .map(number)
            .sum();
        assert_eq!(total - second, summary.matched);
        assert!(summary.matched > 800 && summary.matched < 1000);
    }

    #[test]
    fn texts_are_varied_and_only_matching_ones_match() {
        let p = Plan {
            text_min: 30,
            text_max: 20_000,
            ..plan(Limit::Events(2000))
        };
        let (bytes, _) = generate(&p);
        let mut reader = ChunkReader::new(&bytes[..]);
        reader.read_chunk().unwrap().unwrap();
        let chunk = reader.read_chunk().unwrap().unwrap();
        let rows = crate::records::all_rows(chunk.body).unwrap();
        let texts: Vec<&Vec<u8>> = rows[1..].iter().map(|r| &r[0]).collect();
        let longest = texts.iter().map(|t| t.len()).max().unwrap();
        let shortest = texts.iter().map(|t| t.len()).min().unwrap();
        assert!(longest > 15_000 && longest <= 20_100, "{longest}");
        assert!(shortest < 60, "{shortest}");
        let pattern = crate::pattern::Pattern::new("*Get-NetTcpconnection*");
        let matching = texts.iter().filter(|t| pattern.is_match(t)).count();
        assert!(matching > 500 && matching < 700, "{matching}");
        let all: Vec<u8> =
            texts.iter().flat_map(|t| t.iter().copied()).collect();
        for needle in [&b"\""[..], b",", b"\r\n", b"$", "ü".as_bytes()] {
            assert!(
                memchr::memmem::find(&all, needle).is_some(),
                "{needle:?}"
            );
        }
        let path = rows[0].iter().position(|c| c == b"Path").unwrap();
        let paths = rows[1..].iter().filter(|r| !r[path].is_empty()).count();
        // 15% of the 1,400 others, plus the groups with a Path (group 0
        // and some of the 6 others) among the 600 matching events.
        assert!(paths > 200 && paths < 500, "{paths}");
    }

    #[test]
    fn ordinary_lines_match_no_catalog_hunt() {
        let catalog = crate::catalog::Catalog::builtin().unwrap();
        let hunts = catalog.select("all").unwrap();
        let conditions: Vec<_> = hunts.iter().map(|h| &h.condition).collect();
        let mut matcher = crate::matcher::Matcher::new(&conditions).unwrap();
        let mut texts: Vec<String> =
            LINES.iter().map(|l| l.to_string()).collect();
        texts.push(LINES.join("\r\n"));
        let mut out = Vec::new();
        for text in &texts {
            let whole = 0..text.len();
            let values = std::slice::from_ref(&whole);
            matcher.decide(text.as_bytes(), values, &mut out);
            let names: Vec<&str> =
                out.iter().map(|&h| hunts[h].name.as_str()).collect();
            assert!(names.is_empty(), "{text:?} matches {names:?}");
        }
    }

    #[test]
    fn arguments_go_into_the_getinfo_request() {
        let argv: Vec<String> = ["--events", "400", "hunts=all"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (p, _) = parse(&argv).unwrap();
        assert_eq!(p.args, vec!["hunts=all".to_string()]);
        let (bytes, _) = generate(&p);
        let replayed = stream::replay(&bytes[..], None).unwrap();
        replayed.result.unwrap();
        let rows = crate::records::all_rows(&replayed.body).unwrap();
        assert_eq!(rows[0][0], b"hunt");
        let bad: Vec<String> = vec!["hunts=nosuchhunt".to_string()];
        assert!(parse(&bad).is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(size("1G"), Some(1_000_000_000));
        assert_eq!(size("64Ki"), Some(65_536));
        assert_eq!(size("12"), Some(12));
        assert_eq!(size("x"), None);
    }
}
