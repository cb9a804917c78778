//! The "mid-renewal" state of the endings sweep: the DMS's daily renewal reached the cloud,
//! which spent the refresh key and issued the family's next token, but the cloud holds the
//! answer (`Cloud::renewal_hold`), and the Administrator disconnects meanwhile. The agent
//! gives up on the held exchange at its network timeout and handles the disconnect: it holds
//! only the token the renewal superseded, and its revocation must still end the family.

use std::time::Duration;

use mocks::Environment;
use serde_json::json;

use super::ending_probe::{
    CutTimeout, Ended, RETRY, cloud_takes, connection_state, state_in, stored_token,
};
use crate::clients::DmaSession;
use crate::{Evidence, Failure, oracle, steps};

/// How many renewals the cloud has recorded for the environment's DMS (its refresh grants).
fn renewals(env: &Environment) -> usize {
    let dms_id = &env.accounts().dms_id;
    env.cloud()
        .issued()
        .iter()
        .filter(|i| &i.dms_id == dms_id && i.grant == "refresh_token")
        .count()
}

pub(super) async fn disconnect_mid_renewal(
    env: &Environment,
    admin: &DmaSession,
    ev: &Evidence,
    kept: &mut Vec<String>,
) -> Result<Ended, Failure> {
    let token = stored_token(env)?;
    let shortened = CutTimeout::start(env);
    renewal_held(env).await?;
    let hold = env.cloud().renewal_hold();
    let disconnected = admin.expect_data("DisconnectFromCloud", json!({})).await;
    hold.release();
    drop(shortened);
    let answer = disconnected?;
    let reported = connection_state(admin).await?;
    if env.dms_credentials().stored().is_some() {
        kept.push("mid-renewal".to_owned());
    }
    ev.saw(
        "mid-renewal: DisconnectFromCloud, then GetCloudConnectionState",
        (state_in(&answer), reported),
    );
    env.advance(RETRY + Duration::from_secs(1)).await;
    env.settle().await;
    // The cloud could be reached for the revocation all along: nothing was pending to tell.
    Ok(Ended {
        refused_after: cloud_takes(env, &token).await?,
        told_while_cut: None,
    })
}

/// Brings the DMS's daily renewal to where the cloud has renewed (spent the refresh key, issued
/// the family's next token) and holds its answer: the cloud's renewal hold is then armed and
/// holding, and the caller releases it.
pub(super) async fn renewal_held(env: &Environment) -> Result<(), Failure> {
    let spec = oracle::spec()?;
    let renew = Duration::from_secs(spec.token.renew_every_seconds);
    let before = renewals(env);
    // To a minute before the renewal is due, with the cloud's answers reaching the DMS.
    steps::let_time_pass(env, renew - Duration::from_secs(60), 24).await;
    if renewals(env) != before {
        return Err(Failure::precondition(
            "the DMS before its daily renewal",
            "no renewal yet",
            renewals(env) - before,
        ));
    }
    let hold = env.cloud().renewal_hold();
    hold.arm();
    // The clock alone, not `advance` (which waits for the agent): the agent's renewal is
    // under way while the scenario goes on. It is mid-way once the cloud holds its answer.
    env.clock().advance(Duration::from_secs(120));
    let deadline = tokio::time::Instant::now() + steps::PROMPTLY;
    while hold.held() == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if hold.held() == 0 || renewals(env) == before {
        hold.release();
        return Err(Failure::precondition(
            "the DMS's daily renewal",
            "the refresh grant done on the cloud's record, its answer held",
            (hold.held(), renewals(env) - before),
        ));
    }
    Ok(())
}
