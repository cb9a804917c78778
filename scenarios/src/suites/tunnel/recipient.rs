//! A recipient downloads a large DMA answer through the sharing front end, the tunnel, the
//! agent and the WAF: it arrives complete and byte-exact, every hop logged the call, and the
//! first bytes came while the DMA was still writing.

use mocks::Environment;
use mocks::waf::Verdict;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::recipient_client::{Received, Recipient};
use crate::steps::{self, PROMPTLY};
use crate::{Ctx, Failure, oracle};

/// The DataMiner API method that streams a trend: the API's name, as the DMA documents it.
const TREND_METHOD: &str = "GetTrendDataForParameter";

/// Points in the downloaded trend: about 31 MB, more than every buffer between the DMA and the
/// recipient holds, so the DMA cannot finish before the recipient has read most of it.
const POINTS: u64 = 1_000_000;
const PARAMETER: u32 = 1001;

/// The answer the DMA's documented formula gives, computed here on its own (another
/// formatter, not the DMA's code): its length and SHA-256.
fn expected_trend(parameter: u32, points: u64) -> (u64, Vec<u8>) {
    let mut hash = Sha256::new();
    let mut length = 0u64;
    let mut put = |text: &str| {
        hash.update(text.as_bytes());
        length += text.len() as u64;
    };
    put(r#"{"d":["#);
    let mut point = String::with_capacity(48);
    for i in 0..points {
        let hundredths = (7919 * i + 104_729 * u64::from(parameter)) % 1_000_000;
        point.clear();
        if i > 0 {
            point.push(',');
        }
        point.push_str(&format!(
            r#"{{"t":{},"v":{}.{:02}}}"#,
            1_700_000_000_000 + 1000 * i,
            hundredths / 100,
            hundredths % 100
        ));
        put(&point);
    }
    put("]}");
    (length, hash.finalize().to_vec())
}

pub(super) async fn recipient_download_streams_through_the_tunnel(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let dms_id = env.accounts().dms_id.clone();
    // Before any organisation approved the DMS, it is unknown to every account.
    let recipient = Recipient::signed_in_only(&env).await?;
    let (status, _) = recipient
        .call_json(&dms_id, "GetElement", &json!({}))
        .await?;
    ev.expect_eq(
        "call-dms-nobody-approved-http-status",
        "a call to a DMS nobody approved: HTTP status",
        404,
        status,
    )?;
    steps::connect_dms(&env).await?;
    // The Owner enables remote access on it for their own account.
    let owner = &env.accounts().cloud_admin;
    let enabled = steps::enable_remote_access(&env, owner, &[owner]).await?;
    if enabled.status != 200 {
        return Err(Failure::precondition(
            "the Owner enabling remote access",
            "HTTP 200",
            enabled,
        ));
    }
    let trend = |connection: &str| {
        json!({
            "connection": connection, "dmaID": 2000, "elementID": 100,
            "parameterID": PARAMETER, "points": POINTS,
        })
    };

    // Without a session the front end refuses, and nothing reaches the DMS.
    let outsider = Recipient::anonymous(&env)?;
    let (status, _) = outsider
        .call_json(&dms_id, TREND_METHOD, &trend("none"))
        .await?;
    ev.expect_eq(
        "call-without-session-cookie-http-status",
        "a call without a session cookie: HTTP status",
        401,
        status,
    )?;
    ev.expect_eq(
        "waf-decisions-after-refused-call",
        "WAF decisions after the refused call",
        0,
        env.waf().decisions().all().len(),
    )?;

    let admin = &env.accounts().dms_admin;
    let connection = recipient
        .connect_app(&dms_id, &admin.login, &admin.password)
        .await?;
    let mut hash = Sha256::new();
    let received = recipient
        .call(&dms_id, TREND_METHOD, &trend(&connection), |chunk| {
            hash.update(chunk)
        })
        .await?;
    let digest = hash.finalize().to_vec();
    ev.saw("the download", &received);
    ev.expect_eq(
        "download-http-status",
        "the download: HTTP status",
        200,
        received.status,
    )?;
    let (length, expected) = expected_trend(PARAMETER, POINTS);
    ev.expect_eq("bytes-received", "bytes received", length, received.bytes)?;
    ev.expect(
        "sha-256-what-was-received",
        "SHA-256 of what was received",
        digest == expected,
        "the expected series, byte for byte",
        hex(&digest),
    )?;

    logged_on_every_hop(&env, &ctx, &dms_id)?;
    streamed(&env, &ctx, &received).await?;
    unreachable_is_a_clear_error(&env, &ctx, &recipient, &trend(&connection)).await
}

/// The WAF's decision log and the cloud's request log both show the call.
fn logged_on_every_hop(env: &Environment, ctx: &Ctx, dms_id: &str) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let decisions = env.waf().decisions().all();
    let passed = decisions
        .iter()
        .any(|d| d.path.ends_with(TREND_METHOD) && d.verdict == Verdict::Allowed);
    ev.expect(
        "waf-decision-log",
        "the WAF's decision log",
        passed,
        &format!("{TREND_METHOD} allowed"),
        &decisions,
    )?;
    let path = format!("/dms/{dms_id}/API/v1/Json.asmx/{TREND_METHOD}");
    let sharing = oracle::spec()?.hosts.sharing.as_str();
    let requests = env.cloud().requests().all();
    let recorded = requests
        .iter()
        .find(|r| r.endpoint == sharing && r.path == path && r.status == 200);
    ev.expect(
        "cloud-request-log",
        "the cloud's request log",
        recorded.is_some(),
        &format!("POST {path} answered 200 on the sharing endpoint"),
        requests
            .iter()
            .map(|r| format!("{} {} {} -> {}", r.endpoint, r.method, r.path, r.status))
            .collect::<Vec<_>>(),
    )?;
    Ok(())
}

/// The first bytes reached the recipient before the DMA had written its last one.
async fn streamed(env: &Environment, ctx: &Ctx, received: &Received) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let answers = env.dma().trend_answers();
    let Some(answer) = answers.wait_ended(0, PROMPTLY).await else {
        return Err(Failure::violation(
            "dma-trend-answer",
            "the DMA's trend answer",
            "written to its end",
            answers.all(),
        ));
    };
    ev.saw("the DMA's record of its answer", &answer);
    ev.expect_eq(
        "bytes-dma-wrote",
        "bytes the DMA wrote",
        received.bytes,
        answer.written,
    )?;
    let (Some(first), Some(finished)) = (received.first_byte, answer.finished) else {
        return Err(Failure::violation(
            "first-byte-recipient-dma-last",
            "the first byte at the recipient and the DMA's last",
            "both seen",
            &answer,
        ));
    };
    let observed = if first < finished {
        format!("{} us before", (finished - first).as_micros())
    } else {
        format!("{} us after", (first - finished).as_micros())
    };
    ev.expect(
        "answer-streams-through-every-hop",
        "the first byte at the recipient, against the DMA's last",
        first < finished,
        "earlier: the answer streams through every hop",
        observed,
    )
}

/// A DMS the organisation approved but that holds no tunnel (it took its token and never
/// dialled): a call to it is a 502 that says so. Another DMS rather than a killed tunnel, so the
/// agent's reconnecting cannot race the check.
async fn unreachable_is_a_clear_error(
    env: &Environment,
    ctx: &Ctx,
    recipient: &Recipient,
    call: &serde_json::Value,
) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let (silent, _token) = steps::register_another_dms(env, "dms-without-tunnel").await?;
    let owner = &env.accounts().cloud_admin;
    let enabled = steps::set_remote_access(env, owner, &silent, &[owner]).await?;
    if enabled.status != 200 {
        return Err(Failure::precondition(
            "the Owner enabling remote access on the DMS without a tunnel",
            "HTTP 200",
            enabled,
        ));
    }
    let (status, answer) = recipient.call_json(&silent, TREND_METHOD, call).await?;
    ev.expect(
        "call-approved-dms-without-tunnel",
        "a call to an approved DMS without a tunnel",
        status == 502 && answer.get("error").is_some_and(|e| e == "dms_unreachable"),
        "HTTP 502 with error dms_unreachable",
        (status, answer),
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
