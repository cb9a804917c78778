//! The cloud's Key Vault: named secrets, each readable by the workloads its access policy
//! names. The token service fetches the JWT signing key from here on every use and keeps no
//! copy; every read, granted or not, is on record under the identity the vault verified.
//!
//! A caller does not get in by naming an identity: the vault knows each workload by the
//! credential it issued to it when both were provisioned, made fresh for each environment
//! and handed only to that workload (as a platform hands a managed identity's token only to
//! the workload it is assigned to). Who read is what the presented proof shows, never what
//! the caller says.
//!
//! It also holds the store's key-encryption key (`store-kek`), which never leaves it: the
//! store hands it data keys to wrap and wrapped keys to unwrap, as the managed identity. The
//! key rotates on a schedule; each version is kept (disabled for wrapping) until the store's
//! re-wrap job has moved every data key off it, so a rotation loses nothing.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::world::{Fault, FaultSet, Observed};

/// The name of the HS256 signing key of DMS tokens.
pub(crate) const SIGNING_KEY: &str = "jwt-signing-key";

/// The name of the store's key-encryption key, as the access record names it.
pub(crate) const STORE_KEK: &str = "store-kek";

/// How often the key-encryption key rotates.
const KEK_ROTATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// The token service's identity: the cloud's managed identity, the signing key's one reader.
const MANAGED_IDENTITY: &str = "cloud-managed-identity";
/// The identity of the cloud's front ends (API, tunnel endpoint, sharing).
const FRONT_END_IDENTITY: &str = "cloud-front-end";
/// What the record says of a caller whose proof matches no identity.
const UNVERIFIED: &str = "(unverified)";

/// Who may read the signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VaultPolicy {
    pub signing_key_readers: Vec<&'static str>,
    /// How long a key-encryption key version stays the one that wraps.
    pub kek_rotation: Duration,
    /// Whether a rotation keeps the older versions for unwrapping until they are retired.
    pub kek_keeps_old_versions: bool,
}

impl VaultPolicy {
    pub fn from_faults(faults: &FaultSet) -> Self {
        let mut readers = vec![MANAGED_IDENTITY];
        if faults.is_on(Fault::CloudFrontEndReadsSigningKey) {
            // A role assigned to every workload of the cloud instead of the token service.
            readers.push(FRONT_END_IDENTITY);
        }
        Self {
            signing_key_readers: readers,
            kek_rotation: KEK_ROTATION,
            // A rotation that replaces the key in place, as a "regenerate key" would.
            kek_keeps_old_versions: !faults.is_on(Fault::CloudRotationLosesData),
        }
    }
}

/// The credentials the vault issued, one per workload of the cloud.
#[derive(Debug, Clone)]
pub(crate) struct Workloads {
    pub token_service: Credential,
    pub front_end: Credential,
}

/// What a caller presents to the vault: the identity it says it is, and the proof it holds.
/// Its proof is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    identity: String,
    proof: Vec<u8>,
}

impl Credential {
    /// What any caller can present: a claimed identity and whatever proof it has.
    pub fn claiming(identity: impl Into<String>, proof: impl Into<Vec<u8>>) -> Self {
        Self {
            identity: identity.into(),
            proof: proof.into(),
        }
    }

    /// The identity this credential claims.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The proof, for a leak search: a credential is a secret as much as what it opens.
    pub fn proof(&self) -> &[u8] {
        &self.proof
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("identity", &self.identity)
            .finish_non_exhaustive()
    }
}

/// One read of the vault, as its audit log keeps it (never the secret's value, nor the proof).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VaultAccess {
    /// The identity the caller's proof showed, as the vault verified it.
    pub identity: String,
    /// The identity the caller claimed.
    pub claimed: String,
    pub secret: String,
    pub granted: bool,
}

/// Why the vault did not hand out a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The caller did not prove an identity the secret's policy lets read, whatever it claimed.
    #[error("{identity} may not read secret {secret:?}")]
    Forbidden { identity: String, secret: String },
    /// No secret of that name exists (or no longer: a retired key version).
    #[error("no secret named {0:?}")]
    NotFound(String),
    /// A wrapped key did not open: wrapped for another context, or changed.
    #[error("the wrapped key does not open: {0}")]
    Unwrap(String),
}

/// What a wrapped data key is bound to: the key version and the store's name for the key.
fn kek_aad(version: u32, context: &str) -> Vec<u8> {
    format!("{STORE_KEK}/v{version}/{context}").into_bytes()
}

/// Named secrets, made from the CSPRNG when the cloud starts.
pub struct KeyVault {
    secrets: BTreeMap<String, Vec<u8>>,
    /// Per secret, the identities that may read it.
    readers: BTreeMap<String, Vec<&'static str>>,
    /// The digest of each identity's proof: the vault keeps no copy of a proof.
    proofs: Vec<(&'static str, [u8; 32])>,
    accesses: Observed<Vec<VaultAccess>>,
    kek: Mutex<Kek>,
    kek_policy: VaultPolicy,
}

/// The versions of the key-encryption key the vault holds.
#[derive(Debug)]
struct Kek {
    versions: BTreeMap<u32, [u8; 32]>,
    current: u32,
    /// When the current version became the one that wraps, in Unix seconds.
    since: u64,
}

/// A data key wrapped by one version of the key-encryption key.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    pub version: u32,
    pub bytes: Vec<u8>,
}

impl fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WrappedKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// The key-encryption key's versions: the one that wraps, and every one that still unwraps.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct KekVersions {
    pub current: u32,
    pub held: Vec<u32>,
    /// When the current version began to wrap, in Unix seconds.
    pub since: u64,
}

impl fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The names only: a secret's value is not for debug output.
        f.debug_struct("KeyVault")
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl KeyVault {
    /// A vault holding a fresh 256-bit signing key readable as `policy` says, and the
    /// credentials of the cloud's workloads, for each to hold its own.
    pub(crate) fn provision(policy: &VaultPolicy, now: u64) -> (Self, Workloads) {
        let token_service = random_bytes();
        let front_end = random_bytes();
        let vault = Self {
            secrets: BTreeMap::from([(SIGNING_KEY.to_owned(), random_bytes())]),
            readers: BTreeMap::from([(SIGNING_KEY.to_owned(), policy.signing_key_readers.clone())]),
            proofs: vec![
                (MANAGED_IDENTITY, Sha256::digest(&token_service).into()),
                (FRONT_END_IDENTITY, Sha256::digest(&front_end).into()),
            ],
            accesses: Observed::default(),
            kek: Mutex::new(Kek {
                versions: BTreeMap::from([(1, super::store::fresh_key())]),
                current: 1,
                since: now,
            }),
            kek_policy: policy.clone(),
        };
        let workloads = Workloads {
            token_service: Credential::claiming(MANAGED_IDENTITY, token_service),
            front_end: Credential::claiming(FRONT_END_IDENTITY, front_end),
        };
        (vault, workloads)
    }

    /// The secret `name`, for a caller whose proof shows an identity its policy names. Every
    /// call is recorded under the identity the proof showed.
    pub fn read(&self, caller: &Credential, name: &str) -> Result<Vec<u8>, VaultError> {
        let verified = self.verify(caller);
        let found = self.secrets.get(name);
        // A proven identity learns that a secret does not exist; only a reader gets one.
        let allowed = verified.is_some_and(|identity| {
            found.is_none()
                || self
                    .readers
                    .get(name)
                    .is_some_and(|readers| readers.contains(&identity))
        });
        self.accesses.update(|log| {
            log.push(VaultAccess {
                identity: verified.unwrap_or(UNVERIFIED).to_owned(),
                claimed: caller.identity.clone(),
                secret: name.to_owned(),
                granted: allowed && found.is_some(),
            })
        });
        match (allowed, found) {
            (false, _) => Err(VaultError::Forbidden {
                identity: caller.identity.clone(),
                secret: name.to_owned(),
            }),
            (true, None) => Err(VaultError::NotFound(name.to_owned())),
            (true, Some(secret)) => Ok(secret.clone()),
        }
    }

    /// The identity `caller`'s proof shows, if it is one the vault issued.
    fn verify(&self, caller: &Credential) -> Option<&'static str> {
        let presented: [u8; 32] = Sha256::digest(&caller.proof).into();
        self.proofs
            .iter()
            .find(|(identity, proof)| *proof == presented && *identity == caller.identity)
            .map(|(identity, _)| *identity)
    }

    /// Runs `operation` with the key-encryption key's versions for a caller proving the
    /// managed identity, the key's one user; records the use either way.
    fn with_kek<T>(
        &self,
        caller: &Credential,
        operation: &str,
        run: impl FnOnce(&mut Kek) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        let verified = self.verify(caller);
        let allowed = verified == Some(MANAGED_IDENTITY);
        let result = if allowed {
            run(&mut self.kek.lock().unwrap_or_else(|p| p.into_inner()))
        } else {
            Err(VaultError::Forbidden {
                identity: caller.identity.clone(),
                secret: STORE_KEK.to_owned(),
            })
        };
        self.accesses.update(|log| {
            log.push(VaultAccess {
                identity: verified.unwrap_or(UNVERIFIED).to_owned(),
                claimed: caller.identity.clone(),
                secret: format!("{STORE_KEK} ({operation})"),
                granted: result.is_ok(),
            })
        });
        result
    }

    /// `key` wrapped by the current version of the key-encryption key, bound to `context`.
    pub fn wrap(
        &self,
        caller: &Credential,
        context: &str,
        key: &[u8],
    ) -> Result<WrappedKey, VaultError> {
        self.with_kek(caller, "wrap", |kek| {
            let version = kek.current;
            let kek_bytes = kek
                .versions
                .get(&version)
                .ok_or_else(|| VaultError::NotFound(format!("{STORE_KEK} v{version}")))?;
            let bytes = super::store::seal(kek_bytes, &kek_aad(version, context), key)
                .map_err(|e| VaultError::Unwrap(e.to_string()))?;
            Ok(WrappedKey { version, bytes })
        })
    }

    /// The data key `wrapped` holds, if its version is still held and it was wrapped for
    /// `context`.
    pub fn unwrap(
        &self,
        caller: &Credential,
        context: &str,
        wrapped: &WrappedKey,
    ) -> Result<Vec<u8>, VaultError> {
        self.with_kek(caller, "unwrap", |kek| {
            let kek_bytes = kek
                .versions
                .get(&wrapped.version)
                .ok_or_else(|| VaultError::NotFound(format!("{STORE_KEK} v{}", wrapped.version)))?;
            super::store::open(
                kek_bytes,
                &kek_aad(wrapped.version, context),
                &wrapped.bytes,
            )
            .map_err(|e| VaultError::Unwrap(e.to_string()))
        })
    }

    /// Makes a new version of the key-encryption key the one that wraps, when the current one
    /// has served its period at `now`. Returns the new version.
    pub(crate) fn rotate_if_due(&self, now: u64) -> Option<u32> {
        let mut kek = self.kek.lock().unwrap_or_else(|p| p.into_inner());
        if now
            < kek
                .since
                .saturating_add(self.kek_policy.kek_rotation.as_secs())
        {
            return None;
        }
        let version = kek.current + 1;
        if !self.kek_policy.kek_keeps_old_versions {
            kek.versions.clear();
        }
        kek.versions.insert(version, super::store::fresh_key());
        kek.current = version;
        kek.since = now;
        Some(version)
    }

    /// Retires every version older than the current one that no data key needs any more.
    pub(crate) fn retire_kek_versions_below(&self, version: u32) {
        let mut kek = self.kek.lock().unwrap_or_else(|p| p.into_inner());
        let current = kek.current;
        kek.versions.retain(|v, _| *v >= version.min(current));
    }

    /// The key-encryption key's versions: no key material.
    pub fn kek_versions(&self) -> KekVersions {
        let kek = self.kek.lock().unwrap_or_else(|p| p.into_inner());
        KekVersions {
            current: kek.current,
            held: kek.versions.keys().copied().collect(),
            since: kek.since,
        }
    }

    /// The names of the secrets the vault holds: its inventory, which is no secret.
    pub fn names(&self) -> Vec<String> {
        self.secrets.keys().cloned().collect()
    }

    /// Every read so far, in order.
    pub fn accesses(&self) -> Vec<VaultAccess> {
        self.accesses.read(Vec::clone)
    }
}

fn random_bytes() -> Vec<u8> {
    let mut bytes = vec![0u8; 32];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_provisioned_credential_reads_and_every_read_is_recorded() {
        let (vault, workloads) =
            KeyVault::provision(&VaultPolicy::from_faults(&FaultSet::none()), 0);
        let managed = workloads.token_service;
        let key = vault.read(&managed, SIGNING_KEY).unwrap();
        assert_eq!(key.len(), 32);
        let claimed = Credential::claiming(managed.identity(), b"trust me".to_vec());
        assert!(matches!(
            vault.read(&claimed, SIGNING_KEY),
            Err(VaultError::Forbidden { .. })
        ));
        let stranger = Credential::claiming("dms-1", managed.proof().to_vec());
        assert!(matches!(
            vault.read(&stranger, SIGNING_KEY),
            Err(VaultError::Forbidden { .. })
        ));
        // The front end is a workload the vault knows, but not a reader of the key.
        assert!(vault.read(&workloads.front_end, SIGNING_KEY).is_err());
        // Another environment's vault does not know this one's credential.
        let (other, _) = KeyVault::provision(&VaultPolicy::from_faults(&FaultSet::none()), 0);
        assert!(other.read(&managed, SIGNING_KEY).is_err());
        assert!(matches!(
            vault.read(&managed, "nope"),
            Err(VaultError::NotFound(_))
        ));
        let record: Vec<_> = vault
            .accesses()
            .iter()
            .map(|a| (a.identity.clone(), a.granted))
            .collect();
        assert_eq!(
            record,
            [
                (MANAGED_IDENTITY.to_owned(), true),
                (UNVERIFIED.to_owned(), false),
                (UNVERIFIED.to_owned(), false),
                (FRONT_END_IDENTITY.to_owned(), false),
                (MANAGED_IDENTITY.to_owned(), false),
            ]
        );
        assert_eq!(vault.accesses()[2].claimed, "dms-1");
        assert_eq!(vault.names(), [SIGNING_KEY]);
        assert_eq!(
            format!("{vault:?}"),
            "KeyVault { secrets: [\"jwt-signing-key\"], .. }"
        );
        assert_eq!(
            format!("{managed:?}"),
            "Credential { identity: \"cloud-managed-identity\", .. }"
        );
    }

    #[test]
    fn the_front_end_fault_lets_the_front_end_read_the_key() {
        let faults = FaultSet::from(Fault::CloudFrontEndReadsSigningKey);
        let (vault, workloads) = KeyVault::provision(&VaultPolicy::from_faults(&faults), 0);
        assert!(vault.read(&workloads.front_end, SIGNING_KEY).is_ok());
        assert_eq!(vault.accesses()[0].identity, FRONT_END_IDENTITY);
    }
}
