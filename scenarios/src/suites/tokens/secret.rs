//! TOK-2: the signing secret stays in the vault and in the cloud.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use mocks::cloud::{Identity, SIGNING_KEY};
use serde_json::json;

use crate::steps;
use crate::{Ctx, Failure};

/// Every way the secret could be written down: raw, hex, base64 and base64url.
fn forms(secret: &[u8]) -> Vec<(&'static str, String)> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        ("raw", String::from_utf8_lossy(secret).into_owned()),
        ("hex", hex.clone()),
        ("HEX", hex.to_ascii_uppercase()),
        ("base64", STANDARD.encode(secret)),
        ("base64 unpadded", STANDARD_NO_PAD.encode(secret)),
        ("base64url", URL_SAFE.encode(secret)),
        ("base64url unpadded", URL_SAFE_NO_PAD.encode(secret)),
    ]
}

pub(super) async fn never_leaves_the_cloud(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = steps::connect_dms(&env).await?;
    // A renewal and a disconnect: every path that signs or checks a token.
    steps::let_time_pass(&env, std::time::Duration::from_secs(25 * 3600), 25).await;
    admin.expect_data("DisconnectFromCloud", json!({})).await?;

    let dms = Identity::Other(format!("{} (the DMS)", env.accounts().dms_id));
    let refused = env.cloud().vault().read(&dms, SIGNING_KEY).is_err();
    ev.expect_eq(
        "vault-asked-anyone-but-cloud-managed",
        "the vault, asked by anyone but the cloud's managed identity",
        true,
        refused,
    )?;
    let secret = env
        .cloud()
        .vault()
        .read(&Identity::CloudManagedIdentity, SIGNING_KEY)
        .map_err(|e| Failure::Harness(format!("the vault refused the cloud itself: {e}")))?;

    let mut places: Vec<(String, String)> = Vec::new();
    for r in env.cloud().requests().all() {
        let headers: Vec<String> = r.headers.iter().map(|(n, v)| format!("{n}: {v}")).collect();
        let exchange = format!(
            "{} {}\n{}\n{}\n{}",
            r.method,
            r.path,
            headers.join("\n"),
            r.body,
            r.response
        );
        places.push((format!("{} {}{}", r.method, r.endpoint, r.path), exchange));
    }
    for (n, line) in env.cloud().log().lines().into_iter().enumerate() {
        places.push((format!("cloud log line {}", n + 1), line));
    }
    if let Some(file) = env.dms_credentials().stored() {
        places.push(("the DMS's credential file".into(), format!("{file:?}")));
    }
    ev.saw(
        "places searched (requests with answers, log lines, DMS files)",
        places.len(),
    );
    let found: Vec<String> = forms(&secret)
        .into_iter()
        .flat_map(|(form, text)| {
            places
                .iter()
                .filter(move |(_, content)| content.contains(&text))
                .map(move |(place, _)| format!("{form} in {place}"))
        })
        .collect();
    ev.expect_eq(
        "where-signing-secret-appears",
        "where the signing secret appears",
        Vec::<String>::new(),
        found,
    )
}
