//! End-to-end tests: each starts a real mock on a random loopback port and
//! talks to it over HTTP; every XML reply is checked with xmllint.

#![allow(unreachable_pub)]

mod support;

mod admin;
mod basics;
mod cli;
mod hostile;
mod lifecycle;
mod listing;
mod platform;
mod races;
mod records;
mod roundtrip;
mod rules;
mod secrets;
mod tls;
