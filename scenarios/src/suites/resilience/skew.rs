//! The DMS's clock minutes off the cloud's: what the DMS signs must still land within the
//! cloud's stated allowance (the cloud refuses what does not), its token is renewed on the
//! token's own terms, and its tunnels never lapse. Judged on the cloud's record: which of the
//! DMS's requests it accepted, when, and which tunnels it held.

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{CloudRequest, Endpoint};
use serde_json::Value;

use crate::steps;
use crate::{Ctx, Failure, oracle};

/// The drift the scenarios give the DMS's clock: the five minutes.
pub(super) const DRIFT_SECS: i64 = 300;
const HOUR: Duration = Duration::from_secs(3600);
/// Long enough to outlive the first token: a week and a day.
const DAYS: u32 = 8;

pub(super) async fn dms_clock_off(ctx: Ctx, offset: i64) -> Result<(), Failure> {
    let spec = oracle::spec()?;
    let allowance = spec.token.clock_skew_allowance_seconds;
    let mut options = ctx.options();
    options.agent_clock_offset_seconds = offset;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    ev.saw("the DMS's clock against the cloud's (seconds)", offset);
    ev.saw("the cloud's stated allowance (seconds)", allowance);

    let connected = steps::connect_dms(&env).await;
    let stamps: Vec<Stamp> = oauth_requests(&env).iter().filter_map(Stamp::of).collect();
    ev.saw(
        "the DMS's assertions while connecting: (path, iat - arrival, status)",
        stamps
            .iter()
            .map(|s| (s.path.clone(), s.iat_offset(), s.status))
            .collect::<Vec<_>>(),
    );
    let granted = stamps
        .iter()
        .filter(|s| s.path.starts_with("/oauth/device_authorization") && s.status == 200)
        .count();
    ev.expect(
        "device-authorization-granted-across-skew",
        "device authorizations the cloud granted the DMS",
        granted >= 1,
        "at least one",
        granted,
    )?;
    let misjudged: Vec<_> = stamps
        .iter()
        .filter(|s| s.within(allowance) != (s.status == 200))
        .map(|s| (s.path.clone(), s.iat_offset(), s.status))
        .collect();
    ev.expect(
        "cloud-accepts-within-allowance-only",
        "assertions the cloud accepted although stamped beyond its allowance, or refused although within",
        misjudged.is_empty(),
        "none",
        &misjudged,
    )?;
    connected?;

    let dms_id = env.accounts().dms_id.clone();
    let mut lapses = Vec::new();
    for _ in 0..DAYS * 24 {
        env.advance(HOUR).await;
        if !env
            .cloud()
            .tunnels()
            .live()
            .iter()
            .any(|t| t.dms_id == dms_id)
        {
            lapses.push(env.clock().unix_seconds());
        }
    }
    let grants: Vec<CloudRequest> = oauth_requests(&env)
        .into_iter()
        .filter(|r| r.body.contains("grant_type=refresh_token"))
        .collect();
    let refused: Vec<(u64, u16)> = grants
        .iter()
        .filter(|r| r.status != 200)
        .map(|r| (r.at_unix, r.status))
        .collect();
    ev.saw("refresh grants the cloud received", grants.len());
    let daily = u32::try_from(spec.token.renew_every_seconds / HOUR.as_secs())
        .unwrap_or(u32::MAX)
        .max(1);
    // The first renewal falls a day after the connect, so one day in the span has none.
    let wanted = usize::try_from(DAYS * 24 / daily)
        .unwrap_or(0)
        .saturating_sub(1);
    ev.saw("daily renewals the span holds", wanted);
    ev.expect(
        "refresh-grants-accepted-across-skew",
        "refresh grants the cloud accepted, and those it refused (time, status)",
        refused.is_empty() && grants.len() >= wanted,
        "one a day at least, none refused",
        (grants.len() - refused.len(), &refused),
    )?;
    ev.expect(
        "tunnels-never-lapse-across-skew",
        "times (on the cloud's clock) the cloud held no tunnel of the DMS",
        lapses.is_empty(),
        "none",
        &lapses,
    )
}

/// One client assertion as the cloud received it: where, when, and what it said of its time.
struct Stamp {
    path: String,
    status: u16,
    arrived: u64,
    iat: u64,
    exp: u64,
}

impl Stamp {
    fn of(request: &CloudRequest) -> Option<Self> {
        let assertion = form_urlencoded::parse(request.body.as_bytes())
            .find(|(name, _)| name == "client_assertion")?
            .1;
        let (_, claims) = probes::jwt::decode_unverified(&assertion)?;
        let time = |name: &str| claims.get(name).and_then(Value::as_u64);
        Some(Self {
            path: request.path.clone(),
            status: request.status,
            arrived: request.at_unix,
            iat: time("iat")?,
            exp: time("exp")?,
        })
    }

    fn iat_offset(&self) -> i128 {
        i128::from(self.iat) - i128::from(self.arrived)
    }

    /// Issued no later than `allowance` after its arrival, and not expired by more than it.
    fn within(&self, allowance: u64) -> bool {
        self.iat <= self.arrived + allowance && self.arrived <= self.exp + allowance
    }
}

/// The requests the cloud's OAuth endpoints received, in order.
fn oauth_requests(env: &Environment) -> Vec<CloudRequest> {
    env.cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.endpoint == Endpoint::Connection.host() && r.path.starts_with("/oauth/"))
        .collect()
}
