//! One soak, in order: the environment, the share DMSs, the idle light agents, the viewers;
//! then the load for the duration, every request into the ledger; then the counts, the tunnels
//! still held and the resident sets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use mocks::Environment;
use mocks::world::FaultSet;
use tokio::task::JoinSet;

use super::cpu::Scheduled;
use super::figures::{
    Cpu, Figures, Load, Memory, Requests, Seconds, Settings, ShareCounts, Tunnels,
};
use super::ledger::Ledger;
use super::plan::Plan;
use super::progress::{PLAIN_EVERY, Progress};
use super::shares::{self, ShareDms};
use super::viewers;
use crate::commands::bench::fleet::{self, Fleet};
use crate::commands::bench::memory::{peak_resident_kib, resident_kib};
use crate::commands::bench::percentile;

/// How often the bar moves during the load.
const TICK: Duration = Duration::from_millis(250);

pub async fn soak(plan: &Plan, progress: &Progress) -> anyhow::Result<Figures> {
    let started = Instant::now();
    progress.phase("starting the environment (one cloud)");
    let env = Environment::start(FaultSet::none()).await?;
    let figures = on(&env, plan, progress, started).await;
    env.stop().await;
    figures
}

async fn on(
    env: &Environment,
    plan: &Plan,
    progress: &Progress,
    started: Instant,
) -> anyhow::Result<Figures> {
    let rss_at_start = resident_kib()?;
    progress.phase(format!(
        "connecting {} share DMSs (real agents, WAFs, DMAs) and sharing a dashboard on each",
        plan.shares
    ));
    let shares = shares::start_all(env, &viewers::addresses(plan.viewers, plan.shares)).await?;
    let serving_at_start = shares::live_tunnels(env, &shares);
    let rss_with_shares = resident_kib()?;

    progress.phase(format!(
        "registering {} light agents through the connect flow",
        plan.agents
    ));
    let tokens = fleet::register(env, plan.agents, "light").await?;
    let rss_before_idle = resident_kib()?;
    progress.phase(format!("opening {} idle tunnels", plan.agents));
    let mut idle = Fleet::start(env, tokens).await?;
    idle.exchange_on_each(env).await?;
    let rss_with_idle = resident_kib()?;
    let held_at_start = idle.held().await?;
    let idle_at_start = idle.live(env);

    progress.phase(format!(
        "signing in {} viewers over {} shares",
        plan.viewers, plan.shares
    ));
    let viewers = viewers::sign_in_all(env, &shares, plan.viewers, plan.through).await?;
    let setup = started.elapsed();
    let rss_at_load_start = resident_kib()?;

    let ledger = Arc::new(Ledger::new(shares.len()));
    let scheduled_at_start = Scheduled::now();
    let load = run_load(viewers, &ledger, plan.duration, progress).await;
    let scheduled = Scheduled::now()
        .zip(scheduled_at_start)
        .map(|(end, start)| end.since(&start));

    let tunnels = Tunnels {
        idle_at_start,
        idle_at_end: idle.live(env),
        serving_at_start,
        serving_at_end: shares::live_tunnels(env, &shares),
    };
    let rss_at_end = resident_kib()?;
    let peak = peak_resident_kib()?;
    let records = recorded_bytes(env, &shares);
    let held_at_end = idle.held().await?;
    idle.stop().await?;

    let total = ledger.total();
    let mut latencies = ledger.latencies();
    let per_tunnel = |before: u64, after: u64| match plan.agents {
        0 => 0.0,
        n => after.saturating_sub(before) as f64 / n as f64,
    };
    let figures = Figures {
        schema: "conform-soak/1",
        accounted: total.accounted() && tunnels.held(),
        settings: Settings {
            agents: plan.agents,
            viewers: plan.viewers,
            shares: plan.shares,
            duration_seconds: plan.duration.as_secs_f64(),
            through: plan.through,
        },
        load: Load::of(plan.through),
        requests: Requests {
            counts: total,
            received: total.received(),
            in_flight: total.in_flight(),
            per_second: total.sent as f64 / load.as_secs_f64().max(f64::EPSILON),
            latency_p50_us: percentile(&mut latencies, 50),
            latency_p99_us: percentile(&mut latencies, 99),
            latency_max_us: percentile(&mut latencies, 100),
        },
        per_share: per_share(&shares, &ledger, plan.viewers),
        tunnels,
        cpu: scheduled.map(|used| Cpu::of(&used, load, total.sent)),
        memory: Memory {
            cloud_process_rss_kib_at_start: rss_at_start,
            cloud_process_rss_kib_with_shares: rss_with_shares,
            cloud_process_rss_kib_with_idle_tunnels: rss_with_idle,
            cloud_process_rss_kib_at_load_start: rss_at_load_start,
            cloud_process_rss_kib_at_end: rss_at_end,
            cloud_process_peak_rss_kib: peak,
            idle_tunnel_kib_cloud: per_tunnel(rss_before_idle, rss_with_idle),
            idle_tunnel_kib_agent: per_tunnel(
                held_at_start.rss_before_kib,
                held_at_start.rss_after_kib,
            ),
            load_growth_kib_per_1000_requests: rss_at_end.saturating_sub(rss_at_load_start) as f64
                * 1000.0
                / total.sent.max(1) as f64,
            records_kib_at_end: (records / 1024) as u64,
            light_agents_rss_kib_at_start: held_at_start.rss_after_kib,
            light_agents_rss_kib_at_end: held_at_end.rss_after_kib,
        },
        seconds: Seconds {
            setup: setup.as_secs_f64(),
            load: load.as_secs_f64(),
            total: started.elapsed().as_secs_f64(),
        },
        failures: ledger.failures(),
    };
    for share in shares {
        share.stop().await;
    }
    Ok(figures)
}

/// Every viewer views until the duration is over; the bar moves meanwhile. Returns once every
/// viewer's last request has its fate, and how long that took.
async fn run_load(
    viewers: Vec<viewers::Viewer>,
    ledger: &Arc<Ledger>,
    duration: Duration,
    progress: &Progress,
) -> Duration {
    progress.load(duration);
    let began = Instant::now();
    let until = began + duration;
    let mut viewing = JoinSet::new();
    for viewer in viewers {
        viewing.spawn(viewer.view(ledger.clone(), until));
    }
    let mut tick = tokio::time::interval(TICK);
    let mut plain_due = PLAIN_EVERY;
    loop {
        tokio::select! {
            ended = viewing.join_next() => {
                if ended.is_none() {
                    break;
                }
                // A viewer that panicked leaves its request in flight: the counts show it.
            }
            _ = tick.tick() => {
                let gone = began.elapsed();
                let plain = gone >= plain_due;
                if plain {
                    plain_due += PLAIN_EVERY;
                }
                progress.tick(gone, ledger.total(), plain);
            }
        }
    }
    let took = began.elapsed();
    progress.tick(took, ledger.total(), true);
    took
}

/// The text the environment's records hold: the cloud's request log and every WAF's
/// decisions.
fn recorded_bytes(env: &Environment, shares: &[ShareDms]) -> usize {
    let cloud: usize = env
        .cloud()
        .requests()
        .all()
        .iter()
        .map(|r| {
            r.method.len()
                + r.path.len()
                + r.body.len()
                + r.response.len()
                + r.headers
                    .iter()
                    .map(|(n, v)| n.len() + v.len())
                    .sum::<usize>()
        })
        .sum();
    cloud + shares.iter().map(ShareDms::recorded_bytes).sum::<usize>()
}

fn per_share(shares: &[ShareDms], ledger: &Ledger, viewers: usize) -> Vec<ShareCounts> {
    shares
        .iter()
        .zip(ledger.per_share())
        .enumerate()
        .map(|(index, (share, counts))| ShareCounts {
            dms_id: share.dms_id.clone(),
            dashboard: share.dashboard.id.clone(),
            viewers: (index..viewers).step_by(shares.len().max(1)).count(),
            counts,
        })
        .collect()
}
