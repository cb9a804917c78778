//! The cloud's Key Vault: named secrets that only the cloud's managed identity may read. The
//! token service fetches the JWT signing key from here on every use and keeps no copy; every
//! read, granted or not, is on record.
//!
//! A caller does not get in by naming the managed identity: it must present the credential the
//! vault issued to that identity when both were provisioned, made fresh for each environment
//! and handed only to the cloud's own components (as a platform hands a managed identity's
//! token only to the workload it is assigned to).

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::world::Observed;

/// The name of the HS256 signing key of DMS tokens.
pub(crate) const SIGNING_KEY: &str = "jwt-signing-key";

/// The identity the vault's policy lets read secrets.
const MANAGED_IDENTITY: &str = "cloud-managed-identity";

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
    /// The identity the caller claimed.
    pub identity: String,
    pub secret: String,
    pub granted: bool,
}

/// Why the vault did not hand out a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The caller did not prove it is the cloud's managed identity, whatever it claimed.
    #[error("{identity} may not read secret {secret:?}")]
    Forbidden { identity: String, secret: String },
    /// No secret of that name exists.
    #[error("no secret named {0:?}")]
    NotFound(String),
}

/// Named secrets, made from the CSPRNG when the cloud starts.
pub struct KeyVault {
    secrets: BTreeMap<String, Vec<u8>>,
    /// The digest of the managed identity's proof: the vault keeps no copy of the proof.
    managed_proof: [u8; 32],
    accesses: Observed<Vec<VaultAccess>>,
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
    /// A vault holding a fresh 256-bit signing key, and the credential of the one identity
    /// that may read it, for the cloud's components to hold.
    pub(crate) fn provision() -> (Self, Credential) {
        let proof = random_bytes();
        let vault = Self {
            secrets: BTreeMap::from([(SIGNING_KEY.to_owned(), random_bytes())]),
            managed_proof: Sha256::digest(&proof).into(),
            accesses: Observed::default(),
        };
        (vault, Credential::claiming(MANAGED_IDENTITY, proof))
    }

    /// The secret `name`, for the cloud's managed identity only. Every call is recorded.
    pub fn read(&self, caller: &Credential, name: &str) -> Result<Vec<u8>, VaultError> {
        let proven = caller.identity == MANAGED_IDENTITY
            && <[u8; 32]>::from(Sha256::digest(&caller.proof)) == self.managed_proof;
        let found = self.secrets.get(name);
        self.accesses.update(|log| {
            log.push(VaultAccess {
                identity: caller.identity.clone(),
                secret: name.to_owned(),
                granted: proven && found.is_some(),
            })
        });
        match (proven, found) {
            (false, _) => Err(VaultError::Forbidden {
                identity: caller.identity.clone(),
                secret: name.to_owned(),
            }),
            (true, None) => Err(VaultError::NotFound(name.to_owned())),
            (true, Some(secret)) => Ok(secret.clone()),
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
        let (vault, managed) = KeyVault::provision();
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
        // Another environment's vault does not know this one's credential.
        let (other, _) = KeyVault::provision();
        assert!(other.read(&managed, SIGNING_KEY).is_err());
        assert!(matches!(
            vault.read(&managed, "nope"),
            Err(VaultError::NotFound(_))
        ));
        let granted: Vec<_> = vault.accesses().iter().map(|a| a.granted).collect();
        assert_eq!(granted, [true, false, false, false]);
        assert_eq!(vault.accesses()[2].identity, "dms-1");
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
}
