//! What counts as refused, and the matrix each attempt is recorded in.

use mocks::cloud::Route;

use super::DIMENSION;
use super::table::item;
use crate::Evidence;

/// What a refusal of a bad bearer token is on the wire.
pub(super) const INVALID_TOKEN: u16 = 401;
/// What a valid token of another DMS gets on this DMS's ID.
pub(super) const FORBIDDEN: u16 = 403;

/// What a missing or bad sign-in session must get on a route that asks for one: a refusal of
/// the session itself, before anything the request carries is read (a 400 for a missing
/// parameter would tell nothing of whether the session was checked).
pub(super) fn is_session_refusal(status: u16) -> bool {
    matches!(status, 401 | 403)
}

pub(super) fn is_refusal(status: u16) -> bool {
    matches!(status, 400 | 401 | 403 | 404 | 410)
}

/// One attempt: what was sent with which credential, and the statuses that count as refused.
pub(super) struct Judge<'a> {
    pub ev: &'a Evidence,
    /// Attempts that were not refused as the spec says.
    pub accepted: Vec<String>,
    /// Attempts with another DMS's or organisation's credential on this DMS's ID that opened
    /// something.
    pub crossed: Vec<String>,
    pub tried: usize,
}

impl Judge<'_> {
    pub(super) fn record(
        &mut self,
        route: &Route,
        case: &str,
        status: u16,
        refused: bool,
        cross: bool,
    ) {
        self.tried += 1;
        let outcome = if refused {
            format!("refused {status}")
        } else {
            format!("ACCEPTED {status}")
        };
        self.ev.row(DIMENSION, item(route), case, outcome);
        if !refused {
            let line = format!("{} with {case}: HTTP {status}", item(route));
            if cross {
                self.crossed.push(line);
            } else {
                self.accepted.push(line);
            }
        }
    }
}
