//! How the verification page approves a connect-flow grant: what it asks of the approver and
//! who may approve, settled once when the cloud is built. Below both the page (`approval`) and
//! the flow (`device_flow`), whose policy carries it.

use std::time::Duration;

use crate::world::{Fault, FaultSet};

/// Wrong user codes an account may type in a window before it must wait.
const GUESSES: usize = 5;
const GUESS_WINDOW: Duration = Duration::from_secs(15 * 60);

/// How the verification page approves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ApprovalPolicy {
    /// Approving needs a signed-in dataminer.services session.
    pub requires_session: bool,
    /// The page names the DMS, the organisation it joins and where its request came from.
    pub names_client: bool,
    /// Approving needs the page's ticket and the DMS ID typed by the approver.
    pub requires_confirmation: bool,
    pub approvers: Approvers,
    /// The approver's organisation role is checked, not only their organisation
    /// (`cloud.approval-ignores-role` leaves it out).
    pub role_checked: bool,
    /// How many wrong user codes an account may type, and in what window; `None`: any number.
    pub guesses: Option<(usize, Duration)>,
}

/// Who may approve a grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Approvers {
    /// Accounts of the organisation the DMS joins.
    OwnOrganization,
    /// Any account; the grant joins the approver's organisation.
    AnyAccount,
}

impl ApprovalPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        let on = |fault| faults.is_on(fault);
        Self {
            requires_session: !on(Fault::CloudApproveWithoutLogin),
            names_client: !on(Fault::CloudApprovalPageHidesDms),
            requires_confirmation: !on(Fault::CloudApproveWithoutConfirmation),
            approvers: if on(Fault::CloudApprovalAnyOrganization) {
                Approvers::AnyAccount
            } else {
                Approvers::OwnOrganization
            },
            role_checked: !on(Fault::CloudApprovalIgnoresRole),
            guesses: (!on(Fault::CloudUserCodeGuessingUnlimited))
                .then_some((GUESSES, GUESS_WINDOW)),
        }
    }
}
