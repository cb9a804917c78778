//! Interoperability with a TLS implementation no one here wrote: `openssl s_client` completes
//! TLS 1.2 with every cloud endpoint and fails with TLS 1.3, 1.1 and 1.0.

use std::io::Write;
use std::process::Stdio;

use mocks::Environment;
use mocks::cloud::Endpoint;
use mocks::world::FaultSet;

mod common;

/// Runs `openssl s_client` with `version_flag` against `endpoint`; true when the handshake
/// completed and the certificate verified against the environment's CA.
fn s_client(
    env: &Environment,
    ca: &std::path::Path,
    endpoint: Endpoint,
    version_flag: &str,
) -> (bool, String) {
    let addr = env.cloud().addr(endpoint);
    let mut child = common::tool("openssl", "openssl")
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-servername",
            endpoint.host(),
        ])
        .args([
            "-verify_return_error",
            "-verify_hostname",
            endpoint.host(),
            "-CAfile",
        ])
        .arg(ca)
        // Let the legacy versions actually be attempted: OpenSSL 3 refuses them locally by default.
        .args([version_flag, "-cipher", "DEFAULT:@SECLEVEL=0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is installed (.ci/run installs it)");
    let _ = child.stdin.take().expect("stdin").write_all(b"Q\n");
    let output = child.wait_with_output().expect("openssl ran");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let completed = output.status.success()
        && text.contains("Verify return code: 0 (ok)")
        && !text.contains("Cipher is (NONE)");
    (completed, text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_completes_tls12_only_with_every_cloud_endpoint() {
    let env = Environment::start(FaultSet::none()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("conform-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, env.ca_pem()).unwrap();

    for endpoint in Endpoint::ALL {
        let (completed, text) = s_client(&env, &ca, endpoint, "-tls1_2");
        assert!(
            completed,
            "{}: TLS 1.2 must complete:\n{text}",
            endpoint.host()
        );
        assert!(
            text.contains("Protocol  : TLSv1.2") || text.contains("TLSv1.2"),
            "{text}"
        );
        for refused in ["-tls1_3", "-tls1_1", "-tls1"] {
            let (completed, text) = s_client(&env, &ca, endpoint, refused);
            assert!(
                !completed,
                "{} {refused} must fail:\n{text}",
                endpoint.host()
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
