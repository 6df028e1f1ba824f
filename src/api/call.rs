//! One accepted API call: the caller, the merged parameters and the context
//! every XML answer needs. The gate in front of the route has already
//! identified the caller and applied the limits.

use axum::body::{to_bytes, Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::Response;

use crate::state::AppState;
use crate::xml::{simple_return, DocContext, RequestEcho};

use super::access_log;
use super::auth::Caller;
use super::error::ApiError;
use super::params::{self, Params};

/// The content type of every XML answer. The charset matters: without it
/// Python `requests` decodes the body as ISO-8859-1.
pub(crate) const XML_CONTENT_TYPE: &str = "text/xml;charset=UTF-8";

/// An authenticated call with its parameters.
pub(crate) struct Call {
    pub(crate) caller: Caller,
    pub(crate) method: Method,
    pub(crate) params: Params,
    pub(crate) ctx: DocContext,
}

impl Call {
    /// Checks the method and reads the parameters of a call the gate let
    /// through, from `caller`. A rejection comes back as a finished response.
    pub(crate) async fn accept(
        state: &AppState,
        request: Request,
        caller: Option<Caller>,
    ) -> Result<Call, Response> {
        let (parts, body) = request.into_parts();
        let mut ctx = state.doc_context(&parts.headers, None);
        let reject = |ctx: &DocContext, error: ApiError| error_response(ctx, &error);

        let Some(caller) = caller else {
            return Err(reject(&ctx, ApiError::Unauthorized));
        };
        let known_method = [Method::GET, Method::HEAD, Method::POST].contains(&parts.method);
        if !known_method {
            return Err(reject(
                &ctx,
                ApiError::UnsupportedMethod(parts.method.to_string()),
            ));
        }
        let params = read_params(&parts, body, state.settings.max_body_bytes)
            .await
            .map_err(|e| reject(&ctx, e))?;

        let echo = params::flag(&params, "echo_request").map_err(|e| reject(&ctx, e))?;
        if echo == Some(true) {
            ctx.echo = Some(RequestEcho {
                user_login: caller.login.clone(),
                resource: format!("{}{}", ctx.base_url, parts.uri.path()),
                params: params.masked(),
            });
        }
        Ok(Call {
            caller,
            method: parts.method,
            params,
            ctx,
        })
    }

    /// Renders a request-level error as SIMPLE_RETURN.
    pub(crate) fn error(&self, error: ApiError) -> Response {
        error_response(&self.ctx, &error)
    }

    /// Rejects write actions that did not arrive over POST.
    pub(crate) fn require_post(&self, action: &str) -> Result<(), ApiError> {
        if self.method == Method::POST {
            return Ok(());
        }
        Err(ApiError::WrongMethod {
            method: self.method.to_string(),
            action: action.to_owned(),
        })
    }
}

/// Reads the body (up to `limit` bytes) and merges its parameters with the
/// query string's. The body is read as a form whatever its content type,
/// as Qualys does: some clients label form posts `application/json`.
pub(crate) async fn read_params(
    parts: &Parts,
    body: Body,
    limit: usize,
) -> Result<Params, ApiError> {
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(ApiError::BodyTooLarge(limit));
    }
    let body = read_body(body, limit).await?;
    let params = Params::from_parts(parts.uri.query(), &body);
    params.check_shape()?;
    Ok(params)
}

/// Wraps an XML document in a response with the Qualys content type.
pub(crate) fn xml_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    // Room for the content type, the six limit headers the gate adds and
    // the two hyper adds, within the map's load factor.
    headers.reserve(12);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    response
}

/// Renders an error as SIMPLE_RETURN with its HTTP status. A 401 also names
/// the Basic scheme, so HTTP clients know to send credentials, and a 405
/// lists the methods the API takes.
pub(crate) fn error_response(ctx: &DocContext, error: &ApiError) -> Response {
    let items = error.items();
    let body = simple_return::render(ctx, Some(error.code()), &error.to_string(), &items);
    let mut response = xml_response(error.status(), body);
    access_log::note(|summary| summary.code = Some(error.code()));
    let headers = response.headers_mut();
    if error.status() == StatusCode::UNAUTHORIZED {
        let challenge = HeaderValue::from_static("Basic realm=\"Qualys API\"");
        headers.insert(header::WWW_AUTHENTICATE, challenge);
    }
    if error.status() == StatusCode::METHOD_NOT_ALLOWED {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD, POST"));
    }
    response
}

async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    // A GET without a body, the usual list call, has nothing to collect.
    if HttpBody::size_hint(&body).exact() == Some(0) {
        return Ok(Bytes::new());
    }
    to_bytes(body, limit).await.map_err(|error| {
        let too_large = std::error::Error::source(&error)
            .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if too_large {
            ApiError::BodyTooLarge(limit)
        } else {
            ApiError::BadBody(error.to_string())
        }
    })
}
