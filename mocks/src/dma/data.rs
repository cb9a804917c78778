//! The element methods (`GetElement`, `GetParameter`, `SetParameter`,
//! `GetActiveAlarmsForElement`, `GetElementsForView`), within what the caller may see.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::DmaState;
use super::error::DmaError;
use crate::dms::ids::read_id;

/// What a caller may reach.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Scope<'a> {
    /// A DMS user: everything (roles do not restrict element access in this mock).
    Everything,
    /// A share user: read access to its items and views only, writes as `can_write` says.
    Share {
        items: &'a BTreeSet<(u32, u32)>,
        views: &'a BTreeSet<u32>,
        can_write: bool,
    },
}

impl Scope<'_> {
    fn may_read(self, dma: u32, element: u32) -> bool {
        match self {
            Scope::Everything => true,
            Scope::Share { items, .. } => items.contains(&(dma, element)),
        }
    }
}

/// Answers an element method, or `None` when `method` is not one.
pub(crate) fn call(
    state: &DmaState,
    scope: Scope<'_>,
    method: &str,
    body: &Map<String, Value>,
) -> Option<Result<Value, DmaError>> {
    Some(match method {
        "GetElement" => with_element(state, scope, body, |e| {
            Ok(json!({
                "DataMinerID": e.dma_id, "ID": e.element_id, "Name": e.name,
                "Protocol": e.protocol, "ProtocolVersion": e.protocol_version, "View": e.view,
            }))
        }),
        "GetParameter" => read_id(body, "parameterID")
            .map_err(DmaError::BadRequest)
            .and_then(|parameter| {
                with_element(state, scope, body, |e| {
                    let p = e
                        .parameters
                        .iter()
                        .find(|p| p.id == parameter)
                        .ok_or(DmaError::NoParameter(parameter, e.dma_id, e.element_id))?;
                    Ok(json!({ "ID": p.id, "Name": p.name, "Value": p.value, "Unit": p.unit }))
                })
            }),
        "SetParameter" => set_parameter(state, scope, body),
        "GetActiveAlarmsForElement" => with_element(state, scope, body, |e| {
            Ok(Value::Array(
                e.alarms
                    .iter()
                    .map(|a| json!({
                        "AlarmID": a.alarm_id, "DataMinerID": e.dma_id, "ElementID": e.element_id,
                        "ParameterID": a.parameter_id, "Severity": a.severity, "Value": a.value,
                    }))
                    .collect(),
            ))
        }),
        "GetElementsForView" => elements_for_view(state, scope, body),
        _ => return None,
    })
}

fn set_parameter(
    state: &DmaState,
    scope: Scope<'_>,
    body: &Map<String, Value>,
) -> Result<Value, DmaError> {
    if let Scope::Share {
        can_write: false, ..
    } = scope
    {
        return Err(DmaError::Forbidden(
            "share users are read-only: SetParameter is refused".into(),
        ));
    }
    let parameter = read_id(body, "parameterID").map_err(DmaError::BadRequest)?;
    let value = body
        .get("value")
        .and_then(Value::as_str)
        .ok_or_else(|| DmaError::BadRequest("value is missing or not a string".into()))?
        .to_owned();
    with_element_mut(state, scope, body, |e| {
        let (dma, element) = (e.dma_id, e.element_id);
        let p = e
            .parameters
            .iter_mut()
            .find(|p| p.id == parameter)
            .ok_or(DmaError::NoParameter(parameter, dma, element))?;
        p.value = value;
        Ok(Value::Null)
    })
}

fn elements_for_view(
    state: &DmaState,
    scope: Scope<'_>,
    body: &Map<String, Value>,
) -> Result<Value, DmaError> {
    let view = read_id(body, "viewID").map_err(DmaError::BadRequest)?;
    if let Scope::Share { views, .. } = scope
        && !views.contains(&view)
    {
        return Err(DmaError::NoView(view));
    }
    let data = state.data.lock().unwrap_or_else(|p| p.into_inner());
    if !data.views.iter().any(|v| v.view_id == view) {
        return Err(DmaError::NoView(view));
    }
    Ok(Value::Array(
        data.elements_in_view(view)
            .into_iter()
            .filter(|e| scope.may_read(e.dma_id, e.element_id))
            .map(|e| json!({ "DataMinerID": e.dma_id, "ID": e.element_id, "Name": e.name }))
            .collect(),
    ))
}

pub(super) fn with_element(
    state: &DmaState,
    scope: Scope<'_>,
    body: &Map<String, Value>,
    read: impl FnOnce(&fixtures::Element) -> Result<Value, DmaError>,
) -> Result<Value, DmaError> {
    with_element_mut(state, scope, body, |e| read(e))
}

/// Finds the element the call names. An element out of scope is answered exactly like one that
/// does not exist, so a share user cannot probe which IDs exist.
fn with_element_mut(
    state: &DmaState,
    scope: Scope<'_>,
    body: &Map<String, Value>,
    change: impl FnOnce(&mut fixtures::Element) -> Result<Value, DmaError>,
) -> Result<Value, DmaError> {
    let dma = read_id(body, "dmaID").map_err(DmaError::BadRequest)?;
    let element = read_id(body, "elementID").map_err(DmaError::BadRequest)?;
    if !scope.may_read(dma, element) {
        return Err(DmaError::NoElement(dma, element));
    }
    let mut data = state.data.lock().unwrap_or_else(|p| p.into_inner());
    let found = data
        .elements
        .iter_mut()
        .find(|e| e.dma_id == dma && e.element_id == element)
        .ok_or(DmaError::NoElement(dma, element))?;
    change(found)
}
