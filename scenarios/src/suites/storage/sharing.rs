//! The sharing path walked before the store is judged: a recipient of the scenario's own signs
//! up, a dashboard is shared with that address, and the mailed link is opened by its account,
//! so the shares, their recipients, the openings and the mail outbox have something to keep.

use mocks::Environment;
use mocks::world::random_token;
use serde_json::json;

use super::reader::StoreFile;
use crate::Failure;
use crate::clients::{DmaSession, ShareRecipient};
use crate::suites::sharing::live;

/// The address the scenario shares with: no account has it before the scenario makes one.
pub(super) const RECIPIENT: &str = "store.audit.recipient@partner.example";

/// A dashboard of the fixtures.
const DASHBOARD: &str = "core-network";

/// The tables the sharing path must have put rows in, as the file names them.
const SHARING_TABLES: &[&str] = &[
    "shares",
    "share_recipients",
    "share_openings",
    "mail_outbox",
];

/// Signs up [`RECIPIENT`], shares [`DASHBOARD`] with it as the Administrator and opens the
/// mailed link as the recipient; answers the share's ID as the DMA gave it.
pub(super) async fn share_and_open(
    env: &Environment,
    admin: &DmaSession,
) -> Result<String, Failure> {
    let mut recipient = ShareRecipient::new(env)?;
    recipient
        .sign_up(env, RECIPIENT, &format!("pw-{}", random_token(12)))
        .await?;
    let shared = live::share(env, admin, DASHBOARD, &[RECIPIENT], json!({})).await?;
    live::open_viewer(&recipient, shared.link_for(RECIPIENT)?).await?;
    Ok(shared.share_id)
}

/// The sharing path's tables that hold no row in `file`.
pub(super) fn tables_without_rows(file: &StoreFile) -> Vec<&'static str> {
    SHARING_TABLES
        .iter()
        .copied()
        .filter(|table| !file.cells.iter().any(|c| c.table == *table))
        .collect()
}
