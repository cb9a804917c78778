//! FLOW-1 as reworded: the Administrator authenticates towards dataminer.services as an Owner
//! or Admin of the organisation the DMS joins. A Member of that organisation, and an Admin
//! demoted to Member while signed in, approve nothing: the DMS's token poll never gets a
//! token, and the approval answer refuses. The Owner and an Admin connect it. Which roles
//! approve is the spec's data (`fixtures/spec.json`, `organization.approver_roles`).

use std::time::Duration;

use mocks::Environment;

use crate::clients::CloudClient;
use crate::steps::{self, approve_on_page, sign_in};
use crate::{Ctx, Evidence, Failure, oracle};

/// Long enough for the agent to poll the token endpoint a few times.
const SEVERAL_POLLS: Duration = Duration::from_secs(30);

/// Whether the spec lets an account of `role` approve a DMS of its organisation.
fn approves(approver_roles: &[String], role: &str) -> bool {
    approver_roles.iter().any(|r| r == role)
}

/// `who` approves the DMS's request; then, after the DMS polled a while, the token answers
/// and the approval's status are checked against what the spec says of `role`.
async fn attempt(
    env: &Environment,
    ev: &Evidence,
    who: (&CloudClient, &str),
    code: &str,
    checks: [crate::Check; 2],
    what: &str,
) -> Result<u16, Failure> {
    let (browser, cookie) = who;
    let approval = approve_on_page(browser, Some(cookie), code, &env.accounts().dms_id).await?;
    steps::let_time_pass(env, SEVERAL_POLLS, 6).await;
    let [delivered, refused] = checks;
    ev.expect_eq(
        delivered,
        &format!("after {what} approved: token answers the cloud sent, credentials the DMS stores"),
        (0, false),
        (
            steps::tokens_delivered(env),
            env.dms_credentials().stored().is_some(),
        ),
    )?;
    ev.expect_eq(
        refused,
        &format!("approving as {what}: HTTP status"),
        403,
        approval.answer.status,
    )?;
    Ok(approval.page.status)
}

pub(super) async fn only_an_owner_or_admin_approves(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let spec = oracle::spec()?;
    let roles = &spec.organization.approver_roles;
    let env = ctx.environment().await?;
    let accounts = env.accounts().clone();
    for account in [&accounts.cloud_member, &accounts.cloud_org_admin] {
        if account.organization != accounts.cloud_admin.organization {
            return Err(Failure::precondition(
                format!("the account {}", account.email),
                "an account of the DMS's organisation",
                &account.organization,
            ));
        }
    }
    if approves(roles, accounts.cloud_member.role.name()) {
        return Err(Failure::Harness(format!(
            "the spec lets a {} approve: nothing to refuse",
            accounts.cloud_member.role
        )));
    }
    let code = steps::dms_user_code(&env).await?;

    // A Member of the DMS's organisation.
    let member = CloudClient::new(&env)?;
    let member_cookie = sign_in(&member, &accounts.cloud_member).await?;
    let page = attempt(
        &env,
        &ev,
        (&member, &member_cookie),
        &code,
        [
            "member-approval-gives-dms-nothing",
            "member-approval-refused",
        ],
        "a Member of the DMS's organisation",
    )
    .await?;
    ev.saw(
        "the verification page as the Member sees it: HTTP status",
        page,
    );

    // An Admin signed in, then demoted to Member by the Owner: the open session approves
    // nothing either.
    let owner = CloudClient::new(&env)?;
    let owner_cookie = steps::cloud_login(&env, &owner).await?;
    let demoted = CloudClient::new(&env)?;
    let demoted_cookie = sign_in(&demoted, &accounts.cloud_org_admin).await?;
    let demotion =
        steps::set_role(&owner, &owner_cookie, &accounts.cloud_org_admin, "Member").await?;
    if demotion != 200 || approves(roles, "Member") {
        return Err(Failure::precondition(
            "the Owner demoting the Admin to Member",
            "HTTP 200",
            demotion,
        ));
    }
    attempt(
        &env,
        &ev,
        (&demoted, &demoted_cookie),
        &code,
        [
            "demoted-admin-approval-gives-dms-nothing",
            "demoted-admin-approval-refused",
        ],
        "an Admin demoted to Member while signed in",
    )
    .await?;

    // The Owner approves: the control that shows the checks could fail.
    let approved = approve_on_page(&owner, Some(&owner_cookie), &code, &accounts.dms_id).await?;
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    ev.expect_eq(
        "owner-approval-connects",
        "after the Owner approved: token answers the cloud sent (and the approval's status)",
        (1, approves(roles, accounts.cloud_admin.role.name())),
        (steps::tokens_delivered(&env), approved.answer.status == 200),
    )?;

    // An Admin (not demoted) approves another DMS's request: it connects too.
    let env = ctx.environment().await?;
    let code = steps::dms_user_code(&env).await?;
    let admin = CloudClient::new(&env)?;
    let admin_cookie = sign_in(&admin, &env.accounts().cloud_org_admin).await?;
    let approved =
        approve_on_page(&admin, Some(&admin_cookie), &code, &env.accounts().dms_id).await?;
    steps::let_time_pass(&env, SEVERAL_POLLS, 6).await;
    ev.expect_eq(
        "admin-approval-connects",
        "after an Admin approved: token answers the cloud sent (and the approval's status)",
        (
            1,
            approves(roles, env.accounts().cloud_org_admin.role.name()),
        ),
        (steps::tokens_delivered(&env), approved.answer.status == 200),
    )
}

/// The organisation's only Owner cannot give up the role: with no Owner left, no one could
/// ever be made Owner again (only an Owner gives it), and the organisation would have no one
/// with the last word over who approves its DMSs (FLOW-1). With a second Owner, either may.
pub(super) async fn the_last_owner_stays(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env = ctx.environment().await?;
    let accounts = env.accounts().clone();
    let owner = CloudClient::new(&env)?;
    let owner_cookie = sign_in(&owner, &accounts.cloud_admin).await?;
    let alone = steps::set_role(&owner, &owner_cookie, &accounts.cloud_admin, "Admin").await?;
    ev.expect(
        "only-owner-cannot-step-down",
        "the only Owner giving themselves the Admin role: HTTP status",
        alone >= 400,
        "refused",
        alone,
    )?;
    let second = steps::set_role(&owner, &owner_cookie, &accounts.cloud_org_admin, "Owner").await?;
    let stepped_down =
        steps::set_role(&owner, &owner_cookie, &accounts.cloud_admin, "Admin").await?;
    ev.expect_eq(
        "an-owner-steps-down-beside-another",
        "making a second Owner, then the first stepping down: HTTP statuses",
        (200, 200),
        (second, stepped_down),
    )
}
