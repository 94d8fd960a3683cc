//! Every authentication failure as a typed value: one [`AuthError`] variant per cause,
//! carrying the values that made the check fail. [`From<AuthError> for S3Error`] is the
//! one place each becomes AWS's code, status and message (quoted from real S3 bodies
//! where they exist: `docs/aws-evidence.md`) plus strict-s3's reason; [`AuthError::check`]
//! says which check it is, for the log, the inspector and `explain`.

use time::OffsetDateTime;

use crate::error::{Check, S3Error, S3ErrorCode};

mod table;

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
    /// The scope names another region than the one expected; `why` says why that one
    /// (the bucket's region, or the server's default).
    WrongRegion {
        via: Via,
        got: String,
        expected: String,
        why: String,
    },
    /// A path-style request signed for another AWS region than its bucket's: on AWS it
    /// reached that region's endpoint, which redirects.
    PermanentRedirect {
        bucket: String,
        got: String,
        expected: String,
    },
    /// The same for a POST form, which S3 answers as InvalidArgument.
    PostWrongRegion {
        got: String,
        expected: String,
        why: String,
        credential: String,
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
    /// Temporary credentials used without their session token: S3's 403
    /// InvalidAccessKeyId (databendlabs/databend#8069; docs/sts-regions-evidence.md §4).
    TokenMissing {
        access_key: String,
    },
    /// The session behind temporary credentials has ended.
    ExpiredToken {
        token: String,
        expired_at: OffsetDateTime,
        now: OffsetDateTime,
        /// A presigned URL's own expiry, when the URL was still inside it.
        url_expires_at: Option<OffsetDateTime>,
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
            | PostWrongRegion { .. }
            | PermanentRedirect { .. }
            | WrongService { .. }
            | WrongTerminal { .. } => Check::CredentialScope,
            UnknownAccessKey { .. } => Check::AccessKey,
            Skewed { .. } | NotYetValid { .. } | ExpiredV4 { .. } | ExpiredV2 { .. } => Check::Time,
            InvalidToken { .. } | TokenMissing { .. } | ExpiredToken { .. } => Check::SecurityToken,
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
        table::to_s3(err).at(check)
    }
}

/// "Bucket POST must contain a field named 'key'.  If it is specified, please check the
/// order of the fields." (two spaces: LocalStack, versitygw and s3rver agree).
pub fn missing_field(name: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidArgument,
        format!(
            "Bucket POST must contain a field named '{name}'.  If it is specified, please check the order of the fields."
        ),
    )
    .extra("ArgumentName", name)
    .extra("ArgumentValue", "")
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
            why: "bucket b is in region us-east-1".into(),
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
