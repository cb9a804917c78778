//! What a person does with a page in the real browser, and what the scenarios read of it:
//! signing in, the text of an element, waiting (bounded) for the page to show something, the
//! DMS's page inside the cloud's frame, a screenshot. The browser is real, so its page runs on
//! real time: each wait is bounded, and what the page shows is judged once the wait is over.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use mocks::Environment;
use mocks::cloud::Endpoint;

use crate::Failure;

/// The longest the browser may take to show what a step waits for.
pub(super) const PATIENCE: Duration = Duration::from_secs(30);
/// How often a wait looks again.
pub(super) const POLL: Duration = Duration::from_millis(250);

/// Signs in on the page the link opened, as a person types it.
pub(super) async fn sign_in(client: &Client, email: &str, password: &str) -> Result<(), Failure> {
    let form = client
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css("form[action='/account/login']"))
        .await
        .map_err(|e| {
            Failure::precondition(
                "the link asks for a sign-in",
                "a sign-in form",
                e.to_string(),
            )
        })?;
    let step = |e: fantoccini::error::CmdError| {
        Failure::precondition("typing into the sign-in form", "done", e.to_string())
    };
    form.find(Locator::Css("input[name=email]"))
        .await
        .map_err(step)?
        .send_keys(email)
        .await
        .map_err(step)?;
    form.find(Locator::Css("input[name=password]"))
        .await
        .map_err(step)?
        .send_keys(password)
        .await
        .map_err(step)?;
    form.find(Locator::Css("button[type=submit]"))
        .await
        .map_err(step)?
        .click()
        .await
        .map_err(step)?;
    Ok(())
}

/// The text of the first element `css` finds, or nothing.
pub(super) async fn text_of(client: &Client, css: &str) -> String {
    match client.find(Locator::Css(css)).await {
        Ok(found) => found.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// Polls until `done` holds of the page, or the patience runs out; answers whether it held.
pub(super) async fn settle<F, Fut>(mut done: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if done().await {
            return true;
        }
        tokio::time::sleep(POLL).await;
    }
    false
}

/// Enters the DMS's page, as the recipient sees it: the frame of the tab's page when the tab
/// shows one (the cloud's), the tab's own document otherwise. Whether it was a frame.
pub(super) async fn into_dms_page(client: &Client) -> Result<bool, Failure> {
    let found = |css: &'static str| async move { client.find(Locator::Css(css)).await.is_ok() };
    settle(|| async { found("iframe").await || found("#state").await }).await;
    match client.find(Locator::Css("iframe")).await {
        Ok(frame) => {
            frame.enter_frame().await.map_err(|e| {
                Failure::precondition("entering the tab's frame", "the DMS's page", e.to_string())
            })?;
            Ok(true)
        }
        Err(_) => Ok(false),
    }
}

/// Opens `url` in the tab and enters the DMS's page there (`into_dms_page`).
pub(super) async fn reopen(client: &Client, url: &str) -> Result<bool, Failure> {
    client
        .goto(url)
        .await
        .map_err(|e| Failure::precondition("opening the dashboard", "the page", e.to_string()))?;
    into_dms_page(client).await
}

/// Waits for the dashboard app to have refreshed; whether it then shows every text of
/// `expected` (the fixtures' DMA data).
pub(super) async fn shows_live(client: &Client, expected: &[String]) -> bool {
    let refreshed = settle(|| async { text_of(client, "#state").await.ends_with('Z') }).await;
    let shown = text_of(client, "#viewer").await;
    refreshed && expected.iter().all(|t| shown.contains(t.as_str()))
}

pub(super) async fn screenshot(client: &Client) -> Result<Vec<u8>, Failure> {
    let png = client
        .screenshot()
        .await
        .map_err(|e| Failure::Harness(format!("no screenshot: {e}")))?;
    if !png.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(Failure::Harness("the screenshot is not a PNG".into()));
    }
    Ok(png)
}

/// `https://host:port` of a published endpoint, as the browser reaches it.
pub(super) fn base_url(env: &Environment, endpoint: Endpoint) -> Result<String, Failure> {
    env.published()
        .into_iter()
        .find(|(host, _)| *host == endpoint.host())
        .map(|(host, addr)| format!("https://{host}:{}", addr.port()))
        .ok_or_else(|| Failure::Harness(format!("{} is not published", endpoint.host())))
}
