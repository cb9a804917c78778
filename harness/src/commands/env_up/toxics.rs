//! The network conditions of a live environment, by hop name, as the control endpoint takes
//! and lists them (docs/env.md): `{"hop":"dms-to-cloud","direction":"both","toxic":{"latency":
//! {"delay_ms":500,"jitter_ms":100}}}`. Times are milliseconds of real time: only the network
//! is slow, never the simulated clock.

use std::time::Duration;

use mocks::cloud::Endpoint;
use mocks::world::net::{Direction, Toxic, Toxics};
use mocks::{Environment, Hop};
use serde::{Deserialize, Serialize};

/// The hops a reviewer names, and the environment's hops behind each.
const HOPS: &[(&str, &[Hop])] = &[
    (
        "dms-to-cloud",
        &[
            Hop::DmsToCloud(Endpoint::Connection),
            Hop::DmsToCloud(Endpoint::Tunnel),
            Hop::DmsToCloud(Endpoint::Sharing),
        ],
    ),
    (
        "dms-to-connection",
        &[Hop::DmsToCloud(Endpoint::Connection)],
    ),
    ("dms-to-tunnel", &[Hop::DmsToCloud(Endpoint::Tunnel)]),
    ("dms-to-sharing", &[Hop::DmsToCloud(Endpoint::Sharing)]),
    ("agent-to-waf", &[Hop::AgentToWaf]),
    ("waf-to-dma", &[Hop::WafToDma]),
    ("recipient-to-cloud", &[Hop::RecipientToCloud]),
];

/// The hops `GET /control/state` lists, one entry each (`dms-to-cloud` is the first three).
const LISTED: &[&str] = &[
    "dms-to-connection",
    "dms-to-tunnel",
    "dms-to-sharing",
    "agent-to-waf",
    "waf-to-dma",
    "recipient-to-cloud",
];

/// A toxic as the control endpoint writes it: externally tagged, times in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ToxicSpec {
    Latency {
        delay_ms: u64,
        #[serde(default)]
        jitter_ms: u64,
    },
    Bandwidth {
        bytes_per_second: u64,
    },
    SlowClose {
        delay_ms: u64,
    },
    /// A black hole; with `close_after_ms`, the connection ends that long after.
    Timeout {
        #[serde(default)]
        close_after_ms: Option<u64>,
    },
    ResetPeer {
        #[serde(default)]
        after_ms: u64,
    },
    Slicer {
        size: usize,
        #[serde(default)]
        delay_ms: u64,
    },
    LimitData {
        bytes: u64,
    },
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Way {
    Upstream,
    Downstream,
    #[default]
    Both,
}

/// `POST /control/toxics`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Apply {
    pub hop: String,
    #[serde(default)]
    pub direction: Way,
    pub toxic: ToxicSpec,
}

/// One toxic on one hop, as `GET /control/state` lists it.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub hop: &'static str,
    pub direction: Way,
    pub toxic: ToxicSpec,
}

/// What the control endpoint refuses, with the reason it answers 400 or 404 with.
#[derive(Debug, thiserror::Error)]
pub enum ToxicError {
    #[error(
        "no hop named {0:?}; hops: dms-to-cloud, dms-to-connection, dms-to-tunnel, dms-to-sharing, agent-to-waf, waf-to-dma, recipient-to-cloud"
    )]
    UnknownHop(String),
}

impl From<ToxicSpec> for Toxic {
    fn from(spec: ToxicSpec) -> Self {
        let ms = Duration::from_millis;
        match spec {
            ToxicSpec::Latency {
                delay_ms,
                jitter_ms,
            } => Toxic::Latency {
                delay: ms(delay_ms),
                jitter: ms(jitter_ms),
            },
            ToxicSpec::Bandwidth { bytes_per_second } => Toxic::Bandwidth { bytes_per_second },
            ToxicSpec::SlowClose { delay_ms } => Toxic::SlowClose {
                delay: ms(delay_ms),
            },
            ToxicSpec::Timeout { close_after_ms } => Toxic::Timeout {
                close_after: close_after_ms.map(ms),
            },
            ToxicSpec::ResetPeer { after_ms } => Toxic::ResetPeer {
                after: ms(after_ms),
            },
            ToxicSpec::Slicer { size, delay_ms } => Toxic::Slicer {
                size,
                delay: ms(delay_ms),
            },
            ToxicSpec::LimitData { bytes } => Toxic::LimitData { bytes },
        }
    }
}

impl From<Toxic> for ToxicSpec {
    fn from(toxic: Toxic) -> Self {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        match toxic {
            Toxic::Latency { delay, jitter } => ToxicSpec::Latency {
                delay_ms: ms(delay),
                jitter_ms: ms(jitter),
            },
            Toxic::Bandwidth { bytes_per_second } => ToxicSpec::Bandwidth { bytes_per_second },
            Toxic::SlowClose { delay } => ToxicSpec::SlowClose {
                delay_ms: ms(delay),
            },
            Toxic::Timeout { close_after } => ToxicSpec::Timeout {
                close_after_ms: close_after.map(ms),
            },
            Toxic::ResetPeer { after } => ToxicSpec::ResetPeer {
                after_ms: ms(after),
            },
            Toxic::Slicer { size, delay } => ToxicSpec::Slicer {
                size,
                delay_ms: ms(delay),
            },
            Toxic::LimitData { bytes } => ToxicSpec::LimitData { bytes },
        }
    }
}

fn hops(env: &Environment, name: &str) -> Result<Vec<Toxics>, ToxicError> {
    let (_, hops) = HOPS
        .iter()
        .find(|(known, _)| *known == name)
        .ok_or_else(|| ToxicError::UnknownHop(name.to_owned()))?;
    Ok(hops.iter().filter_map(|hop| env.hop(*hop)).collect())
}

/// Applies one toxic to every hop the name stands for, on open connections and new ones.
pub fn apply(env: &Environment, apply: &Apply) -> Result<(), ToxicError> {
    let toxic = Toxic::from(apply.toxic);
    for toxics in hops(env, &apply.hop)? {
        match apply.direction {
            Way::Upstream => {
                toxics.add(Direction::Upstream, toxic);
            }
            Way::Downstream => {
                toxics.add(Direction::Downstream, toxic);
            }
            Way::Both => {
                toxics.add_both(toxic);
            }
        }
    }
    Ok(())
}

/// Takes every toxic off the hops the name stands for.
pub fn clear(env: &Environment, name: &str) -> Result<(), ToxicError> {
    hops(env, name)?.iter().for_each(Toxics::clear);
    Ok(())
}

/// Every toxic applied now, per hop; one applied both ways is listed once as `both`.
pub fn listed(env: &Environment) -> Vec<Listed> {
    let mut listed = Vec::new();
    for name in LISTED {
        let Ok(toxics) = hops(env, name) else {
            continue;
        };
        for set in toxics {
            let mut applied = set.applied();
            while let Some((direction, toxic)) = applied.first().copied() {
                applied.remove(0);
                let other = match direction {
                    Direction::Upstream => Direction::Downstream,
                    Direction::Downstream => Direction::Upstream,
                };
                let way = match applied.iter().position(|a| *a == (other, toxic)) {
                    Some(at) => {
                        applied.remove(at);
                        Way::Both
                    }
                    None if direction == Direction::Upstream => Way::Upstream,
                    None => Way::Downstream,
                };
                listed.push(Listed {
                    hop: name,
                    direction: way,
                    toxic: toxic.into(),
                });
            }
        }
    }
    listed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_toxic_reads_as_the_docs_write_it_and_lists_back_the_same() {
        let apply: Apply = serde_json::from_str(
            r#"{"hop":"dms-to-cloud","toxic":{"latency":{"delay_ms":500,"jitter_ms":100}}}"#,
        )
        .expect("the documented form");
        assert_eq!(apply.direction, Way::Both);
        let back = ToxicSpec::from(Toxic::from(apply.toxic));
        assert_eq!(back, apply.toxic);
        let hole: ToxicSpec = serde_json::from_str(r#"{"timeout":{}}"#).expect("a black hole");
        assert_eq!(Toxic::from(hole), Toxic::Timeout { close_after: None });
        assert!(serde_json::from_str::<ToxicSpec>(r#"{"latency":{"delay":5}}"#).is_err());
    }
}
