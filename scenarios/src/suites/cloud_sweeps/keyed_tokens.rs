//! The keyed-objects sweep's rows on grants and token families: organisation B's real DMS
//! (the second site, signing with the key its own gateway keeps) names A's DMS ID in a device
//! authorization (colliding), polls with a guessed device code, and presents A's refresh key
//! and access token (copied, as a leak would hand them over). Judged on the wire (B gets no
//! token; A's token still opens A's registration) and in the store read with the scenario's
//! own connection (A's registration and token families as they were).

use std::collections::BTreeMap;

use mocks::Environment;
use mocks::cloud::Endpoint;

use super::keyed_row::Row;
use crate::clients::{CloudClient, KeyPair, Reply, ScriptedDms};
use crate::suites::storage::reader;
use crate::{Failure, second_site};

/// The rows of `table` that belong to DMS `dms_id`, as the scenario reads the primary file.
pub(super) fn stored_of(
    env: &Environment,
    table: &str,
    dms_id: &str,
) -> Result<Vec<BTreeMap<String, String>>, Failure> {
    let paths = crate::suites::storage::store_paths(env)?;
    Ok(reader::table_rows(env, &paths.database, table)?
        .into_iter()
        .filter(|r| r.get("dms_id").map(String::as_str) == Some(dms_id))
        .collect())
}

fn issued(reply: &Reply) -> bool {
    reply.field("access_token").is_some() || reply.field("device_code").is_some()
}

/// B's attempts on A's grants and token families, each a row.
pub(super) async fn grants_and_families(env: &Environment) -> Result<Vec<Row>, Failure> {
    let site = second_site::site(env)?;
    let b_dms = site.accounts().dms_id.clone();
    let org_b = site.accounts().organization.clone();
    let b_key = site
        .dms_credentials()
        .key()
        .ok_or_else(|| Failure::precondition("B's DMS's key", "kept by its gateway", "none"))?;
    let b_key = || KeyPair::copied(b_key.pkcs8(), b_key.jwk());
    let a_dms = env.accounts().dms_id.clone();
    let a_held = env
        .dms_credentials()
        .stored()
        .ok_or_else(|| Failure::precondition("A's DMS's token", "held by its gateway", "none"))?;
    let client = CloudClient::new(env)?;
    let b = ScriptedDms::with_key(&client, &b_dms, b_key())?.joining(&org_b);
    let registrations_before = stored_of(env, "dms_registrations", &a_dms)?;
    let families_before = stored_of(env, "token_families", &a_dms)?;
    let mut rows = Vec::new();

    // The grant: a device authorization naming A's DMS ID, signed with B's DMS's key.
    let colliding = ScriptedDms::with_key(&client, &a_dms, b_key())?
        .joining(&org_b)
        .start()
        .await?;
    let registrations_after = stored_of(env, "dms_registrations", &a_dms)?;
    rows.push(Row {
        object: "grant",
        how: "B's DMS key starts a device authorization as A's DMS ID (colliding)",
        status: colliding.status,
        reached: (issued(&colliding) || registrations_after != registrations_before).then(|| {
            format!(
                "codes issued: {}; A's stored registration changed: {}",
                issued(&colliding),
                registrations_after != registrations_before
            )
        }),
    });
    // The grant: a guessed device code, polled by B's DMS.
    let guessed = b.redeem("Gk4nXqP2vR8sT6wY1zA3bC5dE7fH9jL0").await?;
    rows.push(Row {
        object: "grant",
        how: "B's DMS polls the token endpoint with a guessed device code",
        status: guessed.status,
        reached: issued(&guessed).then(|| "a token issued to B".into()),
    });
    // The token family: A's refresh key (copied), presented by B's DMS.
    let refreshed = b.refresh(&a_held.refresh_key).await?;
    rows.push(Row {
        object: "token family",
        how: "B's DMS refreshes with A's refresh key (copied)",
        status: refreshed.status,
        reached: issued(&refreshed).then(|| "a token of A's family issued to B".into()),
    });
    // The token family: A's access token (copied), revoked by B's DMS.
    let revoked = b.revoke(&a_held.access_token).await?;
    env.settle().await;
    let own = client
        .get_with_token(Endpoint::Connection, "api/dms/self", &a_held.access_token)
        .await?;
    let families_after = stored_of(env, "token_families", &a_dms)?;
    rows.push(Row {
        object: "token family",
        how: "B's DMS revokes A's access token (copied); then A's token on /api/dms/self and A's stored families",
        status: revoked.status,
        reached: (own.status != 200 || families_after != families_before).then(|| {
            format!(
                "A's token answered {}; A's stored families before {families_before:?}, after {families_after:?}",
                own.status
            )
        }),
    });
    Ok(rows)
}
