//! The `scriptblockhunt` program: Splunk runs it with no arguments; people
//! run its offline front ends.

use std::process::ExitCode;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let code = scriptblockhunt::cli::main(&argv);
    ExitCode::from(code.clamp(0, 255) as u8)
}
