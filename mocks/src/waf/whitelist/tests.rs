//! Whitelist matching, drawn at random but reproducibly (ChaCha, fixed seed): a mutated
//! dashboard call passes exactly when the shared reader reads it as a whitelisted call, and the
//! dashboards' own calls, however their IDs are spelled, always pass.

use fixtures::Dashboard;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};
use serde_json::{Map, Value};

use super::*;
use crate::dms::canonical::canonical_call;
use crate::waf::policy::MatchPolicy;

fn config() -> Config {
    Config {
        cases: 512,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x5A4E_2026),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/waf-whitelist.txt",
        ))),
        ..Config::default()
    }
}

fn dashboards() -> Vec<Dashboard> {
    Dashboard::load_all().expect("fixture dashboards load")
}

fn whitelist_of(dashboard: &Dashboard) -> Whitelist {
    Whitelist::new(
        dashboard
            .calls()
            .map(|c| canonical_call(&c.method, &c.parameters).expect("fixture calls read"))
            .collect(),
    )
}

/// One change to a call.
#[derive(Debug, Clone)]
enum Mutation {
    Value(String, Value),
    Remove(String),
    Add(String, Value),
    Rename(String, String),
    Method(String),
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u32..3000).prop_map(Value::from),
        (0u32..3000).prop_map(|n| Value::String(n.to_string())),
        select(vec![
            100u32, 101, 200, 201, 300, 1001, 2000, 2001, 2002, 3001, 4002
        ])
        .prop_map(Value::from),
        "[0-9]{1,5}|0[0-9]{2}|\\+[0-9]{3}|[0-9]e[0-9]|１００| 100".prop_map(Value::String),
        Just(Value::Null),
        Just(serde_json::json!([100])),
    ]
}

fn name() -> impl Strategy<Value = String> {
    select(vec![
        "dmaID",
        "elementID",
        "parameterID",
        "viewID",
        "DMAID",
        "ElementID",
        "elementid",
        "includeHidden",
        "value",
    ])
    .prop_map(str::to_owned)
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (name(), value()).prop_map(|(n, v)| Mutation::Value(n, v)),
        name().prop_map(Mutation::Remove),
        (name(), value()).prop_map(|(n, v)| Mutation::Add(n, v)),
        (name(), name()).prop_map(|(a, b)| Mutation::Rename(a, b)),
        select(vec![
            "GetElement",
            "GetParameter",
            "GetActiveAlarmsForElement",
            "GetElementsForView",
            "SetParameter",
            "getelement",
            "GETPARAMETER",
        ])
        .prop_map(str::to_owned)
        .prop_map(Mutation::Method),
    ]
}

fn apply(method: &mut String, body: &mut Map<String, Value>, mutation: &Mutation) {
    match mutation {
        Mutation::Value(n, v) | Mutation::Add(n, v) => {
            body.insert(n.clone(), v.clone());
        }
        Mutation::Remove(n) => {
            body.remove(n);
        }
        Mutation::Rename(from, to) => {
            if let Some(v) = body.remove(from) {
                body.insert(to.clone(), v);
            }
        }
        Mutation::Method(m) => method.clone_from(m),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn a_mutated_call_passes_only_when_it_reads_as_a_whitelisted_call(
        pick: Index,
        call: Index,
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        let all = dashboards();
        let dashboard = pick.get(&all);
        let whitelist = whitelist_of(dashboard);
        let calls: Vec<_> = dashboard.calls().collect();
        let original = call.get(&calls);
        let mut method = original.method.clone();
        let mut body = original.parameters.clone();
        body.insert("connection".into(), Value::String("c".into()));
        for m in &mutations {
            apply(&mut method, &mut body, m);
        }
        let allowed = whitelist.check(&method, &body, &MatchPolicy::strict()).is_ok();
        let canonically_listed = canonical_call(&method, &body)
            .is_ok_and(|c| whitelist.calls().contains(&c));
        prop_assert_eq!(allowed, canonically_listed, "{} {:?}", method, body);
    }

    #[test]
    fn the_dashboards_own_calls_always_pass_however_ids_are_spelled(
        pick: Index,
        call: Index,
        as_strings in proptest::collection::vec(any::<bool>(), 5),
    ) {
        let all = dashboards();
        let dashboard = pick.get(&all);
        let whitelist = whitelist_of(dashboard);
        let calls: Vec<_> = dashboard.calls().collect();
        let original = call.get(&calls);
        let canonical = canonical_call(&original.method, &original.parameters)
            .expect("fixture calls read");
        let mut body = Map::new();
        body.insert("connection".into(), Value::String("c".into()));
        for (i, (name, value)) in canonical.parameters.iter().enumerate() {
            let CanonicalValue::Id(id) = value else {
                continue;
            };
            let spelled = if as_strings[i % as_strings.len()] {
                Value::String(id.to_string())
            } else {
                Value::from(*id)
            };
            body.insert(name.clone(), spelled);
        }
        prop_assert!(whitelist.check(&original.method, &body, &MatchPolicy::strict()).is_ok());
    }
}
