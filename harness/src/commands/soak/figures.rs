//! What a soak reports: the counts (the verdict), the tunnels held, the memory, the pace. The
//! same document goes to stdout with `--json` and into `soak.json` in the report folder.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ledger::Counts;
use crate::cli::Through;

/// The report file's name in `--report-dir`.
pub const FILE: &str = "soak.json";

#[derive(Debug, Serialize)]
pub struct Figures {
    pub schema: &'static str,
    /// Every request sent came back right, and every tunnel was still held at the end.
    pub accounted: bool,
    pub settings: Settings,
    /// What plays which part.
    pub load: Load,
    pub requests: Requests,
    pub per_share: Vec<ShareCounts>,
    pub tunnels: Tunnels,
    pub memory: Memory,
    /// The CPU the process got during the load; `None` where the kernel keeps no schedstat.
    pub cpu: Option<Cpu>,
    pub seconds: Seconds,
    /// The first failures, word for word.
    pub failures: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Settings {
    pub agents: usize,
    pub viewers: usize,
    pub shares: usize,
    pub duration_seconds: f64,
    pub through: Through,
}

#[derive(Debug, Serialize)]
pub struct Load {
    pub idle_agents: &'static str,
    pub serving_agents: &'static str,
    pub shares: &'static str,
    pub viewers: &'static str,
}

impl Load {
    pub fn of(through: Through) -> Self {
        match through {
            Through::Recipients => Self::RECIPIENTS,
            Through::RemoteAccess => Self {
                viewers: "clients of one organisation account (the Owner's), each with an HTTPS client of its own carrying the account's one sign-in, remote access enabled on every share's DMS, logged in to its share's DMS as a read-only DMS user and calling the dashboard's calls through https://sharing.dataminer.services/dms/{id}/API/v1/Json.asmx/..., one request at a time",
                ..Self::RECIPIENTS
            },
        }
    }

    const RECIPIENTS: Self = Self {
        idle_agents: "light agents in a child process (conform bench light-agents): a WSS tunnel each, admitted with its own DMS's token from the public connect flow, and the HTTP/2 server the agent runs on it; idle after one exchange",
        serving_agents: "real agents (mocks::agent), one per share's DMS, each forwarding through its own WAF to its own DMA",
        shares: "a DMS of its own per share, one fixture dashboard shared on it (ShareDashboard) with its viewers' addresses; its Cloud Gateway signs the share user in for each viewer",
        viewers: "recipients, each with an address and an HTTPS client of its own: signed up with the code the cloud mailed, the mailed link opened on https://sharing.dataminer.services/s/{token}, then the dashboard app's heartbeat (its definition, then its calls) under /s/{token}/v/{viewer}/, one request at a time",
    };
}

#[derive(Debug, Serialize)]
pub struct Requests {
    #[serde(flatten)]
    pub counts: Counts,
    /// Answers of any kind that came back: `right + crossed + wrong`.
    pub received: u64,
    /// Sent and never given a fate: zero once every viewer has ended, unless one broke.
    pub in_flight: u64,
    pub per_second: f64,
    pub latency_p50_us: u64,
    pub latency_p99_us: u64,
    pub latency_max_us: u64,
}

#[derive(Debug, Serialize)]
pub struct ShareCounts {
    pub dms_id: String,
    pub dashboard: String,
    pub viewers: usize,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Serialize)]
pub struct Tunnels {
    pub idle_at_start: usize,
    pub idle_at_end: usize,
    pub serving_at_start: usize,
    pub serving_at_end: usize,
}

impl Tunnels {
    pub fn held(&self) -> bool {
        self.idle_at_end == self.idle_at_start && self.serving_at_end == self.serving_at_start
    }
}

/// Resident sets in KiB (`VmRSS`, `VmHWM`). The cloud's process also runs the share DMSs'
/// agents, WAFs and DMAs and the viewers' clients; the idle tunnels' figure is the growth
/// while only the light agents connected.
#[derive(Debug, Serialize)]
pub struct Memory {
    pub cloud_process_rss_kib_at_start: u64,
    pub cloud_process_rss_kib_with_shares: u64,
    pub cloud_process_rss_kib_with_idle_tunnels: u64,
    /// Once the viewers are signed in, when the load begins.
    pub cloud_process_rss_kib_at_load_start: u64,
    pub cloud_process_rss_kib_at_end: u64,
    pub cloud_process_peak_rss_kib: u64,
    /// The cloud's growth per idle tunnel.
    pub idle_tunnel_kib_cloud: f64,
    /// A light agent's growth per idle tunnel, in its own process.
    pub idle_tunnel_kib_agent: f64,
    /// The cloud process's growth during the load, per 1000 requests.
    pub load_growth_kib_per_1000_requests: f64,
    /// The text the environment's records hold at the end (every request the cloud received,
    /// every WAF decision): what scenarios read, kept for the whole run.
    pub records_kib_at_end: u64,
    pub light_agents_rss_kib_at_start: u64,
    pub light_agents_rss_kib_at_end: u64,
}

/// The process's threads during the load, as the kernel's scheduler counted them. The process
/// runs the cloud, the share DMSs (agents, WAFs, DMAs) and the viewers' clients: every hop of a
/// request, both ends of it.
#[derive(Debug, Serialize)]
pub struct Cpu {
    /// The cores the machine offers.
    pub cores: usize,
    pub threads: usize,
    /// Time the threads ran on a CPU.
    pub ran_seconds: f64,
    /// Time the threads were ready to run and waited for a CPU: the machine's other work.
    pub waited_for_a_cpu_seconds: f64,
    /// `ran_seconds` over the load's duration: the cores' worth the process got.
    pub cores_used: f64,
    /// CPU per request sent, every hop of it.
    pub cpu_us_per_request: u64,
}

impl Cpu {
    /// From what the scheduler counted over `load`, for `sent` requests.
    pub fn of(used: &super::cpu::Scheduled, load: std::time::Duration, sent: u64) -> Self {
        let ran = used.ran.as_secs_f64();
        Self {
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            threads: used.threads,
            ran_seconds: ran,
            waited_for_a_cpu_seconds: used.waited.as_secs_f64(),
            cores_used: ran / load.as_secs_f64().max(f64::EPSILON),
            cpu_us_per_request: (used.ran.as_micros() / u128::from(sent.max(1))) as u64,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Seconds {
    pub setup: f64,
    pub load: f64,
    pub total: f64,
}

impl Figures {
    /// The figures as a person reads them.
    pub fn print(&self) {
        let r = &self.requests;
        let c = &r.counts;
        say!(
            "requests: {} sent, {} received, {} answered right, {} crossed between DMSs, {} wrong, {} lost",
            c.sent,
            r.received,
            c.right,
            c.crossed,
            c.wrong,
            c.lost
        );
        say!(
            "pace:     {:.0} requests/s over {:.1} s, latency p50 {} us, p99 {} us, max {} us",
            r.per_second,
            self.seconds.load,
            r.latency_p50_us,
            r.latency_p99_us,
            r.latency_max_us
        );
        let t = &self.tunnels;
        say!(
            "tunnels:  {} of {} idle (light agents) and {} of {} serving (the share DMSs' real agents) still held at the end",
            t.idle_at_end,
            t.idle_at_start,
            t.serving_at_end,
            t.serving_at_start
        );
        let m = &self.memory;
        say!(
            "memory:   {:.1} KiB per idle tunnel on the cloud, {:.1} KiB per light agent (light agents' process {} KiB, then {} KiB at the end)",
            m.idle_tunnel_kib_cloud,
            m.idle_tunnel_kib_agent,
            m.light_agents_rss_kib_at_start,
            m.light_agents_rss_kib_at_end
        );
        say!(
            "          cloud process (VmRSS) {} KiB at start, {} KiB with the shares, {} KiB with the idle tunnels, {} KiB with the viewers, {} KiB at the end (peak {} KiB): {:.1} KiB per 1000 requests under load, {} KiB of it the environment's records",
            m.cloud_process_rss_kib_at_start,
            m.cloud_process_rss_kib_with_shares,
            m.cloud_process_rss_kib_with_idle_tunnels,
            m.cloud_process_rss_kib_at_load_start,
            m.cloud_process_rss_kib_at_end,
            m.cloud_process_peak_rss_kib,
            m.load_growth_kib_per_1000_requests,
            m.records_kib_at_end
        );
        if let Some(cpu) = &self.cpu {
            say!(
                "cpu:      {} threads ran {:.1} s and waited {:.1} s for a CPU over {:.1} s of load ({:.2} of {} cores): {} us of CPU a request, every hop and both ends",
                cpu.threads,
                cpu.ran_seconds,
                cpu.waited_for_a_cpu_seconds,
                self.seconds.load,
                cpu.cores_used,
                cpu.cores,
                cpu.cpu_us_per_request
            );
        }
        say!(
            "shares:   each a DMS of its own with a real agent, WAF and DMA and one dashboard shared on it with its viewers' addresses; {}",
            match self.settings.through {
                Through::Recipients =>
                    "each viewer a recipient that signed up for its address and opened its mailed link",
                Through::RemoteAccess =>
                    "each viewer a client of the Owner's account through remote access, as a read-only DMS user",
            }
        );
        for share in self.per_share.iter().filter(|s| !s.counts.accounted()) {
            let c = &share.counts;
            say!(
                "  {} ({}): {} sent, {} right, {} crossed, {} wrong, {} lost",
                share.dms_id,
                share.dashboard,
                c.sent,
                c.right,
                c.crossed,
                c.wrong,
                c.lost
            );
        }
        for failure in &self.failures {
            say!("  {failure}");
        }
        say!(
            "{}: {:.1} s setup, {:.1} s load, {:.1} s in all",
            if self.accounted {
                "every request accounted for"
            } else {
                "NOT every request accounted for"
            },
            self.seconds.setup,
            self.seconds.load,
            self.seconds.total
        );
    }

    /// Writes the figures into `dir`; the file's path.
    pub fn write(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let path = dir.join(FILE);
        let mut text = serde_json::to_vec_pretty(self)?;
        text.push(b'\n');
        std::fs::write(&path, text)?;
        Ok(path)
    }
}
