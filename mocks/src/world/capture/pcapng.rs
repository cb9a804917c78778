//! A pcapng of a wiretap's connections: each one a TCP connection with its handshake, its
//! segments in the order and at the times they crossed, and its close, under made-up Ethernet
//! and IP headers (etherparse) in pcapng blocks (pcap-file).

use std::borrow::Cow;
use std::io::BufWriter;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Instant;

use etherparse::PacketBuilder;
use pcap_file::DataLink;
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::pcapng::blocks::enhanced_packet::EnhancedPacketBlock;
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};

use super::tap::{TapRecord, Wiretap};

/// The most payload one synthesized segment carries: an IPv4 packet holds at most 64 KiB.
const MAX_PAYLOAD: usize = 16 * 1024;
const CLIENT_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const SERVER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
/// Initial sequence numbers: any will do, Wireshark shows them relative.
const CLIENT_ISN: u32 = 1_000;
const SERVER_ISN: u32 = 500_000;
const WINDOW: u16 = 65_535;

/// The capture could not be written.
#[derive(Debug, thiserror::Error)]
pub enum PcapError {
    #[error("cannot write the capture {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot encode the capture: {0}")]
    Encode(String),
}

/// One packet to write, with what orders it: its time, then its connection, then its place.
struct Packet {
    at: Instant,
    stream: usize,
    place: usize,
    /// Whether it carries bytes the client sent.
    client_data: bool,
    frame: Vec<u8>,
}

/// Every packet of the capture, in the order they are written.
fn packets(tap: &Wiretap) -> Result<Vec<Packet>, PcapError> {
    let mut packets = Vec::new();
    for (stream, connection) in tap.connections().iter().enumerate() {
        synthesize(stream, connection, &mut packets)?;
    }
    // Stable: within one instant, the connection opened first keeps the lower stream index.
    packets.sort_by_key(|p| (p.at, p.stream, p.place));
    Ok(packets)
}

/// The `frame.number` of the last packet of TCP stream `stream` that carried client bytes
/// read by `at`: where a request the server took in at `at` ends.
pub fn frame_of(tap: &Wiretap, stream: usize, at: Instant) -> Option<usize> {
    packets(tap)
        .ok()?
        .iter()
        .rposition(|p| p.stream == stream && p.client_data && p.at <= at)
        .map(|index| index + 1)
}

/// Writes every connection `tap` recorded to `path`; returns how many packets it wrote.
pub fn write_pcapng(tap: &Wiretap, path: &Path) -> Result<usize, PcapError> {
    let io = |source| PcapError::Io {
        path: path.display().to_string(),
        source,
    };
    let packets = packets(tap)?;
    let file = std::fs::File::create(path).map_err(io)?;
    let encode = |e: pcap_file::PcapError| PcapError::Encode(e.to_string());
    let mut writer = PcapNgWriter::new(BufWriter::new(file)).map_err(encode)?;
    let mut interface = InterfaceDescriptionBlock::new(DataLink::ETHERNET, 0);
    interface.options = vec![
        // Timestamps in nanoseconds.
        InterfaceDescriptionOption::IfTsResol(9),
        InterfaceDescriptionOption::Comment(Cow::Borrowed(
            "synthesized by conform from the environment's connection records",
        )),
    ];
    writer.write_pcapng_block(interface).map_err(encode)?;
    for packet in &packets {
        let block = EnhancedPacketBlock {
            interface_id: 0,
            timestamp: tap.wall_time(packet.at),
            original_len: u32::try_from(packet.frame.len()).unwrap_or(u32::MAX),
            data: Cow::Borrowed(&packet.frame),
            options: Vec::new(),
        };
        writer.write_pcapng_block(block).map_err(encode)?;
    }
    let mut inner = writer.into_inner();
    std::io::Write::flush(&mut inner).map_err(io)?;
    Ok(packets.len())
}

/// The handshake, every segment (split to fit a packet) and the close of one connection.
fn synthesize(
    stream: usize,
    connection: &TapRecord,
    out: &mut Vec<Packet>,
) -> Result<(), PcapError> {
    let ends = Ends::of(connection);
    let mut client_seq = CLIENT_ISN;
    let mut server_seq = SERVER_ISN;
    let mut place = 0;
    let mut push = |at: Instant, frame: Vec<u8>, client_data: bool| {
        out.push(Packet {
            at,
            stream,
            place,
            client_data,
            frame,
        });
        place += 1;
    };
    let opened = connection.opened;
    push(
        opened,
        ends.frame(true, client_seq, None, Flags::Syn, &[])?,
        false,
    );
    client_seq = client_seq.wrapping_add(1);
    push(
        opened,
        ends.frame(false, server_seq, Some(client_seq), Flags::Syn, &[])?,
        false,
    );
    server_seq = server_seq.wrapping_add(1);
    push(
        opened,
        ends.frame(true, client_seq, Some(server_seq), Flags::None, &[])?,
        false,
    );
    for segment in &connection.segments {
        for chunk in segment.bytes.chunks(MAX_PAYLOAD) {
            let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            let frame = if segment.from_client {
                let frame = ends.frame(true, client_seq, Some(server_seq), Flags::Push, chunk)?;
                client_seq = client_seq.wrapping_add(len);
                frame
            } else {
                let frame = ends.frame(false, server_seq, Some(client_seq), Flags::Push, chunk)?;
                server_seq = server_seq.wrapping_add(len);
                frame
            };
            push(segment.at, frame, segment.from_client);
        }
    }
    if let Some(closed) = connection.closed {
        let at = connection
            .segments
            .last()
            .map_or(closed, |s| s.at.max(closed));
        push(
            at,
            ends.frame(false, server_seq, Some(client_seq), Flags::Fin, &[])?,
            false,
        );
        server_seq = server_seq.wrapping_add(1);
        push(
            at,
            ends.frame(true, client_seq, Some(server_seq), Flags::Fin, &[])?,
            false,
        );
        client_seq = client_seq.wrapping_add(1);
        push(
            at,
            ends.frame(false, server_seq, Some(client_seq), Flags::None, &[])?,
            false,
        );
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Flags {
    None,
    Syn,
    Push,
    Fin,
}

/// The two ends of a connection, as addresses the headers can carry.
struct Ends {
    client: (IpAddr, u16),
    server: (IpAddr, u16),
}

impl Ends {
    fn of(connection: &TapRecord) -> Self {
        let (client, server) = match (connection.client, connection.server) {
            (SocketAddr::V4(c), SocketAddr::V4(s)) => (IpAddr::V4(*c.ip()), IpAddr::V4(*s.ip())),
            (c, s) => (IpAddr::V6(v6(c.ip())), IpAddr::V6(v6(s.ip()))),
        };
        Self {
            client: (client, connection.client.port()),
            server: (server, connection.server.port()),
        }
    }

    fn frame(
        &self,
        from_client: bool,
        seq: u32,
        ack: Option<u32>,
        flags: Flags,
        payload: &[u8],
    ) -> Result<Vec<u8>, PcapError> {
        let ((src, sport), (dst, dport), (smac, dmac)) = if from_client {
            (self.client, self.server, (CLIENT_MAC, SERVER_MAC))
        } else {
            (self.server, self.client, (SERVER_MAC, CLIENT_MAC))
        };
        let ethernet = PacketBuilder::ethernet2(smac, dmac);
        let ip = match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => ethernet.ipv4(s.octets(), d.octets(), 64),
            (s, d) => ethernet.ipv6(v6(s).octets(), v6(d).octets(), 64),
        };
        let mut tcp = ip.tcp(sport, dport, seq, WINDOW);
        tcp = match flags {
            Flags::None => tcp,
            Flags::Syn => tcp.syn(),
            Flags::Push => tcp.psh(),
            Flags::Fin => tcp.fin(),
        };
        if let Some(ack) = ack {
            tcp = tcp.ack(ack);
        }
        let mut frame = Vec::with_capacity(tcp.size(payload.len()));
        tcp.write(&mut frame, payload)
            .map_err(|e| PcapError::Encode(e.to_string()))?;
        Ok(frame)
    }
}

fn v6(ip: IpAddr) -> std::net::Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pcap_file::pcapng::{Block, PcapNgReader};

    #[test]
    fn a_connection_is_a_handshake_its_segments_in_order_and_a_close() {
        let tap = Wiretap::new();
        let server: SocketAddr = "20.31.240.20:443".parse().unwrap();
        tap.label("tunnel.dataminer.services", server);
        let conn = tap.open(
            "tunnel.dataminer.services",
            "127.0.0.1:40000".parse().unwrap(),
            "127.0.0.1:1".parse().unwrap(),
            true,
        );
        conn.read(b"GET / HTTP/1.1\r\n\r\n");
        conn.wrote(&vec![b'x'; MAX_PAYLOAD + 1]);
        drop(conn);
        assert_eq!(tap.connections()[0].server, server, "the label is shown");
        let dir = std::env::temp_dir().join(format!("conform-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("one.pcapng");
        // 3 for the handshake, 1 request, 2 for the split answer, 3 for the close.
        assert_eq!(write_pcapng(&tap, &path).unwrap(), 9);
        let mut reader = PcapNgReader::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut payloads = Vec::new();
        while let Some(block) = reader.next_block() {
            if let Block::EnhancedPacket(packet) = block.unwrap() {
                let parsed = etherparse::SlicedPacket::from_ethernet(&packet.data).unwrap();
                let Some(etherparse::TransportSlice::Tcp(tcp)) = parsed.transport else {
                    panic!("not TCP");
                };
                payloads.push((tcp.source_port(), tcp.payload().len()));
            }
        }
        assert_eq!(
            payloads,
            vec![
                (40000, 0),
                (443, 0),
                (40000, 0),
                (40000, 18),
                (443, MAX_PAYLOAD),
                (443, 1),
                (443, 0),
                (40000, 0),
                (443, 0)
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
