//! Streams inside one tunnel: independence under flow control, resets, and the token check at
//! the upgrade.

use mocks::cloud::next_chunk;

use super::{AHEAD_BOUND, drain, fetch_small, open, sink};
use crate::clients::CloudClient;
use crate::steps::PROMPTLY;
use crate::{Ctx, Evidence, Failure, oracle};

pub(super) async fn small_answer_not_held_behind_large(ctx: Ctx) -> Result<(), Failure> {
    let (env, sink) = super::connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    // One huge answer per tunnel the DMS holds (streams take turns over them), each read by
    // one chunk and the rest left waiting: whichever tunnel the small answer takes, it shares.
    let tunnels = env.dms_egress().to(&oracle::spec()?.hosts.tunnel).open;
    let mut huges = Vec::new();
    for _ in 0..tunnels {
        let huge = open(&env, "/huge").await?.into_body();
        huges.push(first_chunk(huge, "/huge").await?);
    }
    let read: usize = huges.iter().map(|(_, read)| *read).sum();
    expect_within_flow_control(&ev, &sink, "/huge", read)?;
    ev.saw(
        "streams each tunnel carried before the small answer",
        env.cloud().tunnels().streams_carried(),
    );
    let small = fetch_small(&env).await;
    let read: Vec<usize> = huges.iter().map(|(_, read)| *read).collect();
    ev.saw(
        "bytes of each huge answer read when the small one ended",
        &read,
    );
    ev.expect_eq(
        "small-answer-not-held-back",
        "the small answer, asked for while the huge ones are unread",
        Ok(sink::SMALL.len()),
        small,
    )?;
    for (mut huge, mut huge_read) in huges {
        huge_read += drain(&mut huge).await.map_err(|e| {
            Failure::violation(
                "huge-answer-completes",
                "the rest of a huge answer",
                "read",
                e,
            )
        })?;
        ev.expect_eq(
            "huge-answer-completes",
            "bytes of a huge answer",
            sink::HUGE,
            huge_read,
        )?;
    }
    Ok(())
}

/// The first chunk of an answer whose head came: the body and the bytes read.
async fn first_chunk(
    mut body: mocks::cloud::TunnelBody,
    path: &str,
) -> Result<(mocks::cloud::TunnelBody, usize), Failure> {
    match tokio::time::timeout(PROMPTLY, next_chunk(&mut body)).await {
        Ok(Ok(Some(chunk))) => Ok((body, chunk.len())),
        Ok(other) => Err(Failure::violation(
            "answer-streams-through-the-tunnel",
            format!("the first bytes of {path}"),
            "a chunk",
            format!("{other:?}"),
        )),
        Err(_) => Err(Failure::timeout(
            format!("the first bytes of {path} through the tunnel"),
            PROMPTLY,
        )),
    }
}

/// TUN-1's memory bound, judged at the DMS end of the hop: an agent that honours flow control
/// has taken in from the DMS side at most its HTTP/2 windows and the socket buffers between
/// ahead of what the cloud's reader consumed. One that reads answers whole has taken in all.
fn expect_within_flow_control(
    ev: &Evidence,
    sink: &sink::Sink,
    path: &str,
    read_by_cloud: usize,
) -> Result<(), Failure> {
    let taken = sink.written(path);
    ev.expect(
        "agent-takes-in-no-more-than-flow-control-allows",
        &format!("bytes of {path} the agent took from the DMS side beyond what the cloud read"),
        taken.saturating_sub(read_by_cloud) <= AHEAD_BOUND,
        &format!("at most {AHEAD_BOUND} (windows and socket buffers)"),
        taken.saturating_sub(read_by_cloud),
    )
}

pub(super) async fn reset_stream_frees_the_dms_side(ctx: Ctx) -> Result<(), Failure> {
    let (env, sink) = super::connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    // A huge answer, not an endless one: an agent that reads answers whole shows it by taking
    // in all of it, and its memory stays finite while it does.
    let answer = open(&env, "/huge").await?;
    let (body, read) = first_chunk(answer.into_body(), "/huge").await?;
    expect_within_flow_control(&ev, &sink, "/huge", read)?;
    // Dropping the body resets the stream.
    drop(body);
    let Some(ended) = sink.wait_ended("/huge", PROMPTLY).await else {
        return Err(Failure::timeout(
            "the DMS side to let go of the reset stream",
            PROMPTLY,
        ));
    };
    ev.expect(
        "dms-side-lets-go-of-a-reset-stream",
        "the DMS-side answer after the cloud reset its stream",
        !ended.complete,
        "abandoned: the agent let go of the stream",
        sink.ended(),
    )
}

pub(super) async fn upgrade_without_valid_token_refused(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let outsider = CloudClient::new(&env)?;
    for (what, token) in [
        ("a made-up token", "not-a-token"),
        ("an unsigned token", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ] {
        let status = outsider.try_tunnel(token).await?;
        ev.expect_eq(
            "upgrade-without-a-valid-token-refused",
            &format!("a tunnel upgrade with {what}: HTTP status"),
            401,
            status,
        )?;
    }
    let live = env.cloud().tunnels().live().len();
    ev.expect_eq("tunnels-cloud-holds", "tunnels the cloud holds", 0, live)
}
