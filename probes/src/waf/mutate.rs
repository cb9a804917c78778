//! One corpus case applied to one whitelisted call: the request the case describes, built the
//! way the corpus file's templates say (`{value}`, `{fullwidth}`, `{connection}`,
//! `{method}`, `{method:lower}`, `{method:upper}`, `{method:tail}`).

use fixtures::{AttackCase, BodyOp, On, fill, id_of, names_an_id};
use serde_json::Value;

use super::call::CallFile;

/// A request to send: what one case makes of the call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mutation {
    pub verb: String,
    pub target: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

struct Param {
    name: String,
    raw: String,
}

/// The request `case` makes of `call`; `None` when the case does not apply to it: a parameter
/// it needs is missing, or it needs what one call cannot give (another share's session, a
/// deleted share's, another call of the dashboard).
pub fn mutate(case: &AttackCase, call: &CallFile) -> Option<Mutation> {
    let template = &case.request;
    if template.on != On::OwnShare {
        return None;
    }
    let connection = call.connection().ok()?;
    let method = call.method.as_str();
    for need in &template.needs {
        let name = resolve(need, call)?;
        if !call.body.contains_key(&name) {
            return None;
        }
    }
    let value_of = |name: &str| call.body.get(name).and_then(id_of).map(|v| v.to_string());
    let mut params: Vec<Param> = call
        .body
        .iter()
        .map(|(name, value)| Param {
            name: name.clone(),
            raw: value.to_string(),
        })
        .collect();
    for op in &template.body {
        match op {
            BodyOp::Set { name, json } => {
                let name = resolve(name, call)?;
                let value = value_of(&name).unwrap_or_default();
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
                let value = value_of(&name).unwrap_or_default();
                params.push(Param {
                    raw: fill(json, &value, connection, method),
                    name,
                });
            }
            BodyOp::Reverse => params.reverse(),
            BodyOp::StringifyIds | BodyOp::NumberifyIds => {
                for param in params.iter_mut() {
                    if let Some(value) = value_of(&param.name).filter(|_| names_an_id(&param.name))
                    {
                        param.raw = if matches!(op, BodyOp::StringifyIds) {
                            format!("\"{value}\"")
                        } else {
                            value
                        };
                    }
                }
            }
            BodyOp::CrossCombine => return None,
        }
    }
    let mut body = match &template.raw_body {
        Some(raw) => fill(raw, "", connection, method),
        None => {
            let members: Vec<String> = params
                .iter()
                .map(|p| format!("{}:{}", Value::String(p.name.clone()), p.raw))
                .collect();
            format!("{{{}}}", members.join(","))
        }
    }
    .into_bytes();
    if let Some(size) = template.pad_to {
        body.resize(size.max(body.len()), b' ');
    }
    let default_path = call
        .path
        .clone()
        .unwrap_or_else(|| "/API/v1/Json.asmx/{method}".to_owned());
    let target = fill(
        template.path.as_deref().unwrap_or(&default_path),
        "",
        connection,
        method,
    );
    let content_type = match template.content_type.as_deref() {
        None => Some("application/json; charset=utf-8".to_owned()),
        Some("") => None,
        Some(other) => Some(other.to_owned()),
    };
    Some(Mutation {
        verb: template.verb.clone().unwrap_or_else(|| "POST".into()),
        target,
        content_type,
        body,
    })
}

/// `$id` is the call's element or view ID, whichever it names.
fn resolve(name: &str, call: &CallFile) -> Option<String> {
    if name != "$id" {
        return Some(name.to_owned());
    }
    ["elementID", "viewID"]
        .into_iter()
        .find(|n| call.body.contains_key(*n))
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call() -> CallFile {
        serde_json::from_str(
            r#"{"method":"GetParameter","body":{"connection":"s3ss10n","dmaID":2000,"elementID":100,"parameterID":1001}}"#,
        )
        .expect("a call")
    }

    #[test]
    fn every_case_of_the_corpus_that_applies_changes_the_call_or_is_legitimate() {
        let corpus = fixtures::AttackCorpus::load().expect("the corpus loads");
        let call = call();
        let original = mutate(
            &serde_json::from_str(
                r#"{"id":"same","class":"legitimate","expect":"allowed","reason":"-","request":{}}"#,
            )
            .expect("a case"),
            &call,
        )
        .expect("the plain call applies");
        assert_eq!(original.target, "/API/v1/Json.asmx/GetParameter");
        let mut applied = 0;
        for case in &corpus.cases {
            let Some(mutation) = mutate(case, &call) else {
                continue;
            };
            applied += 1;
            if case.expect == fixtures::Expected::Blocked {
                assert_ne!(mutation, original, "{} leaves the call as it was", case.id);
            }
        }
        assert!(
            applied * 2 > corpus.cases.len(),
            "only {applied} cases applied"
        );
    }

    #[test]
    fn a_set_keeps_its_place_and_templates_fill_in() {
        let case: AttackCase = serde_json::from_str(
            r#"{"id":"x","class":"ids","expect":"blocked","reason":"-","request":{"body":[{"op":"set","name":"elementID","json":"\"{fullwidth}\""}]}}"#,
        )
        .expect("a case");
        let mutation = mutate(&case, &call()).expect("applies");
        assert_eq!(
            String::from_utf8(mutation.body).expect("text"),
            "{\"connection\":\"s3ss10n\",\"dmaID\":2000,\"elementID\":\"\u{ff11}\u{ff10}\u{ff10}\",\"parameterID\":1001}"
        );
    }
}
