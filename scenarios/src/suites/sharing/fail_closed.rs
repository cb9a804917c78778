//! The WAF fails closed (WAF-4): what it cannot read one way goes no further than the WAF,
//! sent by the signed-in recipient through their viewer; a run of wrong passwords for a share
//! user reaches the DMA only up to the limit. The sign-in limit is sent at the WAF's listener as
//! the Cloud Gateway signs in (with its key, no viewer): the per-login limit applies only to the
//! gateway's own sign-ins, which nothing outside can make with a wrong password (remote-access
//! sign-ins are the `access` suite's). What the WAF cannot tie to a live share is sent from
//! outside in [`super::untied`]. Verdicts come from the requests the DMA's gateway channel
//! received and the calls it carried out.

use std::time::Duration;

use mocks::Environment;
use mocks::dma::{Arrival, Channel};
use serde_json::json;

use mocks::cloud::Endpoint;

use super::calls::Call;
use super::recipient_path;
use super::setup::{self, Via, connect_app};
use crate::clients::exchange_tls;
use crate::{Ctx, Failure, oracle};

const GET: &str = "/API/v1/Json.asmx/GetElement";
const JSON: Option<&str> = Some("application/json");
const FORM: Option<&str> = Some("application/x-www-form-urlencoded");

/// What reached the DMA's gateway channel, and what it carried out there, while `during` ran.
async fn on_the_gateway<F, T>(
    env: &Environment,
    during: F,
) -> Result<(T, Vec<Arrival>, Vec<Call>), Failure>
where
    F: std::future::Future<Output = Result<T, Failure>>,
{
    let arrived = env.dma().arrivals().all().len();
    let from = env.dma().executed().len();
    let value = during.await?;
    let arrivals = env
        .dma()
        .arrivals()
        .all()
        .split_off(arrived)
        .into_iter()
        .filter(|a| a.channel == Channel::Gateway)
        .collect();
    let executed = env
        .dma()
        .executed()
        .since(from)
        .into_iter()
        .filter(|e| e.channel == Channel::Gateway)
        .map(|e| Call::read(&e.method, &e.parameters))
        .collect();
    Ok((value, arrivals, executed))
}

fn paths(arrivals: &[Arrival]) -> Vec<&str> {
    arrivals.iter().map(|a| a.path.as_str()).collect()
}

/// One unreadable request: what it is, its target, content type, further header lines, body.
type Case<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Vec<(&'a str, &'a str)>,
    String,
);

/// Sent by the signed-in recipient through their viewer: what the cloud's relay and the Cloud
/// Gateway pass on reaches the WAF as the recipient wrote it (a request the cloud's own HTTP
/// server refuses, as conflicting framing, reaches nothing at all).
pub(crate) async fn unreadable_requests_blocked(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let (browser, share, viewer) = recipient_path::one_share_viewed(&env, "soc-overview").await?;
    let c = share.connection.as_str();
    // Each is the whitelisted GetElement(2000, 100) made ambiguous, or unreadable.
    let cases: Vec<Case> = vec![
        (
            "a key twice",
            GET,
            JSON,
            vec![],
            format!(r#"{{"connection":"{c}","dmaID":2000,"elementID":100,"elementID":200}}"#),
        ),
        (
            "a form field twice, in another case",
            GET,
            FORM,
            vec![],
            format!("connection={c}&dmaID=2000&elementID=100&ElementID=200"),
        ),
        (
            "a broken form escape",
            GET,
            FORM,
            vec![],
            format!("connection={c}&dmaID=2000&elementID=10%30%"),
        ),
        (
            "an unknown content type",
            GET,
            Some("text/plain"),
            vec![],
            format!(r#"{{"connection":"{c}","dmaID":2000,"elementID":100}}"#),
        ),
        (
            "two content types",
            GET,
            JSON,
            vec![("Content-Type", "application/x-www-form-urlencoded")],
            format!(r#"{{"connection":"{c}","dmaID":2000,"elementID":100}}"#),
        ),
        (
            "length and chunked framing at once",
            GET,
            JSON,
            vec![("Transfer-Encoding", "chunked")],
            format!(r#"{{"connection":"{c}","dmaID":2000,"elementID":100}}"#),
        ),
        (
            "an escaped method name",
            "/API/v1/Json.asmx/%47etElement",
            JSON,
            vec![],
            format!(r#"{{"connection":"{c}","dmaID":2000,"elementID":100}}"#),
        ),
        (
            "trailing data",
            GET,
            JSON,
            vec![],
            format!(r#"{{"connection":"{c}","dmaID":2000,"elementID":100}}{{"elementID":200}}"#),
        ),
    ];
    let (statuses, arrivals, executed) = on_the_gateway(&env, async {
        let mut statuses = Vec::new();
        for (what, target, content_type, extra, body) in &cases {
            let target = format!("{}{target}", viewer.base.trim_end_matches('/'));
            let cookies = browser.sign_in_cookie().unwrap_or_default();
            let mut headers = vec![("Cookie", cookies.as_str())];
            headers.extend(extra.iter().copied());
            let reply = exchange_tls(
                &env,
                Endpoint::Sharing,
                "POST",
                &target,
                *content_type,
                &headers,
                body.as_bytes(),
            )
            .await?;
            statuses.push(json!({ "case": what, "status": reply.status }));
        }
        Ok(statuses)
    })
    .await?;
    ev.saw("answers through the recipient's viewer", statuses);
    ev.expect(
        "unreadable-requests-stopped-at-the-waf",
        "requests the WAF cannot read one way that reached the DMA's gateway channel",
        arrivals.is_empty(),
        "none: the WAF blocks what it cannot read",
        paths(&arrivals),
    )?;
    let off: Vec<&Call> = executed
        .iter()
        .filter(|c| !share.whitelist.contains(c))
        .collect();
    ev.expect(
        "executed-calls-on-the-whitelist",
        "calls the DMA carried out on the share's connection off its whitelist",
        off.is_empty(),
        "none",
        off,
    )
}

pub(crate) async fn sign_ins_rate_limited(ctx: Ctx) -> Result<(), Failure> {
    let limit = &oracle::spec()?.gateway_sign_in;
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = setup::admin(&env).await?;
    let share_id = setup::share(&admin, "soc-overview").await?;
    let (login, password) = setup::credentials(&env, &share_id)?;
    let burst = limit.failures_allowed + 5;
    let (statuses, arrivals, _) = on_the_gateway(&env, async {
        let mut statuses = Vec::new();
        for guess in 0..burst {
            let wrong = format!("wrong-{guess}");
            let answer = connect_app(&env, Via::Gateway, &login, &wrong).await?;
            statuses.push(
                answer
                    .err()
                    .and_then(|a| a.split(' ').nth(1).map(str::to_owned)),
            );
        }
        Ok(statuses)
    })
    .await?;
    ev.saw(format!("{burst} wrong passwords: HTTP statuses"), statuses);
    let seen = arrivals
        .iter()
        .filter(|a| a.path.ends_with("/ConnectApp"))
        .count();
    ev.expect(
        "wrong-passwords-the-dma-saw",
        &format!("of {burst} wrong passwords in a burst, sign-ins that reached the DMA"),
        seen <= limit.failures_allowed,
        &format!("at most {}", limit.failures_allowed),
        seen,
    )?;
    env.advance(Duration::from_secs(limit.window_seconds + 1))
        .await;
    let after = connect_app(&env, Via::Gateway, &login, &password).await?;
    ev.expect(
        "sign-in-works-after-the-window",
        &format!("the right password, {} s later", limit.window_seconds + 1),
        after.is_ok(),
        "a connection",
        after.map_or_else(|refused| refused, |_| "a connection".to_owned()),
    )
}
