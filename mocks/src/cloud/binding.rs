//! The resource-binding decision every route that serves a DMS goes through: which DMS a
//! caller may act for. A DMS's token acts for the DMS it was issued to (`sub`), and for no
//! other (TOK-5); a signed-in account reaches the DMSs its organisation approved. The API,
//! the tunnel upgrade and the sharing front end all ask here, so a binding that is wrong is
//! wrong on every one of them.

use super::tokens::{Binding, Claims, TokenError, TokenService};

impl TokenService {
    /// The claims a request holding `claims` acts with for DMS `asked`: the token's own when
    /// `asked` is the DMS it was issued to; refused (403) for any other.
    pub fn act_for(&self, claims: Claims, asked: &str) -> Result<Claims, TokenError> {
        if claims.sub == asked {
            return Ok(claims);
        }
        match self.policy.binding {
            Binding::AnyRegistered if self.registered(asked).is_some() => Ok(Claims {
                sub: asked.to_owned(),
                ..claims
            }),
            Binding::Own | Binding::AnyRegistered => {
                self.log.info(format!(
                    "DMS {} asked to act for DMS {asked}: forbidden",
                    claims.sub
                ));
                Err(TokenError::Forbidden {
                    token_for: claims.sub,
                    asked: asked.to_owned(),
                })
            }
        }
    }

    /// Whether an account of `organization` reaches DMS `dms_id`: the DMS is registered, to
    /// that organisation.
    pub fn account_reaches(&self, organization: &str, dms_id: &str) -> bool {
        match (self.policy.binding, self.registered(dms_id)) {
            (_, None) => false,
            (Binding::Own, Some(owner)) => owner == organization,
            (Binding::AnyRegistered, Some(_)) => true,
        }
    }
}
