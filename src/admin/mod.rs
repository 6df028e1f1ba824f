//! Test-double controls under the reserved prefix `/__admin/`, where they
//! cannot collide with Qualys paths. They answer JSON and need no Qualys
//! credentials.

use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::state::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/__admin/health", get(health))
}

/// `GET /__admin/health`: 200 while the server accepts requests.
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}
