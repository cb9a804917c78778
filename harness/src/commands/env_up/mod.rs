//! `conform env up`: one environment a person walks by hand. Its clock follows real time (×
//! `--speed`), a loopback control endpoint moves it on demand and says what it holds, and
//! `--connected` brings the DMS up through the real connect flow before anything is printed;
//! `--shared` also shares a dashboard with a recipient and prints the link they were mailed.

mod control;
mod control_host;
mod line;
mod live;
mod orgs;
mod share;
mod toxics;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use mocks::{Environment, Options};

use crate::selection;
use live::Live;

/// How often the real-time driver steps the clock: often enough that a reviewer sees time
/// move, rarely enough that each step's settle is a small share of the machine.
const STEP: Duration = Duration::from_millis(100);

/// What `conform env up` was asked for.
#[derive(Debug, Clone)]
pub struct UpOptions {
    pub faults: Vec<String>,
    /// Simulated seconds per real second; 0 keeps the clock still (only the control endpoint
    /// moves it).
    pub speed: f64,
    pub connected: bool,
    /// Share a dashboard with the environment's partner account once connected.
    pub shared: bool,
    /// Organisations: 2 adds the other organisation's own DMS (`orgs`).
    pub orgs: u8,
    /// Where the capture and key log go when the environment stops.
    pub capture: Option<PathBuf>,
}

/// Starts one environment, prints how to reach it as one JSON line, and keeps it up until
/// Ctrl-C or SIGTERM.
pub fn up(options: &UpOptions) -> anyhow::Result<ExitCode> {
    let faults = selection::faults(&options.faults)?;
    if !(options.speed.is_finite() && options.speed >= 0.0) {
        anyhow::bail!(
            "--speed takes a number of zero or more, not {}",
            options.speed
        );
    }
    let capture = match &options.capture {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            Some(mocks::world::capture::CaptureSink::create(
                &dir.join("env"),
            )?)
        }
        None => None,
    };
    super::runtime()?.block_on(async {
        // Every hop behind a proxy, so the control endpoint can put toxics on any of them.
        let env = Environment::start_with(Options {
            faults: faults.clone(),
            proxied_hops: true,
            capture: capture.clone(),
            // The second organisation's own DMS site, only when asked for.
            second_site: options.orgs >= 2,
            ..Options::default()
        })
        .await?;
        let dir = ca_dir();
        std::fs::create_dir_all(&dir)?;
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, env.ca_pem())?;

        // Before the clock follows real time, so the connect flow's own advances are the only
        // ones while it runs.
        let mut shared = None;
        if options.connected {
            let admin = scenarios::steps::connect_dms(&env)
                .await
                .map_err(|failure| anyhow::anyhow!("the DMS could not connect: {failure}"))?;
            if options.shared {
                shared = Some(share::share_a_dashboard(&env, &admin).await?);
            }
        }

        let organizations = if options.orgs >= 2 {
            Some(orgs::second_organization(&env, options.shared).await?)
        } else {
            None
        };

        let live = Arc::new(Live::new(env, options.speed));
        let control = control::serve(live.clone()).await?;
        let mut line =
            line::describe(live.env(), &ca, control.url(), options.connected, options.speed);
        line["share"] = shared.map_or(serde_json::Value::Null, |s| s.describe());
        if let Some(organizations) = organizations {
            line["organizations"] = organizations;
        }
        say!("{line}");
        let (name, addr) = live.env().published()[0];
        eprintln!(
            "environment up; try: curl --cacert {} --resolve {name}:{port}:{ip} https://{name}:{port}/api/dms/self\n\
             time: curl -s {url}state ; curl -s -X POST -d '{{\"by\":\"1d\"}}' -H 'content-type: application/json' {url}advance\n\
             Ctrl-C stops it.",
            ca.display(),
            port = addr.port(),
            ip = addr.ip(),
            url = control.url(),
        );

        let driver = (options.speed > 0.0).then(|| {
            let live = live.clone();
            tokio::spawn(async move {
                mocks::world::follow_real_time(live.speed(), STEP, |by| live.advance(by)).await;
            })
        });

        wait_for_stop().await?;
        if let Some(driver) = driver {
            driver.abort();
            let _ = driver.await;
        }
        control.stop().await;
        // Every task holding the environment has ended; stop it in order rather than by drop.
        if let Ok(live) = Arc::try_unwrap(live) {
            live.into_env().stop().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("environment stopped");
        if let Some(capture) = &capture {
            let files = capture.finish()?;
            eprintln!(
                "capture: {} (decrypt with tshark -o tls.keylog_file:{})",
                files.pcapng.display(),
                files.key_log.display()
            );
        }
        anyhow::Ok(ExitCode::SUCCESS)
    })
}

fn ca_dir() -> PathBuf {
    std::env::temp_dir().join(format!("conform-env-{}", std::process::id()))
}

async fn wait_for_stop() -> std::io::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        interrupted = tokio::signal::ctrl_c() => interrupted,
        _ = terminate.recv() => Ok(()),
    }
}
