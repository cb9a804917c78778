//! USER-4: a share user gets in only through the Cloud Gateway. Its login, its sessions and a
//! session it opened through the gateway are tried on every other way in (the DMA's public
//! API, the gateway channel's port without the key the DMS handed its Cloud Gateway, the WAF's
//! port without it), and through the real path: a recipient's viewer through the cloud's
//! front end, the tunnel, the Cloud Gateway (which signs the share user in) and the WAF. Judged on the calls the DMA carried out per channel and on
//! what its gateway channel recorded of the requests it refused.

use mocks::dma::{Arrival, Channel, ExecutedCall};
use serde_json::{Map, Value, json};

use super::calls::Call;
use super::recipient_path;
use super::setup::{self, Via, connect_app, send};
use super::users::redacted;
use crate::{Ctx, Failure};

/// The ways in that are not the Cloud Gateway's, each tried with the share user's login.
const NOT_THE_GATEWAY: [Via; 2] = [Via::GatewayPort, Via::WafWithoutKey];

pub(crate) async fn gateway_only(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    const GET: &str = "/API/v1/Json.asmx/GetElement";
    let element = Map::from_iter([
        ("dmaID".to_owned(), json!(2000)),
        ("elementID".to_owned(), json!(100)),
    ]);
    let get = |connection: &str| {
        let mut body = element.clone();
        body.insert("connection".into(), json!(connection));
        Value::Object(body)
    };

    // The real way in: the recipient opens the link and calls through their viewer (the
    // cloud's relay, the tunnel, the Cloud Gateway, which signs the share user in for the
    // viewer with the credentials the DMS handed it, and the WAF). Share users are never
    // signed in by a remote-access request, nor by anything but the gateway.
    let from = env.dma().executed().len();
    let (browser, share, viewer) = recipient_path::one_share_viewed(&env, "soc-overview").await?;
    let (login, password) = setup::credentials(&env, &share.share_id)?;
    let connection = share.connection.clone();
    let answer = browser
        .call(&viewer, "GetElement", &Value::Object(element.clone()))
        .await?;
    ev.saw(
        "GetElement through the Cloud Gateway: HTTP status",
        answer.status,
    );
    let through_gateway = env.dma().executed().since(from);

    // Every other way: the public API, the gateway port and the WAF's port without the key;
    // the log-in, whatever session it gave, and the gateway session replayed there.
    let from = env.dma().executed().len();
    let arrived = env.dma().arrivals().all().len();
    for via in std::iter::once(Via::Public).chain(NOT_THE_GATEWAY) {
        let outcome = connect_app(&env, via, &login, &password).await?;
        ev.saw(
            format!("the share user's ConnectApp via {via:?}"),
            redacted(&outcome),
        );
        let sessions = outcome.iter().chain(std::iter::once(&connection));
        for session in sessions {
            let body = get(session).to_string();
            let reply = send(&env, via, GET, Some("application/json"), body.as_bytes()).await?;
            ev.saw(format!("GetElement via {via:?}: HTTP status"), reply.status);
        }
    }
    let elsewhere = env.dma().executed().since(from);
    let arrivals = env.dma().arrivals().all().split_off(arrived);

    let theirs = |log: &[ExecutedCall], channel: Channel| -> Vec<Call> {
        log.iter()
            .filter(|e| e.login.eq_ignore_ascii_case(&login) && e.channel == channel)
            .map(|e| Call::read(&e.method, &e.parameters))
            .collect()
    };
    let on_public = theirs(&elsewhere, Channel::Public);
    ev.expect(
        "share-user-served-only-through-the-gateway",
        "calls the DMA carried out for the share user on its public API",
        on_public.is_empty(),
        "none: its log-in and its sessions are refused there",
        on_public,
    )?;
    let without_key = theirs(&elsewhere, Channel::Gateway);
    ev.expect(
        "gateway-channel-serves-only-the-cloud-gateway",
        "calls the DMA carried out for the share user on its gateway channel, reached without the Cloud Gateway's key (its port directly, or the WAF's)",
        without_key.is_empty(),
        "none: the gateway channel refuses every request without the key",
        without_key,
    )?;
    let keyless = arrivals
        .iter()
        .filter(|a| a.channel == Channel::Gateway)
        .collect::<Vec<_>>();
    ev.saw(
        "requests that reached the gateway channel without the key",
        keyless.len(),
    );
    let admitted: Vec<&Arrival> = keyless.iter().copied().filter(|a| a.admitted).collect();
    ev.expect(
        "keyless-requests-recorded-as-refused",
        "requests without the key the gateway channel recorded as admitted",
        !keyless.is_empty() && admitted.is_empty(),
        "some arrived, every one recorded as refused",
        admitted,
    )?;
    let expected = vec![
        Call::read("ConnectApp", &Map::new()),
        Call::read("GetElement", &element),
    ];
    let served: Vec<Call> = theirs(&through_gateway, Channel::Gateway)
        .into_iter()
        .map(|c| {
            if c.method == "ConnectApp" {
                Call::read("ConnectApp", &Map::new())
            } else {
                c
            }
        })
        .collect();
    ev.expect_eq(
        "share-user-works-through-the-gateway",
        "calls the DMA carried out for the share user through the Cloud Gateway",
        expected,
        served,
    )
}
