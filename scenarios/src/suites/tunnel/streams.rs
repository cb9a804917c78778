//! Streams inside one tunnel: independence under flow control, resets, and the token check at
//! the upgrade.

use mocks::agent::TUNNELS;
use mocks::cloud::next_chunk;

use super::{drain, open, sink};
use crate::clients::CloudClient;
use crate::steps::PROMPTLY;
use crate::{Ctx, Failure};

pub(super) async fn small_answer_not_held_behind_large(ctx: Ctx) -> Result<(), Failure> {
    let (env, _sink) = super::connected_with_sink(&ctx).await?;
    let ev = ctx.evidence();
    // One large answer per tunnel (streams take turns over them), each read by one chunk and
    // the rest left waiting: whichever tunnel the small answer takes, it shares it.
    let mut larges = Vec::new();
    for _ in 0..TUNNELS {
        let Some(large) = open(&env, "/large").await? else {
            return Err(Failure::violation(
                "head-large-answer",
                "the head of a large answer",
                "within a few seconds",
                "nothing",
            ));
        };
        let mut large = large.into_body();
        match next_chunk(&mut large).await {
            Ok(Some(chunk)) => larges.push((large, chunk.len())),
            other => {
                return Err(Failure::violation(
                    "first-bytes-large-answer",
                    "the first bytes of a large answer",
                    "a chunk",
                    format!("{other:?}"),
                ));
            }
        }
    }
    ev.saw(
        "streams each tunnel carried before the small answer",
        env.cloud().tunnels().streams_carried(),
    );
    let small = match open(&env, "/small").await? {
        Some(small) => {
            let mut body = small.into_body();
            tokio::time::timeout(PROMPTLY, drain(&mut body)).await.ok()
        }
        None => None,
    };
    let read: Vec<usize> = larges.iter().map(|(_, read)| *read).collect();
    ev.saw(
        "bytes of each large answer read when the small one ended",
        &read,
    );
    ev.expect(
        "small-answer-asked-while-large-ones",
        "the small answer, asked for while the large ones are unread",
        matches!(small, Some(Ok(n)) if n == sink::SMALL.len()),
        "complete, before the large answers are read any further",
        format!("{small:?}"),
    )?;
    ev.expect(
        "large-answers-when-small-one-was",
        "the large answers when the small one was complete",
        read.iter().all(|n| *n < sink::LARGE),
        "still being read",
        &read,
    )?;
    for (mut large, mut large_read) in larges {
        large_read += drain(&mut large).await.map_err(|e| {
            Failure::violation("rest-large-answer", "the rest of a large answer", "read", e)
        })?;
        ev.expect_eq(
            "bytes-large-answer",
            "bytes of a large answer",
            sink::LARGE,
            large_read,
        )?;
    }
    Ok(())
}

pub(super) async fn reset_stream_frees_the_dms_side(ctx: Ctx) -> Result<(), Failure> {
    let (env, sink) = super::connected_with_sink(&ctx).await?;
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
        "first-bytes-endless-answer",
        "the first bytes of an endless answer",
        first,
        "streamed through the tunnel as they come",
        "nothing within a few seconds",
    )?;
    let ended = sink.wait_ended("/endless", PROMPTLY).await;
    ev.expect(
        "dms-side-answer-after-cloud-reset",
        "the DMS-side answer after the cloud reset its stream",
        ended.as_ref().is_some_and(|e| !e.complete),
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
            "tunnel-upgrade-http-status",
            &format!("a tunnel upgrade with {what}: HTTP status"),
            401,
            status,
        )?;
    }
    let live = env.cloud().tunnels().live().len();
    ev.expect_eq("tunnels-cloud-holds", "tunnels the cloud holds", 0, live)
}
