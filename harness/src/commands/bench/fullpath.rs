//! The full path as a recipient feels it: an HTTPS call to the sharing front end, carried by
//! the cloud through the tunnel to the agent, the WAF and the DMA, and the answer streamed all
//! the way back. Bulk is one large trend (`GetTrendDataForParameter`); latency is a trend of
//! about 1 KiB.

use std::time::{Duration, Instant};

use mocks::Environment;
use mocks::dma::TREND_METHOD;
use mocks::world::FaultSet;
use scenarios::steps::{self, Received, Recipient};

/// Points in a bulk download: about 64 MB.
pub const BULK_POINTS: u64 = 2_000_000;
/// Bulk downloads, one after the other.
const BULK_DOWNLOADS: usize = 2;
/// Points in a latency call: 32 points of about 31 bytes, about 1 KiB.
pub const KIB_POINTS: u64 = 32;

/// What the full path measured.
#[derive(Debug)]
pub struct FullPath {
    /// Bytes a bulk download carried, and how long each took.
    pub bulk_bytes: u64,
    pub bulk_took: Vec<Duration>,
    /// How long each 1 KiB call took, from sending to the last byte.
    pub kib_took: Vec<Duration>,
    pub kib_bytes: u64,
}

/// A connected DMS and a signed-in recipient logged in to its API through the front end.
#[derive(Debug)]
pub struct Session {
    env: Environment,
    recipient: Recipient,
    dms: String,
    connection: String,
}

impl Session {
    /// A fresh default environment, its DMS connected, the recipient logged in.
    pub async fn start() -> anyhow::Result<Self> {
        let env = Environment::start(FaultSet::none()).await?;
        match Self::log_in(&env).await {
            Ok((recipient, connection)) => Ok(Self {
                dms: env.accounts().dms_id.clone(),
                env,
                recipient,
                connection,
            }),
            Err(e) => {
                env.stop().await;
                Err(e)
            }
        }
    }

    async fn log_in(env: &Environment) -> anyhow::Result<(Recipient, String)> {
        let failed = |e: scenarios::Failure| anyhow::anyhow!("{e}");
        steps::connect_dms(env).await.map_err(failed)?;
        let (dms, admin) = (&env.accounts().dms_id, &env.accounts().dms_admin);
        let recipient = Recipient::signed_in(env).await.map_err(failed)?;
        let connection = recipient
            .connect_app(dms, &admin.login, &admin.password)
            .await
            .map_err(failed)?;
        Ok((recipient, connection))
    }

    /// Downloads a trend of `points` through the full path, reading it to the end.
    pub async fn trend(&self, points: u64) -> anyhow::Result<Received> {
        let body = serde_json::json!({
            "connection": self.connection, "dmaID": 2000, "elementID": 100,
            "parameterID": 1001, "points": points,
        });
        let received = self
            .recipient
            .call(&self.dms, TREND_METHOD, &body, |_| {})
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        anyhow::ensure!(
            received.status == 200,
            "a trend download answered {received:?}"
        );
        Ok(received)
    }

    pub async fn stop(self) {
        self.env.stop().await;
    }
}

/// Runs the full-path measurements on a fresh default environment.
pub async fn measure(latency_samples: usize) -> anyhow::Result<FullPath> {
    let session = Session::start().await?;
    let measured = run(&session, latency_samples).await;
    session.stop().await;
    measured
}

async fn run(session: &Session, latency_samples: usize) -> anyhow::Result<FullPath> {
    let mut bulk_took = Vec::with_capacity(BULK_DOWNLOADS);
    let mut bulk_bytes = 0;
    for _ in 0..BULK_DOWNLOADS {
        let received = session.trend(BULK_POINTS).await?;
        bulk_bytes = received.bytes;
        bulk_took.push(received.ended - received.sent);
    }
    let mut kib_took = Vec::with_capacity(latency_samples);
    let mut kib_bytes = 0;
    for _ in 0..latency_samples {
        let began = Instant::now();
        kib_bytes = session.trend(KIB_POINTS).await?.bytes;
        kib_took.push(began.elapsed());
    }
    Ok(FullPath {
        bulk_bytes,
        bulk_took,
        kib_took,
        kib_bytes,
    })
}
