//! The tunnel (SHARE-3): the cloud reaches the DMS through the agent's one outbound WSS
//! connection, as independent HTTP/2 streams. A large answer never holds a small one back, a
//! reset stream is let go on the DMS side, a killed tunnel fails its streams and is dialled
//! again, and an upgrade without a valid token is refused.

mod recipient;
pub(crate) mod recipient_client;
pub(crate) mod sink;

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::{self, TunnelBody, TunnelResponse, next_chunk};
use mocks::world::Fault;

use crate::clients::CloudClient;
use crate::steps::{self, PROMPTLY};
use crate::{Ctx, Failure, Scenario, Suite};
use sink::Sink;

/// The agent's retry interval after a lost tunnel.
const RETRY: Duration = Duration::from_secs(10);

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "tunnel.small-answer-not-held-behind-large",
            suite: Suite::Tunnel,
            title: "A small answer completes while a large one on the same tunnel is still unread",
            requirements: &["SHARE-3"],
            catches: &[Fault::AgentNoFlowControl],
            body: |ctx| Box::pin(small_answer_not_held_behind_large(ctx)),
        },
        Scenario {
            id: "tunnel.reset-stream-frees-the-dms-side",
            suite: Suite::Tunnel,
            title: "A stream the cloud resets mid-answer is let go on the DMS side",
            requirements: &["SHARE-3"],
            catches: &[Fault::AgentNoFlowControl],
            body: |ctx| Box::pin(reset_stream_frees_the_dms_side(ctx)),
        },
        Scenario {
            id: "tunnel.killed-tunnel-fails-streams-and-agent-reconnects",
            suite: Suite::Tunnel,
            title: "A tunnel the cloud kills fails its streams in flight with an error, and the agent dials a new one",
            requirements: &["SHARE-3"],
            catches: &[Fault::AgentNoReconnect],
            body: |ctx| Box::pin(killed_tunnel_fails_streams_and_agent_reconnects(ctx)),
        },
        Scenario {
            id: "tunnel.upgrade-without-valid-token-refused",
            suite: Suite::Tunnel,
            title: "A tunnel upgrade without a valid token is refused with 401",
            requirements: &["SHARE-3"],
            catches: &[Fault::CloudTunnelAcceptsNoToken],
            body: |ctx| Box::pin(upgrade_without_valid_token_refused(ctx)),
        },
        Scenario {
            id: "tunnel.recipient-download-streams-through-the-tunnel",
            suite: Suite::Tunnel,
            title: "A signed-in recipient's large download through the sharing front end arrives byte-exact, logged on every hop, its first bytes before the DMA finished writing",
            requirements: &["SHARE-3"],
            catches: &[Fault::CloudSharingBuffersWholeAnswer],
            body: |ctx| {
                Box::pin(recipient::recipient_download_streams_through_the_tunnel(
                    ctx,
                ))
            },
        },
    ]
}

/// A connected DMS whose tunnel streams go to a fresh sink.
async fn connected_with_sink(ctx: &Ctx) -> Result<(Environment, Sink), Failure> {
    let sink = Sink::start()
        .await
        .map_err(|e| Failure::Harness(format!("sink did not start: {e}")))?;
    let env = ctx
        .environment_with(mocks::Options {
            tunnel_target: Some(sink.addr),
            ..ctx.options()
        })
        .await?;
    steps::connect_dms(&env).await?;
    Ok((env, sink))
}

/// Opens a stream for `path`; the answer's head, or `None` when it did not come promptly.
async fn open(env: &Environment, path: &str) -> Result<Option<TunnelResponse>, Failure> {
    let request = cloud::get(path).map_err(|e| Failure::Harness(e.to_string()))?;
    let sending = env
        .cloud()
        .send_through_tunnel(&env.accounts().dms_id, request);
    match tokio::time::timeout(PROMPTLY, sending).await {
        Err(_) => Ok(None),
        Ok(Ok(response)) => Ok(Some(response)),
        Ok(Err(e)) => Err(Failure::expectation(
            format!("GET {path} through the tunnel"),
            "an answer",
            e.to_string(),
        )),
    }
}

/// Reads the rest of `body`; the byte count, or the error the stream ended with.
async fn drain(body: &mut TunnelBody) -> Result<usize, String> {
    let mut read = 0;
    while let Some(chunk) = next_chunk(body).await.map_err(|e| e.to_string())? {
        read += chunk.len();
    }
    Ok(read)
}

async fn small_answer_not_held_behind_large(ctx: Ctx) -> Result<(), Failure> {
    let (env, _sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let large = open(&env, "/large").await?;
    let Some(large) = large else {
        return Err(Failure::expectation(
            "the head of the large answer",
            "within a few seconds",
            "nothing",
        ));
    };
    let mut large = large.into_body();
    // One chunk of the large answer is read, the rest left waiting in the tunnel.
    let mut large_read = match next_chunk(&mut large).await {
        Ok(Some(chunk)) => chunk.len(),
        other => {
            return Err(Failure::expectation(
                "the first bytes of the large answer",
                "a chunk",
                format!("{other:?}"),
            ));
        }
    };
    let small = match open(&env, "/small").await? {
        Some(small) => {
            let mut body = small.into_body();
            tokio::time::timeout(PROMPTLY, drain(&mut body)).await.ok()
        }
        None => None,
    };
    ev.saw(
        "bytes of the large answer read when the small one ended",
        large_read,
    );
    ev.expect(
        "the small answer, asked for while the large one is unread",
        matches!(small, Some(Ok(n)) if n == sink::SMALL.len()),
        "complete, before the large answer is read any further",
        format!("{small:?}"),
    )?;
    ev.expect(
        "the large answer when the small one was complete",
        large_read < sink::LARGE,
        "still being read",
        large_read,
    )?;
    large_read += drain(&mut large)
        .await
        .map_err(|e| Failure::expectation("the rest of the large answer", "read", e))?;
    ev.expect_eq("bytes of the large answer", sink::LARGE, large_read)
}

async fn reset_stream_frees_the_dms_side(ctx: Ctx) -> Result<(), Failure> {
    let (env, sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let answer = open(&env, "/endless").await?;
    let first = match answer {
        Some(answer) => {
            let mut body = answer.into_body();
            let first = tokio::time::timeout(PROMPTLY, next_chunk(&mut body)).await;
            let first = matches!(first, Ok(Ok(Some(_))));
            // Dropping the body resets the stream.
            drop(body);
            first
        }
        None => false,
    };
    ev.expect(
        "the first bytes of an endless answer",
        first,
        "streamed through the tunnel as they come",
        "nothing within a few seconds",
    )?;
    let ended = sink.wait_ended("/endless", PROMPTLY).await;
    ev.expect(
        "the DMS-side answer after the cloud reset its stream",
        ended.as_ref().is_some_and(|e| !e.complete),
        "abandoned: the agent let go of the stream",
        sink.ended(),
    )
}

async fn killed_tunnel_fails_streams_and_agent_reconnects(ctx: Ctx) -> Result<(), Failure> {
    let (env, _sink) = connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    let dms_id = env.accounts().dms_id.clone();
    let tunnels = env.cloud().tunnels();
    let Some(first) = tunnels.live().into_iter().find(|t| t.dms_id == dms_id) else {
        return Err(Failure::Harness("no live tunnel after connecting".into()));
    };
    let Some(answer) = open(&env, "/endless").await? else {
        return Err(Failure::expectation(
            "the head of an endless answer",
            "within a few seconds",
            "nothing",
        ));
    };
    let mut body = answer.into_body();
    tunnels.close(first.id);
    let outcome = tokio::time::timeout(PROMPTLY, drain(&mut body)).await;
    ev.expect(
        "the stream in flight when the cloud killed its tunnel",
        matches!(outcome, Ok(Err(_))),
        "failed with an error, promptly",
        format!("{outcome:?}"),
    )?;
    let closed = tunnels.wait_live(&dms_id, 0, PROMPTLY).await;
    ev.expect("the killed tunnel", closed, "closed", tunnels.events())?;
    // The agent notices the loss on its own socket; each retry interval it may dial again.
    let mut reconnected = false;
    for _ in 0..3 {
        env.advance(RETRY).await;
        if tunnels.wait_live(&dms_id, 1, Duration::from_secs(1)).await {
            reconnected = true;
            break;
        }
    }
    let live: Vec<u64> = tunnels.live().iter().map(|t| t.id).collect();
    ev.expect(
        "tunnels the DMS holds after the retry interval",
        reconnected && !live.contains(&first.id),
        "a new one",
        &live,
    )?;
    let small = match open(&env, "/small").await? {
        Some(small) => drain(&mut small.into_body()).await.ok(),
        None => None,
    };
    ev.expect_eq(
        "a small answer through the new tunnel",
        Some(sink::SMALL.len()),
        small,
    )
}

async fn upgrade_without_valid_token_refused(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let outsider = CloudClient::new(&env)?;
    for (what, token) in [
        ("a made-up token", "not-a-token"),
        ("an unsigned token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ] {
        let status = outsider.try_tunnel(token).await?;
        ev.expect_eq(
            &format!("a tunnel upgrade with {what}: HTTP status"),
            401,
            status,
        )?;
    }
    let live = env.cloud().tunnels().live().len();
    ev.expect_eq("tunnels the cloud holds", 0, live)
}
