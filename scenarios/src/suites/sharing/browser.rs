//! A real browser on the recipient's path (SHARE-2, SHARE-3): headless Chromium, driven over
//! WebDriver (Debian's `chromium` and `chromium-driver`), opens the link the cloud mailed, signs
//! in with the recipient's account, and the DMS's dashboard app renders what its own calls got
//! from the DMA through the cloud's relay, the tunnel, the Cloud Gateway and the WAF; another
//! account with the same link is refused. The page, a DMS's content on the sharing host, can
//! neither read the cloud's API nor toss a session cookie to it (`tossing`), nor evict the
//! site's cookies with a flood of its own (`eviction`); the viewer's URL, copied into a browser
//! not signed in as the recipient, opens nothing. The page runs in the cloud's frame, under a
//! banner naming who shared it, and cannot take the tab. The screenshots are the run's
//! attachments. With no browser on the machine the scenario is skipped, saying so, never
//! passed.

use fantoccini::Client;
use mocks::Environment;
use mocks::world::random_token;
use serde_json::json;

use super::browser_launch::{browser, installed};
use super::browser_page::{into_dms_page, screenshot, settle, sign_in, text_of};
use super::live;
use crate::{Ctx, Failure};

/// A dashboard one of whose calls names an ID as a string, as DataMiner's apps may.
const DASHBOARD: &str = "core-network";

pub(super) async fn a_real_browser_shows_the_dashboard_live(ctx: Ctx) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let Some((chromium, chromedriver)) = installed() else {
        ev.skip(
            "no chromium and chromedriver on PATH: apt-get install chromium chromium-driver \
             (./test.sh does)",
        );
        return Ok(());
    };
    let env = ctx.environment().await?;
    let admin = live::connected(&env).await?;
    let recipient = env.accounts().cloud_outsider.clone();
    let shared = live::share(
        &env,
        &admin,
        DASHBOARD,
        &[&recipient.email],
        json!({ "message": "The core network, live." }),
    )
    .await?;
    let link = shared.link_for(&recipient.email)?.to_owned();
    let expected = live::expected_texts(DASHBOARD)?;
    let profile = std::env::temp_dir().join(format!("conform-browser-{}", random_token(8)));
    let (driver, client) = browser(&env, &chromium, &chromedriver, &profile).await?;
    let verdict = walk(&ctx, &env, &client, &link, &shared.share_id, &expected).await;
    let _ = client.close().await;
    drop(driver);
    let _ = std::fs::remove_dir_all(&profile);
    verdict
}

async fn walk(
    ctx: &Ctx,
    env: &Environment,
    client: &Client,
    link: &str,
    share_id: &str,
    expected: &[String],
) -> Result<(), Failure> {
    let ev = ctx.evidence();
    let recipient = env.accounts().cloud_outsider.clone();
    let from = env.dma().executed().len();
    let goto = |e: fantoccini::error::CmdError| {
        Failure::precondition("opening the mailed link", "the page", e.to_string())
    };
    client.goto(link).await.map_err(goto)?;
    sign_in(client, &recipient.email, &recipient.password).await?;
    let framed = into_dms_page(client).await?;
    // The app's script says when its calls came back, in the browser's clock format.
    let refreshed = settle(|| async { text_of(client, "#state").await.ends_with('Z') }).await;
    let shown = text_of(client, "#viewer").await;
    // The viewer's URL, with the session's capability in its path, as the address bar shows it.
    let viewer_url = client.current_url().await.map_err(goto)?.to_string();
    ev.saw(
        "the dashboard app's state line",
        text_of(client, "#state").await,
    );
    ev.saw("what the browser shows", &shown);
    ev.attach("dashboard.png", "image/png", screenshot(client).await?);
    // First what the page may try with the tab, then whose the tab says the page is.
    page_cannot_navigate_the_tab(ctx, env, client, &viewer_url).await?;
    banner_names_who_shared(ctx, env, client, framed).await?;
    let missing: Vec<&String> = expected
        .iter()
        .filter(|t| !shown.contains(t.as_str()))
        .collect();
    ev.expect(
        "browser-shows-live-dma-data",
        "element names and alarm values (fixtures' DMA data) missing from the rendered dashboard",
        refreshed && missing.is_empty(),
        "none missing, the app refreshed",
        json!({ "missing": missing, "refreshed": refreshed }),
    )?;
    let ran = env.dma().executed().since(from);
    let calls: Vec<_> = ran.iter().filter(|c| c.method != "ConnectApp").collect();
    ev.expect(
        "browser-calls-ran-as-the-share-user",
        "calls the DMA carried out while the browser showed the dashboard",
        !calls.is_empty() && calls.iter().all(|c| c.share.as_deref() == Some(share_id)),
        &format!("some, all as share {share_id}"),
        &calls,
    )?;

    // The page is a DMS's content on the sharing host, where the recipient's own session with
    // dataminer.services lives too: from it, the cloud's own API must be out of reach. The
    // browser is the judge: it enforces (or not) what the relayed answer told it.
    let reach = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             fetch('/api/shares', { credentials: 'include' }) \
               .then(r => r.text().then(t => 'read ' + r.status + ': ' + t.length + ' bytes')) \
               .catch(e => 'blocked: ' + e) \
               .then(done);",
            Vec::new(),
        )
        .await
        .map_err(|e| Failure::Harness(format!("running a script in the page: {e}")))?;
    let reach = reach.as_str().unwrap_or_default().to_owned();
    ev.expect(
        "page-cannot-read-the-clouds-api",
        "the dashboard page's own fetch of the sharing host's /api/shares, with the recipient's session",
        reach.starts_with("blocked"),
        "blocked by the browser",
        &reach,
    )?;

    super::tossing::page_cannot_toss_a_session(ctx, env, client).await?;
    super::eviction::page_cannot_evict_the_sites_cookies(ctx, env, client, &viewer_url, expected)
        .await?;

    // Another dataminer.services account with the same link: refused, and shown nothing.
    let step = |e: fantoccini::error::CmdError| {
        Failure::precondition("signing the browser out", "done", e.to_string())
    };
    client.delete_all_cookies().await.map_err(step)?;
    let copied = super::eviction::open_copied_viewer_url;
    let mut copies = vec![copied(client, &viewer_url, expected, None).await?];
    client.goto(link).await.map_err(goto)?;
    let other = env.accounts().cloud_admin.clone();
    sign_in(client, &other.email, &other.password).await?;
    settle(|| async {
        text_of(client, "h1").await == "Not shared with you"
            || !text_of(client, "#components").await.is_empty()
    })
    .await;
    let title = text_of(client, "h1").await;
    let page = client.source().await.unwrap_or_default();
    ev.attach("other-account.png", "image/png", screenshot(client).await?);
    let leaked: Vec<&String> = expected
        .iter()
        .filter(|t| page.contains(t.as_str()))
        .collect();
    ev.expect(
        "browser-other-account-refused",
        "the same link signed in as another account: the page's title, and the dashboard's data on it",
        title == "Not shared with you" && leaked.is_empty(),
        "\"Not shared with you\", no data",
        json!({ "title": title, "leaked": leaked }),
    )?;

    // The recipient's viewer URL, copied out of the address bar, opened as a page in this
    // browser: with no sign-in (above), and now signed in as another account.
    copies.push(copied(client, &viewer_url, expected, Some(&other.email)).await?);
    ev.expect(
        "copied-viewer-url-opens-nothing",
        "the recipient's viewer URL opened as a page with no sign-in, then signed in as another account",
        super::eviction::opened_nothing(&copies),
        "refused both times: no app, no data",
        &copies,
    )
}

/// What the recipient reads above the DMS's page, in the tab's own document: who the content
/// is from, as the scenario knows it (the organisation that approved the DMS, the DMS's ID).
/// Back in the DMS's page afterwards.
async fn banner_names_who_shared(
    ctx: &Ctx,
    env: &Environment,
    client: &Client,
    framed: bool,
) -> Result<(), Failure> {
    let step = |e: fantoccini::error::CmdError| {
        Failure::precondition("leaving and re-entering the frame", "done", e.to_string())
    };
    if framed {
        client.enter_parent_frame().await.map_err(step)?;
    }
    let tab = text_of(client, "body").await;
    if framed {
        into_dms_page(client).await?;
    }
    let accounts = env.accounts();
    let (organization, dms_id) = (&accounts.cloud_admin.organization, &accounts.dms_id);
    ctx.evidence().expect(
        "browser-banner-names-who-shared",
        "the text of the tab's own page around the dashboard",
        framed && tab.contains(organization.as_str()) && tab.contains(dms_id.as_str()),
        &format!("a frame, under a text naming {organization} and {dms_id}"),
        json!({ "framed": framed, "text": tab }),
    )
}

/// The DMS's page tries to take the tab: sends it to a URL of its own choosing, and opens a
/// window there. The browser's answer to each, the tab's URL afterwards, and whether the cloud
/// saw either request (the URL names a path only this step uses).
async fn page_cannot_navigate_the_tab(
    ctx: &Ctx,
    env: &Environment,
    client: &Client,
    viewer_url: &str,
) -> Result<(), Failure> {
    let sharing = super::browser_page::base_url(env, mocks::cloud::Endpoint::Sharing)?;
    let mark = random_token(16);
    let away = format!("{sharing}/s/taken-{mark}");
    let script = "const away = arguments[0]; const out = {}; \
                  try { top.location.href = away + '-tab'; out.tab = 'navigating'; } \
                  catch (e) { out.tab = 'refused: ' + e.name; } \
                  try { const w = window.open(away + '-window'); \
                        out.window = w ? 'opened' : 'refused'; } \
                  catch (e) { out.window = 'refused: ' + e.name; } \
                  return out;";
    // A tab that navigates away may end the script's run before it answers: that is an answer.
    let tried = match client.execute(script, vec![json!(away)]).await {
        Ok(answer) => answer,
        Err(e) => json!({ "script ended": e.to_string() }),
    };
    let refused = |what: &str| {
        tried[what]
            .as_str()
            .is_some_and(|a| a.starts_with("refused"))
    };
    let url = client
        .current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_default();
    let reached: Vec<String> = env
        .cloud()
        .requests()
        .all()
        .into_iter()
        .filter(|r| r.path.contains(&mark))
        .map(|r| r.path)
        .collect();
    ctx.evidence().expect(
        "a-page-cannot-navigate-the-tab",
        "the DMS's page setting the tab's location and opening a window: the browser's answers, the tab's URL after, and the cloud's requests for those URLs",
        refused("tab") && refused("window") && url == viewer_url && reached.is_empty(),
        "both refused, the tab still on the viewer's URL, nothing requested",
        json!({ "tried": tried, "tab's URL": url, "requested": reached }),
    )
}
