//! The whole hunting search offline, over Windows event files.
//!
//! Reads XmlWinEventLog text, applies the base search (`EventCode=4104`
//! and a PowerShell source, as the ESCU `powershell` macro), runs the same
//! [`Search`] the Splunk command runs, and renders `firstTime`/`lastTime`
//! as `security_content_ctime` does.

use std::borrow::Cow;

use crate::error::Result;
use crate::input;
use crate::options::Options;
use crate::results::Results;
use crate::search::{Counters, Search};
use crate::time;
use crate::winevent::{extract, split_events, WinEvent};

/// What one offline run read and found.
#[derive(Debug)]
pub struct Report {
    /// Input files read.
    pub files: u64,
    /// Events read from them.
    pub events: u64,
    /// Events that passed the base search.
    pub script_blocks: u64,
    /// The search's counts (its `events` equals `script_blocks`).
    pub counters: Counters,
    /// Each hunt's rows and what stats dropped.
    pub results: Results,
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
    let mut search = Search::new(options)?;
    let (events, files) = read_events(paths)?;
    let read = events.len() as u64;
    let kept = script_blocks(events);

    let names = search.layout().names.clone();
    for event in &kept {
        // Extracted events hold split values only, never `__mv_` cells, so
        // no decoding error can occur here.
        let _ = search.offer(&event.slots(&names));
    }
    let (results, counters) = search.finish();
    Ok(Report {
        files,
        events: read,
        script_blocks: kept.len() as u64,
        counters,
        results,
    })
}

/// The result table with times rendered in `tz`: column names and rows.
pub fn rendered(
    report: &Report,
    tz: &jiff::tz::TimeZone,
) -> (Vec<String>, Vec<Vec<Vec<u8>>>) {
    let results = &report.results;
    let rows = results
        .cells(|t| Cow::Owned(time::ctime(t, tz)))
        .into_iter()
        .map(|row| row.into_iter().map(Cow::into_owned).collect())
        .collect();
    (results.columns(), rows)
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
        report.results.rows()
    );
    for warning in report.results.warnings() {
        text.push('\n');
        text.push_str(&warning);
    }
    text
}
