//! What the program does when something outside the data goes wrong: a
//! panic (a bug), or splunkd stopping the search with SIGTERM.
//!
//! * Panics. The hook replaces Rust's default one, which prints the panic
//!   message, and a message can hold whatever was formatted into it: event
//!   text, or anything else the code had in hand. The hook prints only where
//!   the panic happened and, when the message is a literal from the source
//!   (a `&'static str` payload), that literal. Protocol mode then catches
//!   the unwinding panic, sends Splunk an error reply and exits 1 (see
//!   `cli`).
//! * SIGTERM. splunkd stops an external command with a signal when the
//!   search is cancelled or finalised; the process is then usually blocked
//!   reading stdin. A watcher thread (the `signal-hook` crate) logs one
//!   line and exits 0 at once: nothing is half done that matters, since
//!   Splunk no longer reads the replies.
//! * A closed stdout needs nothing here: Rust ignores SIGPIPE, so a write
//!   fails with EPIPE and the protocol driver ends normally (`cli`).

use std::sync::Mutex;

/// Where the last panic happened (`file:line:column`), for the error
/// reply. Set by the panic hook; never holds any data.
static LAST_PANIC: Mutex<Option<String>> = Mutex::new(None);

/// Installs the panic hook. It prints one line on stderr, in the logger's
/// format: the place of the panic and, only if the message is a literal
/// from the source code, that literal. A backtrace (function names only)
/// follows when `RUST_BACKTRACE` asks for one.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map_or_else(
            || "an unknown place".to_string(),
            |l| format!("{}:{}:{}", l.file(), l.line(), l.column()),
        );
        let literal = info
            .payload()
            .downcast_ref::<&'static str>()
            .map(|text| format!(": {text}"))
            .unwrap_or_default();
        eprintln!(
            "scriptblockhunt[{}]: ERROR internal error (a bug): panic at \
             {place}{literal}; the panic's own message is not shown, it \
             may hold event data",
            std::process::id()
        );
        let backtrace = std::backtrace::Backtrace::capture();
        if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
            eprintln!("{backtrace}");
        }
        if let Ok(mut last) = LAST_PANIC.lock() {
            *last = Some(place);
        }
    }));
}

/// The text of the error reply sent to Splunk after a panic.
pub fn panic_message() -> String {
    let place = LAST_PANIC.lock().ok().and_then(|last| last.clone());
    format!(
        "internal error in scriptblockhunt (a bug): it panicked at {}; \
         the search job's search.log has the details",
        place.as_deref().unwrap_or("an unknown place")
    )
}

/// Starts a thread that waits for SIGTERM, logs it and exits with status
/// 0. Without it the default action would kill the process silently.
#[cfg(unix)]
pub fn exit_on_sigterm() {
    use signal_hook::consts::SIGTERM;
    use signal_hook::iterator::Signals;

    let mut signals = match Signals::new([SIGTERM]) {
        Ok(signals) => signals,
        Err(e) => {
            log::warn!(
                "cannot watch for SIGTERM ({e}); it will kill the \
                        process without a log line"
            );
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("sigterm".to_string())
        .spawn(move || {
            if signals.forever().next().is_some() {
                log::info!(
                    "SIGTERM: splunkd stopped the search; exiting with no \
                     further reply"
                );
                std::process::exit(0);
            }
        });
    if let Err(e) = spawned {
        log::warn!("cannot start the SIGTERM watcher thread: {e}");
    }
}

/// Starts nothing: there is no SIGTERM to watch for on this platform.
#[cfg(not(unix))]
pub fn exit_on_sigterm() {}

/// Test hook, compiled into debug builds only: panics while chunk `chunk`
/// is handled when the environment variable
/// `SCRIPTBLOCKHUNT_DEBUG_PANIC_AT_CHUNK` holds that number. The panic
/// message carries the start of the body, so that a test can check that
/// no event data reaches stderr or the reply. Release builds (the one the
/// Splunk app ships) have an empty function instead and never read the
/// variable.
#[cfg(debug_assertions)]
pub fn debug_panic_point(chunk: u64, body: &[u8]) {
    let wanted = std::env::var("SCRIPTBLOCKHUNT_DEBUG_PANIC_AT_CHUNK")
        .ok()
        .and_then(|v| v.parse::<u64>().ok());
    if wanted == Some(chunk) {
        let start = &body[..body.len().min(200)];
        panic!(
            "debug panic at chunk {chunk}; body starts {}",
            String::from_utf8_lossy(start)
        );
    }
}

/// Release builds: does nothing (see the debug version).
#[cfg(not(debug_assertions))]
#[inline(always)]
pub fn debug_panic_point(_chunk: u64, _body: &[u8]) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_names_only_the_place() {
        *LAST_PANIC.lock().unwrap() = Some("src/records.rs:12:5".into());
        assert_eq!(
            panic_message(),
            "internal error in scriptblockhunt (a bug): it panicked at \
             src/records.rs:12:5; the search job's search.log has the \
             details"
        );
    }
}
