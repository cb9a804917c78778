//! Interoperability with a TLS implementation no one here wrote: `openssl s_server`.
//! `./test.sh` installs openssl; without it this suite fails, saying so, rather than pass by
//! skipping.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use probes::{ProbeOptions, TlsReport, probe_tls, render_table};
use wire::tls::Version;

mod common;

/// A running `openssl s_server` and the scratch directory holding its throwaway key; both
/// go away when the guard drops, a failed assertion included.
struct OpenSslServer {
    child: Child,
    dir: PathBuf,
    address: SocketAddr,
}

impl OpenSslServer {
    /// Serves a fresh self-signed P-256 certificate for `probe.test` with one protocol flag,
    /// such as `-tls1_3`.
    fn only(protocol_flag: &str) -> OpenSslServer {
        let dir = std::env::temp_dir().join(format!(
            "probes-openssl-{}{protocol_flag}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let (key, cert) = (dir.join("key.pem"), dir.join("cert.pem"));
        let made = openssl()
            .args(["req", "-x509", "-newkey", "ec", "-pkeyopt"])
            .args([
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=probe.test",
            ])
            .args(["-addext", "subjectAltName=DNS:probe.test", "-days", "1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl req runs");
        assert!(made.success(), "openssl req could not make a certificate");

        let address = free_port();
        let log = std::fs::File::create(dir.join("s_server.log")).expect("log file");
        let child = openssl()
            .arg("s_server")
            .arg("-accept")
            .arg(address.to_string())
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            .args([protocol_flag, "-www"])
            // s_server reads commands from stdin; an open pipe keeps it from seeing EOF.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("openssl s_server starts");
        let mut server = OpenSslServer {
            child,
            dir,
            address,
        };
        server.wait_until_accepting();
        server
    }

    fn wait_until_accepting(&mut self) {
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("openssl s_server exited with {status}: {}", self.log());
            }
            if TcpStream::connect_timeout(&self.address, Duration::from_millis(200)).is_ok() {
                return;
            }
            // Only an external process coming up is waited for this way.
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("openssl s_server never accepted on {}", self.address);
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("s_server.log")).unwrap_or_default()
    }

    fn probe(&self, sni: Option<&str>) -> TlsReport {
        let options = ProbeOptions {
            sni: sni.map(str::to_owned),
            ..ProbeOptions::default()
        };
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        runtime
            .block_on(probe_tls(&self.address.to_string(), &options))
            .unwrap_or_else(|error| panic!("probe failed: {error}\n{}", self.log()))
    }
}

impl Drop for OpenSslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn openssl() -> Command {
    common::tool("openssl", "openssl")
}

/// A port nothing listens on right now; the window until s_server binds it is tiny.
fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("bound address")
}

#[test]
fn a_tls13_only_openssl_server_accepts_tls13_and_nothing_else() {
    let server = OpenSslServer::only("-tls1_3");
    let report = server.probe(None);
    let table = render_table(&report);
    assert_eq!(report.accepted_versions(), vec![Version::Tls13], "{table}");
    assert!(report.tls12_suites.is_empty(), "{table}");
    assert!(
        report.certificates.is_empty(),
        "TLS 1.3 encrypts the chain\n{table}"
    );
}

#[test]
fn a_tls12_only_openssl_server_shows_its_versions_suites_and_certificate() {
    let server = OpenSslServer::only("-tls1_2");
    let report = server.probe(Some("probe.test"));
    let table = render_table(&report);
    assert_eq!(report.accepted_versions(), vec![Version::Tls12], "{table}");

    let accepted: Vec<&str> = report
        .accepted_suites()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    assert!(
        accepted.contains(&"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
        "{table}"
    );
    // An ECDSA key can sign for nothing but ECDSA suites.
    assert!(
        accepted.iter().all(|name| name.contains("_ECDSA_")),
        "{table}"
    );

    let leaf = report.certificates.first().expect("a certificate chain");
    assert_eq!(leaf.subject, "CN=probe.test", "{table}");
    assert_eq!(leaf.sans, vec!["DNS:probe.test"], "{table}");
    assert!(leaf.not_before < leaf.not_after, "{table}");
}
