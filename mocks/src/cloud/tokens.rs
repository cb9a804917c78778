//! DMS tokens: HS256 JWTs signed with the Key Vault's key, one family per connect flow, each
//! family with one live refresh key (kept only as a SHA-256 digest). Validation is strict and
//! the same for every endpoint (API and tunnel); see `jose` for the wire form. What the service
//! issues and accepts is its `TokenPolicy`, settled once when the cloud is built.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::jose;
use super::log::CloudLog;
use super::store::{RefreshKeyRecord, Store, TokenFamilyRecord};
use super::vault::{Credential, KeyVault, SIGNING_KEY};
use crate::world::{Clock, Fault, FaultSet, Observed, random_token};

#[cfg(test)]
mod tests;

/// Every token is valid for one week.
const TOKEN_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// How far past `exp` (and before `nbf`/`iat`) a token is still accepted, for clocks that
/// disagree a little.
pub(crate) const CLOCK_SKEW: Duration = Duration::from_secs(30);

/// The lifetime a team that misread "one week" as "one month" would configure.
const MONTH: Duration = Duration::from_secs(30 * 24 * 3600);

/// How the token service issues, accepts, renews and revokes tokens. `specified()` is the
/// specification's; `from_faults` is what a build with those bugs would run with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenPolicy {
    /// `exp - iat` of every token issued.
    pub lifetime: Duration,
    /// The lifetime of a token the refresh grant issues: the same week, unless a second code
    /// path computes its own.
    pub refresh_lifetime: Duration,
    /// How far clocks may disagree at `exp`, `nbf` and `iat`.
    pub clock_skew: Duration,
    /// The signed `alg` values accepted, each checked with the vault's key.
    pub algorithms: Vec<Algorithm>,
    /// Whether an `alg: none` token (any casing) is taken without a signature.
    pub accept_unsigned: bool,
    /// Whether `exp` is enforced.
    pub check_exp: bool,
    /// Whether a disconnect's revocation kills anything, or is only acknowledged.
    pub revoke_on_disconnect: bool,
    /// What a DMS's disconnect revokes.
    pub disconnect: DisconnectScope,
    pub refresh: RefreshPolicy,
    /// Which DMS a caller may act for.
    pub binding: Binding,
    /// Whether signing writes the key to the log, as a debug statement left in would.
    pub log_key_material: bool,
    /// Whether a DMS's revocation of a token of another DMS revokes that DMS's families, the
    /// owner check left out (`cloud.revoke-any-family`): one tenant disconnects another.
    pub revoke_others: bool,
    /// Whether a revocation finds a family by an access token a renewal has superseded, or
    /// only by the family's latest one (as a lookup in a table of current tokens does).
    pub revoke_by_superseded: bool,
}

/// How refresh keys behave (RFC 6749 §10.4, RFC 9700 §4.14.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RefreshPolicy {
    /// A refresh key is spent by its first use.
    pub single_use: bool,
    /// A spent key presented again revokes its whole family.
    pub revoke_family_on_replay: bool,
}

/// What a DMS's disconnect (its revocation request) revokes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DisconnectScope {
    /// Every family of the DMS, whoever holds its tokens and refresh keys.
    Dms,
    /// The family of the token the DMS presented, and no other.
    PresentedFamily,
}

/// Which checks a front end makes of a bearer token beyond its signature: all of them, unless
/// a route was given a validator of its own that leaves one out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Checks {
    /// The token's `exp` (with the skew allowance).
    pub exp: bool,
    /// The token's family is not revoked.
    pub revocation: bool,
}

impl Checks {
    pub const ALL: Checks = Checks {
        exp: true,
        revocation: true,
    };
}

/// The resource-binding decision: which DMS a token (or a signed-in account) may act for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    /// A token acts for the DMS it names in `sub`; an account for its organisation's DMSs.
    Own,
    /// Whoever is authenticated acts for any registered DMS: binding left out.
    AnyRegistered,
}

impl TokenPolicy {
    pub fn specified() -> Self {
        Self {
            lifetime: TOKEN_LIFETIME,
            refresh_lifetime: TOKEN_LIFETIME,
            clock_skew: CLOCK_SKEW,
            algorithms: vec![Algorithm::HS256],
            accept_unsigned: false,
            check_exp: true,
            revoke_on_disconnect: true,
            disconnect: DisconnectScope::Dms,
            refresh: RefreshPolicy {
                single_use: true,
                revoke_family_on_replay: true,
            },
            binding: Binding::Own,
            log_key_material: false,
            revoke_others: false,
            revoke_by_superseded: true,
        }
    }

    pub fn from_faults(faults: &FaultSet) -> Self {
        let mut policy = Self::specified();
        let on = |fault| faults.is_on(fault);
        if on(Fault::CloudTokenLifetime30d) {
            policy.lifetime = MONTH;
            policy.refresh_lifetime = MONTH;
        }
        if on(Fault::CloudRefreshTokenEightDays) {
            // A renewal path that adds a day of grace "so the DMS never runs dry".
            policy.refresh_lifetime = TOKEN_LIFETIME + Duration::from_secs(24 * 3600);
        }
        if on(Fault::CloudAcceptAnyHmac) {
            policy.algorithms = vec![Algorithm::HS256, Algorithm::HS384, Algorithm::HS512];
        }
        policy.accept_unsigned = on(Fault::CloudAcceptAlgNone);
        policy.check_exp = !on(Fault::CloudSkipExp);
        policy.revoke_on_disconnect = !on(Fault::CloudNoRevokeOnDisconnect);
        if on(Fault::CloudDisconnectRevokesOneFamily) {
            policy.disconnect = DisconnectScope::PresentedFamily;
        }
        policy.refresh.single_use = !on(Fault::CloudRefreshReusable);
        policy.refresh.revoke_family_on_replay = !on(Fault::CloudNoFamilyRevocation);
        if on(Fault::CloudIgnoreSub) {
            policy.binding = Binding::AnyRegistered;
        }
        policy.log_key_material = on(Fault::CloudSecretInLogs);
        policy.revoke_others = on(Fault::CloudRevokeAnyFamily);
        policy.revoke_by_superseded = !on(Fault::CloudRevokeIgnoresSupersededToken);
        policy
    }
}

pub(crate) const ISSUER: &str = "https://connection.dataminer.services/";
pub(crate) const AUDIENCE: &str = "dataminer.services";

/// The claims of a DMS token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The DMS the token was issued to.
    pub sub: String,
    pub aud: String,
    pub iat: u64,
    pub exp: u64,
    /// Not before; the cloud issues none, but honours one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    pub jti: String,
    /// The token family: every token and refresh key descending from one connect flow.
    pub fam: String,
    pub org: String,
}

/// Why a token was refused. Each refusal is a 401 with an RFC 6750 error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TokenError {
    /// No bearer token in the request.
    #[error("no bearer token")]
    Missing,
    /// Not a well-formed HS256 JWT signed with our key, or a claim is wrong.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// Past `exp` plus the allowed skew.
    #[error("token expired")]
    Expired,
    /// Its family was revoked (disconnect, or a replayed refresh key).
    #[error("token revoked")]
    Revoked,
    /// A valid token, used for a DMS it was not issued to (RFC 6750 §3.1: 403).
    #[error("the token of DMS {token_for} may not act for DMS {asked}")]
    Forbidden { token_for: String, asked: String },
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let description = self.to_string();
        let (status, error) = match self {
            TokenError::Forbidden { .. } => (StatusCode::FORBIDDEN, "insufficient_scope"),
            _ => (StatusCode::UNAUTHORIZED, "invalid_token"),
        };
        (
            status,
            [(
                header::WWW_AUTHENTICATE,
                format!("Bearer error=\"{error}\", error_description=\"{description}\""),
            )],
            Json(serde_json::json!({ "error": error, "error_description": description })),
        )
            .into_response()
    }
}

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
