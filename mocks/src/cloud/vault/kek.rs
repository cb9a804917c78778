//! The store's key-encryption key: versions that wrap and unwrap data keys inside the vault,
//! for the managed identity only, rotated on a schedule. An older version is kept (for
//! unwrapping only) until the store's re-wrap job has moved every data key off it.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::{Credential, KeyVault, MANAGED_IDENTITY, UNVERIFIED, VaultAccess, VaultError};

/// The name of the store's key-encryption key, as the access record names it.
pub(crate) const STORE_KEK: &str = "store-kek";

/// How often the key-encryption key rotates.
pub(super) const KEK_ROTATION: Duration = Duration::from_secs(30 * 24 * 3600);

/// The versions of the key-encryption key the vault holds.
#[derive(Debug)]
pub(super) struct Kek {
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

impl Kek {
    pub(super) fn first(now: u64) -> Self {
        Self {
            versions: BTreeMap::from([(1, crate::cloud::cipher::fresh_key())]),
            current: 1,
            since: now,
        }
    }
}

impl KeyVault {
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
            let bytes = crate::cloud::cipher::seal(kek_bytes, &kek_aad(version, context), key)
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
            crate::cloud::cipher::open(
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
        kek.versions
            .insert(version, crate::cloud::cipher::fresh_key());
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
}

/// What a wrapped data key is bound to: the key version and the store's name for the key.
fn kek_aad(version: u32, context: &str) -> Vec<u8> {
    format!("{STORE_KEK}/v{version}/{context}").into_bytes()
}
