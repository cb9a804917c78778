//! A headless Chromium for the real-browser scenarios: Debian's `chromium` driven over WebDriver
//! by `chromium-driver`, finding the published dataminer.services names on loopback and
//! nothing else, trusting the environment's CA by its key alone.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Instant;

use base64::Engine as _;
use fantoccini::{Client, ClientBuilder};
use mocks::Environment;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::browser_page::{PATIENCE, POLL};
use crate::Failure;

/// The browser and its driver on this machine, if both are installed.
pub(super) fn installed() -> Option<(PathBuf, PathBuf)> {
    let find = |program: &str| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(program))
                .find(|p| is_executable(p))
        })
    };
    Some((find("chromium")?, find("chromedriver")?))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// The driver's process, ended with the scenario whatever happens.
pub(super) struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The base64 SHA-256 of the environment CA's public key: what Chromium is told to accept,
/// since its certificate store is not the environment's.
fn ca_spki_hash(env: &Environment) -> Result<String, Failure> {
    let der = env.ca_der();
    let (_, ca) = x509_parser::parse_x509_certificate(der.as_ref())
        .map_err(|e| Failure::Harness(format!("the CA does not parse: {e}")))?;
    let digest = Sha256::digest(ca.tbs_certificate.subject_pki.raw);
    Ok(base64::engine::general_purpose::STANDARD.encode(digest))
}

fn free_port() -> Result<u16, Failure> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Failure::Harness(format!("no free loopback port: {e}")))
}

/// A headless Chromium session that finds dataminer.services on loopback, and nothing else.
pub(super) async fn browser(
    env: &Environment,
    chromium: &Path,
    chromedriver: &Path,
    profile: &Path,
) -> Result<(Driver, Client), Failure> {
    let port = free_port()?;
    let driver = Driver(
        Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| Failure::Harness(format!("chromedriver does not start: {e}")))?,
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
            ca_spki_hash(env)?
        ),
    ];
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": chromium, "args": args },
    });
    let Value::Object(capabilities) = capabilities else {
        return Err(Failure::Harness("capabilities are not an object".into()));
    };
    let mut builder = ClientBuilder::rustls()
        .map_err(|e| Failure::Harness(format!("no WebDriver client: {e}")))?;
    builder.capabilities(capabilities);
    let url = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        match builder.connect(&url).await {
            Ok(client) => return Ok((driver, client)),
            Err(e) if started.elapsed() > PATIENCE => {
                return Err(Failure::Harness(format!("no WebDriver session: {e}")));
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}
