//! The cipher-suite catalogue a scanner tries, with IANA names and codes.

use super::Version;

/// One cipher suite and the two properties a security policy asks about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CipherSuite {
    pub code: u16,
    pub name: &'static str,
    /// The key exchange is ephemeral (ECDHE, DHE, or any TLS 1.3 suite).
    pub forward_secret: bool,
    /// The cipher authenticates its own ciphertext (GCM, CCM, ChaCha20-Poly1305).
    pub aead: bool,
}

impl CipherSuite {
    /// Whether a client may offer this suite in a hello for `version`: TLS 1.3 suites only
    /// there, AEAD and SHA-2 MAC suites from TLS 1.2 on (RFC 5246 introduced them).
    pub fn usable_with(&self, version: Version) -> bool {
        let tls13_suite = TLS13_SUITES.iter().any(|s| s.code == self.code);
        match version {
            Version::Tls13 => tls13_suite,
            Version::Tls12 => !tls13_suite,
            Version::Ssl30 | Version::Tls10 | Version::Tls11 => {
                !tls13_suite
                    && !self.aead
                    && !self.name.ends_with("_SHA256")
                    && !self.name.ends_with("_SHA384")
            }
        }
    }
}

const fn entry(code: u16, name: &'static str, forward_secret: bool, aead: bool) -> CipherSuite {
    CipherSuite {
        code,
        name,
        forward_secret,
        aead,
    }
}

const FS: bool = true;
const NO_FS: bool = false;
const AEAD: bool = true;
const NO_AEAD: bool = false;

/// Strong suites first, then the legacy and broken ones a scanner exists to catch.
pub const TLS12_SUITES: &[CipherSuite] = &[
    entry(0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", FS, AEAD),
    entry(0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", FS, AEAD),
    entry(
        0xcca9,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        FS,
        AEAD,
    ),
    entry(0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", FS, AEAD),
    entry(0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", FS, AEAD),
    entry(
        0xcca8,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        FS,
        AEAD,
    ),
    entry(0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", FS, AEAD),
    entry(0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", FS, AEAD),
    entry(
        0xccaa,
        "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        FS,
        AEAD,
    ),
    entry(
        0xc023,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        FS,
        NO_AEAD,
    ),
    entry(
        0xc024,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        FS,
        NO_AEAD,
    ),
    entry(0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", FS, NO_AEAD),
    entry(0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", FS, NO_AEAD),
    entry(0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", FS, NO_AEAD),
    entry(0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", FS, NO_AEAD),
    entry(0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", FS, NO_AEAD),
    entry(0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", FS, NO_AEAD),
    entry(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", FS, NO_AEAD),
    entry(0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", FS, NO_AEAD),
    entry(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", FS, NO_AEAD),
    entry(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", FS, NO_AEAD),
    entry(0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256", NO_FS, AEAD),
    entry(0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384", NO_FS, AEAD),
    entry(0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256", NO_FS, NO_AEAD),
    entry(0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256", NO_FS, NO_AEAD),
    entry(0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA", NO_FS, NO_AEAD),
    entry(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", NO_FS, NO_AEAD),
    entry(0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA", FS, NO_AEAD),
    entry(0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", FS, NO_AEAD),
    entry(0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA", FS, NO_AEAD),
    entry(0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", NO_FS, NO_AEAD),
    entry(0x0009, "TLS_RSA_WITH_DES_CBC_SHA", NO_FS, NO_AEAD),
    entry(0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", FS, NO_AEAD),
    entry(0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", FS, NO_AEAD),
    entry(0x0005, "TLS_RSA_WITH_RC4_128_SHA", NO_FS, NO_AEAD),
    entry(0x0004, "TLS_RSA_WITH_RC4_128_MD5", NO_FS, NO_AEAD),
    entry(0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA", FS, NO_AEAD),
    entry(0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA", FS, NO_AEAD),
    entry(0x003b, "TLS_RSA_WITH_NULL_SHA256", NO_FS, NO_AEAD),
    entry(0x0002, "TLS_RSA_WITH_NULL_SHA", NO_FS, NO_AEAD),
    entry(0x0001, "TLS_RSA_WITH_NULL_MD5", NO_FS, NO_AEAD),
    entry(0x0003, "TLS_RSA_EXPORT_WITH_RC4_40_MD5", NO_FS, NO_AEAD),
    entry(0x0008, "TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", NO_FS, NO_AEAD),
    entry(0x0014, "TLS_DHE_RSA_EXPORT_WITH_DES40_CBC_SHA", FS, NO_AEAD),
];

pub const TLS13_SUITES: &[CipherSuite] = &[
    entry(0x1301, "TLS_AES_128_GCM_SHA256", FS, AEAD),
    entry(0x1302, "TLS_AES_256_GCM_SHA384", FS, AEAD),
    entry(0x1303, "TLS_CHACHA20_POLY1305_SHA256", FS, AEAD),
    entry(0x1304, "TLS_AES_128_CCM_SHA256", FS, AEAD),
    entry(0x1305, "TLS_AES_128_CCM_8_SHA256", FS, AEAD),
];

pub fn suite(code: u16) -> Option<&'static CipherSuite> {
    TLS12_SUITES
        .iter()
        .chain(TLS13_SUITES)
        .find(|s| s.code == code)
}

/// The IANA name, or the code as `0x....` for a suite outside the catalogue.
pub fn suite_name(code: u16) -> String {
    suite(code).map_or_else(|| format!("0x{code:04x}"), |s| s.name.to_owned())
}
