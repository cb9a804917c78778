//! Alerts: how a TLS peer says no, which is most of what a scanner hears.

use super::records::{ALERT, record};

pub const WARNING: u8 = 1;
pub const FATAL: u8 = 2;

pub const CLOSE_NOTIFY: u8 = 0;
pub const UNEXPECTED_MESSAGE: u8 = 10;
pub const BAD_RECORD_MAC: u8 = 20;
pub const RECORD_OVERFLOW: u8 = 22;
pub const HANDSHAKE_FAILURE: u8 = 40;
pub const BAD_CERTIFICATE: u8 = 42;
pub const UNSUPPORTED_CERTIFICATE: u8 = 43;
pub const CERTIFICATE_REVOKED: u8 = 44;
pub const CERTIFICATE_EXPIRED: u8 = 45;
pub const CERTIFICATE_UNKNOWN: u8 = 46;
pub const ILLEGAL_PARAMETER: u8 = 47;
pub const UNKNOWN_CA: u8 = 48;
pub const ACCESS_DENIED: u8 = 49;
pub const DECODE_ERROR: u8 = 50;
pub const DECRYPT_ERROR: u8 = 51;
pub const PROTOCOL_VERSION: u8 = 70;
pub const INSUFFICIENT_SECURITY: u8 = 71;
pub const INTERNAL_ERROR: u8 = 80;
pub const INAPPROPRIATE_FALLBACK: u8 = 86;
pub const USER_CANCELED: u8 = 90;
pub const NO_RENEGOTIATION: u8 = 100;
pub const MISSING_EXTENSION: u8 = 109;
pub const UNSUPPORTED_EXTENSION: u8 = 110;
pub const UNRECOGNIZED_NAME: u8 = 112;
pub const NO_APPLICATION_PROTOCOL: u8 = 120;

/// A plaintext alert record, as sent before any keys exist.
pub fn alert_record(version_code: u16, level: u8, description: u8) -> Vec<u8> {
    record(ALERT, version_code, &[level, description])
}

/// The RFC name of an alert description, `"unknown"` for anything unassigned.
pub fn alert_name(description: u8) -> &'static str {
    match description {
        CLOSE_NOTIFY => "close_notify",
        UNEXPECTED_MESSAGE => "unexpected_message",
        BAD_RECORD_MAC => "bad_record_mac",
        RECORD_OVERFLOW => "record_overflow",
        HANDSHAKE_FAILURE => "handshake_failure",
        BAD_CERTIFICATE => "bad_certificate",
        UNSUPPORTED_CERTIFICATE => "unsupported_certificate",
        CERTIFICATE_REVOKED => "certificate_revoked",
        CERTIFICATE_EXPIRED => "certificate_expired",
        CERTIFICATE_UNKNOWN => "certificate_unknown",
        ILLEGAL_PARAMETER => "illegal_parameter",
        UNKNOWN_CA => "unknown_ca",
        ACCESS_DENIED => "access_denied",
        DECODE_ERROR => "decode_error",
        DECRYPT_ERROR => "decrypt_error",
        PROTOCOL_VERSION => "protocol_version",
        INSUFFICIENT_SECURITY => "insufficient_security",
        INTERNAL_ERROR => "internal_error",
        INAPPROPRIATE_FALLBACK => "inappropriate_fallback",
        USER_CANCELED => "user_canceled",
        NO_RENEGOTIATION => "no_renegotiation",
        MISSING_EXTENSION => "missing_extension",
        UNSUPPORTED_EXTENSION => "unsupported_extension",
        UNRECOGNIZED_NAME => "unrecognized_name",
        NO_APPLICATION_PROTOCOL => "no_application_protocol",
        _ => "unknown",
    }
}

/// `"warning"`, `"fatal"`, or `"unknown"` for a level no RFC defines.
pub fn level_name(level: u8) -> &'static str {
    match level {
        WARNING => "warning",
        FATAL => "fatal",
        _ => "unknown",
    }
}
