//! Every suite, in the order `conform list` shows them.

mod optin;

use crate::Scenario;

pub(crate) fn all() -> Vec<Scenario> {
    [optin::scenarios()].concat()
}
