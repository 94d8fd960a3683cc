//! Entry points for the fuzz targets (`fuzz/`) and property tests: thin wrappers over the
//! parsers a request reaches, so the fuzzers drive the same code the server runs. Not part
//! of the supported API.
//!
//! Each wrapper takes arbitrary bytes, never panics on its own account, and checks a cheap
//! invariant where the parser promises one: a panic here is a bug in the parser. Inputs
//! that need several values split them on `\n` (or NUL where the value is a document that
//! may hold newlines); the layout of each is in its doc comment, and the seed corpora in
//! `fuzz/corpus/<target>/` show it.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use time::OffsetDateTime;
use time::macros::datetime;

use crate::addressing::resolve;
use crate::auth::Authenticator;
use crate::clock::ManualClock;
use crate::config::Config;
use crate::request::S3Request;

/// The instant of AWS's SigV4 examples (`20130524T000000Z`), the server's "now" here, so
/// seeds taken from those examples are inside the allowed clock skew.
pub const NOW: OffsetDateTime = datetime!(2013-05-24 00:00:00 UTC);
/// The boundary [`post_policy`] reads its multipart form with.
pub const POST_BOUNDARY: &str = "fuzzboundary";
/// The ETag [`range_and_conditionals`] compares against.
pub const ETAG: &str = "d41d8cd98f00b204e9800998ecf8427e";

// ---------------------------------------------------------------------------------------
// Helpers

/// Runs a future to completion without a runtime. Everything fuzzed here reads from an
/// in-memory stream that is always ready, so a future that stays pending is itself a bug
/// (a lost wake-up).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    for _ in 0..100_000 {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
    panic!("a future over an always-ready input stayed pending");
}

/// `data` split on `\n`, each line without a trailing `\r`.
fn lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    data.split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
}

/// Header lines (`name: value`) into a map; lines that are not a valid header are skipped,
/// as hyper would have refused them before any parser saw them.
fn headers<'a>(lines: impl Iterator<Item = &'a [u8]>) -> HeaderMap {
    let mut map = HeaderMap::new();
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            map.append(n, v);
        }
    }
    map
}

/// A request head from `METHOD TARGET` and a header map, `None` when the method or the
/// query could not come off the wire.
fn request(method: &[u8], target: &[u8], headers: HeaderMap) -> Option<S3Request> {
    let method = Method::from_bytes(method).ok()?;
    let target = std::str::from_utf8(target).ok()?;
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    S3Request::new(method, path, query, headers, "fuzz".into()).ok()
}

fn config() -> Config {
    Config::in_memory()
}

fn authenticator() -> Authenticator {
    Authenticator::new(Arc::new(config()), Arc::new(ManualClock::new(NOW)))
}

/// Runs the whole authentication of `req`, as the service does: addressing, then auth.
fn authenticate(req: &S3Request) {
    let config = config();
    if let Ok(addr) = resolve(req, &config.domains, config.limits.max_key_bytes) {
        let _ = authenticator().authenticate(req, &addr);
    }
}

/// Default headers of a SigV4 request to `localhost`, overridden by any the input sends.
fn with_defaults(extra: HeaderMap) -> HeaderMap {
    let mut map = HeaderMap::new();
    map.insert("host", HeaderValue::from_static("localhost:9000"));
    map.insert("x-amz-date", HeaderValue::from_static("20130524T000000Z"));
    map.insert(
        "x-amz-content-sha256",
        HeaderValue::from_static("UNSIGNED-PAYLOAD"),
    );
    for name in extra.keys() {
        map.remove(name);
    }
    for (name, value) in &extra {
        map.append(name, value.clone());
    }
    map
}

mod documents;
mod requests;

pub use documents::*;
pub use requests::*;
