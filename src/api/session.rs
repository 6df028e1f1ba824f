//! `/api/2.0/fo/session/`: login and logout with the `QualysSession` cookie,
//! which then authenticates API calls in place of Basic credentials.
//!
//! As on Qualys, session calls carry no rate-limit headers and do not count
//! against the limits.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use axum::Router;
use compact_str::CompactString;
use parking_lot::Mutex;
use rand::distr::{Alphanumeric, SampleString};

use crate::state::AppState;
use crate::xml::{simple_return, DocContext};

use super::access_log;
use super::auth::{self, Caller};
use super::call::{error_response, read_params, xml_response};
use super::error::ApiError;
use super::params::{self, Params, TextRule};

/// The cookie Qualys sets at login.
pub(crate) const SESSION_COOKIE: &str = "QualysSession";

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/fo/session/", any(serve))
        .route("/api/2.0/fo/session", any(serve))
}

/// Open sessions by token.
pub(crate) struct Sessions {
    lifetime: Duration,
    open: Mutex<HashMap<String, Session>>,
}

struct Session {
    login: String,
    expires: Instant,
}

impl Sessions {
    pub(crate) fn new(lifetime: Duration) -> Sessions {
        Sessions {
            lifetime,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// Opens a session for `login` and returns its token. Expired sessions
    /// are dropped here, so the map never outgrows the live ones by much.
    fn open(&self, login: &str) -> String {
        let token = Alphanumeric.sample_string(&mut rand::rng(), 40);
        let now = Instant::now();
        let mut open = self.open.lock();
        open.retain(|_, session| session.expires > now);
        open.insert(
            token.clone(),
            Session {
                login: login.to_owned(),
                expires: now + self.lifetime,
            },
        );
        token
    }

    /// The login of a live session.
    pub(crate) fn lookup(&self, token: &str) -> Option<String> {
        let open = self.open.lock();
        let session = open.get(token)?;
        (session.expires > Instant::now()).then(|| session.login.clone())
    }

    fn close(&self, token: &str) -> bool {
        self.open.lock().remove(token).is_some()
    }

    /// Ends every session.
    pub(crate) fn clear(&self) {
        self.open.lock().clear();
    }
}

/// Reads the session token from a `Cookie` header.
pub(crate) fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, token)| token.to_owned())
}

async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let ctx = state.doc_context(&parts.headers, None);
    let params = match accept(&state, &parts, body).await {
        Ok(params) => params,
        Err(error) => return error_response(&ctx, &error),
    };

    let action = params.get("action").map(str::to_owned);
    let result = match action.as_deref() {
        Some("login") => login(&state, &ctx, &params),
        Some("logout") => logout(&state, &ctx, &parts.headers, &params),
        None | Some("") => Err(ApiError::MissingParams(vec!["action"])),
        Some(other) => Err(ApiError::invalid(
            "action",
            other,
            "expected login or logout",
        )),
    };
    let response = result.unwrap_or_else(|error| error_response(&ctx, &error));
    let action = action.map(CompactString::from);
    let masked = params.into_masked();
    access_log::note(|summary| {
        summary.action = action;
        summary.params = masked;
    });
    response
}

/// Checks the header and method every session call needs, and reads its
/// parameters.
async fn accept(state: &AppState, parts: &Parts, body: Body) -> Result<Params, ApiError> {
    auth::require_requested_with(&parts.headers)?;
    if parts.method != Method::POST {
        return Err(ApiError::WrongMethod {
            method: parts.method.to_string(),
            action: "login".to_owned(),
        });
    }
    read_params(parts, body, state.settings.max_body_bytes).await
}

fn login(state: &AppState, ctx: &DocContext, params: &Params) -> Result<Response, ApiError> {
    params.reject_unknown(&[&["action", "username", "password"]])?;
    let rule = TextRule {
        secret: true,
        ..TextRule::ascii(255)
    };
    let username = params::non_empty_text(params, "username", TextRule::ascii(255))?;
    let password = params::text(params, "password", rule)?;
    let (Some(username), Some(password)) = (username, password) else {
        let missing = ["username", "password"]
            .into_iter()
            .filter(|n| !params.has(n));
        return Err(ApiError::MissingParams(missing.collect()));
    };
    let caller: Caller = auth::check_password(&state.directory.load().users, &username, &password)?;

    let token = state.sessions.open(&caller.login);
    let max_age = state.settings.session_timeout.as_secs();
    let cookie = format!("{SESSION_COOKIE}={token}; Path=/api; Max-Age={max_age}; HttpOnly");
    Ok(answer(ctx, "Logged in", cookie))
}

fn logout(
    state: &AppState,
    ctx: &DocContext,
    headers: &HeaderMap,
    params: &Params,
) -> Result<Response, ApiError> {
    params.reject_unknown(&[&["action"]])?;
    let token = session_token(headers).ok_or(ApiError::SessionInvalid)?;
    if !state.sessions.close(&token) {
        return Err(ApiError::SessionInvalid);
    }
    let cookie = format!("{SESSION_COOKIE}=; Path=/api; Max-Age=0; HttpOnly");
    Ok(answer(ctx, "Logged out", cookie))
}

fn answer(ctx: &DocContext, text: &str, cookie: String) -> Response {
    let mut response = xml_response(StatusCode::OK, simple_return::render(ctx, None, text, &[]));
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}
