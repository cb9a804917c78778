//! The one JSON line `env up` prints: the `conform-env/1` contract (docs/env.md). Fields are
//! added, never renamed or removed, within one schema version.

use std::path::Path;

use mocks::Environment;
use mocks::cloud::Endpoint;
use serde_json::{Value, json};

pub const SCHEMA: &str = "conform-env/1";

pub fn describe(
    env: &Environment,
    ca: &Path,
    control: String,
    connected: bool,
    speed: f64,
) -> Value {
    let accounts = env.accounts();
    let dms_users: Vec<_> = accounts
        .dms_users()
        .iter()
        .map(|u| json!({ "login": u.login, "password": u.password, "role": u.role }))
        .collect();
    // The first two keep their places (the Owner, then another organisation's account);
    // the Admin and the Member of the DMS's organisation follow.
    let cloud_users: Vec<_> = [
        &accounts.cloud_admin,
        &accounts.cloud_outsider,
        &accounts.cloud_org_admin,
        &accounts.cloud_member,
    ]
    .iter()
    .map(|a| {
        json!({
            "email": a.email, "password": a.password,
            "organization": a.organization, "role": a.role,
        })
    })
    .collect();
    json!({
        "schema": SCHEMA,
        "endpoints": {
            "connection": env.cloud_url(Endpoint::Connection),
            "sharing": env.cloud_url(Endpoint::Sharing),
            "tunnel": env.cloud_url(Endpoint::Tunnel),
            "dma": env.dma().api_url(),
            "waf": format!("http://{}/", env.waf().addr()),
        },
        "ca": ca,
        "resolve": env.published().iter()
            .map(|(name, addr)| format!("{name}:{}:{}", addr.port(), addr.ip()))
            .collect::<Vec<_>>(),
        "dms_id": accounts.dms_id,
        "dms_name": accounts.dms_name,
        "accounts": {
            "dms": dms_users,
            "cloud": cloud_users,
        },
        "control": control,
        "clock": { "now": env.clock().unix_seconds(), "speed": speed },
        "connected": connected,
        "faults": env.faults().iter().map(|f| f.name()).collect::<Vec<_>>(),
        "store": env.cloud().store().paths().map(|p| json!({
            "database": p.database,
            "replica": p.replica,
        })),
    })
}
