use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::Partition;
use crate::world::Observed;

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
        let meter = Arc::new(Meter {
            destination: destination.to_ascii_lowercase(),
            local,
            sent: AtomicU64::new(0),
            received: AtomicU64::new(0),
            closed: AtomicBool::new(false),
            opened: Instant::now(),
            closed_at: OnceLock::new(),
        });
        self.meters.update(|all| all.push(meter.clone()));
        Metered {
            inner: Some(socket),
            meter,
            traffic: self.clone(),
        }
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

    /// The switch that cuts every socket counted here off the network, and heals it.
    pub fn partition(&self) -> &Partition {
        &self.partition
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
    meter: Arc<Meter>,
    traffic: Traffic,
}

impl<S: Send + 'static> Metered<S> {
    pub fn get_ref(&self) -> &S {
        self.inner
            .as_ref()
            .unwrap_or_else(|| unreachable!("taken only on drop"))
    }

    fn socket(&mut self) -> Pin<&mut S>
    where
        S: Unpin,
    {
        Pin::new(
            self.inner
                .as_mut()
                .unwrap_or_else(|| unreachable!("taken only on drop")),
        )
    }
}

impl<S: Send + 'static> Drop for Metered<S> {
    fn drop(&mut self) {
        self.traffic.closed(&self.meter);
        if let Some(socket) = self.inner.take() {
            // This side is done with it; across a partition not even its end gets through.
            self.traffic.partition.release(socket);
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
        let polled = self.socket().poll_read(cx, buf);
        let read = (buf.filled().len() - before) as u64;
        self.meter.received.fetch_add(read, Ordering::SeqCst);
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
        let polled = self.socket().poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.meter.sent.fetch_add(*n as u64, Ordering::SeqCst);
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.traffic.partition.poll_pass(cx) {
            return Poll::Pending;
        }
        self.socket().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if !self.traffic.partition.poll_pass(cx) {
            return Poll::Pending;
        }
        self.socket().poll_shutdown(cx)
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
