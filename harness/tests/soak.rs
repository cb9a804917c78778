//! `conform soak` as a user meets it, in a short version: real process, real exit codes, the
//! figures on stdout and in the report folder. Its own target, so that `cargo test` runs it
//! and a quick run can skip it by name.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .output()
        .expect("conform runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-soak-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn number(figures: &Value, pointer: &str) -> f64 {
    figures
        .pointer(pointer)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("no figure at {pointer}: {figures}"))
}

#[test]
fn a_short_soak_accounts_for_every_request_and_reports_its_figures() {
    let dir = scratch("short");
    let output = conform(&[
        "soak",
        "--agents",
        "50",
        "--viewers",
        "20",
        "--shares",
        "5",
        "--duration",
        "3s",
        "--json",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    let figures: Value = serde_json::from_slice(&output.stdout).unwrap();
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("soak.json")).unwrap()).unwrap();
    assert_eq!(figures, written, "stdout and soak.json differ");
    assert_eq!(figures["schema"], "conform-soak/1");
    assert_eq!(figures["accounted"], true);
    assert_eq!(figures["settings"]["through"], "recipients");

    let requests = &figures["requests"];
    let count = |field: &str| requests[field].as_u64().unwrap();
    assert!(count("sent") > 0, "{requests}");
    assert_eq!(count("sent"), count("received"), "{requests}");
    assert_eq!(count("sent"), count("right"), "{requests}");
    for none in ["lost", "crossed", "wrong", "in_flight"] {
        assert_eq!(count(none), 0, "{none}: {requests}");
    }

    let shares = figures["per_share"].as_array().unwrap();
    assert_eq!(shares.len(), 5);
    let ids: std::collections::BTreeSet<&str> = shares
        .iter()
        .map(|s| s["dms_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 5, "every share is a DMS of its own");
    let per_share = |field: &str| {
        shares
            .iter()
            .map(|s| s[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(per_share("sent"), count("sent"));
    assert_eq!(per_share("viewers"), 20);
    assert!(
        shares.iter().all(|s| s["sent"].as_u64().unwrap() > 0),
        "every share was viewed"
    );

    assert_eq!(number(&figures, "/tunnels/idle_at_start"), 50.0);
    assert_eq!(number(&figures, "/tunnels/idle_at_end"), 50.0);
    assert!(number(&figures, "/tunnels/serving_at_start") >= 5.0);
    for figure in [
        "/memory/idle_tunnel_kib_cloud",
        "/memory/idle_tunnel_kib_agent",
        "/memory/cloud_process_rss_kib_at_end",
        "/memory/cloud_process_peak_rss_kib",
        "/memory/light_agents_rss_kib_at_end",
        "/requests/per_second",
        "/seconds/load",
    ] {
        assert!(number(&figures, figure) > 0.0, "{figure}: {figures}");
    }
    // The CPU the load got, as the kernel's scheduler counted it (Linux keeps schedstat): the
    // work of every request is on some CPU, and the threads' time waiting for one is a figure.
    if std::path::Path::new("/proc/self/schedstat").exists() {
        for figure in [
            "/cpu/ran_seconds",
            "/cpu/cores_used",
            "/cpu/cpu_us_per_request",
        ] {
            assert!(number(&figures, figure) > 0.0, "{figure}: {figures}");
        }
        assert!(number(&figures, "/cpu/threads") >= 1.0, "{figures}");
        assert!(
            number(&figures, "/cpu/waited_for_a_cpu_seconds") >= 0.0,
            "{figures}"
        );
    }
    assert!(
        figures["load"]["shares"]
            .as_str()
            .unwrap()
            .contains("share user")
    );
}

#[test]
fn the_same_load_through_remote_access_is_accounted_for_too() {
    let dir = scratch("remote");
    let output = conform(&[
        "soak",
        "--through",
        "remote-access",
        "--agents",
        "5",
        "--viewers",
        "6",
        "--shares",
        "2",
        "--duration",
        "2s",
        "--json",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stderr: {stderr}");
    let figures: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(figures["settings"]["through"], "remote-access");
    assert_eq!(figures["accounted"], true);
    let requests = &figures["requests"];
    let count = |field: &str| requests[field].as_u64().unwrap();
    assert!(count("sent") > 0, "{requests}");
    assert_eq!(count("sent"), count("right"), "{requests}");
    assert!(
        figures["load"]["viewers"]
            .as_str()
            .unwrap()
            .contains("remote access")
    );
}

#[test]
fn a_soak_asked_the_impossible_is_refused_in_one_line_before_it_starts() {
    for args in [
        &["soak", "--duration", "3x"][..],
        &["soak", "--duration", "0s"],
        &["soak", "--shares", "0"],
        &["soak", "--viewers", "3", "--shares", "5"],
    ] {
        let output = conform(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("conform: "), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?} started anyway");
    }
}
