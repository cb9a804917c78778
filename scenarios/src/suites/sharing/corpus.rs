//! The attack corpus applied to shared calls: each case of `fixtures/waf-attacks/` turned into a
//! request from one whitelisted call and sent on the connection the case names, as the
//! signed-in recipient through their viewer of the share (the cloud's relay, the tunnel, the
//! Cloud Gateway, the WAF), with a header a recipient could add to each attempt in turn.
//! Every case is sent; what it must get is what the corpus file says. Each attempt records what
//! the far side saw: whether the request reached the DMA's gateway channel at all, and which
//! calls the DMA carried out while it was in flight.

use std::collections::{BTreeSet, HashMap};

use fixtures::{AttackCase, AttackCorpus, BodyOp, DashboardCall, Expected, On, fill};
use mocks::Environment;
use mocks::cloud::Endpoint;
use mocks::dma::Channel;
use serde::Serialize;

use super::calls::Call;
use super::setup::LiveShare;
use crate::Failure;
use crate::clients::{RawReply, ShareRecipient, Viewer, exchange_tls};

/// How the attempts reach the WAF: as the signed-in recipient, through their open viewer of
/// each share (by share ID).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Route<'a> {
    Recipient {
        browser: &'a ShareRecipient,
        viewers: &'a HashMap<String, Viewer>,
    },
}

/// Headers a recipient adds, one set per attempt in turn: none, a claim to be the DMS's own
/// host, and the names the DMS's side trusts when the cloud or the gateway set them.
fn added_headers(attempt: usize, other: &LiveShare) -> Vec<(&'static str, String)> {
    match attempt % 4 {
        0 => Vec::new(),
        1 => vec![("X-Forwarded-For", "127.0.0.1".to_owned())],
        2 => vec![("X-Dataminer-Share-Session", other.connection.clone())],
        _ => vec![
            ("X-Dataminer-Share", other.share_id.clone()),
            ("X-Dataminer-Viewer", "0".to_owned()),
        ],
    }
}
/// A call the DMA carried out during an attempt.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Ran {
    /// On the gateway channel, where the WAF forwards to.
    pub gateway: bool,
    /// On the connection the attempt was sent on.
    pub on_its_connection: bool,
    pub call: Call,
}

/// One case against one call.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Attempt {
    pub case: String,
    pub class: String,
    pub expect: Expected,
    /// The share whose dashboard the call is from.
    pub share: String,
    pub dashboard: String,
    /// The whitelisted call the attempt was made from.
    pub call: Call,
    pub target: String,
    /// The headers the recipient added to it.
    pub added: Vec<String>,
    pub status: u16,
    /// Whether the request reached the DMA's gateway channel.
    pub forwarded: bool,
    pub executed: Vec<Ran>,
    /// The answer's body: data when it passed, the refusal's message otherwise.
    pub answer: String,
    /// What the DMA may carry out on the connection the attempt was sent on: the whitelist of
    /// that connection's share, nothing for a deleted share's.
    #[serde(skip)]
    pub allowed_there: BTreeSet<Call>,
    /// The connection it was sent on (a session secret: never reported).
    #[serde(skip)]
    pub connection: String,
}

impl Attempt {
    /// The calls the DMA carried out that the attempt's connection may not make.
    pub fn off_the_whitelist(&self) -> Vec<&Call> {
        self.executed
            .iter()
            .filter(|r| !(r.gateway && r.on_its_connection && self.allowed_there.contains(&r.call)))
            .map(|r| &r.call)
            .collect()
    }

    /// Whether the DMA carried out exactly the whitelisted call, once, on its connection.
    pub fn executed_as_the_call(&self) -> bool {
        matches!(self.executed.as_slice(), [r] if r.gateway && r.on_its_connection && r.call == self.call)
    }
}

pub(crate) fn load() -> Result<AttackCorpus, Failure> {
    AttackCorpus::load().map_err(|e| Failure::Harness(e.to_string()))
}

/// A built request.
#[derive(Debug, Clone)]
struct Request {
    verb: String,
    target: String,
    content_type: Option<String>,
    body: Vec<u8>,
}

/// Runs every case against every whitelisted call of every live share, by `route`, one at a
/// time, so what the DMA saw while a request was in flight is that request's doing.
pub(crate) async fn run_all(
    env: &Environment,
    corpus: &AttackCorpus,
    live: &[LiveShare],
    deleted: &[LiveShare],
    route: Route<'_>,
) -> Result<Vec<Attempt>, Failure> {
    let mut attempts = Vec::new();
    for (i, share) in live.iter().enumerate() {
        let other = &live[(i + 1) % live.len()];
        let gone = deleted.get(i).ok_or_else(|| {
            Failure::Harness(format!("no deleted share beside {}", share.share_id))
        })?;
        let calls: Vec<&DashboardCall> = share.dashboard.calls().collect();
        let mut seen: BTreeSet<Call> = BTreeSet::new();
        for call in &calls {
            let whitelisted = Call::read(&call.method, &call.parameters);
            if !seen.insert(whitelisted.clone()) {
                continue;
            }
            for case in &corpus.cases {
                let (connection, allowed_there) = match case.request.on {
                    On::OwnShare => (&share.connection, share.whitelist.clone()),
                    On::OtherShare => (&other.connection, other.whitelist.clone()),
                    On::DeletedShare => (&gone.connection, BTreeSet::new()),
                };
                let Some(request) = build(case, call, &calls, connection) else {
                    continue;
                };
                let arrived = env.dma().arrivals().count(Channel::Gateway);
                let from = env.dma().executed().len();
                let added = added_headers(attempts.len(), other);
                let reply = send(env, route, share, &request, &added).await?;
                let executed = env
                    .dma()
                    .executed()
                    .since(from)
                    .into_iter()
                    .map(|e| Ran {
                        gateway: e.channel == Channel::Gateway,
                        on_its_connection: e.connection == *connection,
                        call: Call::read(&e.method, &e.parameters),
                    })
                    .collect();
                attempts.push(Attempt {
                    case: case.id.clone(),
                    class: case.class.clone(),
                    expect: case.expect,
                    share: share.share_id.clone(),
                    dashboard: share.dashboard.id.clone(),
                    call: whitelisted.clone(),
                    target: request.target.clone(),
                    added: added.iter().map(|(n, v)| format!("{n}: {v}")).collect(),
                    status: reply.status,
                    forwarded: env.dma().arrivals().count(Channel::Gateway) > arrived,
                    executed,
                    answer: reply.body.chars().take(400).collect(),
                    allowed_there,
                    connection: connection.clone(),
                });
            }
        }
    }
    Ok(attempts)
}

/// Sends one built request by `route`, for `share`.
async fn send(
    env: &Environment,
    route: Route<'_>,
    share: &LiveShare,
    request: &Request,
    added: &[(&'static str, String)],
) -> Result<RawReply, Failure> {
    let Route::Recipient { browser, viewers } = route;
    let viewer = viewers
        .get(&share.share_id)
        .ok_or_else(|| Failure::Harness(format!("no open viewer of share {}", share.share_id)))?;
    let target = format!("{}{}", viewer.base.trim_end_matches('/'), request.target);
    let cookies = browser.sign_in_cookie().unwrap_or_default();
    let mut headers: Vec<(&str, &str)> = vec![("Cookie", cookies.as_str())];
    headers.extend(added.iter().map(|(n, v)| (*n, v.as_str())));
    exchange_tls(
        env,
        Endpoint::Sharing,
        &request.verb,
        &target,
        request.content_type.as_deref(),
        &headers,
        &request.body,
    )
    .await
}

struct Param {
    name: String,
    raw: String,
}

fn resolve(name: &str, call: &DashboardCall) -> Option<String> {
    if name != "$id" {
        return Some(name.to_owned());
    }
    ["elementID", "viewID"]
        .into_iter()
        .find(|n| call.parameters.contains_key(*n))
        .map(str::to_owned)
}

/// The request `case` makes of `call`; `None` when the case does not apply to it.
fn build(
    case: &AttackCase,
    call: &DashboardCall,
    dashboard: &[&DashboardCall],
    connection: &str,
) -> Option<Request> {
    let template = &case.request;
    let method = call.method.as_str();
    for need in &template.needs {
        let name = resolve(need, call)?;
        if !call.parameters.contains_key(&name) {
            return None;
        }
    }
    let original = Call::read(&call.method, &call.parameters);
    let value_of = |name: &str| original.id(name).map(|v| v.to_string()).unwrap_or_default();
    let mut params = vec![Param {
        name: "connection".into(),
        raw: serde_json::Value::String(connection.to_owned()).to_string(),
    }];
    params.extend(call.parameters.iter().map(|(name, value)| Param {
        name: name.clone(),
        raw: value.to_string(),
    }));
    for op in &template.body {
        match op {
            BodyOp::Set { name, json } => {
                let name = resolve(name, call)?;
                let value = value_of(&name);
                let param = params.iter_mut().find(|p| p.name == name)?;
                param.raw = fill(json, &value, connection, method);
            }
            BodyOp::Remove { name } => {
                let name = resolve(name, call)?;
                params.retain(|p| p.name != name);
            }
            BodyOp::Rename { from, to } => {
                let from = resolve(from, call)?;
                let param = params.iter_mut().find(|p| p.name == from)?;
                param.name.clone_from(to);
            }
            BodyOp::Add { name, json } => params.push(Param {
                name: name.clone(),
                raw: fill(json, "", connection, method),
            }),
            BodyOp::Duplicate { name, json } => {
                let name = resolve(name, call)?;
                let value = value_of(&name);
                params.push(Param {
                    raw: fill(json, &value, connection, method),
                    name,
                });
            }
            BodyOp::Reverse => params.reverse(),
            BodyOp::StringifyIds | BodyOp::NumberifyIds => {
                for param in params.iter_mut() {
                    if original.id(&param.name).is_some() {
                        let value = value_of(&param.name);
                        param.raw = if matches!(op, BodyOp::StringifyIds) {
                            format!("\"{value}\"")
                        } else {
                            value
                        };
                    }
                }
            }
            BodyOp::CrossCombine => {
                let own = original.id("dmaID")?;
                let other = dashboard
                    .iter()
                    .filter_map(|c| Call::read(&c.method, &c.parameters).id("dmaID"))
                    .find(|d| *d != own)?;
                let param = params.iter_mut().find(|p| p.name == "dmaID")?;
                param.raw = other.to_string();
            }
        }
    }
    let mut body = match &template.raw_body {
        Some(raw) => fill(raw, "", connection, method),
        None => {
            let members: Vec<String> = params
                .iter()
                .map(|p| format!("{}:{}", serde_json::Value::String(p.name.clone()), p.raw))
                .collect();
            format!("{{{}}}", members.join(","))
        }
    }
    .into_bytes();
    if let Some(size) = template.pad_to {
        body.resize(size.max(body.len()), b' ');
    }
    let target = fill(
        template
            .path
            .as_deref()
            .unwrap_or("/API/v1/Json.asmx/{method}"),
        "",
        connection,
        method,
    );
    let content_type = match template.content_type.as_deref() {
        None => Some("application/json; charset=utf-8".to_owned()),
        Some("") => None,
        Some(other) => Some(other.to_owned()),
    };
    Some(Request {
        verb: template.verb.clone().unwrap_or_else(|| "POST".into()),
        target,
        content_type,
        body,
    })
}
