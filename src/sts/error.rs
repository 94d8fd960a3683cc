//! STS's errors: its codes, statuses and messages (docs/sts-regions-evidence.md §2),
//! and the translation of a failed signature check into them. STS answers in its own
//! envelope (`<ErrorResponse><Error><Type>Sender</Type>…</Error><RequestId>`), which
//! [`super::xml::error_document`] writes.

use crate::auth::AuthError;
use crate::dates::amz_date;
use crate::error::S3Error;

/// One STS refusal.
#[derive(Debug, Clone)]
pub struct StsError {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    /// strict-s3's own explanation (`x-strict-s3-reason`, `<Explanation>`).
    pub reason: Option<String>,
}

impl StsError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        StsError {
            status,
            code,
            message: message.into(),
            reason: None,
        }
    }

    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// 400 ValidationError: a parameter breaks the API model's constraints.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(400, "ValidationError", message)
    }

    /// 403 AccessDenied, as STS words it for AssumeRole (no final period:
    /// Netflix/security_monkey#77).
    pub fn not_authorized(caller_arn: &str, action: &str, resource: &str) -> Self {
        Self::new(
            403,
            "AccessDenied",
            format!(
                "User: {caller_arn} is not authorized to perform: {action} on resource: {resource}"
            ),
        )
    }

    /// An unsigned request (STS has no anonymous operation here).
    pub fn missing_authentication() -> Self {
        Self::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        )
        .reason("STS requests must be signed with SigV4 for the service \"sts\"")
    }
}

/// The STS answer for a signature check that failed. The reason is the one the S3
/// endpoint gives for the same check, so both teach the same way.
impl From<AuthError> for StsError {
    fn from(err: AuthError) -> Self {
        use AuthError::*;
        let (status, code, message): (u16, &'static str, String) = match &err {
            // "The security token included in the request is invalid" with no final
            // period in the raw 2022 body (aws-azure-login#251).
            UnknownAccessKey { .. } | InvalidToken { .. } | TokenMissing { .. } => (
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid".into(),
            ),
            // boto3#1431 (STS), cfn-sphere#55 (IAM raw body, 403).
            ExpiredToken { .. } => (
                403,
                "ExpiredToken",
                "The security token included in the request is expired".into(),
            ),
            // aws/aws-cli#602: the message carries the canonical request and string to sign.
            SignatureMismatchV4(m) => (
                403,
                "SignatureDoesNotMatch",
                format!(
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'{}'\n\nThe String-to-Sign should have been\n'{}'\n",
                    m.canonical_request, m.string_to_sign
                ),
            ),
            // aws/aws-cli#6676, devsecops/bootcamp#101 (STS, 403).
            Skewed { at, now, max, .. } => {
                let minutes = max.whole_minutes();
                let message = if at < now {
                    format!(
                        "Signature expired: {} is now earlier than {} ({} - {minutes} min.)",
                        amz_date(*at),
                        amz_date(*now - *max),
                        amz_date(*now)
                    )
                } else {
                    format!(
                        "Signature not yet current: {} is still later than {} ({} + {minutes} min.)",
                        amz_date(*at),
                        amz_date(*now + *max),
                        amz_date(*now)
                    )
                };
                (403, "SignatureDoesNotMatch", message)
            }
            // A presigned STS URL past its expiry: the header case's words, by analogy
            // (no capture of the presigned case).
            ExpiredV4 {
                expires_at, now, ..
            } => (
                403,
                "SignatureDoesNotMatch",
                format!(
                    "Signature expired: {} is now earlier than {} ({} - 0 min.)",
                    amz_date(*expires_at),
                    amz_date(*now),
                    amz_date(*now)
                ),
            ),
            // The trailing spaces are STS's (namecheap/node-vault-client#25 raw body).
            WrongRegion { .. } => (
                403,
                "SignatureDoesNotMatch",
                "Credential should be scoped to a valid region. ".into(),
            ),
            // cllunsford/aws-signing-proxy#25 (the same service family's words).
            WrongService { .. } => (
                403,
                "SignatureDoesNotMatch",
                "Credential should be scoped to correct service: 'sts'. ".into(),
            ),
            Sigv2Refused => (
                400,
                "IncompleteSignature",
                "Signature Version 4 is required: strict-s3's STS does not accept Signature Version 2".into(),
            ),
            // Malformed Authorization headers and parameters: STS's IncompleteSignature
            // (jenkinsci/aws-credentials-plugin#72), with S3's wording of the problem.
            _ => (400, "IncompleteSignature", S3Error::from(err.clone()).message.to_string()),
        };
        let reason = S3Error::from(err).reason;
        StsError {
            status,
            code,
            message,
            reason,
        }
    }
}
