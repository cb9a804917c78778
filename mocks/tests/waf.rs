//! The WAF on a real socket: what it forwards reaches the DMA, what it blocks does not, and
//! every decision is on its log with a reason.

use mocks::Environment;
use mocks::waf::Verdict;
use mocks::world::FaultSet;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn exchange(addr: std::net::SocketAddr, request: String) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr)
        .await
        .expect("WAF reachable");
    socket
        .write_all(request.as_bytes())
        .await
        .expect("request sent");
    let mut answer = String::new();
    socket
        .read_to_string(&mut answer)
        .await
        .expect("answer read");
    answer
}

/// A call as the Cloud Gateway forwards it: with the key the DMS handed it.
fn post(env: &Environment, path: &str, body: &str) -> String {
    let (name, key) = env.dma().gateway_key().header();
    format!(
        "POST {path} HTTP/1.1\r\nHost: dma\r\n{name}: {key}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn forwards_api_calls_to_the_dma_and_blocks_everything_else_with_a_logged_reason() {
    let env = Environment::start(FaultSet::none()).await.unwrap();
    let admin = &env.accounts().dms_admin;
    let login = format!(
        r#"{{"login":"{}","password":"{}"}}"#,
        admin.login, admin.password
    );

    let answer = exchange(
        env.waf().addr(),
        post(&env, "/API/v1/Json.asmx/ConnectApp", &login),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains(r#"{"d":""#),
        "the DMA's own answer comes back: {answer}"
    );

    let (name, key) = env.dma().gateway_key().header();
    let answer = exchange(
        env.waf().addr(),
        format!(
            "GET /API/v1/Json.asmx/ConnectApp HTTP/1.1\r\nHost: dma\r\n{name}: {key}\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");

    // Without the gateway's key: refused before it is read, tallied, logged nowhere.
    let keyless = post(&env, "/API/v1/Json.asmx/ConnectApp", &login)
        .replace(&format!("{name}: {key}\r\n"), "");
    let answer = exchange(env.waf().addr(), keyless).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_eq!(env.waf().refused_without_key(), 1);

    let decisions = env.waf().decisions().all();
    let verdicts: Vec<Verdict> = decisions.iter().map(|d| d.verdict).collect();
    assert_eq!(verdicts, [Verdict::Allowed, Verdict::Blocked]);
    assert!(decisions.iter().all(|d| !d.reason.is_empty()));
}

/// The answer's `d`, when the DMA answered with data.
fn data(answer: &str) -> Option<serde_json::Value> {
    let body = answer.split_once("\r\n\r\n")?.1;
    serde_json::from_str::<serde_json::Value>(body)
        .ok()?
        .get("d")
        .cloned()
}

#[tokio::test]
async fn a_whitelisted_call_sent_as_a_form_is_carried_out_as_the_same_call() {
    let env = Environment::start(FaultSet::none()).await.unwrap();
    let admin = &env.accounts().dms_admin;
    let login = format!(
        r#"{{"login":"{}","password":"{}"}}"#,
        admin.login, admin.password
    );
    let public = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: dma\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    };
    let answer = exchange(
        env.dma().addr(),
        public("/API/v1/Json.asmx/ConnectApp", &login),
    )
    .await;
    let session = data(&answer).expect("the Administrator's session");
    let share = serde_json::json!({
        "connection": session, "dashboardID": "soc-overview", "emails": ["a@b.example"],
    });
    let answer = exchange(
        env.dma().addr(),
        public("/API/v1/Json.asmx/ShareDashboard", &share.to_string()),
    )
    .await;
    let share_id = data(&answer).expect("a share")["ShareID"]
        .as_str()
        .expect("a share ID")
        .to_owned();
    let (login, password) = env.dma().gateway_credentials(&share_id).unwrap();
    let sign_in = serde_json::json!({ "login": login, "password": password });
    let answer = exchange(
        env.waf().addr(),
        post(&env, "/API/v1/Json.asmx/ConnectApp", &sign_in.to_string()),
    )
    .await;
    let connection = data(&answer)
        .expect("a share session")
        .as_str()
        .unwrap()
        .to_owned();

    // As the Cloud Gateway forwards a viewer's call: its key, and the viewer's share session
    // in the header it attaches (the WAF takes a share's session from there only).
    let form = format!("connection={connection}&dmaID=2000&elementID=100");
    let (name, key) = env.dma().gateway_key().header();
    let request = format!(
        "POST /API/v1/Json.asmx/GetElement HTTP/1.1\r\nHost: dma\r\n{name}: {key}\r\nx-dataminer-share-session: {connection}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    );
    let from = env.dma().executed().len();
    let answer = exchange(env.waf().addr(), request).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let executed = env.dma().executed().since(from);
    assert_eq!(executed.len(), 1, "{executed:?}");
    assert_eq!(executed[0].method, "GetElement");
    assert_eq!(executed[0].parameters["elementID"], 100);
    assert_eq!(executed[0].parameters["dmaID"], 2000);
}
