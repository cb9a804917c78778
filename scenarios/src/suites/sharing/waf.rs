//! The WAF (WAF-1..3) and the DMA behind it: the whitelist is the dashboard, the dashboard's own
//! calls pass, every attack of the corpus is stopped by the WAF, and with the WAF switched off the
//! DMA alone still keeps a share user to its items.

use std::collections::BTreeMap;

use fixtures::{DmaData, Expected};
use mocks::Options;
use mocks::world::{Fault, FaultSet};
use serde_json::{Map, Value, json};

use super::corpus::{self, Attempt, Layer};
use super::setup::{self, canonical_calls};
use crate::clients::exchange;
use crate::{Ctx, Evidence, Failure};

pub(crate) async fn whitelist_is_the_dashboard(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = setup::admin(&env).await?;
    for dashboard in setup::dashboards()? {
        let share = setup::go_live(&env, &admin, &dashboard).await?;
        let held = env
            .waf()
            .whitelist(&share.share_id)
            .map(|w| {
                w.calls()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        let expected: Vec<String> = canonical_calls(&dashboard)?
            .iter()
            .map(ToString::to_string)
            .collect();
        ev.expect_eq(
            "waf-whitelist",
            &format!("{}: the WAF's whitelist", dashboard.id),
            expected,
            held,
        )?;
        for call in dashboard.calls() {
            let mut body = Map::new();
            body.insert("connection".into(), Value::String(share.connection.clone()));
            body.extend(call.parameters.clone());
            let reply = exchange(
                env.waf().addr(),
                "POST",
                &format!("/API/v1/Json.asmx/{}", call.method),
                Some("application/json; charset=utf-8"),
                Value::Object(body).to_string().as_bytes(),
            )
            .await?;
            ev.expect_eq(
                "dashboard-sends",
                &format!(
                    "{}: {} as the dashboard sends it",
                    dashboard.id, call.method
                ),
                200,
                reply.status,
            )?;
        }
    }
    Ok(())
}

/// Per case: how many calls it was tried on and where it ended.
fn tally(attempts: &[Attempt]) -> BTreeMap<String, BTreeMap<&'static str, usize>> {
    let mut table: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    for a in attempts {
        let outcome = match (a.expect, a.layer) {
            (Expected::Blocked, Layer::Waf) => "blocked-by-waf",
            (Expected::Blocked, Layer::Dma) => "blocked-by-dma",
            (Expected::Blocked, Layer::Passed) => "bypassed",
            (Expected::Allowed, Layer::Passed) => "passed",
            (Expected::Allowed, _) => "false-positive",
        };
        *table
            .entry(format!("{} ({})", a.case, a.class))
            .or_default()
            .entry(outcome)
            .or_default() += 1;
    }
    table
}

fn record(ev: &Evidence, attempts: &[Attempt]) {
    ev.saw("corpus attempts", attempts.len());
    ev.saw("corpus verdicts per case", tally(attempts));
    let decisions = ev.clone();
    decisions.saw(
        "corpus cases tried",
        attempts
            .iter()
            .map(|a| a.case.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
    );
}

pub(crate) async fn corpus_blocked_by_waf(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let corpus = corpus::load()?;
    let (live, deleted) = setup::share_everything(&env).await?;
    let attempts = corpus::run_all(env.waf().addr(), &corpus, &live, &deleted).await?;
    record(&ev, &attempts);
    let wrong: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| !a.as_expected_at_the_waf())
        .collect();
    let blocked_without_reason = env
        .waf()
        .decisions()
        .all()
        .iter()
        .filter(|d| d.reason.is_empty())
        .count();
    ev.expect_eq(
        "waf-decisions-logged-without-reason",
        "WAF decisions logged without a reason",
        0,
        blocked_without_reason,
    )?;
    ev.expect(
        "attempts-not-stopped-waf-bypasses-dma",
        "attempts not stopped by the WAF (bypasses, DMA-only blocks) or false positives",
        wrong.is_empty(),
        "none",
        wrong.iter().take(10).collect::<Vec<_>>(),
    )
}

/// Every canary string of the elements outside `items`.
fn foreign_canaries(data: &DmaData, items: &std::collections::BTreeSet<(u32, u32)>) -> Vec<String> {
    let mut canaries = Vec::new();
    for e in data
        .elements
        .iter()
        .filter(|e| !items.contains(&(e.dma_id, e.element_id)))
    {
        let texts = std::iter::once(e.name.as_str())
            .chain(e.alarms.iter().map(|a| a.value.as_str()))
            .chain(e.parameters.iter().map(|p| p.value.as_str()));
        for text in texts {
            if let Some(at) = text.find("CANARY-") {
                canaries.push(text[at..].to_owned());
            }
        }
    }
    canaries
}

pub(crate) async fn dma_alone(ctx: Ctx) -> Result<(), Failure> {
    let options = ctx.options();
    let faults: FaultSet = options
        .faults
        .iter()
        .chain([Fault::WafAllowEverything])
        .collect();
    let env = ctx.environment_with(Options { faults, ..options }).await?;
    let ev = ctx.evidence();
    ev.saw("WAF", "switched off by waf.allow-everything");
    let data = DmaData::load().map_err(|e| Failure::Harness(e.to_string()))?;
    let corpus = corpus::load()?;
    let (live, deleted) = setup::share_everything(&env).await?;
    let attempts = corpus::run_all(env.waf().addr(), &corpus, &live, &deleted).await?;
    record(&ev, &attempts);
    let users = env.dma().share_users();
    let mut leaks = Vec::new();
    for a in attempts.iter().filter(|a| a.layer == Layer::Passed) {
        // The connection the attempt was sent on decides whose items count.
        let connection_share = match corpus
            .cases
            .iter()
            .find(|c| c.id == a.case)
            .map(|c| c.request.on)
        {
            Some(fixtures::On::OtherShare) => {
                let at = live.iter().position(|s| s.share_id == a.share).unwrap_or(0);
                live[(at + 1) % live.len()].share_id.clone()
            }
            _ => a.share.clone(),
        };
        let items = users
            .iter()
            .find(|u| u.share_id == connection_share)
            .map(|u| u.items.clone())
            .unwrap_or_default();
        let leaked: Vec<String> = foreign_canaries(&data, &items)
            .into_iter()
            .filter(|c| a.answer.contains(c.as_str()))
            .collect();
        if !leaked.is_empty() || a.target.contains("SetParameter") {
            leaks.push(
                json!({ "case": a.case, "call": a.call, "leaked": leaked, "target": a.target }),
            );
        }
    }
    ev.expect(
        "answers-data-outside-share-items-or",
        "answers with data outside the share's items, or writes, without the WAF",
        leaks.is_empty(),
        "none: the DMA alone refuses them",
        leaks.iter().take(10).collect::<Vec<_>>(),
    )?;
    // Writes on the dashboard's own items, straight at the DMA.
    let mut writes = Vec::new();
    for share in &live {
        for (dma, element) in users
            .iter()
            .find(|u| u.share_id == share.share_id)
            .map(|u| u.items.clone())
            .unwrap_or_default()
        {
            let Some(parameter) = data
                .element(dma, element)
                .and_then(|e| e.parameters.first())
            else {
                continue;
            };
            let body = json!({
                "connection": share.connection, "dmaID": dma, "elementID": element,
                "parameterID": parameter.id, "value": "CANARY-written",
            });
            let reply = exchange(
                env.waf().addr(),
                "POST",
                "/API/v1/Json.asmx/SetParameter",
                Some("application/json"),
                body.to_string().as_bytes(),
            )
            .await?;
            if reply.status == 200 {
                writes.push(format!("{}: {dma}/{element}", share.dashboard.id));
            }
        }
    }
    ev.expect_eq(
        "writes-share-user-made-own-items",
        "writes a share user made on its own items without the WAF",
        Vec::<String>::new(),
        writes,
    )
}
