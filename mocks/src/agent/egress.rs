//! Where the agent may connect (NET-3) and by which way (NET-4): only to names under
//! `dataminer.services`, only once they resolve to the published addresses, and through the
//! DMZ proxy when one is configured. Every refusal happens before a byte leaves for the
//! refused destination, a lookup included.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use tokio::net::TcpStream;

use super::proxy::{Proxy, ProxyError, ProxyOptions};
use crate::world::net::{Metered, NetError, Network};
use crate::world::{Fault, FaultSet};

/// The domain the Cloud Gateway talks to, and nothing else.
const DOMAIN: &str = "dataminer.services";
/// The addresses dataminer.services publishes for its names (primary, then backup): what the
/// gateway's configuration allows them to resolve to.
const PUBLISHED: [Ipv4Addr; 4] = [
    Ipv4Addr::new(52, 149, 106, 174),
    Ipv4Addr::new(20, 50, 217, 191),
    Ipv4Addr::new(20, 31, 240, 20),
    Ipv4Addr::new(20, 103, 147, 5),
];

/// A destination the agent refused, or could not reach.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// The host is not `dataminer.services` or a name under it.
    #[error(
        "refusing {host}: the Cloud Gateway connects only to *.{DOMAIN}; nothing was sent to it"
    )]
    ForeignName { host: String },
    /// The host is an IP address, not a name of dataminer.services.
    #[error(
        "refusing {host}: an IP address is not a {DOMAIN} name; the Cloud Gateway connects to names only, and nothing was sent to it"
    )]
    IpLiteral { host: String },
    /// The name resolved to an address dataminer.services does not publish.
    #[error(
        "refusing {name}: it resolves to {address}, which is not a published {DOMAIN} address; nothing was sent to it"
    )]
    UnpublishedAddress { name: String, address: IpAddr },
    /// The cloud answered with a redirect; the gateway follows none.
    #[error(
        "refusing the redirect from {from} to {to}: the Cloud Gateway follows no redirect, and nothing was sent there"
    )]
    Redirect { from: String, to: String },
    /// The DMZ proxy did not open the tunnel.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The destination was allowed but could not be reached.
    #[error(transparent)]
    Network(#[from] NetError),
}

/// How names are matched against the domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameRule {
    /// `dataminer.services` itself, or a name ending in `.dataminer.services`.
    UnderDomain,
    /// Any name that contains the domain's text (`agent.lookalike-names`).
    ContainsDomain,
    /// Any host at all (`agent.any-destination`).
    Anything,
}

/// The agent's egress settings, chosen once from the fault set.
#[derive(Debug, Clone)]
pub(crate) struct EgressPolicy {
    names: NameRule,
    /// Resolved addresses must be published ones.
    published_only: bool,
    /// A redirect is followed, to wherever it points, without these rules.
    pub follow_redirects: bool,
    /// Where the configured proxy refuses or fails a CONNECT, the agent connects directly.
    direct_when_proxy_fails: bool,
    /// Inside a proxy's tunnel the agent still speaks TLS.
    pub tls_inside_proxy: bool,
    /// Through a proxy, the agent's HTTPS client accepts any server certificate.
    pub proxied_tls_trusts_the_proxy: bool,
    /// A redirect to http:// on the host the request went to is followed, in the clear.
    pub downgrade_on_same_host: bool,
}

impl EgressPolicy {
    pub(crate) fn from_faults(faults: &FaultSet) -> Self {
        let on = |fault| faults.is_on(fault);
        Self {
            names: if on(Fault::AgentAnyDestination) {
                NameRule::Anything
            } else if on(Fault::AgentLookalikeNames) {
                NameRule::ContainsDomain
            } else {
                NameRule::UnderDomain
            },
            published_only: !on(Fault::AgentAnyDestination),
            follow_redirects: on(Fault::AgentFollowRedirects),
            direct_when_proxy_fails: on(Fault::AgentProxyBypass),
            tls_inside_proxy: !on(Fault::AgentPlaintextThroughProxy),
            proxied_tls_trusts_the_proxy: on(Fault::AgentProxiedTlsTrustsTheProxy),
            downgrade_on_same_host: on(Fault::AgentFollowsDowngradeOnItsHost),
        }
    }
}

/// Which way a connection went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Direct,
    /// Through the DMZ proxy's CONNECT tunnel.
    Proxied,
}

/// The agent's only way out.
#[derive(Debug, Clone)]
pub(crate) struct Egress {
    network: Network,
    pub policy: EgressPolicy,
    proxy: Option<Proxy>,
}

impl Egress {
    pub fn new(
        network: Network,
        policy: EgressPolicy,
        proxy: &ProxyOptions,
    ) -> Result<Self, ProxyError> {
        Ok(Self {
            network,
            policy,
            proxy: Proxy::from_options(proxy)?,
        })
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    /// Opens a TCP connection to `host:port` if the policy allows it.
    pub async fn open(
        &self,
        host: &str,
        port: u16,
    ) -> Result<(Metered<TcpStream>, Route), EgressError> {
        let literal = literal_address(host);
        self.check_name(host, literal.is_some())?;
        if let Some(proxy) = &self.proxy {
            match proxy.open(&self.network, host, port).await {
                Ok(socket) => return Ok((socket, Route::Proxied)),
                Err(_) if self.policy.direct_when_proxy_fails => {}
                Err(refused) => return Err(refused.into()),
            }
        }
        let address = match literal {
            Some(address) => SocketAddr::new(address, port),
            None => self.network.resolve(host, port)?,
        };
        if self.policy.published_only && !is_published(address.ip()) {
            return Err(EgressError::UnpublishedAddress {
                name: host.to_owned(),
                address: address.ip(),
            });
        }
        Ok((self.network.connect(host, address).await?, Route::Direct))
    }

    /// Opens a connection for a redirect's target, which an HTTP client that follows
    /// redirects reaches on its own, past the rules above (`agent.follow-redirects`).
    pub async fn open_followed(
        &self,
        host: &str,
        port: u16,
    ) -> Result<Metered<TcpStream>, EgressError> {
        let address = match literal_address(host) {
            Some(address) => SocketAddr::new(address, port),
            None => self.network.resolve(host, port)?,
        };
        Ok(self.network.connect(host, address).await?)
    }

    fn check_name(&self, host: &str, literal: bool) -> Result<(), EgressError> {
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        let allowed = match self.policy.names {
            NameRule::Anything => true,
            NameRule::ContainsDomain => !literal && name.contains(DOMAIN),
            NameRule::UnderDomain => {
                !literal && (name == DOMAIN || name.ends_with(&format!(".{DOMAIN}")))
            }
        };
        match (allowed, literal) {
            (true, _) => Ok(()),
            (false, true) => Err(EgressError::IpLiteral {
                host: host.to_owned(),
            }),
            (false, false) => Err(EgressError::ForeignName {
                host: host.to_owned(),
            }),
        }
    }
}

/// The address a URL's host names literally (`[..]` around IPv6 taken off).
fn literal_address(host: &str) -> Option<IpAddr> {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

fn is_published(address: IpAddr) -> bool {
    matches!(address, IpAddr::V4(v4) if PUBLISHED.contains(&v4))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(faults: FaultSet) -> Egress {
        let network = Network::new(
            crate::world::net::Resolver::new(crate::world::Clock::from_wall_clock()),
            crate::world::net::Traffic::new(),
        );
        Egress::new(
            network,
            EgressPolicy::from_faults(&faults),
            &ProxyOptions::default(),
        )
        .unwrap()
    }

    #[test]
    fn only_names_under_the_domain_pass_on_a_label_boundary() {
        let egress = policy(FaultSet::none());
        for allowed in [
            "connection.dataminer.services",
            "Tunnel.DataMiner.Services.",
        ] {
            assert!(egress.check_name(allowed, false).is_ok(), "{allowed}");
        }
        for refused in [
            "dataminer.services.evil.example",
            "xdataminer.services",
            "dataminer-services.example",
            "connection.dataminer.example",
        ] {
            assert!(
                matches!(
                    egress.check_name(refused, false),
                    Err(EgressError::ForeignName { .. })
                ),
                "{refused}"
            );
        }
        assert!(matches!(
            egress.check_name("52.149.106.174", true),
            Err(EgressError::IpLiteral { .. })
        ));
        let careless = policy(Fault::AgentLookalikeNames.into());
        assert!(
            careless
                .check_name("dataminer.services.evil.example", false)
                .is_ok()
        );
    }
}
