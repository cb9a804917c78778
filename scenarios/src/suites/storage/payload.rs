//! SHARE-4: a share's recipient keeps the DMS's dashboard app open through the mailed link for
//! a simulated day (its heartbeat each hour), beside an organisation member who calls the same
//! dashboard and a trend through the sharing front end; then the DMA's canaries are looked
//! for in everything the cloud keeps: its store and its backups (raw and decrypted by the
//! scenario), its log, and every file under its directory (raw and gunzipped).

use std::time::Duration;

use fixtures::{Dashboard, DmaData};
use serde_json::{Value, json};

use super::reader;
use super::search::{self, Canary};
use super::store_paths;
use crate::suites::sharing::live;
use crate::suites::tunnel::recipient_client::Recipient;
use crate::{Ctx, Failure, steps};

/// The dashboard the recipient keeps open.
const DASHBOARD: &str = "soc-overview";
/// The DataMiner API method a trend chart calls.
const TREND_METHOD: &str = "GetTrendDataForParameter";
const HOUR: Duration = Duration::from_secs(3600);
const HOURS: u32 = 24;

pub(super) async fn no_dms_data_in_the_cloud(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let sharer = steps::connect_dms(&env).await?;
    let dms_id = env.accounts().dms_id.clone();
    let dashboard = Dashboard::load(DASHBOARD)
        .map_err(|e| Failure::Harness(format!("dashboard fixture: {e}")))?;
    let data = DmaData::load().map_err(|e| Failure::Harness(format!("DMA fixture: {e}")))?;
    let recipient = Recipient::signed_in(&env).await?;
    let admin = &env.accounts().dms_admin;
    // The share's recipient, with the DMS's dashboard app open through the mailed link.
    let (email, viewer_browser) = live::partner(&env).await?;
    let shared = live::share(&env, &sharer, DASHBOARD, &[&email], json!({})).await?;
    let (viewer, _) = live::open_viewer(&viewer_browser, shared.link_for(&email)?).await?;

    let mut received = Vec::new();
    let mut calls = 0;
    for _ in 0..HOURS {
        // The dashboard's heartbeat: a fresh session and every call of it, as a viewer's
        // browser refreshes it.
        let connection = recipient
            .connect_app(&dms_id, &admin.login, &admin.password)
            .await?;
        let trend = (
            TREND_METHOD.to_owned(),
            json!({ "dmaID": 2000, "elementID": 100, "parameterID": 1001, "points": 20 }),
        );
        let dashboard_calls = dashboard
            .calls()
            .map(|c| (c.method.clone(), Value::Object(c.parameters.clone())));
        for (method, mut body) in dashboard_calls.chain([trend]) {
            body["connection"] = connection.clone().into();
            let (status, answer) = recipient.call_json(&dms_id, &method, &body).await?;
            if status != 200 {
                return Err(Failure::precondition(
                    format!("viewing the dashboard: {method}"),
                    "HTTP 200",
                    (status, answer),
                ));
            }
            calls += 1;
            received.push((method, answer));
        }
        // The app's heartbeat in the recipient's browser: the definition and every call,
        // through the sharing relay and the tunnel.
        let beat = viewer_browser.heartbeat(&viewer).await?;
        if beat.status != 200 {
            return Err(Failure::precondition(
                "the shared dashboard's heartbeat",
                "HTTP 200",
                beat.status,
            ));
        }
        calls += 1;
        received.push(("heartbeat".to_owned(), beat.json()));
        env.advance(HOUR).await;
    }
    ev.saw(
        "calls the recipient made through the sharing front end",
        calls,
    );

    let canaries = search::canaries(&data, &trend_points(&received));
    let seen = search::findings(
        &[(
            "what the recipient received".to_owned(),
            serde_json::to_vec(&received).unwrap_or_default(),
        )],
        &canaries,
    );
    if seen.is_empty() {
        return Err(Failure::precondition(
            "viewing the dashboard",
            "answers carrying the DMA's canaries, or the search proves nothing",
            received.first(),
        ));
    }
    ev.saw(
        "canaries looked for",
        canaries.iter().map(|c| &c.name).collect::<Vec<_>>(),
    );
    ev.saw("canaries the recipient was shown", seen.len());

    store_holds_none(&env, &ctx, &canaries)?;
    let lines: Vec<(String, Vec<u8>)> = env
        .cloud()
        .log()
        .lines()
        .into_iter()
        .enumerate()
        .map(|(i, l)| (format!("log line {i}"), l.into_bytes()))
        .collect();
    let found = search::findings(&lines, &canaries);
    ev.expect(
        "no-dms-data-in-the-clouds-logs",
        "the DMA's canaries in the cloud's operational log",
        found.is_empty(),
        "none",
        &found,
    )?;
    let files = reader::files_under(env.scratch_dir())?;
    ev.saw(
        "the cloud's files searched (bytes)",
        files.iter().map(|(p, b)| (p, b.len())).collect::<Vec<_>>(),
    );
    let found = search::findings(&files, &canaries);
    ev.expect(
        "no-dms-data-in-the-clouds-files",
        "the DMA's canaries in any file under the cloud's directory (store, second region, scratch), raw or gunzipped",
        found.is_empty(),
        "none",
        &found,
    )
}

/// The store and each backup, decrypted by the scenario and raw.
fn store_holds_none(
    env: &mocks::Environment,
    ctx: &Ctx,
    canaries: &[Canary],
) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let paths = store_paths(env)?;
    let mut databases = vec![paths.database.clone()];
    databases.extend(
        reader::files_under(&paths.replica)?
            .into_iter()
            .map(|(p, _)| std::path::PathBuf::from(p))
            .filter(|p| p.extension().is_some_and(|e| e == "sqlite")),
    );
    let mut places = Vec::new();
    for database in &databases {
        let file = reader::read(database)?;
        let (opened, _) = reader::decrypt(env, &file);
        for (place, value) in opened {
            places.push((format!("{} (decrypted) {place}", database.display()), value));
        }
        if let Ok(bytes) = std::fs::read(database) {
            places.push((database.display().to_string(), bytes));
        }
    }
    ev.saw("store databases searched", databases.len());
    let found = search::findings(&places, canaries);
    ev.expect(
        "no-dms-data-in-the-store",
        "the DMA's canaries in the cloud's store and its backups, decrypted and raw",
        found.is_empty(),
        "none",
        found.iter().take(10).collect::<Vec<_>>(),
    )
}

/// The first points of each trend the recipient read, as text: DMS data with no canary mark,
/// looked for as it was received.
fn trend_points(received: &[(String, Value)]) -> Vec<String> {
    let mut points: Vec<String> = received
        .iter()
        .filter(|(method, _)| method == TREND_METHOD)
        .filter_map(|(_, answer)| answer.get("d")?.as_array()?.get(1).map(Value::to_string))
        .collect();
    points.sort();
    points.dedup();
    points
}
