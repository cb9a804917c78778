//! Endings × states (OPT-3): a disconnect in each state the DMS can be in (connected, its hop
//! black-holed, after a cloud restart, pending across a cloud restart, in the middle of its
//! daily renewal, while pairing), judged where it must take effect: the cloud refuses the old
//! token (on its API), as soon as the two can talk again, and until then the DMA tells the
//! Administrator that the revocation is pending.

use std::time::Duration;

use mocks::cloud::Endpoint;
use mocks::world::net::Toxic;
use mocks::{Environment, Hop};
use serde_json::{Value, json};

use super::ending_probe::{
    CutTimeout, Ended, RETRY, cloud_takes, connection_state, state_in, stored_token,
};
use crate::clients::{CloudClient, DmaSession};
use crate::{Ctx, Evidence, Failure, steps};

const DIMENSION: &str = "endings × states";

/// What stands between the DMS and the cloud when the Administrator disconnects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cut {
    No,
    /// Every hop of the DMS to the cloud black-holed.
    BlackHole,
    /// Black-holed, and the cloud restarts while the revocation is pending.
    BlackHoleAndRestart,
}

pub(super) async fn every_ending_reaches_the_cloud(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let options = || ctx.options();
    let mut not_ended = Vec::new();
    let mut untold = Vec::new();
    let mut kept = Vec::new();

    let reachable = ctx.environment_with(options()).await?;
    let admin = steps::connect_dms(&reachable).await?;
    let ended = disconnect_while(&reachable, &admin, &ev, Cut::No, &mut kept).await?;
    judge(
        &ev,
        "connected, cloud reachable",
        &ended,
        &mut not_ended,
        &mut untold,
    );

    let cut = ctx.environment_with(options()).await?;
    let admin = steps::connect_dms(&cut).await?;
    let ended = disconnect_while(&cut, &admin, &ev, Cut::BlackHole, &mut kept).await?;
    judge(
        &ev,
        "connected, DMS's hop black-holed",
        &ended,
        &mut not_ended,
        &mut untold,
    );

    let restarted = ctx.environment_with(options()).await?;
    let admin = steps::connect_dms(&restarted).await?;
    restarted
        .cloud()
        .restart()
        .await
        .map_err(|e| Failure::Harness(format!("the cloud did not restart: {e}")))?;
    let ended = disconnect_while(&restarted, &admin, &ev, Cut::No, &mut kept).await?;
    judge(
        &ev,
        "connected, after a cloud restart",
        &ended,
        &mut not_ended,
        &mut untold,
    );

    let across = ctx.environment_with(options()).await?;
    let admin = steps::connect_dms(&across).await?;
    let ended = disconnect_while(&across, &admin, &ev, Cut::BlackHoleAndRestart, &mut kept).await?;
    judge(
        &ev,
        "pending across a cloud restart (hop black-holed, the cloud restarted meanwhile)",
        &ended,
        &mut not_ended,
        &mut untold,
    );

    let renewing = ctx.environment_with(options()).await?;
    let admin = steps::connect_dms(&renewing).await?;
    let ended =
        super::mid_renewal::disconnect_mid_renewal(&renewing, &admin, &ev, &mut kept).await?;
    judge(
        &ev,
        "mid-renewal (the cloud renewed, its answer held)",
        &ended,
        &mut not_ended,
        &mut untold,
    );

    let pairing = ctx.environment_with(options()).await?;
    let issued_while_pairing = disconnect_while_pairing(&pairing, &ev).await?;

    ev.expect_eq(
        "old-token-refused-once-the-hop-heals",
        "states whose disconnect left the cloud taking the old token once it could be reached",
        Vec::<String>::new(),
        not_ended,
    )?;
    ev.expect_eq(
        "administrator-told-revocation-pending",
        "states in which the DMA did not tell the Administrator the revocation was pending",
        Vec::<String>::new(),
        untold,
    )?;
    ev.expect_eq(
        "nothing-to-connect-kept-while-pending",
        "credentials left in the DMS's store while its revocation was pending",
        Vec::<String>::new(),
        kept,
    )?;
    ev.expect_eq(
        "no-token-after-a-disconnect-while-pairing",
        "tokens the cloud issued to the DMS after it disconnected while pairing, then was approved",
        0,
        issued_while_pairing,
    )
}

/// The Administrator enables the connection, disconnects before anyone approved it, and then
/// the cloud account approves the code anyway: the cloud must issue the DMS nothing.
async fn disconnect_while_pairing(env: &Environment, ev: &Evidence) -> Result<usize, Failure> {
    let admin = crate::clients::DmaClient::new(env)
        .log_in(&env.accounts().dms_admin)
        .await?;
    let pairing = admin.expect_data("ConnectToCloud", json!({})).await?;
    let user_code = pairing
        .get("UserCode")
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::precondition("ConnectToCloud", "a user code", &pairing))?
        .to_owned();
    let answer = admin.expect_data("DisconnectFromCloud", json!({})).await?;
    let browser = CloudClient::new(env)?;
    let cookie = steps::cloud_login(env, &browser).await?;
    let dms_id = env.accounts().dms_id.clone();
    let approval = steps::approve_on_page(&browser, Some(&cookie), &user_code, &dms_id).await?;
    steps::let_time_pass(env, Duration::from_secs(120), 12).await;
    let issued = env
        .cloud()
        .issued()
        .iter()
        .filter(|i| i.dms_id == dms_id)
        .count();
    ev.row(
        DIMENSION,
        "pairing (approved after the disconnect)",
        "tokens the cloud issued to the DMS",
        format!(
            "{issued} (DisconnectFromCloud answered {}; the approval got HTTP {})",
            state_in(&answer),
            approval.answer.status
        ),
    );
    Ok(issued)
}

fn judge(
    ev: &Evidence,
    state: &str,
    ended: &Ended,
    not_ended: &mut Vec<String>,
    untold: &mut Vec<String>,
) {
    ev.row(
        DIMENSION,
        state,
        "disconnect: the old token on the cloud's API once it can be reached",
        if ended.refused_after == 401 {
            "refused 401".to_owned()
        } else {
            format!("STILL TAKEN ({})", ended.refused_after)
        },
    );
    if ended.refused_after != 401 {
        not_ended.push(format!("{state}: HTTP {}", ended.refused_after));
    }
    if let Some((answered, reported)) = &ended.told_while_cut {
        let told = answered == "RevocationPending" && reported == "RevocationPending";
        ev.row(
            DIMENSION,
            state,
            "disconnect: what the DMA told the Administrator while the cloud was unreachable",
            format!("DisconnectFromCloud {answered}, GetCloudConnectionState {reported}"),
        );
        if !told {
            untold.push(format!("{state}: answered {answered}, then {reported}"));
        }
    }
}

/// Connects the DMS, disconnects it (with every hop of the DMS to the cloud black-holed, and
/// the cloud restarted meanwhile, as `cut` says), heals, lets the retry interval pass, and
/// reads what the cloud makes of the old token.
async fn disconnect_while(
    env: &Environment,
    admin: &DmaSession,
    ev: &Evidence,
    cut: Cut,
    kept: &mut Vec<String>,
) -> Result<Ended, Failure> {
    let restart = cut == Cut::BlackHoleAndRestart;
    let cut = cut != Cut::No;
    let token = stored_token(env)?;
    if cloud_takes(env, &token).await? != 200 {
        return Err(Failure::precondition(
            "the DMS's token before the disconnect",
            "HTTP 200",
            "refused",
        ));
    }
    let hops: Vec<_> = Endpoint::ALL
        .iter()
        .filter_map(|e| env.hop(Hop::DmsToCloud(*e)))
        .collect();
    let shortened = cut.then(|| CutTimeout::start(env));
    if cut {
        for toxics in &hops {
            toxics.add_both(Toxic::Timeout { close_after: None });
        }
    }
    let answer = admin.expect_data("DisconnectFromCloud", json!({})).await?;
    let told_while_cut = if cut {
        let reported = connection_state(admin).await?;
        if env.dms_credentials().stored().is_some() {
            kept.push("connected, DMS's hop black-holed".to_owned());
        }
        // The end has not reached the cloud: the token still works there (a control).
        let during = cloud_takes(env, &token).await?;
        ev.saw(
            "the old token on the cloud while the DMS's hop is cut",
            during,
        );
        if restart {
            env.cloud()
                .restart()
                .await
                .map_err(|e| Failure::Harness(format!("the cloud did not restart: {e}")))?;
        }
        for toxics in &hops {
            toxics.clear();
        }
        Some((state_in(&answer), reported))
    } else {
        None
    };
    drop(shortened);
    env.advance(RETRY + Duration::from_secs(1)).await;
    env.settle().await;
    Ok(Ended {
        refused_after: cloud_takes(env, &token).await?,
        told_while_cut,
    })
}
