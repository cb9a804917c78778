use std::fmt;

/// A protocol version a scanner offers, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Ord, PartialOrd, serde::Serialize)]
pub enum Version {
    Ssl30,
    Tls10,
    Tls11,
    Tls12,
    Tls13,
}

impl Version {
    pub const ALL: [Version; 5] = [
        Version::Ssl30,
        Version::Tls10,
        Version::Tls11,
        Version::Tls12,
        Version::Tls13,
    ];

    /// The two bytes that name this version on the wire.
    pub const fn code(self) -> u16 {
        match self {
            Version::Ssl30 => 0x0300,
            Version::Tls10 => 0x0301,
            Version::Tls11 => 0x0302,
            Version::Tls12 => 0x0303,
            Version::Tls13 => 0x0304,
        }
    }

    pub fn from_code(code: u16) -> Option<Version> {
        Version::ALL.into_iter().find(|v| v.code() == code)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Version::Ssl30 => "SSL 3.0",
            Version::Tls10 => "TLS 1.0",
            Version::Tls11 => "TLS 1.1",
            Version::Tls12 => "TLS 1.2",
            Version::Tls13 => "TLS 1.3",
        }
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The name of a version code, or the code itself when a peer sent something unknown (a
/// draft version, GREASE), because evidence must show what was actually said.
pub fn version_name(code: u16) -> String {
    Version::from_code(code).map_or_else(|| format!("0x{code:04x}"), |v| v.name().to_owned())
}
