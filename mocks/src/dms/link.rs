//! The DMA's end of its control channel to the Cloud Gateway: the one interface the DMA drives
//! the gateway through, the same whether the gateway runs in this process (requests go over a
//! channel to a task that serves them) or as its own process, which dials the DMA (as the real
//! Cloud Gateway reaches its DMS over the message broker both connect to), so the gateway
//! still listens on nothing. On the socket: one JSON line per request, one per answer, in order.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use super::{
    Caller, ControlAnswer, ControlError, ControlRequest, Pairing, Reported, ShareNotice, Withdrawal,
};
use crate::world::{Clock, Lifetime};

/// The longest line either side reads.
const LINE_LIMIT: u64 = 64 * 1024;

/// One request of an in-process gateway, with where its answer goes.
pub type Asked = (ControlRequest, oneshot::Sender<ControlAnswer>);

/// The DMA's handle on its Cloud Gateway. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Gateway {
    link: Link,
    clock: Clock,
}

#[derive(Debug, Clone)]
enum Link {
    InProcess(mpsc::Sender<Asked>),
    Process(Arc<ProcessLink>),
}

impl Gateway {
    /// A gateway in this process: the requests arrive on the receiver, for the gateway's side
    /// to answer. `clock` is the DMS's.
    pub fn in_process(clock: Clock) -> (Self, mpsc::Receiver<Asked>) {
        let (asks, inbox) = mpsc::channel(16);
        let gateway = Self {
            link: Link::InProcess(asks),
            clock,
        };
        (gateway, inbox)
    }

    /// A gateway that runs as its own process and dials `listener`; `clock` is the DMS's,
    /// carried to the process at each settle.
    pub fn over_channel(listener: TcpListener, clock: Clock, lifetime: &Lifetime) -> Self {
        Self {
            link: Link::Process(ProcessLink::listen(listener, lifetime)),
            clock,
        }
    }

    /// Whether the gateway is there to be driven: an in-process one always is; a process
    /// once it has dialled in (waiting at most `bound`).
    pub async fn attached(&self, bound: Duration) -> bool {
        match &self.link {
            Link::InProcess(_) => true,
            Link::Process(link) => link.wait_attached(bound).await,
        }
    }

    /// An Administrator asks the DMS to connect: starts the connect flow.
    pub async fn enable(&self, caller: Caller) -> Result<Pairing, ControlError> {
        match self.ask(ControlRequest::Enable(caller)).await? {
            ControlAnswer::Paired(pairing) => Ok(pairing),
            other => Err(unexpected(other)),
        }
    }

    /// A user asks the DMS to disconnect from the cloud.
    pub async fn disconnect(&self, caller: Caller) -> Result<(), ControlError> {
        match self.ask(ControlRequest::Disconnect(caller)).await? {
            ControlAnswer::Done => Ok(()),
            other => Err(unexpected(other)),
        }
    }

    /// A DMS user shared a dashboard: the gateway opens the share user's session and tells the
    /// cloud, which mails the links. Answers how many links the cloud sent.
    pub async fn publish_share(&self, notice: ShareNotice) -> Result<u64, ControlError> {
        match self.ask(ControlRequest::Publish(Box::new(notice))).await? {
            ControlAnswer::LinksSent(sent) => Ok(sent),
            other => Err(unexpected(other)),
        }
    }

    /// A share was deleted on the DMS: the gateway tells the cloud, which ends its links, or
    /// keeps the end to send as soon as it can (`Withdrawal::Pending`).
    pub async fn withdraw_share(&self, share_id: &str) -> Result<Withdrawal, ControlError> {
        let request = ControlRequest::Withdraw {
            share_id: share_id.to_owned(),
        };
        match self.ask(request).await? {
            ControlAnswer::Done => Ok(Withdrawal::Sent),
            ControlAnswer::WithdrawalPending(why) => Ok(Withdrawal::Pending(why)),
            other => Err(unexpected(other)),
        }
    }

    /// The gateway's own account of its state: for the DMS's user interface, never a verdict.
    pub async fn reported(&self) -> Result<Reported, ControlError> {
        match self.ask(ControlRequest::Report).await? {
            ControlAnswer::State(state) => Ok(state),
            other => Err(unexpected(other)),
        }
    }

    /// Returns once the gateway has acted on every request sent and every clock advance made
    /// before this call: a synchronisation point, not a claim about its state.
    pub async fn settle(&self) {
        let request = ControlRequest::Settle {
            now_unix: self.clock.unix_seconds(),
        };
        let _ = self.ask(request).await;
    }

    async fn ask(&self, request: ControlRequest) -> Result<ControlAnswer, ControlError> {
        match &self.link {
            Link::InProcess(asks) => {
                let (reply, answer) = oneshot::channel();
                asks.send((request, reply))
                    .await
                    .map_err(|_| ControlError::Stopped)?;
                answer.await.map_err(|_| ControlError::Stopped)
            }
            Link::Process(link) => link.ask(&request).await,
        }
    }
}

/// A failure the gateway answered, or an answer that does not fit the request.
fn unexpected(answer: ControlAnswer) -> ControlError {
    match answer {
        ControlAnswer::Failed(error) => error,
        other => ControlError::Failed(format!("unexpected answer {other:?}")),
    }
}

struct Line {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

/// The socket end: whichever gateway process dialled in last.
struct ProcessLink {
    line: Mutex<Option<Line>>,
    attached: watch::Sender<bool>,
}

impl std::fmt::Debug for ProcessLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessLink")
            .field("attached", &*self.attached.borrow())
            .finish_non_exhaustive()
    }
}

impl ProcessLink {
    fn listen(listener: TcpListener, lifetime: &Lifetime) -> Arc<Self> {
        let link = Arc::new(Self {
            line: Mutex::new(None),
            attached: watch::Sender::new(false),
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

    async fn ask(&self, request: &ControlRequest) -> Result<ControlAnswer, ControlError> {
        let mut guard = self.line.lock().await;
        let line = guard.as_mut().ok_or(ControlError::Detached)?;
        let answered = exchange(line, request).await;
        if answered.is_err() {
            *guard = None;
            self.attached.send_replace(false);
        }
        answered
    }

    async fn wait_attached(&self, bound: Duration) -> bool {
        let mut attached = self.attached.subscribe();
        tokio::time::timeout(bound, attached.wait_for(|a| *a))
            .await
            .is_ok_and(|r| r.is_ok())
    }
}

async fn exchange(
    line: &mut Line,
    request: &ControlRequest,
) -> Result<ControlAnswer, ControlError> {
    let mut text = serde_json::to_string(request).map_err(|_| ControlError::Detached)?;
    text.push('\n');
    line.writer
        .write_all(text.as_bytes())
        .await
        .map_err(|_| ControlError::Detached)?;
    let answer = read_line(&mut line.reader)
        .await
        .ok_or(ControlError::Detached)?;
    serde_json::from_str(&answer).map_err(|_| ControlError::Detached)
}

/// One line of the control channel, at most [`LINE_LIMIT`] long; `None` at its end.
pub async fn read_line<R: tokio::io::AsyncRead + Unpin>(
    reader: &mut BufReader<R>,
) -> Option<String> {
    let mut text = String::new();
    let read = reader.take(LINE_LIMIT).read_line(&mut text).await.ok()?;
    (read > 0 && text.ends_with('\n')).then_some(text)
}
