//! The DMA's control channel to a gateway that runs as its own process: the DMA listens and
//! the gateway dials it (as the real Cloud Gateway reaches its DMS over the message broker
//! both connect to), so the gateway still listens on nothing. One JSON line per request, one
//! per answer, in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, watch};

use super::{Agent, AgentError, Withdrawal};
use crate::dms::{ControlAnswer, ControlRequest};
use crate::world::{Clock, Lifetime};

/// The longest line either side reads.
const LINE_LIMIT: u64 = 64 * 1024;

struct Line {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

/// The DMA's end: whichever gateway process dialled in last.
pub(super) struct RemoteLink {
    line: Mutex<Option<Line>>,
    attached: watch::Sender<bool>,
    clock: Clock,
}

impl std::fmt::Debug for RemoteLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteLink")
            .field("attached", &*self.attached.borrow())
            .finish_non_exhaustive()
    }
}

impl RemoteLink {
    pub fn listen(listener: TcpListener, clock: Clock, lifetime: &Lifetime) -> Arc<Self> {
        let link = Arc::new(Self {
            line: Mutex::new(None),
            attached: watch::Sender::new(false),
            clock,
        });
        let accepting = link.clone();
        lifetime.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                let _ = socket.set_nodelay(true);
                let (reader, writer) = socket.into_split();
                *accepting.line.lock().await = Some(Line {
                    reader: BufReader::new(reader),
                    writer,
                });
                accepting.attached.send_replace(true);
            }
        });
        link
    }

    /// The settle request, carrying the environment's time to the process's clock.
    pub fn settle_request(&self) -> ControlRequest {
        ControlRequest::Settle {
            now_unix: self.clock.unix_seconds(),
        }
    }

    pub async fn ask(&self, request: &ControlRequest) -> Result<ControlAnswer, AgentError> {
        let mut guard = self.line.lock().await;
        let line = guard.as_mut().ok_or(AgentError::Detached)?;
        let answered = exchange(line, request).await;
        if answered.is_err() {
            *guard = None;
            self.attached.send_replace(false);
        }
        answered
    }

    /// Whether a gateway process is attached, waiting for one at most `bound`.
    pub async fn wait_attached(&self, bound: Duration) -> bool {
        let mut attached = self.attached.subscribe();
        tokio::time::timeout(bound, attached.wait_for(|a| *a))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

async fn exchange(line: &mut Line, request: &ControlRequest) -> Result<ControlAnswer, AgentError> {
    let mut text = serde_json::to_string(request).map_err(|_| AgentError::Detached)?;
    text.push('\n');
    line.writer
        .write_all(text.as_bytes())
        .await
        .map_err(|_| AgentError::Detached)?;
    let answer = read_line(&mut line.reader)
        .await
        .ok_or(AgentError::Detached)?;
    serde_json::from_str(&answer).map_err(|_| AgentError::Detached)
}

async fn read_line<R: tokio::io::AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<String> {
    let mut text = String::new();
    let read = reader.take(LINE_LIMIT).read_line(&mut text).await.ok()?;
    (read > 0 && text.ends_with('\n')).then_some(text)
}

/// The gateway process's end: dials the DMA at `control` and serves its requests with
/// `agent` until the DMA hangs up.
pub async fn serve_control(
    agent: &Agent,
    clock: &Clock,
    control: SocketAddr,
) -> std::io::Result<()> {
    let socket = TcpStream::connect(control).await?;
    let _ = socket.set_nodelay(true);
    let (reader, mut writer) = socket.into_split();
    let mut reader = BufReader::new(reader);
    while let Some(line) = read_line(&mut reader).await {
        let answer = match serde_json::from_str::<ControlRequest>(&line) {
            Ok(request) => answer(agent, clock, request).await,
            Err(e) => ControlAnswer::Failed(format!("not a control request: {e}")),
        };
        let mut text = serde_json::to_string(&answer).map_err(std::io::Error::other)?;
        text.push('\n');
        writer.write_all(text.as_bytes()).await?;
    }
    Ok(())
}

async fn answer(agent: &Agent, clock: &Clock, request: ControlRequest) -> ControlAnswer {
    let failed = |e: AgentError| ControlAnswer::Failed(e.to_string());
    match request {
        ControlRequest::Enable(caller) => agent
            .enable(caller)
            .await
            .map_or_else(failed, ControlAnswer::Paired),
        ControlRequest::Disconnect(caller) => agent
            .disconnect(caller)
            .await
            .map_or_else(failed, |()| ControlAnswer::Done),
        ControlRequest::Publish(notice) => agent
            .publish_share(*notice)
            .await
            .map_or_else(failed, ControlAnswer::LinksSent),
        ControlRequest::Withdraw { share_id } => {
            agent
                .withdraw_share(&share_id)
                .await
                .map_or_else(failed, |withdrawal| match withdrawal {
                    Withdrawal::Sent => ControlAnswer::Done,
                    Withdrawal::Pending(why) => ControlAnswer::WithdrawalPending(why),
                })
        }
        ControlRequest::Report => agent
            .reported()
            .await
            .map_or_else(failed, ControlAnswer::State),
        ControlRequest::Settle { now_unix } => {
            let behind = now_unix.saturating_sub(clock.unix_seconds());
            if behind > 0 {
                clock.advance(Duration::from_secs(behind));
            }
            agent.settle().await;
            ControlAnswer::Done
        }
    }
}
