//! WAF-4, DOS-1: the WAF's sign-in bounds are no weapon for a local process without the gateway
//! key. An attacker on the DMS's host finds the WAF's loopback port and sends, with no
//! credential at all, many wrong `ConnectApp`s as a share's user (its login follows from the
//! share ID every recipient sees), and many as a DMS user with a forged remote-account header
//! (with no key, and with a made-up one). Afterwards a recipient opens a new viewer of that
//! share and it renders, and the account named in the forged header signs in through the
//! cloud. Judged by what the DMA carried out: the share user's sign-in and the dashboard's
//! calls for the new viewer, the remote account's sign-in on the gateway channel, and the
//! requests that reached that channel during the attack. The bounds' figures come from
//! `fixtures/spec.json`; the header names are the protocol's, written here.

use std::net::SocketAddr;

use mocks::dma::Channel;
use serde_json::json;

use super::calls::Call;
use super::live;
use crate::clients::{RawReply, Viewer, exchange_with};
use crate::steps::{self, Recipient};
use crate::{Ctx, Failure, oracle};

/// The dashboard shared.
const DASHBOARD: &str = "core-network";
const CONNECT_APP: &str = "/API/v1/Json.asmx/ConnectApp";
/// The header the cloud names a remote-access account in, forged by the attacker.
const REMOTE_ACCOUNT: &str = "x-dataminer-remote-account";
const GATEWAY_KEY: &str = "x-dataminer-gateway-key";

pub(crate) async fn keyless_sign_ins_lock_out_no_one(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let env = ctx.environment().await?;
    let admin = live::connected(&env).await?;
    let (email, browser) = live::partner(&env).await?;
    let shared = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let link = shared.link_for(&email)?.to_owned();
    let accounts = env.accounts().clone();
    let dms = accounts.dms_id.clone();
    let enabled =
        steps::set_remote_access(&env, &accounts.cloud_admin, &dms, &[&accounts.cloud_member])
            .await?;
    if enabled.status != 200 {
        return Err(Failure::precondition(
            "the Owner enabling remote access for the Member",
            "HTTP 200",
            enabled,
        ));
    }
    let member = Recipient::signed_in_as(&env, &accounts.cloud_member).await?;
    let dms_user = &accounts.dms_admin;

    // The attack: three times the larger bound, each kind, from the WAF's own port.
    let tries = 3 * spec
        .gateway_sign_in
        .failures_allowed
        .max(spec.remote_access.failures_per_account);
    let waf = env.waf().addr();
    let forged = accounts.cloud_member.email.as_str();
    let arrived = env.dma().arrivals().all().len();
    let made_up_key = "00".repeat(32);
    let mut answers: Vec<(&str, u16)> = Vec::new();
    for n in 0..tries {
        let wrong = format!("guess-{n:04}");
        let as_share_user = wrong_sign_in(waf, &shared.login, &wrong, &[]).await?;
        answers.push(("share user, no key", as_share_user.status));
        let forged_header = [(REMOTE_ACCOUNT, forged)];
        let as_account = wrong_sign_in(waf, &dms_user.login, &wrong, &forged_header).await?;
        answers.push((
            "DMS user for a forged remote account, no key",
            as_account.status,
        ));
        let made_up = [
            (REMOTE_ACCOUNT, forged),
            (GATEWAY_KEY, made_up_key.as_str()),
        ];
        let as_account = wrong_sign_in(waf, &dms_user.login, &wrong, &made_up).await?;
        answers.push((
            "DMS user for a forged remote account, a made-up key",
            as_account.status,
        ));
    }
    ev.saw(
        format!("{tries} rounds of keyless wrong sign-ins at the WAF's port: (kind, HTTP status)"),
        &answers,
    );
    let reached: Vec<String> = env
        .dma()
        .arrivals()
        .all()
        .split_off(arrived)
        .into_iter()
        .filter(|a| a.channel == Channel::Gateway)
        .map(|a| a.path)
        .collect();

    // A recipient opens a new viewer of the share: the Cloud Gateway signs its user in.
    let from = env.dma().executed().len();
    let page = browser.open(&link).await?;
    let status = match Viewer::of(&page) {
        Some(viewer) => browser.heartbeat(&viewer).await?.status,
        None => page.status,
    };
    let ran = env.dma().executed().since(from);
    let for_share: Vec<_> = ran
        .iter()
        .filter(|c| c.channel == Channel::Gateway && c.share.as_deref() == Some(&shared.share_id))
        .collect();
    let signed_in = for_share.iter().any(|c| c.method == "ConnectApp");
    let carried: Vec<Call> = for_share
        .iter()
        .map(|c| Call::read(&c.method, &c.parameters))
        .collect();
    let missing: Vec<Call> = live::dashboard_calls(DASHBOARD)?
        .into_iter()
        .filter_map(|(method, parameters)| {
            parameters
                .as_object()
                .map(|parameters| Call::read(&method, parameters))
        })
        .filter(|call| !carried.contains(call))
        .collect();
    ev.expect_eq(
        "new-viewer-renders-after-keyless-sign-ins",
        "a new viewer of the share after the attack: its heartbeat's HTTP status, the share user signed in by the Cloud Gateway, the dashboard's calls the DMA did not carry out",
        (200, true, Vec::<Call>::new()),
        (status, signed_in, missing),
    )?;

    // The account named in the forged header signs in through the cloud, as the DMS user.
    let from = env.dma().executed().len();
    let body = json!({
        "host": "", "login": dms_user.login, "password": dms_user.password,
        "clientAppName": "conform", "clientAppVersion": "1", "clientComputerName": "remote",
    });
    let (status, _) = member.call_json(&dms, "ConnectApp", &body).await?;
    let sign_ins = env
        .dma()
        .executed()
        .since(from)
        .iter()
        .filter(|c| {
            c.channel == Channel::Gateway
                && c.method == "ConnectApp"
                && c.login.eq_ignore_ascii_case(&dms_user.login)
        })
        .count();
    ev.expect_eq(
        "remote-account-signs-in-after-keyless-sign-ins",
        "the forged header's account signing in through the cloud after the attack: HTTP status, sign-ins the DMA carried out on its gateway channel",
        (200, 1),
        (status, sign_ins),
    )?;
    ev.expect_eq(
        "keyless-sign-ins-stopped-at-the-waf",
        "requests of the attack that reached the DMA's gateway channel",
        Vec::<String>::new(),
        reached,
    )
}

/// One wrong `ConnectApp` as `login`, sent straight to the WAF's port with `headers` only.
async fn wrong_sign_in(
    waf: SocketAddr,
    login: &str,
    password: &str,
    headers: &[(&str, &str)],
) -> Result<RawReply, Failure> {
    let body = json!({
        "host": "", "login": login, "password": password,
        "clientAppName": "x", "clientAppVersion": "1", "clientComputerName": "y",
    });
    exchange_with(
        waf,
        "POST",
        CONNECT_APP,
        Some("application/json"),
        headers,
        body.to_string().as_bytes(),
    )
    .await
}
