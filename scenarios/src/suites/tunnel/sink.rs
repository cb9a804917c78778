//! A DMS-side HTTP/1.1 server on loopback that the agent's tunnel streams are pointed at:
//! `/large` answers `LARGE` bytes, `/huge` `HUGE`, `/kib` 1 KiB, `/small` a few, `/endless` a
//! slow body that never ends.
//! It counts what it has written per path as it writes, and records every answer it stopped
//! writing, so a scenario sees how much the agent side took in and when it let go.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

/// The size of `/large`: several MB, well past every HTTP/2 window.
pub const LARGE: usize = 8 * 1024 * 1024;
/// The size of `/huge`: far past what flow control lets an agent take in ahead of its reader
/// (HTTP/2 windows plus socket buffers), so an agent that reads answers whole shows at once.
pub const HUGE: usize = 96 * 1024 * 1024;
pub const SMALL: &[u8] = b"small answer";
const CHUNK: usize = 64 * 1024;

/// An answer the sink stopped writing.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ended {
    pub path: String,
    pub written: usize,
    pub complete: bool,
}

#[derive(Debug, Clone)]
pub struct Sink {
    pub addr: SocketAddr,
    ended: Arc<Mutex<Vec<Ended>>>,
    written: Arc<Mutex<std::collections::BTreeMap<String, usize>>>,
    changed: Arc<Notify>,
}

impl Sink {
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let sink = Self {
            addr: listener.local_addr()?,
            ended: Arc::default(),
            written: Arc::default(),
            changed: Arc::default(),
        };
        let serving = sink.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serving.clone().answer(socket));
            }
        });
        Ok(sink)
    }

    pub fn ended(&self) -> Vec<Ended> {
        self.ended.lock().map(|e| e.clone()).unwrap_or_default()
    }

    /// Body bytes written so far on every answer for `path`, finished or not: what the agent
    /// side has taken in.
    pub fn written(&self, path: &str) -> usize {
        self.written
            .lock()
            .map(|w| w.get(path).copied().unwrap_or(0))
            .unwrap_or(0)
    }

    fn wrote(&self, path: &str, n: usize) {
        if let Ok(mut written) = self.written.lock() {
            *written.entry(path.to_owned()).or_default() += n;
        }
    }

    /// Waits until an answer on `path` has ended; `None` when `bound` passed first.
    pub async fn wait_ended(&self, path: &str, bound: Duration) -> Option<Ended> {
        let waiting = async {
            loop {
                let notified = self.changed.notified();
                if let Some(e) = self.ended().into_iter().find(|e| e.path == path) {
                    return e;
                }
                notified.await;
            }
        };
        tokio::time::timeout(bound, waiting).await.ok()
    }

    async fn answer(self, mut socket: TcpStream) {
        let _ = socket.set_nodelay(true);
        let mut head = Vec::new();
        let mut byte = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match socket.read(&mut byte).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&byte[..n]),
            }
        }
        let line = String::from_utf8_lossy(&head);
        let path = line.split(' ').nth(1).unwrap_or("/").to_owned();
        let (written, complete) = match path.as_str() {
            "/large" => {
                self.write_body(&mut socket, &path, Some(LARGE), Duration::ZERO)
                    .await
            }
            "/huge" => {
                self.write_body(&mut socket, &path, Some(HUGE), Duration::ZERO)
                    .await
            }
            "/endless" => {
                self.write_body(&mut socket, &path, None, Duration::from_millis(5))
                    .await
            }
            "/kib" => {
                self.write_body(&mut socket, &path, Some(1024), Duration::ZERO)
                    .await
            }
            _ => {
                let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", SMALL.len());
                let sent = socket.write_all(head.as_bytes()).await.is_ok()
                    && socket.write_all(SMALL).await.is_ok();
                (SMALL.len(), sent)
            }
        };
        if let Ok(mut ended) = self.ended.lock() {
            ended.push(Ended {
                path,
                written,
                complete,
            });
        }
        self.changed.notify_waiters();
    }

    /// Writes a body of `size` bytes (or without end), pausing `pace` between chunks; returns
    /// what was written and whether all of it was.
    async fn write_body(
        &self,
        socket: &mut TcpStream,
        path: &str,
        size: Option<usize>,
        pace: Duration,
    ) -> (usize, bool) {
        let head = match size {
            Some(n) => format!("HTTP/1.1 200 OK\r\ncontent-length: {n}\r\n\r\n"),
            None => "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n".to_owned(),
        };
        if socket.write_all(head.as_bytes()).await.is_err() {
            return (0, false);
        }
        let chunk = vec![b'x'; CHUNK];
        let mut written = 0;
        loop {
            let n = size.map_or(CHUNK, |s| (s - written).min(CHUNK));
            if n == 0 {
                return (written, true);
            }
            let sent = match size {
                Some(_) => socket.write_all(&chunk[..n]).await,
                None => {
                    let framed = [format!("{n:x}\r\n").as_bytes(), &chunk[..n], b"\r\n"].concat();
                    socket.write_all(&framed).await
                }
            };
            if sent.is_err() {
                return (written, false);
            }
            written += n;
            self.wrote(path, n);
            if !pace.is_zero() {
                tokio::time::sleep(pace).await;
            }
        }
    }
}
