//! The router factory shared by the binary, the library handle and tests.

use std::any::Any;
use std::convert::Infallible;
use std::future::{ready, Ready};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::Response;
use axum::Router;
use futures_util::future::{BoxFuture, Either};
use futures_util::FutureExt;
use tower::{Service, ServiceExt};

use crate::api::access_log::logged;
use crate::api::call::{error_response, xml_response};
use crate::api::error::ApiError;
use crate::api::gate::{guard, Checks};
use crate::state::{AppState, FORWARDED_PROTO};
use crate::xml::record_list::format_datetime;
use crate::xml::{simple_return, DocContext};

/// The whole application as one service: the record routes, called
/// directly, and a router for everything else (other Qualys routes, DTDs,
/// the admin API, a Qualys-style response for unknown paths). Every request is
/// logged and a handler panic becomes an XML error.
///
/// [`MakeApp`] makes one for each connection, and axum clones that one for
/// each request, so a clone only counts a reference that the connection's
/// own requests share.
#[derive(Clone)]
pub(crate) struct App(Arc<AppParts>);

struct AppParts {
    state: AppState,
    router: Router,
    https: bool,
}

/// Makes the [`App`] of each new connection. A handle per connection keeps
/// the worker threads from all counting references on one shared handle.
#[derive(Clone)]
pub(crate) struct MakeApp {
    state: AppState,
    router: Router,
    https: bool,
}

impl MakeApp {
    pub(crate) fn new(state: AppState) -> MakeApp {
        MakeApp {
            router: router(state.clone()),
            state,
            https: false,
        }
    }

    /// Returns the same app for a TLS listener: requests are marked, so the
    /// URLs in responses name https.
    pub(crate) fn for_https(&self) -> MakeApp {
        MakeApp {
            https: true,
            ..self.clone()
        }
    }
}

impl<Connection> Service<Connection> for MakeApp {
    type Response = App;
    type Error = Infallible;
    type Future = Ready<Result<App, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Connection) -> Self::Future {
        ready(Ok(App(Arc::new(AppParts {
            state: self.state.clone(),
            router: self.router.clone(),
            https: self.https,
        }))))
    }
}

impl Service<Request> for App {
    type Response = Response;
    type Error = Infallible;
    type Future = BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        if self.0.https {
            let https = HeaderValue::from_static("https");
            request.headers_mut().insert(FORWARDED_PROTO, https);
        }
        let app = Arc::clone(&self.0);
        // A record kind, or the router for any other path.
        let route = crate::api::records::kind_for_path(request.uri().path())
            .ok_or_else(|| app.router.clone());
        Box::pin(async move {
            let state = &app.state;
            let response = logged(state, request, |request| async {
                let served = match route {
                    Ok(kind) => Either::Left(crate::api::records::handle(state, kind, request)),
                    Err(router) => Either::Right(async move {
                        match router.oneshot(request).await {
                            Ok(response) => response,
                            Err(never) => match never {},
                        }
                    }),
                };
                AssertUnwindSafe(served)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(panic_response)
            })
            .await;
            Ok(response)
        })
    }
}

/// Builds the router for every route but the record routes.
fn router(state: AppState) -> Router {
    let guarded = |router: Router<AppState>, checks: Checks| {
        router.route_layer(middleware::from_fn_with_state(
            (state.clone(), checks),
            guard,
        ))
    };
    let api = Router::new()
        .merge(guarded(
            crate::api::auth_list::router(),
            Checks::CallerAndHeader,
        ))
        .merge(guarded(crate::api::about::router(), Checks::Caller))
        .merge(guarded(crate::api::session::router(), Checks::FaultsOnly));
    let fallback_state = state.clone();
    let method_state = state.clone();
    Router::new()
        .merge(api)
        .merge(crate::api::dtd::router())
        .merge(crate::admin::router(state.clone()))
        .fallback(move |uri: Uri, headers: HeaderMap| {
            let ctx = fallback_state.doc_context(&headers, None);
            let error = ApiError::UnknownPath(uri.path().to_owned());
            async move { error_response(&ctx, &error) }
        })
        .method_not_allowed_fallback(move |method: Method, headers: HeaderMap| {
            let ctx = method_state.doc_context(&headers, None);
            let error = ApiError::UnsupportedMethod(method.to_string());
            async move { error_response(&ctx, &error) }
        })
        .with_state(state)
}

/// Answers a request whose handler panicked. The panic is a bug in the mock;
/// the client still gets well-formed XML, and the panic message is logged.
fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("unknown panic");
    tracing::error!(panic = message, "request handler panicked");
    let ctx = DocContext {
        base_url: String::new(),
        datetime: format_datetime(time::OffsetDateTime::now_utc()),
        echo: None,
    };
    let body = simple_return::render(&ctx, Some(999), "Internal error in qualys-mock", &[]);
    xml_response(StatusCode::INTERNAL_SERVER_ERROR, body)
}

#[cfg(test)]
mod tests {
    use axum::body::{to_bytes, Body};
    use axum::routing::get;

    use super::*;
    use crate::domain::record::RecordKind;
    use crate::settings::Settings;

    #[test]
    fn record_routes_are_found_by_path() {
        let kind = crate::api::records::kind_for_path;
        assert_eq!(kind("/api/2.0/fo/auth/vmware/"), Some(RecordKind::Vmware));
        assert_eq!(kind("/api/2.0/fo/auth/vmware"), Some(RecordKind::Vmware));
        assert_eq!(kind("/api/2.0/fo/auth/unix/"), Some(RecordKind::Unix));
        assert_eq!(kind("/api/2.0/fo/auth/vcenter"), Some(RecordKind::Vcenter));
        for other in [
            "/api/2.0/fo/auth/",
            "/api/2.0/fo/auth/vmware//",
            "/api/2.0/fo/auth/VMWARE/",
            "/api/2.0/fo/auth/vmware/x",
            "/api/2.0/fo/auth/vmwarex/",
            "/",
        ] {
            assert_eq!(kind(other), None, "{other}");
        }
    }

    #[tokio::test]
    async fn each_connection_gets_its_own_app() {
        let state = AppState::new(Settings::default(), None).unwrap();
        let mut make = MakeApp::new(state);

        let first = make.call(()).await.unwrap();
        let second = make.call(()).await.unwrap();
        let per_request = first.clone();

        assert!(!Arc::ptr_eq(&first.0, &second.0));
        assert!(Arc::ptr_eq(&first.0, &per_request.0));
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_an_xml_error() {
        let state = AppState::new(Settings::default(), None).unwrap();
        let router = Router::new().route(
            "/boom",
            get(|| async {
                panic!("boom");
                #[allow(unreachable_code)]
                Response::new(Body::empty())
            }),
        );
        let app = App(Arc::new(AppParts {
            state,
            router,
            https: false,
        }));
        let request = Request::get("/boom").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(response.into_body(), usize::MAX).await.unwrap();
        let body = String::from_utf8(body.to_vec()).unwrap();
        assert!(body.contains("<CODE>999</CODE>"), "{body}");
        assert!(body.contains("SIMPLE_RETURN"), "{body}");
    }
}
