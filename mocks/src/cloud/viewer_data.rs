//! One refresh of a shared dashboard: each of its components' calls, sent through the DMS's
//! tunnel with the share user's connection, and the answers reduced to lines a person reads.
//! Nothing of the answers is kept: the viewer gets them and the cloud forgets them.

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use serde_json::{Map, Value};

use super::CloudState;
use super::shares::Link;
use super::streams::post_json;
use crate::dma::canonical::API_PREFIX;

/// The most one call's answer may hold.
const ANSWER_LIMIT: usize = 1024 * 1024;

/// What the viewer shows of one component.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct ComponentData {
    pub title: String,
    pub kind: String,
    pub lines: Vec<String>,
    /// Why the component has no data, when it has none.
    pub error: Option<String>,
}

/// The dashboard as one refresh found it.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct DashboardData {
    pub dashboard: String,
    pub title: String,
    pub components: Vec<ComponentData>,
    pub refreshed_at: u64,
}

/// Asks the DMS, through its tunnel, for every call of the shared dashboard.
pub(crate) async fn fetch(state: &CloudState, link: &Link) -> DashboardData {
    let refreshed_at = state.clock.unix_seconds();
    // The dashboard's definition: the components and the calls each makes.
    let Ok(dashboard) = fixtures::Dashboard::load(&link.share.dashboard) else {
        return DashboardData {
            dashboard: link.share.dashboard.clone(),
            title: link.share.dashboard.clone(),
            components: Vec::new(),
            refreshed_at,
        };
    };
    let mut components = Vec::new();
    for component in &dashboard.components {
        let mut lines = Vec::new();
        let mut error = None;
        for call in &component.calls {
            match ask(state, link, &call.method, &call.parameters).await {
                Ok(answer) => lines.extend(readable(&answer)),
                Err(reason) => error = Some(reason),
            }
        }
        components.push(ComponentData {
            title: component.title.clone(),
            kind: component.kind.clone(),
            lines,
            error,
        });
    }
    DashboardData {
        dashboard: dashboard.id,
        title: dashboard.title,
        components,
        refreshed_at,
    }
}

/// One call through the tunnel; its `d`, or why there is none.
async fn ask(
    state: &CloudState,
    link: &Link,
    method: &str,
    parameters: &Map<String, Value>,
) -> Result<Value, String> {
    let mut body = parameters.clone();
    body.insert("connection".into(), Value::String(link.connection.clone()));
    let request = post_json(&format!("{API_PREFIX}{method}"), &Value::Object(body))
        .map_err(|e| e.to_string())?;
    let answer = state
        .tunnels
        .streams()
        .send(&link.share.dms_id, request)
        .await
        .map_err(|e| format!("the DMS could not be reached: {e}"))?;
    let status = answer.status();
    let bytes: Bytes = Limited::new(answer.into_body(), ANSWER_LIMIT)
        .collect()
        .await
        .map_err(|e| format!("the answer broke off: {e}"))?
        .to_bytes();
    let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !status.is_success() {
        let message = json
            .get("Message")
            .or_else(|| json.get("error"))
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        return Err(format!("HTTP {}: {message}", status.as_u16()));
    }
    json.get("d")
        .cloned()
        .ok_or_else(|| "the answer holds no data".to_owned())
}

/// The lines a person reads of one answer: an element's name, a parameter's value, an alarm.
fn readable(answer: &Value) -> Vec<String> {
    match answer {
        Value::Array(items) => items.iter().flat_map(readable).collect(),
        Value::Object(fields) => {
            let text = |name: &str| fields.get(name).map(plain);
            if let (Some(severity), Some(value)) = (text("Severity"), text("Value")) {
                vec![format!("Alarm ({severity}): {value}")]
            } else if let (Some(name), Some(value)) = (text("Name"), text("Value")) {
                let unit = text("Unit").unwrap_or_default();
                vec![format!("{name}: {value} {unit}").trim_end().to_owned()]
            } else if let Some(name) = text("Name") {
                vec![name]
            } else {
                vec![answer.to_string()]
            }
        }
        other => vec![plain(other)],
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
