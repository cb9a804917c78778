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

    let answer = exchange(
        env.waf().addr(),
        "GET /API/v1/Json.asmx/ConnectApp HTTP/1.1\r\nHost: dma\r\nConnection: close\r\n\r\n"
            .into(),
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");

    let decisions = env.waf().decisions().all();
    let verdicts: Vec<Verdict> = decisions.iter().map(|d| d.verdict).collect();
    assert_eq!(verdicts, [Verdict::Allowed, Verdict::Blocked]);
    assert!(decisions.iter().all(|d| !d.reason.is_empty()));
}
