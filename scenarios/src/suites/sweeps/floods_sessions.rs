//! The sign-in part of the floods sweep (DOS-1): one account signed in again and again (a
//! script with a known password) must not grow the cloud's session table past the bound per
//! account, and sessions end by their idle and absolute lifetimes — the expired cookie refused
//! on the wire, the table emptied by maintenance. The figures are `fixtures/spec.json`'s
//! `account_sessions` (a project decision: the spec names none).

use std::time::Duration;

use mocks::Environment;
use mocks::cloud::Endpoint;

use crate::clients::CloudClient;
use crate::{Evidence, Failure, oracle, steps};

/// What the cloud answers `cookie` on a route that needs a signed-in account.
async fn status_of(browser: &CloudClient, cookie: &str) -> Result<u16, Failure> {
    Ok(browser
        .open(Endpoint::Sharing, "api/shares", Some(cookie))
        .await?
        .status)
}

/// The sign-in flood, its rows recorded under the floods sweep's `dimension`.
pub(super) async fn sign_in_flood(
    env: &Environment,
    ev: &Evidence,
    flooder: &CloudClient,
    dimension: &str,
) -> Result<(), Failure> {
    let spec = oracle::spec()?.account_sessions.clone();
    let account = env.accounts().cloud_outsider.clone();
    let before = env.cloud().table_sizes().sessions;
    let mut cookies = Vec::new();
    for _ in 0..3 * spec.per_account {
        cookies.push(steps::sign_in(flooder, &account).await?);
    }
    let after = env.cloud().table_sizes().sessions;
    let grown = after.saturating_sub(before);
    ev.row(
        dimension,
        "sessions",
        format!("after {} sign-ins of one account", cookies.len()),
        format!("{after} entries ({grown} more)"),
    );
    let (first, last) = match (cookies.first(), cookies.last()) {
        (Some(first), Some(last)) => (first.clone(), last.clone()),
        _ => return Err(Failure::Harness("no sign-in was made".into())),
    };
    // The newest session works (a control: a cloud that refuses every cookie proves nothing);
    // the oldest, past the bound, has ended.
    let (newest, oldest) = (
        status_of(flooder, &last).await?,
        status_of(flooder, &first).await?,
    );
    ev.row(
        dimension,
        "sessions",
        "the newest and the oldest cookie of the sign-in flood, on the wire",
        format!("newest {newest}, oldest {oldest}"),
    );
    if newest != 200 {
        return Err(Failure::precondition(
            "the newest session of the sign-in flood",
            "HTTP 200 on the account's share list",
            newest,
        ));
    }
    ev.expect(
        "sessions-bounded-per-account",
        "sessions a sign-in flood of one account added, and the oldest one's status",
        grown <= spec.per_account && oldest == 401,
        &format!("at most {}, and 401", spec.per_account),
        (grown, oldest),
    )?;

    // Idle: nobody uses a session for the idle lifetime; the newest cookie is refused, and
    // maintenance leaves no session at all (every one was idle that long).
    steps::let_time_pass(env, Duration::from_secs(spec.idle_seconds + 60), 12).await;
    let idle = status_of(flooder, &last).await?;
    env.cloud().maintain();
    let left_idle = env.cloud().table_sizes().sessions;

    // Absolute: a session used every quarter of the idle lifetime still ends when it is as old
    // as the absolute lifetime.
    let kept = steps::sign_in(flooder, &account).await?;
    let step = spec.idle_seconds / 4;
    let mut used = 0;
    let mut alive_before_the_end = true;
    while used + step < spec.absolute_seconds {
        steps::let_time_pass(env, Duration::from_secs(step), 1).await;
        used += step;
        alive_before_the_end &= status_of(flooder, &kept).await? == 200;
    }
    steps::let_time_pass(
        env,
        Duration::from_secs(spec.absolute_seconds - used + 60),
        1,
    )
    .await;
    let absolute = status_of(flooder, &kept).await?;
    ev.row(
        dimension,
        "sessions",
        "expired cookies on the wire, and the table after maintenance",
        format!(
            "idle {}s: {idle}, {left_idle} left; used every {step}s: live until {}s {alive_before_the_end}, then {absolute}",
            spec.idle_seconds, spec.absolute_seconds
        ),
    );
    if !alive_before_the_end {
        return Err(Failure::precondition(
            "a session in use",
            "HTTP 200 until its absolute lifetime",
            "refused before it",
        ));
    }
    ev.expect_eq(
        "expired-sessions-refused-and-removed",
        "an idle cookie's status, sessions left after maintenance, and a week-old used cookie's status",
        (401, 0, 401),
        (idle, left_idle, absolute),
    )
}
