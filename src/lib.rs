//! qualys-mock: a local, stateful test double of the Qualys VM API for VMware
//! authentication records (`/api/2.0/fo/auth/vmware/`).
//!
//! A request flows through the crate in this order:
//!
//! - `api`: the HTTP surface. It checks credentials and the
//!   `X-Requested-With` header, merges query and body parameters, reads them
//!   into typed values and maps request errors to SIMPLE_RETURN.
//! - [`domain`]: records, ID sets and IP sets as merged intervals, and the
//!   store with its title and IP interval indexes. It knows no HTTP or XML.
//! - `xml`: one writer per Qualys document (SIMPLE_RETURN, BATCH_RETURN,
//!   the record list outputs), each validating against the DTDs in `dtd/`.
//!
//! [`MockServer`] runs the mock inside a test; the `qualys-mock` binary runs it
//! standalone.

pub mod admin;
mod api;
mod app;
pub mod clock;
pub mod config;
pub mod domain;
#[cfg(test)]
mod fuzz;
pub mod healthcheck;
mod idle;
mod server;
mod settings;
mod state;
mod tls;
mod xml;

pub use server::{serve, serve_on, MockServer, MockServerBuilder};
pub use settings::{Settings, User};
pub use tls::TlsSettings;

/// The README's Rust examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
