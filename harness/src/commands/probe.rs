use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use probes::jwt::{JwtProbeOptions, probe_jwt, render_jwt_table};
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

/// What `conform probe jwt` was given besides the URL and token.
#[derive(Debug, Clone)]
pub struct JwtArgs {
    pub refused: Vec<u16>,
    pub cacert: Option<PathBuf>,
    pub resolve: Vec<String>,
    pub wordlist: Option<PathBuf>,
    pub expired: Option<String>,
    pub not_yet_valid: Option<String>,
    pub json: bool,
}

/// Sends the no-secret forgery battery and the timed tokens given, and tries the token's HMAC
/// offline against common secrets; a token accepted that must not be, or a secret found,
/// exits 1, each finding named on stderr.
pub fn jwt(url: &str, token: &str, args: &JwtArgs) -> anyhow::Result<ExitCode> {
    let mut options = JwtProbeOptions::default();
    if !args.refused.is_empty() {
        options.refused.clone_from(&args.refused);
    }
    if let Some(path) = &args.cacert {
        options.ca_pem =
            Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?);
    }
    options.resolve = args
        .resolve
        .iter()
        .map(|entry| resolve_entry(entry))
        .collect::<anyhow::Result<_>>()?;
    if let Some(path) = &args.wordlist {
        let list = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        options.wordlist = fixtures::secrets_of(&list);
    }
    options.expired.clone_from(&args.expired);
    options.not_yet_valid.clone_from(&args.not_yet_valid);
    let report = super::runtime()?.block_on(probe_jwt(url, token, &options))?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say_raw!("{}", render_jwt_table(&report));
    }
    let findings = report.findings();
    for finding in &findings {
        eprintln!("finding: {finding}");
    }
    Ok(if findings.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Sends the corpus's mutations of one whitelisted call; one let through exits 1.
pub fn waf(url: &str, call: &std::path::Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let call = probes::waf::CallFile::read(call)?;
    let report = super::runtime()?.block_on(probes::waf::probe_waf(url, &call))?;
    if as_json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say_raw!("{}", probes::waf::render_waf_table(&report));
    }
    for case in report.cases.iter().filter(|c| c.is_finding()) {
        eprintln!(
            "finding: {} ({}) let through off the whitelist",
            case.id, case.class
        );
    }
    Ok(if report.findings() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// What `conform probe waf` takes in recipient mode.
#[derive(Debug, Clone)]
pub struct RecipientArgs {
    pub link: String,
    pub email: String,
    pub password: String,
    pub cacert: Option<PathBuf>,
    pub resolve: Vec<String>,
    pub json: bool,
}

/// Signs in as the share's recipient and sends the corpus's mutations of every call of the
/// shared dashboard through the link; one let through exits 1.
pub fn waf_as_recipient(args: &RecipientArgs) -> anyhow::Result<ExitCode> {
    let ca_pem = match &args.cacert {
        Some(path) => {
            Some(std::fs::read(path).with_context(|| format!("reading {}", path.display()))?)
        }
        None => None,
    };
    let recipient = probes::waf::Recipient {
        link: args.link.clone(),
        email: args.email.clone(),
        password: args.password.clone(),
        ca_pem,
        resolve: args
            .resolve
            .iter()
            .map(|entry| resolve_entry(entry))
            .collect::<anyhow::Result<_>>()?,
    };
    let report = super::runtime()?.block_on(probes::waf::probe_as_recipient(&recipient))?;
    if args.json {
        say!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        say_raw!("{}", probes::waf::render_waf_table(&report));
    }
    Ok(if report.findings() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `NAME:PORT:ADDR` as curl writes it; an IPv6 ADDR may be in brackets.
fn resolve_entry(entry: &str) -> anyhow::Result<(String, SocketAddr)> {
    let mut parts = entry.splitn(3, ':');
    let (Some(name), Some(port), Some(addr)) = (parts.next(), parts.next(), parts.next()) else {
        anyhow::bail!("--resolve takes NAME:PORT:ADDR, not {entry}");
    };
    let port: u16 = port
        .parse()
        .with_context(|| format!("--resolve {entry}: {port} is not a port"))?;
    let ip: IpAddr = addr
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .with_context(|| format!("--resolve {entry}: {addr} is not an address"))?;
    Ok((name.to_owned(), SocketAddr::new(ip, port)))
}
