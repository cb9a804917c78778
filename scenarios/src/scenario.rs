use std::fmt;
use std::str::FromStr;

use futures_util::future::BoxFuture;
use mocks::world::capture::CaptureSink;
use mocks::world::{Fault, FaultSet};
use mocks::{Environment, Options};

use crate::{Check, Evidence, Failure};

/// A group of scenarios about one part of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Suite {
    Optin,
    Resilience,
    Storage,
    Sharing,
    Tls,
    Tokens,
    Tunnel,
    Users,
    Waf,
    Network,
    Access,
}

impl Suite {
    pub const ALL: &[Suite] = &[
        Suite::Optin,
        Suite::Tls,
        Suite::Tokens,
        Suite::Tunnel,
        Suite::Users,
        Suite::Waf,
        Suite::Sharing,
        Suite::Access,
        Suite::Resilience,
        Suite::Storage,
        Suite::Network,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Suite::Optin => "optin",
            Suite::Tls => "tls",
            Suite::Tokens => "tokens",
            Suite::Tunnel => "tunnel",
            Suite::Users => "users",
            Suite::Waf => "waf",
            Suite::Sharing => "sharing",
            Suite::Resilience => "resilience",
            Suite::Storage => "storage",
            Suite::Network => "network",
            Suite::Access => "access",
        }
    }

    /// One line on what the suite proves, for `conform list` and the README.
    pub fn verifies(self) -> &'static str {
        match self {
            Suite::Optin => {
                "connecting is opt-in: nothing leaves the DMS until an Administrator enables it, and a disconnect really ends it"
            }
            Suite::Tokens => {
                "the connect flow and the token life cycle: grants bound to the key of the DMS that asked, server to server; HS256, one week, single-use refresh keys, a secret that stays in the vault"
            }
            Suite::Tunnel => {
                "the tunnel: the DMS's outbound WSS carries independent HTTP/2 streams; a large answer holds no other back, resets and lost tunnels end streams cleanly, the agent dials again, and no token means no tunnel"
            }
            Suite::Users => {
                "share users: one per share, a random 17-character password kept only as Blowfish-ECB ciphertext, usable only through the gateway, read-only on exactly the dashboard's items, even with the WAF off"
            }
            Suite::Waf => {
                "the WAF: a whitelist of the dashboard's calls, every whitelisted call passes in any equivalent form, every corpus attack is blocked"
            }
            Suite::Sharing => {
                "live sharing on the recipient's real path: one mail per address from dataminer.services with an unguessable link, opened only by that address's account, the dashboard live through tunnel, agent and WAF as the share user, and deletion or expiry ending links, viewers, the share user and the whitelist"
            }
            Suite::Resilience => {
                "faults of the world: a refresh endpoint failing for hours, a tunnel cut mid-transfer, an answer lost on the DMS side; the DMS keeps its token, redials, and never applies a write twice"
            }
            Suite::Storage => {
                "what the cloud keeps: every stored value sealed with AES-256-GCM under vault-wrapped data keys and bound to its place, keys rotated with nothing lost, backups to a second region restorable to the last one, and no DMS data anywhere it writes"
            }
            Suite::Network => {
                "network placement: the agent, as its own process, listens on nothing by the OS's socket table; only dataminer.services names on their published addresses, no redirect followed, and through a DMZ proxy only TLS, never around it"
            }
            Suite::Access => {
                "remote access: off until an Owner or Admin enables it per DMS and per account, the DMS's own rights for whoever signs in, a remote session serving only its account, and remote sign-in failures locking out no share user and no other account"
            }
            Suite::Tls => {
                "TLS 1.2 only with forward-secret AEAD suites on every cloud endpoint and in the agent, certificates checked, no plaintext"
            }
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A suite name no registry knows.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown suite {0:?} (known: {known})", known = Suite::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "))]
pub struct UnknownSuite(pub String);

impl FromStr for Suite {
    type Err = UnknownSuite;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Suite::ALL
            .iter()
            .copied()
            .find(|s| s.name() == name)
            .ok_or_else(|| UnknownSuite(name.to_owned()))
    }
}

/// What a scenario body is handed: the fault switches of this run, a way to start an
/// environment with them, and the evidence record the verdict is reported with.
#[derive(Debug, Clone)]
pub struct Ctx {
    faults: FaultSet,
    evidence: Evidence,
    /// The run's capture, when it captures: every environment of the run goes on it.
    capture: Option<CaptureSink>,
}

impl Ctx {
    pub fn new(faults: FaultSet, evidence: Evidence) -> Self {
        Self {
            faults,
            evidence,
            capture: None,
        }
    }

    /// Every environment this run starts goes on `capture`.
    pub fn capturing(mut self, capture: Option<CaptureSink>) -> Self {
        self.capture = capture;
        self
    }

    pub fn evidence(&self) -> Evidence {
        self.evidence.clone()
    }

    /// A fresh environment, with this run's faults switched on.
    pub async fn environment(&self) -> Result<Environment, Failure> {
        self.environment_with(self.options()).await
    }

    /// The default setup with this run's faults: for a scenario that changes the world.
    pub fn options(&self) -> Options {
        Options {
            faults: self.faults.clone(),
            ..Options::default()
        }
    }

    /// A fresh environment set up as `options` say.
    pub async fn environment_with(&self, mut options: Options) -> Result<Environment, Failure> {
        if options.capture.is_none() {
            options.capture.clone_from(&self.capture);
        }
        Environment::start_with(options)
            .await
            .map_err(|e| Failure::Harness(format!("environment did not start: {e}")))
    }
}

/// An expected failure, as data: under `fault`, the expectation labelled `check` must be the
/// one that fails (BoGo's `expectedError`, tlsfuzzer's expected alert). Any other failure —
/// another check, a setup step, a timeout — is not a catch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Catch {
    pub fault: Fault,
    pub check: Check,
}

impl Catch {
    pub const fn by(fault: Fault, check: Check) -> Self {
        Self { fault, check }
    }
}

/// The async body of a scenario: records what it observes in `ctx.evidence()`, and returns
/// the first violation it finds.
pub type Body = fn(Ctx) -> BoxFuture<'static, Result<(), Failure>>;

/// One scenario: data, plus the body that checks it.
#[derive(Clone)]
pub struct Scenario {
    /// Dotted sentence, suite first: `optin.new-dms-sends-nothing`.
    pub id: &'static str,
    pub suite: Suite,
    pub title: &'static str,
    pub requirements: &'static [&'static str],
    /// Each of these faults must make the scenario fail by the check named with it; a test
    /// checks that it does, and that no other check or step failed instead.
    pub catches: &'static [Catch],
    pub body: Body,
}

impl fmt::Debug for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scenario")
            .field("id", &self.id)
            .field("suite", &self.suite)
            .field("requirements", &self.requirements)
            .field("catches", &self.catches)
            .finish_non_exhaustive()
    }
}
