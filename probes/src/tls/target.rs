//! `HOST:PORT`: what the user names, how it resolves, and what SNI it implies.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use super::ProbeError;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    host: Host,
    port: u16,
}

impl Target {
    pub(crate) fn parse(text: &str) -> Result<Target, ProbeError> {
        let bad = |reason| ProbeError::BadTarget {
            target: text.to_owned(),
            reason,
        };
        if text.contains("://") {
            return Err(bad("a URL, where HOST:PORT was expected"));
        }
        let (host, port) = text.rsplit_once(':').ok_or_else(|| bad("no port"))?;
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?;
        let host = if let Some(bracketed) = host.strip_prefix('[') {
            let inner = bracketed
                .strip_suffix(']')
                .ok_or_else(|| bad("no closing ']'"))?;
            let ip = inner
                .parse()
                .map_err(|_| bad("not an IPv6 address inside the brackets"))?;
            Host::Ip(IpAddr::V6(ip))
        } else if let Ok(ip) = host.parse::<Ipv4Addr>() {
            Host::Ip(IpAddr::V4(ip))
        } else if host.contains(':') {
            return Err(bad("an IPv6 address goes in brackets, as in [::1]:443"));
        } else if is_dns_name(host) {
            Host::Name(host.to_owned())
        } else {
            return Err(bad("the host is neither an IP address nor a DNS name"));
        };
        Ok(Target { host, port })
    }

    /// The SNI a browser would send: the name without its root dot, none for an IP literal
    /// (RFC 6066 §3 forbids literal addresses in SNI).
    pub(crate) fn server_name(&self) -> Option<String> {
        match &self.host {
            Host::Ip(_) => None,
            Host::Name(name) => Some(name.trim_end_matches('.').to_owned()),
        }
    }

    pub(crate) async fn resolve(&self, timeout: Duration) -> Result<Vec<SocketAddr>, ProbeError> {
        let name = match &self.host {
            Host::Ip(ip) => return Ok(vec![SocketAddr::new(*ip, self.port)]),
            Host::Name(name) => name,
        };
        let failed = |source| ProbeError::Resolve {
            host: name.clone(),
            source,
        };
        let lookup = tokio::net::lookup_host((name.as_str(), self.port));
        let addresses: Vec<_> = tokio::time::timeout(timeout, lookup)
            .await
            .map_err(|_| failed(timed_out(timeout)))?
            .map_err(failed)?
            .collect();
        if addresses.is_empty() {
            return Err(ProbeError::NoAddress { host: name.clone() });
        }
        Ok(addresses)
    }
}

pub(crate) fn timed_out(timeout: Duration) -> io::Error {
    io::Error::new(
        io::ErrorKind::TimedOut,
        format!("no answer within {timeout:?}"),
    )
}

fn is_dns_name(host: &str) -> bool {
    let name = host.strip_suffix('.').unwrap_or(host);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(text: &str) -> &'static str {
        match Target::parse(text) {
            Err(ProbeError::BadTarget { reason, .. }) => reason,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn names_and_addresses_of_every_kind_are_targets() {
        let named = Target::parse("probe.test.:443").unwrap();
        assert_eq!(named.server_name().as_deref(), Some("probe.test"));
        let v4 = Target::parse("127.0.0.1:8443").unwrap();
        assert_eq!(v4.host, Host::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert_eq!(v4.server_name(), None);
        let v6 = Target::parse("[::1]:443").unwrap();
        assert_eq!(v6.port, 443);
        assert_eq!(v6.server_name(), None);
    }

    #[test]
    fn malformed_targets_say_what_is_wrong() {
        assert_eq!(reason("probe.test"), "no port");
        assert!(reason("probe.test:0").contains("port"));
        assert!(reason("probe.test:https").contains("port"));
        assert!(reason("::1:443").contains("brackets"));
        assert!(reason("[::1:443").contains("']'"));
        assert!(reason("[probe]:443").contains("IPv6"));
        assert!(reason(":443").contains("neither"));
        assert!(reason("https://probe.test:443").contains("URL"));
        assert!(reason("probe test:443").contains("neither"));
    }
}
