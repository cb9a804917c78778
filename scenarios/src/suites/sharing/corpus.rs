//! The attack corpus applied to shared calls: each case of `fixtures/waf-attacks/` turned into a
//! request from one whitelisted call, sent through the WAF on the connection the case names, and
//! judged by who answered: the WAF (403), the DMA (500 `{"Message"}`), or nobody (data).

use std::net::SocketAddr;

use fixtures::{AttackCase, AttackCorpus, BodyOp, DashboardCall, Expected, On};
use mocks::dma::canonical::{CanonicalCall, ID_PARAMETERS, canonical_call, read_request};
use mocks::dma::read_id;
use serde::Serialize;

use super::setup::LiveShare;
use crate::Failure;
use crate::clients::exchange;

/// Which layer stopped a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Layer {
    Waf,
    Dma,
    /// Nobody: the request was answered with data.
    Passed,
}

/// One case against one call.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Attempt {
    pub case: String,
    pub class: String,
    pub expect: Expected,
    pub share: String,
    pub dashboard: String,
    pub call: String,
    pub target: String,
    pub status: u16,
    pub layer: Layer,
    /// The answer's body: data when it passed, the refusal's message otherwise.
    pub answer: String,
}

impl Attempt {
    /// Blocked as expected by the WAF, or passed as expected.
    pub fn as_expected_at_the_waf(&self) -> bool {
        match self.expect {
            Expected::Blocked => self.layer == Layer::Waf,
            Expected::Allowed => self.layer == Layer::Passed,
        }
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

/// Runs every case against every whitelisted call of every live share, through `waf`.
pub(crate) async fn run_all(
    waf: SocketAddr,
    corpus: &AttackCorpus,
    live: &[LiveShare],
    deleted: &[LiveShare],
) -> Result<Vec<Attempt>, Failure> {
    let mut attempts = Vec::new();
    for (i, share) in live.iter().enumerate() {
        let other = &live[(i + 1) % live.len()];
        let whitelist = share.canonical_calls()?;
        let other_whitelist = other.canonical_calls()?;
        let calls: Vec<&DashboardCall> = share.dashboard.calls().collect();
        let mut seen: Vec<CanonicalCall> = Vec::new();
        for call in &calls {
            let canonical = canonical_call(&call.method, &call.parameters)
                .map_err(|e| Failure::Harness(e.to_string()))?;
            if seen.contains(&canonical) {
                continue;
            }
            seen.push(canonical.clone());
            for case in &corpus.cases {
                let (connection, allowed_there) = match case.request.on {
                    On::OwnShare => (&share.connection, &whitelist),
                    On::OtherShare => (&other.connection, &other_whitelist),
                    On::DeletedShare => (&deleted[i].connection, &Vec::new()),
                };
                let Some(request) = build(case, call, &calls, connection) else {
                    continue;
                };
                if case.expect == Expected::Blocked && lands_on(&request, allowed_there) {
                    continue;
                }
                let reply = exchange(
                    waf,
                    &request.verb,
                    &request.target,
                    request.content_type.as_deref(),
                    &request.body,
                )
                .await?;
                let layer = match reply.status {
                    200 => Layer::Passed,
                    500 => Layer::Dma,
                    _ => Layer::Waf,
                };
                attempts.push(Attempt {
                    case: case.id.clone(),
                    class: case.class.clone(),
                    expect: case.expect,
                    share: share.share_id.clone(),
                    dashboard: share.dashboard.id.clone(),
                    call: canonical.to_string(),
                    target: request.target.clone(),
                    status: reply.status,
                    layer,
                    answer: reply.body.chars().take(400).collect(),
                });
            }
        }
    }
    Ok(attempts)
}

/// Whether the shared reader reads `request` as a call on `whitelist`: such a mutation is no
/// attack (another element ID that happens to be the dashboard's own, say).
fn lands_on(request: &Request, whitelist: &[CanonicalCall]) -> bool {
    read_request(
        &request.verb,
        &request.target,
        request.content_type.as_deref(),
        &request.body,
    )
    .ok()
    .and_then(|(method, body)| canonical_call(method, &body).ok())
    .is_some_and(|call| whitelist.contains(&call))
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

fn fullwidth(digits: &str) -> String {
    digits
        .chars()
        .map(|c| {
            c.to_digit(10)
                .and_then(|d| char::from_u32(0xFF10 + d))
                .unwrap_or(c)
        })
        .collect()
}

fn fill(template: &str, value: &str, connection: &str, method: &str) -> String {
    let tail: String = method.chars().skip(1).collect();
    template
        .replace("{value}", value)
        .replace("{fullwidth}", &fullwidth(value))
        .replace("{connection}", connection)
        .replace("{method:lower}", &method.to_lowercase())
        .replace("{method:upper}", &method.to_uppercase())
        .replace("{method:tail}", &tail)
        .replace("{method}", method)
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
    let value_of = |name: &str| {
        read_id(&call.parameters, name)
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
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
                    if ID_PARAMETERS.contains(&param.name.as_str()) {
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
                let own = read_id(&call.parameters, "dmaID").ok()?;
                let other = dashboard
                    .iter()
                    .filter_map(|c| read_id(&c.parameters, "dmaID").ok())
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
