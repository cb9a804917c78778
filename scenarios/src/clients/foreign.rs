//! A DMS of another organisation, played by a scenario: registered by an account of that
//! organisation through the public connect flow (as any dataminer.services customer can),
//! then calling the cloud's DMS API with its own token. What a tenant that attacks another
//! tenant has in hand.

use mocks::Environment;
use mocks::cloud::{Account, Endpoint};

use super::{CloudClient, Reply, ScriptedDms};
use crate::Failure;
use crate::steps::{approve_on_page, sign_in};

/// The dashboard a foreign DMS names in its announcements unless told otherwise.
const DASHBOARD: &str = "soc-overview";

/// A DMS of another organisation, connected through the public connect flow by an account of
/// that organisation: what any dataminer.services customer can have.
#[derive(Clone)]
pub struct ForeignDms {
    pub client: CloudClient,
    pub dms_id: String,
    pub token: String,
}

impl std::fmt::Debug for ForeignDms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForeignDms")
            .field("dms_id", &self.dms_id)
            .finish_non_exhaustive()
    }
}

impl ForeignDms {
    /// `account` signs in, starts the connect flow of a DMS `dms_id` joining its own
    /// organisation and approves it on the verification page.
    pub async fn register(
        env: &Environment,
        account: &Account,
        dms_id: &str,
    ) -> Result<Self, Failure> {
        let client = CloudClient::new(env)?;
        let cookie = sign_in(&client, account).await?;
        let dms = ScriptedDms::new(&client, dms_id)?.joining(&account.organization);
        let started = dms.started().await?;
        let approval = approve_on_page(&client, Some(&cookie), &started.user_code, dms_id).await?;
        if approval.answer.status != 200 {
            return Err(Failure::precondition(
                format!("{} approving its own DMS {dms_id}", account.email),
                "HTTP 200",
                approval.answer,
            ));
        }
        let redeemed = dms.redeem(&started.device_code).await?;
        let token = redeemed.field("access_token").ok_or_else(|| {
            Failure::precondition(format!("{dms_id}'s token"), "delivered", &redeemed)
        })?;
        Ok(Self {
            client,
            dms_id: dms_id.to_owned(),
            token,
        })
    }

    /// `POST /api/dms/shares` as this DMS, with `fields` over a plausible announcement.
    pub async fn announce(
        &self,
        share_id: &str,
        fields: &[(&str, &str)],
    ) -> Result<Reply, Failure> {
        let mut form = vec![
            ("share_id", share_id),
            ("dashboard", DASHBOARD),
            ("shared_by", "mallory"),
            ("emails", "mallory@other.example"),
            ("connection", "made-up"),
        ];
        for (name, value) in fields {
            form.retain(|(n, _)| n != name);
            form.push((name, value));
        }
        self.client
            .post_form_with_token(Endpoint::Connection, "api/dms/shares", &form, &self.token)
            .await
    }

    /// `POST /api/dms/shares/delete` as this DMS.
    pub async fn withdraw(&self, share_id: &str) -> Result<Reply, Failure> {
        self.client
            .post_form_with_token(
                Endpoint::Connection,
                "api/dms/shares/delete",
                &[("share_id", share_id)],
                &self.token,
            )
            .await
    }
}
