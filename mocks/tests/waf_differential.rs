//! The WAF and the DMA read requests with separate readers; this property test looks for a
//! request they read apart. It takes the whitelisted calls of every fixture dashboard, mutates
//! them (keys, escapes, duplicates, number forms, types, encodings, paths, header case, content
//! types, framing, connections), sends each through the WAF on a real socket as the Cloud
//! Gateway forwards, and holds the invariant on the DMA's own log of executed calls: on a share's
//! connection, the DMA carried out only calls on that share's whitelist. Drawn reproducibly
//! (ChaCha, fixed seed); a failure is kept in `proptest-regressions/waf-differential.txt`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use fixtures::Dashboard;
use mocks::Environment;
use mocks::dma::Channel;
use mocks::world::FaultSet;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A call as this test reads it: method, and each parameter but `connection` as an ID (a JSON
/// integer, or a string of plain digits) or as its raw JSON.
type Read = (String, BTreeMap<String, String>);

fn read(method: &str, parameters: &serde_json::Map<String, Value>) -> Read {
    let values = parameters
        .iter()
        .filter(|(name, _)| name.as_str() != "connection")
        .map(|(name, value)| {
            let id = match value {
                Value::Number(n) => n.as_u64(),
                Value::String(s)
                    if !s.is_empty()
                        && s.bytes().all(|b| b.is_ascii_digit())
                        && (s == "0" || !s.starts_with('0')) =>
                {
                    s.parse().ok()
                }
                _ => None,
            };
            (
                name.clone(),
                id.map_or_else(|| value.to_string(), |id| id.to_string()),
            )
        })
        .collect();
    (method.to_owned(), values)
}

/// One share: its connection and its whitelist, by this test's reading of the dashboard.
struct Share {
    connection: String,
    dashboard: Dashboard,
    whitelist: Vec<Read>,
}

struct World {
    runtime: tokio::runtime::Runtime,
    env: Environment,
    shares: Vec<Share>,
}

async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let Ok(mut socket) = tokio::net::TcpStream::connect(addr).await else {
        return String::new();
    };
    let _ = socket.write_all(request).await;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

fn json_post(extra: &str, path: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: dma\r\n{extra}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn answer_d(answer: &str) -> Option<Value> {
    let body = answer.split_once("\r\n\r\n")?.1;
    serde_json::from_str::<Value>(body).ok()?.get("d").cloned()
}

async fn set_up() -> (Environment, Vec<Share>) {
    let env = Environment::start(FaultSet::none())
        .await
        .expect("an environment");
    let admin = &env.accounts().dms_admin;
    let login = json!({ "login": admin.login, "password": admin.password }).to_string();
    let public = env.dma().addr();
    let answer = raw(
        public,
        &json_post("", "/API/v1/Json.asmx/ConnectApp", &login),
    )
    .await;
    let admin_session = answer_d(&answer).expect("the Administrator's session");
    let (name, key) = env.dma().gateway_key().header();
    let keyed = format!("{name}: {key}\r\n");
    let mut shares = Vec::new();
    for dashboard in Dashboard::load_all().expect("fixture dashboards") {
        let share = json!({
            "connection": admin_session, "dashboardID": dashboard.id, "emails": ["a@b.example"],
        })
        .to_string();
        let answer = raw(
            public,
            &json_post("", "/API/v1/Json.asmx/ShareDashboard", &share),
        )
        .await;
        let share_id = answer_d(&answer)
            .and_then(|d| d.get("ShareID").and_then(Value::as_str).map(str::to_owned))
            .expect("a share");
        let (login, password) = env
            .dma()
            .gateway_credentials(&share_id)
            .expect("credentials");
        let body = json!({ "login": login, "password": password }).to_string();
        let request = json_post(&keyed, "/API/v1/Json.asmx/ConnectApp", &body);
        let answer = raw(env.waf().addr(), &request).await;
        let connection = answer_d(&answer)
            .and_then(|d| d.as_str().map(str::to_owned))
            .expect("the share user's session through the gateway");
        let whitelist = dashboard
            .calls()
            .map(|c| read(&c.method, &c.parameters))
            .collect();
        shares.push(Share {
            connection,
            dashboard,
            whitelist,
        });
    }
    (env, shares)
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let (env, shares) = runtime.block_on(set_up());
        World {
            runtime,
            env,
            shares,
        }
    })
}

/// One change to a whitelisted call.
#[derive(Debug, Clone)]
enum Mutation {
    /// A parameter's value replaced by a raw JSON token.
    Value(Index, &'static str),
    /// A parameter's key respelled: case, an escape, a look-alike.
    Key(Index, &'static str),
    /// A parameter given twice, the copy with a raw JSON token.
    Duplicate(Index, &'static str),
    Remove(Index),
    Add(&'static str, &'static str),
    Method(&'static str),
    Path(&'static str),
    /// The connection of another share, or none that exists.
    Connection(Index),
}

/// How the request is put on the wire.
#[derive(Debug, Clone)]
struct Wire {
    form: bool,
    content_type: &'static str,
    header_case: usize,
    chunked: bool,
    both_framings: bool,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (
            any::<Index>(),
            select(
                &[
                    "{v}",
                    "\"{v}\"",
                    "{v}.0",
                    "{v}e0",
                    "\"0{v}\"",
                    "\" {v}\"",
                    "\"+{v}\"",
                    "-{v}",
                    "\"\\u0031{v}\"",
                    "\"{v}\\u0000\"",
                    "200",
                    "\"200\"",
                    "2001",
                    "[{v}]",
                    "true",
                    "null",
                    "{\"$ne\":0}",
                    "4294967396",
                    "\"１００\"",
                    "10",
                    "101",
                ][..]
            )
        )
            .prop_map(|(i, v)| Mutation::Value(i, v)),
        (
            any::<Index>(),
            select(
                &[
                    "{k:upper}",
                    "{k:lower}",
                    "{k:escaped}",
                    "{k}\\u0000",
                    " {k}"
                ][..]
            )
        )
            .prop_map(|(i, k)| Mutation::Key(i, k)),
        (
            any::<Index>(),
            select(
                &[
                    "{v}", "200", "\"200\"", "2001", "101", "10", "1002", "\"4001\""
                ][..]
            )
        )
            .prop_map(|(i, v)| Mutation::Duplicate(i, v)),
        any::<Index>().prop_map(Mutation::Remove),
        (
            select(
                &[
                    "parameterID",
                    "includeHidden",
                    "elementID",
                    "viewID",
                    "Connection"
                ][..]
            ),
            select(&["1001", "true", "\"x\"", "200"][..])
        )
            .prop_map(|(k, v)| Mutation::Add(k, v)),
        select(
            &[
                "getelement",
                "GETPARAMETER",
                "SetParameter",
                "GetElementsForView",
                "GetParameter",
                "GetActiveAlarmsForElement",
                "DeleteShare"
            ][..]
        )
        .prop_map(Mutation::Method),
        select(
            &[
                "/api/v1/json.asmx/{m}",
                "/API/v1/Json.asmx/%47{m:tail}",
                "/API/v1/Json.asmx/x/../{m}",
                "/API/v1/Json.asmx/{m}?elementID=200",
                "/API/v1/Json.asmx/{m}/",
                "/API/v1//Json.asmx/{m}",
                "/API/v1/Json.asmx/{m};x"
            ][..]
        )
        .prop_map(Mutation::Path),
        any::<Index>().prop_map(Mutation::Connection),
    ]
}

fn wire() -> impl Strategy<Value = Wire> {
    (
        any::<bool>(),
        select(
            &[
                "application/json",
                "application/json; charset=utf-8",
                "APPLICATION/JSON",
                "application/x-www-form-urlencoded",
                "text/plain",
                "application/jsonx",
                "application/json; charset=utf-16",
            ][..],
        ),
        0usize..3,
        any::<bool>(),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(form, content_type, header_case, chunked, both_framings)| Wire {
                form,
                content_type,
                header_case,
                chunked,
                both_framings,
            },
        )
}

/// The request a mutated call makes, as bytes.
fn build(
    share: &Share,
    call: Index,
    mutations: &[Mutation],
    wire: &Wire,
    shares: &[Share],
) -> Vec<u8> {
    let calls: Vec<_> = share.dashboard.calls().collect();
    let original = call.get(&calls);
    let mut method = original.method.clone();
    let mut path = "/API/v1/Json.asmx/{m}".to_owned();
    let mut fields: Vec<(String, String)> = vec![(
        "connection".into(),
        Value::String(share.connection.clone()).to_string(),
    )];
    fields.extend(
        original
            .parameters
            .iter()
            .map(|(k, v)| (k.clone(), v.to_string())),
    );
    for m in mutations {
        let pick = |i: &Index, fields: &[(String, String)]| i.index(fields.len().max(1));
        match m {
            Mutation::Value(i, raw) => {
                let at = pick(i, &fields);
                if let Some(f) = fields.get_mut(at) {
                    f.1 = raw.replace("{v}", f.1.trim_matches('"'));
                }
            }
            Mutation::Key(i, spelling) => {
                let at = pick(i, &fields);
                if let Some(f) = fields.get_mut(at) {
                    let escaped: String =
                        f.0.chars()
                            .map(|c| format!("\\u{:04x}", u32::from(c)))
                            .collect();
                    f.0 = spelling
                        .replace("{k:upper}", &f.0.to_uppercase())
                        .replace("{k:lower}", &f.0.to_lowercase())
                        .replace("{k:escaped}", &escaped)
                        .replace("{k}", &f.0);
                }
            }
            Mutation::Duplicate(i, raw) => {
                let at = pick(i, &fields);
                if let Some(f) = fields.get(at).cloned() {
                    fields.push((f.0, raw.replace("{v}", f.1.trim_matches('"'))));
                }
            }
            Mutation::Remove(i) => {
                let at = pick(i, &fields);
                if at < fields.len() {
                    fields.remove(at);
                }
            }
            Mutation::Add(k, v) => fields.push(((*k).to_owned(), (*v).to_owned())),
            Mutation::Method(m) => method = (*m).to_owned(),
            Mutation::Path(p) => path = (*p).to_owned(),
            Mutation::Connection(i) => {
                let other = i.get(shares);
                let connection = if other.connection == share.connection {
                    "made-up"
                } else {
                    &other.connection
                };
                if let Some(f) = fields.iter_mut().find(|f| f.0 == "connection") {
                    f.1 = Value::String(connection.to_owned()).to_string();
                }
            }
        }
    }
    let tail: String = method.chars().skip(1).collect();
    let path = path.replace("{m:tail}", &tail).replace("{m}", &method);
    let body = if wire.form {
        fields
            .iter()
            .map(|(k, v)| {
                let text = serde_json::from_str::<Value>(v)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| v.clone());
                let key = serde_json::from_str::<String>(&format!("\"{k}\""))
                    .unwrap_or_else(|_| k.clone());
                form_urlencoded::Serializer::new(String::new())
                    .append_pair(&key, &text)
                    .finish()
            })
            .collect::<Vec<_>>()
            .join("&")
    } else {
        let members: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", members.join(","))
    };
    let (name, key) = world().env.dma().gateway_key().header();
    let content_type = ["Content-Type", "content-type", "CONTENT-TYPE"][wire.header_case];
    let mut head = format!(
        "POST {path} HTTP/1.1\r\nHost: dma\r\n{name}: {key}\r\n{content_type}: {}\r\nConnection: close\r\n",
        wire.content_type
    );
    let mut bytes = Vec::new();
    if wire.chunked || wire.both_framings {
        head.push_str("Transfer-Encoding: chunked\r\n");
    }
    if !wire.chunked || wire.both_framings {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    bytes.extend_from_slice(head.as_bytes());
    if wire.chunked {
        bytes.extend_from_slice(format!("{:x}\r\n{body}\r\n0\r\n\r\n", body.len()).as_bytes());
    } else {
        bytes.extend_from_slice(body.as_bytes());
    }
    bytes
}

fn config() -> Config {
    Config {
        cases: 2000,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(0x0057_AF4D),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            "proptest-regressions/waf-differential.txt",
        ))),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn on_a_share_connection_the_dma_carries_out_only_that_shares_whitelisted_calls(
        share in any::<Index>(),
        call in any::<Index>(),
        mutations in proptest::collection::vec(mutation(), 0..4),
        wire in wire(),
    ) {
        let world = world();
        let share = share.get(&world.shares);
        let request = build(share, call, &mutations, &wire, &world.shares);
        let from = world.env.dma().executed().len();
        let answer = world.runtime.block_on(raw(world.env.waf().addr(), &request));
        for executed in world.env.dma().executed().since(from) {
            prop_assert_eq!(executed.channel, Channel::Gateway);
            let Some(owner) = world.shares.iter().find(|s| s.connection == executed.connection) else {
                continue;
            };
            let call = read(&executed.method, &executed.parameters);
            prop_assert!(
                owner.whitelist.contains(&call),
                "the DMA carried out {:?} on share {}'s connection: {}\n{}",
                call, owner.dashboard.id, String::from_utf8_lossy(&request), answer
            );
        }
    }
}
