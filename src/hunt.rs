//! The whole hunting search offline, over Windows event files.
//!
//! Reads XmlWinEventLog text, applies the base search (`EventCode=4104`
//! and a PowerShell source, as the ESCU `powershell` macro), runs the same
//! [`Search`] the Splunk command runs, and renders `firstTime`/`lastTime`
//! as `security_content_ctime` does.

use crate::error::{Error, ErrorKind, Result};
use crate::input;
use crate::options::Options;
use crate::search::{columns, Counters, Rejected, Search};
use crate::stats::Outcome;
use crate::time;
use crate::winevent::{extract, split_events, WinEvent};

/// What one offline run read and found.
#[derive(Debug, Default)]
pub struct Report {
    /// Input files read.
    pub files: u64,
    /// Events read from them.
    pub events: u64,
    /// Events that passed the base search.
    pub script_blocks: u64,
    /// The search's counts (its `events` equals `script_blocks`).
    pub counters: Counters,
    /// The result rows and what stats dropped.
    pub outcome: Outcome,
}

/// Reads every event of the files at `paths`.
pub fn read_events(paths: &[String]) -> Result<(Vec<WinEvent>, u64)> {
    let mut events = Vec::new();
    for path in paths {
        let bytes = input::read_all(path)?;
        events.extend(split_events(&bytes).into_iter().map(extract));
    }
    Ok((events, paths.len() as u64))
}

/// The events the base search keeps.
pub fn script_blocks(events: Vec<WinEvent>) -> Vec<WinEvent> {
    events
        .into_iter()
        .filter(WinEvent::is_script_block)
        .collect()
}

/// Runs the hunt over the files at `paths`.
pub fn run(paths: &[String], options: &Options) -> Result<Report> {
    let (events, files) = read_events(paths)?;
    let mut report = Report {
        files,
        events: events.len() as u64,
        ..Report::default()
    };
    let kept = script_blocks(events);
    report.script_blocks = kept.len() as u64;

    let mut search = Search::new(options);
    let names = search.layout().names.clone();
    for (i, event) in kept.iter().enumerate() {
        // Extracted events hold split values only, never `__mv_` cells, so
        // no decoding error can occur here; a stats limit can.
        if let Err(Rejected::Limit(limit)) = search.offer(&event.slots(&names))
        {
            return Err(Error::new(ErrorKind::Limit {
                chunk: 0,
                record: i as u64 + 1,
                limit,
            }));
        }
    }
    let (outcome, counters) = search.finish();
    report.counters = counters;
    report.outcome = outcome;
    Ok(report)
}

/// The result table with times rendered in `tz`: column names and rows.
pub fn rendered(
    report: &Report,
    options: &Options,
    tz: &jiff::tz::TimeZone,
) -> (Vec<String>, Vec<Vec<Vec<u8>>>) {
    let rows = report
        .outcome
        .rows
        .iter()
        .map(|row| {
            let mut cells: Vec<Vec<u8>> =
                row.values.iter().map(|v| v.to_vec()).collect();
            cells.push(row.count.to_string().into_bytes());
            cells.push(time::ctime(&row.first, tz));
            cells.push(time::ctime(&row.last, tz));
            cells
        })
        .collect();
    (columns(&options.by), rows)
}

/// The one-paragraph summary printed on stderr after a run.
pub fn summary(report: &Report) -> String {
    let mut text = format!(
        "read {} file(s), {} event(s); {} passed EventCode=4104 and the \
         PowerShell source filter; {} matched; {} row(s)",
        report.files,
        report.events,
        report.script_blocks,
        report.counters.matched,
        report.outcome.rows.len()
    );
    if !report.outcome.absent.is_empty() && report.counters.matched > 0 {
        text.push('\n');
        text.push_str(&crate::session::absent_message(
            &report.outcome.absent,
            report.counters.matched,
        ));
    }
    text
}
