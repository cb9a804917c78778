//! The control endpoint of a live environment, on loopback only: `GET /control/state`,
//! `POST /control/advance {"by":"7d"}`, `POST /control/store/decrypt {"db": FILE}` (the
//! store's file, or a backup, decrypted with keys the vault unwraps as the managed identity),
//! `GET /control/outbox`, the mails the cloud sent (share links, sign-up codes): the
//! recipients' mailboxes, for a reviewer; `GET /control/requests`, the requests the cloud
//! received and the address each came from; `POST /control/toxics {"hop":..,"toxic":..}` and
//! `DELETE /control/toxics/{hop}`. Only requests addressed to it by its own name are answered
//! (`control_host`), and the store it decrypts is the environment's own, no other file.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::control_host::{OwnHost, own_host_only};
use super::live::Live;
use super::toxics::{self, Apply};

/// The control endpoint, serving until `stop`.
pub struct Control {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Control {
    /// `http://127.0.0.1:PORT/control/`: the routes are relative to it.
    pub fn url(&self) -> String {
        format!("http://{}/control/", self.addr)
    }

    pub async fn stop(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// Binds 127.0.0.1 only: whoever reaches this moves the environment's time. A request that
/// names another host (a page of another name its DNS points here) is refused.
pub async fn serve(live: Arc<Live>) -> std::io::Result<Control> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/control/state", get(state))
        .route("/control/advance", post(advance))
        .route("/control/store/decrypt", post(decrypt))
        .route("/control/outbox", get(outbox))
        .route("/control/requests", get(requests))
        .route("/control/toxics", post(add_toxic))
        .route("/control/toxics/{hop}", delete(clear_toxics))
        .with_state(live)
        .layer(axum::middleware::from_fn_with_state(
            OwnHost::of(addr),
            own_host_only,
        ));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Control { addr, task })
}

#[derive(Debug, Deserialize)]
struct Advance {
    by: String,
}

async fn state(State(live): State<Arc<Live>>) -> Response {
    Json(live.state().await).into_response()
}

async fn outbox(State(live): State<Arc<Live>>) -> Response {
    Json(live.env().cloud().outbox().all()).into_response()
}

/// Every request the cloud received, oldest first: its endpoint, method, path (no query),
/// status, time and the address its connection came from as the cloud's socket saw it, which
/// is the client's own through the recipients' hop. No header or body: they hold cookies,
/// passwords and tokens.
async fn requests(State(live): State<Arc<Live>>) -> Response {
    let seen: Vec<_> = live
        .env()
        .cloud()
        .requests()
        .all()
        .into_iter()
        .map(|r| {
            json!({
                "endpoint": r.endpoint,
                "method": r.method,
                "path": path_only(&r.path),
                "status": r.status,
                "at_unix": r.at_unix,
                "peer": r.peer.map(|p| p.to_string()),
            })
        })
        .collect();
    Json(seen).into_response()
}

/// A request target as a path: HTTP/2's are recorded with scheme and authority; the query
/// (which may carry a code) is left out.
fn path_only(target: &str) -> &str {
    let origin = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => target,
    };
    origin.split('?').next().unwrap_or(origin)
}

/// Answers once the environment acted on the new time, with the state it reached.
async fn advance(
    State(live): State<Arc<Live>>,
    body: Result<Json<Advance>, JsonRejection>,
) -> Response {
    let by = match body {
        Ok(Json(Advance { by })) => by,
        Err(rejection) => return refused(rejection.body_text()),
    };
    match mocks::world::parse_span(&by) {
        Ok(span) => {
            live.advance(span).await;
            Json(live.state().await).into_response()
        }
        Err(error) => refused(error.to_string()),
    }
}

#[derive(Debug, Deserialize)]
struct Decrypt {
    db: Option<std::path::PathBuf>,
}

/// The tables of the store file named (the primary when none is), every value opened: 422
/// when one does not open where it lies. Only a file under the environment's own store
/// directory is opened; any other path, there or not, gets the same 400, so the endpoint
/// tells no one which files exist elsewhere.
async fn decrypt(
    State(live): State<Arc<Live>>,
    body: Result<Json<Decrypt>, JsonRejection>,
) -> Response {
    let asked = match body {
        Ok(Json(Decrypt { db })) => db,
        Err(rejection) => return refused(rejection.body_text()),
    };
    let store = live.env().cloud().store();
    let Some(paths) = store.paths() else {
        return refused("the store is not on disk".into());
    };
    let db = asked.unwrap_or_else(|| paths.database.clone());
    if !is_store_file(&paths.root, &db) {
        return refused(format!(
            "{} is no file of this environment's store (under {})",
            db.display(),
            paths.root.display()
        ));
    }
    match store.decrypt_file(&db) {
        Ok(tables) => Json(json!({
            "db": db,
            "key_versions": store.key_versions().ok(),
            "tables": tables,
        }))
        .into_response(),
        Err(error) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "db": db, "error": error.to_string() })),
        )
            .into_response(),
    }
}

/// Whether `file` is a file under `root` once every link and `..` is resolved.
fn is_store_file(root: &std::path::Path, file: &std::path::Path) -> bool {
    let (Ok(root), Ok(file)) = (root.canonicalize(), file.canonicalize()) else {
        return false;
    };
    file.starts_with(&root) && file.is_file()
}

/// Answers with the state, the toxic listed in it.
async fn add_toxic(
    State(live): State<Arc<Live>>,
    body: Result<Json<Apply>, JsonRejection>,
) -> Response {
    let apply = match body {
        Ok(Json(apply)) => apply,
        Err(rejection) => return refused(rejection.body_text()),
    };
    match toxics::apply(live.env(), &apply) {
        Ok(()) => Json(live.state().await).into_response(),
        Err(error) => unknown(error.to_string()),
    }
}

async fn clear_toxics(State(live): State<Arc<Live>>, Path(hop): Path<String>) -> Response {
    match toxics::clear(live.env(), &hop) {
        Ok(()) => Json(live.state().await).into_response(),
        Err(error) => unknown(error.to_string()),
    }
}

fn unknown(why: String) -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "error": why }))).into_response()
}

fn refused(why: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": why }))).into_response()
}
