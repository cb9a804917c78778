//! Slow and external: a real browser walks the recipient's path. Headless Chromium, driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`, installed by `./test.sh`), opens the
//! link the cloud mailed, signs in with the recipient's account, and sees the DMA's data come
//! through tunnel, agent and WAF; the heartbeat refreshes it; another account is refused.
//! Screenshots land in this test's directory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::Duration;

use base64::Engine as _;
use fantoccini::{Client, ClientBuilder, Locator};
use fixtures::{Dashboard, DmaData};
use mocks::Environment;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

mod common;

const DASHBOARD: &str = "soc-overview";
/// How long the browser may take to show what the test waits for (real time: the viewer's
/// heartbeat is a real timer in the page).
const PATIENCE: Duration = Duration::from_secs(30);

/// The element names the viewer of `DASHBOARD` must show, read from the fixtures by this test.
fn canary_names() -> Vec<String> {
    let dashboard = Dashboard::load(DASHBOARD).expect("fixture dashboard");
    let data = DmaData::load().expect("fixture DMA data");
    let id = |v: Option<&Value>| match v {
        Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    dashboard
        .calls()
        .filter(|c| c.method == "GetElement")
        .filter_map(|c| {
            let element = data.element(
                id(c.parameters.get("dmaID"))?,
                id(c.parameters.get("elementID"))?,
            )?;
            Some(element.name.clone())
        })
        .collect()
}

/// The base64 SHA-256 of the environment CA's public key: what Chromium is told to accept,
/// since its certificate store is not the environment's.
fn ca_spki_hash(env: &Environment) -> String {
    let der = env.ca_der();
    let (_, ca) = x509_parser::parse_x509_certificate(der.as_ref()).expect("the CA parses");
    let digest = Sha256::digest(ca.tbs_certificate.subject_pki.raw);
    base64::engine::general_purpose::STANDARD.encode(digest)
}

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A headless Chromium session that finds dataminer.services on loopback, and nothing else.
async fn browser(env: &Environment, profile: &Path) -> (Driver, Client) {
    let port = free_port();
    let driver = Driver(
        common::tool("chromedriver", "chromium-driver")
            .arg(format!("--port={port}"))
            .spawn()
            .expect("chromedriver starts"),
    );
    let args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--disable-gpu".to_owned(),
        "--disable-dev-shm-usage".to_owned(),
        "--no-first-run".to_owned(),
        "--disable-background-networking".to_owned(),
        "--disable-component-update".to_owned(),
        "--disable-sync".to_owned(),
        "--window-size=1200,900".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        "--host-resolver-rules=MAP *.dataminer.services 127.0.0.1, MAP * ~NOTFOUND".to_owned(),
        format!(
            "--ignore-certificate-errors-spki-list={}",
            ca_spki_hash(env)
        ),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args },
    });
    let Value::Object(capabilities) = capabilities else {
        unreachable!("a JSON object literal")
    };
    let mut builder = ClientBuilder::rustls().expect("a rustls WebDriver client");
    builder.capabilities(capabilities);
    let url = format!("http://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    loop {
        match builder.connect(&url).await {
            Ok(client) => return (driver, client),
            Err(e) if started.elapsed() > PATIENCE => panic!("no WebDriver session: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

/// Signs in on the page the link opened, as a person types it.
async fn sign_in(client: &Client, email: &str, password: &str) {
    let form = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("form[action='/account/login']"))
        .await
        .expect("the link asks for a sign-in");
    form.find(Locator::Css("input[name=email]"))
        .await
        .expect("an email field")
        .send_keys(email)
        .await
        .expect("email typed");
    form.find(Locator::Css("input[name=password]"))
        .await
        .expect("a password field")
        .send_keys(password)
        .await
        .expect("password typed");
    form.find(Locator::Css("button[type=submit]"))
        .await
        .expect("a sign-in button")
        .click()
        .await
        .expect("sign-in clicked");
}

fn save_png(dir: &Path, name: &str, png: &[u8]) -> PathBuf {
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{name} is not a PNG");
    let path = dir.join(name);
    std::fs::write(&path, png).expect("screenshot saved");
    path
}

#[test]
fn chromium_opens_the_emailed_link_signs_in_and_sees_the_dmas_data_live() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conform-viewer");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("report directory");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let env = Environment::start(mocks::world::FaultSet::default())
            .await
            .expect("environment starts");
        let admin = scenarios::steps::connect_dms(&env)
            .await
            .expect("the DMS connects");
        let recipient = env.accounts().cloud_outsider.clone();
        admin
            .expect_data(
                "ShareDashboard",
                json!({ "dashboardID": DASHBOARD, "emails": [recipient.email],
                        "message": "The SOC overview, live." }),
            )
            .await
            .expect("the dashboard is shared");
        let mails = env.cloud().outbox().to(&recipient.email);
        let link = mails
            .iter()
            .find_map(scenarios::clients::link_in)
            .expect("a link in the recipient's mail");

        let (driver, client) = browser(&env, &dir.join("profile")).await;
        client.goto(&link).await.expect("the link opens");
        sign_in(&client, &recipient.email, &recipient.password).await;
        client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css("#viewer #components li"))
            .await
            .expect("the viewer shows the dashboard");
        // The page's own script replaces the first view at its heartbeat and says when, in
        // the browser's clock format (ISO 8601, `...Z`).
        let started = std::time::Instant::now();
        let state = loop {
            let state = client
                .find(Locator::Id("state"))
                .await
                .expect("a state line")
                .text()
                .await
                .expect("its text");
            if state.ends_with('Z') || started.elapsed() > PATIENCE {
                break state;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        assert!(
            state.ends_with('Z'),
            "no heartbeat refreshed the viewer: {state:?}"
        );
        let text = client
            .find(Locator::Id("viewer"))
            .await
            .expect("the viewer")
            .text()
            .await
            .expect("its text");
        for name in canary_names() {
            assert!(text.contains(&name), "{name:?} not on the viewer:\n{text}");
        }
        let png = client.screenshot().await.expect("a screenshot");
        let shot = save_png(&dir, "viewer.png", &png);
        assert!(
            png.len() > 10_000,
            "{} is {} bytes: blank?",
            shot.display(),
            png.len()
        );

        // Another dataminer.services account with the same link: refused, and shown nothing.
        client.delete_all_cookies().await.expect("signed out");
        client.goto(&link).await.expect("the link opens again");
        let other = env.accounts().cloud_admin.clone();
        sign_in(&client, &other.email, &other.password).await;
        let started = std::time::Instant::now();
        let refused = loop {
            let title = match client.find(Locator::Css("h1")).await {
                Ok(h1) => h1.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if title == "Not shared with you" || started.elapsed() > PATIENCE {
                break title;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        assert_eq!(refused, "Not shared with you");
        let page = client.source().await.expect("the page");
        for name in canary_names() {
            assert!(!page.contains(&name), "{name:?} shown to another account");
        }
        save_png(
            &dir,
            "viewer-refused.png",
            &client.screenshot().await.expect("a screenshot"),
        );
        client.close().await.expect("the session closes");
        drop(driver);
        env.stop().await;
    });
}
