//! Remote access as the DMS side receives it: the cloud relays a request of an account for
//! which an Owner or Admin enabled remote access, and names that account in a header it sets
//! itself, in place of whatever the browser sent (the cloud authenticated the account; the
//! tunnel and the gateway carry the header as they carry the request). The WAF reads it to
//! keep remote sign-ins apart from the gateway's own (share users) and to bound each
//! account's failures.

/// The header in which the cloud names the account a remote-access request is relayed for.
pub const REMOTE_ACCOUNT_HEADER: &str = "x-dataminer-remote-account";
