//! The table from each [`AuthError`] to its S3 code, message, extra elements and
//! strict-s3's reason: the one place these words live.

use super::{AuthError, Via, anonymous, iso, missing_field, spaced_hex};
use crate::error::{S3Error, S3ErrorCode};

/// The mapping table: each cause, its S3 code and message, and our reason.
pub(super) fn to_s3(err: AuthError) -> S3Error {
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
        PostMissingField { name } => missing_field(name),
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
        // With `x-amz-bucket-region`, which SDKs read to redirect (JS v3 reads nothing
        // else; docs/sts-regions-evidence.md §6).
        WrongRegion {
            via,
            got,
            expected,
            why,
        } => S3Error::with_message(
            via.code(),
            format!("{}the region '{got}' is wrong; expecting '{expected}'", via.prefix()),
        )
        .extra("Region", expected.clone())
        .header("x-amz-bucket-region", expected.clone())
        .reason(format!(
            "the credential scope names region {got:?}, but {why}: sign for {expected:?}"
        )),
        // mountpoint-s3 parse_301_redirect; s3fs-fuse#1195 (docs/sts-regions-evidence.md §6).
        // The Endpoint is the bucket's AWS endpoint, as S3 names it; SDKs given a custom
        // endpoint keep theirs and re-sign for the region in x-amz-bucket-region.
        PermanentRedirect {
            bucket,
            got,
            expected,
        } => S3Error::new(S3ErrorCode::PermanentRedirect)
            .extra("Endpoint", format!("{bucket}.s3.{expected}.amazonaws.com"))
            .extra("Bucket", bucket.clone())
            .header("x-amz-bucket-region", expected.clone())
            .reason(format!(
                "the request names bucket {bucket} in its path and is signed for region {got:?}, so on AWS it reached the {got} endpoint, which redirects: the bucket is in region {expected}; sign for {expected:?} and send it to this same endpoint (named in the host, as BUCKET.DOMAIN, it would be 400 AuthorizationHeaderMalformed instead)"
            )),
        PostWrongRegion {
            got,
            expected,
            why,
            credential,
        } => S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            format!("the region '{got}' is wrong; expecting '{expected}'"),
        )
        .extra("ArgumentName", "X-Amz-Credential")
        .extra("ArgumentValue", credential.clone())
        .extra("Region", expected.clone())
        .header("x-amz-bucket-region", expected.clone())
        .reason(format!(
            "the form's x-amz-credential names region {got:?}, but {why}: sign the policy for {expected:?}"
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
        TokenMissing { access_key } => S3Error::new(S3ErrorCode::InvalidAccessKeyId)
            .extra("AWSAccessKeyId", access_key.clone())
            .reason(format!(
                "{access_key} is a temporary access key: a request signed with it must carry its session token \
                 (x-amz-security-token header, or X-Amz-Security-Token in a presigned URL or POST form), and none was sent"
            )),
        ExpiredToken {
            token,
            expired_at,
            now,
            url_expires_at,
        } => {
            let reason = match url_expires_at {
                Some(url) if url > expired_at => format!(
                    "the URL was signed with temporary credentials that expired at {}, before the URL's own expiry at {} \
                     (server time {}): a presigned URL works only as long as the credentials that signed it",
                    iso(expired_at),
                    iso(url),
                    iso(now)
                ),
                _ => format!(
                    "the temporary credentials expired at {} (server time {}); get new ones from STS",
                    iso(expired_at),
                    iso(now)
                ),
            };
            S3Error::new(S3ErrorCode::ExpiredToken)
                .extra("Token-0", token)
                .reason(reason)
        }
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
