//! The command line of the offline front ends: `hunt`, `record`, `replay`.
//!
//! With no arguments the program speaks the chunked protocol on stdin and
//! stdout, which is how splunkd runs it; see `session`.

use std::borrow::Cow;
use std::io::{IsTerminal, Write};

use log::LevelFilter;

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
                                       run the hunting search over
                                       XmlWinEventLog files ('-' = stdin,
                                       gzip undone)
  scriptblockhunt record [OPTIONS] FILE... > STREAM
                                       write the chunk stream Splunk would
                                       send the command for those events
  scriptblockhunt replay [--format F] STREAM [name=value ...]
                                       play a recorded stream through the
                                       command; name=value replaces the
                                       command's arguments
  scriptblockhunt gen [--size N | --events N] [OPTIONS] > STREAM
                                       write a large synthetic stream of
                                       4104 events for benchmarks (see
                                       scriptblockhunt gen --help)

OPTIONS (the search command's options, same meaning)
  --pattern WILDCARD   match when any pattern matches (repeatable;
                       default *Get-NetTcpconnection*)
  --field NAME         the field matched (default ScriptBlockText)
  --by F1,F2,...       the BY fields (default the 13 of the ESCU search)
  --value TEXT         the fillnull value (default 0)
  --tz ZONE            IANA zone for firstTime/lastTime (default UTC)
  --format table|csv   output format (default: table on a terminal, else
                       CSV)

EXIT STATUS
  hunt: 0 with rows, 1 with no rows, 2 on errors.
  replay: 0 when the command ended normally, 1 when it replied with an
  error, 2 when the stream could not be read.
  protocol mode: 0 on a normal end, 1 on an error (sent to Splunk too).

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
}

/// The parsed command line of an offline front end.
#[derive(Debug)]
struct Command {
    /// Search command arguments (`name=value`) built from the flags.
    args: Vec<String>,
    /// `--tz`.
    tz: String,
    /// `--format`, if given.
    format: Option<Format>,
    /// Everything that is not a flag: files, or a stream then arguments.
    operands: Vec<String>,
}

/// Parses the flags shared by the offline front ends.
fn parse(argv: &[String]) -> Result<Command> {
    let mut command = Command {
        args: Vec::new(),
        tz: "UTC".to_string(),
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
        let takes_value = matches!(
            flag,
            "--pattern" | "--field" | "--by" | "--value" | "--tz" | "--format"
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
        let value = match inline {
            Some(v) => v,
            None => {
                i += 1;
                argv.get(i).cloned().ok_or_else(|| {
                    Error::usage(format!("{flag} needs a value"))
                })?
            }
        };
        match flag {
            "--tz" => command.tz = value,
            "--format" => {
                command.format = Some(match value.as_str() {
                    "table" => Format::Table,
                    "csv" => Format::Csv,
                    other => {
                        return Err(Error::usage(format!(
                            "--format {other}: expected table or csv"
                        )))
                    }
                })
            }
            _ => command.args.push(format!("{}={value}", &flag[2..])),
        }
        i += 1;
    }
    Ok(command)
}

/// Runs the program with `argv` (without the program name) and returns its
/// exit status.
pub fn main(argv: &[String]) -> i32 {
    let Some(first) = argv.first() else {
        crate::logger::init(LevelFilter::Info);
        return serve();
    };
    crate::logger::init(LevelFilter::Warn);
    let rest = &argv[1..];
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

/// Protocol mode: serve Splunk on stdin and stdout.
fn serve() -> i32 {
    let stdin = std::io::stdin().lock();
    let stdout = std::io::stdout().lock();
    match crate::session::serve(stdin, stdout) {
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
    let tz = time::zone(&command.tz)?;
    let report = hunt::run(&command.operands, &options)?;
    let (columns, rows) = hunt::rendered(&report, &options, &tz);
    let cells = rows
        .iter()
        .map(|r| r.iter().map(|c| Cow::Borrowed(c.as_slice())).collect());
    print_rows(&columns, cells, command.format)?;
    eprintln!("{}", hunt::summary(&report));
    Ok(if report.outcome.rows.is_empty() { 1 } else { 0 })
}

/// `record`: event files to a chunk stream on stdout.
fn run_record(argv: &[String]) -> Result<i32> {
    let command = parse(argv)?;
    if command.operands.is_empty() {
        return Err(Error::usage("record needs at least one FILE (or -)"));
    }
    let options = Options::parse(&command.args)?;
    let names = Search::new(&options).layout().names.clone();
    let (events, _) = hunt::read_events(&command.operands)?;
    let events = hunt::script_blocks(events);
    let mut out = std::io::stdout().lock();
    stream::record(&events, &names, &command.args, &mut out)?;
    out.flush()?;
    Ok(0)
}

/// `replay`: a recorded stream through the command.
fn run_replay(argv: &[String]) -> Result<i32> {
    let command = parse(argv)?;
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
    let replayed = stream::replay(input, args)?;
    for (level, text) in &replayed.messages {
        eprintln!("scriptblockhunt: {level}: {text}");
    }
    if replayed.result.is_err() {
        return Ok(1);
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

/// Prints rows as a table or CSV on stdout.
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
        Format::Table => {
            stdout.write_all(output::table(columns, rows, 60).as_bytes())?
        }
    }
    stdout.flush()?;
    Ok(())
}
