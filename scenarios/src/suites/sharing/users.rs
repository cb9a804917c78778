//! The share user (USER-1..5): one per share, a 17-character random password sealed with
//! Blowfish-ECB, usable only through the gateway, reading only its dashboard's items. The
//! figures come from the spec (`fixtures/spec.json`), the items from the dashboards, and the
//! verdicts from the user table and the calls the DMA carried out.

use std::collections::{BTreeSet, HashMap, HashSet};

use blowfish::Blowfish;
use blowfish::cipher::{Block, BlockCipherDecrypt, KeyInit};
use serde_json::{Value, json};

use super::calls::{self, Call};
use super::setup::{self, Via, connect_app, send};
use super::waf::judge_share_calls;
use crate::{Ctx, Failure, oracle};

/// How many passwords the statistical check draws.
const SAMPLE: usize = 10_000;

/// How many times each dashboard is shared: each share must get a user and a password of its
/// own.
const ROUNDS: usize = 2;

/// A `ConnectApp` outcome for the evidence: a connection string is a session secret.
pub(crate) fn redacted(outcome: &Result<String, String>) -> String {
    match outcome {
        Ok(_) => "connected (connection string redacted)".to_owned(),
        Err(answer) => format!("refused: {answer}"),
    }
}

pub(crate) async fn one_user_per_share(ctx: Ctx) -> Result<(), Failure> {
    let spec = &oracle::spec()?.share_user;
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = setup::admin(&env).await?;
    let mut ids = Vec::new();
    for _ in 0..ROUNDS {
        for dashboard in setup::dashboards()? {
            let share_id = setup::share(&admin, &dashboard.id).await?;
            ids.push(share_id);
            ev.expect_eq(
                "one-share-user-per-share",
                &format!(
                    "share users in the user table after sharing {}",
                    dashboard.id
                ),
                ids.len(),
                env.dma().share_users().len(),
            )?;
        }
    }
    let logins: HashSet<String> = env
        .dma()
        .share_users()
        .into_iter()
        .map(|u| u.login)
        .collect();
    ev.expect_eq(
        "share-user-logins-distinct",
        "distinct share-user logins",
        ids.len(),
        logins.len(),
    )?;
    let mut passwords = Vec::new();
    for share_id in &ids {
        let (login, password) = setup::credentials(&env, share_id)?;
        ev.expect_eq(
            "share-password-length",
            &format!("characters in the password of {login}"),
            spec.password_length,
            password.chars().count(),
        )?;
        let outside: Vec<char> = password
            .chars()
            .filter(|c| !spec.password_alphabet.contains(*c))
            .collect();
        ev.expect_eq(
            "share-password-alphabet",
            &format!("characters of {login}'s password outside the alphabet"),
            Vec::<char>::new(),
            outside,
        )?;
        passwords.push(password);
    }
    let distinct: HashSet<&String> = passwords.iter().collect();
    ev.expect_eq(
        "share-passwords-distinct",
        "distinct passwords among the shares' users",
        passwords.len(),
        distinct.len(),
    )?;

    // Deleting a share removes its user, and its login stops working.
    let gone = ids[0].clone();
    let (login, password) = setup::credentials(&env, &gone)?;
    admin
        .expect_data("DeleteShare", json!({ "shareID": gone }))
        .await?;
    ev.expect_eq(
        "share-user-removed-with-its-share",
        "share users in the user table after deleting one share",
        ids.len() - 1,
        env.dma().share_users().len(),
    )?;
    let from = env.dma().executed().len();
    let after = connect_app(&env, Via::Gateway, &login, &password).await?;
    let logged_in: Vec<String> = env
        .dma()
        .executed()
        .since(from)
        .into_iter()
        .filter(|e| e.method == "ConnectApp" && e.login.eq_ignore_ascii_case(&login))
        .map(|e| format!("{:?} {}", e.channel, e.method))
        .collect();
    ev.saw("the deleted share's user logs in: answer", redacted(&after));
    ev.expect(
        "deleted-share-user-cannot-log-in",
        "log-ins the DMA carried out for the deleted share's user",
        logged_in.is_empty(),
        "none",
        logged_in,
    )?;

    let sample = env.dma().sample_share_passwords(SAMPLE);
    let lengths: BTreeSet<usize> = sample.iter().map(|p| p.chars().count()).collect();
    ev.expect_eq(
        "sampled-password-lengths",
        "lengths of 10 000 generated passwords",
        BTreeSet::from([spec.password_length]),
        lengths,
    )?;
    let distinct: HashSet<&String> = sample.iter().collect();
    ev.expect_eq(
        "sampled-passwords-distinct",
        "distinct among 10 000 passwords",
        SAMPLE,
        distinct.len(),
    )?;
    let outside = sample
        .iter()
        .flat_map(|p| p.chars())
        .filter(|c| !spec.password_alphabet.contains(*c))
        .count();
    ev.expect_eq(
        "sampled-passwords-in-the-alphabet",
        "characters outside the alphabet in 10 000 passwords",
        0,
        outside,
    )?;
    let used: HashSet<char> = sample.iter().flat_map(|p| p.chars()).collect();
    let alphabet = spec.password_alphabet.chars().count();
    ev.expect_eq(
        "sampled-passwords-use-the-whole-alphabet",
        "alphabet characters seen in the sample",
        alphabet,
        used.len(),
    )?;
    ev.saw(
        "password entropy",
        json!({
            "alphabet": alphabet, "length": spec.password_length,
            "bits": format!("{:.1}", spec.password_length as f64 * (alphabet as f64).log2()),
        }),
    );
    Ok(())
}

pub(crate) async fn passwords_sealed(ctx: Ctx) -> Result<(), Failure> {
    let spec = &oracle::spec()?.share_user;
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
        "blowfish-key-length",
        "Blowfish key length in bytes",
        spec.blowfish_key_bytes,
        key.bytes().len(),
    )?;
    let cipher: Blowfish = KeyInit::new_from_slice(key.bytes())
        .map_err(|_| Failure::Harness("the share key is no Blowfish key".into()))?;
    for share_id in &shares {
        let (login, password) = setup::credentials(&env, share_id)?;
        let stored = env
            .dma()
            .share_users()
            .into_iter()
            .find(|u| u.share_id == *share_id)
            .map(|u| u.password_at_rest)
            .ok_or_else(|| {
                Failure::violation(
                    "share-user-stored",
                    format!("{share_id}: its row in the user table"),
                    "a stored share user",
                    "none",
                )
            })?;
        let leaks = stored
            .windows(4)
            .any(|w| password.as_bytes().windows(4).any(|p| p == w));
        ev.expect(
            "stored-record-holds-no-password-bytes",
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
            "stored-record-is-blowfish-ecb-of-the-password",
            &format!("{login}: stored record decrypted independently with Blowfish-ECB"),
            whole_blocks && opened == expected,
            "the password, PKCS#5-padded",
            stored.len(),
        )?;
    }
    Ok(())
}

pub(crate) async fn items_only(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let data = setup::dma_data()?;
    let admin = setup::admin(&env).await?;
    for dashboard in setup::dashboards()? {
        let share_id = setup::share(&admin, &dashboard.id).await?;
        let (login, password) = setup::credentials(&env, &share_id)?;
        // Straight to the DMA's gateway channel with the gateway's key: the WAF is not there
        // to help.
        let connection = connect_app(&env, Via::GatewayPortWithKey, &login, &password)
            .await?
            .map_err(|a| {
                Failure::precondition(
                    format!("{}: ConnectApp on the gateway channel", dashboard.id),
                    "a connection string",
                    a,
                )
            })?;
        let reach = calls::reach(&dashboard, &data);
        let from = env.dma().executed().len();
        for element in &data.elements {
            let key = (element.dma_id, element.element_id);
            let call = |method: &str, extra: Value| {
                let mut body =
                    json!({ "connection": connection, "dmaID": key.0, "elementID": key.1 });
                if let (Value::Object(b), Value::Object(e)) = (&mut body, extra) {
                    b.extend(e);
                }
                let path = format!("/API/v1/Json.asmx/{method}");
                let env = &env;
                async move {
                    send(
                        env,
                        Via::GatewayPortWithKey,
                        &path,
                        Some("application/json"),
                        body.to_string().as_bytes(),
                    )
                    .await
                }
            };
            call("GetElement", json!({})).await?;
            let parameter = element.parameters.first().map(|p| p.id).unwrap_or(1);
            call(
                "SetParameter",
                json!({ "parameterID": parameter, "value": "CANARY-written" }),
            )
            .await?;
        }
        send(
            &env,
            Via::GatewayPortWithKey,
            "/API/v1/Json.asmx/DisconnectFromCloud",
            Some("application/json"),
            json!({ "connection": connection }).to_string().as_bytes(),
        )
        .await?;
        let executed = env.dma().executed().since(from);
        let sessions = HashMap::from([(connection.clone(), reach.clone())]);
        judge_share_calls(&ev, &dashboard.id, &executed, &sessions)?;
        let read: BTreeSet<calls::Item> = executed
            .iter()
            .filter(|e| e.connection == connection)
            .map(|e| Call::read(&e.method, &e.parameters))
            .filter(Call::reads)
            .filter_map(|c| c.element())
            .collect();
        ev.expect_eq(
            "share-user-reads-its-items",
            &format!("{}: elements the DMA let its share user read", dashboard.id),
            reach.items,
            read,
        )?;
    }
    Ok(())
}
