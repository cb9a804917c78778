//! The control endpoint against a page that is not the reviewer's: a request that names
//! another host (DNS rebinding: a page of `rebind.evil.example`, resolved to 127.0.0.1) or
//! that a page of another origin sent is refused, and `store/decrypt` opens only the
//! environment's own store, telling nothing of other files.

use serde_json::Value;

use super::EnvUp;

/// The control endpoint's `host:port`, from the URL the line printed.
fn own_authority(env: &EnvUp) -> String {
    let url = env.control("");
    url.trim_start_matches("http://")
        .split('/')
        .next()
        .expect("an authority")
        .to_owned()
}

#[tokio::test]
async fn the_control_endpoint_answers_only_its_own_host_and_pages() {
    let env = EnvUp::start(&["--speed", "0"]);
    let http = reqwest::Client::new();
    let own = own_authority(&env);
    let port = own.rsplit_once(':').expect("a port").1.to_owned();
    let status = |host: String, origin: Option<&'static str>| {
        let mut request = http
            .get(env.control("outbox"))
            .header(reqwest::header::HOST, host);
        if let Some(origin) = origin {
            request = request.header(reqwest::header::ORIGIN, origin);
        }
        async move { request.send().await.expect("the endpoint answers").status() }
    };
    assert_eq!(status(own.clone(), None).await, 200, "its own address");
    assert_eq!(status(format!("localhost:{port}"), None).await, 200);
    for host in [
        format!("rebind.evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
        "127.0.0.1".to_owned(),
    ] {
        assert_eq!(status(host.clone(), None).await, 403, "Host {host}");
    }
    assert_eq!(
        status(own.clone(), Some("http://evil.example")).await,
        403,
        "a page of another origin"
    );
    let moved = http
        .post(env.control("advance"))
        .header(reqwest::header::HOST, format!("rebind.evil.example:{port}"))
        .json(&serde_json::json!({ "by": "1d" }))
        .send()
        .await
        .expect("the endpoint answers");
    assert_eq!(moved.status(), 403);
    let state: Value = http
        .get(env.control("state"))
        .send()
        .await
        .expect("state answers")
        .json()
        .await
        .expect("state is JSON");
    assert_eq!(state["elapsed_seconds"], 0, "time did not move: {state}");
}

#[tokio::test]
async fn store_decrypt_opens_only_the_environments_own_store() {
    let env = EnvUp::start(&["--speed", "0"]);
    let http = reqwest::Client::new();
    let database = env.line["store"]["database"].as_str().expect("store path");
    let decrypt = |db: String| {
        let request = http
            .post(env.control("store/decrypt"))
            .json(&serde_json::json!({ "db": db }));
        async move {
            let answer = request.send().await.expect("the endpoint answers");
            let status = answer.status().as_u16();
            let body: Value = answer.json().await.expect("JSON");
            // The path asked for, as the answer names it, stands for any path.
            let said = body["error"]
                .as_str()
                .unwrap_or_default()
                .replace(&db, "[db]");
            (status, said)
        }
    };
    assert_eq!(
        decrypt(database.to_owned()).await.0,
        200,
        "the primary opens"
    );
    let root = std::path::Path::new(database)
        .parent()
        .and_then(std::path::Path::parent)
        .expect("the store's directory");
    let elsewhere = [
        "/etc/passwd".to_owned(),
        "/nonexistent/store.sqlite".to_owned(),
        "/etc".to_owned(),
        format!("{}/../../../etc/passwd", root.display()),
        format!("{}/no-such-file.sqlite", root.display()),
    ];
    let answers: Vec<(u16, String)> = {
        let mut answers = Vec::new();
        for db in elsewhere.iter().cloned() {
            answers.push(decrypt(db).await);
        }
        answers
    };
    assert!(
        answers.iter().all(|a| a == &answers[0]) && answers[0].0 == 400,
        "one refusal, whether the file exists or not: {answers:?}"
    );
}
