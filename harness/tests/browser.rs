//! Slow and external: a real browser opens the HTML report. Its own test target, so
//! `cargo test --test cli` skips it by name while a plain `cargo test` still runs it.

use std::path::Path;
use std::process::Command;

mod common;

/// `conform run` writes the report; headless Chromium (Debian's package, installed by
/// `./test.sh`) renders it offline and leaves a screenshot beside it.
#[test]
fn chromium_renders_the_html_report_and_a_screenshot_lands_beside_it() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conform-browser");
    let _ = std::fs::remove_dir_all(&dir);
    let run = Command::new(env!("CARGO_BIN_EXE_conform"))
        .args(["run", "--suite", "optin", "--report-dir"])
        .arg(&dir)
        .output()
        .expect("conform runs");
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let html = dir.join("report.html");
    let page = std::fs::read_to_string(&html).expect("report.html written");
    for external in ["<link", "<script src", "<img", "@import", "url("] {
        assert!(
            !page.contains(external),
            "report.html needs an external asset: {external}"
        );
    }

    let profile = dir.join("chromium-profile");
    let screenshot = dir.join("report.png");
    let shot = chromium(&profile)
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--window-size=1400,1000")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium runs");
    assert!(
        shot.status.success(),
        "{}",
        String::from_utf8_lossy(&shot.stderr)
    );
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    // A blank page compresses to almost nothing; a rendered report does not.
    assert!(
        png.len() > 20_000,
        "screenshot is {} bytes: blank?",
        png.len()
    );

    // The DOM as the browser built it, scripts run: the filter counted the rows it shows.
    let dom = chromium(&profile)
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium dumps the DOM");
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom.contains(" shown</span>"),
        "the filter script did not run"
    );
    assert!(dom.contains("Requirement traceability") && dom.contains("OPT-1"));
    let _ = std::fs::remove_dir_all(&profile);
}

/// Headless Chromium with a fresh profile and nothing that reaches for the network: this
/// machine's only network is loopback.
fn chromium(profile: &Path) -> Command {
    let mut command = common::tool("chromium", "chromium");
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()));
    command
}
