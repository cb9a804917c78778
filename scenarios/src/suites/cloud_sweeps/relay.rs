//! TEN-1 on the relays: with two organisations' DMSs live, a recipient of the first
//! organisation's share (a Member of it, with remote access to its DMS as well) names the
//! second organisation's DMS every way a request can name one — its ID in the path, encoded
//! path tricks under the link, an absolute-form target, the Host header, routing headers the
//! scenario's own list names — through the viewer's relay and through remote access. Nothing
//! may reach the other DMS: judged on that DMS's own records (the streams its agent received
//! through its tunnels, the requests and calls its DMA saw), never on what the cloud says.

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::json;

use crate::clients::{ShareRecipient, Viewer, exchange_tls};
use crate::suites::sharing::live;
use crate::{Ctx, Failure, second_site};

const DASHBOARD: &str = "soc-overview";
const DIMENSION: &str = "relays × ways to name another DMS";
const API: &str = "API/v1/Json.asmx/";

/// Header names a request could carry the other DMS in: what a front end, a proxy or a
/// careless relay might read a target from. The scenario's own list.
const NAMING_HEADERS: &[&str] = &[
    "x-dataminer-dms-id",
    "x-dataminer-dms",
    "x-dataminer-target",
    "x-dms-id",
    "x-forwarded-host",
    "x-original-url",
    "x-rewrite-url",
];

/// What the other DMS saw so far, on its own records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
struct Seen {
    streams: usize,
    arrivals: usize,
    executed: usize,
}

fn seen(site: &mocks::SecondSite) -> Seen {
    Seen {
        streams: site.agent_streams().len(),
        arrivals: site.dma().arrivals().all().len(),
        executed: site.dma().executed().all().len(),
    }
}

/// One attempt: how it went on the wire, and whether the other DMS saw anything of it.
struct Attempts<'a> {
    env: &'a Environment,
    site: &'a mocks::SecondSite,
    ev: &'a crate::Evidence,
    reached: Vec<serde_json::Value>,
}

impl Attempts<'_> {
    fn note(&mut self, relay: &str, case: String, answer: (u16, &str), before: Seen) {
        let (status, body) = answer;
        let said: String = body.chars().take(80).collect();
        let after = seen(self.site);
        let reached = after != before;
        self.ev.row(
            DIMENSION,
            relay,
            case.clone(),
            if reached {
                format!("HTTP {status} {said}; REACHED the other DMS ({before:?} → {after:?})")
            } else {
                format!("HTTP {status} {said}; nothing at the other DMS")
            },
        );
        if reached {
            self.reached.push(json!({
                "relay": relay, "case": case, "status": status,
                "before": before, "after": after,
                "streams": self.site.agent_streams().all().get(before.streams..),
            }));
        }
    }

    /// A request under the viewer's link, through the recipient's browser, with `headers`.
    async fn viewer(
        &mut self,
        browser: &ShareRecipient,
        viewer: &Viewer,
        under: &str,
        headers: &[(&str, &str)],
        body: &serde_json::Value,
        case: String,
    ) -> Result<(), Failure> {
        let before = seen(self.site);
        let answer = browser
            .send(viewer, reqwest::Method::POST, under, headers, Some(body))
            .await?;
        self.note("viewer relay", case, (answer.status, &answer.body), before);
        Ok(())
    }

    /// A request written byte for byte to the sharing host with the browser's sign-in cookie:
    /// targets a client library would tidy.
    async fn raw(
        &mut self,
        relay: &str,
        browser: &ShareRecipient,
        target: &str,
        headers: &[(&str, &str)],
    ) -> Result<(), Failure> {
        let before = seen(self.site);
        let cookie = browser.sign_in_cookie().unwrap_or_default();
        let mut all = vec![("Cookie", cookie.as_str())];
        all.extend_from_slice(headers);
        let answer = exchange_tls(
            self.env,
            Endpoint::Sharing,
            "POST",
            target,
            Some("application/json"),
            &all,
            b"{}",
        )
        .await?;
        let case = if headers.is_empty() {
            format!("target {target}")
        } else {
            format!("target {target} with {headers:?}")
        };
        self.note(relay, case, (answer.status, &answer.body), before);
        Ok(())
    }
}

pub(crate) async fn nothing_reaches_another_organisations_dms(ctx: Ctx) -> Result<(), Failure> {
    let env = second_site::environment(&ctx).await?;
    let ev = ctx.evidence();
    let accounts = env.accounts().clone();
    let admin = live::connected(&env).await?;
    let other = second_site::connect(&env).await?;
    let site = second_site::site(&env)?;
    // The other organisation's DMS serves a share of its own, so its agent holds a live share
    // and share user an attacker could hope to land on.
    let theirs =
        second_site::share(&env, &other, DASHBOARD, &[&accounts.cloud_admin.email]).await?;
    ev.saw(
        "the other organisation's DMS and its own share",
        (&other.dms_id, &theirs),
    );

    // The attacker: a Member of the first organisation, a recipient of its share, with remote
    // access to its DMS.
    let member = &accounts.cloud_member;
    let shared = live::share(&env, &admin, DASHBOARD, &[&member.email], json!({})).await?;
    let link = shared.link_for(&member.email)?.to_owned();
    let mut browser = ShareRecipient::new(&env)?;
    browser.sign_in(&member.email, &member.password).await?;
    let (viewer, _) = live::open_viewer(&browser, &link).await?;
    let enabled =
        crate::steps::set_remote_access(&env, &accounts.cloud_admin, &accounts.dms_id, &[member])
            .await?;
    if enabled.status != 200 {
        return Err(Failure::precondition(
            "the Owner enabling remote access for the Member",
            "HTTP 200",
            enabled,
        ));
    }
    let calls = live::dashboard_calls(DASHBOARD)?;
    let (method, parameters) = calls
        .first()
        .ok_or_else(|| Failure::Harness(format!("{DASHBOARD} has no call")))?;

    let mut attempts = Attempts {
        env: &env,
        site,
        ev: &ev,
        reached: Vec::new(),
    };
    let theirs_id = other.dms_id.clone();
    let ours = accounts.dms_id.clone();
    let host_of_theirs = format!("{theirs_id}.{}", Endpoint::Sharing.host());

    // The viewer's relay: headers naming the other DMS on a whitelisted call.
    let call = format!("{API}{method}");
    for name in NAMING_HEADERS {
        for value in [theirs_id.clone(), host_of_theirs.clone()] {
            attempts
                .viewer(
                    &browser,
                    &viewer,
                    &call,
                    &[(name, &value)],
                    parameters,
                    format!("{method} with {name}: {value}"),
                )
                .await?;
        }
    }
    attempts
        .viewer(
            &browser,
            &viewer,
            &call,
            &[("host", &host_of_theirs)],
            parameters,
            format!("{method} with Host: {host_of_theirs}"),
        )
        .await?;
    // Under the link, paths that climb out of it to the other DMS's remote-access path.
    let base = viewer.base.clone();
    let to_theirs = format!("dms/{theirs_id}/{API}GetInfo");
    let climbs = [
        format!("{base}../../{to_theirs}"),
        format!("{base}..%2f..%2f{}", to_theirs.replace('/', "%2f")),
        format!("{base}%2e%2e/%2e%2e/{to_theirs}"),
        format!("{base}..%5c..%5c{to_theirs}"),
        format!("{base}{theirs_id}/{call}"),
        format!("https://{host_of_theirs}{base}{call}",),
        format!("https://{}/{to_theirs}", Endpoint::Sharing.host()),
    ];
    for target in &climbs {
        attempts.raw("viewer relay", &browser, target, &[]).await?;
    }
    // Remote access: the other DMS by its path, and our DMS's path naming the other.
    let ours_path = format!("/dms/{ours}/{API}GetInfo");
    attempts
        .raw("remote access", &browser, &format!("/{to_theirs}"), &[])
        .await?;
    for name in NAMING_HEADERS {
        attempts
            .raw("remote access", &browser, &ours_path, &[(name, &theirs_id)])
            .await?;
    }
    let remote_climbs = [
        format!(
            "/dms/{ours}/{API}..%2f..%2f..%2f..%2f{}",
            to_theirs.replace('/', "%2f")
        ),
        format!("/dms/{ours}/../{to_theirs}"),
        format!("/dms/{ours}%2f..%2f{theirs_id}/{API}GetInfo"),
        format!("https://{host_of_theirs}{ours_path}"),
    ];
    for target in &remote_climbs {
        attempts.raw("remote access", &browser, target, &[]).await?;
    }
    env.settle().await;

    let Attempts { reached, .. } = attempts;
    ev.expect(
        "nothing-reaches-the-other-dms",
        "attempts the other organisation's DMS saw anything of (its agent's received streams, its DMA's arrivals and executed calls)",
        reached.is_empty(),
        "none",
        &reached,
    )?;
    // The attempts were real requests of a live viewer and session: its own calls still work.
    let answer = browser.call(&viewer, method, parameters).await?;
    ev.expect_eq(
        "the-viewer-still-works",
        "the recipient's own whitelisted call after the attempts: HTTP status",
        200,
        answer.status,
    )
}
