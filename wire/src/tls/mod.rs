//! The TLS wire format, as far as a scanner and a deliberately broken mock need it: the
//! plaintext start of a handshake (ClientHello, ServerHello, Certificate, ServerHelloDone) and
//! alerts. Nothing here encrypts or verifies anything.

pub mod alert;
mod client_hello;
mod codec;
mod error;
mod extensions;
mod flight;
mod noise;
mod parse_client_hello;
mod records;
mod server_hello;
mod suites;
mod version;

pub use alert::{alert_name, alert_record};
pub use client_hello::{ClientHelloSpec, client_hello};
pub use error::WireError;
pub use flight::{Event, ServerFlight};
pub use parse_client_hello::{ClientHello, parse_client_hello};
pub use server_hello::{ServerHello, server_hello_record};
pub use suites::{CipherSuite, TLS12_SUITES, TLS13_SUITES, suite, suite_name};
pub use version::{Version, version_name};
