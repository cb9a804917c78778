//! `conform`: runs the suites, writes the reports, starts a live environment.
//!
//! Exit codes: 0 all passed, 1 something failed (or the gate, with `--gate`), 2 usage or
//! environment error, reported as one line on stderr.

mod cli;
mod commands;
mod selection;

use std::process::ExitCode;

use clap::Parser;

/// A problem with what was asked, or with the machine: exit code 2, one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::dispatch(cli) {
        Ok(verdict) => verdict,
        Err(error) => {
            eprintln!("conform: {error:#}");
            ExitCode::from(2)
        }
    }
}
