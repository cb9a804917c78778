//! DMS tokens: HS256 JWTs signed with the Key Vault's key, one family per connect flow, each
//! family with one live refresh key (kept only as a SHA-256 digest). Validation is strict and
//! the same for every endpoint (API and tunnel); see `jose` for the wire form. What the service
//! issues and accepts is its `TokenPolicy`, settled once when the cloud is built.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jsonwebtoken::Algorithm;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::jose;
use super::log::CloudLog;
use super::store::{RefreshKeyRecord, Store, TokenFamilyRecord};
use super::vault::{Credential, KeyVault, SIGNING_KEY};
use crate::world::{Clock, Observed, random_token};

pub(super) mod claims;
mod policy;
#[cfg(test)]
mod tests;

pub(crate) use claims::{AUDIENCE, ISSUER};
pub use claims::{Claims, TokenError};
pub(crate) use policy::{Binding, CLOCK_SKEW, Checks, DisconnectScope, TokenPolicy};

/// One token the cloud issued, as its record keeps it: never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issued {
    pub dms_id: String,
    pub family: String,
    pub jti: String,
    pub iat: u64,
    pub exp: u64,
    /// The grant it answered: `"device_code"` or `"refresh_token"`.
    pub grant: &'static str,
}

/// A freshly minted token with its refresh key. The refresh key is shown once and stored only
/// as a digest.
#[derive(Debug, Clone)]
pub(crate) struct TokenPair {
    pub access_token: String,
    pub refresh_key: String,
    pub expires_in: u64,
}

#[derive(Debug)]
pub(super) struct Family {
    pub dms_id: String,
    pub organization: String,
    pub revoked: bool,
}

/// A refresh key, by its digest.
#[derive(Debug)]
pub(super) struct RefreshKey {
    pub family: String,
    pub spent: bool,
}

#[derive(Debug, Default)]
pub(super) struct Book {
    pub families: HashMap<String, Family>,
    pub refresh: HashMap<[u8; 32], RefreshKey>,
}

/// Issues, validates, renews and revokes DMS tokens.
#[derive(Debug)]
pub(crate) struct TokenService {
    vault: Arc<KeyVault>,
    /// What the service presents to the vault: the cloud's managed identity.
    identity: Credential,
    pub(super) log: CloudLog,
    clock: Clock,
    pub(super) policy: TokenPolicy,
    book: Mutex<Book>,
    issued: Observed<Vec<Issued>>,
    /// Where families are kept beyond memory.
    store: Option<Arc<Store>>,
}

impl TokenService {
    pub fn new(
        clock: Clock,
        policy: TokenPolicy,
        vault: Arc<KeyVault>,
        identity: Credential,
        log: CloudLog,
    ) -> Self {
        Self {
            vault,
            identity,
            log,
            clock,
            policy,
            book: Mutex::new(Book::default()),
            issued: Observed::default(),
            store: None,
        }
    }

    /// The same service, keeping each family in `store` as it is made and revoked.
    pub fn kept_in(self, store: Arc<Store>) -> Self {
        Self {
            store: Some(store),
            ..self
        }
    }

    fn keep(&self, family: &str, record: &Family) {
        if let Some(store) = &self.store
            && let Err(e) = store.put(&TokenFamilyRecord {
                family: family.to_owned(),
                dms_id: record.dms_id.clone(),
                organization: record.organization.clone(),
                revoked: record.revoked,
            })
        {
            self.log.info(format!("family {family} not stored: {e}"));
        }
    }

    /// Keeps the refresh key of digest `key` in the store, live or spent.
    pub(super) fn keep_refresh_key(&self, key: &[u8; 32], family: &str, spent: bool) {
        if let Some(store) = &self.store
            && let Err(e) = store.put(&RefreshKeyRecord {
                key_sha256: hex(key),
                family: family.to_owned(),
                spent,
            })
        {
            self.log
                .info(format!("refresh key of family {family} not stored: {e}"));
        }
    }

    /// The families and refresh keys become `book`'s (rebuilt from the store); what was
    /// issued stays the cloud's record of what it sent.
    pub(super) fn replace_book(&self, book: Book) {
        *self.lock() = book;
    }

    /// A new family for `dms_id`, answering an approved device code.
    pub fn issue(&self, dms_id: &str, organization: &str) -> Result<TokenPair, TokenError> {
        let family = random_token(16);
        let record = Family {
            dms_id: dms_id.to_owned(),
            organization: organization.to_owned(),
            revoked: false,
        };
        self.keep(&family, &record);
        self.lock().families.insert(family.clone(), record);
        self.mint(dms_id, organization, &family, "device_code")
    }

    /// Signs a token of `family` and makes its refresh key the family's live one.
    pub(super) fn mint(
        &self,
        dms_id: &str,
        organization: &str,
        family: &str,
        grant: &'static str,
    ) -> Result<TokenPair, TokenError> {
        let lifetime = match grant {
            "refresh_token" => self.policy.refresh_lifetime,
            _ => self.policy.lifetime,
        };
        let iat = self.clock.unix_seconds();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            sub: dms_id.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat,
            exp: iat + lifetime.as_secs(),
            nbf: None,
            jti: random_token(16),
            fam: family.to_owned(),
            org: organization.to_owned(),
        };
        let key = self.signing_key()?;
        if self.policy.log_key_material {
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            self.log.info(format!("signing with key {hex}"));
        }
        let access_token = jose::sign(&claims, &key).map_err(TokenError::Invalid)?;
        // 256 bits from the CSPRNG: well past the 128 a refresh key needs.
        let refresh_key = random_token(32);
        self.keep_refresh_key(&digest(&refresh_key), family, false);
        self.lock().refresh.insert(
            digest(&refresh_key),
            RefreshKey {
                family: family.to_owned(),
                spent: false,
            },
        );
        self.issued.update(|record| {
            record.push(Issued {
                dms_id: dms_id.to_owned(),
                family: family.to_owned(),
                jti: claims.jti.clone(),
                iat,
                exp: claims.exp,
                grant,
            })
        });
        self.log.info(format!(
            "token issued for DMS {dms_id}: family {family}, jti {}, grant {grant}, expires {}",
            claims.jti, claims.exp
        ));
        Ok(TokenPair {
            access_token,
            refresh_key,
            expires_in: lifetime.as_secs(),
        })
    }

    /// The claims of `token` if every check passes; the refusal is logged (without the token).
    #[cfg(test)]
    pub fn validate(&self, token: &str) -> Result<Claims, TokenError> {
        self.validate_with(token, Checks::ALL)
    }

    /// `validate`, making only the `checks` a front end's setting asks for.
    pub(crate) fn validate_with(&self, token: &str, checks: Checks) -> Result<Claims, TokenError> {
        let checked = self.check(token, checks);
        if let Err(refused) = &checked {
            self.log.info(format!("token refused: {refused}"));
        }
        checked
    }

    fn check(&self, token: &str, checks: Checks) -> Result<Claims, TokenError> {
        let jws = jose::parse(token).map_err(TokenError::Invalid)?;
        let named = jws.alg.as_str();
        let signed = self
            .policy
            .algorithms
            .iter()
            .copied()
            .find(|a| algorithm_name(*a) == Some(named));
        let algorithm = match signed {
            Some(algorithm) => Some(algorithm),
            None if self.policy.accept_unsigned && named.eq_ignore_ascii_case("none") => None,
            None => {
                return Err(TokenError::Invalid(format!(
                    "algorithm {named:?} not accepted"
                )));
            }
        };
        if let Some(algorithm) = algorithm
            && !jws.signature_matches(&self.signing_key()?, algorithm)
        {
            return Err(TokenError::Invalid("bad signature".into()));
        }
        let claims = jws.claims().map_err(TokenError::Invalid)?;
        let now = self.clock.unix_seconds();
        let skew = self.policy.clock_skew.as_secs();
        if claims.nbf.is_some_and(|nbf| nbf > now + skew) {
            return Err(TokenError::Invalid("not valid yet (nbf)".into()));
        }
        if claims.iat > now + skew {
            return Err(TokenError::Invalid("issued in the future".into()));
        }
        if checks.exp && self.policy.check_exp && now > claims.exp.saturating_add(skew) {
            return Err(TokenError::Expired);
        }
        match self.lock().families.get(&claims.fam) {
            Some(family) if family.dms_id != claims.sub => {
                Err(TokenError::Invalid("family of another DMS".into()))
            }
            Some(family) if !family.revoked || !checks.revocation => Ok(claims),
            Some(_) => Err(TokenError::Revoked),
            None => Err(TokenError::Invalid("unknown token family".into())),
        }
    }

    /// Forgets every family, as a cloud that kept them only in memory does when it restarts.
    pub(crate) fn forget_families(&self) {
        self.lock().families.clear();
    }

    /// A DMS disconnects, presenting a token or refresh key of its `family`: revokes every
    /// token and refresh key the disconnect reaches. Returns the families it revoked.
    pub fn disconnect(&self, dms_id: &str, family: &str) -> Vec<String> {
        if !self.policy.revoke_on_disconnect {
            return Vec::new();
        }
        let reached: Vec<String> = match self.policy.disconnect {
            DisconnectScope::Dms => self
                .lock()
                .families
                .iter()
                .filter(|(_, f)| f.dms_id == dms_id && !f.revoked)
                .map(|(name, _)| name.clone())
                .collect(),
            DisconnectScope::PresentedFamily => vec![family.to_owned()],
        };
        let revoked: Vec<String> = reached.into_iter().filter(|f| self.revoke(f)).collect();
        for family in &revoked {
            self.log.info(format!(
                "family {family} of DMS {dms_id} revoked on disconnect"
            ));
        }
        revoked
    }

    /// Whether a DMS's revocation also revokes what another DMS owns (a fault only).
    pub fn revokes_others(&self) -> bool {
        self.policy.revoke_others
    }

    /// The family and DMS of `token`, an access token signed with our key (expired or revoked
    /// alike) or a refresh key: what a revocation request names.
    pub fn family_of(&self, token: &str) -> Option<(String, String)> {
        let by_refresh = self
            .lock()
            .refresh
            .get(&digest(token))
            .map(|k| k.family.clone());
        let family = match by_refresh {
            Some(family) => family,
            None => {
                let jws = jose::parse(token).ok()?;
                let key = self.signing_key().ok()?;
                let signed = self.policy.algorithms.iter().any(|a| {
                    algorithm_name(*a) == Some(jws.alg.as_str()) && jws.signature_matches(&key, *a)
                });
                if !signed {
                    return None;
                }
                let claims = jws.claims().ok()?;
                if !self.policy.revoke_by_superseded && !self.is_latest(&claims.fam, &claims.jti) {
                    return None;
                }
                claims.fam
            }
        };
        let dms_id = self.lock().families.get(&family)?.dms_id.clone();
        Some((family, dms_id))
    }

    /// Whether `jti` is the last token issued in `family`.
    fn is_latest(&self, family: &str, jti: &str) -> bool {
        self.issued.read(|all| {
            all.iter()
                .rev()
                .find(|i| i.family == family)
                .is_some_and(|i| i.jti == jti)
        })
    }

    /// Marks `family` revoked. Returns whether it was live.
    pub(super) fn revoke(&self, family: &str) -> bool {
        let revoked = {
            let mut book = self.lock();
            match book.families.get_mut(family) {
                Some(f) if !f.revoked => {
                    f.revoked = true;
                    Some(Family {
                        dms_id: f.dms_id.clone(),
                        organization: f.organization.clone(),
                        revoked: true,
                    })
                }
                _ => None,
            }
        };
        revoked.map(|f| self.keep(family, &f)).is_some()
    }

    /// The organization of `dms_id` if a connect flow ever registered it.
    pub fn registered(&self, dms_id: &str) -> Option<String> {
        self.lock()
            .families
            .values()
            .find(|f| f.dms_id == dms_id)
            .map(|f| f.organization.clone())
    }

    pub fn issued(&self) -> Vec<Issued> {
        self.issued.read(Vec::clone)
    }

    /// The signing key, fetched from the vault as the cloud's managed identity on every use.
    fn signing_key(&self) -> Result<Vec<u8>, TokenError> {
        self.vault
            .read(&self.identity, SIGNING_KEY)
            .map_err(|e| TokenError::Invalid(format!("signing key unavailable: {e}")))
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The JOSE name of the HMAC algorithms a policy may list.
fn algorithm_name(algorithm: Algorithm) -> Option<&'static str> {
    match algorithm {
        Algorithm::HS256 => Some("HS256"),
        Algorithm::HS384 => Some("HS384"),
        Algorithm::HS512 => Some("HS512"),
        _ => None,
    }
}

pub(super) fn digest(refresh_key: &str) -> [u8; 32] {
    Sha256::digest(refresh_key.as_bytes()).into()
}

/// A digest as the store writes it: lowercase hex.
pub(super) fn hex(digest: &[u8; 32]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
