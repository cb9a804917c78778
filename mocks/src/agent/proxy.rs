//! The agent's side of the DMZ (NET-4): the product's `ProxyOptions { Enabled, Address }`,
//! and an HTTP CONNECT client (RFC 9110 §9.3.6) that opens a tunnel through the proxy, over
//! which TLS then runs end to end.

use std::net::SocketAddr;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::world::net::{Metered, NetError, Network};

/// The longest CONNECT answer head the agent reads.
const HEAD_LIMIT: usize = 8 * 1024;

/// The gateway's proxy settings, as the product names them.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProxyOptions {
    pub enabled: bool,
    /// `host:port` of the proxy (an `http://` in front is taken off); an IP address, as the
    /// DMS's network has no name service of its own here.
    pub address: String,
    /// Basic credentials for a proxy that demands them.
    #[serde(default)]
    pub credentials: Option<ProxyCredentials>,
}

#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProxyCredentials {
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for ProxyCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The DMZ proxy did not give the agent its tunnel.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The configured address is not `host:port`.
    #[error("the DMZ proxy address {0:?} is not an IP address and port")]
    BadAddress(String),
    /// The proxy could not be reached.
    #[error("the DMZ proxy at {proxy} cannot be reached: {source}")]
    Unreachable { proxy: SocketAddr, source: NetError },
    /// The proxy answered 407: it wants credentials the gateway lacks, or refused the ones it
    /// sent.
    #[error(
        "the DMZ proxy at {proxy} demands authentication (HTTP 407) to reach {target}: {}",
        if *.had_credentials { "it refused the configured proxy credentials" } else { "no proxy credentials are configured" }
    )]
    AuthenticationRequired {
        proxy: SocketAddr,
        target: String,
        had_credentials: bool,
    },
    /// The proxy refused the tunnel.
    #[error("the DMZ proxy at {proxy} refused the tunnel to {target} with HTTP {status}")]
    Refused {
        proxy: SocketAddr,
        target: String,
        status: u16,
    },
    /// The proxy's answer was not an HTTP status line and head.
    #[error("the DMZ proxy at {proxy} answered CONNECT with something that is not HTTP")]
    Malformed { proxy: SocketAddr },
    /// The exchange with the proxy broke off.
    #[error("the DMZ proxy at {proxy} broke off the CONNECT exchange: {source}")]
    Io {
        proxy: SocketAddr,
        source: std::io::Error,
    },
}

/// A configured, enabled proxy.
#[derive(Debug, Clone)]
pub(crate) struct Proxy {
    address: SocketAddr,
    authorization: Option<String>,
}

impl Proxy {
    pub fn from_options(options: &ProxyOptions) -> Result<Option<Self>, ProxyError> {
        if !options.enabled {
            return Ok(None);
        }
        let text = options.address.trim();
        let text = text.strip_prefix("http://").unwrap_or(text);
        let address = text
            .trim_end_matches('/')
            .parse()
            .map_err(|_| ProxyError::BadAddress(options.address.clone()))?;
        let authorization = options.credentials.as_ref().map(|c| {
            let pair = format!("{}:{}", c.user, c.password);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        });
        Ok(Some(Self {
            address,
            authorization,
        }))
    }

    /// Opens a tunnel to `host:port` through the proxy; the socket is recorded under `host`.
    pub async fn open(
        &self,
        network: &Network,
        host: &str,
        port: u16,
    ) -> Result<Metered<TcpStream>, ProxyError> {
        let proxy = self.address;
        let io = |source| ProxyError::Io { proxy, source };
        let mut socket = network
            .connect_lan(host, proxy)
            .await
            .map_err(|source| ProxyError::Unreachable { proxy, source })?;
        let target = format!("{host}:{port}");
        let mut head = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(authorization) = &self.authorization {
            head.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
        }
        head.push_str("\r\n");
        socket.write_all(head.as_bytes()).await.map_err(io)?;
        let answer = read_head(&mut socket).await.map_err(io)?;
        let status = status_of(&answer).ok_or(ProxyError::Malformed { proxy })?;
        match status {
            200..=299 => Ok(socket),
            407 => Err(ProxyError::AuthenticationRequired {
                proxy,
                target,
                had_credentials: self.authorization.is_some(),
            }),
            status => Err(ProxyError::Refused {
                proxy,
                target,
                status,
            }),
        }
    }
}

/// Reads the answer's head a byte at a time: what follows it is the tunnel's, and TLS must
/// find it unread.
async fn read_head(socket: &mut Metered<TcpStream>) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= HEAD_LIMIT {
            return Err(std::io::Error::other("answer head too long"));
        }
        let mut byte = [0u8; 1];
        if socket.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    Ok(head)
}

/// The status code of `HTTP/1.x NNN ...`.
fn status_of(head: &[u8]) -> Option<u16> {
    let line = head.split(|b| *b == b'\r').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.splitn(3, ' ');
    if !parts.next()?.starts_with("HTTP/1.") {
        return None;
    }
    let code = parts.next()?;
    (code.len() == 3).then_some(())?;
    code.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_is_read_from_the_answer_line_only() {
        assert_eq!(
            status_of(b"HTTP/1.1 200 Connection established\r\n\r\n"),
            Some(200)
        );
        assert_eq!(
            status_of(b"HTTP/1.0 407 Proxy Authentication Required\r\n\r\n"),
            Some(407)
        );
        assert_eq!(status_of(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
        assert_eq!(status_of(b"HTTP/1.1 2000 x\r\n\r\n"), None);
    }
}
