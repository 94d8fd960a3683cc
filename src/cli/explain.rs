//! `strict-s3 explain URL`: the request checked offline, as the server checks it.
//!
//! The verdict is the server's own: an [`S3Request`] is built from the URL and headers,
//! addressed with [`addressing::resolve`] and put through [`Authenticator::authenticate`]
//! with the configured credentials, region and domains and a clock at `--now`. Around it,
//! the parts of the signature are laid out — credential scope, times, signed headers, the
//! canonical request and string to sign (built with the same [`CanonicalRequest`] and
//! [`StringToSign`]), expected against provided signature — and, when it is refused, the
//! S3 error and the reason (for a signature mismatch, the diagnosis).

use std::process::ExitCode;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{EXIT_REFUSED, Style, amz_date, human_span, iso};
use crate::addressing;
use crate::auth::params::{AmzDate, CredentialScope, V4Header, V4Query};
use crate::auth::signing::Signature;
use crate::auth::sigv4::{self, CanonicalRequest, StringToSign, derive_signing_key};
use crate::auth::{AuthError, AuthKind, Authenticator};
use crate::clock::{Clock, ManualClock, SystemClock};
use crate::config::{Config, MAX_SKEW};
use crate::error::{Check, S3Error, S3ErrorCode};
use crate::request::S3Request;

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The request's URL, e.g. a presigned URL (quote it: it contains `&`).
    pub url: String,

    /// The request's method.
    #[arg(long, short = 'X', default_value = "GET")]
    pub method: String,

    /// A request header, `Name: value` (repeatable). Host defaults to the URL's.
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// Print one JSON object instead of the report.
    #[arg(long)]
    pub json: bool,

    /// Check at this time (RFC 3339, e.g. 2026-01-01T00:00:00Z) instead of the system clock.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<OffsetDateTime>,
}

fn parse_time(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339)
        .map_err(|e| format!("{s:?} is not an RFC 3339 time like 2026-01-01T00:00:00Z: {e}"))
}

pub fn run(args: ExplainArgs, config: &Config) -> Result<ExitCode, String> {
    let report = explain(&args, config)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json()).unwrap_or_default()
        );
    } else {
        print!("{}", report.render(Style::for_stdout()));
    }
    Ok(if report.verdict.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_REFUSED)
    })
}

/// What `explain` found.
#[derive(Debug)]
pub struct Report {
    pub method: String,
    pub url: String,
    pub host: String,
    pub auth: &'static str,
    pub now: OffsetDateTime,
    pub now_from_flag: bool,
    pub sig: Option<SigV4>,
    /// `Ok(kind)`, or the error the server would answer.
    pub verdict: Result<AuthKind, S3Error>,
    /// The authentication check that refused it, read from the typed error.
    pub failed_check: Option<Check>,
}

/// The SigV4 parts, as far as they could be read.
#[derive(Debug, Default)]
pub struct SigV4 {
    pub credential: Option<String>,
    pub access_key: Option<String>,
    pub scope: Option<[String; 4]>,
    pub signed_at: Option<OffsetDateTime>,
    pub expires: Option<u64>,
    pub signed_headers: Vec<String>,
    pub canonical_request: Option<String>,
    pub string_to_sign: Option<String>,
    pub expected: Option<String>,
    pub provided: Option<String>,
}

impl SigV4 {
    fn matches(&self) -> bool {
        match (&self.expected, &self.provided) {
            (Some(e), Some(p)) => Signature::from_hex(p)
                .zip(Signature::from_hex(e))
                .is_some_and(|(p, e)| p.matches(&e)),
            _ => false,
        }
    }

    /// When the signature stops being accepted: the URL's expiry, or for a header-signed
    /// request the end of the allowed clock skew.
    fn valid_until(&self) -> Option<OffsetDateTime> {
        let at = self.signed_at?;
        Some(match self.expires {
            Some(e) => at + time::Duration::seconds(e as i64),
            None => at + time::Duration::try_from(MAX_SKEW).unwrap_or(time::Duration::ZERO),
        })
    }
}

/// Splits `scheme://authority/path?query#fragment` keeping the raw path and query.
fn split_url(url: &str) -> Result<(String, String, Option<String>), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| format!("{url:?} is not an http:// or https:// URL"))?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(end);
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if authority.is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    let (path, query) = match path_query.split_once('?') {
        Some((p, q)) => (p, Some(q.to_string())),
        None => (path_query, None),
    };
    let path = if path.is_empty() { "/" } else { path };
    Ok((authority.to_string(), path.to_string(), query))
}

/// The `--header` values as a header map, with `Host` from the URL unless one is given.
fn parse_headers(args: &[String], authority: &str) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::new();
    for h in args {
        let (name, value) = h
            .split_once(':')
            .ok_or_else(|| format!("--header {h:?}: write it as 'Name: value'"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("--header {h:?}: {:?} is not a header name", name.trim()))?;
        let value = HeaderValue::from_str(value.trim())
            .map_err(|_| format!("--header {h:?}: the value is not a valid header value"))?;
        headers.append(name, value);
    }
    if !headers.contains_key(http::header::HOST) {
        let host = HeaderValue::from_str(authority)
            .map_err(|_| format!("{authority:?} is not a valid host"))?;
        headers.insert(http::header::HOST, host);
    }
    Ok(headers)
}

/// Builds the request and runs the server's checks on it.
pub fn explain(args: &ExplainArgs, config: &Config) -> Result<Report, String> {
    let (authority, path, query) = split_url(&args.url)?;
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("--method {:?} is not an HTTP method", args.method))?;
    let headers = parse_headers(&args.headers, &authority)?;
    let host = headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let clock: Arc<dyn Clock> = match args.now {
        Some(t) => Arc::new(ManualClock::new(t)),
        None => Arc::new(SystemClock),
    };
    let now = clock.now();
    let mut report = Report {
        method: method.to_string(),
        url: args.url.clone(),
        host,
        auth: "none",
        now,
        now_from_flag: args.now.is_some(),
        sig: None,
        verdict: Ok(AuthKind::Anonymous),
        failed_check: None,
    };
    let req = match S3Request::new(
        method,
        &path,
        query.as_deref(),
        headers,
        "explain".to_string(),
    ) {
        Ok(r) => r,
        Err(e) => {
            report.verdict = Err(e);
            return Ok(report);
        }
    };
    report.sig = sigv4_parts(&req, config, &mut report.auth);
    let config = Arc::new(config.clone());
    let addr = match addressing::resolve(&req, &config.domains, config.limits.max_key_bytes) {
        // Offline, a bucket is where the configuration puts it.
        Ok(addr) => addressing::Address {
            region: addr.bucket().map(|b| config.bucket_region(b).to_string()),
            ..addr
        },
        Err(e) => {
            report.verdict = Err(e);
            return Ok(report);
        }
    };
    report.verdict = match Authenticator::new(config.clone(), clock).authenticate(&req, &addr) {
        Ok(p) if p.kind == AuthKind::Anonymous => Err(crate::auth::error::anonymous().reason(
            "the request carries no signature: strict-s3 answers anonymous requests only for POST forms and objects stored with a public-read ACL",
        )),
        // Signed: the caller's permissions decide, as in the server's access stage.
        Ok(p) => authorize(&req, &addr, &p, now, &config).map(|()| p.kind).inspect_err(|e| {
            report.failed_check = e.check;
        }),
        Err(err) => {
            report.failed_check = Some(err.check());
            // A mismatch carries the server's own canonical request and string to sign.
            if let (AuthError::SignatureMismatchV4(m), Some(sig)) = (&err, report.sig.as_mut()) {
                sig.canonical_request = Some(m.canonical_request.clone());
                sig.string_to_sign = Some(m.string_to_sign.clone());
            }
            Err(err.into())
        }
    };
    if let Ok(kind) = report.verdict {
        report.auth = kind.as_str();
    }
    Ok(report)
}

/// The access check the server makes for an authenticated request: the routed
/// operation's actions against the signer's identity policy and the rules of the
/// buckets it touches, as the configuration (`--config`, `--legacy-bucket-defaults`)
/// gives them; objects are taken to have no ACL of their own. A request that routes
/// nowhere (an unknown sub-resource) has no action to check here.
fn authorize(
    req: &S3Request,
    addr: &addressing::Address,
    who: &crate::auth::Authenticated,
    now: OffsetDateTime,
    config: &Config,
) -> Result<(), S3Error> {
    let Ok(op) = crate::ops::route(req, addr) else {
        return Ok(());
    };
    let required = crate::ops::required(&op, req);
    let mut buckets: Vec<(String, std::sync::Arc<crate::access::rules::BucketRules>)> = Vec::new();
    for b in required
        .iter()
        .filter_map(|(_, r)| crate::access::bucket_of_arn(r))
    {
        if !buckets.iter().any(|(n, _)| n == b) {
            let rules = crate::ops::bucket::configured_rules(config, b)?;
            buckets.push((b.to_string(), std::sync::Arc::new(rules)));
        }
    }
    let access = crate::access::Access::new(who, req, now, None, buckets, Vec::new(), None);
    for (action, resource) in required {
        access.check(action, &resource)?;
    }
    Ok(())
}

/// Reads the SigV4 parts of a presigned URL or an `Authorization` header, with the same
/// parsers, canonical forms and key derivation as the server. `None` for other requests.
fn sigv4_parts(req: &S3Request, config: &Config, auth: &mut &'static str) -> Option<SigV4> {
    let authorization = req.header("authorization");
    let mut s = SigV4::default();
    let (credential, signed_headers, date, payload, skip): (_, _, String, _, _) =
        if let Some(a) = authorization {
            if a.starts_with("AWS ") {
                *auth = AuthKind::V2Header.as_str();
                return None;
            }
            *auth = AuthKind::V4Header.as_str();
            let h = V4Header::parse(a).ok()?;
            s.provided = Some(h.signature.to_string());
            let date = match req.header("x-amz-date") {
                Some(d) => d.to_string(),
                None => req
                    .header("date")
                    .and_then(crate::dates::parse_http_date)
                    .map(|t| amz_date(t.to_offset(time::UtcOffset::UTC)))
                    .unwrap_or_default(),
            };
            let payload = req.header("x-amz-content-sha256").unwrap_or("");
            (h.credential.raw, h.signed_headers, date, payload, None)
        } else if req.has_query("X-Amz-Algorithm")
            || req.has_query("X-Amz-Signature")
            || req.has_query("X-Amz-Credential")
        {
            *auth = AuthKind::V4Query.as_str();
            let q = V4Query::parse(&req.query).ok()?;
            s.provided = Some(q.signature.to_string());
            s.expires = q.expires.parse().ok();
            let payload = req
                .query_param("X-Amz-Content-Sha256")
                .unwrap_or("UNSIGNED-PAYLOAD");
            (
                q.credential,
                q.signed_headers,
                q.date.to_string(),
                payload,
                Some("X-Amz-Signature"),
            )
        } else {
            if req.has_query("Signature") || req.has_query("AWSAccessKeyId") {
                *auth = AuthKind::V2Query.as_str();
            }
            return None;
        };
    s.credential = Some(credential.to_string());
    s.signed_headers = signed_headers.split(';').map(str::to_string).collect();
    let amz = AmzDate::parse(&date);
    s.signed_at = amz.map(|d| d.time);
    let canonical = CanonicalRequest::from_request(req, signed_headers, payload, skip);
    s.canonical_request = Some(canonical.to_string());
    let scope = CredentialScope::parse(credential);
    if let Some(scope) = scope {
        s.access_key = Some(scope.access_key.to_string());
        s.scope = Some([
            scope.date.to_string(),
            scope.region.to_string(),
            scope.service.to_string(),
            scope.terminator.to_string(),
        ]);
        let sts = StringToSign::Request {
            amz_date: &date,
            scope: scope.scope(),
            canonical_request_hash: canonical.sha256(),
        };
        s.string_to_sign = Some(sts.to_string());
        if let Some(cred) = config.credential(scope.access_key) {
            let key = derive_signing_key(
                cred.secret_key.expose(),
                scope.date,
                scope.region,
                scope.service,
            );
            s.expected = Some(sigv4::sign(&key, &sts).to_string());
        }
    }
    Some(s)
}

impl Report {
    fn time_left(&self) -> Option<i64> {
        let until = self.sig.as_ref()?.valid_until()?;
        Some((until - self.now).whole_seconds())
    }

    /// `("time left", "14m 59s (899 s) until the URL expires")` or the elapsed form.
    fn time_text(&self) -> Option<(&'static str, String)> {
        let left = self.time_left()?;
        let sig = self.sig.as_ref()?;
        let (future, past) = if sig.expires.is_some() {
            ("the URL expires", "the URL expired")
        } else {
            (
                "the 15-minute skew allowance ends",
                "the 15-minute skew allowance ended",
            )
        };
        let span = human_span(left);
        Some(if left > 0 {
            ("time left", format!("{span} ({left} s) until {future}"))
        } else {
            let ago = -left;
            ("time elapsed", format!("{span} ({ago} s) since {past}"))
        })
    }

    pub fn to_json(&self) -> Value {
        let sig = self.sig.as_ref();
        let error = self.verdict.as_ref().err().map(|e| {
            let details: serde_json::Map<String, Value> = e
                .extra
                .iter()
                .filter(|(n, _)| !n.ends_with("Bytes"))
                .map(|(n, v)| (n.to_string(), Value::String(v.clone())))
                .collect();
            json!({
                "status": e.status().as_u16(),
                "code": e.code.as_str(),
                "message": e.message,
                "details": details,
            })
        });
        let reason = self.verdict.as_ref().err().and_then(|e| e.reason.clone());
        json!({
            "valid": self.verdict.is_ok(),
            "method": self.method,
            "url": self.url,
            "host": self.host,
            "auth": self.auth,
            "access_key": sig.and_then(|s| s.access_key.clone()),
            "credential": sig.and_then(|s| s.credential.clone()),
            "credential_scope": sig.and_then(|s| s.scope.as_ref()).map(|[d, r, sv, t]| json!({
                "date": d, "region": r, "service": sv, "terminator": t,
            })),
            "signed_at": sig.and_then(|s| s.signed_at).map(iso),
            "expires_seconds": sig.and_then(|s| s.expires),
            "valid_until": sig.and_then(SigV4::valid_until).map(iso),
            "now": iso(self.now),
            "now_source": if self.now_from_flag { "--now" } else { "system clock" },
            "seconds_left": self.time_left(),
            "signed_headers": sig.map(|s| s.signed_headers.clone()).unwrap_or_default(),
            "canonical_request": sig.and_then(|s| s.canonical_request.clone()),
            "string_to_sign": sig.and_then(|s| s.string_to_sign.clone()),
            "signature": sig.map(|s| json!({
                "expected": s.expected,
                "provided": s.provided,
                "match": s.matches(),
            })),
            "error": error,
            "failed_check": self.failed_check.map(Check::name),
            "reason": reason,
        })
    }

    pub fn render(&self, st: Style) -> String {
        let mut out = String::new();
        let row = |out: &mut String, label: &str, value: &str| row(st, out, label, value);
        out.push_str(&format!(
            "{} {}\n",
            st.bold(&self.method),
            st.cyan(&self.url)
        ));
        row(&mut out, "host", &self.host);
        row(&mut out, "auth", self.auth);
        match &self.sig {
            Some(sig) => self.render_signature(sig, st, &mut out),
            None => row(&mut out, "now", &iso(self.now)),
        }
        out.push('\n');
        self.render_verdict(st, &mut out);
        out
    }

    /// The SigV4 parts: scope, times, signed headers, canonical forms, signatures.
    fn render_signature(&self, sig: &SigV4, st: Style, out: &mut String) {
        let row = |out: &mut String, label: &str, value: &str| row(st, out, label, value);
        if let Some(c) = &sig.credential {
            row(out, "credential", c);
        }
        if let Some([date, region, service, term]) = &sig.scope {
            row(
                out,
                "scope",
                &format!("{date} / {region} / {service} / {term}"),
            );
        }
        if let Some(at) = sig.signed_at {
            row(out, "signed at", &iso(at));
        }
        match (sig.expires, sig.valid_until()) {
            (Some(e), Some(until)) => row(
                out,
                "expires",
                &format!(
                    "{} (X-Amz-Expires {e} s = {})",
                    iso(until),
                    human_span(e as i64)
                ),
            ),
            (None, Some(until)) => row(
                out,
                "valid until",
                &format!("{} (signed time + 15 min allowed skew)", iso(until)),
            ),
            _ => {}
        }
        let source = if self.now_from_flag {
            "--now"
        } else {
            "system clock"
        };
        row(out, "now", &format!("{} ({source})", iso(self.now)));
        if let Some((label, t)) = self.time_text() {
            let t = if self.time_left().is_some_and(|l| l > 0) {
                st.green(&t)
            } else {
                st.red(&t)
            };
            row(out, label, &t);
        }
        row(out, "signed headers", &sig.signed_headers.join(";"));
        for (title, text) in [
            ("canonical request", &sig.canonical_request),
            ("string to sign", &sig.string_to_sign),
        ] {
            if let Some(text) = text {
                out.push_str(&format!("  {}\n", st.dim(title)));
                for line in text.split('\n') {
                    out.push_str(&format!("    {line}\n"));
                }
            }
        }
        let expected = sig
            .expected
            .clone()
            .unwrap_or_else(|| "(unknown: no such access key is configured)".into());
        row(out, "expected sig", &expected);
        if let Some(p) = &sig.provided {
            let mark = if sig.matches() {
                st.green("match")
            } else {
                st.red("differs")
            };
            row(out, "provided sig", &format!("{p}  {mark}"));
        }
    }

    /// The verdict: accepted, or the S3 error with the failed check and the reason.
    fn render_verdict(&self, st: Style, out: &mut String) {
        let row = |out: &mut String, label: &str, value: &str| row(st, out, label, value);
        match &self.verdict {
            Ok(kind) => out.push_str(&format!(
                "{} the server would accept this request ({})\n",
                st.green("VALID"),
                kind.as_str()
            )),
            Err(e) => {
                out.push_str(&format!(
                    "{} {} {}\n",
                    st.red("REFUSED"),
                    st.bold(&e.status().as_u16().to_string()),
                    st.bold(e.code.as_str())
                ));
                row(out, "message", &e.message);
                if let Some(check) = self.failed_check {
                    row(out, "failed check", check.name());
                }
                for (name, value) in &e.extra {
                    if matches!(
                        *name,
                        "CanonicalRequest"
                            | "StringToSign"
                            | "CanonicalRequestBytes"
                            | "StringToSignBytes"
                    ) {
                        continue;
                    }
                    row(out, name, value);
                }
                if let Some(r) = &e.reason {
                    let label = if e.code == S3ErrorCode::SignatureDoesNotMatch {
                        "diagnosis"
                    } else {
                        "reason"
                    };
                    row(out, label, &st.yellow(r));
                }
            }
        }
    }
}

/// One labelled line of the report.
fn row(st: Style, out: &mut String, label: &str, value: &str) {
    const W: usize = 18;
    out.push_str(&format!("  {} {value}\n", st.dim(&format!("{label:<W$}"))));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_raw() {
        assert_eq!(
            split_url("http://127.0.0.1:9000/bkt/a%20b?x=1&y#frag").unwrap(),
            (
                "127.0.0.1:9000".into(),
                "/bkt/a%20b".into(),
                Some("x=1&y".into())
            )
        );
        assert_eq!(
            split_url("https://h?list").unwrap(),
            ("h".into(), "/".into(), Some("list".into()))
        );
        assert!(split_url("ftp://h/").is_err());
    }
}
