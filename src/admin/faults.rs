//! Fault injection: rules that make matching API calls slow, fail, hit the
//! rate limit, arrive truncated or lose their connection, so clients' retry
//! and error paths can be tested.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use compact_str::CompactString;
use futures_util::future::{BoxFuture, Either};
use futures_util::FutureExt;
use parking_lot::Mutex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::api::access_log;
use crate::api::auth;
use crate::api::call::error_response;
use crate::api::error::ApiError;
use crate::api::limits;
use crate::api::params::Params;
use crate::state::AppState;
use crate::xml::simple_return;

/// Which calls a rule applies to, and what it does to them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Only calls with this `action` parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Only calls whose path starts with this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Only calls by this login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only the nth matching call, counting from 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u64>,
    /// Chance from 0 to 1 that a matching call is hit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<f64>,
    /// Seed for `probability`, so a run can be repeated exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// The rule expires after this many hits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u64>,
    /// What happens to a hit call.
    pub effect: FaultEffect,
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultEffect {
    /// Waits this many milliseconds, then responds normally.
    Latency {
        /// The delay in milliseconds.
        ms: u64,
    },
    /// Responds with this HTTP status and a SIMPLE_RETURN error.
    Status {
        /// HTTP status, 100 to 599.
        status: u16,
        /// Qualys CODE; default 1999 (service under maintenance).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<u32>,
        /// TEXT; default a message that names the injected fault.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        text: Option<String>,
    },
    /// Responds 409 with CODE 1965, as a real rate limit does.
    RateLimit {
        /// The wait announced in `X-RateLimit-ToWait-Sec`.
        #[serde(default = "default_wait")]
        seconds: u64,
    },
    /// Answers normally but cuts the body to this many bytes (default half).
    Truncate {
        /// Bytes kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bytes: Option<usize>,
    },
    /// Drops the connection without a response.
    Close,
}

fn default_wait() -> u64 {
    1
}

/// A rule as listed by `GET /__admin/faults`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FaultView {
    /// The rule's ID, for deleting it.
    pub id: u64,
    /// The rule.
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Calls that matched the filters.
    pub matched: u64,
    /// Calls the rule acted on.
    pub hits: u64,
    /// Whether `times` is used up.
    pub expired: bool,
}

struct Rule {
    view: FaultView,
    rng: StdRng,
}

/// The active rules, tried in the order they were added.
#[derive(Default)]
pub(crate) struct Faults {
    rules: Mutex<(u64, Vec<Rule>)>,
    /// The number of rules, written under the lock, so that a call can see
    /// that there are none without taking it.
    count: AtomicUsize,
}

impl Faults {
    /// Adds a rule and returns its ID.
    pub(crate) fn add(&self, spec: FaultSpec) -> Result<u64, String> {
        validate(&spec)?;
        let mut rules = self.rules.lock();
        rules.0 += 1;
        let id = rules.0;
        let rng = StdRng::seed_from_u64(spec.seed.unwrap_or(id));
        rules.1.push(Rule {
            view: FaultView {
                id,
                spec,
                matched: 0,
                hits: 0,
                expired: false,
            },
            rng,
        });
        self.count.store(rules.1.len(), Ordering::Release);
        Ok(id)
    }

    pub(crate) fn list(&self) -> Vec<FaultView> {
        self.rules
            .lock()
            .1
            .iter()
            .map(|rule| rule.view.clone())
            .collect()
    }

    /// Removes one rule; returns whether it existed.
    pub(crate) fn remove(&self, id: u64) -> bool {
        let mut rules = self.rules.lock();
        let before = rules.1.len();
        rules.1.retain(|rule| rule.view.id != id);
        self.count.store(rules.1.len(), Ordering::Release);
        rules.1.len() != before
    }

    pub(crate) fn clear(&self) {
        let mut rules = self.rules.lock();
        rules.1.clear();
        self.count.store(0, Ordering::Release);
    }

    fn is_empty(&self) -> bool {
        self.count.load(Ordering::Acquire) == 0
    }

    /// The effect of the first live rule that hits this call, if any.
    fn pick(&self, action: Option<&str>, path: &str, user: Option<&str>) -> Option<FaultEffect> {
        let mut rules = self.rules.lock();
        for rule in rules.1.iter_mut().filter(|rule| !rule.view.expired) {
            let spec = &rule.view.spec;
            let matches = spec.action.as_deref().is_none_or(|a| Some(a) == action)
                && spec.path.as_deref().is_none_or(|p| path.starts_with(p))
                && spec.user.as_deref().is_none_or(|u| Some(u) == user);
            if !matches {
                continue;
            }
            rule.view.matched += 1;
            if spec.nth.is_some_and(|nth| nth != rule.view.matched) {
                continue;
            }
            if let Some(chance) = spec.probability {
                if !rule.rng.random_bool(chance) {
                    continue;
                }
            }
            rule.view.hits += 1;
            rule.view.expired = spec.times.is_some_and(|times| rule.view.hits >= times);
            return Some(spec.effect.clone());
        }
        None
    }
}

fn validate(spec: &FaultSpec) -> Result<(), String> {
    if spec.probability.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
        return Err("probability must be from 0 to 1".to_owned());
    }
    if spec.nth == Some(0) || spec.times == Some(0) {
        return Err("nth and times count from 1".to_owned());
    }
    if let FaultEffect::Status { status, .. } = spec.effect {
        if StatusCode::from_u16(status).is_err() || status < 100 {
            return Err(format!(
                "status {status} is not an HTTP status from 100 to 599"
            ));
        }
    }
    Ok(())
}

/// The largest body read to find the `action` of a POST; longer or
/// unsized bodies pass through and match on the query string alone.
const MAX_INSPECTED_BODY: usize = 64 * 1024;

/// Applies the fault rules to an API call; `inner` handles the call when no
/// rule stops it first.
///
/// With no rule set, the usual case, this is `inner` itself. The fault path
/// is boxed, because its state (the body it reads, the parameters, the
/// effect) would otherwise add about 1.5 KiB to every request's future.
pub(crate) fn inject<'a, F, Fut>(
    state: &'a AppState,
    request: Request,
    inner: F,
) -> Either<Fut, BoxFuture<'a, Response>>
where
    F: FnOnce(Request) -> Fut + Send + 'a,
    Fut: Future<Output = Response> + Send + 'a,
{
    if state.faults.is_empty() {
        Either::Left(inner(request))
    } else {
        Either::Right(inject_faults(state, request, inner).boxed())
    }
}

async fn inject_faults<F, Fut>(state: &AppState, request: Request, inner: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    let (parts, body) = request.into_parts();
    let length = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    let (body, inspected) = match length {
        Some(len) if len <= MAX_INSPECTED_BODY => match to_bytes(body, MAX_INSPECTED_BODY).await {
            Ok(bytes) => (Body::from(bytes.clone()), bytes),
            Err(_) => (Body::empty(), Bytes::new()),
        },
        _ => (body, Bytes::new()),
    };
    let params = Params::from_parts(parts.uri.query(), &inspected);
    let user = auth::identify(state, &parts.headers)
        .ok()
        .map(|caller| caller.login);
    let effect = state
        .faults
        .pick(params.get("action"), parts.uri.path(), user.as_deref());
    let ctx = state.doc_context(&parts.headers, None);
    let request = Request::from_parts(parts, body);
    let response = apply(state, effect, &ctx, request, inner).await;

    // The journal shows what a faulted call asked for, like any other.
    let action = params.get("action").map(CompactString::new);
    let masked = params.into_masked();
    access_log::note(|summary| {
        summary.action = summary.action.take().or(action);
        summary.user = summary.user.take().or(user.map(CompactString::from));
        if summary.params.is_empty() {
            summary.params = masked;
        }
    });
    response
}

async fn apply<F, Fut>(
    state: &AppState,
    effect: Option<FaultEffect>,
    ctx: &crate::xml::DocContext,
    request: Request,
    inner: F,
) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response>,
{
    match effect {
        None => inner(request).await,
        Some(FaultEffect::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            inner(request).await
        }
        Some(FaultEffect::Status { status, code, text }) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let text = text.unwrap_or_else(|| {
                "Injected fault: the service is temporarily unavailable".to_owned()
            });
            let code = code.unwrap_or(1999);
            let body = simple_return::render(ctx, Some(code), &text, &[]);
            let response = crate::api::call::xml_response(status, body);
            access_log::note(|summary| summary.code = Some(code));
            response
        }
        Some(FaultEffect::RateLimit { seconds }) => {
            let mut response = error_response(ctx, &ApiError::RateLimit(seconds));
            let report = state.limits.anonymous_report();
            report.write_headers(response.headers_mut());
            let headers = response.headers_mut();
            headers.insert(limits::RATE_REMAINING, HeaderValue::from(0));
            headers.insert(limits::RATE_TO_WAIT, HeaderValue::from(seconds));
            response
        }
        Some(FaultEffect::Truncate { bytes }) => truncate(inner(request).await, bytes).await,
        Some(FaultEffect::Close) => {
            let broken = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "connection closed by an injected fault",
                ))
            });
            Response::new(Body::from_stream(broken))
        }
    }
}

async fn truncate(response: Response, keep: Option<usize>) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    let keep = keep.unwrap_or(bytes.len() / 2).min(bytes.len());
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(bytes.slice(..keep)))
}
