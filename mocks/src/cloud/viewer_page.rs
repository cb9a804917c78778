//! The viewer a share link opens: plain HTML with the dashboard as the cloud last fetched it,
//! and one small inline script (allowed by its nonce, nothing else) that refreshes it on a
//! heartbeat from the same host. No external asset, no framing, nothing cached.

use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

use super::pages::{escape, page, utc};
use super::shares::Link;
use super::viewer_data::DashboardData;
use crate::world::random_token;

/// How often the viewer refreshes, in milliseconds.
const HEARTBEAT_MS: u32 = 5000;

/// The script: every heartbeat, the data again; a share that ended stops it and says so.
const SCRIPT: &str = r#"(function () {
  var root = document.getElementById("viewer");
  var url = root.getAttribute("data-url"), session = root.getAttribute("data-session");
  var every = parseInt(root.getAttribute("data-heartbeat-ms"), 10);
  var state = document.getElementById("state");
  function show(data) {
    var list = document.getElementById("components");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    data.components.forEach(function (c) {
      var section = document.createElement("section");
      var h = document.createElement("h2"); h.textContent = c.title; section.appendChild(h);
      var ul = document.createElement("ul");
      c.lines.forEach(function (line) {
        var li = document.createElement("li"); li.textContent = line; ul.appendChild(li);
      });
      if (c.error) {
        var li = document.createElement("li"); li.className = "error"; li.textContent = c.error;
        ul.appendChild(li);
      }
      section.appendChild(ul); list.appendChild(section);
    });
    state.textContent = "Live, refreshed " + new Date(data.refreshed_at * 1000).toISOString();
  }
  function beat() {
    fetch(url, { credentials: "same-origin", headers: { "X-Viewer-Session": session } })
      .then(function (r) {
        if (r.status === 410 || r.status === 403 || r.status === 401) {
          state.textContent = "This share has ended.";
          root.setAttribute("data-ended", String(r.status));
          return null;
        }
        return r.json().then(function (data) { show(data); setTimeout(beat, every); });
      })
      .catch(function () { state.textContent = "Reconnecting..."; setTimeout(beat, every); });
  }
  setTimeout(beat, every);
})();"#;

/// The viewer for `link`, its first view `data`, its heartbeat bound to `session`.
pub(crate) fn render(
    link: &Link,
    token: &str,
    session: &str,
    data: &DashboardData,
    now: u64,
) -> Response {
    let share = &link.share;
    let url = format!(
        "/s/{token}/dms/{}/dashboards/{}/data",
        share.dms_id, share.dashboard
    );
    let mut sections = String::new();
    for component in &data.components {
        sections.push_str(&format!(
            "<section><h2>{}</h2><ul>",
            escape(&component.title)
        ));
        for line in &component.lines {
            sections.push_str(&format!("<li>{}</li>", escape(line)));
        }
        if let Some(error) = &component.error {
            sections.push_str(&format!("<li class=\"error\">{}</li>", escape(error)));
        }
        sections.push_str("</ul></section>");
    }
    let expiry = share
        .expires_at
        .map(|at| format!(" Until {}.", utc(at)))
        .unwrap_or_default();
    let nonce = random_token(16);
    let body = format!(
        "<div id=\"viewer\" data-url=\"{url}\" data-session=\"{session}\" \
         data-heartbeat-ms=\"{HEARTBEAT_MS}\">\
         <p>Shared by {by} for {email}.{expiry}</p>\
         <p id=\"state\">Live, refreshed {refreshed}</p>\
         <div id=\"components\">{sections}</div></div>\
         <script nonce=\"{nonce}\">{SCRIPT}</script>",
        url = escape(&url),
        session = escape(session),
        by = escape(&share.shared_by),
        email = escape(&link.email),
        refreshed = utc(now),
    );
    let mut response = page(StatusCode::OK, &data.title, &body);
    let policy = format!(
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; \
         connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}
