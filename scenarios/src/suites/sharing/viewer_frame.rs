//! Whose page a recipient's tab shows. A DMS is another organisation's, and a document at the
//! top of a tab may always navigate that tab and draw anything in it: a DMS's page there could
//! send the recipient to any site, or ask for their password under the sharing host's name.
//! So a tab's navigation to a viewer's URL must get a page of the cloud's own, which frames
//! the DMS's page in a sandbox of scripts only and names who the content is from as the cloud
//! verified it (the organisation that approved the DMS, the DMS's ID); the DMS's page is what
//! the frame's navigation gets, and every answer relayed from the DMS carries the sandbox
//! itself. Judged on the wire, as a browser receives it; the real-browser scenario then shows
//! the browser holding the page to it.

use serde_json::json;

use super::live;
use crate::clients::{Seen, Viewer};
use crate::{Ctx, Failure};

const DASHBOARD: &str = "core-network";

/// The sandbox tokens of a `Content-Security-Policy` (or an `<iframe sandbox>` value): `None`
/// when it sets no sandbox.
fn sandbox_tokens(policy: &str) -> Option<Vec<String>> {
    policy.split(';').map(str::trim).find_map(|directive| {
        let mut words = directive.split_ascii_whitespace();
        words
            .next()
            .filter(|name| name.eq_ignore_ascii_case("sandbox"))
            .map(|_| words.map(str::to_ascii_lowercase).collect())
    })
}

/// Whether `seen` (a DMS's answer as relayed) runs sandboxed with scripts only: its policy
/// sets a sandbox, and lets the page have none of its own origin, forms, popups, modals or the
/// tab's navigation.
fn scripts_only(seen: &Seen) -> bool {
    let sandboxes: Vec<Vec<String>> = seen
        .header("content-security-policy")
        .into_iter()
        .filter_map(sandbox_tokens)
        .collect();
    !sandboxes.is_empty()
        && sandboxes
            .iter()
            .any(|tokens| tokens.iter().all(|t| t == "allow-scripts"))
}

pub(super) async fn a_tab_shows_the_clouds_frame(ctx: Ctx) -> Result<(), Failure> {
    let env = ctx.environment().await?;
    let ev = ctx.evidence();
    let admin = live::connected(&env).await?;
    let (email, browser) = live::partner(&env).await?;
    let shared = live::share(&env, &admin, DASHBOARD, &[&email], json!({})).await?;
    let link = shared.link_for(&email)?.to_owned();

    // The tab's page, and what its frame got (the tab's own page when it frames nothing).
    let tab = browser.open_tab(&link).await?;
    let src = tab.frame_src();
    let framed = match &src {
        Some(src) => browser.frame(src).await?,
        None => tab.clone(),
    };
    let viewer = Viewer::of(&framed).ok_or_else(|| {
        Failure::precondition(
            "opening the emailed link as its recipient",
            "the DMS's dashboard app, in the tab or its frame",
            format!("HTTP {} at {}", framed.status, framed.path),
        )
    })?;
    let app = framed.body.clone();
    ev.saw("the tab's page", &tab.body);
    ev.expect(
        "a-tab-gets-the-clouds-frame",
        "a tab's navigation to the viewer's URL (the link's redirect followed): the page it got, and where its frame points",
        tab.status == 200
            && src.as_deref() == Some(viewer.base.as_str())
            && !tab.body.contains(app.trim())
            && tab.path == viewer.base,
        "HTTP 200, a page other than the DMS's, framing the viewer's URL",
        json!({ "status": tab.status, "path": tab.path, "frame": src, "is the DMS's page": tab.body.contains(app.trim()) }),
    )?;
    let sandbox: Option<Vec<String>> = tab.frame_attribute("sandbox").map(|value| {
        value
            .split_ascii_whitespace()
            .map(str::to_ascii_lowercase)
            .collect()
    });
    let tab_policy = tab.header("content-security-policy").join("; ");
    ev.expect(
        "the-frame-is-sandboxed-to-scripts",
        "the tab page's frame: its sandbox attribute, and whether the tab page may itself be framed",
        sandbox.as_deref() == Some(&["allow-scripts".to_owned()][..])
            && tab_policy.contains("frame-ancestors 'none'"),
        "sandbox=\"allow-scripts\" only; frame-ancestors 'none'",
        json!({ "sandbox": sandbox, "policy": tab_policy }),
    )?;
    let accounts = env.accounts();
    let organization = &accounts.cloud_admin.organization;
    let dms_id = &accounts.dms_id;
    let banner = tab.body.split("<iframe").next().unwrap_or_default();
    ev.expect(
        "the-frame-names-who-shared",
        "the tab page's text above the frame",
        banner.contains(organization.as_str()) && banner.contains(dms_id.as_str()),
        &format!(
            "the organisation that approved the DMS ({organization}) and the DMS's ID ({dms_id})"
        ),
        banner,
    )?;

    // What the browser says it asks for decides: a request that says nothing (a browser too
    // old to send fetch metadata) gets nothing a browser shows as a page, and a frame's
    // navigation, however it is spelled, needs the sign-in.
    let bare = browser.get_with_only(&viewer.base, &[]).await?;
    let disposition = bare.header("content-disposition").join(", ");
    ev.expect(
        "unlabelled-answers-render-nowhere",
        "the viewer's URL asked with no fetch metadata and no cookie: status, and how a browser is told to treat the answer",
        bare.status != 200
            || disposition
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("attachment"),
        "refused, or Content-Disposition: attachment (a download, never a page)",
        json!({ "status": bare.status, "content-disposition": disposition }),
    )?;
    let nobody = crate::clients::ShareRecipient::new(&env)?;
    let mut framings = Vec::new();
    for headers in [
        vec![("sec-fetch-dest", "iframe")],
        vec![("sec-fetch-dest", "iframe"), ("sec-fetch-mode", "navigate")],
        vec![("sec-fetch-mode", "navigate")],
        vec![("sec-fetch-dest", "empty"), ("sec-fetch-dest", "document")],
        vec![("sec-fetch-dest", "empty, document")],
    ] {
        let seen = nobody.get_with_only(&viewer.base, &headers).await?;
        framings.push(json!({ "headers": headers, "status": seen.status }));
    }
    ev.expect(
        "a-frames-navigation-needs-the-sign-in",
        "the viewer's URL asked, with no cookie, as a frame's or a tab's navigation spelled five ways",
        framings.iter().all(|f| f["status"] != 200),
        "no 200",
        &framings,
    )?;

    // Every answer the DMS's page gets through the relay carries the sandbox itself.
    let calls = live::dashboard_calls(DASHBOARD)?;
    let (method, parameters) = calls
        .first()
        .ok_or_else(|| Failure::Harness(format!("{DASHBOARD} has no call")))?;
    let definition = browser
        .send(&viewer, reqwest::Method::GET, "definition", &[], None)
        .await?;
    let call = browser.call(&viewer, method, parameters).await?;
    let answers = [
        ("the frame's page", &framed),
        ("the definition", &definition),
        ("a call", &call),
    ];
    let report: Vec<_> = answers
        .iter()
        .map(|(what, seen)| {
            json!({
                "answer": what,
                "status": seen.status,
                "policy": seen.header("content-security-policy"),
                "scripts only": scripts_only(seen),
            })
        })
        .collect();
    ev.expect(
        "every-relayed-answer-is-sandboxed",
        "the policy on the DMS's answers the relay served: the frame's page, the dashboard's definition, a call",
        answers
            .iter()
            .all(|(_, seen)| seen.status == 200 && scripts_only(seen)),
        "HTTP 200, each with a sandbox of allow-scripts only",
        report,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sandbox_tokens_are_read_from_a_policy() {
        assert_eq!(
            sandbox_tokens("default-src 'none'; Sandbox allow-scripts ; img-src x"),
            Some(vec!["allow-scripts".to_owned()])
        );
        assert_eq!(sandbox_tokens("sandbox"), Some(Vec::new()));
        assert_eq!(sandbox_tokens("default-src 'none'"), None);
    }
}
