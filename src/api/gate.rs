//! The checks in front of every Qualys API route, in one middleware: the
//! fault rules, who is calling, the rate and concurrency limits (reported in
//! headers on every response) and, on v2 routes, the `X-Requested-With` header.

use std::future::Future;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use compact_str::CompactString;

use crate::admin::faults;
use crate::state::AppState;

use super::access_log;
use super::auth::{self, Caller};
use super::call::error_response;
use super::error::ApiError;
use super::limits::LimitExceeded;

/// The checks a group of routes gets besides the fault rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Checks {
    /// None: the session routes, which establish who the caller is.
    FaultsOnly,
    /// Caller and limits: the v1 pages under `/msp/`.
    Caller,
    /// Caller, limits and `X-Requested-With`: every v2 route.
    CallerAndHeader,
}

/// Runs the checks for `checks`, then the route. The caller, when known, is
/// passed to the handler in the request extensions.
pub(crate) async fn guard(
    State((state, checks)): State<(AppState, Checks)>,
    request: Request,
    next: Next,
) -> Response {
    checked(&state, checks, request, |mut request, caller| {
        if let Some(caller) = caller {
            request.extensions_mut().insert(caller);
        }
        next.run(request)
    })
    .await
}

/// Runs the checks for `checks`, then `handler` with the caller (none for
/// [`Checks::FaultsOnly`]): the same as [`guard`] for a handler that calls
/// it itself, which saves the middleware's per-request service clone, boxed
/// future and extension map on the busiest routes.
pub(crate) fn checked<'a, F, Fut>(
    state: &'a AppState,
    checks: Checks,
    request: Request,
    handler: F,
) -> impl Future<Output = Response> + Send + 'a
where
    F: FnOnce(Request, Option<Caller>) -> Fut + Send + 'a,
    Fut: Future<Output = Response> + Send + 'a,
{
    faults::inject(state, request, move |request| {
        admit(state, checks, request, handler)
    })
}

/// Identifies the caller and applies the limits and the header check, then
/// runs `handler`. The limit headers go on every response, rejections included.
async fn admit<F, Fut>(state: &AppState, checks: Checks, request: Request, handler: F) -> Response
where
    F: FnOnce(Request, Option<Caller>) -> Fut,
    Fut: Future<Output = Response>,
{
    if checks == Checks::FaultsOnly {
        return handler(request, None).await;
    }
    let caller = match auth::identify(state, request.headers()) {
        Ok(caller) => caller,
        Err(error) => {
            let ctx = state.doc_context(request.headers(), None);
            let mut response = error_response(&ctx, &error);
            state
                .limits
                .anonymous_report()
                .write_headers(response.headers_mut());
            return response;
        }
    };

    let caller_login = CompactString::new(&caller.login);
    let (permit, report) = state.limits.begin(&caller.login);
    // v2 calls need the `X-Requested-With` header; the v1 pages under
    // `/msp/` do not.
    let rejection = match permit {
        Err(exceeded) => Some(limit_error(exceeded)),
        Ok(_) if checks == Checks::CallerAndHeader => {
            auth::require_requested_with(request.headers()).err()
        }
        Ok(_) => None,
    };
    let mut response = match rejection {
        Some(error) => {
            let ctx = state.doc_context(request.headers(), None);
            error_response(&ctx, &error)
        }
        None => handler(request, Some(caller)).await,
    };
    // The call no longer counts as running once its response is ready.
    drop(permit);
    report.write_headers(response.headers_mut());
    access_log::note(|summary| summary.user = Some(caller_login));
    response
}

fn limit_error(exceeded: LimitExceeded) -> ApiError {
    match exceeded {
        LimitExceeded::Concurrency { calls_to_finish } => {
            ApiError::ConcurrencyLimit(calls_to_finish)
        }
        LimitExceeded::Rate { seconds_to_wait } => ApiError::RateLimit(seconds_to_wait),
    }
}
