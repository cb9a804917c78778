//! The WAF and the DMA read requests with separate readers; this property test looks for a
//! request they read apart. It takes the whitelisted calls of every fixture dashboard, mutates
//! them (keys, escapes, duplicates, number forms, types, encodings, paths, header case, content
//! types, framing, connections), and sends each as the signed-in recipient does from outside:
//! over TLS to the sharing host, under the viewer the recipient opened on the share, with the
//! cookies their browser holds there (the cloud's relay, the tunnel, the Cloud Gateway, the
//! WAF, the DMA). The invariant holds on the DMA's own log of executed calls: on a share's
//! connection, the DMA carried out only calls on that share's whitelist (read from the
//! fixtures by this test). Drawn reproducibly (ChaCha, fixed seed); a failure is kept in
//! `proptest-regressions/waf-differential.txt`.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use fixtures::Dashboard;
use mocks::Environment;
use mocks::cloud::Endpoint;
use mocks::dma::Channel;
use mocks::world::FaultSet;
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, FileFailurePersistence, RngAlgorithm, RngSeed};
use scenarios::clients::{ShareRecipient, Viewer, host_line, link_in, send_tls};
use scenarios::steps;
use serde_json::{Value, json};

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

/// One share: the session the Cloud Gateway opened for the recipient's viewer of it, the
/// viewer, and its whitelist by this test's reading of the dashboard.
pub(crate) struct Share {
    pub connection: String,
    pub dashboard: Dashboard,
    pub viewer: Viewer,
    whitelist: Vec<Read>,
}

struct World {
    runtime: tokio::runtime::Runtime,
    env: Environment,
    browser: ShareRecipient,
    host: String,
    shares: Vec<Share>,
    /// Held while a request is in flight: what the DMA carried out meanwhile is its doing
    /// (the two tests share the environment).
    one_at_a_time: Mutex<()>,
}

/// The DMS connected by its Administrator, every fixture dashboard shared with the partner
/// account through the DMA's API, and each mailed link opened by that account, signed in.
async fn set_up() -> (Environment, ShareRecipient, Vec<Share>) {
    let env = Environment::start(FaultSet::none())
        .await
        .expect("an environment");
    let admin = steps::connect_dms(&env).await.expect("the DMS connected");
    let account = env.accounts().cloud_outsider.clone();
    let mut browser = ShareRecipient::new(&env).expect("a browser");
    browser
        .sign_in(&account.email, &account.password)
        .await
        .expect("the recipient signed in");
    let mut shares = Vec::new();
    for dashboard in Dashboard::load_all().expect("fixture dashboards") {
        let mails = env.cloud().outbox().to(&account.email).len();
        let share = json!({ "dashboardID": dashboard.id, "emails": [account.email] });
        let answer = admin
            .expect_data("ShareDashboard", share)
            .await
            .expect("a share");
        let share_id = answer
            .get("ShareID")
            .and_then(Value::as_str)
            .expect("a share ID")
            .to_owned();
        let link = env
            .cloud()
            .outbox()
            .to(&account.email)
            .get(mails..)
            .and_then(|new| new.iter().find_map(link_in))
            .expect("the link mailed to the recipient");
        let page = browser.open(&link).await.expect("the link opened");
        let viewer = Viewer::of(&page).expect("the dashboard app under the link");
        // The recipient never holds the session: the DMA's record of the gateway's sign-in as
        // the share user names it.
        let connection = env
            .dma()
            .executed()
            .all()
            .into_iter()
            .rev()
            .find(|c| c.method == "ConnectApp" && c.share.as_deref() == Some(share_id.as_str()))
            .map(|c| c.connection)
            .expect("the gateway's session for the viewer");
        let whitelist = dashboard
            .calls()
            .map(|c| read(&c.method, &c.parameters))
            .collect();
        shares.push(Share {
            connection,
            dashboard,
            viewer,
            whitelist,
        });
    }
    (env, browser, shares)
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let (env, browser, shares) = runtime.block_on(set_up());
        let host = host_line(&env, Endpoint::Sharing).expect("the sharing host");
        World {
            runtime,
            env,
            browser,
            host,
            shares,
            one_at_a_time: Mutex::new(()),
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
        let calls: Vec<_> = share.dashboard.calls().collect();
        let original = *call.get(&calls);
        let request = build(share, original, &mutations, &wire, &world.shares, &world.host, |_| {
            world.browser.sign_in_cookie().unwrap_or_default()
        });
        let _alone = world.one_at_a_time.lock().unwrap_or_else(|p| p.into_inner());
        let from = world.env.dma().executed().len();
        let answer = world
            .runtime
            .block_on(send_tls(&world.env, Endpoint::Sharing, &request))
            .map(|reply| format!("HTTP {}: {}", reply.status, reply.body))
            .unwrap_or_else(|e| e.to_string());

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

/// The property is not vacuous: each whitelisted call, unmutated and sent the same way, is
/// carried out by the DMA, once, on the share's connection (no false positive on this path).
#[test]
fn the_recipients_whitelisted_calls_are_carried_out_on_this_path() {
    let world = world();
    let plain = requests::Wire {
        form: false,
        content_type: "application/json",
        header_case: 0,
        chunked: false,
        both_framings: false,
    };
    for share in &world.shares {
        for call in share.dashboard.calls() {
            let request = build(share, call, &[], &plain, &world.shares, &world.host, |_| {
                world.browser.sign_in_cookie().unwrap_or_default()
            });
            let _alone = world
                .one_at_a_time
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            let from = world.env.dma().executed().len();
            let answer = world
                .runtime
                .block_on(send_tls(&world.env, Endpoint::Sharing, &request));
            let executed: Vec<_> = world
                .env
                .dma()
                .executed()
                .since(from)
                .into_iter()
                .map(|e| {
                    (
                        e.connection == share.connection,
                        read(&e.method, &e.parameters),
                    )
                })
                .collect();
            assert_eq!(
                executed,
                vec![(true, read(&call.method, &call.parameters))],
                "share {}'s call {} sent as the recipient: {answer:?}",
                share.dashboard.id,
                call.method
            );
        }
    }
}
