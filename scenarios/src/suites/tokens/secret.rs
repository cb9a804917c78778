//! TOK-2: the signing secret stays in the vault and in the cloud. It is searched, in every
//! spelling (see `leaks`), in everything that crossed a boundary or was written down: every
//! exchange with the cloud (heads and bodies both ways), the decrypted contents of every
//! connection on the cloud's side and the DMS's (tunnels unmasked), every log and record of
//! every component, the Administrator's browser and everything the DMS stores. And the vault
//! names who read it, by the credential each workload proved.

use std::collections::BTreeSet;

use mocks::Environment;
use mocks::cloud::Credential;
use mocks::world::net::Capture;
use serde_json::json;

use super::leaks::{self, Secret};
use super::validation::vault_secrets;
use crate::clients::{CloudClient, Hop};
use crate::steps;
use crate::{Ctx, Failure};

/// The WebSocket payloads of a recorded tunnel direction (RFC 6455 §5.2), unmasked: what the
/// two HTTP/2 ends exchanged. The HTTP head of the upgrade comes first and is skipped; a frame
/// cut short ends the reading.
fn websocket_payloads(bytes: &[u8]) -> Vec<u8> {
    let Some(head) = bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Vec::new();
    };
    let mut at = head + 4;
    let mut payloads = Vec::new();
    while let Some(&second) = bytes.get(at + 1) {
        let masked = second & 0x80 != 0;
        let (length, mut next) = match second & 0x7f {
            126 => (
                bytes
                    .get(at + 2..at + 4)
                    .map_or(0, |b| u64::from(u16::from_be_bytes([b[0], b[1]]))),
                at + 4,
            ),
            127 => (
                bytes
                    .get(at + 2..at + 10)
                    .and_then(|b| <[u8; 8]>::try_from(b).ok())
                    .map_or(0, u64::from_be_bytes),
                at + 10,
            ),
            short => (u64::from(short), at + 2),
        };
        let mask = if masked {
            let key = bytes.get(next..next + 4).map(|k| [k[0], k[1], k[2], k[3]]);
            next += 4;
            key
        } else {
            None
        };
        let Ok(length) = usize::try_from(length) else {
            break;
        };
        let Some(payload) = bytes.get(next..next.saturating_add(length)) else {
            break;
        };
        payloads.extend(
            payload
                .iter()
                .enumerate()
                .map(|(i, b)| mask.map_or(*b, |m| b ^ m[i % 4])),
        );
        at = next + length;
    }
    payloads
}

/// A recorded connection's two directions as places to search: the bytes as they went, and
/// for a tunnel, the WebSocket payloads unmasked.
fn captured(side: &str, n: usize, capture: &Capture, tunnel_host: &str) -> Vec<(String, Vec<u8>)> {
    let name = |direction: &str| {
        format!(
            "{side}'s connection {} to {}, {direction}",
            n + 1,
            capture.destination
        )
    };
    let mut places = vec![
        (name("sent"), capture.sent.clone()),
        (name("received"), capture.received.clone()),
    ];
    if capture.destination == tunnel_host {
        places.push((name("sent, unmasked"), websocket_payloads(&capture.sent)));
        places.push((
            name("received, unmasked"),
            websocket_payloads(&capture.received),
        ));
    }
    places
}

/// Everything the environment recorded that a secret could have leaked into, by place: each
/// exchange the cloud had (request and answer, heads and bodies), each line of its log, each
/// first flight its listeners took, its records of tunnels, issues and vault reads, the
/// Administrator's browser (every hop of every redirect) and DMS answers, the DMS's credential
/// file, the WAF's decisions and the DMS's name lookups.
fn places(
    env: &Environment,
    browser: &[Hop],
    dms_answers: &[(String, String)],
) -> Vec<(String, Vec<u8>)> {
    let mut places: Vec<(String, Vec<u8>)> = Vec::new();
    let lines = |headers: &[(String, String)]| {
        headers
            .iter()
            .map(|(n, v)| format!("{n}: {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    for r in env.cloud().requests().all() {
        let exchange = format!(
            "{} {}\n{}\n\n{}\n\n{}\n{}\n\n{}",
            r.method,
            r.path,
            lines(&r.headers),
            r.body,
            r.status,
            lines(&r.response_headers),
            r.response
        );
        places.push((
            format!("{} {}{} and its answer", r.method, r.endpoint, r.path),
            exchange.into_bytes(),
        ));
    }
    for (n, line) in env.cloud().log().lines().into_iter().enumerate() {
        places.push((format!("cloud log line {}", n + 1), line.into_bytes()));
    }
    for (n, flight) in env.cloud().hellos().all().into_iter().enumerate() {
        places.push((
            format!("first flight {} at {}", n + 1, flight.endpoint),
            flight.bytes,
        ));
    }
    let records = [
        (
            "the cloud's tunnel events",
            format!("{:?}", env.cloud().tunnels().events()),
        ),
        (
            "the cloud's record of issue",
            format!("{:?}", env.cloud().issued()),
        ),
        (
            "the vault's audit log",
            format!("{:?}", env.cloud().vault().accesses()),
        ),
        (
            "the WAF's decisions",
            format!("{:?}", env.waf().decisions().all()),
        ),
        (
            "the DMS's name lookups",
            format!("{:?}", env.resolver().lookups()),
        ),
    ];
    for (place, text) in records {
        places.push((place.to_owned(), text.into_bytes()));
    }
    for (n, hop) in browser.iter().enumerate() {
        places.push((
            format!("browser hop {} ({} {})", n + 1, hop.method, hop.url),
            hop.text().into_bytes(),
        ));
    }
    for (what, answer) in dms_answers {
        places.push((
            format!("the DMS's answer to {what}"),
            answer.clone().into_bytes(),
        ));
    }
    let dma_records = [
        (
            "the DMA's record of arrivals",
            format!("{:?}", env.dma().arrivals().all()),
        ),
        (
            "the DMA's record of executed calls",
            format!("{:?}", env.dma().executed().all()),
        ),
    ];
    for (place, text) in dma_records {
        places.push((place.to_owned(), text.into_bytes()));
    }
    if let Some(file) = env.dms_credentials().stored() {
        let text = format!(
            "{}\n{}\n{}",
            file.access_token, file.refresh_key, file.obtained_at_unix
        );
        places.push(("the DMS's credential file".into(), text.into_bytes()));
    }
    if let Some(key) = env.dms_credentials().key() {
        places.push(("the DMS's private key".into(), key.pkcs8().to_vec()));
        places.push(("the DMS's public key".into(), key.jwk().as_bytes().to_vec()));
    }
    let tunnel_host = mocks::cloud::Endpoint::Tunnel.host();
    for (n, capture) in env.cloud().ingress().contents().iter().enumerate() {
        places.extend(captured("the cloud", n, capture, tunnel_host));
    }
    for (n, capture) in env.dms_egress().contents().iter().enumerate() {
        places.extend(captured("the DMS", n, capture, tunnel_host));
    }
    places
}

pub(super) async fn never_leaves_the_cloud(ctx: Ctx) -> Result<(), Failure> {
    let mut options = ctx.options();
    options.record_contents = true;
    let env = ctx.environment_with(options).await?;
    let ev = ctx.evidence();
    let browser = CloudClient::new(&env)?;
    let admin = steps::connect_dms_with(&env, &browser).await?;
    // A renewal and a disconnect: every path that signs or checks a token.
    steps::let_time_pass(&env, std::time::Duration::from_secs(25 * 3600), 25).await;
    let mut dms_answers = Vec::new();
    let state = admin.call("GetCloudConnectionState", json!({})).await?;
    dms_answers.push((
        "GetCloudConnectionState".to_owned(),
        serde_json::to_string(&state).unwrap_or_default(),
    ));
    let credentials_before = env.dms_credentials().stored();
    let disconnected = admin.call("DisconnectFromCloud", json!({})).await?;
    dms_answers.push((
        "DisconnectFromCloud".to_owned(),
        serde_json::to_string(&disconnected).unwrap_or_default(),
    ));
    env.settle().await;

    // The vault knows the cloud by a credential only the cloud's components hold: a caller
    // that merely claims to be the managed identity, or holds what the DMS holds, gets nothing.
    let managed = env.cloud().managed_identity().clone();
    let dms_token = credentials_before
        .map(|c| c.access_token.into_bytes())
        .unwrap_or_default();
    let claimants = [
        (
            "a caller claiming the managed identity",
            Credential::claiming(managed.identity(), Vec::new()),
        ),
        (
            "a caller claiming the managed identity with a made-up proof",
            Credential::claiming(managed.identity(), vec![0u8; managed.proof().len()]),
        ),
        (
            "the managed identity's name with the DMS's token as proof",
            Credential::claiming(managed.identity(), dms_token.clone()),
        ),
        (
            "the DMS, with its token",
            Credential::claiming(env.accounts().dms_id.clone(), dms_token),
        ),
    ];
    let names = env.cloud().vault().names();
    let granted: Vec<String> = claimants
        .iter()
        .flat_map(|(who, credential)| {
            names
                .iter()
                .filter(|name| env.cloud().vault().read(credential, name).is_ok())
                .map(move |name| format!("{name} to {who}"))
        })
        .collect();
    ev.expect_eq(
        "vault-refuses-claimed-identity",
        "secrets the vault handed to callers that only claimed an identity",
        Vec::<String>::new(),
        granted,
    )?;

    // Who read: the identities the vault verified for every read it granted.
    let readers: BTreeSet<String> = env
        .cloud()
        .vault()
        .accesses()
        .into_iter()
        .filter(|a| a.granted)
        .map(|a| a.identity)
        .collect();
    ev.expect(
        "signing-key-read-by-one-identity",
        "identities the vault let read its secrets, as it verified them",
        readers.len() == 1,
        "one: the workload that signs",
        &readers,
    )?;

    let mut secrets: Vec<Secret> = vault_secrets(&env)?
        .into_iter()
        .map(|(name, secret)| Secret::new(format!("vault secret {name}"), secret))
        .collect();
    secrets.push(Secret::new(
        "the managed identity's credential",
        managed.proof().to_vec(),
    ));
    let places = places(&env, &browser.seen(), &dms_answers);
    ev.saw(
        "places searched (exchanges with the cloud, log lines, first flights, records, decrypted connections, browser hops, DMS answers, DMS files)",
        places.len(),
    );
    let decrypted: usize = places
        .iter()
        .filter(|(p, _)| p.contains("'s connection "))
        .map(|(_, bytes)| bytes.len())
        .sum();
    ev.saw("decrypted bytes of connections searched", decrypted);
    ev.expect_eq(
        "signing-secret-appears-nowhere",
        "where the vault's secrets appear",
        Vec::<String>::new(),
        leaks::findings(&places, &secrets),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_payloads_are_read_past_the_head_and_unmasked() {
        let mut bytes = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n".to_vec();
        let mask = [1u8, 2, 3, 4];
        bytes.extend([0x82, 0x80 | 5]);
        bytes.extend(mask);
        bytes.extend(b"hello".iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        let long = vec![b'x'; 300];
        bytes.extend([0x82, 126, 1, 44]);
        bytes.extend(&long);
        bytes.extend([0x82, 10, b'c', b'u', b't']);
        let read = websocket_payloads(&bytes);
        assert_eq!(&read[..5], b"hello");
        assert_eq!(read.len(), 5 + 300);
    }
}
