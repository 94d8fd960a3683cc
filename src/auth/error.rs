//! Every authentication failure, one constructor per cause, each with AWS's code,
//! status and message (quoted from real S3 bodies where they exist: `docs/aws-evidence.md`)
//! and our own `reason` carrying the values that made the check fail.

use time::OffsetDateTime;

use crate::error::{S3Error, S3ErrorCode};

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

pub fn unsupported_authorization_type(header: &str) -> S3Error {
    S3Error::invalid_argument("Unsupported Authorization Type", "Authorization", header)
        .reason("the Authorization header names no scheme S3 knows (AWS4-HMAC-SHA256 or AWS)")
}

pub fn header_component_malformed(component: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationHeaderMalformed,
        format!(
            "The authorization header is malformed; the authorization component \"{component}\" is malformed."
        ),
    )
    .reason("each component must be Credential=…, SignedHeaders=… or Signature=… with a value")
}

pub fn header_missing_components() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationHeaderMalformed,
        "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.",
    )
}

pub fn credential_malformed(via: Via) -> S3Error {
    S3Error::with_message(
        via.code(),
        format!(
            "{}the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
            via.prefix()
        ),
    )
}

pub fn wrong_region(via: Via, got: &str, expected: &str) -> S3Error {
    S3Error::with_message(
        via.code(),
        format!(
            "{}the region '{got}' is wrong; expecting '{expected}'",
            via.prefix()
        ),
    )
    .extra("Region", expected)
    .reason(format!(
        "the credential scope names region {got:?}; this server is configured for {expected:?} (--region)"
    ))
}

pub fn wrong_service(via: Via, got: &str) -> S3Error {
    S3Error::with_message(
        via.code(),
        format!(
            "{}incorrect service \"{got}\". This endpoint belongs to \"s3\".",
            via.prefix()
        ),
    )
}

pub fn wrong_terminal(via: Via, got: &str) -> S3Error {
    S3Error::with_message(
        via.code(),
        format!(
            "{}incorrect terminal \"{got}\". This endpoint uses \"aws4_request\".",
            via.prefix()
        ),
    )
}

pub fn bad_scope_date(via: Via, got: &str) -> S3Error {
    S3Error::with_message(
        via.code(),
        format!(
            "{}incorrect date format \"{got}\". This date in the credential must be in the format \"yyyyMMdd\".",
            via.prefix()
        ),
    )
}

pub fn scope_date_mismatch(via: Via, scope_day: &str, amz_day: &str) -> S3Error {
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

pub fn missing_date() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "AWS authentication requires a valid Date or x-amz-date header",
    )
}

pub fn missing_content_sha256() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "Missing required header for this request: x-amz-content-sha256",
    )
}

pub fn invalid_content_sha256(value: &str) -> S3Error {
    S3Error::invalid_argument(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
        "x-amz-content-sha256",
        value,
    )
}

pub fn headers_not_signed(names: &[&str]) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "There were headers present in the request which were not signed",
    )
    .extra("HeadersNotSigned", names.join(", "))
    .reason(format!(
        "{} must be listed in the signed headers: S3 requires every x-amz-* header (and host) to be signed",
        names.join(", ")
    ))
}

pub fn query_params_missing(name: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
    )
    .reason(format!("{name} is missing"))
}

/// No AWS capture exists for a repeated auth parameter; refusing it (as s3s does) is the
/// strict reading, since only one value can have been signed.
pub fn duplicate_query_auth_param(name: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        format!("{name} must appear only once."),
    )
    .reason(format!("the query string repeats {name}"))
}

/// MinIO's wording; no AWS capture exists (see docs/aws-evidence.md, section 6).
pub fn bad_algorithm(got: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
    )
    .reason(format!("X-Amz-Algorithm is {got:?}"))
}

pub fn bad_query_date(got: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"",
    )
    .reason(format!("X-Amz-Date is {got:?}"))
}

pub fn expires_not_number(got: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        "X-Amz-Expires should be a number",
    )
    .reason(format!("X-Amz-Expires is {got:?}"))
}

pub fn expires_negative() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        "X-Amz-Expires must be non-negative",
    )
}

pub fn expires_too_large(got: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AuthorizationQueryParametersError,
        "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
    )
    .reason(format!("X-Amz-Expires is {got}"))
}

pub fn expired_v4(
    expires_secs: u64,
    signed_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
) -> S3Error {
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

pub fn expired_v2(expires_at: OffsetDateTime, now: OffsetDateTime) -> S3Error {
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

pub fn not_yet_valid(
    signed_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    now: OffsetDateTime,
    max_skew: time::Duration,
) -> S3Error {
    S3Error::with_message(S3ErrorCode::AccessDenied, "Request is not yet valid")
        .extra(
            "X-Amz-Date",
            (signed_at.unix_timestamp_nanos() / 1_000_000).to_string(),
        )
        .extra("Expires", iso(expires_at))
        .extra("ServerTime", iso(now))
        .reason(format!(
            "the URL is not yet valid: it is dated {}, {} seconds after the server time {}, and a presigned URL becomes valid at its X-Amz-Date (up to {} seconds early, for clock skew)",
            iso(signed_at),
            (signed_at - now).whole_seconds(),
            iso(now),
            max_skew.whole_seconds()
        ))
}

/// `MaxAllowedSkewMilliseconds` is the configured skew (S3's is 900000, 15 minutes).
pub fn skewed(
    request_time: &str,
    parsed: OffsetDateTime,
    now: OffsetDateTime,
    max_skew: time::Duration,
) -> S3Error {
    S3Error::new(S3ErrorCode::RequestTimeTooSkewed)
        .extra("RequestTime", request_time)
        .extra("ServerTime", iso(now))
        .extra(
            "MaxAllowedSkewMilliseconds",
            max_skew.whole_milliseconds().to_string(),
        )
        .reason(format!(
            "the request is dated {}, {} seconds from the server time {}; at most {} are allowed",
            iso(parsed),
            (parsed - now).whole_seconds().abs(),
            iso(now),
            max_skew.whole_seconds()
        ))
}

pub fn invalid_access_key(access_key: &str) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidAccessKeyId)
        .extra("AWSAccessKeyId", access_key)
        .reason(format!(
            "no credential with access key {access_key:?} is configured (--access-key)"
        ))
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

pub fn signature_mismatch_v4(
    access_key: &str,
    string_to_sign: &str,
    provided: &str,
    canonical_request: &str,
    canonical_request_bytes: &[u8],
) -> S3Error {
    S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
        .extra("AWSAccessKeyId", access_key)
        .extra("StringToSign", string_to_sign)
        .extra("SignatureProvided", provided)
        .extra("StringToSignBytes", spaced_hex(string_to_sign))
        .extra("CanonicalRequest", canonical_request)
        .extra("CanonicalRequestBytes", spaced_hex(canonical_request_bytes))
}

pub fn signature_mismatch_v2(
    access_key: &str,
    string_to_sign: &str,
    string_to_sign_bytes: &[u8],
    provided: &str,
) -> S3Error {
    S3Error::new(S3ErrorCode::SignatureDoesNotMatch)
        .extra("AWSAccessKeyId", access_key)
        .extra("StringToSign", string_to_sign)
        .extra("SignatureProvided", provided)
        .extra("StringToSignBytes", spaced_hex(string_to_sign_bytes))
}

pub fn two_mechanisms(authorization: &str) -> S3Error {
    S3Error::invalid_argument(
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        "Authorization",
        authorization,
    )
}

pub fn anonymous() -> S3Error {
    S3Error::new(S3ErrorCode::AccessDenied)
        .reason("the request carries no signature (no Authorization header, no X-Amz-Signature or Signature query parameter) and the resource is not public")
}

pub fn invalid_token(token: &str, why: &str) -> S3Error {
    S3Error::new(S3ErrorCode::InvalidToken)
        .extra("Token-0", token)
        .reason(why.to_string())
}

pub fn v2_header_malformed(header: &str) -> S3Error {
    S3Error::invalid_argument(
        "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
        "Authorization",
        header,
    )
}

pub fn v2_query_missing() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
    )
}

pub fn v2_bad_expires(got: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        format!("Invalid date (should be seconds since epoch): {got}"),
    )
}

/// AWS's answer to SigV2 where it is turned off (real bodies: nukulb/s3-angular-file-upload#23).
pub fn sigv2_refused() -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidRequest,
        "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.",
    )
    .reason("--reject-sigv2: AWS refuses Signature Version 2 on buckets created after 24 June 2020 and in regions launched after 2014")
}

pub fn content_sha256_mismatch(client: &str, computed: &str) -> S3Error {
    S3Error::new(S3ErrorCode::XAmzContentSHA256Mismatch)
        .extra("ClientComputedContentSHA256", client)
        .extra("S3ComputedContentSHA256", computed)
        .reason(format!(
            "the body's SHA-256 is {computed}, the x-amz-content-sha256 header says {client}"
        ))
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

    #[test]
    fn header_and_query_variants_differ_in_code_and_wording() {
        let h = wrong_region(Via::Header, "eu-west-1", "us-east-1");
        assert_eq!(h.code, S3ErrorCode::AuthorizationHeaderMalformed);
        assert_eq!(
            h.message,
            "The authorization header is malformed; the region 'eu-west-1' is wrong; expecting 'us-east-1'"
        );
        assert_eq!(h.extra, vec![("Region", "us-east-1".to_string())]);
        let q = wrong_region(Via::Query, "eu-west-1", "us-east-1");
        assert_eq!(q.code, S3ErrorCode::AuthorizationQueryParametersError);
        assert!(
            q.message
                .starts_with("Error parsing the X-Amz-Credential parameter; the region")
        );
    }
}
