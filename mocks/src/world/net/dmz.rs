//! The DMS site's DMZ: an HTTP forward proxy that opens CONNECT tunnels (RFC 9110 §9.3.6),
//! optionally behind Basic authentication (RFC 9110 §11.7.1), resolving and connecting
//! through the world's name service and connector. It records every tunnel asked for and
//! every byte it relays, as a DMZ's own logs and a tap on it would.

use std::net::SocketAddr;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::Resolver;
use crate::world::{Lifetime, Observed};

/// The longest request head the proxy reads.
const HEAD_LIMIT: usize = 8 * 1024;
/// How much of each direction of a tunnel the record keeps; the count goes on past it.
const KEPT: usize = 8 * 1024 * 1024;

/// How the proxy is set up.
#[derive(Debug, Clone, Default)]
pub struct DmzPolicy {
    /// Basic credentials every CONNECT must carry; `None`: no authentication.
    pub credentials: Option<(String, String)>,
    /// Every CONNECT is refused (403), as a proxy whose rules allow nothing.
    pub refuse_all: bool,
}

/// One CONNECT the proxy was asked for, and what it relayed in it.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ProxyTunnel {
    /// The request target as sent (`host:port`); empty when the request was not a CONNECT.
    pub target: String,
    /// The request line, for a request that was not a CONNECT.
    pub request_line: String,
    /// The status the proxy answered.
    pub status: u16,
    /// Bytes the client sent into the tunnel (kept up to a bound).
    #[serde(skip)]
    pub upstream: Vec<u8>,
    /// Bytes the far end sent back (kept up to a bound).
    #[serde(skip)]
    pub downstream: Vec<u8>,
    pub upstream_bytes: u64,
    pub downstream_bytes: u64,
}

/// A running forward proxy on loopback.
#[derive(Debug, Clone)]
pub struct ForwardProxy {
    addr: SocketAddr,
    tunnels: Observed<Vec<ProxyTunnel>>,
}

impl ForwardProxy {
    pub async fn start(
        policy: DmzPolicy,
        resolver: Resolver,
        lifetime: &Lifetime,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let proxy = Self {
            addr: listener.local_addr()?,
            tunnels: Observed::default(),
        };
        let connections = lifetime.clone();
        let serving = proxy.clone();
        lifetime.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                connections.spawn(
                    serving
                        .clone()
                        .serve(socket, policy.clone(), resolver.clone()),
                );
            }
        });
        Ok(proxy)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request the proxy received, in order, with what it relayed.
    pub fn tunnels(&self) -> Vec<ProxyTunnel> {
        self.tunnels.read(Vec::clone)
    }

    async fn serve(self, mut client: TcpStream, policy: DmzPolicy, resolver: Resolver) {
        let Ok(head) = read_head(&mut client).await else {
            return;
        };
        let request = Request::parse(&head);
        let index = self.tunnels.update(|all| {
            all.push(ProxyTunnel {
                target: request.connect_target.clone().unwrap_or_default(),
                request_line: request.line.clone(),
                ..ProxyTunnel::default()
            });
            all.len() - 1
        });
        let (status, upstream) = self.admit(&request, &policy, &resolver).await;
        self.tunnels.update(|all| all[index].status = status);
        let Some(upstream) = upstream else {
            let mut answer = format!("HTTP/1.1 {status} {}\r\n", reason(status));
            if status == 407 {
                answer.push_str("Proxy-Authenticate: Basic realm=\"dmz\"\r\n");
            }
            answer.push_str("Content-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = client.write_all(answer.as_bytes()).await;
            return;
        };
        if client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .await
            .is_err()
        {
            return;
        }
        self.relay(index, client, upstream).await;
    }

    /// The status the request gets, and the far end's socket when it is 200.
    async fn admit(
        &self,
        request: &Request,
        policy: &DmzPolicy,
        resolver: &Resolver,
    ) -> (u16, Option<TcpStream>) {
        let Some(target) = &request.connect_target else {
            return (405, None);
        };
        if let Some((user, password)) = &policy.credentials {
            let expected =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            if request.basic.as_deref() != Some(expected.as_str()) {
                return (407, None);
            }
        }
        if policy.refuse_all {
            return (403, None);
        }
        let Some((host, port)) = split_target(target) else {
            return (400, None);
        };
        let address = match host.parse() {
            Ok(ip) => Some(SocketAddr::new(ip, port)),
            Err(_) => resolver.resolve(host, port),
        };
        let Some(at) = address.and_then(|a| resolver.translate(host, a)) else {
            return (502, None);
        };
        match TcpStream::connect(at).await {
            Ok(socket) => (200, Some(socket)),
            Err(_) => (502, None),
        }
    }

    /// Copies both ways until both are done, keeping what passes on the record.
    async fn relay(&self, index: usize, client: TcpStream, upstream: TcpStream) {
        let (client_read, client_write) = client.into_split();
        let (upstream_read, upstream_write) = upstream.into_split();
        tokio::join!(
            self.pump(index, true, client_read, upstream_write),
            self.pump(index, false, upstream_read, client_write),
        );
    }

    async fn pump(
        &self,
        index: usize,
        up: bool,
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
    ) {
        let mut buffer = vec![0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buffer[..n];
            self.tunnels.update(|all| {
                let tunnel = &mut all[index];
                let (kept, count) = if up {
                    (&mut tunnel.upstream, &mut tunnel.upstream_bytes)
                } else {
                    (&mut tunnel.downstream, &mut tunnel.downstream_bytes)
                };
                *count += n as u64;
                let room = KEPT.saturating_sub(kept.len());
                kept.extend_from_slice(&chunk[..n.min(room)]);
            });
            if to.write_all(chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    }
}

/// What the proxy reads of a request head.
struct Request {
    line: String,
    connect_target: Option<String>,
    /// The credentials of a `Proxy-Authorization: Basic ...` header.
    basic: Option<String>,
}

impl Request {
    fn parse(head: &[u8]) -> Self {
        let text = String::from_utf8_lossy(head);
        let mut lines = text.split("\r\n");
        let line = lines.next().unwrap_or_default().to_owned();
        let mut parts = line.split(' ');
        let connect_target = match (parts.next(), parts.next(), parts.next()) {
            (Some("CONNECT"), Some(target), Some(version)) if version.starts_with("HTTP/1.") => {
                Some(target.to_owned())
            }
            _ => None,
        };
        let basic = lines.find_map(|header| {
            let (name, value) = header.split_once(':')?;
            if !name.trim().eq_ignore_ascii_case("proxy-authorization") {
                return None;
            }
            let (scheme, credentials) = value.trim().split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("basic")
                .then(|| credentials.trim().to_owned())
        });
        Self {
            line,
            connect_target,
            basic,
        }
    }
}

/// `host:port` with a numeric port; IPv6 in brackets.
fn split_target(target: &str) -> Option<(&str, u16)> {
    let (host, port) = target.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host, port.parse().ok()?))
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        403 => "Forbidden",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        _ => "Bad Gateway",
    }
}

async fn read_head(socket: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= HEAD_LIMIT {
            return Err(std::io::Error::other("request head too long"));
        }
        let mut byte = [0u8; 1];
        if socket.read(&mut byte).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connect_head_gives_its_target_and_basic_credentials() {
        let request = Request::parse(
            b"CONNECT tunnel.dataminer.services:443 HTTP/1.1\r\nHost: x\r\nproxy-authorization:  Basic dTpw\r\n\r\n",
        );
        assert_eq!(
            request.connect_target.as_deref(),
            Some("tunnel.dataminer.services:443")
        );
        assert_eq!(request.basic.as_deref(), Some("dTpw"));
        let get = Request::parse(b"GET http://example/ HTTP/1.1\r\n\r\n");
        assert_eq!(get.connect_target, None);
        assert_eq!(split_target("[::1]:443"), Some(("::1", 443)));
    }
}
