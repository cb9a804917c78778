//! The soak's own oracle. Each share's DMS serves data the soak marked with that DMS's ID (every
//! element name, parameter name and alarm text ends in `[soak-dms-007]`), so an answer shows
//! where it came from. An answer is right when it is an HTTP 200 with JSON that carries the
//! marked name of the thing the call asked for, and no other DMS's mark. Nothing here asks a
//! mock what it did.

use fixtures::{Dashboard, DmaData};
use serde_json::{Map, Value};

/// How every share DMS's ID begins: what the oracle looks for in an answer.
const MARK: &str = "soak-dms-";

/// The ID of the `index`th share's DMS.
pub fn dms_id(index: usize) -> String {
    format!("{MARK}{index:03}")
}

/// The fixture data with every name and alarm text marked with `dms_id`.
pub fn marked(mut data: DmaData, dms_id: &str) -> DmaData {
    let mark = |text: &mut String| *text = format!("{text} [{dms_id}]");
    for agent in &mut data.agents {
        mark(&mut agent.name);
    }
    for element in &mut data.elements {
        mark(&mut element.name);
        element
            .parameters
            .iter_mut()
            .for_each(|p| mark(&mut p.name));
        element.alarms.iter_mut().for_each(|a| mark(&mut a.value));
    }
    data
}

/// One call a viewer makes, and what its answer must carry (one of these strings, exactly).
#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    pub parameters: Map<String, Value>,
    pub carries: Vec<String>,
}

/// The dashboard's calls, each with what `data` says its answer names; a call whose answer
/// would name nothing (an element without alarms) is left out, since it could not show where
/// it came from.
pub fn calls(dashboard: &Dashboard, data: &DmaData) -> Vec<Call> {
    dashboard
        .calls()
        .filter_map(|call| {
            let carries = names_in_answer(data, &call.method, &call.parameters);
            (!carries.is_empty()).then(|| Call {
                method: call.method.clone(),
                parameters: call.parameters.clone(),
                carries,
            })
        })
        .collect()
}

fn names_in_answer(data: &DmaData, method: &str, parameters: &Map<String, Value>) -> Vec<String> {
    let id = |key: &str| parameters.get(key).and_then(number);
    let element = || {
        let (dma, element) = (id("dmaID")?, id("elementID")?);
        data.elements
            .iter()
            .find(|e| e.dma_id == dma && e.element_id == element)
    };
    match method {
        "GetElement" => element().map(|e| vec![e.name.clone()]).unwrap_or_default(),
        "GetParameter" => element()
            .and_then(|e| {
                let parameter = id("parameterID")?;
                e.parameters.iter().find(|p| p.id == parameter)
            })
            .map(|p| vec![p.name.clone()])
            .unwrap_or_default(),
        "GetActiveAlarmsForElement" => element()
            .map(|e| e.alarms.iter().map(|a| a.value.clone()).collect())
            .unwrap_or_default(),
        "GetElementsForView" => {
            let Some(view) = id("viewID").and_then(|v| data.views.iter().find(|w| w.view_id == v))
            else {
                return Vec::new();
            };
            data.elements
                .iter()
                .filter(|e| e.view == view.name)
                .map(|e| e.name.clone())
                .collect()
        }
        _ => Vec::new(),
    }
}

/// A dashboard's ID parameter, written as a number or as a numeric string.
fn number(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// What became of one request that was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// HTTP 200, the asked-for name with this DMS's mark, no other mark.
    Right,
    /// The answer carries another DMS's mark: it crossed from that DMS.
    Crossed { from: String },
    /// An answer, but not the right one: another status, no JSON, or not the asked-for name.
    Wrong(String),
}

/// Judges the answer to `call`, sent to `own` (a DMS ID).
pub fn judge(own: &str, call: &Call, status: u16, body: &[u8]) -> Verdict {
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return Verdict::Wrong(format!(
            "HTTP {status}, not JSON: {}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        ));
    };
    let mut texts = Vec::new();
    strings(&answer, &mut texts);
    if let Some(from) = texts.iter().flat_map(|t| marks(t)).find(|m| *m != own) {
        return Verdict::Crossed {
            from: from.to_owned(),
        };
    }
    if status != 200 {
        return Verdict::Wrong(format!("HTTP {status}: {answer}"));
    }
    if !texts.iter().any(|t| call.carries.iter().any(|c| c == t)) {
        return Verdict::Wrong(format!(
            "{} answered without {:?}: {answer}",
            call.method, call.carries
        ));
    }
    Verdict::Right
}

/// Judges a heartbeat's read of the dashboard's definition: HTTP 200 with JSON whose
/// components make exactly the `expected` calls (method and parameters, in order, as the
/// fixture has them), and no DMS's mark (the definition is the dashboard's, not a DMS's data).
pub fn judge_definition(expected: &[(String, Value)], status: u16, body: &[u8]) -> Verdict {
    let Ok(answer) = serde_json::from_slice::<Value>(body) else {
        return Verdict::Wrong(format!(
            "HTTP {status}, not JSON: {}",
            String::from_utf8_lossy(&body[..body.len().min(120)])
        ));
    };
    let mut texts = Vec::new();
    strings(&answer, &mut texts);
    if let Some(from) = texts.iter().flat_map(|t| marks(t)).next() {
        return Verdict::Crossed {
            from: from.to_owned(),
        };
    }
    if status != 200 {
        return Verdict::Wrong(format!("HTTP {status}: {answer}"));
    }
    let listed: Vec<(String, Value)> = answer["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["calls"].as_array().into_iter().flatten())
        .map(|c| {
            (
                c["method"].as_str().unwrap_or_default().to_owned(),
                c["parameters"].clone(),
            )
        })
        .collect();
    if listed != expected {
        return Verdict::Wrong(format!(
            "the definition lists {} call(s), not the dashboard's {}",
            listed.len(),
            expected.len()
        ));
    }
    Verdict::Right
}

fn strings<'a>(value: &'a Value, into: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => into.push(s),
        Value::Array(items) => items.iter().for_each(|v| strings(v, into)),
        Value::Object(fields) => fields.values().for_each(|v| strings(v, into)),
        _ => {}
    }
}

/// Every DMS ID marked in `text`.
fn marks(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices(MARK).map(move |(at, _)| {
        let rest = &text[at + MARK.len()..];
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        &text[at..at + MARK.len() + digits]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(index: usize) -> DmaData {
        marked(
            DmaData::load().expect("the DMA fixture loads"),
            &dms_id(index),
        )
    }

    fn first_call(index: usize) -> Call {
        let dashboard = Dashboard::load("soc-overview").expect("the dashboard fixture loads");
        calls(&dashboard, &data_of(index))
            .into_iter()
            .find(|c| c.method == "GetElement")
            .expect("the dashboard reads an element")
    }

    fn element_answer(index: usize) -> Vec<u8> {
        let data = data_of(index);
        let element = data
            .elements
            .iter()
            .find(|e| e.dma_id == 2000 && e.element_id == 100)
            .expect("element 2000/100 is in the fixture");
        serde_json::json!({ "d": { "ID": 100, "Name": element.name } })
            .to_string()
            .into_bytes()
    }

    #[test]
    fn an_answer_from_its_own_dms_is_right() {
        assert_eq!(
            judge(&dms_id(7), &first_call(7), 200, &element_answer(7)),
            Verdict::Right
        );
    }

    #[test]
    fn an_answer_from_another_dms_is_crossed_and_names_where_it_came_from() {
        assert_eq!(
            judge(&dms_id(7), &first_call(7), 200, &element_answer(17)),
            Verdict::Crossed { from: dms_id(17) }
        );
    }

    #[test]
    fn an_answer_without_the_asked_for_name_or_with_another_status_is_wrong() {
        let call = first_call(7);
        let unmarked = br#"{"d":{"Name":"SOC CANARY-7f3a-element-soc"}}"#;
        assert!(matches!(
            judge(&dms_id(7), &call, 200, unmarked),
            Verdict::Wrong(_)
        ));
        assert!(matches!(
            judge(&dms_id(7), &call, 502, &element_answer(7)),
            Verdict::Wrong(_)
        ));
        assert!(matches!(
            judge(&dms_id(7), &call, 200, b"<html>"),
            Verdict::Wrong(_)
        ));
    }

    #[test]
    fn a_definition_is_right_only_with_the_dashboards_calls_and_no_mark() {
        let dashboard = Dashboard::load("soc-overview").expect("the dashboard fixture loads");
        let expected: Vec<(String, Value)> = dashboard
            .calls()
            .map(|c| (c.method.clone(), Value::Object(c.parameters.clone())))
            .collect();
        let served = serde_json::to_vec(&dashboard).expect("a dashboard serializes");
        assert_eq!(judge_definition(&expected, 200, &served), Verdict::Right);
        assert!(matches!(
            judge_definition(&expected[1..], 200, &served),
            Verdict::Wrong(_)
        ));
        assert!(matches!(
            judge_definition(&expected, 410, &served),
            Verdict::Wrong(_)
        ));
        let marked = serde_json::json!({ "components": [], "title": "x [soak-dms-003]" });
        assert_eq!(
            judge_definition(&expected, 200, marked.to_string().as_bytes()),
            Verdict::Crossed { from: dms_id(3) }
        );
    }

    #[test]
    fn every_fixture_dashboard_gives_viewers_calls_that_show_their_dms() {
        let data = data_of(1);
        for dashboard in Dashboard::load_all().expect("the dashboards load") {
            let calls = calls(&dashboard, &data);
            assert!(!calls.is_empty(), "{} gives no call", dashboard.id);
            for call in calls {
                assert!(call.carries.iter().all(|c| c.ends_with("[soak-dms-001]")));
            }
        }
    }
}
