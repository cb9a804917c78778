//! The full path as a recipient feels it: an HTTPS call to the sharing front end, carried by
//! the cloud through the tunnel to the agent, the WAF and the DMA, and the answer streamed all
//! the way back. Bulk is one large trend (`GetTrendDataForParameter`); latency is a trend of
//! about 1 KiB.

use std::time::{Duration, Instant};

use mocks::Environment;
use mocks::dma::TREND_METHOD;
use mocks::world::FaultSet;
use scenarios::steps::{self, Recipient};

/// Points in a bulk download: about 64 MB.
const BULK_POINTS: u64 = 2_000_000;
/// Bulk downloads, one after the other.
const BULK_DOWNLOADS: usize = 2;
/// Points in a latency call: 32 points of about 31 bytes, about 1 KiB.
const KIB_POINTS: u64 = 32;

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

/// Runs the full-path measurements on a fresh default environment.
pub async fn measure(latency_samples: usize) -> anyhow::Result<FullPath> {
    let env = Environment::start(FaultSet::none()).await?;
    let measured = run(&env, latency_samples).await;
    env.stop().await;
    measured
}

async fn run(env: &Environment, latency_samples: usize) -> anyhow::Result<FullPath> {
    let failed = |e: scenarios::Failure| anyhow::anyhow!("{e}");
    steps::connect_dms(env).await.map_err(failed)?;
    let dms = env.accounts().dms_id.clone();
    let admin = &env.accounts().dms_admin;
    let recipient = Recipient::signed_in(env).await.map_err(failed)?;
    let connection = recipient
        .connect_app(&dms, &admin.login, &admin.password)
        .await
        .map_err(failed)?;
    let trend = |points: u64| {
        serde_json::json!({
            "connection": connection, "dmaID": 2000, "elementID": 100,
            "parameterID": 1001, "points": points,
        })
    };

    let mut bulk_took = Vec::with_capacity(BULK_DOWNLOADS);
    let mut bulk_bytes = 0;
    for _ in 0..BULK_DOWNLOADS {
        let received = recipient
            .call(&dms, TREND_METHOD, &trend(BULK_POINTS), |_| {})
            .await
            .map_err(failed)?;
        anyhow::ensure!(
            received.status == 200,
            "a bulk download answered {received:?}"
        );
        bulk_bytes = received.bytes;
        bulk_took.push(received.ended - received.sent);
    }

    let mut kib_took = Vec::with_capacity(latency_samples);
    let mut kib_bytes = 0;
    for _ in 0..latency_samples {
        let began = Instant::now();
        let received = recipient
            .call(&dms, TREND_METHOD, &trend(KIB_POINTS), |_| {})
            .await
            .map_err(failed)?;
        kib_took.push(began.elapsed());
        anyhow::ensure!(received.status == 200, "a 1 KiB call answered {received:?}");
        kib_bytes = received.bytes;
    }
    Ok(FullPath {
        bulk_bytes,
        bulk_took,
        kib_took,
        kib_bytes,
    })
}
