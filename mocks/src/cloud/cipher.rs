//! AES-256-GCM as the store and the vault use it: a fresh 96-bit nonce from the CSPRNG for
//! every sealing, written before the ciphertext and its tag. One place, so a cell and a
//! wrapped data key are sealed the same way and a reader of the format needs one rule.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{Aead, KeyInit, Nonce, Payload};

/// Bytes of the nonce that starts every sealed value.
pub(crate) const NONCE_LEN: usize = 12;

/// Why a sealed value did not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The key is not 256 bits.
    #[error("not an AES-256 key")]
    BadKey,
    /// Too short to hold a nonce and a tag, or the tag does not verify: another key, other
    /// associated data, or bytes changed.
    #[error("the ciphertext does not open under this key and associated data")]
    Refused,
}

/// `plaintext` sealed under `key`, bound to `aad`: nonce, then ciphertext and tag.
pub(crate) fn seal(key: &[u8], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CipherError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CipherError::BadKey)?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::fill(&mut nonce);
    let sealed = cipher
        .encrypt(
            &Nonce::<Aes256Gcm>::from(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .map_err(|_| CipherError::Refused)?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&sealed);
    Ok(out)
}

/// The plaintext of `sealed` if it opens under `key` with exactly `aad`.
pub(crate) fn open(key: &[u8], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, CipherError> {
    let cipher = Aes256Gcm::new_from_slice(key).map_err(|_| CipherError::BadKey)?;
    let (nonce, body) = sealed
        .split_at_checked(NONCE_LEN)
        .ok_or(CipherError::Refused)?;
    let nonce = Nonce::<Aes256Gcm>::try_from(nonce).map_err(|_| CipherError::Refused)?;
    cipher
        .decrypt(&nonce, Payload { msg: body, aad })
        .map_err(|_| CipherError::Refused)
}

/// 256 bits from the CSPRNG: a data key, an index key, a key-encryption key.
pub(crate) fn fresh_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    rand::fill(&mut key);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_under_its_key_and_associated_data() {
        let key = fresh_key();
        let sealed = seal(&key, b"accounts/1/email", b"someone@example.com").unwrap();
        assert_eq!(
            open(&key, b"accounts/1/email", &sealed).unwrap(),
            b"someone@example.com"
        );
        assert_eq!(
            open(&key, b"accounts/2/email", &sealed),
            Err(CipherError::Refused)
        );
        assert_eq!(
            open(&fresh_key(), b"accounts/1/email", &sealed),
            Err(CipherError::Refused)
        );
        assert_eq!(open(&key, b"", &sealed[..4]), Err(CipherError::Refused));
        assert_eq!(seal(&key[..16], b"", b"x"), Err(CipherError::BadKey));
        // A fresh nonce each time: the same value never seals to the same bytes.
        assert_ne!(
            sealed,
            seal(&key, b"accounts/1/email", b"someone@example.com").unwrap()
        );
    }
}
