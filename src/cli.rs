//! The command line of the offline front ends: `hunt`, `record`, `replay`.
//!
//! With no arguments the program speaks the chunked protocol on stdin and
//! stdout, which is how splunkd runs it; see `session`.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use log::LevelFilter;

use crate::cluster;
use crate::error::{Error, Result};
use crate::hunt;
use crate::input;
use crate::options::Options;
use crate::output;
use crate::records;
use crate::search::Search;
use crate::stream;
use crate::time;

/// The usage text.
pub const HELP: &str = "\
scriptblockhunt: the ESCU hunt \"GetNetTcpconnection with PowerShell Script
Block\" as a Splunk custom search command, and offline.

USAGE
  scriptblockhunt                      speak Splunk's chunked protocol v2 on
                                       stdin/stdout (how splunkd runs it)
  scriptblockhunt hunt [OPTIONS] FILE...
                                       run the hunting search over event
                                       files: EVTX, XmlWinEventLog text,
                                       JSON lines (Winlogbeat, NXLog,
                                       OTRF), Splunk CSV exports; told by
                                       content; directories walked, '-' =
                                       stdin, gzip undone
  scriptblockhunt record [OPTIONS] FILE... > STREAM
                                       write the chunk stream Splunk would
                                       send the command for those events
  scriptblockhunt replay [--format F] STREAM [name=value ...]
                                       play a recorded stream through the
                                       command; name=value replaces the
                                       command's arguments
  scriptblockhunt replay --indexers K [--chunk-rows N] [--map-flush F]
                         [--measure] [--format F] STREAM [name=value ...]
                                       the same as distributed=true on K
                                       indexers: event n goes to indexer
                                       n mod K, each runs the map phase,
                                       the search head merges; --measure
                                       also runs one process and compares
  scriptblockhunt gen [--size N | --events N] [OPTIONS] > STREAM
                                       write a large synthetic stream of
                                       4104 events for benchmarks (see
                                       scriptblockhunt gen --help)

OPTIONS (the search command's options, same meaning)
  --pattern WILDCARD   match when any pattern matches (repeatable;
                       default *Get-NetTcpconnection*)
  --condition SPL      match when the SPL condition holds, e.g.
                       'ScriptBlockText=*a* ScriptBlockText=*b* OR
                       ScriptBlockText=*c*' (OR binds before AND)
  --hunts all|LIST     run catalog hunts in one pass: all, or names/ids
                       separated by commas; adds a first column hunt
  --hunts-file FILE    more hunts, in the format of hunts/escu-4104.tsv
  --field NAME         the field matched (default ScriptBlockText)
  --by F1,F2,...       the BY fields (default the 13 of the ESCU search)
  --value TEXT         the fillnull value (default 0)
  --tz ZONE            IANA zone for firstTime/lastTime, and of times
                       written without a zone (default: this machine's
                       zone, as Splunk uses the server's zone)
  --format F           table, csv or json (JSON lines); default: table on
                       a terminal (cut to its width), else CSV
  --reassemble         join script blocks split across several 4104
                       events (same ScriptBlockId and dest) before
                       matching; not Splunk's answer, which misses a name
                       cut between two pieces
  --reassembly-limit N bytes of pieces held at most (default 268435456)
  --max-groups N       most stats groups held before the search stops
                       with an error (default 1000000)

HUNT ONLY
  --explain            also list, on stderr, every matching event that
                       stats dropped: file, record, missing BY fields
  --threads N          files read in parallel (default: one per core);
                       the result does not depend on it

EXIT STATUS
  hunt: 0 with rows, 1 with no rows, 2 on errors (a bad option, a FILE
  that cannot be opened or read). Damaged records and files of no known
  format are reported, skipped and counted in the summary on stderr;
  they do not change the status.
  replay: 0 when the command ended normally, 1 when it replied with an
  error (or --measure found different results), 2 when the stream could
  not be read.
  protocol mode: 0 on a normal end (SIGTERM included), 1 on an error or a
  panic (sent to Splunk too).

ENVIRONMENT
  SCRIPTBLOCKHUNT_LOG  log level on stderr: error, warn, info, debug, trace
";

/// How result rows are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// An aligned table, for people.
    Table,
    /// CSV, for programs.
    Csv,
    /// JSON lines: one object a row, the columns in order.
    Json,
}

/// The parsed command line of an offline front end.
#[derive(Debug)]
struct Command {
    /// Search command arguments (`name=value`) built from the flags.
    args: Vec<String>,
    /// `--tz`; `None` is the machine's zone.
    tz: Option<String>,
    /// `--threads`; 0 is one per core.
    threads: usize,
    /// `--explain`.
    explain: bool,
    /// `--format`, if given.
    format: Option<Format>,
    /// Everything that is not a flag: files, or a stream then arguments.
    operands: Vec<String>,
}

/// Parses the flags shared by the offline front ends.
fn parse(argv: &[String]) -> Result<Command> {
    let mut command = Command {
        args: Vec::new(),
        tz: None,
        threads: 0,
        explain: false,
        format: None,
        operands: Vec::new(),
    };
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        if flag == "--explain" && inline.is_none() {
            command.explain = true;
            i += 1;
            continue;
        }
        if flag == "--reassemble" && inline.is_none() {
            command.args.push("reassemble=true".to_string());
            i += 1;
            continue;
        }
        let takes_value = matches!(
            flag,
            "--pattern"
                | "--condition"
                | "--hunts"
                | "--hunts-file"
                | "--field"
                | "--by"
                | "--value"
                | "--tz"
                | "--format"
                | "--threads"
                | "--reassembly-limit"
                | "--max-groups"
        );
        if !takes_value {
            if flag.starts_with("--") {
                return Err(Error::usage(format!(
                    "unknown flag {flag}; see scriptblockhunt --help"
                )));
            }
            command.operands.push(arg.clone());
            i += 1;
            continue;
        }
        let value = flag_value(argv, &mut i, flag, inline)?;
        match flag {
            "--tz" => command.tz = Some(value),
            "--threads" => {
                command.threads = value.parse().map_err(|_| {
                    Error::usage(format!(
                        "--threads {value}: expected a whole number"
                    ))
                })?
            }
            "--format" => {
                command.format = Some(match value.as_str() {
                    "table" => Format::Table,
                    "csv" => Format::Csv,
                    "json" => Format::Json,
                    other => {
                        return Err(Error::usage(format!(
                            "--format {other}: expected table, csv or json"
                        )))
                    }
                })
            }
            "--reassembly-limit" => {
                command.args.push(format!("reassembly_limit={value}"))
            }
            "--max-groups" => command.args.push(format!("max_groups={value}")),
            "--hunts-file" => command
                .args
                .push(format!("hunts_file={}", absolute(&value)?)),
            _ => command.args.push(format!("{}={value}", &flag[2..])),
        }
        i += 1;
    }
    Ok(command)
}

/// `path` made absolute against the working directory: on the command
/// line a relative path means what it means to every other program, not
/// the app's `local/` directory.
fn absolute(path: &str) -> Result<String> {
    let path = std::path::Path::new(path);
    if path.is_absolute() {
        return Ok(path.display().to_string());
    }
    let cwd = std::env::current_dir().map_err(|e| {
        Error::usage(format!("--hunts-file: no working directory: {e}"))
    })?;
    Ok(cwd.join(path).display().to_string())
}

/// The value of `flag`: the text after its `=` (`inline`), else the next
/// argument, which `i` then moves to.
pub(crate) fn flag_value(
    argv: &[String],
    i: &mut usize,
    flag: &str,
    inline: Option<String>,
) -> Result<String> {
    if let Some(value) = inline {
        return Ok(value);
    }
    *i += 1;
    argv.get(*i)
        .cloned()
        .ok_or_else(|| Error::usage(format!("{flag} needs a value")))
}

/// Runs the program with `argv` (without the program name) and returns its
/// exit status.
pub fn main(argv: &[String]) -> i32 {
    crate::fault::install_panic_hook();
    let Some(first) = argv.first() else {
        crate::logger::init(LevelFilter::Info);
        return serve();
    };
    crate::logger::init(LevelFilter::Warn);
    let rest = &argv[1..];
    if rest.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return 0;
    }
    let result = match first.as_str() {
        "-h" | "--help" | "help" => {
            print!("{HELP}");
            Ok(0)
        }
        "-V" | "--version" => {
            println!("scriptblockhunt {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        "hunt" => run_hunt(rest),
        "record" => run_record(rest),
        "replay" => run_replay(rest),
        "gen" => crate::generate::run(rest),
        other => Err(Error::usage(format!(
            "unknown command {other}; see scriptblockhunt --help"
        ))),
    };
    match result {
        Ok(code) => code,
        Err(e) if e.is_broken_pipe() => 0,
        Err(e) => {
            eprintln!("scriptblockhunt: {e}");
            2
        }
    }
}

/// Protocol mode: serve Splunk on stdin and stdout. SIGTERM ends it with
/// status 0 and a log line; a panic still gets Splunk an error reply and
/// ends it with status 1.
fn serve() -> i32 {
    crate::fault::exit_on_sigterm();
    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let served =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::session::serve(stdin, &mut stdout)
        }));
    let Ok(result) = served else {
        let text = crate::fault::panic_message();
        let reply = crate::metadata::Reply::fatal(&text).to_json();
        if let Err(e) = crate::chunk::write_chunk(&mut stdout, &reply, b"") {
            log::debug!("could not send the error reply: {e}");
        }
        return 1;
    };
    match result {
        Ok(()) => 0,
        Err(e) if e.is_broken_pipe() => {
            log::info!("Splunk closed the output pipe; stopping");
            0
        }
        Err(e) => {
            log::error!("{e}");
            1
        }
    }
}

/// `hunt`: the search over event files.
fn run_hunt(argv: &[String]) -> Result<i32> {
    let command = parse(argv)?;
    if command.operands.is_empty() {
        return Err(Error::usage("hunt needs at least one FILE (or -)"));
    }
    let options = Options::parse(&command.args)?;
    let tz = zone(&command.tz)?;
    let settings = hunt::Settings {
        tz: tz.clone(),
        threads: command.threads,
        explain: command.explain,
        progress: true,
    };
    let report = hunt::run(&command.operands, &options, &settings)?;
    let (columns, rows) = hunt::rendered(&report, &tz);
    let cells = rows
        .iter()
        .map(|r| r.iter().map(|c| Cow::Borrowed(c.as_slice())).collect());
    print_rows(&columns, cells, command.format)?;
    eprintln!("scriptblockhunt: {}", hunt::summary(&report, &options));
    if command.explain {
        for line in hunt::explain(&report) {
            eprintln!("scriptblockhunt: {line}");
        }
    }
    Ok(if report.unreadable > 0 {
        2
    } else if report.results.rows() == 0 {
        1
    } else {
        0
    })
}

/// The zone `--tz` names, or the machine's zone when it is not given:
/// Splunk renders times in the user's zone, else the server's
/// (user-prefs.conf `tz`).
fn zone(name: &Option<String>) -> Result<jiff::tz::TimeZone> {
    match name {
        Some(name) => time::zone(name),
        None => Ok(jiff::tz::TimeZone::system()),
    }
}

/// `record`: event files to a chunk stream on stdout.
fn run_record(argv: &[String]) -> Result<i32> {
    let command = parse(argv)?;
    if command.operands.is_empty() {
        return Err(Error::usage("record needs at least one FILE (or -)"));
    }
    let options = Options::parse(&command.args)?;
    let names = Search::new(&options)?.layout().names.clone();
    let (events, _) =
        hunt::read_events(&command.operands, &zone(&command.tz)?)?;
    let events = hunt::script_blocks(events);
    let mut out = std::io::stdout().lock();
    stream::record(&events, &names, &command.args, &mut out)?;
    out.flush()?;
    Ok(0)
}

/// `replay`: a recorded stream through the command.
fn run_replay(argv: &[String]) -> Result<i32> {
    let (cluster, argv) = cluster::take_flags(argv)?;
    let command = parse(&argv)?;
    if !command.args.is_empty() {
        return Err(Error::usage(
            "replay takes the command's options as name=value after the \
             STREAM, not as flags",
        ));
    }
    let Some((path, args)) = command.operands.split_first() else {
        return Err(Error::usage("replay needs a STREAM file"));
    };
    let input = input::open(path)?;
    let args = (!args.is_empty()).then_some(args);
    let (replayed, report) = match &cluster {
        Some(settings) => cluster::replay(input, args, settings)?,
        None => (stream::replay(input, args)?, None),
    };
    for (level, text) in &replayed.messages {
        eprintln!("scriptblockhunt: {level}: {text}");
    }
    if let Some(report) = &report {
        eprint!("{report}");
        if !report.identical {
            eprintln!(
                "scriptblockhunt: the map + reduce result differs from the \
                 single-process result"
            );
            return Ok(1);
        }
    }
    if replayed.result.is_err() {
        return Ok(1);
    }
    if !replayed.finished {
        eprintln!(
            "scriptblockhunt: WARN: the stream has no finished:true chunk \
             (a getinfo probe or a cancelled search): no result rows"
        );
    }
    let rows = records::all_rows(&replayed.body)?;
    let Some((header, rows)) = rows.split_first() else {
        return Ok(0);
    };
    let columns: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let cells = rows
        .iter()
        .map(|r| r.iter().map(|c| Cow::Borrowed(c.as_slice())).collect());
    print_rows(&columns, cells, command.format)?;
    Ok(0)
}

/// The width a table must fit: the terminal's when stdout is one, else
/// `COLUMNS` when set; `None` means no limit (cells are cut at 60
/// characters instead).
fn table_width(terminal: bool) -> Option<usize> {
    if terminal {
        if let Some((_, columns)) = console::Term::stdout().size_checked() {
            return Some(columns as usize);
        }
    }
    std::env::var("COLUMNS").ok()?.trim().parse().ok()
}

/// Prints rows as a table, CSV or JSON lines on stdout.
fn print_rows<'a, I>(
    columns: &[String],
    rows: I,
    format: Option<Format>,
) -> Result<()>
where
    I: IntoIterator<Item = Vec<Cow<'a, [u8]>>>,
{
    let mut stdout = std::io::stdout().lock();
    let format = format.unwrap_or(if stdout.is_terminal() {
        Format::Table
    } else {
        Format::Csv
    });
    match format {
        Format::Csv => {
            let mut out = Vec::new();
            output::write_csv(columns, rows, &mut out);
            stdout.write_all(&out)?;
        }
        Format::Json => {
            let mut out = Vec::new();
            crate::jsonout::write_rows(columns, rows, &mut out);
            stdout.write_all(&out)?;
        }
        Format::Table => {
            let text = match table_width(stdout.is_terminal()) {
                Some(width) => output::table_fit(columns, rows, width),
                None => output::table(columns, rows, 60),
            };
            stdout.write_all(text.as_bytes())?
        }
    }
    stdout.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn max_groups_flag_becomes_the_option() {
        let command =
            parse(&argv(&["--max-groups", "5", "--by=a", "f.xml"])).unwrap();
        assert_eq!(command.args, vec!["max_groups=5", "by=a"]);
        assert_eq!(command.operands, vec!["f.xml"]);
        let options = Options::parse(&command.args).unwrap();
        assert_eq!(options.max_groups, 5);
    }
}
