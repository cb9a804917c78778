//! One connection under a hop's toxics: each read and write asks the set what holds now and
//! passes, holds back, slices, slows or cuts the bytes accordingly.

use std::any::Any;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use rand::RngExt;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep, sleep_until};

use super::{Applied, Direction, Toxic, Toxics};

/// What the applied toxics come to for one direction of one connection, now.
#[derive(Debug, Default)]
struct Effect {
    latency: Option<(Duration, Duration)>,
    bytes_per_second: Option<u64>,
    slow_close: Option<Duration>,
    /// `Some(None)`: stalled until the toxic goes; `Some(Some(at))`: ends at `at`.
    black_hole: Option<Option<Instant>>,
    reset_at: Option<Instant>,
    slice: Option<(usize, Duration)>,
    limit: Option<u64>,
}

impl Effect {
    fn of(applied: &[Applied], direction: Direction, opened: Instant) -> Self {
        let mut effect = Self::default();
        for a in applied {
            let start = a.since.max(opened);
            // A reset ends the connection, whichever way it was asked for.
            if let Toxic::ResetPeer { after } = a.toxic {
                let at = start + after;
                effect.reset_at = Some(effect.reset_at.map_or(at, |r| r.min(at)));
            }
            if a.direction != direction {
                continue;
            }
            match a.toxic {
                Toxic::Latency { delay, jitter } => effect.latency = Some((delay, jitter)),
                Toxic::Bandwidth { bytes_per_second } => {
                    effect.bytes_per_second = Some(bytes_per_second.max(1));
                }
                Toxic::SlowClose { delay } => effect.slow_close = Some(delay),
                Toxic::Timeout { close_after } => {
                    effect.black_hole = Some(close_after.map(|after| start + after));
                }
                Toxic::ResetPeer { .. } => {}
                Toxic::Slicer { size, delay } => effect.slice = Some((size.max(1), delay)),
                Toxic::LimitData { bytes } => {
                    effect.limit = Some(effect.limit.map_or(bytes, |l| l.min(bytes)));
                }
            }
        }
        effect
    }

    /// The most bytes one operation may pass now, of `wanted`, after `passed` went before.
    fn chunk(&self, wanted: usize, passed: u64) -> usize {
        let mut max = wanted;
        if let Some((size, _)) = self.slice {
            max = max.min(size);
        }
        if let Some(rate) = self.bytes_per_second {
            // A twentieth of a second's worth at a time keeps the pace even.
            max = max.min(usize::try_from(rate / 20).unwrap_or(usize::MAX).max(1));
        }
        if let Some(limit) = self.limit {
            max = max.min(usize::try_from(limit.saturating_sub(passed)).unwrap_or(usize::MAX));
        }
        max
    }

    /// How long bytes wait before they pass, besides the bandwidth's pace.
    fn wait(&self) -> Duration {
        let latency = self.latency.map_or(Duration::ZERO, |(delay, jitter)| {
            if jitter.is_zero() {
                return delay;
            }
            let spread = jitter.as_secs_f64();
            let offset = rand::rng().random_range(-spread..=spread);
            Duration::from_secs_f64((delay.as_secs_f64() + offset).max(0.0))
        });
        latency + self.slice.map_or(Duration::ZERO, |(_, delay)| delay)
    }

    fn paces(&self) -> bool {
        self.latency.is_some() || self.bytes_per_second.is_some() || self.slice.is_some()
    }
}

/// One direction's state.
#[derive(Debug)]
struct Flow {
    /// This flow's place among the set's parked wakers.
    key: u64,
    /// Bytes taken from the socket that the reader has not been given yet.
    held: Vec<u8>,
    from: usize,
    /// When the held bytes (or the next write) may pass.
    release: Option<Pin<Box<Sleep>>>,
    /// The bandwidth's pace: when the next bytes may go.
    next_free: Option<Instant>,
    passed: u64,
    /// The end of the stream, seen and held back by a slow close.
    eof: Option<Pin<Box<Sleep>>>,
    /// Wakes the flow at the next deadline of a reset or a black hole's end.
    timer: Option<(Instant, Pin<Box<Sleep>>)>,
}

impl Flow {
    fn new(toxics: &Toxics) -> Self {
        Self {
            key: toxics.flow_key(),
            held: Vec::new(),
            from: 0,
            release: None,
            next_free: None,
            passed: 0,
            eof: None,
            timer: None,
        }
    }

    fn idle(&self) -> bool {
        self.held.is_empty() && self.release.is_none() && self.eof.is_none()
    }

    /// Whether `at` has come; if not, the task is woken when it does.
    fn reached(&mut self, cx: &mut Context<'_>, at: Instant) -> bool {
        if at <= Instant::now() {
            return true;
        }
        let timer = match &mut self.timer {
            Some((armed, timer)) if *armed == at => timer,
            slot => &mut slot.insert((at, Box::pin(sleep_until(at)))).1,
        };
        timer.as_mut().poll(cx).is_ready()
    }

    /// The bandwidth's slot for `n` bytes: when they may go.
    fn pace(&mut self, effect: &Effect, n: usize, now: Instant) -> Instant {
        let Some(rate) = effect.bytes_per_second else {
            return now;
        };
        let start = self.next_free.map_or(now, |free| free.max(now));
        self.next_free = Some(start + Duration::from_secs_f64(n as f64 / rate as f64));
        start
    }
}

/// What has become of the connection as a whole.
enum Verdict {
    Open,
    Reset,
    /// A black hole's end: the connection is over.
    Closed,
    Stalled,
}

/// The toxic state of one connection; the socket itself stays with its owner, which hands it
/// in on every operation.
#[derive(Debug)]
pub(crate) struct ToxicLink {
    toxics: Toxics,
    opened: Instant,
    read: Flow,
    write: Flow,
    reset: bool,
}

impl Drop for ToxicLink {
    fn drop(&mut self) {
        self.toxics.unpark(self.read.key);
        self.toxics.unpark(self.write.key);
    }
}

impl ToxicLink {
    pub fn new(toxics: Toxics) -> Self {
        Self {
            read: Flow::new(&toxics),
            write: Flow::new(&toxics),
            opened: Instant::now(),
            reset: false,
            toxics,
        }
    }

    /// How long the socket must stay open after its owner let go of it: a slow close of what
    /// this side sends.
    pub fn lingers(&self) -> Option<Duration> {
        Effect::of(
            &self.toxics.snapshot(Direction::Upstream),
            Direction::Upstream,
            self.opened,
        )
        .slow_close
    }

    fn verdict<S: 'static>(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut S,
        effect: &Effect,
        reading: bool,
    ) -> Verdict {
        let flow = if reading {
            &mut self.read
        } else {
            &mut self.write
        };
        if self.reset || effect.reset_at.is_some_and(|at| flow.reached(cx, at)) {
            if !self.reset {
                self.reset = true;
                abort(socket);
            }
            return Verdict::Reset;
        }
        match effect.black_hole {
            None => Verdict::Open,
            Some(Some(at)) if flow.reached(cx, at) => Verdict::Closed,
            Some(_) => {
                self.toxics.park(flow.key, cx.waker());
                Verdict::Stalled
            }
        }
    }

    pub fn poll_read<S: AsyncRead + Unpin + 'static>(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut S,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let applied = self.toxics.snapshot_all();
        if applied.is_empty() && self.read.idle() && !self.reset {
            let polled = Pin::new(socket).poll_read(cx, buf);
            if polled.is_pending() {
                self.toxics.park(self.read.key, cx.waker());
            }
            return polled;
        }
        let effect = Effect::of(&applied, Direction::Downstream, self.opened);
        match self.verdict(cx, socket, &effect, true) {
            Verdict::Open => {}
            Verdict::Reset => return Poll::Ready(Err(reset())),
            Verdict::Closed => return Poll::Ready(Ok(())),
            Verdict::Stalled => return Poll::Pending,
        }
        let flow = &mut self.read;
        if flow.from < flow.held.len() {
            if let Some(release) = &mut flow.release {
                ready!(release.as_mut().poll(cx));
                flow.release = None;
            }
            let n = buf.remaining().min(flow.held.len() - flow.from);
            buf.put_slice(&flow.held[flow.from..flow.from + n]);
            flow.from += n;
            if flow.from == flow.held.len() {
                flow.held.clear();
                flow.from = 0;
            }
            return Poll::Ready(Ok(()));
        }
        if let Some(eof) = &mut flow.eof {
            ready!(eof.as_mut().poll(cx));
            return Poll::Ready(Ok(()));
        }
        let max = effect.chunk(buf.remaining(), flow.passed);
        if max == 0 {
            // A full buffer, or the data limit reached: the stream ends here.
            return Poll::Ready(Ok(()));
        }
        let mut taken = vec![0u8; max];
        let mut into = ReadBuf::new(&mut taken);
        if Pin::new(socket).poll_read(cx, &mut into)?.is_pending() {
            self.toxics.park(flow.key, cx.waker());
            return Poll::Pending;
        }
        let n = into.filled().len();
        let now = Instant::now();
        if n == 0 {
            let Some(delay) = effect.slow_close else {
                return Poll::Ready(Ok(()));
            };
            let eof = flow.eof.insert(Box::pin(sleep_until(now + delay)));
            ready!(eof.as_mut().poll(cx));
            return Poll::Ready(Ok(()));
        }
        flow.passed += n as u64;
        taken.truncate(n);
        let at = flow.pace(&effect, n, now) + effect.wait();
        if at <= now || !effect.paces() {
            buf.put_slice(&taken);
            return Poll::Ready(Ok(()));
        }
        flow.held = taken;
        flow.from = 0;
        let release = flow.release.insert(Box::pin(sleep_until(at)));
        if release.as_mut().poll(cx).is_ready() {
            // Passed meanwhile: hand the bytes on at the next poll, which comes at once.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }

    pub fn poll_write<S: AsyncWrite + Unpin + 'static>(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut S,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let applied = self.toxics.snapshot_all();
        if applied.is_empty() && self.write.idle() && !self.reset {
            let polled = Pin::new(socket).poll_write(cx, buf);
            if polled.is_pending() {
                self.toxics.park(self.write.key, cx.waker());
            }
            return polled;
        }
        let effect = Effect::of(&applied, Direction::Upstream, self.opened);
        match self.verdict(cx, socket, &effect, false) {
            Verdict::Open => {}
            Verdict::Reset => return Poll::Ready(Err(reset())),
            Verdict::Closed => return Poll::Ready(Err(closed())),
            Verdict::Stalled => return Poll::Pending,
        }
        let flow = &mut self.write;
        let max = effect.chunk(buf.len(), flow.passed);
        if max == 0 && !buf.is_empty() {
            // The data limit: the peer hears the end, this side an error.
            let _ = ready!(Pin::new(socket).poll_shutdown(cx));
            return Poll::Ready(Err(closed()));
        }
        let now = Instant::now();
        if flow.release.is_none() && effect.paces() {
            let at = flow.pace(&effect, max, now) + effect.wait();
            if at > now {
                flow.release = Some(Box::pin(sleep_until(at)));
            }
        }
        if let Some(release) = &mut flow.release {
            ready!(release.as_mut().poll(cx));
        }
        match Pin::new(socket).poll_write(cx, &buf[..max]) {
            Poll::Pending => {
                self.toxics.park(flow.key, cx.waker());
                Poll::Pending
            }
            Poll::Ready(Ok(n)) => {
                flow.release = None;
                flow.passed += n as u64;
                Poll::Ready(Ok(n))
            }
            failed => failed,
        }
    }

    pub fn poll_flush<S: AsyncWrite + Unpin + 'static>(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut S,
    ) -> Poll<io::Result<()>> {
        if self.reset {
            return Poll::Ready(Err(reset()));
        }
        Pin::new(socket).poll_flush(cx)
    }

    pub fn poll_shutdown<S: AsyncWrite + Unpin + 'static>(
        &mut self,
        cx: &mut Context<'_>,
        socket: &mut S,
    ) -> Poll<io::Result<()>> {
        let applied = self.toxics.snapshot_all();
        if applied.is_empty() && self.write.eof.is_none() && !self.reset {
            return Pin::new(socket).poll_shutdown(cx);
        }
        let effect = Effect::of(&applied, Direction::Upstream, self.opened);
        match self.verdict(cx, socket, &effect, false) {
            Verdict::Open => {}
            Verdict::Reset => return Poll::Ready(Err(reset())),
            Verdict::Closed => return Poll::Ready(Ok(())),
            Verdict::Stalled => return Poll::Pending,
        }
        if let Some(delay) = effect.slow_close {
            let close = self
                .write
                .eof
                .get_or_insert_with(|| Box::pin(sleep_until(Instant::now() + delay)));
            ready!(close.as_mut().poll(cx));
        }
        Pin::new(socket).poll_shutdown(cx)
    }
}

impl Toxics {
    fn snapshot_all(&self) -> Vec<Applied> {
        let mut all = self.snapshot(Direction::Upstream);
        all.extend(self.snapshot(Direction::Downstream));
        all
    }
}

/// A TCP socket closed with a zero linger goes with an RST, as a reset peer's does.
fn abort<S: 'static>(socket: &mut S) {
    if let Some(tcp) = (socket as &mut dyn Any).downcast_mut::<TcpStream>() {
        let _ = tcp.set_zero_linger();
    }
}

fn reset() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionReset,
        "reset by a toxic (reset peer)",
    )
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "closed by a toxic")
}

/// A socket under a hop's toxics, for hops whose owner does not wrap its sockets itself.
#[derive(Debug)]
pub struct Toxicated<S: Send + 'static> {
    /// Taken only when dropped.
    inner: Option<S>,
    link: ToxicLink,
}

impl<S: Send + 'static> Toxicated<S> {
    pub fn new(socket: S, toxics: &Toxics) -> Self {
        Self {
            inner: Some(socket),
            link: ToxicLink::new(toxics.clone()),
        }
    }

    fn parts(&mut self) -> (&mut ToxicLink, &mut S) {
        let socket = self
            .inner
            .as_mut()
            .unwrap_or_else(|| unreachable!("taken only on drop"));
        (&mut self.link, socket)
    }
}

impl<S: Send + 'static> Drop for Toxicated<S> {
    fn drop(&mut self) {
        if let (Some(socket), Some(delay)) = (self.inner.take(), self.link.lingers()) {
            linger(socket, delay);
        }
    }
}

/// Keeps `socket` open for `delay` after its owner let go of it: a slow close.
pub(crate) fn linger<S: Send + 'static>(socket: S, delay: Duration) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move {
            tokio::time::sleep(delay).await;
            drop(socket);
        });
    }
}

impl<S: AsyncRead + Unpin + Send + 'static> AsyncRead for Toxicated<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let (link, socket) = self.parts();
        link.poll_read(cx, socket, buf)
    }
}

impl<S: AsyncWrite + Unpin + Send + 'static> AsyncWrite for Toxicated<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let (link, socket) = self.parts();
        link.poll_write(cx, socket, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (link, socket) = self.parts();
        link.poll_flush(cx, socket)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let (link, socket) = self.parts();
        link.poll_shutdown(cx, socket)
    }
}
