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
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod requests;

use requests::{build, mutation, wire};

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
pub(crate) struct Share {
    pub connection: String,
    pub dashboard: Dashboard,
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
        let (name, key) = world.env.dma().gateway_key().header();
        let request = build(share, call, &mutations, &wire, &world.shares, (name, &key));
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
