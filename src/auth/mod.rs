//! Authentication: who signed this request, and is the signature exactly right?
//!
//! [`Authenticator::authenticate`] picks the mechanism the request uses (SigV4 header,
//! SigV4 presigned query, SigV2 header, SigV2 presigned query, or none) and runs its
//! ordered checks; [`Authenticator::verify_post`] does the same for a POST form's fields.
//! The outcome is [`Authenticated`] (who, which mechanism, and the [`PayloadCheck`] the
//! body is held to as it streams, [`verified_body`]) or a typed [`AuthError`]; either
//! way the [`Attempt`] records what was claimed (mechanism, access key, validity window)
//! for the log line and the inspector, so nothing downstream re-reads the request.
//! Everything here is the product's own logic: each check fails with the S3 error AWS
//! gives and a reason naming the values involved.

pub mod chunked;
pub mod diagnose;
mod diagnose_v2;
pub mod error;
pub mod sigv4;
pub use error::AuthError;
pub mod params;
pub mod post;
pub mod signing;
pub mod sigv2;
pub mod sts;
pub mod v2;
mod verify;

use std::sync::Arc;

use http::HeaderName;
use sha2::{Digest, Sha256};

use crate::addressing::Address;
use crate::body::ByteStream;
use crate::clock::Clock;
use crate::config::Config;
use crate::request::S3Request;
use signing::{Signature, SigningKeyCache};

/// How a request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthKind {
    #[default]
    Anonymous,
    V4Header,
    V4Query,
    V2Header,
    V2Query,
    /// A browser POST form signed with SigV4 or SigV2 over its policy.
    V4Post,
    V2Post,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::Anonymous => "anonymous",
            AuthKind::V4Header => "sigv4-header",
            AuthKind::V4Query => "sigv4-presigned",
            AuthKind::V2Header => "sigv2-header",
            AuthKind::V2Query => "sigv2-presigned",
            AuthKind::V4Post => "sigv4-post-policy",
            AuthKind::V2Post => "sigv2-post-policy",
        }
    }
}

/// What the body must satisfy, decided by the signature.
#[derive(Debug, Clone)]
pub enum PayloadCheck {
    /// `UNSIGNED-PAYLOAD`, presigned URLs and SigV2: nothing to verify.
    None,
    /// `x-amz-content-sha256: <hex>`: the body's SHA-256 must equal it.
    Sha256(String),
    /// An `aws-chunked` body: decoded, and each chunk verified when signed.
    Streaming(StreamingSpec, chunked::DecodeLimits),
}

/// What the aws-chunked decoder needs to verify chunk signatures.
#[derive(Clone)]
pub struct StreamingSpec {
    pub signed: bool,
    pub trailer: bool,
    pub signing_key: [u8; 32],
    pub amz_date: String,
    pub scope: String,
    /// The request's own signature: the first chunk's "previous signature".
    pub seed_signature: Signature,
}

impl std::fmt::Debug for StreamingSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamingSpec")
            .field("signed", &self.signed)
            .field("trailer", &self.trailer)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// What a request claimed, recorded by the authenticator as it reads it, whether the
/// checks then pass or not.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub kind: AuthKind,
    /// The access key named by the credential, once it has been parsed.
    pub access_key: Option<Arc<str>>,
    /// A presigned URL's validity window, once its date and expiry have been parsed.
    pub window: Option<Window>,
}

/// What a verifier has read so far, borrowed from the request. It becomes the owned
/// [`Attempt`] once the verdict is known: on success the access key is the credential's
/// own (shared, not copied), so a valid request costs no allocation for its record.
#[derive(Default)]
pub(crate) struct Claim<'a> {
    pub access_key: Option<&'a str>,
    pub window: Option<Window>,
}

impl Claim<'_> {
    pub(crate) fn record(self, attempt: &mut Attempt, result: &Result<Authenticated, AuthError>) {
        attempt.window = self.window;
        attempt.access_key = match result {
            Ok(ok) => ok.access_key.clone(),
            Err(_) => self.access_key.map(Arc::from),
        };
    }
}

/// When a presigned URL is valid: from its signing time until it expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub signed_at: time::OffsetDateTime,
    pub expires_at: time::OffsetDateTime,
}

/// A request that passed authentication: the caller, the mechanism and what its body
/// must still satisfy.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub kind: AuthKind,
    /// The credential's access key (shared with the configuration: no copy per request).
    pub access_key: Option<Arc<str>>,
    /// Whose key it is; `None` for an anonymous request.
    pub identity: Option<Arc<crate::identity::Identity>>,
    /// When the request was signed (SigV4: its `X-Amz-Date`), for `s3:signatureAge`.
    pub signed_at: Option<time::OffsetDateTime>,
    /// When its temporary credentials were issued (`aws:TokenIssueTime`).
    pub token_issued_at: Option<time::OffsetDateTime>,
    pub payload: PayloadCheck,
}

impl Authenticated {
    /// Where the body's trailer records what it adds (aws-chunked with a checksum trailer).
    pub fn trailing_attrs(&self) -> Option<crate::checksum::TrailingAttrs> {
        match &self.payload {
            PayloadCheck::Streaming(_, limits) if limits.trailer_checksum.is_some() => {
                Some(limits.trailing.clone())
            }
            _ => None,
        }
    }

    /// The checksum the aws-chunked trailer will carry (`x-amz-trailer`), if any.
    pub fn trailer_checksum(&self) -> Option<crate::checksum::ChecksumAlgorithm> {
        match &self.payload {
            PayloadCheck::Streaming(_, limits) => limits.trailer_checksum,
            _ => None,
        }
    }

    pub fn anonymous() -> Self {
        Authenticated {
            kind: AuthKind::Anonymous,
            access_key: None,
            identity: None,
            signed_at: None,
            token_issued_at: None,
            payload: PayloadCheck::None,
        }
    }

    /// A request signed with `cred` (its key and identity shared, not copied).
    pub fn signed(
        kind: AuthKind,
        cred: &crate::config::Credential,
        signed_at: Option<time::OffsetDateTime>,
        payload: PayloadCheck,
    ) -> Self {
        Authenticated {
            kind,
            access_key: Some(cred.access_key.clone()),
            identity: Some(cred.identity.clone()),
            signed_at,
            token_issued_at: cred.lifetime.map(|l| l.issued_at),
            payload,
        }
    }
}

/// Verifies signatures against the configured credentials and clock.
pub struct Authenticator {
    config: Arc<Config>,
    clock: Arc<dyn Clock>,
    keys: SigningKeyCache,
    /// The temporary credentials STS has issued (shared with the STS endpoint).
    sessions: Arc<crate::sts::Sessions>,
}

impl Authenticator {
    pub fn new(config: Arc<Config>, clock: Arc<dyn Clock>) -> Self {
        Authenticator {
            config,
            clock,
            keys: SigningKeyCache::default(),
            sessions: Arc::default(),
        }
    }

    /// The store of temporary credentials this authenticator accepts.
    pub fn sessions(&self) -> &Arc<crate::sts::Sessions> {
        &self.sessions
    }

    /// The region `addr`'s credential scope must name: its bucket's, when it exists.
    pub fn expected_region<'a>(&'a self, addr: &'a Address) -> crate::regions::Expected<'a> {
        match (addr.bucket(), addr.region.as_deref()) {
            (Some(bucket), Some(region)) => crate::regions::Expected::Bucket {
                bucket,
                region,
                path_style: addr.style == crate::addressing::Style::Path,
            },
            _ => crate::regions::Expected::Any {
                default: &self.config.region,
            },
        }
    }

    /// Chooses the mechanism and verifies it. Two mechanisms at once are refused, as S3 does.
    pub fn authenticate(
        &self,
        req: &S3Request,
        addr: &Address,
    ) -> Result<Authenticated, AuthError> {
        self.authenticate_recorded(req, addr, &mut Attempt::default())
    }

    /// [`Authenticator::authenticate`], recording what the request claims in `attempt`
    /// as each part is read (the service logs it, refused or not).
    pub fn authenticate_recorded(
        &self,
        req: &S3Request,
        addr: &Address,
        attempt: &mut Attempt,
    ) -> Result<Authenticated, AuthError> {
        let kind = detect(req);
        attempt.kind = kind;
        check_single_parts(req)?;
        let authorization = req
            .headers
            .get("authorization")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        if let Some(auth) = &authorization {
            let (v4_query, v2_query) = query_auth(req);
            if v4_query || v2_query {
                return Err(AuthError::TwoMechanisms {
                    authorization: auth.clone(),
                });
            }
            if auth.is_empty() {
                return Err(AuthError::EmptyAuthorization);
            }
        }
        if self.config.reject_sigv2 && matches!(kind, AuthKind::V2Header | AuthKind::V2Query) {
            return Err(AuthError::Sigv2Refused);
        }
        let auth = authorization.as_deref().unwrap_or_default();
        let mut claim = Claim::default();
        let region = self.expected_region(addr);
        let result = match kind {
            AuthKind::V2Header => self.verify_v2_header(req, addr, auth, &mut claim),
            AuthKind::V4Header => self.verify_v4_header(req, auth, region, &mut claim),
            AuthKind::V4Query => self.verify_v4_query(req, region, &mut claim),
            AuthKind::V2Query => self.verify_v2_query(req, addr, &mut claim),
            _ => Ok(Authenticated::anonymous()),
        };
        claim.record(attempt, &result);
        result
    }
}

/// The region a SigV4 request's credential scope names (header or presigned), if any:
/// the region of the endpoint the client meant to reach.
pub fn signed_region(req: &S3Request) -> Option<&str> {
    let credential = match req.header(http::header::AUTHORIZATION) {
        Some(a) => a
            .strip_prefix(params::ALGORITHM_V4)?
            .split(',')
            .find_map(|p| p.trim().strip_prefix("Credential="))?,
        None => req.query_param("X-Amz-Credential")?,
    };
    params::CredentialScope::parse(credential).map(|s| s.region)
}

/// Query parameters that carry authentication (SigV4 and SigV2 presigned URLs).
const AUTH_QUERY_PARAMS: &[&str] = &[
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
    "X-Amz-Security-Token",
    "AWSAccessKeyId",
    "Signature",
    "Expires",
];

/// Every authentication part comes once. A request that repeats one is refused before any
/// of them is read, so a server can never verify one copy and act on another.
///
/// What S3 does with repeats: it joins repeated headers with commas (the SigV2 page;
/// SigV4 canonical headers do the same), so two `x-amz-date` or `Date` headers are no
/// date (403 AccessDenied, "AWS authentication requires a valid Date or x-amz-date
/// header") and two `x-amz-content-sha256` are no hash (400 InvalidArgument, its
/// message for an invalid value). For a repeated `Authorization` header or presigned-URL
/// parameter no S3 answer is recorded (S3 keeps the first value of an ordinary repeated
/// parameter, aws-sdk-go#1495): a repeated SigV4 parameter is the SigV4 query error
/// (AuthorizationQueryParametersError, as before), the others 400 InvalidArgument
/// naming the part.
pub(crate) fn check_single_parts(req: &S3Request) -> Result<(), AuthError> {
    use crate::header_names::{X_AMZ_CONTENT_SHA256, X_AMZ_DATE, X_AMZ_SECURITY_TOKEN};
    let repeated = |name: &HeaderName| {
        let mut values = req.headers.get_all(name).iter();
        values.next();
        values
            .next()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    for (name, header) in [("x-amz-date", &X_AMZ_DATE), ("date", &http::header::DATE)] {
        if repeated(header).is_some() {
            return Err(AuthError::RepeatedDate { name });
        }
    }
    if repeated(&X_AMZ_CONTENT_SHA256).is_some() {
        let joined: Vec<String> = req
            .headers
            .get_all(X_AMZ_CONTENT_SHA256)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        return Err(AuthError::RepeatedContentSha256 {
            joined: joined.join(","),
        });
    }
    for (name, header) in [
        ("authorization", &http::header::AUTHORIZATION),
        ("x-amz-security-token", &X_AMZ_SECURITY_TOKEN),
    ] {
        if let Some(second) = repeated(header) {
            return Err(AuthError::RepeatedHeader { name, second });
        }
    }
    for name in AUTH_QUERY_PARAMS {
        let mut values = req.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v);
        values.next();
        if let Some(second) = values.next() {
            if name.starts_with("X-Amz-") {
                return Err(AuthError::DuplicateQueryParam { name });
            }
            return Err(AuthError::RepeatedQueryParam {
                name,
                second: second.clone(),
            });
        }
    }
    Ok(())
}

/// Whether the query carries SigV4 or SigV2 presigned-URL parameters.
fn query_auth(req: &S3Request) -> (bool, bool) {
    let v4 = req.has_query("X-Amz-Algorithm")
        || req.has_query("X-Amz-Signature")
        || req.has_query("X-Amz-Credential");
    let v2 = req.has_query("Signature") || req.has_query("AWSAccessKeyId");
    (v4, v2)
}

/// The mechanism a request attempts, before any check: `authenticate` dispatches on it,
/// and the log and the inspector report it even when verification fails.
pub fn detect(req: &S3Request) -> AuthKind {
    let auth = req.headers.get("authorization").map(|v| v.as_bytes());
    let (v4_query, v2_query) = query_auth(req);
    match auth {
        Some(a) if a.starts_with(b"AWS ") => AuthKind::V2Header,
        Some(a) if !a.is_empty() => AuthKind::V4Header,
        _ if v4_query => AuthKind::V4Query,
        _ if v2_query => AuthKind::V2Query,
        _ => AuthKind::Anonymous,
    }
}

/// Wraps the incoming body so it is held to the signature's payload promise while it
/// streams: a SHA-256 computed as bytes pass and compared at the end, or the aws-chunked
/// decoder. A failure is the stream's last item, so storage discards the write.
pub fn verified_body(body: ByteStream, check: PayloadCheck) -> ByteStream {
    match check {
        PayloadCheck::None => body,
        PayloadCheck::Sha256(expected) => sha256_checked(body, expected),
        PayloadCheck::Streaming(spec, limits) => chunked::decode(body, spec, limits),
    }
}

fn sha256_checked(body: ByteStream, expected: String) -> ByteStream {
    crate::body::checked(
        body,
        (Sha256::new(), expected),
        |(hasher, _), chunk| hasher.update(chunk),
        |(hasher, expected)| {
            let computed = hex::encode(hasher.finalize());
            if computed == expected {
                Ok(())
            } else {
                Err(AuthError::ContentSha256Mismatch {
                    client: expected,
                    computed,
                }
                .into())
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use futures_util::StreamExt;

    async fn drain(s: ByteStream) -> Result<Vec<u8>, crate::error::S3Error> {
        let mut out = Vec::new();
        let mut s = s;
        while let Some(c) = s.next().await {
            out.extend_from_slice(&c?);
        }
        Ok(out)
    }

    #[tokio::test]
    async fn sha256_body_check_passes_and_fails_at_the_end() {
        let body = || {
            crate::body::from_chunks(vec![Bytes::from("Welcome to "), Bytes::from("Amazon S3.")])
        };
        let good = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072".to_string();
        assert_eq!(
            drain(verified_body(body(), PayloadCheck::Sha256(good)))
                .await
                .unwrap(),
            b"Welcome to Amazon S3."
        );
        let bad = "00".repeat(32);
        let err = drain(verified_body(body(), PayloadCheck::Sha256(bad)))
            .await
            .unwrap_err();
        assert_eq!(
            err.code,
            crate::error::S3ErrorCode::XAmzContentSHA256Mismatch
        );
        assert_eq!(
            err.extra[1].1,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        );
    }
}
