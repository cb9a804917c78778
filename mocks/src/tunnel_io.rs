//! A WebSocket connection as a byte stream: binary messages carry the bytes of whatever runs
//! on top (HTTP/2 here), in order. Pings and pongs stay at the WebSocket layer: incoming pings
//! are answered by tungstenite, and a [`WsControl`] handle asks for a ping or a close frame to
//! go out between two binary messages, or kills the stream outright. A close frame, the end of
//! the socket or a kill reads as EOF.
//!
//! Shutting the stream down is the closing handshake (RFC 6455 §7.1.1): the close frame goes
//! out, then whatever the peer still sends is read and dropped until its own close, and only
//! then may the socket go. A TCP socket closed with bytes from the peer unread, or with bytes
//! still arriving, is reset (RFC 1122 §4.2.2.13), and the reset throws away what it still held
//! for the peer: the tail of the last answer, on a loaded machine where the peer reads late.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_util::{Sink, Stream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// The largest WebSocket message either end of a tunnel accepts: an HTTP/2 frame (at most
/// 256 KiB here) with room to spare, and a bound on what a hostile peer can make it hold.
const MAX_MESSAGE: usize = 1024 * 1024;

/// The WebSocket settings of both ends of every tunnel. The read buffer is allocated per
/// connection and most tunnels idle, so it is kept small (tungstenite's default is 128 KiB).
pub fn tunnel_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// What a [`WsControl`] asks the stream to send.
enum Control {
    Ping(oneshot::Sender<()>),
    Close(Option<CloseFrame>, oneshot::Sender<()>),
}

/// Asks a running [`WsIo`] to ping, close or end, and hears of its pongs. Cheap to clone.
#[derive(Debug, Clone)]
pub struct WsControl {
    orders: mpsc::UnboundedSender<Control>,
    kill: CancellationToken,
    /// How many pongs the stream has read.
    pongs: watch::Receiver<u64>,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Control::Ping(_) => "Ping",
            Control::Close(..) => "Close",
        })
    }
}

impl WsControl {
    /// Whether the stream is gone (dropped with whatever ran on it).
    pub fn is_closed(&self) -> bool {
        self.orders.is_closed()
    }

    /// Resolves once the stream is gone.
    pub async fn closed(&self) {
        self.orders.closed().await;
    }

    /// Pings and waits for a pong: false when none came within `bound` (the peer is dead or
    /// unreachable) or the stream is gone.
    pub async fn ping_answered(&self, bound: std::time::Duration) -> bool {
        let mut pongs = self.pongs.clone();
        pongs.borrow_and_update();
        // Bounded as a whole: on a link that carries nothing, the ping is never even written.
        let answered = async {
            self.ping().await;
            pongs.changed().await.is_ok()
        };
        tokio::time::timeout(bound, answered).await.unwrap_or(false)
    }

    /// Sends a ping; returns once it is written, or at once when the stream is gone.
    pub async fn ping(&self) {
        let (done, written) = oneshot::channel();
        if self.orders.send(Control::Ping(done)).is_ok() {
            let _ = written.await;
        }
    }

    /// Ends the stream at once, whatever the peer does: reads see its end and writes fail,
    /// so whatever runs on top fails its work in flight instead of waiting on the peer.
    pub fn kill(&self) {
        self.kill.cancel();
    }

    /// Sends a close frame; returns once it is written, or at once when the stream is gone.
    /// Nothing more is written after it; reading goes on until the peer's close.
    pub async fn close(&self, frame: Option<CloseFrame>) {
        let (done, written) = oneshot::channel();
        if self.orders.send(Control::Close(frame, done)).is_ok() {
            let _ = written.await;
        }
    }
}

/// `AsyncRead + AsyncWrite` over a WebSocket.
#[derive(Debug)]
pub struct WsIo<S> {
    ws: WebSocketStream<S>,
    /// The unread rest of the last binary message.
    unread: Bytes,
    orders: mpsc::UnboundedReceiver<Control>,
    /// An order waiting for the sink to take its frame.
    queued: Option<Control>,
    /// Orders whose frame is sent but not yet flushed.
    flushing: Vec<oneshot::Sender<()>>,
    closed: bool,
    /// Resolves when the control handle kills the stream.
    killed: Pin<Box<WaitForCancellationFutureOwned>>,
    dead: bool,
    stalled: CancellationToken,
    pongs: watch::Sender<u64>,
}

/// The control handle hears that the stream is gone before its socket is let go: whoever saw
/// the socket closed (on the DMS's egress record, say) and asks next finds the stream closed.
impl<S> Drop for WsIo<S> {
    fn drop(&mut self) {
        self.orders.close();
    }
}

impl<S> WsIo<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    pub fn new(ws: WebSocketStream<S>) -> (Self, WsControl) {
        let (control, orders) = mpsc::unbounded_channel();
        let kill = CancellationToken::new();
        let (pongs, heard) = watch::channel(0);
        let io = Self {
            pongs,
            stalled: CancellationToken::new(),
            killed: Box::pin(kill.clone().cancelled_owned()),
            dead: false,
            ws,
            unread: Bytes::new(),
            orders,
            queued: None,
            flushing: Vec::new(),
            closed: false,
        };
        let control = WsControl {
            orders: control,
            kill,
            pongs: heard,
        };
        (io, control)
    }

    /// Makes the stream go silent once `silence` is cancelled: from then on it neither reads
    /// nor writes, as a peer that crashed or a middlebox that drops everything would look from
    /// the other side. Only a kill ends it.
    pub fn silenced_by(mut self, silence: CancellationToken) -> Self {
        self.stalled = silence;
        self
    }

    /// Whether the control handle killed the stream; registers for the kill otherwise.
    fn is_dead(&mut self, cx: &mut Context<'_>) -> bool {
        if !self.dead && self.killed.as_mut().poll(cx).is_ready() {
            self.dead = true;
        }
        self.dead
    }

    /// Writes what the control handle asked for. Called from every poll, so whichever of
    /// reading or writing the stack above is waiting on carries the order out.
    fn poll_orders(&mut self, cx: &mut Context<'_>) {
        loop {
            if self.queued.is_none() {
                match self.orders.poll_recv(cx) {
                    Poll::Ready(Some(order)) => self.queued = Some(order),
                    Poll::Ready(None) | Poll::Pending => break,
                }
            }
            if self.closed {
                // Nothing goes out after a close: the order is answered unperformed.
                self.queued = None;
                continue;
            }
            match Pin::new(&mut self.ws).poll_ready(cx) {
                Poll::Pending => break,
                Poll::Ready(Err(_)) => {
                    self.queued = None;
                    self.closed = true;
                }
                Poll::Ready(Ok(())) => {
                    let (message, done) = match self.queued.take() {
                        Some(Control::Ping(done)) => (Message::Ping(Bytes::new()), done),
                        Some(Control::Close(frame, done)) => {
                            self.closed = true;
                            (Message::Close(frame), done)
                        }
                        None => break,
                    };
                    if Pin::new(&mut self.ws).start_send(message).is_ok() {
                        self.flushing.push(done);
                    }
                }
            }
        }
        if !self.flushing.is_empty() && Pin::new(&mut self.ws).poll_flush(cx).is_ready() {
            self.flushing.drain(..).for_each(|done| {
                let _ = done.send(());
            });
        }
    }
}

fn broken(e: impl std::error::Error + Send + Sync + 'static) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, e)
}

impl<S> AsyncRead for WsIo<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_dead(cx) {
            return Poll::Ready(Ok(()));
        }
        if this.stalled.is_cancelled() {
            // Silent for good: only a kill (registered above) ends the wait.
            return Poll::Pending;
        }
        this.poll_orders(cx);
        loop {
            if !this.unread.is_empty() {
                let n = this.unread.len().min(buf.remaining());
                buf.put_slice(&this.unread.split_to(n));
                return Poll::Ready(Ok(()));
            }
            match ready!(Pin::new(&mut this.ws).poll_next(cx)) {
                Some(Ok(Message::Binary(bytes))) => this.unread = bytes,
                // The peer's close: polled on, tungstenite writes the answering close and
                // then ends the stream (or, on the client side, once the server has closed
                // the socket, as RFC 6455 §7.1.1 has it).
                Some(Ok(Message::Close(_))) => {}
                // The end of the socket: end of stream.
                None => return Poll::Ready(Ok(())),
                Some(Ok(Message::Text(_))) => {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "a text message on a byte tunnel",
                    )));
                }
                Some(Ok(Message::Pong(_))) => this.pongs.send_modify(|heard| *heard += 1),
                // Pings are answered by tungstenite.
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(broken(e))),
            }
        }
    }
}

impl<S> AsyncWrite for WsIo<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.poll_orders(cx);
        if this.closed || this.is_dead(cx) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if this.stalled.is_cancelled() {
            return Poll::Pending;
        }
        ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(broken)?;
        Pin::new(&mut this.ws)
            .start_send(Message::Binary(Bytes::copy_from_slice(buf)))
            .map_err(broken)?;
        Poll::Ready(Ok(buf.len()))
    }

    /// HTTP/2 writes a frame as its header and its payload in two slices: gathered here into
    /// one message, a DATA frame costs one WebSocket frame instead of two, and the payload is
    /// copied once, as in `poll_write`.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.poll_orders(cx);
        if this.closed || this.is_dead(cx) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if this.stalled.is_cancelled() {
            return Poll::Pending;
        }
        ready!(Pin::new(&mut this.ws).poll_ready(cx)).map_err(broken)?;
        let total = bufs.iter().map(|b| b.len()).sum();
        let mut message = Vec::with_capacity(total);
        for buf in bufs {
            message.extend_from_slice(buf);
        }
        Pin::new(&mut this.ws)
            .start_send(Message::Binary(Bytes::from(message)))
            .map_err(broken)?;
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Killed, nothing more goes out: not even what waits in the buffer.
        if this.is_dead(cx) {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        this.poll_orders(cx);
        Pin::new(&mut this.ws).poll_flush(cx).map_err(broken)
    }

    /// The closing handshake: ready once the close frame is out and the peer has closed too
    /// (its close frame read, or its socket ended), so dropping the socket then loses nothing
    /// either side sent. A kill ends the wait; a silenced stream writes nothing and waits for
    /// one.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.is_dead(cx) {
            return Poll::Ready(Ok(()));
        }
        if this.stalled.is_cancelled() {
            return Poll::Pending;
        }
        // Queues the close frame unless one went out already, and flushes.
        this.closed = true;
        match ready!(Pin::new(&mut this.ws).poll_close(cx)) {
            Ok(()) | Err(tungstenite::Error::AlreadyClosed) => {}
            Err(e) => return Poll::Ready(Err(broken(e))),
        }
        // Whatever the peer sent before its close is dropped: nothing reads it any more.
        while let Some(Ok(_)) = ready!(Pin::new(&mut this.ws).poll_next(cx)) {}
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
    use tokio_tungstenite::tungstenite::protocol::Role;

    use super::*;

    async fn pair() -> (
        (WsIo<DuplexStream>, WsControl),
        (WsIo<DuplexStream>, WsControl),
    ) {
        let (a, b) = tokio::io::duplex(64 * 1024);
        let a = WebSocketStream::from_raw_socket(a, Role::Client, Some(tunnel_config())).await;
        let b = WebSocketStream::from_raw_socket(b, Role::Server, Some(tunnel_config())).await;
        (WsIo::new(a), WsIo::new(b))
    }

    #[tokio::test]
    async fn bytes_cross_in_order_and_a_ping_goes_out_between_them() {
        let ((mut client, control), (mut server, _)) = pair().await;
        let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let to_send = sent.clone();
        // The client writes, then waits on reading as HTTP/2 does: its polls carry the ping.
        let client_side = tokio::spawn(async move {
            client.write_all(&to_send[..100_000]).await?;
            client.flush().await?;
            let mut buf = [0u8; 16];
            tokio::select! {
                read = client.read(&mut buf) => { read?; }
                () = tokio::time::sleep(std::time::Duration::from_millis(300)) => {}
            }
            client.write_all(&to_send[100_000..]).await?;
            client.flush().await?;
            std::io::Result::Ok(())
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), control.ping())
            .await
            .unwrap();
        let mut got = vec![0u8; sent.len()];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(got, sent);
        client_side.await.unwrap().unwrap();
    }

    #[tokio::test]
    async fn a_kill_ends_reading_and_writing_at_once() {
        let ((mut client, control), (_server, _)) = pair().await;
        control.kill();
        let mut buf = [0u8; 16];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        assert!(client.write_all(b"late").await.is_err());
    }

    #[tokio::test]
    async fn the_peers_close_frame_reads_as_the_end() {
        let ((mut client, control), (mut server, _)) = pair().await;
        let closing = tokio::spawn(async move { control.close(None).await });
        let mut buf = [0u8; 16];
        // The client's close goes out on its next poll.
        let (read, _) = tokio::join!(server.read(&mut buf), async {
            let _ = tokio::time::timeout(
                std::time::Duration::from_millis(200),
                client.read(&mut [0u8; 1]),
            )
            .await;
        });
        assert_eq!(read.unwrap(), 0);
        closing.await.unwrap();
    }

    #[tokio::test]
    async fn shutdown_returns_only_once_the_peer_has_read_up_to_the_close() {
        let ((mut client, _), (mut server, _)) = pair().await;
        let sent: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        // Bytes from the peer that the closing side never reads: closing a TCP socket on
        // them resets it, and the reset drops what was still on its way to the peer.
        server.write_all(b"unread").await.unwrap();
        server.flush().await.unwrap();
        let mut closing = std::pin::pin!(async {
            client.write_all(&sent).await?;
            client.shutdown().await
        });
        let first = std::future::poll_fn(|cx| Poll::Ready(closing.as_mut().poll(cx))).await;
        assert!(
            first.is_pending(),
            "shut down before the peer read anything"
        );
        let mut got = Vec::new();
        server.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, sent);
        // The server answered the close; the client is done once the server's socket goes.
        drop(server);
        closing.await.unwrap();
    }

    #[tokio::test]
    async fn a_kill_ends_a_shutdown_that_waits_on_a_silent_peer() {
        let ((mut client, control), (_server, _)) = pair().await;
        let (shut, ()) = tokio::join!(client.shutdown(), async { control.kill() });
        shut.unwrap();
    }
}
