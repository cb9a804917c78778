//! Share-user passwords: 17 characters drawn uniformly from [`PASSWORD_ALPHABET`] by the
//! thread-local CSPRNG (ChaCha12, seeded and reseeded from the operating system), and sealed with
//! Blowfish in ECB mode before they are stored.
//!
//! The key. The specification says "Blowfish (308-bit key)". Blowfish keys run from 32 to 448
//! bits in whole bytes, and 308 bits is 38.5 bytes, so no Blowfish key is 308 bits long. We read
//! it as a typo and use a 39-byte (312-bit) key, the smallest whole-byte key that is at least
//! 308 bits: an erratum to report. ECB over 8-byte blocks is the spec's mode and a weak one
//! (equal blocks give equal ciphertext); the password is padded PKCS#5-style to 24 bytes.
//!
//! The key is made at start-up and kept in [`ShareKey`], apart from the user table: the table
//! holds only ciphertext.

use blowfish::Blowfish;
use blowfish::cipher::{Block, BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use rand::{Rng, RngExt};

use crate::world::{Clock, Fault, FaultSet};

/// Characters a share-user password is drawn from: 72 of them, so a 17-character password
/// carries 17 · log2(72) ≈ 104.9 bits.
pub(crate) const PASSWORD_ALPHABET: &str =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%*+-=?@^_";

/// Characters in a share-user password.
pub(crate) const PASSWORD_LENGTH: usize = 17;

/// Bytes in the Blowfish key: 39 bytes = 312 bits, our reading of the spec's "308-bit key".
pub(crate) const SHARE_KEY_BYTES: usize = 39;

/// How share-user passwords are made and kept, settled once when the DMA starts.
#[derive(Debug, Clone)]
pub(crate) struct PasswordPolicy {
    /// Characters per password: 12 under `dma.password-short`, a length set too low.
    pub length: usize,
    pub source: Source,
    pub storage: Storage,
}

/// Where a password's randomness comes from.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The thread-local CSPRNG.
    Csprng,
    /// A linear congruential generator seeded with the clock's second for every password
    /// (`dma.password-weak-rng`): every password made in the same second is the same.
    ClockSeeded(Clock),
}

/// How a password is kept in the user table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Storage {
    /// Blowfish-ECB under the share key.
    Sealed,
    /// As typed (`dma.password-plaintext`): the sealing step left out.
    Plaintext,
}

impl PasswordPolicy {
    pub fn from_faults(faults: &FaultSet, clock: &Clock) -> Self {
        Self {
            length: if faults.is_on(Fault::DmaPasswordShort) {
                12
            } else {
                PASSWORD_LENGTH
            },
            source: if faults.is_on(Fault::DmaPasswordWeakRng) {
                Source::ClockSeeded(clock.clone())
            } else {
                Source::Csprng
            },
            storage: if faults.is_on(Fault::DmaPasswordPlaintext) {
                Storage::Plaintext
            } else {
                Storage::Sealed
            },
        }
    }

    /// One new password.
    pub fn generate(&self) -> String {
        let alphabet = PASSWORD_ALPHABET.as_bytes();
        let n = alphabet.len();
        match &self.source {
            Source::Csprng => {
                let mut rng = rand::rng();
                // Rejection sampling keeps the draw uniform: 216 = 3 · 72.
                let limit = 256 - 256 % n;
                let mut out = String::with_capacity(self.length);
                while out.len() < self.length {
                    let byte = usize::from(rng.random::<u8>());
                    if byte < limit {
                        out.push(char::from(alphabet[byte % n]));
                    }
                }
                out
            }
            Source::ClockSeeded(clock) => {
                let mut state = clock.unix_seconds();
                (0..self.length)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
                        let index = usize::try_from(state >> 33).unwrap_or_default() % n;
                        char::from(alphabet[index])
                    })
                    .collect()
            }
        }
    }

    /// The password as the user table stores it.
    pub fn store(&self, key: &ShareKey, password: &str) -> Vec<u8> {
        match self.storage {
            Storage::Sealed => key.seal(password),
            Storage::Plaintext => password.as_bytes().to_vec(),
        }
    }

    /// The password a stored record holds.
    pub fn recover(&self, key: &ShareKey, stored: &[u8]) -> Option<String> {
        match self.storage {
            Storage::Sealed => key.open(stored),
            Storage::Plaintext => String::from_utf8(stored.to_vec()).ok(),
        }
    }
}

/// The key share passwords are sealed with, held apart from the user table.
#[derive(Clone)]
pub struct ShareKey {
    bytes: Vec<u8>,
}

impl std::fmt::Debug for ShareKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ShareKey({} bytes, redacted)", self.bytes.len())
    }
}

impl ShareKey {
    pub(crate) fn generate() -> Self {
        let mut bytes = vec![0u8; SHARE_KEY_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self { bytes }
    }

    /// The raw key: for a reviewer's independent check of the ciphertext.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn cipher(&self) -> Option<Blowfish> {
        Blowfish::new_from_slice(&self.bytes).ok()
    }

    /// Blowfish-ECB over the password padded PKCS#5-style to whole 8-byte blocks.
    pub fn seal(&self, password: &str) -> Vec<u8> {
        let Some(cipher) = self.cipher() else {
            return Vec::new();
        };
        let mut data = password.as_bytes().to_vec();
        let pad = 8 - data.len() % 8;
        data.extend(std::iter::repeat_n(u8::try_from(pad).unwrap_or(8), pad));
        for chunk in data.chunks_exact_mut(8) {
            let mut block = Block::<Blowfish>::default();
            block.copy_from_slice(chunk);
            cipher.encrypt_block(&mut block);
            chunk.copy_from_slice(&block);
        }
        data
    }

    /// The password `sealed` holds, if it is well-formed ciphertext under this key.
    pub fn open(&self, sealed: &[u8]) -> Option<String> {
        let cipher = self.cipher()?;
        if sealed.is_empty() || !sealed.len().is_multiple_of(8) {
            return None;
        }
        let mut data = sealed.to_vec();
        for chunk in data.chunks_exact_mut(8) {
            let mut block = Block::<Blowfish>::default();
            block.copy_from_slice(chunk);
            cipher.decrypt_block(&mut block);
            chunk.copy_from_slice(&block);
        }
        let pad = usize::from(*data.last()?);
        if !(1..=8).contains(&pad) || pad > data.len() {
            return None;
        }
        data.truncate(data.len() - pad);
        String::from_utf8(data).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_passwords_open_to_themselves_and_hide_them() {
        let clock = Clock::from_wall_clock();
        let policy = PasswordPolicy::from_faults(&FaultSet::none(), &clock);
        let key = ShareKey::generate();
        let password = policy.generate();
        assert_eq!(password.len(), PASSWORD_LENGTH);
        let sealed = policy.store(&key, &password);
        assert_eq!(sealed.len(), 24);
        assert!(
            !sealed
                .windows(4)
                .any(|w| password.as_bytes().windows(4).any(|p| p == w))
        );
        assert_eq!(key.open(&sealed).as_deref(), Some(password.as_str()));
        assert_eq!(key.bytes().len() * 8, 312);
    }

    #[test]
    fn a_clock_seeded_generator_repeats_itself_within_a_second() {
        let clock = Clock::from_wall_clock();
        let faults: FaultSet = [Fault::DmaPasswordWeakRng].into_iter().collect();
        let policy = PasswordPolicy::from_faults(&faults, &clock);
        assert_eq!(policy.generate(), policy.generate());
    }
}
