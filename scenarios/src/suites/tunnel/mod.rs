//! The tunnel (TUN-1..TUN-4): the cloud reaches the DMS through the agent's outbound WSS
//! connections, as independent HTTP/2 streams. A large answer never holds a small one back, a
//! reset stream is let go on the DMS side, an upgrade without a valid token is refused
//! (`streams`); the agent keeps several tunnels, drops a silent one, redials with backoff and
//! jitter, and drains the old tunnels when it renews (`lifecycle`, `redial`).

mod bounded;
mod lifecycle;
mod recipient;
pub(crate) mod recipient_client;
mod redial;
pub(crate) mod sink;
mod streams;

use mocks::Environment;
use mocks::cloud::{self, TunnelBody, TunnelResponse, next_chunk};
use mocks::world::Fault;

use crate::steps::{self, PROMPTLY};
use crate::{Catch, Ctx, Failure, Scenario, Suite};
use sink::Sink;

pub(crate) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            id: "tunnel.one-token-holds-a-bounded-number-of-tunnels",
            suite: Suite::Tunnel,
            title: "A DMS's token that opens tunnels past the bound the spec's data sets keeps no more than that open: the cloud closes the oldest",
            requirements: &["TUN-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudTunnelsUnboundedPerDms,
                    "one-dms-holds-a-bounded-number-of-tunnels",
                )]
            },
            body: |ctx| Box::pin(bounded::one_token_holds_a_bounded_number(ctx)),
        },
        Scenario {
            id: "tunnel.small-answer-not-held-behind-large",
            suite: Suite::Tunnel,
            title: "A small answer completes while a large one on the same tunnel is still unread",
            requirements: &["TUN-1"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoFlowControl,
                    "agent-takes-in-no-more-than-flow-control-allows",
                )]
            },
            body: |ctx| Box::pin(streams::small_answer_not_held_behind_large(ctx)),
        },
        Scenario {
            id: "tunnel.reset-stream-frees-the-dms-side",
            suite: Suite::Tunnel,
            title: "A stream the cloud resets mid-answer is let go on the DMS side",
            requirements: &["TUN-1", "TUN-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoFlowControl,
                    "agent-takes-in-no-more-than-flow-control-allows",
                )]
            },
            body: |ctx| Box::pin(streams::reset_stream_frees_the_dms_side(ctx)),
        },
        Scenario {
            id: "tunnel.upgrade-without-valid-token-refused",
            suite: Suite::Tunnel,
            title: "A tunnel upgrade without a valid token is refused with 401",
            requirements: &["TOK-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudTunnelAcceptsNoToken,
                    "upgrade-without-a-valid-token-refused",
                )]
            },
            body: |ctx| Box::pin(streams::upgrade_without_valid_token_refused(ctx)),
        },
        Scenario {
            id: "tunnel.killed-tunnel-fails-streams-and-agent-reconnects",
            suite: Suite::Tunnel,
            title: "Tunnels the cloud kills fail their streams in flight with an error, and the agent dials new ones",
            requirements: &["TUN-2", "TUN-4"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoReconnect,
                    "agent-redials-killed-tunnels",
                )]
            },
            body: |ctx| {
                Box::pin(lifecycle::killed_tunnel_fails_streams_and_agent_reconnects(
                    ctx,
                ))
            },
        },
        Scenario {
            id: "tunnel.parallel-tunnels-share-the-streams",
            suite: Suite::Tunnel,
            title: "The agent keeps several tunnels, streams spread over them, and losing one leaves the rest carrying",
            requirements: &["TUN-2"],
            catches: const {
                &[Catch::by(
                    Fault::AgentSingleTunnel,
                    "dms-holds-several-tunnels",
                )]
            },
            body: |ctx| Box::pin(lifecycle::parallel_tunnels_share_the_streams(ctx)),
        },
        Scenario {
            id: "tunnel.silent-tunnel-dropped-and-redialled",
            suite: Suite::Tunnel,
            title: "A tunnel that stops answering pings is dropped by the agent and replaced",
            requirements: &["TUN-2"],
            catches: const {
                &[Catch::by(
                    Fault::AgentNoDeadPeerDetection,
                    "agent-replaces-silent-tunnels",
                )]
            },
            body: |ctx| Box::pin(lifecycle::silent_tunnel_dropped_and_redialled(ctx)),
        },
        Scenario {
            id: "tunnel.partition-detected-on-both-sides",
            suite: Suite::Tunnel,
            title: "When the DMS's network silently drops everything, the cloud's unanswered pings close its tunnels, and the DMS is back once it heals",
            requirements: &["TUN-2"],
            catches: const {
                &[Catch::by(
                    Fault::CloudNoDeadAgentDetection,
                    "cloud-closes-tunnels-of-a-silent-dms",
                )]
            },
            body: |ctx| Box::pin(lifecycle::partition_detected_on_both_sides(ctx)),
        },
        Scenario {
            id: "tunnel.renewal-drains-streams-in-flight",
            suite: Suite::Tunnel,
            title: "At the daily renewal the agent's old tunnels finish their streams under way before they close",
            requirements: &["TUN-3"],
            catches: const {
                &[Catch::by(
                    Fault::AgentHandoverCutsStreams,
                    "streams-in-flight-survive-the-renewal",
                )]
            },
            body: |ctx| Box::pin(lifecycle::renewal_drains_streams_in_flight(ctx)),
        },
        Scenario {
            id: "tunnel.redial-backs-off-with-jitter",
            suite: Suite::Tunnel,
            title: "While the tunnel endpoint fails, the agent redials with a growing, capped and jittered backoff",
            requirements: &["TUN-2"],
            catches: const {
                &[
                    Catch::by(
                        Fault::AgentReconnectWithoutBackoff,
                        "each-wait-within-backoff-band",
                    ),
                    Catch::by(Fault::AgentReconnectWithoutJitter, "waits-carry-jitter"),
                ]
            },
            body: |ctx| Box::pin(redial::backs_off_with_jitter(ctx)),
        },
        Scenario {
            id: "tunnel.recipient-download-streams-through-the-tunnel",
            suite: Suite::Tunnel,
            title: "A signed-in recipient's large download through the sharing front end arrives byte-exact, logged on every hop, its first bytes before the DMA finished writing",
            requirements: &["TUN-1"],
            catches: const {
                &[Catch::by(
                    Fault::CloudSharingBuffersWholeAnswer,
                    "answer-streams-through-every-hop",
                )]
            },
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
    connected_with_sink_and(ctx, ctx.options()).await
}

/// `connected_with_sink`, set up as `options` say.
async fn connected_with_sink_and(
    ctx: &Ctx,
    options: mocks::Options,
) -> Result<(Environment, Sink), Failure> {
    let sink = Sink::start()
        .await
        .map_err(|e| Failure::Harness(format!("sink did not start: {e}")))?;
    let env = ctx
        .environment_with(mocks::Options {
            tunnel_target: Some(sink.addr),
            ..options
        })
        .await?;
    steps::connect_dms(&env).await?;
    Ok((env, sink))
}

/// What an agent that honours HTTP/2 flow control may take in from the DMS side ahead of the
/// cloud's reader, per path: stream windows and loopback socket buffers come to about 10 MiB
/// per stream; this is room to spare, and well under `sink::HUGE`.
pub(super) const AHEAD_BOUND: usize = 40 * 1024 * 1024;

/// Opens a stream for `path`: the answer's head.
async fn open(env: &Environment, path: &str) -> Result<TunnelResponse, Failure> {
    let request = cloud::get(path).map_err(|e| Failure::Harness(e.to_string()))?;
    let sending = env
        .cloud()
        .send_through_tunnel(&env.accounts().dms_id, request);
    match tokio::time::timeout(PROMPTLY, sending).await {
        Err(_) => Err(Failure::timeout(
            format!("the head of GET {path} through the tunnel"),
            PROMPTLY,
        )),
        Ok(Ok(response)) => Ok(response),
        Ok(Err(e)) => Err(Failure::violation(
            "answer-through-the-tunnel",
            format!("GET {path} through the tunnel"),
            "an answer",
            e.to_string(),
        )),
    }
}

/// Reads the rest of `body`; the byte count, or the error the stream ended with.
async fn drain(body: &mut TunnelBody) -> Result<usize, String> {
    let mut read = 0;
    drain_counting(body, &mut read).await.map(|()| read)
}

/// Reads the rest of `body`, adding each chunk to `read` as it comes, so the count of what
/// arrived survives an error or a timeout.
async fn drain_counting(body: &mut TunnelBody, read: &mut usize) -> Result<(), String> {
    while let Some(chunk) = next_chunk(body).await.map_err(|e| e.to_string())? {
        *read += chunk.len();
    }
    Ok(())
}

/// `GET /small` through the tunnel, read to its end: the byte count, or why there is none.
async fn fetch_small(env: &Environment) -> Result<usize, String> {
    let request = cloud::get("/small").map_err(|e| e.to_string())?;
    let sending = async {
        let answer = env
            .cloud()
            .send_through_tunnel(&env.accounts().dms_id, request)
            .await
            .map_err(|e| e.to_string())?;
        drain(&mut answer.into_body()).await
    };
    tokio::time::timeout(PROMPTLY, sending)
        .await
        .unwrap_or_else(|_| Err("no answer within a few seconds".into()))
}
