//! The cloud's Key Vault: named secrets that only the cloud's managed identity may read. The
//! token service fetches the JWT signing key from here on every use and keeps no copy; every
//! read, granted or not, is on record.

use std::collections::HashMap;
use std::fmt;

use crate::world::Observed;

/// The name of the HS256 signing key of DMS tokens.
pub const SIGNING_KEY: &str = "jwt-signing-key";

/// Who asks the vault for a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The cloud service's own managed identity: the only reader the vault's policy allows.
    CloudManagedIdentity,
    /// Anyone else, named as they introduced themselves.
    Other(String),
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::CloudManagedIdentity => f.write_str("cloud-managed-identity"),
            Identity::Other(name) => write!(f, "other:{name}"),
        }
    }
}

/// One read of the vault, as its audit log keeps it (never the secret's value).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VaultAccess {
    pub identity: String,
    pub secret: String,
    pub granted: bool,
}

/// Why the vault did not hand out a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VaultError {
    /// The identity is not allowed to read secrets: only the cloud's managed identity is.
    #[error("{identity} may not read secret {secret:?}")]
    Forbidden { identity: String, secret: String },
    /// No secret of that name exists.
    #[error("no secret named {0:?}")]
    NotFound(String),
}

/// Named secrets, made from the CSPRNG when the cloud starts.
pub struct KeyVault {
    secrets: HashMap<String, Vec<u8>>,
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

impl Default for KeyVault {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyVault {
    /// A vault holding a fresh 256-bit signing key.
    pub fn new() -> Self {
        let mut key = vec![0u8; 32];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut key);
        Self {
            secrets: HashMap::from([(SIGNING_KEY.to_owned(), key)]),
            accesses: Observed::default(),
        }
    }

    /// The secret `name`, for the cloud's managed identity only. Every call is recorded.
    pub fn read(&self, who: &Identity, name: &str) -> Result<Vec<u8>, VaultError> {
        let granted = *who == Identity::CloudManagedIdentity;
        let found = self.secrets.get(name);
        self.accesses.update(|log| {
            log.push(VaultAccess {
                identity: who.to_string(),
                secret: name.to_owned(),
                granted: granted && found.is_some(),
            })
        });
        match (granted, found) {
            (false, _) => Err(VaultError::Forbidden {
                identity: who.to_string(),
                secret: name.to_owned(),
            }),
            (true, None) => Err(VaultError::NotFound(name.to_owned())),
            (true, Some(secret)) => Ok(secret.clone()),
        }
    }

    /// Every read so far, in order.
    pub fn accesses(&self) -> Vec<VaultAccess> {
        self.accesses.read(Vec::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_cloud_managed_identity_reads_the_signing_key_and_every_read_is_recorded() {
        let vault = KeyVault::new();
        let key = vault
            .read(&Identity::CloudManagedIdentity, SIGNING_KEY)
            .unwrap();
        assert_eq!(key.len(), 32);
        let refused = vault.read(&Identity::Other("dms-1".into()), SIGNING_KEY);
        assert!(matches!(refused, Err(VaultError::Forbidden { .. })));
        assert!(matches!(
            vault.read(&Identity::CloudManagedIdentity, "nope"),
            Err(VaultError::NotFound(_))
        ));
        let granted: Vec<_> = vault.accesses().iter().map(|a| a.granted).collect();
        assert_eq!(granted, [true, false, false]);
        assert_eq!(vault.accesses()[1].identity, "other:dms-1");
        assert_eq!(
            format!("{vault:?}"),
            "KeyVault { secrets: [\"jwt-signing-key\"], .. }"
        );
    }
}
