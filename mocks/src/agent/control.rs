//! The gateway's end of the DMA's control channel: the requests the DMA sends through its
//! [`Gateway`](crate::dms::Gateway) handle, answered with the agent, whether they come over a
//! channel in this process or over the socket a gateway process dials.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::{Agent, AgentError};
use crate::dms::{Asked, ControlAnswer, ControlError, ControlRequest, Withdrawal, read_line};
use crate::world::{Clock, Lifetime};

impl From<AgentError> for ControlError {
    fn from(error: AgentError) -> Self {
        match error {
            AgentError::PermissionDenied { user, permission } => {
                ControlError::PermissionDenied { user, permission }
            }
            AgentError::AlreadyConnected => ControlError::AlreadyConnected,
            AgentError::NotConnected => ControlError::NotConnected,
            AgentError::Stopped => ControlError::Stopped,
            other => ControlError::Failed(other.to_string()),
        }
    }
}

/// Serves an in-process gateway's requests with `agent` until the DMA drops its handle.
pub fn serve_in_process(
    agent: Agent,
    clock: Clock,
    mut inbox: mpsc::Receiver<Asked>,
    lifetime: &Lifetime,
) {
    lifetime.spawn(async move {
        while let Some((request, reply)) = inbox.recv().await {
            let _ = reply.send(answer(&agent, &clock, request).await);
        }
    });
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
            Err(e) => {
                ControlAnswer::Failed(ControlError::Failed(format!("not a control request: {e}")))
            }
        };
        let mut text = serde_json::to_string(&answer).map_err(std::io::Error::other)?;
        text.push('\n');
        writer.write_all(text.as_bytes()).await?;
    }
    Ok(())
}

async fn answer(agent: &Agent, clock: &Clock, request: ControlRequest) -> ControlAnswer {
    let failed = |e: AgentError| ControlAnswer::Failed(e.into());
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
            // A process's clock follows the DMS's by these messages; in this process the
            // clock is the DMS's own and is never behind.
            let behind = now_unix.saturating_sub(clock.unix_seconds());
            if behind > 0 {
                clock.advance(Duration::from_secs(behind));
            }
            agent.settle().await;
            ControlAnswer::Done
        }
    }
}
