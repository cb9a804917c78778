//! Every suite, in the order `conform list` shows them.

mod optin;
mod tls;

use crate::Scenario;

pub(crate) fn all() -> Vec<Scenario> {
    [optin::scenarios(), tls::scenarios()].concat()
}
