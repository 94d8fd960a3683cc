//! The S3 error table and the error value every stage returns.
//!
//! Every stage builds an [`S3Error`] where the failure happens, carrying the data
//! of the failed check (extra XML elements, a human explanation).
//! [`crate::respond`] is the only place that turns one into bytes on the wire, so
//! the XML shape, the status codes and the HEAD-has-no-body rule live in one place.
//! This module depends on nothing else in the crate.
//!
//! Codes, statuses and messages follow
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>; the
//! evidence for each message (real S3 bodies quoted in public threads) is in
//! `docs/aws-evidence.md` and
//! `../shared/aws-error-reference.md`.

use std::borrow::Cow;
use std::fmt;

use http::StatusCode;

/// One row of the S3 error table: the wire code, its HTTP status and AWS's default message.
macro_rules! error_codes {
    ($($name:ident => ($status:expr, $msg:expr);)*) => {
        /// An S3 error code, as it appears in `<Code>`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum S3ErrorCode { $($name,)* }

        impl S3ErrorCode {
            /// The code as written in the XML body.
            pub fn as_str(self) -> &'static str {
                match self { $(S3ErrorCode::$name => stringify!($name),)* }
            }
            /// The HTTP status AWS uses for this code.
            pub fn status(self) -> StatusCode {
                match self { $(S3ErrorCode::$name => StatusCode::from_u16($status).expect("valid status"),)* }
            }
            /// AWS's default message for this code.
            pub fn default_message(self) -> &'static str {
                match self { $(S3ErrorCode::$name => $msg,)* }
            }
        }
    };
}

error_codes! {
    AccessControlListNotSupported => (400, "The bucket does not allow ACLs");
    AccessDenied => (403, "Access Denied");
    AccessForbidden => (403, "Access Forbidden");
    AuthorizationHeaderMalformed => (400, "The authorization header that you provided is not valid.");
    AuthorizationQueryParametersError => (400, "Error parsing the query parameters.");
    BadDigest => (400, "The Content-MD5 you specified did not match what we received.");
    BadRequest => (400, "Bad Request");
    BucketAlreadyExists => (409, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.");
    BucketAlreadyOwnedByYou => (409, "Your previous request to create the named bucket succeeded and you already own it.");
    BucketNotEmpty => (409, "The bucket you tried to delete is not empty");
    ConditionalRequestConflict => (409, "The conditional request cannot succeed due to a conflicting operation against this resource.");
    EntityTooLarge => (400, "Your proposed upload exceeds the maximum allowed size");
    EntityTooSmall => (400, "Your proposed upload is smaller than the minimum allowed object size.");
    IllegalVersioningConfigurationException => (400, "The Versioning element must be specified");
    IllegalLocationConstraintException => (400, "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.");
    PermanentRedirect => (301, "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.");
    IncompleteBody => (400, "You did not provide the number of bytes specified by the Content-Length HTTP header.");
    InternalError => (500, "We encountered an internal error. Please try again.");
    InvalidAccessKeyId => (403, "The AWS Access Key Id you provided does not exist in our records.");
    InvalidArgument => (400, "Invalid Argument");
    InvalidBucketAclWithBlockPublicAccessError => (400, "Bucket cannot have public ACLs set with BlockPublicAccess enabled");
    InvalidBucketAclWithObjectOwnership => (400, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting");
    InvalidBucketName => (400, "The specified bucket is not valid.");
    InvalidChunkSizeError => (403, "Only the last chunk is allowed to have a size less than 8192 bytes");
    InvalidDigest => (400, "The Content-MD5 you specified is not valid.");
    InvalidLocationConstraint => (400, "The specified location-constraint is not valid");
    InvalidPart => (400, "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.");
    InvalidPartNumber => (416, "The requested partnumber is not satisfiable");
    InvalidPartOrder => (400, "The list of parts was not in ascending order. Parts must be ordered by part number.");
    InvalidPolicyDocument => (400, "The content of the form does not meet the conditions specified in the policy document.");
    InvalidRange => (416, "The requested range is not satisfiable");
    InvalidRequest => (400, "Invalid Request");
    // The message depends on the check (crate::tagging); this one is the value's.
    InvalidTag => (400, "The TagValue you have provided is invalid");
    InvalidStorageClass => (400, "The storage class you specified is not valid");
    InvalidToken => (400, "The provided token is malformed or otherwise invalid.");
    // romange/helio#15 (full HTTP response), mountpoint-s3 parse_400_expired_token.
    ExpiredToken => (400, "The provided token has expired.");
    InvalidURI => (400, "Couldn't parse the specified URI.");
    KeyTooLongError => (400, "Your key is too long");
    MalformedACLError => (400, "The XML you provided was not well-formed or did not validate against our published schema");
    MalformedPolicy => (400, "Policies must be valid JSON and the first byte must be '{'");
    MalformedPOSTRequest => (400, "The body of your POST request is not well-formed multipart/form-data.");
    MalformedTrailerError => (400, "The request contained trailing data that was not well-formed or did not conform to our published schema.");
    MalformedXML => (400, "The XML you provided was not well-formed or did not validate against our published schema");
    MaxPostPreDataLengthExceededError => (400, "Your POST request fields preceding the upload file were too large.");
    MetadataTooLarge => (400, "Your metadata headers exceed the maximum allowed metadata size");
    MissingRequestBodyError => (400, "Request Body is empty");
    MethodNotAllowed => (405, "The specified method is not allowed against this resource.");
    MissingContentLength => (411, "You must provide the Content-Length HTTP header.");
    MissingSecurityHeader => (400, "Your request is missing a required header.");
    NoSuchBucket => (404, "The specified bucket does not exist");
    NoSuchBucketPolicy => (404, "The bucket policy does not exist");
    NoSuchCORSConfiguration => (404, "The CORS configuration does not exist");
    NoSuchKey => (404, "The specified key does not exist.");
    NoSuchPublicAccessBlockConfiguration => (404, "The public access block configuration was not found");
    NoSuchTagSet => (404, "The TagSet does not exist");
    NoSuchUpload => (404, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.");
    NoSuchVersion => (404, "The specified version does not exist.");
    NotImplemented => (501, "A header you provided implies functionality that is not implemented");
    NotModified => (304, "Not Modified");
    OwnershipControlsNotFoundError => (404, "The bucket ownership controls were not found");
    PreconditionFailed => (412, "At least one of the pre-conditions you specified did not hold");
    RequestHeaderSectionTooLarge => (400, "Your request header section exceeds the maximum allowed size.");
    RequestTimeout => (400, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.");
    RequestTimeTooSkewed => (403, "The difference between the request time and the current time is too large.");
    SignatureDoesNotMatch => (403, "The request signature we calculated does not match the signature you provided. Check your key and signing method.");
    UnexpectedContent => (400, "This request does not support content");
    UnresolvableGrantByEmailAddress => (400, "The e-mail address you provided does not match any account on record.");
    XAmzContentSHA256Mismatch => (400, "The provided 'x-amz-content-sha256' header does not match what was computed.");
}

/// A failed request: the S3 code, the message, and the evidence AWS (and we) add.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Error {
    pub code: S3ErrorCode,
    pub message: Cow<'static, str>,
    /// Extra elements after `<Message>`, in order (e.g. `StringToSign`, `ServerTime`).
    pub extra: Vec<(&'static str, String)>,
    /// Why, in more words than AWS gives: which check failed and with what values.
    /// Shown in the log line; the explanation issue adds it to the wire.
    pub reason: Option<String>,
    /// Extra response headers (e.g. `Allow` for 405).
    pub headers: Vec<(&'static str, String)>,
    /// The authentication check that refused the request, when one did (set where the
    /// typed `auth::AuthError` becomes an `S3Error`, and by the payload verifiers).
    pub check: Option<Check>,
}

/// The authentication checks in the order the server runs them. An error raised by one
/// carries it, so the log and the inspector name the failed check from a value, never
/// from the words of the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Check {
    /// The mechanism's parameters are present, single and well-formed.
    Parameters,
    CredentialScope,
    AccessKey,
    /// Clock skew, or a presigned URL's validity window.
    Time,
    SecurityToken,
    SignedHeaders,
    Signature,
    /// Whether the caller may perform the operation (`crate::access`).
    Access,
    /// The body against what the signature promised (hash, chunk signatures, trailer).
    Payload,
}

impl Check {
    pub const ALL: [Check; 9] = [
        Check::Parameters,
        Check::CredentialScope,
        Check::AccessKey,
        Check::Time,
        Check::SecurityToken,
        Check::SignedHeaders,
        Check::Signature,
        Check::Access,
        Check::Payload,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Check::Parameters => "parameters",
            Check::CredentialScope => "credential scope",
            Check::AccessKey => "access key",
            Check::Time => "time",
            Check::SecurityToken => "security token",
            Check::SignedHeaders => "signed headers",
            Check::Signature => "signature",
            Check::Access => "access",
            Check::Payload => "payload",
        }
    }
}

impl S3Error {
    /// An error with AWS's default message for `code`.
    pub fn new(code: S3ErrorCode) -> Self {
        S3Error {
            code,
            message: Cow::Borrowed(code.default_message()),
            extra: Vec::new(),
            reason: None,
            headers: Vec::new(),
            check: None,
        }
    }

    /// An error with a specific message (AWS varies the message per cause for many codes).
    pub fn with_message(code: S3ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        S3Error {
            message: message.into(),
            ..S3Error::new(code)
        }
    }

    /// Adds an extra XML element, as AWS does for codes such as `SignatureDoesNotMatch`.
    pub fn extra(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.extra.push((name, value.into()));
        self
    }

    /// Records why the check failed, with the values involved.
    pub fn reason(mut self, reason: impl Into<String>) -> Self {
        self.reason = Some(reason.into());
        self
    }

    /// Marks the error as raised by an authentication check.
    pub fn at(mut self, check: Check) -> Self {
        self.check = Some(check);
        self
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    /// `InvalidArgument` with the `ArgumentName`/`ArgumentValue` elements AWS adds.
    pub fn invalid_argument(
        message: impl Into<Cow<'static, str>>,
        name: &str,
        value: impl Into<String>,
    ) -> Self {
        S3Error::with_message(S3ErrorCode::InvalidArgument, message)
            .extra("ArgumentName", name)
            .extra("ArgumentValue", value)
    }

    /// An internal failure (I/O). Logged with its cause; never expected in normal use.
    pub fn internal(cause: impl fmt::Display) -> Self {
        S3Error::new(S3ErrorCode::InternalError).reason(cause.to_string())
    }

    pub fn no_such_bucket(bucket: &str) -> Self {
        S3Error::new(S3ErrorCode::NoSuchBucket).extra("BucketName", bucket)
    }

    pub fn no_such_key(key: &str) -> Self {
        S3Error::new(S3ErrorCode::NoSuchKey).extra("Key", key)
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }
}

impl fmt::Debug for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("S3Error");
        d.field("code", &self.code.as_str())
            .field("message", &self.message);
        if !self.extra.is_empty() {
            d.field("extra", &self.extra);
        }
        if let Some(r) = &self.reason {
            d.field("reason", r);
        }
        d.finish()
    }
}

impl fmt::Display for S3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)?;
        if let Some(r) = &self.reason {
            write!(f, " ({r})")?;
        }
        Ok(())
    }
}

impl std::error::Error for S3Error {}

impl From<std::io::Error> for S3Error {
    fn from(e: std::io::Error) -> Self {
        S3Error::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_rows_have_aws_statuses() {
        assert_eq!(S3ErrorCode::NoSuchKey.status(), StatusCode::NOT_FOUND);
        assert_eq!(S3ErrorCode::InvalidRange.status().as_u16(), 416);
        assert_eq!(S3ErrorCode::MissingContentLength.status().as_u16(), 411);
        assert_eq!(S3ErrorCode::SignatureDoesNotMatch.status().as_u16(), 403);
        assert_eq!(S3ErrorCode::NotImplemented.status().as_u16(), 501);
        assert_eq!(S3ErrorCode::AccessDenied.as_str(), "AccessDenied");
    }
}
