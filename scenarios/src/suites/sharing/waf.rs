//! The WAF (WAF-1..4) and the DMA behind it: the whitelist is the dashboard, the dashboard's own
//! calls are carried out, every attack of the corpus is stopped at the WAF and nothing off the
//! whitelist is carried out; with the WAF switched off the DMA alone still keeps a share user
//! to its items. Judged on what the DMA saw (the requests that reached its gateway channel and
//! the calls it carried out), against the scenario's own reading of the dashboards.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fixtures::{DmaData, Expected};
use mocks::Options;
use mocks::dma::{Channel, ExecutedCall};
use mocks::world::{Fault, FaultSet};
use serde_json::{Value, json};

use super::calls::{self, Call, Reach};
use super::corpus::{self, Attempt, Route};
use super::recipient_path;
use super::setup::{self, LiveShare, Via, send};
use crate::{Ctx, Evidence, Failure};

/// How many offending attempts a failure shows.
const SHOWN: usize = 10;

/// Each dashboard shared with the recipient, whose viewer sends the dashboard's calls as the
/// app does (through the relay, the tunnel and the Cloud Gateway, no `connection` of its own).
pub(crate) async fn whitelist_is_the_dashboard(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let viewing = recipient_path::share_everything_with_a_recipient(&env).await?;
    for share in &viewing.live {
        let dashboard = &share.dashboard;
        let viewer = viewing
            .viewers
            .get(&share.share_id)
            .ok_or_else(|| Failure::Harness(format!("no viewer of {}", share.share_id)))?;
        let held = env
            .waf()
            .whitelist(&share.share_id)
            .and_then(|w| serde_json::to_value(w.calls()).ok())
            .and_then(|recorded| calls::read_list(&recorded))
            .unwrap_or_default();
        ev.expect_eq(
            "waf-whitelist-is-the-dashboard",
            &format!("{}: the WAF's whitelist", dashboard.id),
            share.whitelist.clone(),
            held,
        )?;
        let mut missed = Vec::new();
        for call in dashboard.calls() {
            let from = env.dma().executed().len();
            let reply = viewing
                .browser
                .call(
                    viewer,
                    &call.method,
                    &Value::Object(call.parameters.clone()),
                )
                .await?;
            let expected = Call::read(&call.method, &call.parameters);
            let executed = on_session(&env.dma().executed().since(from), &share.connection);
            if executed != [expected.clone()] {
                missed.push(json!({
                    "call": expected, "status": reply.status, "executed": executed,
                }));
            }
        }
        ev.expect(
            "dashboard-calls-executed",
            &format!(
                "{}: its calls as the dashboard's app sends them through the recipient's viewer, as the DMA carried them out",
                dashboard.id
            ),
            missed.is_empty(),
            "each carried out once, on the session the gateway opened for the viewer",
            missed,
        )?;
    }
    Ok(())
}

/// The calls in `log` made on the gateway channel on `connection`, as the scenario reads them.
fn on_session(log: &[ExecutedCall], connection: &str) -> Vec<Call> {
    log.iter()
        .filter(|e| e.channel == Channel::Gateway && e.connection == connection)
        .map(|e| Call::read(&e.method, &e.parameters))
        .collect()
}

/// Where an attempt ended, for the report.
fn outcome(a: &Attempt) -> &'static str {
    match a.expect {
        Expected::Blocked if !a.forwarded => "stopped-by-the-waf",
        Expected::Blocked if a.off_the_whitelist().is_empty() => "refused-by-the-dma",
        Expected::Blocked => "carried-out-by-the-dma",
        Expected::Allowed if a.executed_as_the_call() => "passed",
        Expected::Allowed => "false-positive",
    }
}

fn record(ev: &Evidence, attempts: &[Attempt]) {
    let mut table: BTreeMap<String, BTreeMap<&'static str, usize>> = BTreeMap::new();
    for a in attempts {
        *table
            .entry(format!("{} ({})", a.case, a.class))
            .or_default()
            .entry(outcome(a))
            .or_default() += 1;
    }
    ev.saw("corpus attempts", attempts.len());
    ev.saw("corpus cases tried", table.len());
    ev.saw("corpus verdicts per case", table);
}

/// Up to [`SHOWN`] attempts, as a failure shows them.
fn shown<'a>(attempts: impl Iterator<Item = &'a Attempt>) -> Vec<Value> {
    attempts
        .take(SHOWN)
        .map(|a| {
            json!({
                "case": a.case, "dashboard": a.dashboard, "call": a.call, "target": a.target,
                "status": a.status, "forwarded": a.forwarded, "executed": a.executed,
            })
        })
        .collect()
}

pub(crate) async fn corpus_blocked_by_waf(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let corpus = corpus::load()?;
    let viewing = recipient_path::share_everything_with_a_recipient(&env).await?;
    let route = Route::Recipient {
        browser: &viewing.browser,
        viewers: &viewing.viewers,
    };
    let attempts = corpus::run_all(&env, &corpus, &viewing.live, &viewing.deleted, route).await?;
    record(&ev, &attempts);
    let without_reason = env
        .waf()
        .decisions()
        .all()
        .iter()
        .filter(|d| d.reason.is_empty())
        .count();
    ev.expect_eq(
        "waf-decisions-have-reasons",
        "WAF decisions logged without a reason",
        0,
        without_reason,
    )?;
    let carried_out: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| !a.off_the_whitelist().is_empty())
        .collect();
    ev.expect(
        "executed-calls-on-the-whitelist",
        "attempts during which the DMA carried out a call off the whitelist of the connection's share",
        carried_out.is_empty(),
        "none",
        shown(carried_out.into_iter()),
    )?;
    let forwarded: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.expect == Expected::Blocked && a.forwarded)
        .collect();
    ev.expect(
        "attacks-stopped-at-the-waf",
        "attacks that reached the DMA's gateway channel",
        forwarded.is_empty(),
        "none: the WAF stops every one",
        shown(forwarded.into_iter()),
    )?;
    let refused: Vec<&Attempt> = attempts
        .iter()
        .filter(|a| a.expect == Expected::Allowed && !a.executed_as_the_call())
        .collect();
    ev.expect(
        "legitimate-variants-executed",
        "legitimate variants of whitelisted calls the DMA did not carry out as that call",
        refused.is_empty(),
        "none",
        shown(refused.into_iter()),
    )
}

/// Every canary string of the elements outside `reach`.
fn foreign_canaries(data: &DmaData, reach: &Reach) -> Vec<String> {
    let mut canaries = Vec::new();
    for e in data.elements.iter().filter(|e| {
        !reach
            .items
            .contains(&(u64::from(e.dma_id), u64::from(e.element_id)))
    }) {
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

/// Methods a share user may have carried out that are no read: ending its own session.
const HOUSEKEEPING: &[&str] = &["LogOut"];

/// Judges what the DMA carried out for share users: no write at all, and no read outside the
/// reach of the share whose connection it ran on (a deleted share's reaches nothing). A call
/// on a connection the scenario does not know reaches nothing either.
pub(crate) fn judge_share_calls(
    ev: &Evidence,
    what: &str,
    executed: &[ExecutedCall],
    reach_of: &HashMap<String, Reach>,
) -> Result<(), Failure> {
    let nowhere = Reach::default();
    let calls: Vec<(Call, &Reach)> = executed
        .iter()
        .filter(|e| e.channel == Channel::Gateway && e.method != "ConnectApp")
        .map(|e| {
            let reach = reach_of.get(&e.connection).unwrap_or(&nowhere);
            (Call::read(&e.method, &e.parameters), reach)
        })
        .collect();
    let writes: BTreeSet<&Call> = calls
        .iter()
        .filter(|(c, _)| !c.reads() && !HOUSEKEEPING.contains(&c.method.as_str()))
        .map(|(c, _)| c)
        .collect();
    ev.expect(
        "share-user-writes-nothing",
        &format!("{what}: calls other than reads the DMA carried out for share users"),
        writes.is_empty(),
        "none",
        writes,
    )?;
    let outside: BTreeSet<&Call> = calls
        .iter()
        .filter(|(c, reach)| c.reads() && (reach.items.is_empty() || !c.within(reach)))
        .map(|(c, _)| c)
        .collect();
    ev.expect(
        "share-user-reads-only-its-items",
        &format!(
            "{what}: reads the DMA carried out for share users outside their dashboard's items"
        ),
        outside.is_empty(),
        "none",
        outside,
    )
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
    let data = setup::dma_data()?;
    let corpus = corpus::load()?;
    let viewing = recipient_path::share_everything_with_a_recipient(&env).await?;
    let (live, deleted) = (&viewing.live, &viewing.deleted);
    let route = Route::Recipient {
        browser: &viewing.browser,
        viewers: &viewing.viewers,
    };
    let reach_of: HashMap<String, Reach> = live
        .iter()
        .map(|s| (s.connection.clone(), calls::reach(&s.dashboard, &data)))
        .chain(
            deleted
                .iter()
                .map(|s| (s.connection.clone(), Reach::default())),
        )
        .collect();
    let from = env.dma().executed().len();
    let attempts = corpus::run_all(&env, &corpus, live, deleted, route).await?;
    record(&ev, &attempts);
    write_own_items(&env, live, &reach_of, &data).await?;
    judge_share_calls(
        &ev,
        "without the WAF",
        &env.dma().executed().since(from),
        &reach_of,
    )?;
    let nowhere = Reach::default();
    let leaks: Vec<Value> = attempts
        .iter()
        .filter_map(|a| {
            let reach = reach_of.get(&a.connection).unwrap_or(&nowhere);
            let leaked: Vec<String> = foreign_canaries(&data, reach)
                .into_iter()
                .filter(|c| a.answer.contains(c.as_str()))
                .collect();
            (!leaked.is_empty())
                .then(|| json!({ "case": a.case, "call": a.call, "leaked": leaked }))
        })
        .collect();
    ev.expect(
        "answers-hold-no-foreign-data",
        "answers holding data of elements outside the connection's share, without the WAF",
        leaks.is_empty(),
        "none: the DMA alone refuses them",
        leaks.iter().take(SHOWN).collect::<Vec<_>>(),
    )
}

/// A `SetParameter` on the first parameter of every item of every live share, straight through
/// the switched-off WAF.
async fn write_own_items(
    env: &mocks::Environment,
    live: &[LiveShare],
    reach_of: &HashMap<String, Reach>,
    data: &DmaData,
) -> Result<(), Failure> {
    for share in live {
        let Some(reach) = reach_of.get(&share.connection) else {
            continue;
        };
        for &(dma, element) in &reach.items {
            let Some(parameter) = data
                .elements
                .iter()
                .find(|e| (u64::from(e.dma_id), u64::from(e.element_id)) == (dma, element))
                .and_then(|e| e.parameters.first())
            else {
                continue;
            };
            let body = json!({
                "connection": share.connection, "dmaID": dma, "elementID": element,
                "parameterID": parameter.id, "value": "CANARY-written",
            });
            send(
                env,
                Via::Gateway,
                "/API/v1/Json.asmx/SetParameter",
                Some("application/json"),
                body.to_string().as_bytes(),
            )
            .await?;
        }
    }
    Ok(())
}
