//! SigV4 for the STS endpoint: the same checks as S3's, in the same order, with the
//! service `sts` in the credential scope and the payload hash computed from the form
//! body (SDKs sign STS's body without sending `x-amz-content-sha256`). The STS endpoint
//! turns the [`AuthError`]s into STS's own codes.

use sha2::{Digest, Sha256};

use super::error::{AuthError, Via};
use super::params::{ALGORITHM_V4, AmzDate, CredentialScope, V4Header, V4Query};
use super::sigv4::CanonicalRequest;
use super::verify::{check_scope, check_signature, check_signed_headers, request_date};
use super::{AuthKind, Authenticated, Authenticator, PayloadCheck};
use crate::request::S3Request;

/// The signing name of STS.
pub const SERVICE: &str = "sts";

impl Authenticator {
    /// Verifies an STS request signed in its `Authorization` header or as a presigned
    /// query (how `GetCallerIdentity` URLs are handed to other services). `Ok(None)`: it
    /// is not signed at all.
    pub fn verify_sts(
        &self,
        req: &S3Request,
        body: &[u8],
    ) -> Result<Option<Authenticated>, AuthError> {
        super::check_single_parts(req)?;
        let region = crate::regions::Expected::Any {
            default: &self.config.region,
        };
        match super::detect(req) {
            AuthKind::V4Header => {
                let auth = req.header(http::header::AUTHORIZATION).unwrap_or_default();
                let header = V4Header::parse(auth)?;
                let (date_text, date) = request_date(req)?;
                let sent = req
                    .header(crate::header_names::X_AMZ_DATE)
                    .or_else(|| req.header(http::header::DATE))
                    .unwrap_or(&date_text);
                let amz = AmzDate {
                    raw: &date_text,
                    time: date,
                };
                check_scope(&header.credential, amz.day(), region, Via::Header, SERVICE)?;
                let token = req.header(crate::header_names::X_AMZ_SECURITY_TOKEN);
                let cred = self.credential(header.credential.access_key, token, None)?;
                self.check_skew(sent, date)?;
                check_signed_headers(req, header.signed_headers)?;
                let payload = hex::encode(Sha256::digest(body));
                let key = self.signing_key(&header.credential, &cred);
                let canonical =
                    CanonicalRequest::from_request(req, header.signed_headers, &payload, None);
                check_signature(
                    self,
                    req,
                    &key,
                    header.signature,
                    &header.credential,
                    amz.raw,
                    &canonical,
                )?;
                Ok(Some(Authenticated::signed(
                    AuthKind::V4Header,
                    &cred,
                    Some(date),
                    PayloadCheck::None,
                )))
            }
            AuthKind::V4Query => {
                let q = V4Query::parse(&req.query)?;
                if q.algorithm != ALGORITHM_V4 {
                    return Err(AuthError::BadAlgorithm {
                        got: q.algorithm.to_string(),
                    });
                }
                let expires: u64 = q.expires.parse().map_err(|_| AuthError::ExpiresNotNumber {
                    got: q.expires.to_string(),
                })?;
                let amz = AmzDate::parse(q.date).ok_or_else(|| AuthError::BadQueryDate {
                    got: q.date.to_string(),
                })?;
                let scope =
                    CredentialScope::parse(q.credential).ok_or(AuthError::CredentialMalformed {
                        via: Via::Query,
                        empty_key: false,
                    })?;
                check_scope(&scope, amz.day(), region, Via::Query, SERVICE)?;
                let url_expires = amz
                    .time
                    .saturating_add(time::Duration::seconds(expires.min(604_800) as i64));
                let cred =
                    self.credential(scope.access_key, q.security_token, Some(url_expires))?;
                self.check_validity_window(amz.time, expires)?;
                check_signed_headers(req, q.signed_headers)?;
                let payload = hex::encode(Sha256::digest(body));
                let key = self.signing_key(&scope, &cred);
                let canonical = CanonicalRequest::from_request(
                    req,
                    q.signed_headers,
                    &payload,
                    Some("X-Amz-Signature"),
                );
                check_signature(self, req, &key, q.signature, &scope, amz.raw, &canonical)?;
                Ok(Some(Authenticated::signed(
                    AuthKind::V4Query,
                    &cred,
                    Some(amz.time),
                    PayloadCheck::None,
                )))
            }
            AuthKind::Anonymous => Ok(None),
            // SigV2 is not accepted by STS.
            _ => Err(AuthError::Sigv2Refused),
        }
    }
}
