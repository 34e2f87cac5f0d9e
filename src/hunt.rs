//! The whole hunting search offline, over Windows event files of any
//! format [`crate::sources`] reads.
//!
//! Every event goes through the base search (`EventCode=4104` and a
//! PowerShell source, as the ESCU `powershell` macro), then the same
//! [`Search`] the Splunk command runs; `firstTime`/`lastTime` are rendered
//! as `security_content_ctime` does.
//!
//! Events stream: each is extracted, offered and dropped, so memory holds
//! the groups, not the events. Files are read in parallel, one search per
//! thread; the searches are absorbed into one at the end, which gives the
//! rows one search over every event gives (groups merge exactly, and rows
//! are sorted after the merge). The counts of the summary add up the same
//! way.

use std::borrow::Cow;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};
use jiff::tz::TimeZone;

use crate::error::{Error, Result};
use crate::options::Options;
use crate::reassembly::{Counts, Joiner};
use crate::results::Results;
use crate::search::{Counters, Rejected, Search};
use crate::sources::{self, Format, Input, Place, Sink};
use crate::time;
use crate::winevent::WinEvent;

/// Input of this many bytes or more gets a progress bar (when stderr is a
/// terminal).
pub const LARGE_INPUT: u64 = 64 << 20;

/// How one run is carried out (not what it searches: that is [`Options`]).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Zone of times written without one (NXLog's `EventTime`, CSV).
    pub tz: TimeZone,
    /// Threads reading files; 0 means one per core.
    pub threads: usize,
    /// Remember the matching events with null BY fields, for `--explain`.
    pub explain: bool,
    /// Show a progress bar on stderr if it is a terminal and the input is
    /// large.
    pub progress: bool,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            tz: TimeZone::UTC,
            threads: 0,
            explain: false,
            progress: false,
        }
    }
}

/// A matching event that had no value for some BY fields: kept for
/// `--explain` only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suspect {
    /// Index of its file in [`Report::inputs`].
    pub file: usize,
    /// Where it is in the file.
    pub place: Place,
    /// Its `EventRecordID`, when it has one.
    pub record: Option<String>,
    /// The BY fields (indexes into `Options::by`) it had no value for.
    pub nulls: Vec<usize>,
}

/// What one offline run read and found.
#[derive(Debug, Default)]
pub struct Report {
    /// The inputs, in the order given and walked.
    pub inputs: Vec<Input>,
    /// Input files read, by format, in [`Format::ALL`] order.
    pub formats: Vec<(Format, u64)>,
    /// Files of no known format, skipped.
    pub unknown: u64,
    /// Files or operands that could not be opened or read: errors.
    pub unreadable: u64,
    /// Events read.
    pub events: u64,
    /// Damaged records (and damaged files) skipped.
    pub skipped: u64,
    /// Events that passed the base search.
    pub script_blocks: u64,
    /// The search's counts (its `events` equals `script_blocks`).
    pub counters: Counters,
    /// Each hunt's rows and what stats dropped.
    pub results: Results,
    /// The BY fields of the search (the union over its hunts), which
    /// [`Suspect::nulls`] index.
    pub by: Vec<String>,
    /// What reassembly saw, with `--reassemble`.
    pub reassembly: Option<Counts>,
    /// Matching events with null BY fields (with `--explain` only), in
    /// file order.
    pub suspects: Vec<Suspect>,
}

impl Report {
    /// The BY fields that no matching event had, over every hunt.
    pub fn absent(&self) -> Vec<String> {
        let lists = self.results.hunts.iter().map(|h| &h.outcome.absent[..]);
        crate::results::union_by(lists)
    }

    /// Input files read.
    pub fn files(&self) -> u64 {
        self.formats.iter().map(|(_, n)| n).sum()
    }

    /// Matching events that stats dropped: all of them when a BY field is
    /// absent from every matching event, none otherwise (fillnull fills
    /// the rest).
    pub fn dropped(&self) -> u64 {
        self.results
            .hunts
            .iter()
            .filter(|h| !h.outcome.absent.is_empty())
            .map(|h| h.matched)
            .sum()
    }
}

/// The counts one thread gathers.
#[derive(Debug, Default)]
struct Tally {
    /// Files read, by format.
    formats: Vec<(Format, u64)>,
    /// See [`Report::unknown`].
    unknown: u64,
    /// See [`Report::unreadable`].
    unreadable: u64,
    /// See [`Report::events`].
    events: u64,
    /// See [`Report::skipped`].
    skipped: u64,
    /// See [`Report::script_blocks`].
    script_blocks: u64,
    /// See [`Report::suspects`].
    suspects: Vec<Suspect>,
}

impl Tally {
    /// Counts one file of `format`.
    fn count_format(&mut self, format: Format) {
        match self.formats.iter_mut().find(|(f, _)| *f == format) {
            Some((_, n)) => *n += 1,
            None => self.formats.push((format, 1)),
        }
    }

    /// Adds another thread's counts.
    fn add(&mut self, other: Tally) {
        for (format, n) in other.formats {
            for _ in 0..n {
                self.count_format(format);
            }
        }
        self.unknown += other.unknown;
        self.unreadable += other.unreadable;
        self.events += other.events;
        self.skipped += other.skipped;
        self.script_blocks += other.script_blocks;
        self.suspects.extend(other.suspects);
    }
}

/// One thread's reading: the sink every reader feeds.
struct Worker {
    /// The search of this thread.
    search: Search,
    /// Reassembly in front of it, with `--reassemble`.
    joiner: Option<Joiner>,
    /// The fields the search needs, by slot.
    names: Vec<String>,
    /// The BY fields (the union over the search's hunts).
    by: Vec<String>,
    /// Counts.
    tally: Tally,
    /// Index of the file being read.
    file: usize,
    /// Its name, for messages.
    file_name: String,
    /// Whether to keep suspects.
    explain: bool,
    /// The progress bar, suspended while a message is printed.
    bar: ProgressBar,
    /// The stats limit this thread's search reached, with the file and the
    /// place; the thread reads nothing more once it is set.
    limit: Option<Error>,
}

impl Sink for Worker {
    fn event(&mut self, event: WinEvent, place: Place) {
        if self.limit.is_some() {
            return;
        }
        self.tally.events += 1;
        if !event.is_script_block() {
            return;
        }
        self.tally.script_blocks += 1;
        // Extracted events hold split values only, never `__mv_` cells, so
        // no decoding error can occur here; a stats limit can.
        let slots = event.slots(&self.names);
        let before = self.search.counters().matched;
        let offered = match &mut self.joiner {
            Some(joiner) => joiner.offer(&mut self.search, &slots),
            None => self.search.offer(&slots).map(|_| ()),
        };
        if let Err(Rejected::Limit(limit)) = offered {
            let reason = format!("{place}: {limit}");
            self.limit = Some(Error::input(&self.file_name, reason));
            return;
        }
        let matched = self.search.counters().matched > before;
        if !matched || !self.explain {
            return;
        }
        let nulls: Vec<usize> = self
            .by
            .iter()
            .enumerate()
            .filter(|(_, name)| event.get(name).is_none_or(<[_]>::is_empty))
            .map(|(i, _)| i)
            .collect();
        if !nulls.is_empty() {
            self.tally.suspects.push(Suspect {
                file: self.file,
                place,
                record: event
                    .first("EventRecordID")
                    .map(|r| String::from_utf8_lossy(r).into_owned()),
                nulls,
            });
        }
    }

    fn skip(&mut self, place: Place, reason: &str) {
        self.tally.skipped += 1;
        let name = &self.file_name;
        self.bar.suspend(|| {
            eprintln!("scriptblockhunt: {name}: {place}: {reason}; skipped")
        });
    }
}

impl Worker {
    /// A worker running `search`.
    fn new(
        mut search: Search,
        options: &Options,
        settings: &Settings,
        bar: &ProgressBar,
    ) -> Self {
        let joiner = options
            .reassemble
            .then(|| Joiner::new(&mut search, options.reassembly_limit));
        let names = search.layout().names.clone();
        let by = search.by_names();
        Worker {
            search,
            joiner,
            names,
            by,
            tally: Tally::default(),
            file: 0,
            file_name: String::new(),
            explain: settings.explain,
            bar: bar.clone(),
            limit: None,
        }
    }

    /// Reads the input with index `file`.
    fn read(&mut self, file: usize, input: &Input, tz: &TimeZone) {
        self.file = file;
        self.file_name = input.name.clone();
        let bar = self.bar.clone();
        match sources::read(input, tz, &bar, self) {
            Ok(Some(format)) => self.tally.count_format(format),
            Ok(None) => {
                self.tally.unknown += 1;
                bar.suspend(|| {
                    eprintln!(
                        "scriptblockhunt: {}: not EVTX, XmlWinEventLog, \
                         JSON lines or a Splunk CSV export; skipped",
                        input.name
                    )
                });
            }
            Err(e) => {
                self.tally.unreadable += 1;
                bar.suspend(|| {
                    eprintln!(
                        "scriptblockhunt: {}: cannot read: {e}",
                        input.name
                    )
                });
            }
        }
    }
}

/// Runs the hunt over the files the operands name.
pub fn run(
    operands: &[String],
    options: &Options,
    settings: &Settings,
) -> Result<Report> {
    let (inputs, errors) = sources::expand(operands);
    for error in &errors {
        eprintln!("scriptblockhunt: {error}");
    }
    if inputs.is_empty() && !errors.is_empty() {
        return Err(Error::usage("no FILE could be opened"));
    }
    if inputs.iter().filter(|i| i.name == "-").count() > 1 {
        return Err(Error::usage("- (stdin) can be given only once"));
    }
    let bar = progress_bar(&inputs, settings.progress);
    // The pieces of one script block may sit in different files: with
    // reassembly one thread reads them all.
    let wanted = if options.reassemble {
        1
    } else {
        settings.threads
    };
    let threads = thread_count(wanted, inputs.len());
    log::debug!("reading {} input(s) with {threads} thread(s)", inputs.len());

    // Every thread's search is built here, so that a bad condition or
    // hunts file is an error before any reading starts.
    let mut searches = Vec::with_capacity(threads);
    for _ in 0..threads {
        searches.push(Search::new(options)?);
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, Worker)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for (t, search) in searches.into_iter().enumerate() {
            let (next, done, inputs, bar) = (&next, &done, &inputs, &bar);
            scope.spawn(move || {
                let mut worker = Worker::new(search, options, settings, bar);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(input) = inputs.get(i) else { break };
                    worker.read(i, input, &settings.tz);
                }
                done.lock().expect("no worker panicked").push((t, worker));
            });
        }
    });
    bar.finish_and_clear();

    let mut workers = done.into_inner().expect("no worker panicked");
    workers.sort_by_key(|(t, _)| *t);
    let mut search = Search::new(options)?;
    let by = search.by_names();
    let mut tally = Tally::default();
    let mut reassembly = None;
    for (_, mut worker) in workers {
        if let Some(error) = worker.limit {
            return Err(error);
        }
        if let Some(joiner) = &mut worker.joiner {
            // Joined events hold split values only: no decoding error; a
            // stats limit can stop the blocks still waiting.
            match joiner.finish(&mut worker.search) {
                Ok(counts) => reassembly = Some(counts),
                Err(Rejected::Limit(limit)) => {
                    return Err(Error::option(limit.to_string()))
                }
                Err(Rejected::BadField(_)) => reassembly = None,
            }
        }
        search
            .absorb(worker.search)
            .map_err(|limit| Error::option(limit.to_string()))?;
        tally.add(worker.tally);
    }
    let (results, counters) = search.finish();
    tally.suspects.sort_by_key(|s| (s.file, s.place));
    let mut formats = Vec::new();
    for format in Format::ALL {
        if let Some(&(_, n)) = tally.formats.iter().find(|(f, _)| *f == format)
        {
            formats.push((format, n));
        }
    }
    Ok(Report {
        inputs,
        formats,
        unknown: tally.unknown,
        unreadable: tally.unreadable + errors.len() as u64,
        events: tally.events,
        skipped: tally.skipped,
        script_blocks: tally.script_blocks,
        counters,
        results,
        by,
        reassembly,
        suspects: tally.suspects,
    })
}

/// The number of threads for `inputs` files: `wanted`, or one per core
/// when 0, never more than there are files, at least one.
fn thread_count(wanted: usize, inputs: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let wanted = if wanted == 0 { cores } else { wanted };
    wanted.min(inputs).max(1)
}

/// A progress bar over the input bytes when `wanted`, stderr is a terminal
/// and the input is at least [`LARGE_INPUT`]; a hidden one otherwise.
fn progress_bar(inputs: &[Input], wanted: bool) -> ProgressBar {
    let total: u64 = inputs.iter().map(|i| i.size).sum();
    if !shows_progress(wanted, std::io::stderr().is_terminal(), total) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} \
         ({bytes_per_sec}, {eta} left)",
    )
    .expect("progress template parses")
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Whether a run shows a progress bar.
pub fn shows_progress(wanted: bool, terminal: bool, bytes: u64) -> bool {
    wanted && terminal && bytes >= LARGE_INPUT
}

/// Reads every event of the inputs the operands name, in order, on one
/// thread (for `record`). Damaged records are reported and skipped;
/// an input that cannot be read is an error.
pub fn read_events(
    operands: &[String],
    tz: &TimeZone,
) -> Result<(Vec<WinEvent>, u64)> {
    /// Collects events.
    struct Collect(Vec<WinEvent>, String);
    impl Sink for Collect {
        fn event(&mut self, event: WinEvent, _: Place) {
            self.0.push(event);
        }
        fn skip(&mut self, place: Place, reason: &str) {
            eprintln!(
                "scriptblockhunt: {}: {place}: {reason}; skipped",
                self.1
            );
        }
    }

    let (inputs, errors) = sources::expand(operands);
    if let Some(error) = errors.first() {
        return Err(Error::usage(error.clone()));
    }
    let mut sink = Collect(Vec::new(), String::new());
    let bar = ProgressBar::hidden();
    for input in &inputs {
        sink.1 = input.name.clone();
        match sources::read(input, tz, &bar, &mut sink) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(Error::input(
                    &input.name,
                    "not EVTX, XmlWinEventLog, JSON lines or a Splunk CSV \
                     export",
                ))
            }
            Err(e) => {
                return Err(Error::input(
                    &input.name,
                    format!("cannot read: {e}"),
                ))
            }
        }
    }
    Ok((sink.0, inputs.len() as u64))
}

/// The events the base search keeps.
pub fn script_blocks(events: Vec<WinEvent>) -> Vec<WinEvent> {
    events
        .into_iter()
        .filter(WinEvent::is_script_block)
        .collect()
}

/// The result table with times rendered in `tz`: column names and rows.
pub fn rendered(
    report: &Report,
    tz: &TimeZone,
) -> (Vec<String>, Vec<Vec<Vec<u8>>>) {
    let results = &report.results;
    let rows = results
        .cells(|t| Cow::Owned(time::ctime(t, tz)))
        .into_iter()
        .map(|row| row.into_iter().map(Cow::into_owned).collect())
        .collect();
    (results.columns(), rows)
}

/// The summary printed on stderr after a run: one line of counts, then,
/// when there are no rows, one sentence that says why.
pub fn summary(report: &Report, options: &Options) -> String {
    let formats: Vec<String> = report
        .formats
        .iter()
        .map(|(f, n)| format!("{n} {}", f.name()))
        .collect();
    let mut read = format!("read {} file(s)", report.files());
    if !formats.is_empty() {
        read.push_str(&format!(" ({})", formats.join(", ")));
    }
    read.push_str(&format!(", {} event(s)", report.events));
    let mut skipped = Vec::new();
    if report.skipped > 0 {
        skipped.push(format!("{} skipped as damaged", report.skipped));
    }
    if report.unknown > 0 {
        skipped.push(format!(
            "{} file(s) of no known format skipped",
            report.unknown
        ));
    }
    if report.unreadable > 0 {
        skipped.push(format!("{} input(s) unreadable", report.unreadable));
    }
    if !skipped.is_empty() {
        read.push_str(&format!(" ({})", skipped.join(", ")));
    }
    let absent = &report.absent();
    let dropped = if report.dropped() == 0 {
        format!("{} dropped by stats", report.dropped())
    } else {
        format!(
            "{} dropped by stats for BY field(s) {}",
            report.dropped(),
            absent.join(", ")
        )
    };
    let mut text = format!(
        "{read}; {} passed EventCode=4104 and the PowerShell source \
         filter; {} matched; {dropped}; {} group(s) returned",
        report.script_blocks,
        report.counters.matched,
        report.results.rows()
    );
    if let Some(counts) = &report.reassembly {
        let (line, warnings) = crate::reassembly::report(counts);
        text.push_str(&format!("\n{line}"));
        for warning in warnings {
            text.push_str(&format!("\n{warning}"));
        }
    }
    if let Some(why) = why_no_rows(report, options) {
        text.push('\n');
        text.push_str(&why);
    }
    text
}

/// One sentence on why a run returned no rows; `None` when it returned
/// some.
pub fn why_no_rows(report: &Report, options: &Options) -> Option<String> {
    if report.results.rows() > 0 {
        return None;
    }
    if report.results.named {
        let warnings = report.results.warnings();
        if !warnings.is_empty() {
            return Some(warnings.join("\n"));
        }
    }
    let absent = &report.absent();
    let matched = report.counters.matched;
    if matched > 0 && !absent.is_empty() {
        let (noun, them) = if absent.len() == 1 {
            ("field", "it")
        } else {
            ("fields", "them")
        };
        let kept: Vec<&str> = options
            .by
            .iter()
            .filter(|b| !absent.contains(b))
            .map(String::as_str)
            .collect();
        let change = if kept.is_empty() {
            "name fields the events have with --by".to_string()
        } else {
            format!("leave {them} out with --by {}", kept.join(","))
        };
        return Some(format!(
            "{matched} event(s) matched, but no matching event has the BY \
             {noun} {}; fillnull does not create {them}, so stats returned \
             no rows ({change})",
            absent.join(", ")
        ));
    }
    if report.script_blocks > 0 {
        return Some(format!(
            "none of the {} event(s) that passed the filter has a {} \
             matching {} (change it with --pattern or --field)",
            report.script_blocks,
            options.field,
            wanted(options)
        ));
    }
    if report.events > 0 {
        return Some(format!(
            "none of the {} event(s) read has EventCode=4104 and source {}, \
             so none reached the match",
            report.events,
            crate::winevent::POWERSHELL_SOURCES.join(" or ")
        ));
    }
    Some("no events were read".to_string())
}

/// What the search looked for, in words: the condition, the hunts or the
/// patterns.
fn wanted(options: &Options) -> String {
    match (&options.condition, &options.hunts) {
        (Some(condition), _) => condition.clone(),
        (None, Some(hunts)) => format!("the hunts {hunts}"),
        (None, None) => options.patterns.join(" or "),
    }
}

/// The `--explain` lines: for each matching event that stats dropped, its
/// file, place, record id and the BY fields it had no value for.
pub fn explain(report: &Report) -> Vec<String> {
    let absent = &report.absent();
    let mut lines = Vec::new();
    for suspect in &report.suspects {
        let missing: Vec<&str> = suspect
            .nulls
            .iter()
            .map(|&i| report.by[i].as_str())
            .filter(|name| absent.iter().any(|a| a == name))
            .collect();
        if missing.is_empty() {
            continue;
        }
        let record = match &suspect.record {
            Some(id) => format!(" (EventRecordID {id})"),
            None => String::new(),
        };
        lines.push(format!(
            "dropped: {}: {}{record}: no {}",
            report.inputs[suspect.file].name,
            suspect.place,
            missing.join(", ")
        ));
    }
    if lines.is_empty() {
        lines.push("dropped: no matching event was dropped by stats".into());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Outcome;

    #[test]
    fn progress_only_on_a_terminal_for_large_input() {
        assert!(shows_progress(true, true, LARGE_INPUT));
        assert!(!shows_progress(true, true, LARGE_INPUT - 1));
        assert!(!shows_progress(true, false, LARGE_INPUT * 10));
        assert!(!shows_progress(false, true, LARGE_INPUT * 10));
    }

    #[test]
    fn threads_never_exceed_files() {
        assert_eq!(thread_count(4, 2), 2);
        assert_eq!(thread_count(1, 9), 1);
        assert_eq!(thread_count(3, 0), 1);
        assert!(thread_count(0, 1000) >= 1);
    }

    fn report(absent: &[&str], matched: u64, passed: u64) -> Report {
        Report {
            events: 10,
            script_blocks: passed,
            counters: Counters {
                events: passed,
                matched,
            },
            results: Results::single(
                Vec::new(),
                matched,
                Outcome {
                    absent: absent.iter().map(|s| s.to_string()).collect(),
                    ..Outcome::default()
                },
            ),
            ..Report::default()
        }
    }

    #[test]
    fn the_sentence_names_the_fields_and_the_option() {
        let options = Options::parse(&["by=dest,UserID,Path"]).unwrap();
        let r = report(&["UserID", "Path"], 3, 5);
        assert_eq!(
            why_no_rows(&r, &options).unwrap(),
            "3 event(s) matched, but no matching event has the BY fields \
             UserID, Path; fillnull does not create them, so stats returned \
             no rows (leave them out with --by dest)"
        );
        assert_eq!(
            why_no_rows(&report(&[], 0, 5), &options).unwrap(),
            "none of the 5 event(s) that passed the filter has a \
             ScriptBlockText matching *Get-NetTcpconnection* (change it \
             with --pattern or --field)"
        );
        assert!(why_no_rows(&report(&[], 0, 0), &options)
            .unwrap()
            .starts_with("none of the 10 event(s) read has EventCode=4104"));
    }
}
