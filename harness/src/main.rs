//! `conform`: runs the suites, writes the reports, starts a live environment.
//!
//! Exit codes: 0 all passed, 1 something failed (or the gate, with `--gate`), 2 usage or
//! environment error, reported as one line on stderr.

/// Prints a line to stdout, ignoring a reader that went away (`conform list | head`): output
/// is a courtesy, the reports and the exit code are the verdict.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `say!` without the newline.
macro_rules! say_raw {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

mod cli;
mod commands;
mod progress;
mod selection;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

/// A problem with what was asked, or with the machine: exit code 2, one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    // A bug must still end as one line and exit 2, never as a trace.
    std::panic::set_hook(Box::new(|info| {
        let what = info.payload_as_str().unwrap_or("unknown cause");
        let _ = writeln!(std::io::stderr(), "conform: internal error: {what}");
        std::process::exit(2);
    }));
    // This program is also the agent's own process (`conform agent`), wherever it was installed.
    if let Ok(me) = std::env::current_exe() {
        scenarios::use_agent_binary(me);
    }
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(verdict) => verdict,
        Err(error) => {
            eprintln!("conform: {error:#}");
            ExitCode::from(2)
        }
    }
}
