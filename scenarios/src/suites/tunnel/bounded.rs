//! One token, many tunnels (TUN-1: memory stays bounded whatever a peer does). A DMS's token,
//! whoever holds it, opens tunnels until it has many more than its DMS could need: the cloud
//! keeps no more of them open than the spec's data allows, closing the oldest, so no tenant
//! grows the cloud's tables and sockets for everyone. Judged on the tunnels the scenario
//! holds: which of them the cloud closed.

use futures_util::StreamExt;
use tokio::task::JoinSet;

use crate::clients::{ForeignDms, HeldTunnel};
use crate::steps::PROMPTLY;
use crate::{Ctx, Failure, oracle};

/// How many tunnels past the bound the token opens.
const EXTRA: usize = 6;

pub(super) async fn one_token_holds_a_bounded_number(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let most = oracle::spec()?.tunnel.most_per_dms;
    let env = ctx.environment().await?;
    // A DMS of the other organisation with no agent behind it: every tunnel of its DMS ID is
    // one the scenario opened.
    let outsider = env.accounts().cloud_outsider.clone();
    let dms = ForeignDms::register(&env, &outsider, "dms-of-many-tunnels").await?;
    let mut held: Vec<HeldTunnel> = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..most + EXTRA {
        match dms.client.hold_tunnel(&dms.token).await? {
            Ok(tunnel) => held.push(tunnel),
            Err(status) => refused.push(status),
        }
    }
    ev.saw("upgrades the cloud refused (HTTP status)", &refused);

    // Each tunnel is read until the cloud ends it; those still open when every one past the
    // bound could have ended are the ones it keeps.
    let mut reads = JoinSet::new();
    for (opened, mut tunnel) in held.into_iter().enumerate() {
        reads.spawn(async move {
            let ended = tokio::time::timeout(PROMPTLY, async {
                while let Some(Ok(_)) = tunnel.next().await {}
            })
            .await
            .is_ok();
            (opened, ended)
        });
    }
    let mut ended = Vec::new();
    let mut open = Vec::new();
    while let Some(read) = reads.join_next().await {
        let (opened, gone) =
            read.map_err(|e| Failure::Harness(format!("reading a tunnel: {e}")))?;
        if gone { &mut ended } else { &mut open }.push(opened);
    }
    ended.sort_unstable();
    open.sort_unstable();
    ev.saw("tunnels the cloud closed (in the order opened)", &ended);
    ev.expect_eq(
        "one-dms-holds-a-bounded-number-of-tunnels",
        &format!(
            "of {} tunnels one token opened, those the cloud kept open",
            most + EXTRA
        ),
        most,
        open.len(),
    )?;
    ev.expect_eq(
        "the-oldest-tunnels-close-first",
        "the tunnels the cloud closed, in the order they were opened",
        (0..EXTRA).collect::<Vec<_>>(),
        ended,
    )
}
