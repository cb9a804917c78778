//! Endings × states, started by the cloud (OPT-3, TOK-4): an Admin of the organisation removes
//! the DMS on dataminer.services (`POST /api/org/dms/remove`, the product's "remove a DMS from
//! the organisation") while it is connected, while its hop is black-holed, in the middle of its
//! daily renewal, across a cloud restart and while it is pairing again. Judged where each part
//! of the end must show: the cloud refuses the DMS's token and refresh key on the wire, no
//! tunnel of the DMS is left (the DMS's own sockets to the tunnel host, and the cloud's table),
//! a pairing DMS gets no token, and the DMA tells its Administrator the connection ended. A
//! Member's removal, and another organisation's, are refused and leave the DMS connected.

use std::time::Duration;

use mocks::cloud::{Account, Endpoint};
use mocks::world::net::Toxic;
use mocks::{Environment, Hop};
use serde_json::{Value, json};

use super::ending_probe::{RETRY, cloud_takes, connection_state, stored_token};
use super::mid_renewal::renewal_held;
use crate::clients::{CloudClient, DmaSession, KeyPair, Reply, ScriptedDms};
use crate::suites::sharing::live;
use crate::{Ctx, Evidence, Failure, steps};

/// The dashboard the DMS shares before it is removed.
const SHARED: &str = "core-network";
const DIMENSION: &str = "endings × states, removed by the organisation";

/// How often the gateway pings its tunnels (the tunnel suite's figure): a tunnel whose far end
/// went away while the hop was black-holed is found dead within one interval of the heal.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// What the DMA reports once its gateway holds no connection to dataminer.services: the
/// Administrator's sign that the connection ended.
const ENDED: &str = "Disabled";

/// The state the DMS is in when the Admin removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Connected,
    /// Every hop of the DMS to the cloud black-holed, healed after the removal.
    BlackHoled,
    /// The cloud renewed the DMS's token and holds its answer.
    MidRenewal,
    /// The cloud restarts right after the removal (connections and tunnel table lost, store
    /// kept).
    AcrossRestart,
}

impl State {
    fn name(self) -> &'static str {
        match self {
            State::Connected => "connected",
            State::BlackHoled => "connected, the DMS's hop black-holed",
            State::MidRenewal => "mid-renewal (the cloud renewed, its answer held)",
            State::AcrossRestart => "connected, the cloud restarted after the removal",
        }
    }
}

/// What the states showed against each part of the end.
#[derive(Default)]
struct Verdicts {
    credentials_taken: Vec<String>,
    tunnels_kept: Vec<String>,
    untold: Vec<String>,
}

pub(super) async fn every_removal_ends_the_connection(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    // The agent's own network timeout stays the product's: nothing here waits on the agent
    // while a hop is cut (the removal comes from the Admin's browser), and a short one only
    // makes the agent give up on slow dials when the machine is busy.
    let mut verdicts = Verdicts::default();
    let mut others_removed = None;
    let mut link_after_removal = None;
    for state in [
        State::Connected,
        State::BlackHoled,
        State::MidRenewal,
        State::AcrossRestart,
    ] {
        let env = ctx.environment().await?;
        let admin = steps::connect_dms(&env).await?;
        let shared = match state {
            State::Connected => {
                let (email, recipient) = live::partner(&env).await?;
                let shared = live::share(&env, &admin, SHARED, &[&email], json!({})).await?;
                others_removed = Some(others_try(&env, &ev).await?);
                Some((shared.link_for(&email)?.to_owned(), recipient))
            }
            _ => None,
        };
        remove_while(&env, &admin, &ev, state, &mut verdicts).await?;
        if let Some((link, recipient)) = shared {
            link_after_removal = Some(recipient.open(&link).await?.status);
        }
    }
    let pairing = ctx.environment().await?;
    let issued_while_pairing = remove_while_pairing(&pairing, &ev, &mut verdicts).await?;

    ev.expect_eq(
        "only-the-organisations-owner-or-admin-removes",
        "a Member's and another organisation's removal of the DMS: HTTP statuses (owner_or_admin_required, then a DMS it does not know), then the DMS's token on the cloud",
        Some((403, 404, 200)),
        others_removed,
    )?;
    ev.expect_eq(
        "removed-dms-shares-end",
        "the link of a share the DMS made before its removal, opened by its recipient afterwards: HTTP status",
        Some(410),
        link_after_removal,
    )?;
    ev.expect_eq(
        "removed-dms-credentials-refused",
        "states after whose removal the cloud still took the DMS's token or refresh key",
        Vec::<String>::new(),
        verdicts.credentials_taken,
    )?;
    ev.expect_eq(
        "removed-dms-tunnels-closed",
        "states after whose removal a tunnel of the DMS stayed open",
        Vec::<String>::new(),
        verdicts.tunnels_kept,
    )?;
    ev.expect_eq(
        "no-token-after-a-removal-while-pairing",
        "tokens the cloud issued to the DMS after it was removed while pairing, approved",
        0,
        issued_while_pairing,
    )?;
    ev.expect_eq(
        "administrator-told-connection-ended",
        "states after whose removal the DMA did not tell its Administrator the connection ended",
        Vec::<String>::new(),
        verdicts.untold,
    )
}

/// `account` signs in on the connection host and removes DMS `dms_id` from its organisation,
/// from the host's own page, as the Admin app does.
async fn remove(env: &Environment, account: &Account, dms_id: &str) -> Result<Reply, Failure> {
    let browser = CloudClient::new(env)?;
    let cookie = steps::sign_in(&browser, account).await?;
    browser
        .post_form_from_page(
            Endpoint::Connection,
            "api/org/dms/remove",
            &[("dms_id", dms_id)],
            Some(&cookie),
            &env.cloud_url(Endpoint::Connection),
        )
        .await
}

async fn removed_by_the_admin(env: &Environment) -> Result<(), Failure> {
    let accounts = env.accounts();
    let answer = remove(env, &accounts.cloud_org_admin, &accounts.dms_id).await?;
    if answer.status != 200 {
        return Err(Failure::precondition(
            "the organisation's Admin removing the DMS",
            "HTTP 200",
            answer,
        ));
    }
    Ok(())
}

/// A Member of the organisation, then the Owner of another organisation, try to remove the
/// DMS: each one's status, and what the cloud then makes of the DMS's token.
async fn others_try(env: &Environment, ev: &Evidence) -> Result<(u16, u16, u16), Failure> {
    let accounts = env.accounts();
    let token = stored_token(env)?;
    let member = remove(env, &accounts.cloud_member, &accounts.dms_id).await?;
    let outsider = remove(env, &accounts.cloud_outsider, &accounts.dms_id).await?;
    let after = cloud_takes(env, &token).await?;
    ev.row(
        DIMENSION,
        "connected",
        "a Member, then another organisation's account, remove the DMS",
        format!(
            "answered {} and {}, the DMS's token then {after}",
            member.status, outsider.status
        ),
    );
    Ok((member.status, outsider.status, after))
}

/// The Admin removes the connected DMS in `state`; the agent then acts on a keepalive
/// interval and a retry of the clock, and each part of the end is read where it shows.
async fn remove_while(
    env: &Environment,
    admin: &DmaSession,
    ev: &Evidence,
    state: State,
    verdicts: &mut Verdicts,
) -> Result<(), Failure> {
    let dms_id = env.accounts().dms_id.clone();
    let held = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))?;
    let key = env
        .dms_credentials()
        .key()
        .ok_or_else(|| Failure::precondition("the DMS's key", "kept by its gateway", "none"))?;
    let hops: Vec<_> = Endpoint::ALL
        .iter()
        .filter_map(|e| env.hop(Hop::DmsToCloud(*e)))
        .collect();
    match state {
        State::BlackHoled => {
            for toxics in &hops {
                toxics.add_both(Toxic::Timeout { close_after: None });
            }
        }
        State::MidRenewal => renewal_held(env).await?,
        State::Connected | State::AcrossRestart => {}
    }
    let removed = removed_by_the_admin(env).await;
    match state {
        State::MidRenewal => env.cloud().renewal_hold().release(),
        State::BlackHoled => hops.iter().for_each(|t| t.clear()),
        State::AcrossRestart => env
            .cloud()
            .restart()
            .await
            .map_err(|e| Failure::Harness(format!("the cloud did not restart: {e}")))?,
        State::Connected => {}
    }
    removed?;
    env.advance(KEEPALIVE + RETRY).await;
    env.settle().await;

    // The credentials, on the cloud's token endpoint and API: the ones held before the
    // removal, and whatever the DMS holds now (a renewal's answer released after it).
    let dms = ScriptedDms::with_key(
        &CloudClient::new(env)?,
        &dms_id,
        KeyPair::copied(key.pkcs8(), key.jwk()),
    )?;
    let mut taken = Vec::new();
    let mut tokens = vec![held.access_token.clone()];
    tokens.extend(env.dms_credentials().stored().map(|c| c.access_token));
    for token in &tokens {
        let status = cloud_takes(env, token).await?;
        if status != 401 {
            taken.push(format!("a token: HTTP {status}"));
        }
    }
    let refresh = dms.refresh(&held.refresh_key).await?;
    if refresh.field("access_token").is_some() {
        taken.push(format!("the refresh key: HTTP {}", refresh.status));
    }
    ev.row(
        DIMENSION,
        state.name(),
        "the DMS's token(s) and refresh key on the cloud",
        if taken.is_empty() {
            format!("refused (refresh: {})", refresh.status)
        } else {
            format!("TAKEN: {}", taken.join("; "))
        },
    );
    if !taken.is_empty() {
        verdicts
            .credentials_taken
            .push(format!("{}: {}", state.name(), taken.join("; ")));
    }

    // The tunnels, as the DMS's own sockets and the cloud's table show them.
    let let_go = steps::dms_let_go_of_tunnels(env).await;
    let open = env.dms_egress().to(Endpoint::Tunnel.host()).open;
    // Each side sees the close at its own moment: the cloud's table is read once it has had
    // the same bounded time to let go as the DMS's sockets.
    env.cloud()
        .tunnels()
        .wait_live(&dms_id, 0, steps::PROMPTLY)
        .await;
    let live = env
        .cloud()
        .tunnels()
        .live()
        .iter()
        .filter(|t| t.dms_id == dms_id)
        .count();
    ev.row(
        DIMENSION,
        state.name(),
        "the DMS's tunnels: its sockets to the tunnel host, the cloud's live tunnels",
        format!("{open} open, {live} live"),
    );
    if !let_go || live != 0 {
        verdicts
            .tunnels_kept
            .push(format!("{}: {open} socket(s), {live} live", state.name()));
    }

    let told = connection_state(admin).await?;
    ev.row(
        DIMENSION,
        state.name(),
        "what the DMA tells its Administrator",
        told.clone(),
    );
    if told != ENDED {
        verdicts.untold.push(format!("{}: {told}", state.name()));
    }
    Ok(())
}

/// The DMS, connected once, is disconnected on the DMS and enabled again; the Owner approves
/// its new code, and the Admin removes the DMS before the DMS picks its token up. The tokens
/// the cloud issued to it after the removal.
async fn remove_while_pairing(
    env: &Environment,
    ev: &Evidence,
    verdicts: &mut Verdicts,
) -> Result<usize, Failure> {
    let admin = steps::connect_dms(env).await?;
    admin.expect_data("DisconnectFromCloud", json!({})).await?;
    env.advance(RETRY + Duration::from_secs(1)).await;
    let pairing = admin.expect_data("ConnectToCloud", json!({})).await?;
    let user_code = pairing
        .get("UserCode")
        .and_then(Value::as_str)
        .ok_or_else(|| Failure::precondition("ConnectToCloud", "a user code", &pairing))?
        .to_owned();
    let dms_id = env.accounts().dms_id.clone();
    let browser = CloudClient::new(env)?;
    let cookie = steps::cloud_login(env, &browser).await?;
    let approval = steps::approve_on_page(&browser, Some(&cookie), &user_code, &dms_id).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            "the Owner approving the DMS's new code",
            "HTTP 200",
            approval.answer,
        ));
    }
    let issued = || {
        env.cloud()
            .issued()
            .iter()
            .filter(|i| i.dms_id == dms_id)
            .count()
    };
    let before = issued();
    removed_by_the_admin(env).await?;
    steps::let_time_pass(env, Duration::from_secs(120), 12).await;
    let after = issued() - before;
    let told = connection_state(&admin).await?;
    ev.row(
        DIMENSION,
        "pairing again (approved, then removed)",
        "tokens the cloud issued to the DMS; what the DMA tells its Administrator",
        format!("{after}; {told}"),
    );
    if told != ENDED {
        verdicts.untold.push(format!("pairing: {told}"));
    }
    Ok(after)
}
