//! TOK-2: the signing secret stays in the vault and in the cloud.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use mocks::Environment;
use mocks::cloud::Credential;
use serde_json::json;

use super::validation::vault_secrets;
use crate::clients::{CloudClient, Hop};
use crate::steps;
use crate::{Ctx, Failure};

/// Every way a secret could be written down: raw, hex, base64 and base64url.
fn forms(secret: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        ("raw", secret.to_vec()),
        ("hex", hex.clone().into_bytes()),
        ("HEX", hex.to_ascii_uppercase().into_bytes()),
        ("base64", STANDARD.encode(secret).into_bytes()),
        (
            "base64 unpadded",
            STANDARD_NO_PAD.encode(secret).into_bytes(),
        ),
        ("base64url", URL_SAFE.encode(secret).into_bytes()),
        (
            "base64url unpadded",
            URL_SAFE_NO_PAD.encode(secret).into_bytes(),
        ),
    ]
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Everything the environment recorded that a secret could have leaked into, by place: each
/// exchange the cloud had (request and answer, heads and bodies), each line of its log, each
/// first flight its listeners took, its records of tunnels, issues and vault reads, the
/// Administrator's browser (every hop of every redirect) and DMS answers, the DMS's credential
/// file, the WAF's decisions and the DMS's name lookups.
fn places(
    env: &Environment,
    browser: &[Hop],
    dms_answers: &[(String, String)],
) -> Vec<(String, Vec<u8>)> {
    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    let lines = |headers: &[(String, String)]| {
        headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for r in env.cloud().requests().all() {
        let exchange = format!(
            "{} {}\n{}\n\n{}\n\n{}\n{}\n\n{}",
            r.method,
            r.path,
            lines(&r.headers),
            r.body,
            r.status,
            lines(&r.response_headers),
            r.response
        );
        places.push((
            format!("{} {}{} and its answer", r.method, r.endpoint, r.path),
            exchange.into_bytes(),
        ));
    }
    for (n, line) in env.cloud().log().lines().into_iter().enumerate() {
        places.push((format!("cloud log line {}", n + 1), line.into_bytes()));
    }
    for (n, flight) in env.cloud().hellos().all().into_iter().enumerate() {
        places.push((
            format!("first flight {} at {}", n + 1, flight.endpoint),
            flight.bytes,
        ));
    }
    let records = [
        (
            "the cloud's tunnel events",
            format!("{:?}", env.cloud().tunnels().events()),
        ),
        (
            "the cloud's record of issue",
            format!("{:?}", env.cloud().issued()),
        ),
        (
            "the vault's audit log",
            format!("{:?}", env.cloud().vault().accesses()),
        ),
        (
            "the WAF's decisions",
            format!("{:?}", env.waf().decisions().all()),
        ),
        (
            "the DMS's name lookups",
            format!("{:?}", env.resolver().lookups()),
        ),
    ];
    for (place, text) in records {
        places.push((place.to_owned(), text.into_bytes()));
    }
    for (n, hop) in browser.iter().enumerate() {
        places.push((
            format!("browser hop {} ({} {})", n + 1, hop.method, hop.url),
            hop.text().into_bytes(),
        ));
    }
    for (what, answer) in dms_answers {
        places.push((
            format!("the DMS's answer to {what}"),
            answer.clone().into_bytes(),
        ));
    }
    if let Some(file) = env.dms_credentials().stored() {
        let text = format!(
            "{}\n{}\n{}",
            file.access_token, file.refresh_key, file.obtained_at_unix
        );
        places.push(("the DMS's credential file".into(), text.into_bytes()));
    }
    places
}

pub(super) async fn never_leaves_the_cloud(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let browser = CloudClient::new(&env)?;
    let admin = steps::connect_dms_with(&env, &browser).await?;
    // A renewal and a disconnect: every path that signs or checks a token.
    steps::let_time_pass(&env, std::time::Duration::from_secs(25 * 3600), 25).await;
    let mut dms_answers = Vec::new();
    let state = admin.call("GetCloudConnectionState", json!({})).await?;
    dms_answers.push((
        "GetCloudConnectionState".to_owned(),
        serde_json::to_string(&state).unwrap_or_default(),
    ));
    let credentials_before = env.dms_credentials().stored();
    let disconnected = admin.call("DisconnectFromCloud", json!({})).await?;
    dms_answers.push((
        "DisconnectFromCloud".to_owned(),
        serde_json::to_string(&disconnected).unwrap_or_default(),
    ));
    env.settle().await;

    // The vault knows the cloud by a credential only the cloud's components hold: a caller
    // that merely claims to be the managed identity, or holds what the DMS holds, gets nothing.
    let managed = env.cloud().managed_identity().clone();
    let dms_token = credentials_before
        .map(|c| c.access_token.into_bytes())
        .unwrap_or_default();
    let claimants = [
        (
            "a caller claiming the managed identity",
            Credential::claiming(managed.identity(), Vec::new()),
        ),
        (
            "a caller claiming the managed identity with a made-up proof",
            Credential::claiming(managed.identity(), vec![0u8; managed.proof().len()]),
        ),
        (
            "the managed identity's name with the DMS's token as proof",
            Credential::claiming(managed.identity(), dms_token.clone()),
        ),
        (
            "the DMS, with its token",
            Credential::claiming(env.accounts().dms_id.clone(), dms_token),
        ),
    ];
    let names = env.cloud().vault().names();
    let granted: Vec<String> = claimants
        .iter()
        .flat_map(|(who, credential)| {
            names
                .iter()
                .filter(|name| env.cloud().vault().read(credential, name).is_ok())
                .map(move |name| format!("{name} to {who}"))
        })
        .collect();
    ev.expect_eq(
        "vault-refuses-claimed-identity",
        "secrets the vault handed to callers that only claimed an identity",
        Vec::<String>::new(),
        granted,
    )?;

    let mut secrets: Vec<(String, Vec<u8>)> = vault_secrets(&env)?
        .into_iter()
        .map(|(name, secret)| (format!("vault secret {name}"), secret))
        .collect();
    secrets.push((
        "the managed identity's credential".into(),
        managed.proof().to_vec(),
    ));
    let places = places(&env, &browser.seen(), &dms_answers);
    ev.saw(
        "places searched (exchanges with the cloud, log lines, first flights, records, browser hops, DMS answers, DMS files)",
        places.len(),
    );
    let mut found = Vec::new();
    for (secret_name, secret) in &secrets {
        for (form, text) in forms(secret) {
            for (place, content) in &places {
                if contains(content, &text) {
                    found.push(format!("{secret_name} ({form}) in {place}"));
                }
            }
        }
    }
    ev.expect_eq(
        "signing-secret-appears-nowhere",
        "where the vault's secrets appear",
        Vec::<String>::new(),
        found,
    )
}
