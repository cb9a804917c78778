//! What the DMS keeps to authenticate towards dataminer.services: its key pair, made when an
//! Administrator first enables the connection and kept for the DMS's life (a disconnect
//! forgets the token, not the key: the key is who the DMS is to the cloud), and the token with
//! its refresh key while connected. The environment owns the store, so a scenario reads what
//! is stored rather than what the agent says is stored. A gateway that runs as its own process
//! keeps the store in a file as well (owner-only), as the DMS's disk would hold it.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

use crate::world::{Observed, random_token};

/// How long a client assertion the agent signs is valid: one exchange, with room for a slow
/// network.
const ASSERTION_LIFETIME_SECS: u64 = 60;

/// The DMS's token and refresh key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Credentials {
    pub access_token: String,
    pub refresh_key: String,
    pub obtained_at_unix: u64,
}

/// The DMS's ECDSA P-256 key pair. Its private half is never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct DmsKey {
    pkcs8: Vec<u8>,
    jwk: String,
}

impl fmt::Debug for DmsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DmsKey")
            .field("jwk", &self.jwk)
            .finish_non_exhaustive()
    }
}

/// The key pair could not be made, or an assertion signed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("DMS key: {0}")]
pub struct KeyError(String);

impl DmsKey {
    /// A fresh P-256 key pair from the OS CSPRNG (aws-lc).
    pub(crate) fn generate() -> Result<Self, KeyError> {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| KeyError(e.to_string()))?;
        let point = pair.public_key_raw();
        let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
            return Err(KeyError("not an uncompressed P-256 point".into()));
        };
        let jwk = serde_json::json!({
            "kty": "EC",
            "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(x),
            "y": URL_SAFE_NO_PAD.encode(y),
        });
        Ok(Self {
            pkcs8: pair.serialize_der(),
            jwk: jwk.to_string(),
        })
    }

    /// The key pair as a credential file holds it: the private key (PKCS#8 DER) and the JWK.
    fn from_parts(pkcs8: Vec<u8>, jwk: String) -> Result<Self, KeyError> {
        rcgen::KeyPair::try_from(pkcs8.as_slice()).map_err(|e| KeyError(e.to_string()))?;
        Ok(Self { pkcs8, jwk })
    }

    /// The public key as a JWK (RFC 7517), the way the cloud registers it.
    pub fn jwk(&self) -> &str {
        &self.jwk
    }

    /// The private key (PKCS#8 DER), as the DMS's disk holds it: for a leak search, or a
    /// thief's copy.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// A client assertion (RFC 7523 §3) for `client_id` towards the cloud `issuer`, at `now`.
    pub(crate) fn assertion(
        &self,
        client_id: &str,
        issuer: &str,
        now: u64,
    ) -> Result<String, KeyError> {
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": issuer,
            "jti": random_token(16),
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        jsonwebtoken::encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &EncodingKey::from_ec_der(&self.pkcs8),
        )
        .map_err(|e| KeyError(e.to_string()))
    }
}

#[derive(Debug, Clone, Default)]
struct Stored {
    credentials: Option<Credentials>,
    key: Option<DmsKey>,
    /// Shares deleted on the DMS whose end the cloud has not taken yet, oldest first.
    pending_withdrawals: Vec<String>,
}

/// What a credential file holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct OnDisk {
    /// The private key, PKCS#8 DER in base64url.
    key_pkcs8: Option<String>,
    key_jwk: Option<String>,
    credentials: Option<Credentials>,
    #[serde(default)]
    pending_withdrawals: Vec<String>,
}

/// The credential file could not be read or written.
#[derive(Debug, Clone, thiserror::Error)]
#[error("credential file {path}: {reason}")]
pub struct CredentialFileError {
    pub path: PathBuf,
    pub reason: String,
}

/// The DMS's credential store: its key pair and its current credentials.
#[derive(Debug, Clone, Default)]
pub struct CredentialStore {
    stored: Observed<Stored>,
    file: Option<Arc<CredentialFile>>,
}

#[derive(Debug)]
struct CredentialFile {
    path: PathBuf,
    /// The last write that failed: the gateway goes on with what it holds in memory, and the
    /// operator reads why the file is behind.
    failed: Mutex<Option<CredentialFileError>>,
}

impl CredentialStore {
    /// A store kept in the file at `path` as well, read from it when it exists.
    pub fn in_file(path: &Path) -> Result<Self, CredentialFileError> {
        let error = |reason: String| CredentialFileError {
            path: path.to_owned(),
            reason,
        };
        let store = Self {
            stored: Observed::default(),
            file: Some(Arc::new(CredentialFile {
                path: path.to_owned(),
                failed: Mutex::new(None),
            })),
        };
        match std::fs::read(path) {
            Ok(bytes) => {
                let disk: OnDisk =
                    serde_json::from_slice(&bytes).map_err(|e| error(e.to_string()))?;
                let key = match (disk.key_pkcs8, disk.key_jwk) {
                    (Some(pkcs8), Some(jwk)) => {
                        let pkcs8 = URL_SAFE_NO_PAD
                            .decode(pkcs8)
                            .map_err(|e| error(e.to_string()))?;
                        Some(DmsKey::from_parts(pkcs8, jwk).map_err(|e| error(e.to_string()))?)
                    }
                    _ => None,
                };
                store.stored.update(|s| {
                    s.key = key;
                    s.credentials = disk.credentials;
                    s.pending_withdrawals = disk.pending_withdrawals;
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(error(e.to_string())),
        }
        Ok(store)
    }

    pub fn stored(&self) -> Option<Credentials> {
        self.stored.read(|s| s.credentials.clone())
    }

    /// The DMS's key pair, once it made one.
    pub fn key(&self) -> Option<DmsKey> {
        self.stored.read(|s| s.key.clone())
    }

    /// Where the store is kept on disk, if it is.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref().map(|f| f.path.as_path())
    }

    /// Why the file is behind what the store holds, if its last write failed.
    pub fn file_error(&self) -> Option<CredentialFileError> {
        let file = self.file.as_deref()?;
        file.failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn save(&self, credentials: Credentials) {
        self.stored.update(|s| s.credentials = Some(credentials));
        self.write_file();
    }

    pub(crate) fn save_key(&self, key: DmsKey) {
        self.stored.update(|s| s.key = Some(key));
        self.write_file();
    }

    /// The share ends the gateway kept for the cloud, as the DMS's disk holds them.
    pub fn pending_withdrawals(&self) -> Vec<String> {
        self.stored.read(|s| s.pending_withdrawals.clone())
    }

    pub(crate) fn save_pending_withdrawals(&self, pending: &[String]) {
        self.stored
            .update(|s| s.pending_withdrawals = pending.to_vec());
        self.write_file();
    }

    /// Forgets the token and refresh key; the key pair stays.
    pub(crate) fn erase(&self) {
        self.stored.update(|s| s.credentials = None);
        self.write_file();
    }

    /// Writes the whole store to its file, owner-only, replacing it in one rename so a crash
    /// never leaves half a file.
    fn write_file(&self) {
        let Some(file) = self.file.as_deref() else {
            return;
        };
        let disk = self.stored.read(|s| OnDisk {
            key_pkcs8: s.key.as_ref().map(|k| URL_SAFE_NO_PAD.encode(&k.pkcs8)),
            key_jwk: s.key.as_ref().map(|k| k.jwk.clone()),
            credentials: s.credentials.clone(),
            pending_withdrawals: s.pending_withdrawals.clone(),
        });
        let written = write_private(&file.path, &disk).map_err(|e| CredentialFileError {
            path: file.path.clone(),
            reason: e.to_string(),
        });
        *file.failed.lock().unwrap_or_else(|e| e.into_inner()) = written.err();
    }
}

fn write_private(path: &Path, disk: &OnDisk) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let text = serde_json::to_vec(disk).map_err(std::io::Error::other)?;
    let mut staged = path.as_os_str().to_owned();
    staged.push(".new");
    let staged = PathBuf::from(staged);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&staged)?;
    out.write_all(&text)?;
    out.sync_all()?;
    std::fs::rename(&staged, path)
}
