//! `conform run --capture` read back with the real tool: tshark, given the key log, decrypts
//! every connection of the capture; the HTTP requests it finds are, one for one, the requests
//! the cloud recorded; the tunnel's HTTP/2 streams show inside its WebSocket; and a failed
//! run's report points at an exchange the capture holds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod common;

const TOKENS: &str = "tokens.expired-token-is-refused";
const TUNNEL: &str = "sharing.recipient-sees-the-dashboard-live-through-the-tunnel";

fn conform(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(args)
        .output()
        .expect("conform runs")
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("conform-capture-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// tshark's fields of the packets `filter` selects in `stem`.pcapng, decrypted with its key
/// log (and the tunnel's Lua shim), one row per packet.
fn tshark(stem: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let pcapng = with(stem, ".pcapng");
    let keys = with(stem, ".keys.log");
    let lua = stem.with_file_name("tunnel-http2.lua");
    let mut command = common::tool("tshark", "tshark");
    command
        .arg("-r")
        .arg(&pcapng)
        .arg("-o")
        .arg(format!("tls.keylog_file:{}", keys.display()))
        .arg("-X")
        .arg(format!("lua_script:{}", lua.display()))
        .args(["-Y", filter, "-T", "fields", "-E", "separator=\t"]);
    for field in fields {
        command.args(["-e", field]);
    }
    let output = command.output().expect("tshark runs");
    assert!(
        output.status.success(),
        "tshark failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

fn with(stem: &Path, suffix: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Every request sent to a cloud endpoint (port 443) as tshark decoded it: the client's port,
/// the method and the target, over HTTP/1.1 or HTTP/2 (several per packet in HTTP/2).
fn requests_on_the_wire(stem: &Path) -> Vec<(u16, String, String)> {
    let rows = tshark(
        stem,
        "tcp.dstport == 443 && (http.request || http2.headers.method)",
        &[
            "tcp.srcport",
            "http.request.method",
            "http.request.uri",
            "http2.headers.method",
            "http2.headers.path",
        ],
    );
    let mut seen = Vec::new();
    for row in rows {
        let port: u16 = row[0].parse().expect("a port");
        if !row[1].is_empty() {
            seen.push((port, row[1].clone(), row[2].clone()));
        }
        if row.len() > 4 && !row[3].is_empty() {
            for (method, path) in row[3].split(',').zip(row[4].split(',')) {
                seen.push((port, method.to_owned(), path.to_owned()));
            }
        }
    }
    seen.sort();
    seen
}

/// What the cloud's own request record (written beside the capture) says it received.
fn requests_the_cloud_recorded(stem: &Path) -> Vec<(u16, String, String)> {
    let recorded: Value =
        serde_json::from_slice(&std::fs::read(with(stem, ".requests.json")).expect("recorded"))
            .expect("JSON");
    let mut all: Vec<(u16, String, String)> = recorded
        .as_array()
        .expect("a list")
        .iter()
        .map(|r| {
            let peer: std::net::SocketAddr = r["peer"]
                .as_str()
                .expect("a peer")
                .parse()
                .expect("an address");
            (
                peer.port(),
                r["method"].as_str().expect("a method").to_owned(),
                r["target"].as_str().expect("a target").to_owned(),
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn a_captured_run_decrypts_in_tshark_request_for_request_with_the_tunnels_http2_streams() {
    let dir = scratch("two");
    let report_dir = dir.to_str().unwrap();
    let output = conform(&[
        "run",
        "--scenario",
        TOKENS,
        "--scenario",
        TUNNEL,
        "--capture",
        "--report-dir",
        report_dir,
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    let spec = fixtures::Spec::load().expect("the spec's figures");
    for id in [TOKENS, TUNNEL] {
        let stem = dir.join("capture").join(id);
        let recorded = requests_the_cloud_recorded(&stem);
        assert!(!recorded.is_empty(), "{id}: the cloud recorded nothing");
        assert_eq!(
            requests_on_the_wire(&stem),
            recorded,
            "{id}: the decrypted capture and the cloud's record differ"
        );
    }
    // The tunnel: the agent's WebSocket upgrade to the published tunnel host, and inside that
    // very TCP stream, HTTP/2 requests the cloud sends down to the DMS.
    let stem = dir.join("capture").join(TUNNEL);
    let upgrades: BTreeSet<String> = tshark(
        &stem,
        &format!(
            "http.upgrade == \"websocket\" && http.host == \"{}\"",
            spec.hosts.tunnel
        ),
        &["tcp.stream"],
    )
    .into_iter()
    .map(|row| row[0].clone())
    .collect();
    assert!(!upgrades.is_empty(), "no tunnel upgrade in the capture");
    let streams = tshark(
        &stem,
        "tcp.srcport == 443 && http2.headers.path",
        &["tcp.stream", "http2.streamid", "http2.headers.path"],
    );
    let inside: Vec<&Vec<String>> = streams
        .iter()
        .filter(|row| upgrades.contains(&row[0]))
        .collect();
    assert!(
        inside
            .iter()
            .any(|row| row[2].contains("/API/v1/Json.asmx/")),
        "no HTTP/2 request to the DMA's API inside the tunnel: {streams:?}"
    );
}

#[test]
fn a_failed_runs_report_links_its_capture_and_a_filter_that_finds_the_exchange() {
    let dir = scratch("failed");
    let output = conform(&[
        "run",
        "--scenario",
        TOKENS,
        "--fault",
        "cloud.skip-exp",
        "--capture",
        "--report-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let report: Value =
        serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
    let capture = &report["scenarios"][0]["capture"];
    assert_eq!(capture["check"], "refused-past-lifetime-on-api");
    let pcapng = capture["pcapng"].as_str().expect("a capture");
    let filter = capture["filter"].as_str().expect("a filter");
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains(&format!("<a href=\"{pcapng}\">")), "{html}");
    assert!(html.contains(&filter.replace('&', "&amp;").replace('"', "&quot;")));
    // The filter finds the request the check was judged after: one HTTP request, carrying the
    // token the cloud should have refused, answered 200.
    let stem = dir.join(pcapng.trim_end_matches(".pcapng"));
    let found = tshark(
        &stem,
        filter,
        &[
            "http.request.method",
            "http.request.uri",
            "http2.headers.path",
        ],
    );
    assert_eq!(found.len(), 1, "{filter}: {found:?}");
    let row = found[0].join(" ");
    assert!(
        row.contains("/api/dms/self"),
        "the exchange is not the API call: {row}"
    );
}
