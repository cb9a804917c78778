//! The share user (USER-1..5): one per share, a 17-character random password sealed with
//! Blowfish-ECB, usable only through the gateway, reading only its dashboard's items.

use std::collections::{BTreeSet, HashSet};

use blowfish::Blowfish;
use blowfish::cipher::{Block, BlockCipherDecrypt, KeyInit};
use fixtures::DmaData;
use mocks::dma::{PASSWORD_ALPHABET, PASSWORD_LENGTH, SHARE_KEY_BYTES};
use serde_json::{Value, json};

use super::setup::{self, connect_app};
use crate::clients::exchange;
use crate::{Ctx, Failure};

/// How many passwords the statistical check draws.
const SAMPLE: usize = 10_000;

pub(crate) async fn one_user_per_share(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = setup::admin(&env).await?;
    let mut ids = Vec::new();
    for (n, dashboard) in setup::dashboards()?.iter().enumerate() {
        let share_id = setup::share(&admin, &dashboard.id).await?;
        ev.expect_eq(
            "share-users-after-sharing",
            &format!("share users after sharing {}", dashboard.id),
            n + 1,
            env.dma().share_users().len(),
        )?;
        ids.push(share_id);
    }
    let logins: HashSet<String> = env
        .dma()
        .share_users()
        .into_iter()
        .map(|u| u.login)
        .collect();
    ev.expect_eq(
        "distinct-share-user-logins",
        "distinct share-user logins",
        ids.len(),
        logins.len(),
    )?;
    for share_id in &ids {
        let (login, password) = env
            .dma()
            .gateway_credentials(share_id)
            .ok_or_else(|| Failure::Harness(format!("no credentials for {share_id}")))?;
        let well_formed = password.chars().count() == PASSWORD_LENGTH
            && password.chars().all(|c| PASSWORD_ALPHABET.contains(c));
        ev.expect(
            "password-length-alphabet",
            &format!("password of {login}: length and alphabet"),
            well_formed,
            "17 characters from the documented alphabet",
            password.chars().count(),
        )?;
    }
    // Deleting a share removes its user, and its login stops working.
    let gone = ids[0].clone();
    let (login, password) = env
        .dma()
        .gateway_credentials(&gone)
        .ok_or_else(|| Failure::Harness("no credentials".into()))?;
    admin
        .expect_data("DeleteShare", json!({ "shareID": gone }))
        .await?;
    ev.expect_eq(
        "share-users-after-deleting-one-share",
        "share users after deleting one share",
        ids.len() - 1,
        env.dma().share_users().len(),
    )?;
    let after = connect_app(env.waf().addr(), &login, &password).await?;
    ev.expect(
        "deleted-share-user-logs",
        "the deleted share's user logs in",
        after.is_err(),
        "refused",
        &after,
    )?;

    let sample = env.dma().sample_share_passwords(SAMPLE);
    let lengths: BTreeSet<usize> = sample.iter().map(|p| p.chars().count()).collect();
    ev.expect_eq(
        "lengths-10-000-generated-passwords",
        "lengths of 10 000 generated passwords",
        BTreeSet::from([PASSWORD_LENGTH]),
        lengths,
    )?;
    let distinct: HashSet<&String> = sample.iter().collect();
    ev.expect_eq(
        "distinct-among-10-000-passwords",
        "distinct among 10 000 passwords",
        SAMPLE,
        distinct.len(),
    )?;
    let outside: Vec<char> = sample
        .iter()
        .flat_map(|p| p.chars())
        .filter(|c| !PASSWORD_ALPHABET.contains(*c))
        .collect();
    ev.expect_eq(
        "characters-outside-alphabet",
        "characters outside the alphabet",
        0,
        outside.len(),
    )?;
    let used: HashSet<char> = sample.iter().flat_map(|p| p.chars()).collect();
    ev.expect_eq(
        "alphabet-characters-seen-sample",
        "alphabet characters seen in the sample",
        PASSWORD_ALPHABET.chars().count(),
        used.len(),
    )?;
    let alphabet = PASSWORD_ALPHABET.chars().count();
    ev.saw(
        "password entropy",
        json!({
            "alphabet": alphabet, "length": PASSWORD_LENGTH,
            "bits": format!("{:.1}", PASSWORD_LENGTH as f64 * (alphabet as f64).log2()),
            "source": "thread-local CSPRNG (ChaCha12) seeded from the OS, rejection-sampled",
        }),
    );
    Ok(())
}

pub(crate) async fn passwords_sealed(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = setup::admin(&env).await?;
    let mut shares = Vec::new();
    for dashboard in setup::dashboards()? {
        shares.push(setup::share(&admin, &dashboard.id).await?);
    }
    let key = env.dma().share_key();
    ev.saw(
        "Blowfish key",
        json!({
            "bytes": key.bytes().len(), "bits": key.bytes().len() * 8,
            "reading": "the spec's \"308-bit key\" is no Blowfish key size (32..448 bits in whole bytes; 308 bits = 38.5 bytes): read as 39 bytes = 312 bits",
        }),
    );
    ev.saw(
        "erratum",
        json!({
            "severity": "low",
            "title": "the spec names a 308-bit Blowfish key, which cannot exist; the implementation uses 312 bits",
        }),
    );
    ev.saw(
        "advisory",
        json!({
            "severity": "medium",
            "title": "Blowfish in ECB mode (64-bit blocks, equal blocks give equal ciphertext) is a weak construction for stored passwords",
        }),
    );
    ev.expect_eq(
        "blowfish-key-length-bytes",
        "Blowfish key length in bytes",
        SHARE_KEY_BYTES,
        key.bytes().len(),
    )?;
    let cipher: Blowfish = KeyInit::new_from_slice(key.bytes())
        .map_err(|_| Failure::Harness("the share key is no Blowfish key".into()))?;
    for share_id in &shares {
        let (login, password) = env
            .dma()
            .gateway_credentials(share_id)
            .ok_or_else(|| Failure::Harness(format!("no credentials for {share_id}")))?;
        let stored = env
            .dma()
            .share_users()
            .into_iter()
            .find(|u| u.share_id == *share_id)
            .map(|u| u.password_at_rest)
            .ok_or_else(|| Failure::Harness(format!("no stored user for {share_id}")))?;
        let leaks = stored
            .windows(4)
            .any(|w| password.as_bytes().windows(4).any(|p| p == w));
        ev.expect(
            "any-4-password-bytes-stored-record",
            &format!("{login}: any 4 password bytes in the stored record"),
            !leaks,
            "none",
            leaks,
        )?;
        let mut opened = stored.clone();
        let whole_blocks = !opened.is_empty() && opened.len() % 8 == 0;
        if whole_blocks {
            for chunk in opened.chunks_exact_mut(8) {
                let mut block = Block::<Blowfish>::default();
                block.copy_from_slice(chunk);
                cipher.decrypt_block(&mut block);
                chunk.copy_from_slice(&block);
            }
        }
        let mut expected = password.as_bytes().to_vec();
        let pad = 8 - expected.len() % 8;
        expected.extend(std::iter::repeat_n(pad as u8, pad));
        ev.expect(
            "stored-record-decrypted-independently-blowfish-ecb",
            &format!("{login}: stored record decrypted independently with Blowfish-ECB"),
            whole_blocks && opened == expected,
            "the password, PKCS#5-padded",
            stored.len(),
        )?;
    }
    Ok(())
}

pub(crate) async fn gateway_only(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = setup::admin(&env).await?;
    let share_id = setup::share(&admin, "soc-overview").await?;
    let (login, password) = env
        .dma()
        .gateway_credentials(&share_id)
        .ok_or_else(|| Failure::Harness("no credentials".into()))?;
    let public = connect_app(env.dma().addr(), &login, &password).await?;
    ev.expect(
        "share-user-connectapp-dma-public-api",
        "the share user's ConnectApp on the DMA's public API",
        public.is_err(),
        "refused",
        &public,
    )?;
    let gateway = connect_app(env.waf().addr(), &login, &password).await?;
    let Ok(connection) = gateway else {
        return Err(Failure::violation(
            "share-user-connectapp-through-gateway-waf",
            "the share user's ConnectApp through the gateway (WAF)",
            "a connection string",
            gateway,
        ));
    };
    ev.saw(
        "the share user's ConnectApp through the gateway",
        "connected",
    );
    let body = json!({ "connection": connection, "dmaID": 2000, "elementID": 100 }).to_string();
    let on_public = exchange(
        env.dma().addr(),
        "POST",
        "/API/v1/Json.asmx/GetElement",
        Some("application/json"),
        body.as_bytes(),
    )
    .await?;
    ev.expect(
        "gateway-connection-share-user-used-public",
        "a gateway connection of the share user used on the public API",
        on_public.status != 200,
        "refused",
        &on_public,
    )?;
    let through_waf = exchange(
        env.waf().addr(),
        "POST",
        "/API/v1/Json.asmx/GetElement",
        Some("application/json"),
        body.as_bytes(),
    )
    .await?;
    ev.expect_eq(
        "same-call-through-gateway",
        "the same call through the gateway",
        200,
        through_waf.status,
    )?;
    Ok(())
}

pub(crate) async fn items_only(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let data = DmaData::load().map_err(|e| Failure::Harness(e.to_string()))?;
    let admin = setup::admin(&env).await?;
    for dashboard in setup::dashboards()? {
        let share_id = setup::share(&admin, &dashboard.id).await?;
        let (login, password) = env
            .dma()
            .gateway_credentials(&share_id)
            .ok_or_else(|| Failure::Harness("no credentials".into()))?;
        // Straight to the DMA's gateway channel: the WAF is not there to help.
        let gateway = env.dma().gateway_addr();
        let connection = connect_app(gateway, &login, &password)
            .await?
            .map_err(|a| {
                Failure::violation(
                    "connectapp-gateway-channel",
                    "ConnectApp on the gateway channel",
                    "connected",
                    a,
                )
            })?;
        let items: BTreeSet<(u32, u32)> = env
            .dma()
            .share_users()
            .into_iter()
            .find(|u| u.share_id == share_id)
            .map(|u| u.items)
            .unwrap_or_default();
        let mut readable = Vec::new();
        let mut written = Vec::new();
        for element in &data.elements {
            let key = (element.dma_id, element.element_id);
            let call = |method: &str, extra: Value| {
                let mut body =
                    json!({ "connection": connection, "dmaID": key.0, "elementID": key.1 });
                if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
                    b.extend(e);
                }
                let path = format!("/API/v1/Json.asmx/{method}");
                async move {
                    exchange(
                        gateway,
                        "POST",
                        &path,
                        Some("application/json"),
                        body.to_string().as_bytes(),
                    )
                    .await
                }
            };
            if call("GetElement", json!({})).await?.status == 200 {
                readable.push(key);
            }
            let parameter = element.parameters.first().map(|p| p.id).unwrap_or(1);
            let write = call(
                "SetParameter",
                json!({ "parameterID": parameter, "value": "CANARY-written" }),
            )
            .await?;
            if write.status == 200 {
                written.push(key);
            }
        }
        readable.sort_unstable();
        let expected: Vec<(u32, u32)> = items.iter().copied().collect();
        ev.expect_eq(
            "elements-share-user-can-read-dma",
            &format!(
                "{}: elements its share user can read on the DMA",
                dashboard.id
            ),
            expected,
            readable,
        )?;
        ev.expect_eq(
            "elements-share-user-could-write",
            &format!("{}: elements its share user could write", dashboard.id),
            Vec::<(u32, u32)>::new(),
            written,
        )?;
        let reply = exchange(
            gateway,
            "POST",
            "/API/v1/Json.asmx/DisconnectFromCloud",
            Some("application/json"),
            json!({ "connection": connection }).to_string().as_bytes(),
        )
        .await?;
        ev.expect(
            "disconnectfromcloud-share-user",
            &format!("{}: DisconnectFromCloud as its share user", dashboard.id),
            reply.status != 200,
            "refused",
            reply,
        )?;
    }
    Ok(())
}
