//! Every authentication failure as a typed value: one [`AuthError`] variant per cause,
//! carrying the values that made the check fail. [`From<AuthError> for S3Error`] is the
//! one place each becomes AWS's code, status and message (quoted from real S3 bodies
//! where they exist: `docs/aws-evidence.md`) plus strict-s3's reason; [`AuthError::check`]
//! says which check it is, for the log, the inspector and `explain`.

use time::OffsetDateTime;

use crate::error::{Check, S3Error, S3ErrorCode};

/// Which mechanism carried the credential: AWS words the same fault differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Header,
    Query,
}

impl Via {
    fn code(self) -> S3ErrorCode {
        match self {
            Via::Header => S3ErrorCode::AuthorizationHeaderMalformed,
            Via::Query => S3ErrorCode::AuthorizationQueryParametersError,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Via::Header => "The authorization header is malformed; ",
            Via::Query => "Error parsing the X-Amz-Credential parameter; ",
        }
    }
}

pub use crate::dates::iso;

/// A SigV4 signature that does not match, with the server's side of the computation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MismatchV4 {
    pub access_key: String,
    pub provided: String,
    pub string_to_sign: String,
    pub canonical_request: String,
    /// The canonical request's exact bytes (header values need not be UTF-8).
    pub canonical_request_bytes: Vec<u8>,
    pub signed_headers: String,
    /// The one change that makes the signature valid, when one does (`auth::diagnose`).
    pub diagnosis: Option<String>,
}

/// A SigV2 signature that does not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MismatchV2 {
    pub access_key: String,
    pub provided: String,
    pub string_to_sign: String,
    pub string_to_sign_bytes: Vec<u8>,
    pub diagnosis: Option<String>,
}

/// Why authentication refused a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    // The mechanism and its parameters.
    TwoMechanisms {
        authorization: String,
    },
    /// `Authorization:` with nothing after it.
    EmptyAuthorization,
    UnsupportedAuthorizationType {
        header: String,
    },
    HeaderComponentMalformed {
        component: String,
    },
    HeaderMissingComponents,
    QueryParamsMissing {
        name: &'static str,
    },
    /// A SigV4 presigned-URL parameter sent twice.
    DuplicateQueryParam {
        name: &'static str,
    },
    /// `x-amz-date` or `Date` sent twice.
    RepeatedDate {
        name: &'static str,
    },
    RepeatedContentSha256 {
        joined: String,
    },
    /// `Authorization` or `x-amz-security-token` sent twice.
    RepeatedHeader {
        name: &'static str,
        second: String,
    },
    /// A SigV2 presigned-URL parameter sent twice.
    RepeatedQueryParam {
        name: &'static str,
        second: String,
    },
    BadAlgorithm {
        got: String,
    },
    BadQueryDate {
        got: String,
    },
    ExpiresNotNumber {
        got: String,
    },
    ExpiresNegative,
    ExpiresTooLarge {
        got: String,
    },
    /// No usable `x-amz-date` / `Date`; `detail` says what was wrong with the one sent.
    MissingDate {
        detail: Option<String>,
    },
    MissingContentSha256,
    InvalidContentSha256 {
        value: String,
    },
    Sigv2Refused,
    V2HeaderSpace {
        header: String,
    },
    V2HeaderMalformed {
        header: String,
    },
    V2QueryMissing,
    V2BadExpires {
        got: String,
    },
    PostAlgorithm {
        got: String,
    },
    PostMissingField {
        name: &'static str,
    },
    // The credential scope.
    CredentialMalformed {
        via: Via,
        empty_key: bool,
    },
    BadScopeDate {
        via: Via,
        got: String,
    },
    ScopeDateMismatch {
        via: Via,
        scope_day: String,
        amz_day: String,
    },
    WrongRegion {
        via: Via,
        got: String,
        expected: String,
    },
    WrongService {
        via: Via,
        got: String,
    },
    WrongTerminal {
        via: Via,
        got: String,
    },
    // The access key.
    UnknownAccessKey {
        access_key: String,
    },
    // Time.
    Skewed {
        sent: String,
        at: OffsetDateTime,
        now: OffsetDateTime,
        max: time::Duration,
    },
    NotYetValid {
        signed_at: OffsetDateTime,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
        max: time::Duration,
    },
    ExpiredV4 {
        expires_secs: u64,
        signed_at: OffsetDateTime,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    },
    ExpiredV2 {
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    },
    // The security token.
    InvalidToken {
        token: String,
        why: &'static str,
    },
    // Signed headers.
    HeadersNotSigned {
        names: Vec<String>,
    },
    // The signature.
    SignatureMismatchV4(Box<MismatchV4>),
    SignatureMismatchV2(Box<MismatchV2>),
    PostSignatureMismatch {
        access_key: String,
        policy: String,
        provided: String,
    },
    // What the signature says about the payload.
    EcdsaStreaming,
    MissingDecodedLength,
    InvalidDecodedLength {
        value: String,
    },
    UnsupportedTrailer {
        name: String,
    },
    ContentSha256Mismatch {
        client: String,
        computed: String,
    },
}

impl AuthError {
    /// The check this failure belongs to.
    pub fn check(&self) -> Check {
        use AuthError::*;
        match self {
            CredentialMalformed { .. }
            | BadScopeDate { .. }
            | ScopeDateMismatch { .. }
            | WrongRegion { .. }
            | WrongService { .. }
            | WrongTerminal { .. } => Check::CredentialScope,
            UnknownAccessKey { .. } => Check::AccessKey,
            Skewed { .. } | NotYetValid { .. } | ExpiredV4 { .. } | ExpiredV2 { .. } => Check::Time,
            InvalidToken { .. } => Check::SecurityToken,
            HeadersNotSigned { .. } => Check::SignedHeaders,
            SignatureMismatchV4(_) | SignatureMismatchV2(_) | PostSignatureMismatch { .. } => {
                Check::Signature
            }
            EcdsaStreaming
            | MissingDecodedLength
            | InvalidDecodedLength { .. }
            | UnsupportedTrailer { .. }
            | ContentSha256Mismatch { .. } => Check::Payload,
            _ => Check::Parameters,
        }
    }
}

impl From<AuthError> for S3Error {
    fn from(err: AuthError) -> S3Error {
        let check = err.check();
        to_s3(err).at(check)
    }
}

/// The mapping table: each cause, its S3 code and message, and our reason.
fn to_s3(err: AuthError) -> S3Error {
    use AuthError::*;
    match err {
        TwoMechanisms { authorization } => S3Error::invalid_argument(
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
            "Authorization",
            authorization,
        ),
        EmptyAuthorization => anonymous().reason(
            "the Authorization header is empty: a request with no signature is anonymous, and this one cannot be",
        ),
        UnsupportedAuthorizationType { header } => {
            S3Error::invalid_argument("Unsupported Authorization Type", "Authorization", header)
                .reason("the Authorization header names no scheme S3 knows (AWS4-HMAC-SHA256 or AWS)")
        }
        HeaderComponentMalformed { component } => S3Error::with_message(
            S3ErrorCode::AuthorizationHeaderMalformed,
            format!(
                "The authorization header is malformed; the authorization component \"{component}\" is malformed."
            ),
        )
        .reason("each component must be Credential=…, SignedHeaders=… or Signature=… with a value"),
        HeaderMissingComponents => S3Error::with_message(
            S3ErrorCode::AuthorizationHeaderMalformed,
            "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.",
        ),
        QueryParamsMissing { name } => S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
        )
        .reason(format!("{name} is missing")),
        // No AWS capture exists for a repeated auth parameter; refusing it (as s3s does)
        // is the strict reading, since only one value can have been signed.
        DuplicateQueryParam { name } => S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            format!("{name} must appear only once."),
        )
        .reason(format!("the query string repeats {name}")),
        RepeatedDate { name } => missing_date().reason(format!(
            "the request has more than one {name} header: S3 joins repeated headers with commas, and that is no date"
        )),
        RepeatedContentSha256 { joined } => invalid_content_sha256(&joined).reason(
            "the request has more than one x-amz-content-sha256 header: S3 joins repeated headers with commas, and that is no hash",
        ),
        RepeatedHeader { name, second } => S3Error::invalid_argument(
            format!("Only one {name} header may be sent"),
            name,
            second,
        )
        .reason(format!(
            "the request has more than one {name} header: strict-s3 will not verify one and ignore the others"
        )),
        RepeatedQueryParam { name, second } => S3Error::invalid_argument(
            format!("Only one {name} query parameter may be sent"),
            name,
            second,
        )
        .reason(format!(
            "the query has more than one {name}: strict-s3 will not verify one and ignore the others"
        )),
        // MinIO's wording; no AWS capture exists (see docs/aws-evidence.md, section 6).
        BadAlgorithm { got } => S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        )
        .reason(format!("X-Amz-Algorithm is {got:?}")),
        BadQueryDate { got } => S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
        )
        .reason(format!("X-Amz-Date is {got:?}")),
        ExpiresNotNumber { got } => S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Expires should be a number",
        )
        .reason(format!("X-Amz-Expires is {got:?}")),
        ExpiresNegative => S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Expires must be non-negative",
        ),
        ExpiresTooLarge { got } => S3Error::with_message(
            S3ErrorCode::AuthorizationQueryParametersError,
            "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
        )
        .reason(format!("X-Amz-Expires is {got}")),
        MissingDate { detail: None } => missing_date(),
        MissingDate { detail: Some(d) } => missing_date().reason(d),
        MissingContentSha256 => S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Missing required header for this request: x-amz-content-sha256",
        ),
        InvalidContentSha256 { value } => invalid_content_sha256(&value),
        // AWS's answer to SigV2 where it is turned off (real bodies:
        // nukulb/s3-angular-file-upload#23).
        Sigv2Refused => S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
        )
        .reason("--reject-sigv2: AWS refuses Signature Version 2 on buckets created after 24 June 2020 and in regions launched after 2014"),
        V2HeaderSpace { header } => S3Error::invalid_argument(
            "Authorization header is invalid -- one and only one ' ' (space) required",
            "Authorization",
            header,
        ),
        V2HeaderMalformed { header } => S3Error::invalid_argument(
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
            "Authorization",
            header,
        ),
        V2QueryMissing => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
        ),
        V2BadExpires { got } => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            format!("Invalid date (should be seconds since epoch): {got}"),
        ),
        PostAlgorithm { got } => S3Error::invalid_argument(
            "Only AWS4-HMAC-SHA256 is supported for x-amz-algorithm",
            "x-amz-algorithm",
            got,
        ),
        PostMissingField { name } => super::post::missing_field(name),
        CredentialMalformed { via, empty_key } => {
            let e = S3Error::with_message(
                via.code(),
                format!(
                    "{}the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
                    via.prefix()
                ),
            );
            if empty_key {
                e.reason("the access key in the credential is empty")
            } else {
                e
            }
        }
        BadScopeDate { via, got } => S3Error::with_message(
            via.code(),
            format!(
                "{}incorrect date format \"{got}\". This date in the credential must be in the format \"yyyyMMdd\".",
                via.prefix()
            ),
        ),
        ScopeDateMismatch { via, scope_day, amz_day } => {
            let err = match via {
                Via::Header => S3Error::with_message(
                    S3ErrorCode::AuthorizationHeaderMalformed,
                    "The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date.",
                ),
                Via::Query => S3Error::with_message(
                    S3ErrorCode::AuthorizationQueryParametersError,
                    format!(
                        "Invalid credential date \"{scope_day}\". This date is not the same as X-Amz-Date: \"{amz_day}\"."
                    ),
                ),
            };
            err.reason(format!(
                "the credential scope is dated {scope_day} but the request is dated {amz_day}"
            ))
        }
        WrongRegion { via, got, expected } => S3Error::with_message(
            via.code(),
            format!("{}the region '{got}' is wrong; expecting '{expected}'", via.prefix()),
        )
        .extra("Region", expected.clone())
        .reason(format!(
            "the credential scope names region {got:?}; this server is configured for {expected:?} (--region)"
        )),
        WrongService { via, got } => S3Error::with_message(
            via.code(),
            format!(
                "{}incorrect service \"{got}\". This endpoint belongs to \"s3\".",
                via.prefix()
            ),
        ),
        WrongTerminal { via, got } => S3Error::with_message(
            via.code(),
            format!(
                "{}incorrect terminal \"{got}\". This endpoint uses \"aws4_request\".",
                via.prefix()
            ),
        ),
        UnknownAccessKey { access_key } => S3Error::new(S3ErrorCode::InvalidAccessKeyId)
            .extra("AWSAccessKeyId", access_key.clone())
            .reason(format!(
                "no credential with access key {access_key:?} is configured (--access-key)"
            )),
        // `MaxAllowedSkewMilliseconds` is the configured skew (S3's is 900000, 15 minutes).
        Skewed { sent, at, now, max } => S3Error::new(S3ErrorCode::RequestTimeTooSkewed)
            .extra("RequestTime", sent)
            .extra("ServerTime", iso(now))
            .extra("MaxAllowedSkewMilliseconds", max.whole_milliseconds().to_string())
            .reason(format!(
                "the request is dated {}, {} seconds from the server time {}; at most {} are allowed",
                iso(at),
                (at - now).whole_seconds().abs(),
                iso(now),
                max.whole_seconds()
            )),
        NotYetValid { signed_at, expires_at, now, max } => {
            S3Error::with_message(S3ErrorCode::AccessDenied, "Request is not yet valid")
                .extra("X-Amz-Date", (signed_at.unix_timestamp_nanos() / 1_000_000).to_string())
                .extra("Expires", iso(expires_at))
                .extra("ServerTime", iso(now))
                .reason(format!(
                    "the URL is not yet valid: it is dated {}, {} seconds after the server time {}, and a presigned URL becomes valid at its X-Amz-Date (up to {} seconds early, for clock skew)",
                    iso(signed_at),
                    (signed_at - now).whole_seconds(),
                    iso(now),
                    max.whole_seconds()
                ))
        }
        ExpiredV4 { expires_secs, signed_at, expires_at, now } => {
            S3Error::with_message(S3ErrorCode::AccessDenied, "Request has expired")
                .extra("X-Amz-Expires", expires_secs.to_string())
                .extra("Expires", iso(expires_at))
                .extra("ServerTime", iso(now))
                .reason(format!(
                    "the URL expired {} seconds ago at {} (signed at {} for {expires_secs} s, server time {})",
                    (now - expires_at).whole_seconds(),
                    iso(expires_at),
                    iso(signed_at),
                    iso(now)
                ))
        }
        ExpiredV2 { expires_at, now } => {
            S3Error::with_message(S3ErrorCode::AccessDenied, "Request has expired")
                .extra("Expires", iso(expires_at))
                .extra("ServerTime", iso(now))
                .reason(format!(
                    "the URL expired {} seconds ago at {} (server time {})",
                    (now - expires_at).whole_seconds(),
                    iso(expires_at),
                    iso(now)
                ))
        }
        InvalidToken { token, why } => S3Error::new(S3ErrorCode::InvalidToken)
            .extra("Token-0", token)
            .reason(why),
        HeadersNotSigned { names } => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "There were headers present in the request which were not signed",
        )
        .extra("HeadersNotSigned", names.join(", "))
        .reason(format!(
            "{} must be listed in the signed headers: S3 requires every x-amz-* header (and host) to be signed",
            names.join(", ")
        )),
        SignatureMismatchV4(m) => {
            let reason = m.diagnosis.unwrap_or_else(|| {
                format!(
                    "no single change (method, Host, addressing style, Content-Type, path encoding, an added query parameter, payload hash, another configured key) makes the signature valid: \
                     check the secret key, then compare this canonical request with the client's (signed headers: {})",
                    m.signed_headers
                )
            });
            S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
                .extra("AWSAccessKeyId", m.access_key)
                .extra("StringToSign", m.string_to_sign.clone())
                .extra("SignatureProvided", m.provided)
                .extra("StringToSignBytes", spaced_hex(&m.string_to_sign))
                .extra("CanonicalRequest", m.canonical_request)
                .extra("CanonicalRequestBytes", spaced_hex(&m.canonical_request_bytes))
                .reason(reason)
        }
        SignatureMismatchV2(m) => {
            let reason = m.diagnosis.unwrap_or_else(|| {
                "no single change (method, Content-Type, Content-MD5, Date, an x-amz-* header, a sub-resource, the bucket in the resource, another configured key) makes the SigV2 signature valid: \
                 check the secret key, then compare this string to sign with the client's"
                    .to_string()
            });
            S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
                .extra("AWSAccessKeyId", m.access_key)
                .extra("StringToSign", m.string_to_sign)
                .extra("SignatureProvided", m.provided)
                .extra("StringToSignBytes", spaced_hex(&m.string_to_sign_bytes))
                .reason(reason)
        }
        // The string a POST form signs is the base64 policy itself; AWS's body for this
        // case has no CanonicalRequest (aws-error-reference.md).
        PostSignatureMismatch { access_key, policy, provided } => {
            S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
                .extra("AWSAccessKeyId", access_key)
                .extra("StringToSign", policy.clone())
                .extra("SignatureProvided", provided)
                .extra("StringToSignBytes", spaced_hex(&policy))
                .reason("the signature does not match the policy field: a POST form signs the base64 policy text exactly as sent")
        }
        EcdsaStreaming => S3Error::new(S3ErrorCode::NotImplemented)
            .extra("Header", "x-amz-content-sha256")
            .reason("SigV4a (ECDSA) streaming payloads are not supported by strict-s3"),
        MissingDecodedLength => S3Error::new(S3ErrorCode::MissingContentLength)
            .reason("aws-chunked bodies must declare x-amz-decoded-content-length"),
        InvalidDecodedLength { value } => S3Error::invalid_argument(
            "x-amz-decoded-content-length must be a non-negative integer",
            "x-amz-decoded-content-length",
            value,
        ),
        UnsupportedTrailer { name } => S3Error::invalid_argument(
            "The value specified in the x-amz-trailer header is not supported",
            "x-amz-trailer",
            name,
        ),
        ContentSha256Mismatch { client, computed } => {
            S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch)
                .extra("ClientComputedContentSHA256", client.clone())
                .extra("S3ComputedContentSHA256", computed.clone())
                .reason(format!(
                    "the body's SHA-256 is {computed}, the x-amz-content-sha256 header says {client}"
                ))
        }
    }
}

fn missing_date() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "AWS authentication requires a valid Date or x-amz-date header",
    )
}

fn invalid_content_sha256(value: &str) -> S3Error {
    S3Error::invalid_argument(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        "x-amz-content-sha256",
        value,
    )
}

/// An anonymous request to something that is not public. This is the access decision,
/// not a failed signature check, so it carries no [`Check`].
pub fn anonymous() -> S3Error {
    S3Error::new(S3ErrorCode::AccessDenied)
        .reason("the request carries no signature (no Authorization header, no X-Amz-Signature or Signature query parameter) and the resource is not public")
}

/// Hex bytes separated by spaces, as AWS prints `StringToSignBytes`. Written digit by
/// digit into one buffer: a flood of badly signed requests should not cost an
/// allocation per byte.
pub fn spaced_hex(s: impl AsRef<[u8]>) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let s = s.as_ref();
    let mut out = String::with_capacity(s.len() * 3);
    for (i, &b) in s.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn times_print_like_s3() {
        assert_eq!(
            iso(datetime!(2013-05-25 00:00:00.5 UTC)),
            "2013-05-25T00:00:00Z"
        );
        assert_eq!(spaced_hex("AB\n"), "41 42 0a");
    }

    fn wrong_region(via: Via) -> S3Error {
        AuthError::WrongRegion {
            via,
            got: "eu-west-1".into(),
            expected: "us-east-1".into(),
        }
        .into()
    }

    #[test]
    fn header_and_query_variants_differ_in_code_and_wording() {
        let h = wrong_region(Via::Header);
        assert_eq!(h.code, S3ErrorCode::AuthorizationHeaderMalformed);
        assert_eq!(
            h.message,
            "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'"
        );
        assert_eq!(h.extra, vec![("Region", "us-east-1".to_string())]);
        assert_eq!(h.check, Some(Check::CredentialScope));
        let q = wrong_region(Via::Query);
        assert_eq!(q.code, S3ErrorCode::AuthorizationQueryParametersError);
        assert!(
            q.message
                .starts_with("Error parsing the X-Amz-Credential parameter; the region")
        );
    }

    #[test]
    fn each_cause_names_its_check() {
        let now = datetime!(2013-05-24 00:00:00 UTC);
        let cases = [
            (AuthError::HeaderMissingComponents, Check::Parameters),
            (
                AuthError::UnknownAccessKey {
                    access_key: "AK".into(),
                },
                Check::AccessKey,
            ),
            (
                AuthError::ExpiredV2 {
                    expires_at: now,
                    now,
                },
                Check::Time,
            ),
            (
                AuthError::InvalidToken {
                    token: String::new(),
                    why: "none sent",
                },
                Check::SecurityToken,
            ),
            (
                AuthError::HeadersNotSigned {
                    names: vec!["host".into()],
                },
                Check::SignedHeaders,
            ),
            (AuthError::MissingDecodedLength, Check::Payload),
        ];
        for (err, check) in cases {
            assert_eq!(err.check(), check, "{err:?}");
            assert_eq!(S3Error::from(err).check, Some(check));
        }
        assert_eq!(anonymous().check, None);
    }
}
