//! The scenarios' own reading of a DataMiner Web Services call, written from the API's
//! documentation and owing nothing to the mocks: a call is its method and its parameters other
//! than `connection`; a parameter whose name ends in `ID` holds an ID, which the API takes as a
//! JSON number or as a string of decimal digits, the same ID either way. From it, what sharing a
//! dashboard must produce: the whitelist (the dashboard's calls, each once) and the share user's
//! reach (the elements the calls name, and every element of a view a call lists).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use fixtures::{Dashboard, DmaData, id_of, names_an_id};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

/// One parameter value, as the API means it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Param {
    Id(u64),
    Text(String),
    /// Anything else, as raw JSON: no ID, and equal to no listed value.
    Other(String),
}

/// A call: its method and its parameters, without `connection`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Call {
    pub method: String,
    pub parameters: BTreeMap<String, Param>,
}

/// An element: (DataMiner ID, element ID).
pub(crate) type Item = (u64, u64);

/// What a share user may read: its dashboard's elements and views.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub(crate) struct Reach {
    pub items: BTreeSet<Item>,
    pub views: BTreeSet<u64>,
}

impl Call {
    /// `method` called with `parameters` (a flat JSON object; `connection` is left out).
    pub fn read(method: &str, parameters: &Map<String, Value>) -> Self {
        let parameters = parameters
            .iter()
            .filter(|(name, _)| name.as_str() != "connection")
            .map(|(name, value)| {
                let param = match (names_an_id(name).then(|| id_of(value)).flatten(), value) {
                    (Some(id), _) => Param::Id(id),
                    (None, Value::String(text)) if !names_an_id(name) => Param::Text(text.clone()),
                    (None, other) => Param::Other(other.to_string()),
                };
                (name.clone(), param)
            })
            .collect();
        Self {
            method: method.to_owned(),
            parameters,
        }
    }

    pub fn id(&self, name: &str) -> Option<u64> {
        match self.parameters.get(name) {
            Some(Param::Id(id)) => Some(*id),
            _ => None,
        }
    }

    /// The element the call names, if it names one.
    pub fn element(&self) -> Option<Item> {
        Some((self.id("dmaID")?, self.id("elementID")?))
    }

    /// Whether the call only reads: the API's readers are its `Get…` methods.
    pub fn reads(&self) -> bool {
        self.method.starts_with("Get")
    }

    /// Whether everything the call names is within `reach`. A call naming an element or view
    /// by something that is no ID names nothing the reach holds.
    pub fn within(&self, reach: &Reach) -> bool {
        let element_ok = match (
            self.parameters.get("dmaID"),
            self.parameters.get("elementID"),
        ) {
            (None, None) => true,
            _ => self.element().is_some_and(|e| reach.items.contains(&e)),
        };
        let view_ok = match self.parameters.get("viewID") {
            None => true,
            Some(_) => self.id("viewID").is_some_and(|v| reach.views.contains(&v)),
        };
        element_ok && view_ok
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.method)?;
        for (i, (name, value)) in self.parameters.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            match value {
                Param::Id(id) => write!(f, "{sep}{name}={id}")?,
                Param::Text(text) => write!(f, "{sep}{name}={text:?}")?,
                Param::Other(raw) => write!(f, "{sep}{name}={raw}")?,
            }
        }
        f.write_str(")")
    }
}

impl Serialize for Call {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// The whitelist sharing `dashboard` must produce: each of its calls, once.
pub(crate) fn whitelist(dashboard: &Dashboard) -> BTreeSet<Call> {
    dashboard
        .calls()
        .map(|c| Call::read(&c.method, &c.parameters))
        .collect()
}

/// What the share user of `dashboard` must be able to read on the DMS `data` describes.
pub(crate) fn reach(dashboard: &Dashboard, data: &DmaData) -> Reach {
    let mut reach = Reach::default();
    for call in whitelist(dashboard) {
        if let Some(element) = call.element() {
            reach.items.insert(element);
        }
        if let Some(view) = call.id("viewID") {
            reach.views.insert(view);
            let listed =
                u32::try_from(view).map_or_else(|_| Vec::new(), |v| data.elements_in_view(v));
            reach.items.extend(
                listed
                    .iter()
                    .map(|e| (u64::from(e.dma_id), u64::from(e.element_id))),
            );
        }
    }
    reach
}

/// A list of calls as the WAF's records serialise them (`[{"method", "parameters"}]`), read as
/// calls.
pub(crate) fn read_list(recorded: &Value) -> Option<BTreeSet<Call>> {
    recorded
        .as_array()?
        .iter()
        .map(|c| {
            let method = c.get("method")?.as_str()?;
            let parameters = c.get("parameters")?.as_object()?;
            Some(Call::read(method, parameters))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn call(body: Value) -> Call {
        let Value::Object(body) = body else {
            unreachable!()
        };
        Call::read("GetElement", &body)
    }

    #[test]
    fn numbers_and_digit_strings_are_the_same_id_and_order_does_not_matter() {
        assert_eq!(
            call(json!({"connection": "a", "dmaID": 2000, "elementID": "100"})),
            call(json!({"elementID": 100, "dmaID": "2000", "connection": "b"})),
        );
    }

    #[test]
    fn look_alikes_are_no_ids() {
        let plain = call(json!({"elementID": 100}));
        for v in [
            json!("0100"),
            json!("+100"),
            json!("1e2"),
            json!(1e2),
            json!(" 100"),
            json!("１００"),
            json!([100]),
            json!(-100),
        ] {
            let odd = call(json!({ "elementID": v }));
            assert_ne!(odd, plain, "{v}");
            assert_eq!(odd.id("elementID"), None, "{v}");
        }
    }

    #[test]
    fn a_view_brings_its_elements_into_reach() {
        let data = DmaData::load().unwrap();
        let headend = Dashboard::load("headend-view").unwrap();
        let reach = reach(&headend, &data);
        assert!(reach.views.contains(&10));
        assert!(reach.items.contains(&(2000, 100)));
        assert!(!reach.items.contains(&(2000, 200)));
    }
}
