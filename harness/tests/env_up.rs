//! `conform env up` as a reviewer meets it: the `conform-env/1` line, time moved by the
//! control endpoint, `conform probe jwt` against the connection host, clean and faulty, and
//! `conform store decrypt` on the running cloud's store; the control endpoint against other
//! hosts' pages (`control`).

#[path = "env_up/control.rs"]
mod control;
mod env_process;

use std::process::Command;

use env_process::EnvUp;
use serde_json::Value;

/// Ports, paths, passwords, IDs and the time differ on every start; the shape does not.
fn redacted(mut line: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::String(text) => *text = without_ports(text),
            Value::Array(items) => items.iter_mut().for_each(walk),
            Value::Object(members) => members.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut line);
    line["ca"] = "[path]".into();
    line["dms_id"] = "[id]".into();
    line["clock"]["now"] = "[unix seconds]".into();
    for field in ["database", "replica"] {
        if let Some(path) = line["store"][field].as_str() {
            // `<temp>/conform-cloud-<pid>-<n>-<random>/primary/store.sqlite`: the tail stays.
            let tail = path
                .rsplit_once("/conform-cloud-")
                .and_then(|(_, rest)| rest.split_once('/'))
                .map_or("", |(_, tail)| tail);
            line["store"][field] = format!("[dir]/{tail}").into();
        }
    }
    for account in ["dms", "cloud"] {
        if let Some(list) = line["accounts"][account].as_array_mut() {
            for entry in list {
                entry["password"] = "[password]".into();
            }
        }
    }
    line
}

fn without_ports(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(':') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        // An address after the colon (`:127.0.0.1`) is kept; only a port is volatile.
        if digits > 0 && !rest[digits..].starts_with('.') {
            out.push_str("[port]");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn the_line_of_a_connected_environment_keeps_the_conform_env_1_contract() {
    let env = EnvUp::start(&["--connected", "--speed", "0"]);
    assert_eq!(env.line["schema"], "conform-env/1");
    assert_eq!(env.line["connected"], true);
    insta::assert_json_snapshot!(redacted(env.line.clone()));
}

#[test]
fn store_decrypt_opens_the_running_store_whose_file_holds_no_plaintext() {
    let env = EnvUp::start(&["--connected", "--speed", "0"]);
    let database = env.line["store"]["database"].as_str().expect("store path");
    let raw = std::fs::read(database).expect("the store file is readable");
    let email = env.line["accounts"]["cloud"][0]["email"]
        .as_str()
        .expect("an account");
    assert!(!raw.windows(email.len()).any(|w| w == email.as_bytes()));
    let output = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["store", "decrypt", "--control", &env.control("")])
        .output()
        .expect("conform runs");
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let decrypted: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let emails: Vec<&str> = decrypted["tables"]["accounts"]
        .as_array()
        .expect("accounts")
        .iter()
        .filter_map(|row| row["values"]["email"].as_str())
        .collect();
    assert!(emails.contains(&email), "{emails:?}");
    assert_eq!(decrypted["key_versions"]["vault"]["current"], 1);
    let missing = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["store", "decrypt", "--control", &env.control("")])
        .args(["--db", "/nonexistent/store.sqlite"])
        .output()
        .expect("conform runs");
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
}

#[tokio::test]
async fn advancing_a_connected_environment_two_days_renews_its_token() {
    let env = EnvUp::start(&["--connected", "--speed", "0"]);
    let http = reqwest::Client::new();
    let before: Value = http
        .get(env.control("state"))
        .send()
        .await
        .expect("state answers")
        .json()
        .await
        .expect("state is JSON");
    assert_eq!(before["agent"], "Connected");
    assert_eq!(before["tokens_issued"], 1);

    let after: Value = http
        .post(env.control("advance"))
        .json(&serde_json::json!({ "by": "2d" }))
        .send()
        .await
        .expect("advance answers")
        .json()
        .await
        .expect("advance is JSON");
    let moved =
        after["now"].as_u64().unwrap_or_default() - before["now"].as_u64().unwrap_or_default();
    assert_eq!(moved, 2 * 86_400);
    let grants: Vec<_> = after["tokens"]
        .as_array()
        .expect("tokens listed")
        .iter()
        .map(|t| t["grant"].clone())
        .collect();
    assert_eq!(grants, ["device_code", "refresh_token"]);

    let refused = http
        .post(env.control("advance"))
        .json(&serde_json::json!({ "by": "2w" }))
        .send()
        .await
        .expect("advance answers");
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn a_clock_at_an_hour_a_second_moves_without_being_asked() {
    let env = EnvUp::start(&["--speed", "3600"]);
    let state = || async {
        reqwest::get(env.control("state"))
            .await
            .expect("state answers")
            .json::<Value>()
            .await
            .expect("state is JSON")["now"]
            .as_u64()
            .unwrap_or_default()
    };
    let first = state().await;
    tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
    let moved = state().await - first;
    // About an hour; a loaded machine steps late, never short.
    assert!(moved >= 1_800, "moved {moved} s in one real second");
}

/// `conform probe jwt` against an environment's connection host, with a token the test got
/// through the connect flow itself: its exit code and the cases it reported accepted.
async fn probe_jwt_against(faults: mocks::world::FaultSet) -> (Option<i32>, Vec<String>) {
    let env = mocks::Environment::start(faults)
        .await
        .expect("environment starts");
    let (_, token) = scenarios::steps::register_another_dms(&env, "dms-probed")
        .await
        .expect("the connect flow gives a token");
    let dir = std::env::temp_dir().join(format!("conform-probe-jwt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let ca = dir.join(format!("ca-{}.pem", env.faults().iter().count()));
    std::fs::write(&ca, env.ca_pem()).expect("CA written");
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_conform"));
    command
        .args(["probe", "jwt", "--json", "--token", &token, "--cacert"])
        .arg(&ca)
        .arg(format!(
            "{}api/dms/self",
            env.cloud_url(mocks::cloud::Endpoint::Connection)
        ));
    for (name, addr) in env.published() {
        command.args([
            "--resolve",
            &format!("{name}:{}:{}", addr.port(), addr.ip()),
        ]);
    }
    let output = command.output().await.expect("conform runs");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "a JSON report, not: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let accepted = report["cases"]
        .as_array()
        .expect("cases listed")
        .iter()
        .filter(|case| case["verdict"] == "accepted")
        .map(|case| case["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    (output.status.code(), accepted)
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_jwt_finds_nothing_accepted_on_a_clean_connection_host() {
    let (code, accepted) = probe_jwt_against(mocks::world::FaultSet::none()).await;
    assert_eq!(accepted, Vec::<String>::new());
    assert_eq!(code, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_jwt_reports_alg_none_accepted_when_the_cloud_accepts_it() {
    let (code, accepted) = probe_jwt_against(mocks::world::Fault::CloudAcceptAlgNone.into()).await;
    assert!(
        accepted.iter().any(|name| name.starts_with("alg none")),
        "accepted: {accepted:?}"
    );
    assert_eq!(code, Some(1));
}

/// `--shared`: the line carries the mailed link and the recipient's credentials; with them,
/// curl-like requests (CA from the line, names pinned to loopback) open the viewer.
#[tokio::test]
async fn a_shared_environment_prints_a_link_its_recipient_opens() {
    let env = EnvUp::start(&["--shared", "--speed", "0"]);
    assert_eq!(env.line["connected"], true);
    let share = &env.line["share"];
    let link = share["link"].as_str().expect("a link");
    let ca = std::fs::read(env.line["ca"].as_str().expect("a CA path")).expect("the CA file");
    let mut client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).expect("a PEM CA")])
        .redirect(reqwest::redirect::Policy::none());
    for pin in env.line["resolve"].as_array().expect("resolve entries") {
        let pin = pin.as_str().expect("name:port:ip");
        let mut parts = pin.splitn(3, ':');
        let (Some(name), Some(port), Some(ip)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("resolve entry {pin}");
        };
        let addr = format!("{ip}:{port}").parse().expect("an address");
        client = client.resolve(name, addr);
    }
    let client = client.build().expect("a client");
    let base = env.line["endpoints"]["sharing"]
        .as_str()
        .expect("sharing URL");
    let signed_in = client
        .post(format!("{base}account/login"))
        .json(&serde_json::json!({
            "email": share["recipient"]["email"], "password": share["recipient"]["password"],
        }))
        .send()
        .await
        .expect("sign-in answers");
    let cookie = signed_in
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let opened = client
        .get(link)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("the link answers");
    assert_eq!(opened.status(), 303, "the link opens a viewer session");
    // The viewer session is a capability in the path the cloud sends the browser on to; the
    // sandboxed page's requests carry no cookie.
    let location = opened
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("the viewer's path");
    let viewer = reqwest::Url::parse(link)
        .and_then(|l| l.join(location))
        .expect("the viewer's URL")
        .to_string();
    let app = client.get(&viewer).send().await.expect("the app answers");
    assert_eq!(app.status(), 200);
    let page = app.text().await.expect("the DMS's app");
    assert!(page.contains("shared-dashboard"), "not the app:\n{page}");
    // What the app's script does: one of the dashboard's calls, through the link.
    let answer = client
        .post(format!("{viewer}API/v1/Json.asmx/GetElement"))
        .json(&serde_json::json!({ "dmaID": 2000, "elementID": 100 }))
        .send()
        .await
        .expect("the call answers");
    assert_eq!(answer.status(), 200);
    let data = answer.text().await.expect("the DMA's answer");
    assert!(data.contains("CANARY-"), "no DMA data:\n{data}");
}

/// An HTTPS client that trusts the environment's CA and finds its published names on loopback,
/// as the line's `ca` and `resolve` say.
fn https_client(line: &Value) -> reqwest::Client {
    let pem = std::fs::read(line["ca"].as_str().expect("CA path")).expect("CA readable");
    let ca = reqwest::Certificate::from_pem(&pem).expect("CA parses");
    let mut builder = reqwest::Client::builder().tls_certs_only([ca]);
    for entry in line["resolve"].as_array().expect("resolve listed") {
        let entry = entry.as_str().expect("name:port:ip");
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(port), Some(ip)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("not name:port:ip: {entry}");
        };
        let addr = format!("{ip}:{port}").parse().expect("an address");
        builder = builder.resolve(name, addr);
    }
    builder.build().expect("client builds")
}

#[tokio::test]
async fn a_black_hole_on_the_recipients_hop_holds_their_requests_until_it_is_taken_off() {
    let env = EnvUp::start(&["--speed", "0"]);
    let client = https_client(&env.line);
    let control = reqwest::Client::new();
    let sharing = env.line["endpoints"]["sharing"]
        .as_str()
        .expect("sharing URL");
    let ask = || {
        client
            .get(format!("{sharing}api/shares"))
            .timeout(std::time::Duration::from_millis(1_500))
            .send()
    };
    assert!(ask().await.is_ok(), "the sharing endpoint answers at first");

    let state: Value = control
        .post(env.control("toxics"))
        .json(&serde_json::json!({ "hop": "recipient-to-cloud", "toxic": { "timeout": {} } }))
        .send()
        .await
        .expect("the toxic is taken")
        .json()
        .await
        .expect("state is JSON");
    assert_eq!(
        state["toxics"],
        serde_json::json!([{
            "hop": "recipient-to-cloud", "direction": "both",
            "toxic": { "timeout": { "close_after_ms": null } },
        }])
    );
    let held = ask().await.expect_err("nothing passes a black hole");
    assert!(held.is_timeout(), "held, not refused: {held}");

    let state: Value = control
        .delete(env.control("toxics/recipient-to-cloud"))
        .send()
        .await
        .expect("the toxics come off")
        .json()
        .await
        .expect("state is JSON");
    assert_eq!(state["toxics"], serde_json::json!([]));
    assert!(ask().await.is_ok(), "the sharing endpoint answers again");

    let unknown = control
        .delete(env.control("toxics/moon-to-earth"))
        .send()
        .await
        .expect("an answer");
    assert_eq!(unknown.status(), 404);
}

#[tokio::test]
async fn the_cloud_sees_a_recipients_own_address_through_the_recipients_hop() {
    let env = EnvUp::start(&["--speed", "0"]);
    let sharing = env.line["endpoints"]["sharing"]
        .as_str()
        .expect("sharing URL");
    let pem = std::fs::read(env.line["ca"].as_str().expect("CA path")).expect("CA readable");
    let ca = reqwest::Certificate::from_pem(&pem).expect("CA parses");
    // A recipient on another machine: 127.0.0.9, as `curl --interface 127.0.0.9` would be.
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([ca])
        .local_address(Some([127, 0, 0, 9].into()));
    for entry in env.line["resolve"].as_array().expect("resolve listed") {
        let entry = entry.as_str().expect("name:port:ip");
        let mut parts = entry.splitn(3, ':');
        let (Some(name), Some(port), Some(ip)) = (parts.next(), parts.next(), parts.next()) else {
            panic!("not name:port:ip: {entry}");
        };
        builder = builder.resolve(name, format!("{ip}:{port}").parse().expect("an address"));
    }
    let client = builder.build().expect("client builds");
    let asked = client
        .get(format!("{sharing}api/shares?from=elsewhere"))
        .send()
        .await
        .expect("the sharing endpoint answers");
    assert_eq!(asked.status(), 401, "no session: refused, but received");

    let seen: Vec<Value> = reqwest::Client::new()
        .get(env.control("requests"))
        .send()
        .await
        .expect("the control endpoint answers")
        .json()
        .await
        .expect("requests are JSON");
    let ours: Vec<&Value> = seen.iter().filter(|r| r["path"] == "/api/shares").collect();
    assert_eq!(ours.len(), 1, "one request on record: {seen:?}");
    let peer: std::net::SocketAddr = ours[0]["peer"]
        .as_str()
        .expect("a peer")
        .parse()
        .expect("an address");
    assert_eq!(
        peer.ip(),
        std::net::IpAddr::from([127, 0, 0, 9]),
        "the cloud saw the recipient's own address, not the hop's"
    );
    assert_eq!(ours[0]["endpoint"], "sharing.dataminer.services");
}

/// `conform probe waf` against an environment's WAF, with a whitelisted call of a share the
/// test made through the DMA's public API: its exit code and the mutations it found let
/// through off the whitelist.
async fn probe_waf_against(faults: mocks::world::FaultSet) -> (Option<i32>, Vec<String>) {
    let env = mocks::Environment::start(faults)
        .await
        .expect("environment starts");
    let admin = scenarios::steps::connect_dms(&env)
        .await
        .expect("the DMS connects");
    let dashboard = fixtures::Dashboard::load_all()
        .expect("dashboards load")
        .into_iter()
        .find(|d| d.id == "core-network")
        .expect("the core-network dashboard");
    let reply = admin
        .expect_data(
            "ShareDashboard",
            serde_json::json!({ "dashboardID": dashboard.id, "emails": ["viewer@partner.example"] }),
        )
        .await
        .expect("the dashboard is shared");
    let share_id = reply["ShareID"].as_str().expect("a share ID");
    let (login, password) = env
        .dma()
        .gateway_credentials(share_id)
        .expect("the gateway's credentials of the share");
    let waf = format!("http://{}/", env.waf().addr());
    // What the Cloud Gateway puts on everything it forwards: without it the gateway channel
    // serves nothing. A viewer's calls also carry the share session it attached for the viewer
    // (the WAF takes a share's session from there only), added to the call file's headers.
    let (key_name, key) = env.dma().gateway_key().header();
    let connected: Value = reqwest::Client::new()
        .post(format!("{waf}API/v1/Json.asmx/ConnectApp"))
        .header(key_name, &key)
        .json(&serde_json::json!({
            "host": "", "login": login, "password": password, "clientAppName": "Cloud Gateway",
            "clientAppVersion": "1", "clientComputerName": "gateway",
        }))
        .send()
        .await
        .expect("the WAF answers")
        .json()
        .await
        .expect("ConnectApp answers JSON");
    let connection = connected["d"].as_str().expect("a connection string");
    let call = dashboard
        .calls()
        .find(|c| c.parameters.contains_key("elementID"))
        .expect("a call naming an element");
    let mut body = serde_json::Map::new();
    body.insert("connection".into(), connection.into());
    body.extend(call.parameters.clone());
    let file = std::env::temp_dir().join(format!(
        "conform-probe-waf-{}-{}.json",
        std::process::id(),
        env.faults().iter().count()
    ));
    std::fs::write(
        &file,
        // The WAF refuses with 403; whatever it passed on reached the DMA, whatever the DMA said.
        serde_json::json!({
            "method": call.method, "body": body,
            "headers": { key_name: key, "x-dataminer-share-session": connection },
            "blocked": [403],
        })
        .to_string(),
    )
    .expect("call file written");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["probe", "waf", "--json", "--call"])
        .arg(&file)
        .arg(&waf)
        .output()
        .await
        .expect("conform runs");
    let _ = std::fs::remove_file(&file);
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "a JSON report, not: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let through = report["cases"]
        .as_array()
        .expect("cases listed")
        .iter()
        .filter(|case| case["expect"] == "blocked" && case["verdict"]["verdict"] == "allowed")
        .map(|case| case["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    (output.status.code(), through)
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_waf_finds_nothing_let_through_by_a_clean_waf() {
    let (code, through) = probe_waf_against(mocks::world::FaultSet::none()).await;
    assert_eq!(through, Vec::<String>::new());
    assert_eq!(code, Some(0));
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_waf_reports_other_ids_let_through_by_a_waf_that_ignores_parameters() {
    let (code, through) = probe_waf_against(mocks::world::Fault::WafIgnoreParams.into()).await;
    assert!(
        through.iter().any(|id| id == "another-element-id"),
        "let through: {through:?}"
    );
    assert_eq!(code, Some(1));
}
