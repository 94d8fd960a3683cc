//! The request inspector: the last N requests, their verdicts and reasons, as JSON
//! (`GET /_strict/requests`) and as a small self-contained page (`GET /_strict/`).
//!
//! Bucket names cannot start with `_`, so `/_strict/` never shadows a bucket. The routes
//! are served when the server listens on a loopback address, or with `--admin`. Secrets
//! never appear: no Authorization header, no secret key, only what the error already
//! shows (canonical request, string to sign).

use std::collections::VecDeque;
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::{Check, S3Error};

/// The path prefix of the inspector's routes.
pub const PREFIX: &str = "/_strict/";

/// One step of the page's checklist.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub name: &'static str,
    /// `passed`, `failed` or `not reached`.
    pub state: &'static str,
}

/// A presigned URL's validity window against the server time (seconds since the epoch).
#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub signed_at: i64,
    pub expires_at: i64,
    pub server_time: i64,
}

impl Window {
    /// The window authentication read from the URL, as the page draws it.
    pub fn new(window: crate::auth::Window, now: OffsetDateTime) -> Window {
        Window {
            signed_at: window.signed_at.unix_timestamp(),
            expires_at: window.expires_at.unix_timestamp(),
            server_time: now.unix_timestamp(),
        }
    }
}

/// One request as the inspector shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub request_id: String,
    /// Written as [`timestamp`] when the inspector is read, not on every request.
    #[serde(serialize_with = "serialize_time")]
    pub time: OffsetDateTime,
    #[serde(serialize_with = "serialize_method")]
    pub method: http::Method,
    pub path: String,
    pub addressing: Option<&'static str>,
    pub auth: Option<&'static str>,
    pub access_key: Option<String>,
    pub operation: Option<&'static str>,
    pub verdict: &'static str,
    pub status: u16,
    pub code: Option<&'static str>,
    pub message: Option<String>,
    pub reason: Option<String>,
    pub canonical_request: Option<String>,
    pub string_to_sign: Option<String>,
    pub window: Option<Window>,
    pub checks: Checks,
    pub duration_ms: f64,
}

/// A bounded ring of the latest records.
pub struct Inspector {
    capacity: usize,
    records: Mutex<VecDeque<Record>>,
}

impl Inspector {
    pub fn new(capacity: usize) -> Self {
        Inspector {
            capacity,
            records: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
        }
    }

    pub fn push(&self, record: Record) {
        if self.capacity == 0 {
            return;
        }
        let mut r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        if r.len() == self.capacity {
            r.pop_front();
        }
        r.push_back(record);
    }

    /// Newest first, as JSON.
    pub fn to_json(&self) -> String {
        let r = self.records.lock().unwrap_or_else(|p| p.into_inner());
        let newest_first: Vec<&Record> = r.iter().rev().collect();
        serde_json::to_string(&newest_first).unwrap_or_else(|_| "[]".into())
    }
}

/// The steps of the checklist: the authentication checks in the order the server runs
/// them, then the operation.
const STEPS: usize = Check::ALL.len() + 1;

/// Which step an error stopped at: the check it carries (set by the typed
/// authentication errors and the payload verifiers); an error without one came from the
/// operation, or (once authentication passed) from the store's own digest checks.
fn failed_step(e: &S3Error, authenticated: bool) -> usize {
    use crate::error::S3ErrorCode::*;
    match e.check {
        Some(check) => check as usize,
        None if authenticated
            && matches!(
                e.code,
                XAmzContentSHA256Mismatch | BadDigest | IncompleteBody | InvalidChunkSizeError
            ) =>
        {
            Check::Payload as usize
        }
        None => Check::ALL.len(),
    }
}

/// The checklist of a request: everything before the failed step passed. `signed` says
/// whether the request carried a signature; `authenticated`, whether it passed
/// authentication.
pub fn checks(error: Option<&S3Error>, signed: bool, authenticated: bool) -> Checks {
    Checks {
        failed: error.map(|e| failed_step(e, authenticated)),
        signed,
    }
}

/// A request's checklist, kept as the step it failed at and written out as the list of
/// [`Step`]s only when the inspector is read (every request makes one).
#[derive(Debug, Clone, Copy)]
pub struct Checks {
    failed: Option<usize>,
    signed: bool,
}

impl Checks {
    /// The steps, in the order the server runs them.
    pub fn steps(&self) -> impl Iterator<Item = Step> + '_ {
        (0..STEPS).map(|i| Step {
            name: Check::ALL.get(i).map_or("operation", |c| c.name()),
            state: match self.failed {
                Some(f) if i == f => "failed",
                Some(f) if i > f => "not reached",
                Some(_) => "passed",
                // An anonymous request that was allowed (a public object, a preflight)
                // went through no signature checks.
                None if !self.signed && i < Check::Access as usize => "not reached",
                None => "passed",
            },
        })
    }
}

impl Serialize for Checks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.steps())
    }
}

/// Now, as the records print it.
pub fn timestamp(now: OffsetDateTime) -> String {
    crate::dates::iso(now)
}

fn serialize_time<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&timestamp(*t))
}

fn serialize_method<S: serde::Serializer>(m: &http::Method, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(m.as_str())
}

/// The page: self-contained (no CDN, no build step), polling the JSON.
pub const PAGE: &str = include_str!("inspector.html");

/// The page is self-contained: its inline style and script, its own JSON, nothing else;
/// no framing (clickjacking), no plugins, no form targets.
pub const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Whether a request addressed to `host` (the Host header, port included) may read the
/// inspector: loopback names (`localhost`, `*.localhost`, 127.0.0.0/8, `[::1]`), the
/// configured base domains and their subdomains, and the `--admin-host` names. A page that
/// points its own name at 127.0.0.1 (DNS rebinding) sends that name as the Host, and is
/// refused.
pub fn host_allowed(host: &[u8], domains: &[String], admin_hosts: &[String]) -> bool {
    let Ok(host) = std::str::from_utf8(host) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((ip6, port)) if port.is_empty() || port.starts_with(':') => ip6,
            _ => return false,
        },
        None => host.rsplit_once(':').map_or(host, |(n, _)| n),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    if let Ok(ip) = name.parse::<std::net::IpAddr>() {
        return ip.is_loopback();
    }
    let under = |base: &str| {
        let base = base.trim_end_matches('.').to_ascii_lowercase();
        name == base || name.ends_with(&format!(".{base}"))
    };
    under("localhost")
        || domains.iter().any(|d| under(d))
        || admin_hosts
            .iter()
            .any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(&name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_inspector_answers_loopback_names_and_configured_hosts_only() {
        let domains = vec!["localhost".to_string(), "s3.test".to_string()];
        let admin = vec!["devbox.internal".to_string()];
        for ok in [
            "localhost:9000",
            "LOCALHOST",
            "bucket.localhost:9000",
            "127.0.0.1:9000",
            "127.1.2.3",
            "[::1]:9000",
            "[::1]",
            "s3.test:80",
            "b.s3.test",
            "devbox.internal:9000",
        ] {
            assert!(host_allowed(ok.as_bytes(), &domains, &admin), "{ok}");
        }
        for bad in [
            "evil.example:9000", // DNS rebinding: its own name pointed at 127.0.0.1
            "localhost.evil.example",
            "10.0.0.5:9000",
            "[2001:db8::1]:9000",
            "s3.test.evil",
            "x.devbox.internal",
            "",
            "[::1",
        ] {
            assert!(!host_allowed(bad.as_bytes(), &domains, &admin), "{bad}");
        }
        assert!(!host_allowed(b"\xff", &domains, &admin));
    }
}
