//! The control endpoint of a live environment, on loopback only: `GET /control/state`,
//! `POST /control/advance {"by":"7d"}`, `POST /control/store/decrypt {"db": FILE}` (the
//! store's file, or a backup, decrypted with keys the vault unwraps as the managed identity),
//! `GET /control/outbox`, the mails the cloud sent (share links, sign-up codes): the
//! recipients' mailboxes, for a reviewer; `POST /control/toxics {"hop":..,"toxic":..}` and
//! `DELETE /control/toxics/{hop}`.

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

/// Binds 127.0.0.1 only: whoever reaches this moves the environment's time.
pub async fn serve(live: Arc<Live>) -> std::io::Result<Control> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let app = Router::new()
        .route("/control/state", get(state))
        .route("/control/advance", post(advance))
        .route("/control/store/decrypt", post(decrypt))
        .route("/control/outbox", get(outbox))
        .route("/control/toxics", post(add_toxic))
        .route("/control/toxics/{hop}", delete(clear_toxics))
        .with_state(live);
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
/// when one does not open where it lies.
async fn decrypt(
    State(live): State<Arc<Live>>,
    body: Result<Json<Decrypt>, JsonRejection>,
) -> Response {
    let asked = match body {
        Ok(Json(Decrypt { db })) => db,
        Err(rejection) => return refused(rejection.body_text()),
    };
    let store = live.env().cloud().store();
    let Some(db) = asked.or_else(|| store.paths().map(|p| p.database.clone())) else {
        return refused("the store is not on disk".into());
    };
    if !db.is_file() {
        return refused(format!("no file {}", db.display()));
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
