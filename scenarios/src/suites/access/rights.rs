//! The DMS's own rights apply to a remote user, as the DMA's executed calls show: a read-only
//! user reads and writes nothing, an Operator writes; and a session opened through remote
//! access serves only the account it was opened for.

use fixtures::DmaData;
use serde_json::{Value, json};

use super::support::{connection_of, member_and_admin_enabled, sign_in};
use crate::steps::Recipient;
use crate::{Ctx, Failure};

pub(super) async fn dms_rights_apply(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let env = ctx.environment().await?;
    let dms = member_and_admin_enabled(&env).await?;
    let accounts = env.accounts().clone();
    let data = DmaData::load().map_err(|e| Failure::Harness(e.to_string()))?;
    let (element, parameter) = data
        .elements
        .iter()
        .find_map(|e| e.parameters.first().map(|p| (e, p)))
        .ok_or_else(|| Failure::Harness("the DMA's data has no parameter".into()))?;
    let target = |connection: &str| {
        json!({
            "connection": connection, "dmaID": element.dma_id, "elementID": element.element_id,
            "parameterID": parameter.id,
        })
    };
    let write = |connection: &str, value: &str| {
        let mut body = target(connection);
        body["value"] = Value::from(value);
        body
    };

    let a = Recipient::signed_in_as(&env, &accounts.cloud_member).await?;
    let viewer = &accounts.dms_viewer;
    let (_, answer) = sign_in(&a, &dms, &viewer.login, &viewer.password).await?;
    let read_only = connection_of(&answer).ok_or_else(|| {
        Failure::precondition(
            "the read-only user's remote sign-in",
            "a connection",
            &answer,
        )
    })?;
    let mark = env.dma().executed().len();
    let (read, _) = a
        .call_json(&dms, "GetParameter", &target(&read_only))
        .await?;
    let (written, refusal) = a
        .call_json(
            &dms,
            "SetParameter",
            &write(&read_only, "written-by-read-only"),
        )
        .await?;
    let executed = env.dma().executed().since(mark);
    let by = |method: &str, login: &str| {
        executed
            .iter()
            .filter(|c| c.method == method && c.login.eq_ignore_ascii_case(login))
            .count()
    };
    ev.saw(
        "the read-only user's write: HTTP status and answer",
        (written, &refusal),
    );
    ev.expect_eq(
        "read-only-user-cannot-write-remotely",
        "SetParameter calls the DMA executed for the read-only user, through remote access",
        0,
        by("SetParameter", &viewer.login),
    )?;
    ev.expect_eq(
        "read-only-user-reads-remotely",
        "the read-only user's GetParameter: HTTP status, calls the DMA executed",
        (200, 1),
        (read, by("GetParameter", &viewer.login)),
    )?;

    // The Operator group writes: the refusal above is the DMS's rights, not a blanket one.
    let operator = &accounts.dms_operator;
    let (_, answer) = sign_in(&a, &dms, &operator.login, &operator.password).await?;
    let writer = connection_of(&answer).ok_or_else(|| {
        Failure::precondition("the Operator's remote sign-in", "a connection", &answer)
    })?;
    let mark = env.dma().executed().len();
    let (status, _) = a
        .call_json(&dms, "SetParameter", &write(&writer, "written-by-operator"))
        .await?;
    let wrote = env
        .dma()
        .executed()
        .since(mark)
        .iter()
        .filter(|c| c.method == "SetParameter")
        .count();
    ev.expect_eq(
        "operator-writes-remotely",
        "the Operator's SetParameter through remote access: HTTP status, calls the DMA executed",
        (200, 1),
        (status, wrote),
    )?;

    // B, enabled too, presents A's session: the WAF ties a remote session to its account.
    let b = Recipient::signed_in_as(&env, &accounts.cloud_org_admin).await?;
    let mark = env.dma().executed().len();
    let (status, _) = b.call_json(&dms, "GetParameter", &target(&writer)).await?;
    ev.expect_eq(
        "session-tied-to-its-account",
        "another enabled account presenting that session: HTTP status, calls the DMA executed",
        (403, 0),
        (status, env.dma().executed().since(mark).len()),
    )
}
