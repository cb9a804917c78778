use std::time::Duration;

use mocks::Environment;
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// The running environment with what a live session adds: its speed, where its clock started,
/// and one lane for advances, so the real-time driver and a reviewer's `advance` never
/// interleave their settles.
#[derive(Debug)]
pub struct Live {
    env: Environment,
    speed: f64,
    started: u64,
    advancing: Mutex<()>,
}

impl Live {
    pub fn new(env: Environment, speed: f64) -> Self {
        let started = env.clock().unix_seconds();
        Self {
            env,
            speed,
            started,
            advancing: Mutex::new(()),
        }
    }

    pub fn env(&self) -> &Environment {
        &self.env
    }

    pub fn into_env(self) -> Environment {
        self.env
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Moves simulated time on and returns once the agent and the cloud's keepalive acted.
    pub async fn advance(&self, by: Duration) {
        let _lane = self.advancing.lock().await;
        self.env.advance(by).await;
    }

    /// What the environment holds now, without a secret: no token, key or password.
    pub async fn state(&self) -> Value {
        let env = &self.env;
        let now = env.clock().unix_seconds();
        let agent = env.agent().reported().await.ok();
        let tunnels: Vec<_> = env
            .cloud()
            .tunnels()
            .live()
            .iter()
            .map(|t| json!({ "id": t.id, "dms_id": t.dms_id }))
            .collect();
        let issued: Vec<_> = env
            .cloud()
            .issued()
            .iter()
            .map(|t| json!({ "dms_id": t.dms_id, "grant": t.grant, "iat": t.iat, "exp": t.exp }))
            .collect();
        json!({
            "now": now,
            "elapsed_seconds": now.saturating_sub(self.started),
            "speed": self.speed,
            "agent": agent,
            "tunnels_live": tunnels,
            "tokens_issued": issued.len(),
            "tokens": issued,
            "store": env.cloud().store().key_versions().ok(),
            "toxics": super::toxics::listed(env),
            "second_site": env.second_site().map(|site| json!({
                "dms_id": site.accounts().dms_id,
                // What reached the second organisation's DMS, on its own records.
                "streams_received": site.agent_streams().all(),
                "dma_arrivals": site.dma().arrivals().all().len(),
                "dma_executed": site.dma().executed().all().len(),
            })),
        })
    }
}
