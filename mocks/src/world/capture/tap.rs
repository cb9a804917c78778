//! The wiretap: what each tapped connection carried, per direction, in order, with the moment
//! each read or write happened, taken on the socket (TLS records and all).

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Every tapped connection of one run, in the order they were opened: that order is the
/// `tcp.stream` index Wireshark gives each of them in the capture written from it.
#[derive(Debug, Clone)]
pub struct Wiretap(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    started: Instant,
    started_wall: SystemTime,
    connections: Mutex<Vec<Arc<Mutex<TapRecord>>>>,
    /// The address each destination name is shown at instead of the loopback port behind it.
    labels: Mutex<BTreeMap<String, SocketAddr>>,
}

/// One connection as it crossed the wire.
#[derive(Debug, Clone)]
pub struct TapRecord {
    /// The name the connection was made to (`tunnel.dataminer.services`, `waf`).
    pub name: String,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub opened: Instant,
    pub segments: Vec<Segment>,
    pub closed: Option<Instant>,
}

/// One read or write: the bytes, which way they went, when.
#[derive(Debug, Clone)]
pub struct Segment {
    pub at: Instant,
    pub from_client: bool,
    pub bytes: Vec<u8>,
}

impl Default for Wiretap {
    fn default() -> Self {
        Self::new()
    }
}

impl Wiretap {
    pub fn new() -> Self {
        Self(Arc::new(Inner {
            started: Instant::now(),
            started_wall: SystemTime::now(),
            connections: Mutex::new(Vec::new()),
            labels: Mutex::new(BTreeMap::new()),
        }))
    }

    /// Connections to `name` are shown at `address` (a cloud endpoint's published address on
    /// 443, as the world resolves it) rather than at the loopback port behind it.
    pub fn label(&self, name: &str, address: SocketAddr) {
        lock(&self.0.labels).insert(name.to_ascii_lowercase(), address);
    }

    /// Puts a new connection on the record; `server` is used when `name` has no label.
    /// `server_side` says which end holds the returned handle: its reads come from the client.
    pub fn open(
        &self,
        name: &str,
        client: SocketAddr,
        server: SocketAddr,
        server_side: bool,
    ) -> TapConn {
        let server = lock(&self.0.labels)
            .get(&name.to_ascii_lowercase())
            .copied()
            .unwrap_or(server);
        let mut all = lock(&self.0.connections);
        // Opened under the lock: the record's order is the order of these instants.
        let record = Arc::new(Mutex::new(TapRecord {
            name: name.to_ascii_lowercase(),
            client,
            server,
            opened: Instant::now(),
            segments: Vec::new(),
            closed: None,
        }));
        all.push(record.clone());
        TapConn {
            record,
            server_side,
        }
    }

    /// Every connection so far, in the order they were opened.
    pub fn connections(&self) -> Vec<TapRecord> {
        lock(&self.0.connections)
            .iter()
            .map(|r| lock(r).clone())
            .collect()
    }

    /// The `tcp.stream` index of the connection from `client` that was open at `at`.
    pub fn stream_of(&self, client: SocketAddr, at: Instant) -> Option<usize> {
        self.connections().iter().rposition(|c| {
            c.client == client && c.opened <= at && c.closed.is_none_or(|closed| at <= closed)
        })
    }

    /// `at` as a time since the Unix epoch, on the wall clock the capture started on.
    pub fn wall_time(&self, at: Instant) -> Duration {
        let since_start = at.saturating_duration_since(self.0.started);
        (self.0.started_wall + since_start)
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
    }
}

/// The record of one open connection; dropping it records the connection's end.
#[derive(Debug)]
pub struct TapConn {
    record: Arc<Mutex<TapRecord>>,
    server_side: bool,
}

impl TapConn {
    /// This end read `bytes` off the socket.
    pub fn read(&self, bytes: &[u8]) {
        self.push(self.server_side, bytes);
    }

    /// This end wrote `bytes` to the socket.
    pub fn wrote(&self, bytes: &[u8]) {
        self.push(!self.server_side, bytes);
    }

    fn push(&self, from_client: bool, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        lock(&self.record).segments.push(Segment {
            at: Instant::now(),
            from_client,
            bytes: bytes.to_vec(),
        });
    }
}

impl Drop for TapConn {
    fn drop(&mut self) {
        lock(&self.record).closed.get_or_insert_with(Instant::now);
    }
}

/// A socket whose every read and write goes on a tap's record.
#[derive(Debug)]
pub struct Tapped<S> {
    inner: S,
    tap: TapConn,
}

impl<S> Tapped<S> {
    pub fn new(inner: S, tap: TapConn) -> Self {
        Self { inner, tap }
    }

    /// The socket, its record ended.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Tapped<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        self.tap.read(&buf.filled()[before..]);
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Tapped<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &polled {
            self.tap.wrote(&buf[..*n]);
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

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
