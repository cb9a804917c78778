//! `conform probe jwt` and `conform probe waf` against endpoints that are wrong the way real
//! verifiers and WAFs are, stood up with wiremock: each flaw is reported (exit 1, the finding
//! named), and an endpoint that does it right is reported clean (exit 0).
//!
//! wiremock serves plain HTTP, and the probes are run against it as `http://` URLs: the JWT
//! probe takes any URL (a verifier behind a TLS terminator is reached the same way), and the
//! WAF probe speaks plain HTTP only, as the WAF sits on the DMS's LAN. The TLS side of the
//! probes is tested against the environment's own endpoints (tests/cli.rs, tests/env_up.rs).

use std::process::{Command, Output};

#[path = "wrong_endpoints/jwt.rs"]
mod jwt;
#[path = "wrong_endpoints/waf.rs"]
mod waf;

fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .output()
        .expect("conform runs")
}

/// The exit code, and the findings the probe named on stderr.
fn findings(output: &Output) -> (Option<i32>, Vec<String>) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let named = stderr
        .lines()
        .filter_map(|line| line.strip_prefix("finding: "))
        .map(str::to_owned)
        .collect();
    (output.status.code(), named)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}
