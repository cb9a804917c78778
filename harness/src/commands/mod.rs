//! One module per subcommand.

mod bench;
mod env_up;
mod execute;
mod list;
mod mutants;
mod probe;
mod repeat;
mod run;

use std::process::ExitCode;

use crate::cli::{BenchKind, Cli, Command, EnvAction, ProbeKind};

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::List { json } => list::list(json),
        Command::Run(args) => run::run(args),
        Command::Mutants(args) => mutants::mutants(args),
        Command::Env {
            action: EnvAction::Up { faults },
        } => env_up::up(&faults),
        Command::Probe {
            kind: ProbeKind::Tls { target, json, sni },
        } => probe::tls(&target, json, sni),
        Command::Bench {
            kind: BenchKind::Tunnel { json },
        } => bench::tunnel(json),
        Command::Bench {
            kind: BenchKind::LightAgents,
        } => bench::light_agents::serve(),
    }
}

/// A multi-threaded runtime for a command's async work.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
