//! The cloud restarts under a connected DMS: its connections and tunnel table go, what it
//! stored stays. The DMS is back on its tunnels with the token it held, without an
//! Administrator's connect flow. Judged on the cloud's record: the upgrades it accepted and
//! the device authorizations it was asked for after the restart, and the tunnels it holds.

use std::time::Duration;

use mocks::cloud::Endpoint;

use crate::steps;
use crate::{Ctx, Failure};

/// Time enough for a few redials with backoff: the agent's first retry is seconds away.
const AFTER: Duration = Duration::from_secs(600);

pub(super) async fn agents_come_back_on_their_token(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let dms_id = env.accounts().dms_id.clone();
    let held = steps::token_seen_on_tunnel(&env)?;
    let before = env.cloud().tunnels().live().len();
    ev.saw("tunnels the cloud held before it restarted", before);

    let restarted_at = env.clock().unix_seconds();
    env.cloud()
        .restart()
        .await
        .map_err(|e| Failure::Harness(format!("the cloud did not restart: {e}")))?;
    ev.saw(
        "tunnels the cloud holds right after the restart",
        env.cloud().tunnels().live().len(),
    );
    if !steps::dms_let_go_of_tunnels(&env).await {
        return Err(Failure::timeout(
            "the DMS to see its tunnels end with the cloud's restart",
            steps::PROMPTLY,
        ));
    }
    steps::let_time_pass(&env, AFTER, 60).await;

    let after: Vec<_> = env
        .cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.at_unix >= restarted_at)
        .collect();
    let device_authorizations = after
        .iter()
        .filter(|r| r.path.starts_with("/oauth/device_authorization"))
        .count();
    ev.expect_eq(
        "no-connect-flow-after-restart",
        "device authorizations the cloud was asked for after it restarted",
        0,
        device_authorizations,
    )?;
    let upgrades: Vec<(u16, bool)> = after
        .iter()
        .filter(|r| r.endpoint == Endpoint::Tunnel.host())
        .map(|r| (r.status, r.bearer() == Some(held.as_str())))
        .collect();
    ev.saw(
        "tunnel upgrades after the restart: (status, with the token held before)",
        &upgrades,
    );
    let live = env
        .cloud()
        .tunnels()
        .live()
        .iter()
        .filter(|t| t.dms_id == dms_id)
        .count();
    ev.expect(
        "tunnels-back-on-the-held-token",
        "tunnels of the DMS the cloud holds after the restart, and upgrades it refused",
        live >= 1 && upgrades.iter().all(|(status, _)| *status == 101),
        "at least one, no upgrade refused",
        (live, upgrades.iter().filter(|(s, _)| *s != 101).count()),
    )?;
    ev.expect(
        "upgrades-present-the-held-token",
        "tunnel upgrades after the restart that presented another token than the DMS held",
        upgrades.iter().all(|(_, same)| *same),
        "none",
        upgrades.iter().filter(|(_, same)| !same).count(),
    )
}
