//! Test-double controls under the reserved prefix `/__admin/`, where they
//! cannot collide with Qualys paths. They take and return JSON, need no
//! Qualys credentials, and sit behind their own token when one is set.
//! [`crate::MockServer`] calls the same operations in process.

mod dashboard;
pub mod faults;
pub mod journal;
pub mod state_doc;
pub(crate) mod state_file;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::state::AppState;

use faults::FaultSpec;
use journal::JournalFilter;
use state_doc::StateDoc;

pub(crate) fn router(state: AppState) -> Router<AppState> {
    let guarded = Router::new()
        .route("/__admin/reset", post(reset))
        .route("/__admin/state", get(export_state).post(import_state))
        .route(
            "/__admin/requests",
            get(list_requests).delete(clear_requests),
        )
        .route(
            "/__admin/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/__admin/faults/{id}", delete(remove_fault))
        .route("/__admin/clock", get(get_clock).put(set_clock))
        .route("/__admin/limits", get(limits))
        .route_layer(middleware::from_fn_with_state(state, require_token));
    // The page holds no data of its own, so it stays open like the health
    // check; everything it shows comes from the guarded routes.
    Router::new()
        .route("/__admin/health", get(health))
        .merge(dashboard::router())
        .merge(guarded)
}

/// A JSON error answer.
fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({ "error": message.into() })),
    )
        .into_response()
}

/// Checks the admin token, when one is configured, from `Authorization:
/// Bearer TOKEN` or `X-Admin-Token: TOKEN`. The health check stays open so
/// container health checks need no secret.
async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(expected) = &state.settings.admin_token else {
        return next.run(request).await;
    };
    let headers = request.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let direct = headers.get("X-Admin-Token").and_then(|v| v.to_str().ok());
    if bearer.or(direct) == Some(expected.as_str()) {
        return next.run(request).await;
    }
    let body = Json(json!({ "error": "missing or wrong admin token" }));
    (StatusCode::UNAUTHORIZED, body).into_response()
}

/// `GET /__admin/health`: 200 while the server accepts requests.
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetQuery {
    /// `false` empties the store even when seed data is configured.
    #[serde(default = "yes")]
    seed: bool,
}

fn yes() -> bool {
    true
}

/// `POST /__admin/reset`: back to the seed data (or empty), with an empty
/// journal, no sessions and fresh limit counters.
async fn reset(State(state): State<AppState>, Query(query): Query<ResetQuery>) -> Json<Value> {
    let reload = query.seed;
    state.reset(reload);
    Json(json!({ "status": "reset", "seeded": reload && state.has_seed() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    #[serde(default)]
    include_passwords: bool,
}

/// `GET /__admin/state`: the records in the seed format, passwords left out
/// unless `include_passwords=true`.
async fn export_state(
    State(state): State<AppState>,
    Query(query): Query<ExportQuery>,
) -> Json<StateDoc> {
    Json(state.export(query.include_passwords))
}

/// `POST /__admin/state`: replaces every record with the document's, or
/// changes nothing when any record is invalid.
async fn import_state(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let doc: StateDoc = match serde_json::from_slice(&body) {
        Ok(doc) => doc,
        Err(error) => return bad_request(format!("invalid state document: {error}")),
    };
    match state.import(&doc) {
        Ok(()) => Json(json!({ "status": "loaded" })).into_response(),
        Err(error) => bad_request(error),
    }
}

/// `GET /__admin/requests`: the journal, filtered by `action`, `status`, `user`.
async fn list_requests(
    State(state): State<AppState>,
    Query(filter): Query<JournalFilter>,
) -> Response {
    Json(state.journal.list(&filter)).into_response()
}

async fn clear_requests(State(state): State<AppState>) -> StatusCode {
    state.journal.clear();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(state): State<AppState>) -> Response {
    Json(state.faults.list()).into_response()
}

/// `POST /__admin/faults`: adds a rule and returns its ID.
async fn add_fault(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let spec: FaultSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(error) => return bad_request(format!("invalid fault rule: {error}")),
    };
    match state.faults.add(spec) {
        Ok(id) => (StatusCode::CREATED, Json(json!({ "id": id }))).into_response(),
        Err(error) => bad_request(error),
    }
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn remove_fault(State(state): State<AppState>, Path(id): Path<u64>) -> Response {
    if state.faults.remove(id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (
            StatusCode::NOT_FOUND,
            Json(json!({ "error": format!("no fault rule {id}") })),
        )
            .into_response()
    }
}

/// `GET /__admin/limits`: the configured limits and each user's counters.
async fn limits(State(state): State<AppState>) -> Json<Value> {
    Json(state.limits.snapshot())
}

async fn get_clock(State(state): State<AppState>) -> Json<Value> {
    let frozen = state
        .clock
        .frozen()
        .map(|at| crate::xml::record_list::format_datetime(at).to_string());
    let now = crate::xml::record_list::format_datetime(state.now()).to_string();
    Json(json!({ "now": now, "frozen": frozen }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockBody {
    /// The instant to freeze at; `null` lets the clock run.
    frozen: Option<String>,
}

/// `PUT /__admin/clock`: freezes the clock at `frozen`, or lets it run.
async fn set_clock(State(state): State<AppState>, body: axum::body::Bytes) -> Response {
    let parsed: ClockBody = match serde_json::from_slice(&body) {
        Ok(parsed) => parsed,
        Err(error) => return bad_request(format!("invalid clock body: {error}")),
    };
    let at = match parsed
        .frozen
        .as_deref()
        .map(crate::clock::parse_time)
        .transpose()
    {
        Ok(at) => at,
        Err(error) => return bad_request(error),
    };
    state.clock.set(at);
    get_clock(State(state)).await.into_response()
}
