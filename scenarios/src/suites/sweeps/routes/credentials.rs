//! Every credential the sweep tries, good and bad, each made the way a real one is.

use std::time::Duration;

use mocks::Environment;

use super::super::enrol::{Enrolled, enrol};
use crate::clients::CloudClient;
use crate::suites::tokens::validation::signing_key;
use crate::{Failure, oracle, steps};

/// The credentials the sweep holds.
pub(super) struct Credentials {
    pub dms_a: String,
    pub token_a: String,
    pub forged: Vec<(String, String)>,
    pub expired: String,
    pub revoked: String,
    pub other_dms: Enrolled,
    pub foreign_dms: Enrolled,
    pub own_session: String,
    pub foreign_session: String,
    /// Whose sessions those are: each route gets fresh ones, so a route that ends the session
    /// it is given (a sign-out) leaves the next routes' live.
    pub own_account: mocks::cloud::Account,
    pub foreign_account: mocks::cloud::Account,
}

/// Every credential the sweep tries, good and bad, each made the way a real one is.
pub(super) async fn credentials(env: &Environment) -> Result<Credentials, Failure> {
    let spec = oracle::spec()?;
    steps::connect_dms(env).await?;
    let dms_a = env.accounts().dms_id.clone();
    let admin = env.accounts().cloud_admin.clone();
    let outsider = env.accounts().cloud_outsider.clone();
    // A DMS that never renews: its token is the expired one once a week has passed.
    let stale = enrol(env, "dms-sweep-stale", &admin).await?;
    let past = spec.token.lifetime_seconds + spec.token.clock_skew_allowance_seconds + 60;
    steps::let_time_pass(env, Duration::from_secs(past), 7 * 24).await;
    let other_dms = enrol(env, "dms-sweep-other", &admin).await?;
    let foreign_dms = enrol(env, "dms-sweep-foreign", &outsider).await?;
    let gone = enrol(env, "dms-sweep-gone", &admin).await?;
    let revoke = gone.dms.revoke(&gone.access_token).await?;
    if revoke.status != 200 {
        return Err(Failure::precondition(
            "the disconnect of dms-sweep-gone",
            "HTTP 200",
            revoke.status,
        ));
    }
    let token_a = env
        .dms_credentials()
        .stored()
        .map(|c| c.access_token)
        .ok_or_else(|| Failure::precondition("the DMS's credentials", "stored", "none"))?;
    let key = signing_key(env, &token_a)?.ok_or_else(|| {
        Failure::precondition(
            "the signing key",
            "a key of the vault that verifies the DMS's token",
            "none does",
        )
    })?;
    let forged: Vec<(String, String)> = probes::jwt::attacks(&token_a, &key, &env.ca_der())
        .into_iter()
        .map(|a| (format!("forged: {}", a.name), a.token))
        .collect();
    if forged.is_empty() {
        return Err(Failure::Harness("the forged-token battery is empty".into()));
    }
    let browser = CloudClient::new(env)?;
    let own_session = steps::sign_in(&browser, &admin).await?;
    let foreign_session = steps::sign_in(&CloudClient::new(env)?, &outsider).await?;
    Ok(Credentials {
        dms_a,
        token_a,
        forged,
        expired: stale.access_token,
        revoked: gone.access_token,
        other_dms,
        foreign_dms,
        own_session,
        foreign_session,
        own_account: admin,
        foreign_account: outsider,
    })
}
