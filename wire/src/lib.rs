//! Protocol bytes written and read by hand, so that no protocol library decides what a probe
//! may send or what it sees: a scanner has to offer SSL 3.0 and EXPORT suites, and a broken
//! mock has to accept them.

pub mod tls;
