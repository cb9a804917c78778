//! FLOW-3 from the attacker's side: a grant is bound to the DMS that asked for it, by the key
//! it registered. A cloud account alone, of the DMS's organisation or another, gets no token
//! that acts as an existing DMS — not by naming its ID, not by replaying what the DMS sent, not
//! by redeeming a device code the DMS started — and a DMS-side disconnect revokes every token
//! and refresh key of that DMS, whoever holds them.

use mocks::Environment;
use mocks::cloud::{Account, CloudRequest, Endpoint};
use serde_json::json;

use crate::clients::{CloudClient, DmaClient, KeyPair, Reply, ScriptedDms, Started, form_body};
use crate::steps::{self, approve_on_page, sign_in};
use crate::{Ctx, Failure, oracle};

/// Whether `token` acts as DMS `dms_id` on the cloud's API: what the cloud answered.
async fn acts_as(client: &CloudClient, token: &str, dms_id: &str) -> Result<bool, Failure> {
    let answer = client
        .get_with_token(Endpoint::Connection, "api/dms/self", token)
        .await?;
    Ok(answer.status == 200 && answer.field("dms_id").as_deref() == Some(dms_id))
}

/// An attacker's connect flow as far as the cloud lets it go: its device authorization is
/// `started`, its account (signed in as `cookie`) approves the code typing `dms_id`, and
/// `redeem` polls once. Returns every answer, and the token it ended with.
async fn walk<F, Fut>(
    browser: &CloudClient,
    cookie: &str,
    dms_id: &str,
    started: &Reply,
    redeem: F,
) -> Result<(Vec<Reply>, Option<String>), Failure>
where
    F: FnOnce(Started) -> Fut,
    Fut: std::future::Future<Output = Result<Reply, Failure>>,
{
    let mut answers = vec![started.clone()];
    let Some(codes) = Started::of(started) else {
        return Ok((answers, None));
    };
    let approval = approve_on_page(browser, Some(cookie), &codes.user_code, dms_id).await?;
    answers.push(approval.answer);
    let token = redeem(codes).await?;
    let access = token.field("access_token");
    answers.push(token);
    Ok((answers, access))
}

fn status_and_error(reply: &Reply) -> (u16, Option<String>) {
    (reply.status, reply.error())
}

pub(super) async fn a_claimed_dms_id_gets_no_token(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let accounts = env.accounts();
    let victim = accounts.dms_id.as_str();
    let attackers: [(&str, &Account); 2] = [
        (
            "an account of the DMS's organization",
            &accounts.cloud_admin,
        ),
        (
            "an account of another organization",
            &accounts.cloud_outsider,
        ),
    ];
    let mut obtained = Vec::new();
    let mut starts = Vec::new();
    for (who, account) in attackers {
        let browser = CloudClient::new(&env)?;
        let cookie = sign_in(&browser, account).await?;
        // Its own key, the victim's ID and name, the organisation the attacker belongs to.
        let impostor = ScriptedDms::new(&browser, victim)?
            .named(&accounts.dms_name)
            .joining(&account.organization);
        let started = impostor.start().await?;
        starts.push((who, status_and_error(&started)));
        let (_, token) = walk(&browser, &cookie, victim, &started, |codes| async move {
            impostor.redeem(&codes.device_code).await
        })
        .await?;
        if let Some(token) = token
            && acts_as(&browser, &token, victim).await?
        {
            obtained.push(who);
        }
    }
    ev.expect_eq(
        "claimed-dms-id-gets-no-token",
        "attackers who obtained a token the cloud's API takes as the DMS, by naming its ID",
        Vec::<&str>::new(),
        obtained,
    )?;
    let refused: Vec<_> = starts
        .iter()
        .filter(|(_, (status, error))| *status != 400 || error.as_deref() != Some("invalid_client"))
        .collect();
    ev.expect_eq(
        "claimed-dms-id-refused-at-start",
        "device authorizations naming the registered DMS with another key, not answered 400 invalid_client",
        Vec::<&(&str, (u16, Option<String>))>::new(),
        refused,
    )?;
    let stored = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::precondition("the connect flow", "credentials stored", "none"))?;
    let still = acts_as(&CloudClient::new(&env)?, &stored.access_token, victim).await?;
    ev.expect_eq(
        "dms-keeps-its-own-token",
        "the DMS's own token after the attempts acts as the DMS",
        true,
        still,
    )
}

/// The first request to `path` the cloud recorded whose answer contains `answer_has`.
fn recorded(env: &Environment, path: &str, answer_has: &str) -> Option<CloudRequest> {
    env.cloud()
        .requests()
        .all()
        .into_iter()
        .find(|r| r.path.starts_with(path) && r.response.contains(answer_has))
}

/// The form `body` with `name` set to `value`, every other parameter (the assertion too) as
/// it was.
fn with_param(body: &str, name: &str, value: &str) -> String {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .map(|(n, v)| {
            let v = if n == name { value.into() } else { v };
            (n.into_owned(), v.into_owned())
        })
        .collect();
    let borrowed: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    form_body(&borrowed)
}

pub(super) async fn replayed_assertions_get_no_token(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    steps::connect_dms(&env).await?;
    let victim = env.accounts().dms_id.clone();
    // What a request log or a TLS-terminating proxy keeps: the DMS's registration (its device
    // authorization, with its key and assertion) and the poll that got its token.
    let registration = recorded(&env, "/oauth/device_authorization", "device_code")
        .ok_or_else(|| Failure::Harness("the cloud recorded no device authorization".into()))?;
    let poll = recorded(&env, "/oauth/token", "access_token")
        .ok_or_else(|| Failure::Harness("the cloud recorded no token poll".into()))?;
    // An account of the DMS's own organisation, which may approve the DMS's grants.
    let browser = CloudClient::new(&env)?;
    let cookie = sign_in(&browser, &env.accounts().cloud_admin).await?;

    let replayed = browser
        .post_encoded(
            Endpoint::Connection,
            "oauth/device_authorization",
            registration.body.clone(),
            None,
        )
        .await?;
    let poll_body = poll.body.clone();
    let (answers, token) = walk(&browser, &cookie, &victim, &replayed, |codes| {
        let replay = with_param(&poll_body, "device_code", &codes.device_code);
        let browser = browser.clone();
        async move {
            browser
                .post_encoded(Endpoint::Connection, "oauth/token", replay, None)
                .await
        }
    })
    .await?;
    ev.saw(
        "answers to the replays (registration, approval, poll)",
        answers.iter().map(status_and_error).collect::<Vec<_>>(),
    );
    let acting = match token {
        Some(token) => acts_as(&browser, &token, &victim).await?,
        None => false,
    };
    ev.expect_eq(
        "replayed-assertions-get-no-token",
        "a token acting as the DMS obtained by replaying its registration and its poll",
        false,
        acting,
    )?;
    ev.expect_eq(
        "replayed-registration-refused",
        "the replayed registration: HTTP status and error",
        (400, Some("invalid_client".to_owned())),
        status_and_error(&replayed),
    )?;
    // Once its assertion has expired, a copy is worth nothing even to a cloud that forgot it.
    env.advance(std::time::Duration::from_secs(600)).await;
    let late = browser
        .post_encoded(
            Endpoint::Connection,
            "oauth/device_authorization",
            registration.body,
            None,
        )
        .await?;
    ev.expect_eq(
        "expired-registration-refused",
        "the registration replayed ten minutes later: HTTP status and error",
        (400, Some("invalid_client".to_owned())),
        status_and_error(&late),
    )
}

pub(super) async fn a_stolen_device_code_redeems_nothing(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let accounts = env.accounts();
    let victim = accounts.dms_id.as_str();
    let admin = DmaClient::new(&env).log_in(&accounts.dms_admin).await?;
    let pairing = admin.expect_data("ConnectToCloud", json!({})).await?;
    let user_code = steps::user_code_of(&pairing)?;
    let browser = CloudClient::new(&env)?;
    let cookie = steps::cloud_login(&env, &browser).await?;
    let approval = approve_on_page(&browser, Some(&cookie), &user_code, victim).await?;
    if approval.answer.status != 200 {
        return Err(Failure::precondition(
            "the Administrator's approval",
            "HTTP 200",
            approval.answer,
        ));
    }
    // The device code, as the cloud's answer to the DMS carried it (a log, a proxy).
    let device_code = recorded(&env, "/oauth/device_authorization", "device_code")
        .and_then(|r| serde_json::from_str::<serde_json::Value>(&r.response).ok())
        .and_then(|answer| answer["device_code"].as_str().map(str::to_owned))
        .ok_or_else(|| Failure::Harness("the cloud recorded no device code".into()))?;

    // Before the DMS polls again, the thief redeems it: with no client authentication, as the
    // DMS's ID with its own key, and as a DMS of its own that the cloud knows.
    let thief = CloudClient::new(&env)?;
    let outsider = &accounts.cloud_outsider;
    let thief_cookie = sign_in(&thief, outsider).await?;
    let own_dms = ScriptedDms::new(&thief, "dms-of-the-thief")?.joining(&outsider.organization);
    let own = own_dms.started().await?;
    approve_on_page(&thief, Some(&thief_cookie), &own.user_code, &own_dms.id).await?;
    if own_dms
        .redeem(&own.device_code)
        .await?
        .field("access_token")
        .is_none()
    {
        return Err(Failure::precondition(
            "the thief's own DMS",
            "registered with a token",
            env.cloud().issued(),
        ));
    }
    let bare = thief
        .post_form(
            Endpoint::Connection,
            "oauth/token",
            &[
                ("grant_type", crate::clients::DEVICE_GRANT),
                ("device_code", &device_code),
            ],
            None,
        )
        .await?;
    let claiming = ScriptedDms::new(&thief, victim)?
        .redeem(&device_code)
        .await?;
    let as_own = own_dms.redeem(&device_code).await?;
    let attempts = [
        ("without client authentication", &bare),
        ("as the DMS's ID with another key", &claiming),
        ("as another registered DMS", &as_own),
    ];
    ev.saw(
        "the thief's redemptions: HTTP status and error",
        attempts
            .iter()
            .map(|(how, r)| (*how, status_and_error(r)))
            .collect::<Vec<_>>(),
    );
    let redeemed: Vec<&str> = attempts
        .iter()
        .filter(|(_, r)| r.field("access_token").is_some())
        .map(|(how, _)| *how)
        .collect();
    ev.expect_eq(
        "stolen-device-code-redeems-nothing",
        "the thief's redemptions of the DMS's device code the cloud answered with a token",
        Vec::<&str>::new(),
        redeemed,
    )?;
    let spec = oracle::spec()?;
    env.advance(std::time::Duration::from_secs(
        spec.device_flow.min_interval_seconds,
    ))
    .await;
    ev.expect_eq(
        "dms-redeems-its-own-code",
        "the DMS holds credentials after its own next poll",
        true,
        env.dms_credentials().stored().is_some(),
    )
}

pub(super) async fn disconnect_revokes_every_holder(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = steps::connect_dms(&env).await?;
    let victim = env.accounts().dms_id.clone();
    // A thief with a copy of everything the DMS stores, and an account of its organisation.
    let (Some(stored), Some(key)) = (env.dms_credentials().stored(), env.dms_credentials().key())
    else {
        return Err(Failure::precondition(
            "the connect flow",
            "credentials and a key pair stored",
            "none",
        ));
    };
    let thief_client = CloudClient::new(&env)?;
    let thief = ScriptedDms::with_key(
        &thief_client,
        &victim,
        KeyPair::copied(key.pkcs8(), key.jwk()),
    )?;
    let refreshed = thief.refresh(&stored.refresh_key).await?;
    let (Some(refreshed_token), Some(refreshed_key)) = (
        refreshed.field("access_token"),
        refreshed.field("refresh_token"),
    ) else {
        return Err(Failure::precondition(
            "the thief's refresh with the copied key",
            "a new token and refresh key",
            refreshed,
        ));
    };
    let cookie = sign_in(&thief_client, &env.accounts().cloud_admin).await?;
    let second = thief.started().await?;
    approve_on_page(&thief_client, Some(&cookie), &second.user_code, &victim).await?;
    let flow = thief.redeem(&second.device_code).await?;
    let (Some(second_token), Some(second_key)) =
        (flow.field("access_token"), flow.field("refresh_token"))
    else {
        return Err(Failure::precondition(
            "the thief's own connect flow with the copied key",
            "a token family of its own",
            flow,
        ));
    };

    admin.expect_data("DisconnectFromCloud", json!({})).await?;
    env.settle().await;

    let outsider = CloudClient::new(&env)?;
    let same_family = outsider
        .get_with_token(Endpoint::Connection, "api/dms/self", &refreshed_token)
        .await?;
    ev.expect_eq(
        "refreshed-token-refused-after-disconnect",
        "the token the thief refreshed from the DMS's family, on the API after the disconnect: HTTP status",
        401,
        same_family.status,
    )?;
    let api = outsider
        .get_with_token(Endpoint::Connection, "api/dms/self", &second_token)
        .await?;
    let tunnel = outsider.try_tunnel(&second_token).await?;
    ev.expect_eq(
        "other-family-refused-after-disconnect",
        "the token of the thief's own family after the DMS's disconnect: HTTP status on the API and the tunnel",
        (401, 401),
        (api.status, tunnel),
    )?;
    let mut refreshes = Vec::new();
    for refresh_key in [&refreshed_key, &second_key] {
        refreshes.push(status_and_error(&thief.refresh(refresh_key).await?));
    }
    ev.expect_eq(
        "every-refresh-key-refused-after-disconnect",
        "the thief's refresh keys after the disconnect: HTTP status and error",
        vec![(400, Some("invalid_grant".to_owned())); 2],
        refreshes,
    )
}
