//! A local STS on the S3 port, as the SDKs reach it with a custom endpoint: the query
//! protocol (form POST to `/`, `Action=…&Version=2011-06-15`), SigV4 with the service
//! `sts`, and STS's XML (docs/sts-regions-evidence.md §1).
//!
//! GetSessionToken and AssumeRole issue temporary credentials ([`Sessions`]) that the
//! S3 endpoint then accepts with their `X-Amz-Security-Token`, until they expire on the
//! server's clock (which tests move with `PUT /_strict/clock`). GetCallerIdentity says
//! who a key belongs to.

mod actions;
pub mod error;
mod params;
pub mod sessions;
pub mod xml;

use http::{Method, Response};
use sha2::{Digest, Sha256};

use crate::addressing::Address;
use crate::body::{self, ByteStream, ResponseBody};
use crate::request::S3Request;
use crate::respond::{REASON_HEADER, reason_header_value};
use crate::service::AppState;
pub use error::StsError;
pub use sessions::Sessions;

/// The API version every STS request names.
pub const VERSION: &str = "2011-06-15";
/// STS request bodies are small (a 2048-character session policy at most, and the
/// parameters around it); larger ones are refused unread.
pub const MAX_BODY: usize = 64 * 1024;

/// Whether a request is for STS: `POST /` (or `GET /?Action=…`) on the endpoint itself,
/// no bucket addressed. S3 has no operation there (a browser form POST names its bucket).
pub fn is_sts(req: &S3Request, addr: &Address) -> bool {
    addr.bucket().is_none()
        && req.raw_path == "/"
        && (req.method == Method::POST || (req.method == Method::GET && req.has_query("Action")))
}

/// What the service records of an STS request.
pub struct Outcome {
    pub action: Option<&'static str>,
    pub access_key: Option<String>,
    pub refusal: Option<StsError>,
}

/// Serves one STS request, refusal included: STS's XML either way.
pub async fn handle(
    state: &AppState,
    req: &S3Request,
    body: ByteStream,
    peer: Option<std::net::SocketAddr>,
) -> (Response<ResponseBody>, Outcome) {
    let request_id = request_uuid(&req.request_id);
    let mut outcome = Outcome {
        action: None,
        access_key: None,
        refusal: None,
    };
    let result = serve(state, req, body, peer, &request_id, &mut outcome).await;
    let explain = !state.config.aws_exact_errors;
    let (status, xml, reason) = match result {
        Ok(xml) => (200, xml, None),
        Err(err) => {
            let xml = xml::error_document(&err, &request_id, explain);
            let status = err.status;
            let reason = err.reason.clone().filter(|_| explain);
            outcome.refusal = Some(err);
            (status, xml, reason)
        }
    };
    let mut builder = Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "text/xml")
        .header(http::header::CONTENT_LENGTH, xml.len())
        .header("x-amzn-RequestId", request_id.as_str());
    if let Some(reason) = reason {
        builder = builder.header(REASON_HEADER, reason_header_value(&reason));
    }
    // An oversized body was left unread: the connection cannot carry another request.
    if status == 413 {
        builder = builder.header(http::header::CONNECTION, "close");
    }
    let resp = builder
        .body(body::full(xml))
        .unwrap_or_else(|_| Response::new(body::empty()));
    (resp, outcome)
}

async fn serve(
    state: &AppState,
    req: &S3Request,
    body: ByteStream,
    peer: Option<std::net::SocketAddr>,
    request_id: &str,
    outcome: &mut Outcome,
) -> Result<String, StsError> {
    // No capture shows STS's answer to an oversized body; 413 is HTTP's.
    let too_large = || crate::error::S3Error::new(crate::error::S3ErrorCode::EntityTooLarge);
    let bytes = body::collect_limited(body, MAX_BODY, too_large)
        .await
        .map_err(|e| match e.code {
            crate::error::S3ErrorCode::EntityTooLarge => StsError::new(
                413,
                "RequestEntityTooLarge",
                format!("The request body exceeds {MAX_BODY} bytes"),
            )
            .reason(format!(
                "STS request bodies here may be at most {MAX_BODY} bytes"
            )),
            _ => StsError::new(400, e.code.as_str(), e.message.to_string())
                .reason(e.reason.unwrap_or_default()),
        })?;
    let params = params::Params::new(&req.query, &bytes);
    outcome.access_key = access_key_of(req).map(str::to_string);
    let who = state
        .auth
        .verify_sts(req, &bytes)?
        .ok_or_else(StsError::missing_authentication)?;
    let identity = who
        .identity
        .clone()
        .ok_or_else(StsError::missing_authentication)?;
    let action = params.get("Action").unwrap_or_default();
    let version = params.get("Version");
    let known = ["AssumeRole", "GetSessionToken", "GetCallerIdentity"];
    let found = known.iter().copied().find(|a| *a == action);
    outcome.action = found;
    let (Some(action), Some(VERSION)) = (found, version) else {
        // The query services' answer (aws/aws-cli#37: "Could not find operation
        // GetSendStatistics for version 2012-12-01", 400 InvalidAction).
        return Err(StsError::new(
            400,
            "InvalidAction",
            format!(
                "Could not find operation {action} for version {}",
                version.unwrap_or("NO_VERSION_SPECIFIED")
            ),
        )
        .reason(format!(
            "this STS serves {} with Version={VERSION}",
            known.join(", ")
        )));
    };
    let call = actions::Call {
        config: &state.config,
        sessions: state.auth.sessions(),
        who: &who,
        identity: &identity,
        params: &params,
        now: state.clock.now(),
        peer,
        request_id,
    };
    match action {
        "AssumeRole" => actions::assume_role(&call),
        "GetSessionToken" => actions::get_session_token(&call),
        _ => actions::get_caller_identity(&call),
    }
}

/// The access key a request names, for the log and the inspector.
fn access_key_of(req: &S3Request) -> Option<&str> {
    let credential = match req.header("authorization") {
        Some(a) => a
            .split(',')
            .find_map(|p| p.trim().split_once("Credential=").map(|(_, c)| c))?,
        None => req.query_param("X-Amz-Credential")?,
    };
    credential.split('/').next()
}

/// STS request ids are lower-case UUIDs; this one is derived from the S3-style id the
/// log and the inspector show, so the two can be matched.
fn request_uuid(id: &str) -> String {
    let h = hex::encode(&Sha256::digest(id.as_bytes())[..16]);
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
