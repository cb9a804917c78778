//! Remote access is switched on per DMS and per account, by an Owner or Admin only: before
//! that, and for anyone or anywhere else, the front end refuses and nothing reaches the DMS.

use super::support::{gateway_sign_ins, owner_enables, sign_in};
use mocks::cloud::Endpoint;

use crate::clients::CloudClient;
use crate::steps::{self, Recipient};
use crate::{Ctx, Failure, oracle};

pub(super) async fn off_until_enabled(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    if spec.remote_access.enabled_by_default {
        return Err(Failure::Harness(
            "the spec has remote access on by default: nothing to refuse".into(),
        ));
    }
    let env = ctx.environment().await?;
    steps::connect_dms(&env).await?;
    let accounts = env.accounts().clone();
    let x = accounts.dms_id.clone();
    let (y, _) = steps::register_another_dms(&env, "dms-second").await?;
    let viewer = &accounts.dms_viewer;
    // A: a Member of the DMS's organisation; B: an Admin of it, never named.
    let a = Recipient::signed_in_as(&env, &accounts.cloud_member).await?;
    let b = Recipient::signed_in_as(&env, &accounts.cloud_org_admin).await?;

    let before = gateway_sign_ins(&env);
    let (status, _) = sign_in(&a, &x, &viewer.login, &viewer.password).await?;
    ev.expect_eq(
        "disabled-by-default-refused",
        "a remote sign-in before anyone enabled remote access: HTTP status, sign-ins that reached the DMA",
        (403, 0),
        (status, gateway_sign_ins(&env) - before),
    )?;

    // A Member switches it on for themselves.
    let by_member =
        steps::set_remote_access(&env, &accounts.cloud_member, &x, &[&accounts.cloud_member])
            .await?;
    let before = gateway_sign_ins(&env);
    let (after_member, _) = sign_in(&a, &x, &viewer.login, &viewer.password).await?;
    ev.expect_eq(
        "member-cannot-enable",
        "a Member enabling remote access for themselves: HTTP status; then their sign-in: HTTP status, sign-ins that reached the DMA",
        (403, 403, 0),
        (
            by_member.status,
            after_member,
            gateway_sign_ins(&env) - before,
        ),
    )?;

    // A page of the sharing host (where the sharing host relays any DMS's content) posts to
    // the admin API with the signed-in Owner's cookie: every dataminer.services host is one
    // site, so only the request's origin tells it from the Owner's own act.
    let owner = CloudClient::new(&env)?;
    let owner_cookie = steps::sign_in(&owner, &accounts.cloud_admin).await?;
    let page = env.cloud_url(Endpoint::Sharing);
    let cross_site = owner
        .post_form_from_page(
            Endpoint::Connection,
            "api/org/remote-access",
            &[
                ("dms_id", x.as_str()),
                ("accounts", &accounts.cloud_member.email),
            ],
            Some(&owner_cookie),
            &page,
        )
        .await?;
    let before = gateway_sign_ins(&env);
    let (after_page, _) = sign_in(&a, &x, &viewer.login, &viewer.password).await?;
    ev.expect_eq(
        "cross-site-admin-request-refused",
        "the Owner's cookie sent to the admin API from a page of the sharing host: HTTP status; then the named account's sign-in: HTTP status, sign-ins that reached the DMA",
        (403, 403, 0),
        (
            cross_site.status,
            after_page,
            gateway_sign_ins(&env) - before,
        ),
    )?;

    // The Owner enables it on X for A only.
    owner_enables(&env, &x, &[&accounts.cloud_member]).await?;
    let before = gateway_sign_ins(&env);
    let (status, answer) = sign_in(&a, &x, &viewer.login, &viewer.password).await?;
    ev.expect_eq(
        "enabled-account-reaches-dms",
        "the enabled account on the enabled DMS: HTTP status, sign-ins that reached the DMA",
        (200, 1),
        (status, gateway_sign_ins(&env) - before),
    )?;
    ev.saw("its answer", &answer);
    let before = gateway_sign_ins(&env);
    let (status, _) = sign_in(&b, &x, &viewer.login, &viewer.password).await?;
    ev.expect_eq(
        "other-account-refused",
        "an account of the organisation that was not named, on the enabled DMS: HTTP status, sign-ins that reached the DMA",
        (403, 0),
        (status, gateway_sign_ins(&env) - before),
    )?;
    // Y has no tunnel: a relayed request would be answered 502, a refused one 403.
    let (status, answer) = sign_in(&a, &y, &viewer.login, &viewer.password).await?;
    ev.expect_eq(
        "other-dms-refused",
        "the enabled account on another DMS of the organisation: HTTP status",
        403,
        status,
    )?;
    ev.saw("its answer", &answer);
    Ok(())
}
