//! The `conform` command as a user meets it: real process, real exit codes, real files.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

mod common;
#[path = "cli/standalone.rs"]
mod standalone;

fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .output()
        .expect("conform runs")
}

/// A fresh directory for one test's reports.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn one_line_error(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "one line expected, got: {stderr}"
    );
    assert!(stderr.starts_with("conform: "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn list_json_names_every_requirement_with_the_scenarios_covering_it() {
    let output = conform(&["list", "--json"]);
    assert!(output.status.success());
    let listed: Value = serde_json::from_slice(&output.stdout).unwrap();
    let catalog = fixtures::Catalog::load().unwrap();
    let requirements = listed["requirements"].as_array().unwrap();
    let ids: Vec<&str> = requirements
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, catalog.ids().collect::<Vec<_>>());
    let opt1 = requirements.iter().find(|r| r["id"] == "OPT-1").unwrap();
    assert!(
        opt1["scenarios"]
            .as_array()
            .unwrap()
            .contains(&Value::from("optin.new-dms-sends-nothing"))
    );
    let flow2 = requirements.iter().find(|r| r["id"] == "FLOW-2").unwrap();
    assert!(flow2["scenarios"].is_array());
    assert!(
        listed["faults"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| !f["caught_by"].as_array().unwrap().is_empty())
    );
}

#[test]
fn run_optin_passes_and_writes_reports_that_follow_the_contract() {
    let dir = scratch("optin");
    let output = conform(&[
        "run",
        "--suite",
        "optin",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "conform-report/1");
    let scenarios = report["scenarios"].as_array().unwrap();
    assert!(!scenarios.is_empty());
    for s in scenarios {
        for field in [
            "id",
            "suite",
            "requirements",
            "outcome",
            "duration_ms",
            "detail",
        ] {
            assert!(!s[field].is_null(), "scenario lacks {field}: {s}");
        }
        assert_eq!(s["suite"], "optin");
        assert_eq!(s["outcome"], "passed", "{s}");
    }
    let status = |id: &str| {
        report["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .map(|r| (r["kind"].clone(), r["status"].clone()))
            .unwrap()
    };
    for id in ["OPT-1", "OPT-2", "OPT-3"] {
        assert_eq!(status(id).1, "verified", "{id}");
    }
    assert_eq!(status("TLS-3"), ("implied".into(), "uncovered".into()));
    assert!(report["faults"].is_array() && report["findings"].is_array());
    assert_eq!(
        report["gate"]["passed"], false,
        "uncovered requirements fail the gate"
    );
    assert!(
        report["gate"]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains("TLS-1"))
    );

    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let parsed = quick_junit::Report::deserialize_from_str(&junit).unwrap();
    assert_eq!(parsed.tests, scenarios.len());
    assert_eq!(parsed.failures, 0);
    assert!(
        std::fs::read_to_string(dir.join("report.md"))
            .unwrap()
            .contains("OPT-3")
    );
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("findings.sarif")).unwrap())
            .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let errata: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["source"] == "errata")
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(errata, ["ERRATA-1", "ERRATA-2", "ERRATA-3"]);
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(
        html.contains("Requirement traceability") && html.contains("optin.new-dms-sends-nothing")
    );
}

/// Every fault of every suite against every scenario: all killed, each kill recorded in the
/// report, the weak spots named.
#[test]
fn mutants_kills_every_fault_a_suite_names_and_records_who_killed_it() {
    // One suite keeps this under a minute; every fault of the catalogue against the scenario
    // that names it runs in the scenarios' own `::catches::` trials.
    let dir = scratch("mutants");
    let output = conform(&[
        "mutants",
        "--suite",
        "optin",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("clean run:"), "{text}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let faults = report["faults"].as_array().unwrap();
    let named: std::collections::BTreeSet<String> = scenarios::all()
        .iter()
        .filter(|s| s.suite == scenarios::Suite::Optin)
        .flat_map(|s| s.catches.iter().map(|c| c.fault.to_string()))
        .collect();
    let reported: std::collections::BTreeSet<String> = faults
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reported, named);
    for f in faults {
        // A kill is the named check firing; everything else is recorded beside it.
        assert!(!f["killed_by"].as_array().unwrap().is_empty(), "{f}");
        for other in ["failed_elsewhere", "broke_setup", "timed_out"] {
            assert!(f[other].is_array(), "{other} missing: {f}");
        }
    }
    assert!(report["weak_spots"]["named_check_missed"].is_array());
    assert!(report["weak_spots"]["killed_once"].is_array());
    let opt1 = report["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "OPT-1")
        .unwrap();
    assert!(
        opt1["faults_killed"]
            .as_array()
            .unwrap()
            .contains(&Value::from("agent.connect-before-optin"))
    );
    for file in reports::FILES {
        assert!(dir.join(file).exists(), "{file} missing");
    }
}

/// A panic in a mock's task fails the one scenario whose environment it happened in, as a
/// harness error; the run goes on, every report is written, and the exit code follows the
/// contract (1: something failed), not the panic.
#[test]
fn a_panicking_mock_task_fails_one_scenario_and_every_report_is_still_written() {
    let dir = scratch("panic");
    let output = conform(&[
        "run",
        "--scenario",
        "optin.new-dms-sends-nothing",
        "--scenario",
        "tls.agent-refuses-plaintext-urls",
        "--fault",
        "test.panic-in-dma-task",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("ERROR optin.new-dms-sends-nothing"), "{text}");
    assert!(
        text.contains("PASS  tls.agent-refuses-plaintext-urls"),
        "{text}"
    );
    for file in reports::FILES {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let crashed = report["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "optin.new-dms-sends-nothing")
        .unwrap();
    assert_eq!(crashed["failure_kind"], "harness", "{crashed}");
    assert!(
        crashed["detail"].as_str().unwrap().contains("panicked"),
        "{crashed}"
    );
}

/// A fault that breaks a scenario's setup is not caught by it: the report files it under
/// `broke_setup`, not `killed_by`.
#[test]
fn a_setup_failure_under_a_fault_is_not_a_kill() {
    let dir = scratch("setup-not-kill");
    let output = conform(&[
        "run",
        "--scenario",
        "tunnel.upgrade-without-valid-token-refused",
        "--scenario",
        "tunnel.parallel-tunnels-share-the-streams",
        "--fault",
        "agent.connect-before-optin",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let fault = &report["faults"][0];
    assert_eq!(fault["name"], "agent.connect-before-optin");
    assert!(fault["killed_by"].as_array().unwrap().is_empty(), "{fault}");
    let broke: Vec<&str> = fault["broke_setup"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scenario"].as_str().unwrap())
        .collect();
    assert_eq!(
        broke,
        ["tunnel.parallel-tunnels-share-the-streams"],
        "{fault}"
    );
    assert!(text.contains("broke setup, not a catch"), "{text}");
}

#[test]
fn gate_exits_1_and_names_the_uncovered_requirements() {
    let dir = scratch("gate");
    let output = conform(&[
        "run",
        "--suite",
        "optin",
        "--gate",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).contains("requirement FLOW-2 is uncovered"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_fault_makes_the_run_exit_1_and_names_the_scenario_that_caught_it() {
    let dir = scratch("fault");
    let output = conform(&[
        "run",
        "--suite",
        "optin",
        "--fault",
        "agent.connect-before-optin",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("FAIL  optin.new-dms-sends-nothing"), "{text}");
    assert!(
        text.contains("fault agent.connect-before-optin caught by: optin.new-dms-sends-nothing"),
        "{text}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    let killed_by = report["faults"][0]["killed_by"].as_array().unwrap();
    assert!(killed_by.contains(&Value::from("optin.new-dms-sends-nothing")));
}

#[test]
fn a_repeated_run_counts_the_failures_of_every_round_and_exits_1() {
    let dir = scratch("repeat");
    let output = conform(&[
        "run",
        "--suite",
        "optin",
        "--fault",
        "agent.non-admin-can-enable",
        "--repeat",
        "2",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.contains("round 2/2"), "{text}");
    let tally = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(id) && l.ends_with(" failed"))
            .map(|l| l[id.len()..].trim().to_owned())
    };
    assert_eq!(
        tally("optin.non-admin-cannot-enable").as_deref(),
        Some("2/2 failed"),
        "{text}"
    );
    assert_eq!(
        tally("optin.new-dms-sends-nothing").as_deref(),
        Some("0/2 failed"),
        "{text}"
    );
    assert!(
        text.contains("2 runs: failed: optin.non-admin-cannot-enable (2/2)"),
        "{text}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "conform-report/1");
    let optin = scenarios::all()
        .iter()
        .filter(|s| s.suite == scenarios::Suite::Optin)
        .count();
    assert_eq!(report["scenarios"].as_array().unwrap().len(), optin);
    assert_eq!(report["summary"]["failed"], 1);
}

#[test]
fn unknown_names_and_bad_paths_are_one_line_and_exit_2() {
    assert!(
        one_line_error(&conform(&["run", "--suite", "nope"])).contains("unknown suite \"nope\"")
    );
    assert!(
        one_line_error(&conform(&["run", "--scenario", "optin.nope"])).contains("unknown scenario")
    );
    assert!(
        one_line_error(&conform(&["run", "--requirement", "XYZ-9"]))
            .contains("unknown requirement")
    );
    assert!(one_line_error(&conform(&["run", "--fault", "agent.nope"])).contains("unknown fault"));
    assert!(
        one_line_error(&conform(&["env", "up", "--fault", "cloud.nope"])).contains("unknown fault")
    );

    let file = scratch("not-a-dir");
    std::fs::write(&file, b"a file").unwrap();
    let blocked = file.join("reports");
    assert!(
        one_line_error(&conform(&[
            "run",
            "--report-dir",
            blocked.to_str().unwrap()
        ]))
        .contains("not writable")
    );
}

/// `env up` prints its JSON line within seconds; curl, a TLS client no one here wrote, reaches
/// every cloud endpoint it names with only the printed CA and `--resolve` lines, over TLS 1.2.
#[test]
fn env_up_prints_its_endpoints_and_curl_reaches_them_over_tls12() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["env", "up"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a JSON line within seconds");
    let env: Value = serde_json::from_str(&line).unwrap();
    let ca = env["ca"].as_str().unwrap();
    let resolve: Vec<&str> = env["resolve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect();

    for (endpoint, path) in [
        ("connection", "api/dms/self"),
        ("sharing", "api/shares"),
        ("tunnel", ""),
    ] {
        let url = env["endpoints"][endpoint]
            .as_str()
            .unwrap()
            .replace("wss://", "https://");
        let mut curl = common::tool("curl", "curl");
        curl.args([
            "-sS",
            "-v",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--cacert",
            ca,
        ]);
        for r in &resolve {
            curl.args(["--resolve", r]);
        }
        let answer = curl
            .arg(format!("{url}{path}"))
            .output()
            .expect("curl runs");
        let trace = String::from_utf8_lossy(&answer.stderr);
        assert!(answer.status.success(), "{endpoint}: {trace}");
        assert!(
            trace.contains("SSL connection using TLSv1.2"),
            "{endpoint}: {trace}"
        );
        // No credentials were sent: each endpoint answers, and refuses.
        assert!(
            ["401", "400"].contains(&String::from_utf8_lossy(&answer.stdout).as_ref()),
            "{endpoint}"
        );
    }

    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "env up stops cleanly on Ctrl-C");
    assert!(
        !std::path::Path::new(ca).exists(),
        "the CA file is removed on shutdown"
    );
}

/// The probe against a cloud endpoint of a running environment: TLS 1.2 alone, with the
/// evidence for every refusal, as JSON a tool can read.
#[test]
fn probe_tls_reports_tls12_only_for_a_cloud_endpoint_and_exits_2_when_nothing_listens() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let env = runtime
        .block_on(mocks::Environment::start(mocks::world::FaultSet::none()))
        .unwrap();
    let endpoint = mocks::cloud::Endpoint::Connection;
    let target = env.cloud().addr(endpoint).to_string();
    let output = conform(&["probe", "tls", &target, "--sni", endpoint.host(), "--json"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let accepted: Vec<&str> = report["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["accepted"] == true)
        .map(|v| v["version"].as_str().unwrap())
        .collect();
    assert_eq!(accepted, ["Tls12"]);
    let refused_with_alerts = report["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["accepted"] == false)
        .all(|v| {
            v["answer"]["kind"] == "alert"
                && v["verdict"] == "refused"
                && v["form"] == "protocol_version_alert"
        });
    assert!(refused_with_alerts, "{report}");
    assert_eq!(report["speaks_tls"], true, "{report}");
    assert!(
        report["certificates"][0]["sans"]
            .to_string()
            .contains(endpoint.host())
    );

    let table = conform(&["probe", "tls", &target, "--sni", endpoint.host()]);
    assert!(stdout(&table).contains("TLS 1.2"));

    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(
        one_line_error(&conform(&["probe", "tls", &closed.to_string()]))
            .contains("could not connect")
    );
    assert!(one_line_error(&conform(&["probe", "tls", "no-port-here"])).contains("HOST:PORT"));
}

/// A plain HTTP/1.1 server on port 0 that answers every connection with a 400, as a web
/// server does to bytes it cannot read, and serves until `runtime` is dropped.
fn plain_http_server(runtime: &tokio::runtime::Runtime) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind port 0");
    let address = listener.local_addr().expect("bound address");
    runtime.spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                if let Ok(1..) = stream.read(&mut request).await {
                    let _ = stream
                        .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    let _ = stream.shutdown().await;
                }
                // Reads on until the probe hangs up, so nothing unread turns the close into
                // a reset.
                let _ = stream.read_to_end(&mut Vec::new()).await;
            });
        }
    });
    address
}

#[test]
fn probe_tls_says_a_plain_http_server_does_not_speak_tls_and_exits_1() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let target = plain_http_server(&runtime).to_string();

    let table = conform(&["probe", "tls", &target]);
    let text = stdout(&table);
    assert_eq!(table.status.code(), Some(1), "{text}");
    let first_line = text.lines().next().unwrap_or_default();
    assert!(
        first_line.starts_with(&format!(
            "{target} does not speak TLS: it answered \"HTTP/1.1 400 Bad Request"
        )),
        "{text}"
    );
    assert!(!text.contains("refused"), "{text}");

    let output = conform(&["probe", "tls", &target, "--json"]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["speaks_tls"], false, "{report}");
    assert_eq!(report["premise"], "not_tls", "{report}");
    let versions = report["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 5, "{report}");
    for v in versions {
        assert_eq!(v["verdict"], "not_tls", "{v}");
        assert_eq!(v["accepted"], false, "{v}");
        assert_eq!(v["answer"]["kind"], "not_tls", "{v}");
    }
}
