//! Parsing the signature parameters off the wire: syntax only, no secrets, no clock.
//!
//! Each parser returns a typed value ([`AmzDate`], [`CredentialScope`], [`V4Header`],
//! [`V4Query`]) or the exact S3 error for that malformation. The messages quote AWS
//! (see `docs/aws-evidence.md`, sections 1, 2 and 6).

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime};

use super::error::{AuthError, Via};

pub const ALGORITHM_V4: &str = "AWS4-HMAC-SHA256";
pub const TERMINATOR: &str = "aws4_request";

const AMZ_DATE: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");
const SCOPE_DATE: &[BorrowedFormatItem<'static>] = format_description!("[year][month][day]");

/// An `X-Amz-Date` / `x-amz-date` value: `yyyyMMdd'T'HHmmss'Z'`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmzDate<'a> {
    pub raw: &'a str,
    pub time: OffsetDateTime,
}

impl<'a> AmzDate<'a> {
    pub fn parse(raw: &'a str) -> Option<AmzDate<'a>> {
        if raw.len() != 16 {
            return None;
        }
        let t = PrimitiveDateTime::parse(raw, AMZ_DATE).ok()?;
        Some(AmzDate {
            raw,
            time: t.assume_utc(),
        })
    }

    /// The `yyyyMMdd` day the credential scope must name.
    pub fn day(&self) -> &'a str {
        &self.raw[..8]
    }
}

/// `AKID/yyyyMMdd/region/service/aws4_request`, borrowed from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredentialScope<'a> {
    /// The whole credential as sent.
    pub raw: &'a str,
    pub access_key: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub terminator: &'a str,
}

impl<'a> CredentialScope<'a> {
    /// Splits on `/`. The access key may not contain `/`; the credential must have five parts.
    pub fn parse(raw: &'a str) -> Option<CredentialScope<'a>> {
        let mut parts = raw.split('/');
        let scope = CredentialScope {
            raw,
            access_key: parts.next()?,
            date: parts.next()?,
            region: parts.next()?,
            service: parts.next()?,
            terminator: parts.next()?,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(scope)
    }

    /// `yyyyMMdd/region/service/aws4_request`: the scope line of the string to sign.
    pub fn scope(&self) -> &'a str {
        &self.raw[self.access_key.len() + 1..]
    }

    /// `AKID/yyyyMMdd/region/service`: the signing-key cache key.
    pub fn key_id(&self) -> &'a str {
        &self.raw[..self.raw.len() - self.terminator.len() - 1]
    }

    pub fn date_is_valid(&self) -> bool {
        self.date.len() == 8 && Date::parse(self.date, SCOPE_DATE).is_ok()
    }
}

/// A parsed `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Header<'a> {
    pub credential: CredentialScope<'a>,
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

impl<'a> V4Header<'a> {
    /// Parses the part after the algorithm name. Components are separated by `,` with
    /// optional spaces; each must be `Name=value` with a known name and a non-empty value.
    pub fn parse(header: &'a str) -> Result<V4Header<'a>, AuthError> {
        let rest = header
            .strip_prefix(ALGORITHM_V4)
            .filter(|r| r.starts_with(' '))
            .ok_or_else(|| AuthError::UnsupportedAuthorizationType {
                header: header.to_string(),
            })?;
        let (mut credential, mut signed, mut signature) = (None, None, None);
        for component in rest[1..].split(',') {
            let trimmed = component.trim();
            let (name, value) = trimmed
                .split_once('=')
                .filter(|(_, v)| !v.is_empty())
                .ok_or_else(|| AuthError::HeaderComponentMalformed {
                    component: component.to_string(),
                })?;
            let slot = match name {
                "Credential" => &mut credential,
                "SignedHeaders" => &mut signed,
                "Signature" => &mut signature,
                _ => {
                    return Err(AuthError::HeaderComponentMalformed {
                        component: component.to_string(),
                    });
                }
            };
            *slot = Some(value);
        }
        let (Some(credential), Some(signed_headers), Some(signature)) =
            (credential, signed, signature)
        else {
            return Err(AuthError::HeaderMissingComponents);
        };
        let credential =
            CredentialScope::parse(credential).ok_or(AuthError::CredentialMalformed {
                via: Via::Header,
                empty_key: false,
            })?;
        Ok(V4Header {
            credential,
            signed_headers,
            signature,
        })
    }
}

/// The presigned-URL parameters (`X-Amz-*`), borrowed from the decoded query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V4Query<'a> {
    pub algorithm: &'a str,
    pub credential: &'a str,
    pub date: &'a str,
    pub expires: &'a str,
    pub signed_headers: &'a str,
    pub signature: &'a str,
    pub security_token: Option<&'a str>,
}

impl<'a> V4Query<'a> {
    /// Collects the six required parameters; a missing (or repeated) one is the single
    /// AWS error that lists them all.
    pub fn parse(query: &'a [(String, String)]) -> Result<V4Query<'a>, AuthError> {
        let get = |name: &'static str| -> Result<Option<&'a str>, AuthError> {
            let mut values = query.iter().filter(|(k, _)| k == name);
            let first = values.next().map(|(_, v)| v.as_str());
            if values.next().is_some() {
                return Err(AuthError::DuplicateQueryParam { name });
            }
            Ok(first)
        };
        let req = |name: &'static str| -> Result<&'a str, AuthError> {
            get(name)?.ok_or(AuthError::QueryParamsMissing { name })
        };
        Ok(V4Query {
            algorithm: req("X-Amz-Algorithm")?,
            credential: req("X-Amz-Credential")?,
            signature: req("X-Amz-Signature")?,
            date: req("X-Amz-Date")?,
            signed_headers: req("X-Amz-SignedHeaders")?,
            expires: req("X-Amz-Expires")?,
            security_token: get("X-Amz-Security-Token")?,
        })
    }
}

/// The payload modes `x-amz-content-sha256` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadHash<'a> {
    /// A hex SHA-256 of the body, to be checked as it streams.
    Sha256(&'a str),
    Unsigned,
    /// `aws-chunked` bodies: signed or not, with or without trailing headers.
    Streaming {
        signed: bool,
        trailer: bool,
    },
    /// The ECDSA (SigV4a) streaming variants: recognised, not supported.
    StreamingEcdsa,
}

impl<'a> PayloadHash<'a> {
    pub fn parse(v: &'a str) -> Option<PayloadHash<'a>> {
        Some(match v {
            "UNSIGNED-PAYLOAD" => PayloadHash::Unsigned,
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" => PayloadHash::Streaming {
                signed: true,
                trailer: false,
            },
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER" => PayloadHash::Streaming {
                signed: true,
                trailer: true,
            },
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER" => PayloadHash::Streaming {
                signed: false,
                trailer: true,
            },
            "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
            | "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER" => PayloadHash::StreamingEcdsa,
            h if h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()) => {
                PayloadHash::Sha256(h)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{S3Error, S3ErrorCode};

    const AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";

    #[test]
    fn parses_the_documented_header() {
        let h = V4Header::parse(AUTH).unwrap();
        assert_eq!(h.credential.access_key, "AKIAIOSFODNN7EXAMPLE");
        assert_eq!(h.credential.scope(), "20130524/us-east-1/s3/aws4_request");
        assert_eq!(
            h.credential.key_id(),
            "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3"
        );
        assert_eq!(
            h.signed_headers,
            "host;range;x-amz-content-sha256;x-amz-date"
        );
        // Spaces after commas are allowed.
        let spaced = AUTH.replace(",S", ", S");
        assert_eq!(V4Header::parse(&spaced).unwrap(), h);
    }

    #[test]
    fn malformed_headers_get_aws_errors() {
        let cases: &[(&str, S3ErrorCode, &str)] = &[
            (
                "Bearer abc",
                S3ErrorCode::InvalidArgument,
                "Unsupported Authorization Type",
            ),
            (
                "AWS4-HMAC-SHA25 Credential=a",
                S3ErrorCode::InvalidArgument,
                "Unsupported Authorization Type",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host",
                S3ErrorCode::AuthorizationHeaderMalformed,
                "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=",
                S3ErrorCode::AuthorizationHeaderMalformed,
                "The authorization header is malformed; the authorization component \" Signature=\" is malformed.",
            ),
            (
                "AWS4-HMAC-SHA256 Credential=AK/20130524/us-east-1/s3, SignedHeaders=host, Signature=abc",
                S3ErrorCode::AuthorizationHeaderMalformed,
                "The authorization header is malformed; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
            ),
        ];
        for (header, code, message) in cases {
            let err = S3Error::from(V4Header::parse(header).unwrap_err());
            assert_eq!(
                (err.code, err.message.as_ref()),
                (*code, *message),
                "{header}"
            );
        }
    }

    #[test]
    fn dates_and_scopes() {
        let d = AmzDate::parse("20130524T000000Z").unwrap();
        assert_eq!(d.day(), "20130524");
        assert_eq!(d.time.unix_timestamp(), 1_369_353_600);
        for bad in [
            "20130524T000000",
            "2013-05-24T00:00:00Z",
            "20131324T000000Z",
            "",
            "20130524T000000Z ",
        ] {
            assert!(AmzDate::parse(bad).is_none(), "{bad}");
        }
        assert!(CredentialScope::parse("a/b/c/d").is_none());
        assert!(CredentialScope::parse("a/b/c/d/e/f").is_none());
        assert!(
            !CredentialScope::parse("a/2013052/c/d/e")
                .unwrap()
                .date_is_valid()
        );
    }

    #[test]
    fn payload_hash_values() {
        assert_eq!(
            PayloadHash::parse("UNSIGNED-PAYLOAD"),
            Some(PayloadHash::Unsigned)
        );
        assert!(matches!(
            PayloadHash::parse("STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            Some(PayloadHash::Streaming {
                signed: false,
                trailer: true
            })
        ));
        assert!(PayloadHash::parse(&"e3".repeat(32)).is_some());
        assert!(PayloadHash::parse("nope").is_none());
        assert!(PayloadHash::parse(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn query_params_must_all_be_present_once() {
        let q = |s: &str| crate::request::parse_query(s).unwrap();
        let full = q(
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=d&X-Amz-Expires=1&X-Amz-SignedHeaders=host&X-Amz-Signature=s",
        );
        assert!(V4Query::parse(&full).is_ok());
        let missing = q("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a&X-Amz-Date=d");
        assert_eq!(
            S3Error::from(V4Query::parse(&missing).unwrap_err()).code,
            S3ErrorCode::AuthorizationQueryParametersError
        );
        let mut dup = full.clone();
        dup.push(("X-Amz-Signature".into(), "t".into()));
        assert_eq!(
            S3Error::from(V4Query::parse(&dup).unwrap_err()).code,
            S3ErrorCode::AuthorizationQueryParametersError
        );
    }
}
