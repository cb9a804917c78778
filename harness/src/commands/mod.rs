//! One module per subcommand.

mod agent;
mod bench;
mod env_up;
mod execute;
mod list;
mod mutants;
mod probe;
mod repeat;
mod run;
mod soak;
mod store;

use std::process::ExitCode;

use crate::cli::{BenchKind, Cli, Command, EnvAction, ProbeKind, StoreAction};

pub fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    // A reviewer's copy is checked whole before anything runs: a broken one costs a second.
    if let Some(dir) = &cli.fixtures {
        fixtures::use_folder(dir)?;
        reports::GateInputs::load(fixtures::Source::current())?;
    }
    match cli.command {
        Command::List { json } => list::list(json),
        Command::Run(args) => run::run(args),
        Command::Mutants(args) => mutants::mutants(args),
        Command::Env {
            action:
                EnvAction::Up {
                    faults,
                    speed,
                    connected,
                    shared,
                    orgs,
                    capture,
                },
        } => env_up::up(&env_up::UpOptions {
            faults,
            speed,
            connected: connected || shared,
            shared,
            orgs,
            capture,
        }),
        Command::Probe {
            kind: ProbeKind::Tls { target, json, sni },
        } => probe::tls(&target, json, sni),
        Command::Probe {
            kind:
                ProbeKind::Jwt {
                    url,
                    token,
                    refused,
                    cacert,
                    resolve,
                    wordlist,
                    expired,
                    not_yet_valid,
                    json,
                },
        } => probe::jwt(
            &url,
            &token,
            &probe::JwtArgs {
                refused,
                cacert,
                resolve,
                wordlist,
                expired,
                not_yet_valid,
                json,
            },
        ),
        Command::Probe {
            kind:
                ProbeKind::Waf {
                    url,
                    call,
                    link,
                    email,
                    password,
                    cacert,
                    resolve,
                    json,
                },
        } => match (url, call, link, email, password) {
            (Some(url), Some(call), None, _, _) => probe::waf(&url, &call, json),
            (None, None, Some(link), Some(email), Some(password)) => {
                let args = probe::RecipientArgs {
                    link,
                    email,
                    password,
                    cacert,
                    resolve,
                    json,
                };
                probe::waf_as_recipient(&args)
            }
            _ => Err(crate::UsageError(
                "probe waf takes URL --call FILE, or --link URL --email E --password P".into(),
            )
            .into()),
        },
        Command::Bench {
            kind: BenchKind::Tunnel { json },
        } => bench::tunnel(json),
        Command::Bench {
            kind: BenchKind::LightAgents,
        } => bench::light_agents::serve(),
        Command::Soak(args) => soak::soak(args),
        Command::Store {
            action: StoreAction::Decrypt { control, db },
        } => store::decrypt(&control, db.as_deref()),
        Command::Agent { config } => agent::run(&config),
    }
}

/// A multi-threaded runtime for a command's async work.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
