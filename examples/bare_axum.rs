//! A bare axum server that responds to `/api/2.0/fo/auth/vmware/` with a fixed
//! XML body, the baseline `scripts/bench` compares the mock against.
//!
//! It uses the crate's own axum and tokio, with the same multi-threaded runtime
//! and the same allocator (mimalloc) as the `qualys-mock` binary, so the gap
//! between the two is the mock's own work: authentication, parameter checks,
//! the store and the XML writers.
//!
//! ```sh
//! cargo run --release --example bare_axum -- 127.0.0.1:18081 320
//! ```
//!
//! The first argument is the listen address. The second is the body size in
//! bytes (default 320, about the size of the mock's create response), or
//! `BARE_AXUM_BODY_BYTES` when the argument is absent. `/__admin/health`
//! returns 200 so the bench script can wait for the server the same way it
//! waits for the mock.

use std::net::SocketAddr;
use std::process::ExitCode;

use axum::body::Bytes;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEFAULT_BODY_BYTES: usize = 320;
const XML_CONTENT_TYPE: &str = "text/xml;charset=UTF-8";
const HEAD: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<BARE>";
const TAIL: &[u8] = b"</BARE>\n";

#[tokio::main]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(listen) = args.next() else {
        eprintln!("usage: bare_axum LISTEN_ADDR [BODY_BYTES]");
        return ExitCode::from(2);
    };
    let listen: SocketAddr = match listen.parse() {
        Ok(addr) => addr,
        Err(error) => {
            eprintln!(
                "invalid listen address '{listen}': {error}; expected such as 127.0.0.1:18081"
            );
            return ExitCode::from(2);
        }
    };
    let size_text = args
        .next()
        .or_else(|| std::env::var("BARE_AXUM_BODY_BYTES").ok());
    let size = match size_text.as_deref().map(str::parse::<usize>) {
        None => DEFAULT_BODY_BYTES,
        Some(Ok(size)) => size,
        Some(Err(error)) => {
            eprintln!("invalid body size {size_text:?}: {error}; expected a number of bytes");
            return ExitCode::from(2);
        }
    };

    let body = fixed_body(size);
    let api = {
        let body = body.clone();
        move || {
            let body = body.clone();
            async move { xml_response(body) }
        }
    };
    let app = Router::new()
        .route("/api/2.0/fo/auth/vmware/", get(api.clone()).post(api))
        .route("/__admin/health", get(|| async { "{\"status\":\"ok\"}" }));

    let listener = match tokio::net::TcpListener::bind(listen).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!("bare_axum listening on http://{listen} with a {size}-byte body");
    if let Err(error) = axum::serve(listener, app).await {
        eprintln!("bare_axum failed: {error}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

/// Builds an XML document of exactly `size` bytes, or of the shortest
/// well-formed document when `size` is smaller than that.
fn fixed_body(size: usize) -> Bytes {
    let filler = size.saturating_sub(HEAD.len() + TAIL.len());
    let mut body = Vec::with_capacity(HEAD.len() + filler + TAIL.len());
    body.extend_from_slice(HEAD);
    body.resize(HEAD.len() + filler, b'x');
    body.extend_from_slice(TAIL);
    Bytes::from(body)
}

fn xml_response(body: Bytes) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(XML_CONTENT_TYPE),
    );
    response
}
