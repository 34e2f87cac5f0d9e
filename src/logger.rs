//! A small logger for the `log` facade: one line per record on stderr,
//! which splunkd copies into the search job's search.log.
//!
//! The level comes from `SCRIPTBLOCKHUNT_LOG` (`error`, `warn`, `info`,
//! `debug`, `trace`); the default is given by the caller.

use log::{Level, LevelFilter, Log, Metadata, Record};

/// Writes log records to stderr.
struct Logger;

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let level = match record.level() {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        };
        eprintln!(
            "scriptblockhunt[{}]: {level} {}",
            std::process::id(),
            record.args()
        );
    }

    fn flush(&self) {}
}

/// The one logger.
static LOGGER: Logger = Logger;

/// Installs the logger at the level named by `SCRIPTBLOCKHUNT_LOG`, or at
/// `default` when it is unset or unknown.
pub fn init(default: LevelFilter) {
    let level = std::env::var("SCRIPTBLOCKHUNT_LOG")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}
