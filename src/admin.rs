//! strict-s3's own routes under `/_strict/`, beside S3's: the inspector (`GET /_strict/`,
//! `GET /_strict/requests`) and the clock (`GET` / `PUT /_strict/clock`).
//!
//! They are served on loopback listeners (or with `--admin`) and only to the hosts
//! [`inspector::host_allowed`] names, so a web page that points its own name at
//! 127.0.0.1 cannot reach them. `PUT` with a JSON body is not a request a page on
//! another origin can send without a CORS preflight, which these routes never grant.

use http::{HeaderValue, Method, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;

use crate::body::{self, ResponseBody};
use crate::inspector;
use crate::service::AppState;

/// A clock request body is a few fields; anything longer is refused.
const MAX_CLOCK_BODY: usize = 4096;

/// Serves one `/_strict/` request.
pub async fn route(
    state: &AppState,
    method: &Method,
    path: &str,
    host: Option<&[u8]>,
    body: Incoming,
) -> Response<ResponseBody> {
    let config = &state.config;
    let allowed =
        host.is_some_and(|h| inspector::host_allowed(h, &config.domains, &config.admin_hosts));
    if !allowed {
        return answer(
            403,
            "text/plain",
            format!(
                "forbidden: strict-s3's own routes answer only requests to localhost, a loopback address, a --domain or an --admin-host; this one's Host is {}\n",
                crate::escape::for_log(&String::from_utf8_lossy(host.unwrap_or(b"(none)")))
            ),
        );
    }
    match (method, &path[inspector::PREFIX.len()..]) {
        (&Method::GET, "") => answer(200, "text/html; charset=utf-8", inspector::PAGE.into()),
        (&Method::GET, "requests") => answer(200, "application/json", state.inspector.to_json()),
        (&Method::GET, "clock") => clock(state, None).await,
        (&Method::PUT, "clock") => clock(state, Some(body)).await,
        (_, "clock") => answer(
            405,
            "text/plain",
            "method not allowed: GET /_strict/clock reads the clock, PUT moves it\n".into(),
        ),
        _ => answer(
            404,
            "text/plain",
            "not found: strict-s3 serves /_strict/ and /_strict/requests (the inspector) and /_strict/clock\n".into(),
        ),
    }
}

/// `PUT /_strict/clock`: exactly one of `offset_seconds` and `now`, and/or `frozen`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClockChange {
    offset_seconds: Option<i64>,
    now: Option<String>,
    frozen: Option<bool>,
}

/// Reads the clock, or moves it and answers its new state, as
/// `{"now": "<RFC 3339>", "offset_seconds": N, "frozen": bool}`. A bad body is 400 with
/// the reason and moves nothing.
async fn clock(state: &AppState, body: Option<Incoming>) -> Response<ResponseBody> {
    let Some(clock) = state.clock.adjustable() else {
        return error(
            409,
            "this server's clock is the one its embedding program supplied (a ManualClock): move it there",
        );
    };
    if let Some(body) = body {
        let bytes = match http_body_util::Limited::new(body, MAX_CLOCK_BODY)
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return error(
                    400,
                    &format!("the body is not a clock change of at most {MAX_CLOCK_BODY} bytes"),
                );
            }
        };
        let change: ClockChange = match serde_json::from_slice(&bytes) {
            Ok(c) => c,
            Err(e) => {
                return error(
                    400,
                    &format!(
                        "the body must be JSON such as {{\"offset_seconds\": 3600}} or {{\"now\": \"2026-01-15T12:00:00Z\"}} (optionally with \"frozen\": true): {e}"
                    ),
                );
            }
        };
        let now = match &change.now {
            None => None,
            Some(text) => match time::OffsetDateTime::parse(text, &Rfc3339) {
                Ok(t) => Some(t),
                Err(e) => return error(400, &format!("\"now\" is not an RFC 3339 time: {e}")),
            },
        };
        let offset = change.offset_seconds.map(time::Duration::seconds);
        if now.is_some() && offset.is_some() {
            return error(400, "give \"now\" or \"offset_seconds\", not both");
        }
        if now.is_none() && offset.is_none() && change.frozen.is_none() {
            return error(
                400,
                "nothing to change: give \"offset_seconds\", \"now\" or \"frozen\"",
            );
        }
        // Frozen first, so {"now": T, "frozen": true} stands still at T.
        if let Some(f) = change.frozen {
            clock.set_frozen(f);
        }
        if let Some(o) = offset {
            clock.set_offset(o);
        }
        if let Some(t) = now {
            clock.set_now(t);
        }
        tracing::info!(now = %crate::dates::iso(clock.reading().now), "clock moved");
    }
    let r = clock.reading();
    let json = serde_json::json!({
        "now": r.now.format(&Rfc3339).unwrap_or_default(),
        "offset_seconds": r.offset.whole_seconds(),
        "frozen": r.frozen,
    });
    answer(200, "application/json", format!("{json}\n"))
}

fn error(status: u16, message: &str) -> Response<ResponseBody> {
    let json = serde_json::json!({ "error": message });
    answer(status, "application/json", format!("{json}\n"))
}

fn answer(status: u16, content_type: &'static str, body: String) -> Response<ResponseBody> {
    let mut resp = Response::new(body::full(body));
    *resp.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::NOT_FOUND);
    let headers = resp.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    headers.insert(
        http::header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        http::header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(inspector::CSP),
    );
    headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
    resp
}
