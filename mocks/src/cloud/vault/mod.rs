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

mod kek;

use kek::KEK_ROTATION;
use kek::Kek;
pub use kek::{KekVersions, WrappedKey};

/// The name of the HS256 signing key of DMS tokens.
pub(crate) const SIGNING_KEY: &str = "jwt-signing-key";

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
            kek: Mutex::new(Kek::first(now)),
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
