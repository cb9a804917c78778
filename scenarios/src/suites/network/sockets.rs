//! The operating system's account of a process's TCP sockets: its descriptors in
//! `/proc/<pid>/fd` (links `socket:[INODE]`) matched to the rows of `/proc/net/tcp` and
//! `tcp6` by inode. The scenario's own reading, not the agent's word nor the environment's.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use serde::Serialize;

/// The `st` column's value for a listening socket (`TCP_LISTEN` in the kernel's tcp_states.h).
const TCP_LISTEN: u8 = 0x0A;

/// One TCP socket of the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct TcpSocket {
    pub local: SocketAddr,
    pub remote: SocketAddr,
    pub state: u8,
    pub inode: u64,
}

impl TcpSocket {
    pub fn is_listening(&self) -> bool {
        self.state == TCP_LISTEN
    }
}

/// The TCP sockets process `pid` holds open.
pub(super) fn tcp_sockets_of(pid: u32) -> std::io::Result<Vec<TcpSocket>> {
    let mut inodes = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        // A descriptor closed between the listing and the look is simply gone.
        let Ok(link) = std::fs::read_link(entry?.path()) else {
            continue;
        };
        let link = link.to_string_lossy();
        if let Some(inode) = link
            .strip_prefix("socket:[")
            .and_then(|rest| rest.strip_suffix(']'))
            .and_then(|n| n.parse::<u64>().ok())
        {
            inodes.push(inode);
        }
    }
    let mut sockets = Vec::new();
    for table in ["tcp", "tcp6"] {
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}"))?;
        sockets.extend(
            text.lines()
                .skip(1)
                .filter_map(parse_row)
                .filter(|s| inodes.contains(&s.inode)),
        );
    }
    Ok(sockets)
}

/// One row: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...`.
fn parse_row(line: &str) -> Option<TcpSocket> {
    let fields: Vec<&str> = line.split_whitespace().collect();
    Some(TcpSocket {
        local: parse_address(fields.get(1)?)?,
        remote: parse_address(fields.get(2)?)?,
        state: u8::from_str_radix(fields.get(3)?, 16).ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits (IPv6), each 32-bit word in host byte order
/// (little-endian here), then the port in hex.
fn parse_address(text: &str) -> Option<SocketAddr> {
    let (address, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let hex = address.get(i * 8..i * 8 + 8)?;
        Some(u32::from_str_radix(hex, 16).ok()?.to_le_bytes())
    };
    let ip = match address.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut bytes = [0u8; 16];
            for i in 0..4 {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(bytes))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_of_both_tables_parse() {
        let v4 = "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 123456 1 0000000000000000 100 0 0 10 0";
        let socket = parse_row(v4).unwrap();
        assert_eq!(socket.local, "127.0.0.1:8080".parse().unwrap());
        assert!(socket.is_listening());
        assert_eq!(socket.inode, 123_456);
        let v6 = "   1: 00000000000000000000000001000000:01BB 0000000000000000FFFF00000100007F:A2C4 01 00000000:00000000 00:00000000 00000000  1000        0 654321 1";
        let socket = parse_row(v6).unwrap();
        assert_eq!(socket.local, "[::1]:443".parse().unwrap());
        assert_eq!(socket.remote, "[::ffff:127.0.0.1]:41668".parse().unwrap());
        assert!(!socket.is_listening());
    }

    #[test]
    fn the_table_shows_this_processes_own_listener_and_its_connection() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let sockets = tcp_sockets_of(std::process::id()).unwrap();
        assert!(
            sockets
                .iter()
                .any(|s| s.is_listening() && s.local == listener.local_addr().unwrap())
        );
        assert!(
            sockets
                .iter()
                .any(|s| s.local == client.local_addr().unwrap()
                    && s.remote == listener.local_addr().unwrap())
        );
    }
}
