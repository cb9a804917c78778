use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Partition;
use super::toxics::{ToxicLink, Toxics, ToxicsByName, linger};
use crate::world::Observed;
use crate::world::capture::{TapConn, Wiretap};

/// Totals for one destination, as counted on the socket (TLS records and all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counters {
    pub connections: u64,
    pub open: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl Counters {
    pub fn bytes(&self) -> u64 {
        self.bytes_sent + self.bytes_received
    }
}

#[derive(Debug)]
struct Meter {
    destination: String,
    /// This side's address: matches the peer address the other side recorded.
    local: Option<SocketAddr>,
    /// Where the socket went: the port the connector translated the address to.
    peer: Option<SocketAddr>,
    sent: AtomicU64,
    received: AtomicU64,
    closed: AtomicBool,
    /// When the socket was put on record (before it carried a byte), and when it was let go
    /// (before its port was free again), in real time: the same local address is another
    /// connection once the port is reused.
    opened: Instant,
    closed_at: OnceLock<Instant>,
}

/// Every connection that crossed one boundary, with its bytes, keyed by destination name.
///
/// Counting happens in the socket wrapper at the moment of each read and write, so once a
/// component has finished an operation its bytes are already on the record.
#[derive(Debug, Clone, Default)]
pub struct Traffic {
    meters: Observed<Vec<Arc<Meter>>>,
    partition: Partition,
    contents: Contents,
    toxics: ToxicsByName,
    /// The run's wiretap, when it captures: every socket accepted from then on is on it.
    wiretap: Arc<OnceLock<Wiretap>>,
}

/// What the connections of one boundary carried once decrypted: kept only in an environment
/// that asks for it (a bulk transfer would fill memory otherwise).
#[derive(Debug, Clone, Default)]
struct Contents {
    on: Arc<AtomicBool>,
    captures: Arc<Mutex<Vec<Arc<Mutex<Capture>>>>>,
}

/// One connection on a boundary's record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Connection {
    pub destination: String,
    pub peer: Option<SocketAddr>,
}

/// The decrypted bytes of one connection, each direction whole, as this side saw them.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Capture {
    pub destination: String,
    pub sent: Vec<u8>,
    pub received: Vec<u8>,
}

impl Traffic {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wraps a freshly opened socket so that everything it carries is counted.
    pub fn meter<S: Send + 'static>(
        &self,
        destination: &str,
        local: Option<SocketAddr>,
        socket: S,
    ) -> Metered<S> {
        self.meter_to(destination, local, None, socket)
    }

    /// `meter`, with the address the socket is connected to on the record.
    pub fn meter_to<S: Send + 'static>(
        &self,
        destination: &str,
        local: Option<SocketAddr>,
        peer: Option<SocketAddr>,
        socket: S,
    ) -> Metered<S> {
        let meter = Arc::new(Meter {
            destination: destination.to_ascii_lowercase(),
            local,
            peer,
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            opened: Instant::now(),
            closed_at: OnceLock::new(),
        });
        self.meters.update(|all| all.push(meter.clone()));
        Metered {
            inner: Some(socket),
            link: ToxicLink::new(self.toxics.get(destination)),
            meter,
            traffic: self.clone(),
            tap: None,
        }
    }

    /// `meter`, for a socket a server accepted from `client`: when a wiretap is plugged in,
    /// what it carries is on the capture too, this side as the server.
    pub fn meter_accepted<S: Send + 'static>(
        &self,
        destination: &str,
        local: Option<SocketAddr>,
        client: SocketAddr,
        socket: S,
    ) -> Metered<S> {
        let mut metered = self.meter(destination, local, socket);
        metered.tap = self.wiretap.get().map(|tap| {
            let server = local.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
            tap.open(destination, client, server, true)
        });
        metered
    }

    /// Puts every socket accepted from now on on `wiretap`'s record.
    pub fn tap(&self, wiretap: Wiretap) {
        let _ = self.wiretap.set(wiretap);
    }

    /// Totals per destination.
    pub fn by_destination(&self) -> BTreeMap<String, Counters> {
        self.meters.read(|all| {
            let mut totals: BTreeMap<String, Counters> = BTreeMap::new();
            for m in all {
                let c = totals.entry(m.destination.clone()).or_default();
                c.connections += 1;
                c.open += u64::from(!m.closed.load(Ordering::SeqCst));
                c.bytes_sent += m.sent.load(Ordering::SeqCst);
                c.bytes_received += m.received.load(Ordering::SeqCst);
            }
            totals
        })
    }

    /// Whether a connection on record had `local` as its address at `at` (real time): how
    /// what the far end saw of a peer address is matched to this side's sockets. The address
    /// alone is not enough: once a socket is closed its port may be reused at once (on
    /// loopback even out of TIME_WAIT), by a client that is not on this record.
    pub fn had_address_at(&self, local: SocketAddr, at: Instant) -> bool {
        self.meters.read(|all| {
            all.iter().any(|m| {
                m.local == Some(local)
                    && m.opened <= at
                    && m.closed_at.get().is_none_or(|closed| at <= *closed)
            })
        })
    }

    /// The local addresses of every connection on record, for showing where the DMS's
    /// requests came from; to match one far-side record to a socket, use `had_address_at`.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.meters
            .read(|all| all.iter().filter_map(|m| m.local).collect())
    }

    /// Every connection on record, in the order they were opened: its destination name and
    /// the address its socket went to.
    pub fn connections(&self) -> Vec<Connection> {
        self.meters.read(|all| {
            all.iter()
                .map(|m| Connection {
                    destination: m.destination.clone(),
                    peer: m.peer,
                })
                .collect()
        })
    }

    /// Totals over every destination.
    pub fn total(&self) -> Counters {
        self.by_destination()
            .values()
            .fold(Counters::default(), |acc, c| Counters {
                connections: acc.connections + c.connections,
                open: acc.open + c.open,
                bytes_sent: acc.bytes_sent + c.bytes_sent,
                bytes_received: acc.bytes_received + c.bytes_received,
            })
    }

    pub fn to(&self, destination: &str) -> Counters {
        self.by_destination()
            .remove(&destination.to_ascii_lowercase())
            .unwrap_or_default()
    }

    /// From now on, every stream handed to `plaintext` is recorded whole.
    pub fn record_contents(&self) {
        self.contents.on.store(true, Ordering::SeqCst);
    }

    /// Wraps the decrypted side of a connection to `destination` (above TLS) so that, when
    /// contents are recorded, everything it carries is kept.
    pub fn plaintext<S>(&self, destination: &str, stream: S) -> Recorded<S> {
        let capture = self.contents.on.load(Ordering::SeqCst).then(|| {
            let capture = Arc::new(Mutex::new(Capture {
                destination: destination.to_ascii_lowercase(),
                ..Capture::default()
            }));
            lock(&self.contents.captures).push(capture.clone());
            capture
        });
        Recorded {
            inner: stream,
            capture,
        }
    }

    /// Every connection's decrypted contents, when they are recorded.
    pub fn contents(&self) -> Vec<Capture> {
        lock(&self.contents.captures)
            .iter()
            .map(|c| lock(c).clone())
            .collect()
    }

    /// The switch that cuts every socket counted here off the network, and heals it.
    pub fn partition(&self) -> &Partition {
        &self.partition
    }

    /// The toxics on every socket to `destination`, open or yet to open. Directions are seen
    /// from the side that opened the sockets: upstream is what it writes.
    pub fn toxics(&self, destination: &str) -> Toxics {
        self.toxics.get(destination)
    }

    /// Waits until a connection to `destination` is open; false when `bound` passed first.
    pub async fn wait_any_open(&self, destination: &str, bound: Duration) -> bool {
        let destination = destination.to_ascii_lowercase();
        self.meters
            .wait_for(bound, |all| {
                all.iter()
                    .any(|m| m.destination == destination && !m.closed.load(Ordering::SeqCst))
                    .then_some(())
            })
            .await
            .is_some()
    }

    /// Waits until no connection to `destination` is open; false when `bound` passed first.
    pub async fn wait_all_closed(&self, destination: &str, bound: Duration) -> bool {
        let destination = destination.to_ascii_lowercase();
        self.meters
            .wait_for(bound, |all| {
                all.iter()
                    .filter(|m| m.destination == destination)
                    .all(|m| m.closed.load(Ordering::SeqCst))
                    .then_some(())
            })
            .await
            .is_some()
    }

    fn closed(&self, meter: &Meter) {
        self.meters.update(|_| {
            let _ = meter.closed_at.set(Instant::now());
            meter.closed.store(true, Ordering::SeqCst);
        });
    }
}

/// A socket whose bytes are counted into a `Traffic` record, and whose end is recorded when
/// it is dropped.
#[derive(Debug)]
pub struct Metered<S: Send + 'static> {
    /// Taken only when the socket is dropped.
    inner: Option<S>,
    link: ToxicLink,
    meter: Arc<Meter>,
    traffic: Traffic,
    /// Where its bytes go on a capture, when the run captures.
    tap: Option<TapConn>,
}

impl<S: Send + 'static> Metered<S> {
    pub fn get_ref(&self) -> &S {
        self.inner
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }

    fn parts(&mut self) -> (&mut ToxicLink, &mut S) {
        let socket = self
            .inner
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only on drop"));
        (&mut self.link, socket)
    }
}

impl<S: Send + 'static> Drop for Metered<S> {
    fn drop(&mut self) {
        self.traffic.closed(&self.meter);
        if let Some(socket) = self.inner.take() {
            match self.link.lingers() {
                // A slow close: the end goes out late.
                Some(delay) => linger(socket, delay),
                // This side is done with it; across a partition not even its end gets through.
                None => self.traffic.partition.release(socket),
            }
        }
    }
}

impl<S: AsyncRead + Unpin + Send + 'static> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if !self.traffic.partition.poll_pass(cx) {
            return Poll::Pending;
        }
        let before = buf.filled().len();
        let (link, socket) = self.parts();
        let polled = link.poll_read(cx, socket, buf);
        let read = (buf.filled().len() - before) as u64;
        self.meter.received.fetch_add(read, Ordering::SeqCst);
        if let Some(tap) = &self.tap {
            tap.read(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin + Send + 'static> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if !self.traffic.partition.poll_pass(cx) {
            return Poll::Pending;
        }
        let (link, socket) = self.parts();
        let polled = link.poll_write(cx, socket, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.meter.sent.fetch_add(*n as u64, Ordering::SeqCst);
            if let Some(tap) = &self.tap {
                tap.wrote(&buf[..*n]);
            }
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.traffic.partition.poll_pass(cx) {
            return Poll::Pending;
        }
        let (link, socket) = self.parts();
        link.poll_flush(cx, socket)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.traffic.partition.poll_pass(cx) {
            return Poll::Pending;
        }
        let (link, socket) = self.parts();
        link.poll_shutdown(cx, socket)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A decrypted stream whose bytes are kept in a `Capture` when contents are recorded.
#[derive(Debug)]
pub struct Recorded<S> {
    inner: S,
    capture: Option<Arc<Mutex<Capture>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Recorded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Some(capture) = &self.capture {
            lock(capture)
                .received
                .extend_from_slice(&buf.filled()[before..]);
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let (Some(capture), Poll::Ready(Ok(n))) = (&self.capture, &polled) {
            lock(capture).sent.extend_from_slice(&buf[..*n]);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    // Paused time: a timeout ends as soon as nothing else can happen, so "nothing arrived" is
    // decided without waiting.
    #[tokio::test(start_paused = true)]
    async fn a_partition_holds_bytes_and_the_close_until_it_heals() {
        let traffic = Traffic::new();
        let (a, mut b) = tokio::io::duplex(64);
        let mut a = traffic.meter("tunnel.example", None, a);
        traffic.partition().set(true);
        let wrote = tokio::time::timeout(Duration::from_secs(1), a.write_all(b"hi")).await;
        assert!(wrote.is_err(), "a write went through a cut link");
        drop(a);
        let mut buf = [0u8; 4];
        let read = tokio::time::timeout(Duration::from_secs(1), b.read(&mut buf)).await;
        assert!(read.is_err(), "the close went through a cut link");
        traffic.partition().set(false);
        assert_eq!(
            b.read(&mut buf).await.unwrap(),
            0,
            "the close arrives once healed"
        );
        assert_eq!(traffic.total().open, 0);
    }

    #[tokio::test]
    async fn contents_are_kept_only_once_switched_on() {
        let traffic = Traffic::new();
        let (a, mut b) = tokio::io::duplex(64);
        let mut quiet = traffic.plaintext("x.example", a);
        quiet.write_all(b"unseen").await.unwrap();
        traffic.record_contents();
        let (c, mut d) = tokio::io::duplex(64);
        let mut loud = traffic.plaintext("X.example", c);
        loud.write_all(b"seen").await.unwrap();
        d.write_all(b"back").await.unwrap();
        let mut buf = [0u8; 4];
        loud.read_exact(&mut buf).await.unwrap();
        let mut sink = [0u8; 6];
        b.read_exact(&mut sink).await.unwrap();
        d.read_exact(&mut buf).await.unwrap();
        let contents = traffic.contents();
        assert_eq!(contents.len(), 1);
        assert_eq!(
            (
                contents[0].destination.as_str(),
                &contents[0].sent[..],
                &contents[0].received[..]
            ),
            ("x.example", &b"seen"[..], &b"back"[..])
        );
    }

    #[tokio::test]
    async fn counts_both_directions_and_the_close() {
        let traffic = Traffic::new();
        let (a, mut b) = tokio::io::duplex(64);
        let mut a = traffic.meter("Tunnel.Example", None, a);
        a.write_all(b"hello").await.unwrap();
        b.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        a.read_exact(&mut buf).await.unwrap();
        let seen = traffic.to("tunnel.example");
        assert_eq!(
            (
                seen.connections,
                seen.open,
                seen.bytes_sent,
                seen.bytes_received
            ),
            (1, 1, 5, 2)
        );
        drop(a);
        assert!(
            traffic
                .wait_all_closed("tunnel.example", Duration::from_secs(1))
                .await
        );
        assert_eq!(traffic.total().open, 0);
    }

    #[test]
    fn an_address_is_this_sides_only_while_its_socket_is_open() {
        let traffic = Traffic::new();
        let port: SocketAddr = ([127, 0, 0, 1], 40_000).into();
        let millisecond = Duration::from_millis(1);
        let before = Instant::now().checked_sub(millisecond).unwrap();
        let socket = traffic.meter("connection.example", Some(port), ());
        let during = Instant::now();
        drop(socket);
        // Another client's connection from the same port, once it was free again.
        let reused = Instant::now() + millisecond;
        assert!(!traffic.had_address_at(port, before));
        assert!(traffic.had_address_at(port, during));
        assert!(!traffic.had_address_at(port, reused));
        assert!(!traffic.had_address_at(([127, 0, 0, 1], 40_001).into(), during));
    }
}
