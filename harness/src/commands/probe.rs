use std::process::ExitCode;

use probes::{ProbeOptions, probe_tls, render_table};

/// Probes one endpoint and prints what it said. Refusals are findings, so they exit 0; an
/// endpoint that does not speak TLS, or never answered, fails the probe's premise and exits 1;
/// only an endpoint the probe could not reach at all (or a malformed target) is an error.
pub fn tls(target: &str, as_json: bool, sni: Option<String>) -> anyhow::Result<ExitCode> {
    let options = ProbeOptions {
        sni,
        ..ProbeOptions::default()
    };
    let report = super::runtime()?.block_on(probe_tls(target, &options))?;
    if as_json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say_raw!("{}", render_table(&report));
    }
    Ok(if report.speaks_tls {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
