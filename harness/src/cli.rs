use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Conformance and security harness for the dataminer.services cloud-connectivity spec.
#[derive(Debug, Parser)]
#[command(name = "conform", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Read every fixture from DIR (laid out like the source tree's `fixtures/`) instead of
    /// the copies built into the binary.
    #[arg(long, global = true, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List suites, scenarios, requirement IDs (with the scenarios covering each) and faults.
    List {
        /// Print one JSON document instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Run scenarios and write the reports.
    Run(RunArgs),
    /// The kill matrix: a clean run, then every fault against every scenario; exits 1 when
    /// a fault survives.
    Mutants(MutantsArgs),
    /// Start a live environment and keep it running until Ctrl-C.
    Env {
        #[command(subcommand)]
        action: EnvAction,
    },
    /// Probe any endpoint the way a scanner would, without finishing a handshake.
    Probe {
        #[command(subcommand)]
        kind: ProbeKind,
    },
    /// Measure on loopback and print the figures; never a verdict.
    Bench {
        #[command(subcommand)]
        kind: BenchKind,
    },
    /// Read the cloud's encrypted store of a running `env up`.
    Store {
        #[command(subcommand)]
        action: StoreAction,
    },
    /// Many agents on one cloud and viewers calling shared DMSs through the sharing front end
    /// for a while; exits 0 when every request came back right, 1 when not.
    Soak(SoakArgs),
    /// The agent alone, as its own process: it dials the DMA's control channel named in FILE
    /// and runs until the DMA hangs up
    Agent {
        #[arg(long, value_name = "FILE")]
        config: std::path::PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct SoakArgs {
    /// Idle agents holding one tunnel each (light agents, in a child process).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub agents: usize,
    /// Viewers making requests through the sharing front end, spread over the shares.
    #[arg(long, value_name = "M", default_value_t = 200)]
    pub viewers: usize,
    /// Shares, each on a DMS of its own with a real agent, WAF and DMA.
    #[arg(long, value_name = "S", default_value_t = 50)]
    pub shares: usize,
    /// How long the viewers make requests: 30s, 2m, 1500ms.
    #[arg(long, value_name = "T", default_value = "60s")]
    pub duration: String,
    /// The viewers' way to the DMSs: as recipients of the shares (the mailed links), or as one
    /// organisation account's remote access, the same load on the other path to compare.
    #[arg(long, value_enum, value_name = "WAY", default_value_t = Through::Recipients)]
    pub through: Through,
    /// Print the figures as JSON.
    #[arg(long)]
    pub json: bool,
    /// Where the figures go (soak.json).
    #[arg(long, value_name = "DIR", default_value = "target/conform")]
    pub report_dir: PathBuf,
}

/// How a soak's viewers reach the shared DMSs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Through {
    /// Recipients: the mailed link, then the dashboard app's heartbeat under the viewer path.
    Recipients,
    /// Remote access: the Owner's account, a read-only DMS user, the dashboard's calls.
    RemoteAccess,
}

#[derive(Debug, Subcommand)]
pub enum BenchKind {
    /// The tunnel against a plain TLS 1.2 stream: bulk, 64 streams at once, 1 KiB latency.
    Tunnel {
        /// Print the figures as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The light agents of the footprint figure, in a process of their own (used by `tunnel`).
    #[command(hide = true)]
    LightAgents,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Only this suite (repeatable).
    #[arg(long = "suite", value_name = "SUITE")]
    pub suites: Vec<String>,
    /// Only this scenario (repeatable).
    #[arg(long = "scenario", value_name = "ID")]
    pub scenarios: Vec<String>,
    /// Only scenarios verifying this requirement (repeatable).
    #[arg(long = "requirement", value_name = "ID")]
    pub requirements: Vec<String>,
    /// Switch this fault on in every environment of the run (repeatable).
    #[arg(long = "fault", value_name = "FAULT")]
    pub faults: Vec<String>,
    /// Where the reports go.
    #[arg(long, value_name = "DIR", default_value = "target/conform")]
    pub report_dir: PathBuf,
    /// Exit by the release gate (uncovered requirements included), not only by the scenarios.
    #[arg(long)]
    pub gate: bool,
    /// Scenarios run at once (default: four per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run the selection N times, a fresh environment per scenario each time, and print how
    /// often each scenario failed; the reports show each scenario's last failed run (its last
    /// run when it never failed), and the exit code is 1 when any run failed.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub repeat: u32,
    /// Per scenario run, write a pcapng of every connection its environment carried, the TLS
    /// key log that decrypts it and the requests the cloud recorded into DIR (default: the
    /// report dir's `capture/`). They hold the environment's live secrets: opt-in only.
    #[arg(long, value_name = "DIR", num_args = 0..=1)]
    pub capture: Option<Option<PathBuf>>,
}

#[derive(Debug, clap::Args)]
pub struct MutantsArgs {
    /// Only this suite's scenarios, against the faults they name (repeatable; default: every
    /// fault against every scenario).
    #[arg(long = "suite", value_name = "SUITE")]
    pub suites: Vec<String>,
    /// Where the reports go.
    #[arg(long, value_name = "DIR", default_value = "target/conform")]
    pub report_dir: PathBuf,
    /// Scenario runs at once (default: four per core).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum EnvAction {
    /// Start the environment; print its endpoints, CA path and accounts as one JSON line.
    Up {
        /// Switch this fault on (repeatable), to explore a broken system by hand.
        #[arg(long = "fault", value_name = "FAULT")]
        faults: Vec<String>,
        /// Simulated seconds per real second (3600: an hour a second; 0: still, moved only
        /// by POST /control/advance).
        #[arg(long, value_name = "N", default_value_t = 1.0)]
        speed: f64,
        /// Connect the DMS to the cloud through the real connect flow before printing.
        #[arg(long)]
        connected: bool,
        /// Also share a dashboard with a recipient who has an account (implies --connected):
        /// the line carries the emailed link and the recipient's credentials.
        #[arg(long)]
        shared: bool,
        /// Organisations in the environment: 2 adds a second one with a DMS of its own,
        /// registered through the connect flow, whose token the line carries (and, with
        /// --shared, a share of its own), for cross-tenant attempts by hand.
        #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
        orgs: u8,
        /// Write a pcapng of every connection and the TLS key log that decrypts it into DIR
        /// when the environment stops. They hold the environment's live secrets.
        #[arg(long, value_name = "DIR")]
        capture: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum StoreAction {
    /// Decrypt a store file (the primary, or a backup in the second region) with the vault's
    /// keys, unwrapped as the cloud's managed identity inside the running environment, and
    /// print its tables as JSON. Exits 0 when every value opened, 1 when one did not (moved
    /// or changed), 2 when the environment could not be asked.
    Decrypt {
        /// The control endpoint `env up` printed (`control` in its JSON line).
        #[arg(long, value_name = "URL")]
        control: String,
        /// The store file to decrypt (default: the primary, `store.database` in the line).
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProbeKind {
    /// Which TLS versions and TLS 1.2 cipher suites HOST:PORT accepts, and its certificate
    /// chain. Exits 0 when the endpoint speaks TLS (refusals are findings), 1 when it answers
    /// in something else or not at all, 2 when it cannot be reached.
    Tls {
        /// HOST:PORT; an IPv6 address goes in brackets: [::1]:443.
        target: String,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// The server name to send (default: HOST when it is a name, none for an address).
        #[arg(long, value_name = "NAME")]
        sni: Option<String>,
    },
    /// Sends forgeries of one valid token (those that need no server secret) to URL as
    /// `Authorization: Bearer`. Exits 0 when every forgery was refused, 1 when one was
    /// accepted, 2 when the probe could not run (the valid token itself refused, say).
    Jwt {
        /// The endpoint, e.g. https://connection.dataminer.services/api/dms/self.
        url: String,
        /// A token the endpoint accepts.
        #[arg(long, value_name = "T")]
        token: String,
        /// A status meaning "refused" (repeatable; default 401 and 403). 2xx is accepted.
        #[arg(long = "refused", value_name = "STATUS")]
        refused: Vec<u16>,
        /// Trust these PEM roots instead of the system's.
        #[arg(long, value_name = "FILE")]
        cacert: Option<PathBuf>,
        /// NAME:PORT:ADDR, as curl's --resolve (repeatable).
        #[arg(long, value_name = "NAME:PORT:ADDR")]
        resolve: Vec<String>,
        /// More secrets (one a line) to try offline against the token's HMAC, besides the
        /// bundled list of common and default ones.
        #[arg(long, value_name = "FILE")]
        wordlist: Option<PathBuf>,
        /// A real token of the service whose exp has passed: it must be refused.
        #[arg(long, value_name = "T")]
        expired: Option<String>,
        /// A real token of the service whose nbf is still ahead: it must be refused.
        #[arg(long, value_name = "T")]
        not_yet_valid: Option<String>,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Sends the attack corpus's mutations of one whitelisted call to the WAF at URL
    /// (http://HOST:PORT/), or, in recipient mode (--link, --email, --password), signs in as a
    /// share's recipient and sends the mutations of every call of the shared dashboard through
    /// the mailed link. Exits 0 when every mutation off the whitelist was blocked, 1 when one
    /// was let through, 2 when the probe could not run (the call itself not allowed, say).
    Waf {
        /// The WAF, e.g. the `endpoints.waf` of `conform env up` (not with --link).
        url: Option<String>,
        /// The whitelisted call and how to read answers (JSON; see docs/env.md).
        #[arg(long, value_name = "FILE")]
        call: Option<PathBuf>,
        /// Recipient mode: the share link the recipient was mailed.
        #[arg(long, value_name = "URL", requires_all = ["email", "password"], conflicts_with_all = ["url", "call"])]
        link: Option<String>,
        /// Recipient mode: the recipient's dataminer.services account.
        #[arg(long, value_name = "E")]
        email: Option<String>,
        /// Recipient mode: that account's password.
        #[arg(long, value_name = "P")]
        password: Option<String>,
        /// Recipient mode: trust these PEM roots instead of the system's.
        #[arg(long, value_name = "FILE")]
        cacert: Option<PathBuf>,
        /// Recipient mode: NAME:PORT:ADDR, as curl's --resolve (repeatable).
        #[arg(long, value_name = "NAME:PORT:ADDR")]
        resolve: Vec<String>,
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}
