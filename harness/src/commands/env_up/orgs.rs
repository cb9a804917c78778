//! `env up --orgs 2`: a second organisation beside the DMS's own, so a reviewer can repeat by
//! hand what one tenant tries on another (docs/walkthrough.md, "Another organisation"). Its
//! account is the environment's other-organisation account; its DMS is registered by that
//! account through the public connect flow, as any customer's is, and the line carries the
//! DMS's token so curl can call the cloud's DMS API as it. With `--shared`, that DMS also
//! announces a share of its own to the first organisation's account.

use mocks::Environment;
use scenarios::clients::ForeignDms;
use serde_json::{Value, json};

/// The second organisation's DMS.
const DMS_ID: &str = "dms-of-the-other-org";

/// What the line says of the two organisations.
pub async fn second_organization(env: &Environment, shared: bool) -> anyhow::Result<Value> {
    let accounts = env.accounts();
    let other = accounts.cloud_outsider.clone();
    let dms = ForeignDms::register(env, &other, DMS_ID)
        .await
        .map_err(|failure| anyhow::anyhow!("the second organisation's DMS: {failure}"))?;
    let mut share = Value::Null;
    if shared {
        let share_id = "share-of-the-other-org";
        let announced = dms
            .announce(
                share_id,
                &[
                    ("shared_by", "owner"),
                    ("emails", accounts.cloud_admin.email.as_str()),
                ],
            )
            .await
            .map_err(|failure| anyhow::anyhow!("the second organisation's share: {failure}"))?;
        if announced.status != 201 {
            anyhow::bail!(
                "the second organisation's share was refused: HTTP {}",
                announced.status
            );
        }
        share = json!({ "share_id": share_id, "recipient": accounts.cloud_admin.email });
    }
    Ok(json!([
        {
            "organization": accounts.cloud_admin.organization,
            "account": accounts.cloud_admin.email,
            "dms_id": accounts.dms_id,
        },
        {
            "organization": other.organization,
            "account": other.email,
            "dms_id": dms.dms_id,
            "dms_token": dms.token,
            "share": share,
        },
    ]))
}
