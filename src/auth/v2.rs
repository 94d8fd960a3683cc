//! Signature Version 2 verification: header and presigned-query requests, checked in
//! the same order as SigV4 (parameters, access key, time, token, signature) over the
//! string to sign of [`super::sigv2`].
//!
//! Still produced by boto3 and the JS SDK v2 for presigned URLs and POST forms in common
//! set-ups, so it is verified as strictly as SigV4.

use time::OffsetDateTime;

use super::error::{AuthError, MismatchV2};
use super::signing::Signature;
use super::sigv2::{StringToSignV2, bucket_slash_twin, sign_v2};
use super::{AuthKind, Authenticated, Authenticator, Claim, PayloadCheck, Window};
use crate::addressing::Address;
use crate::request::S3Request;

impl Authenticator {
    /// `Authorization: AWS AKID:base64signature`.
    pub(super) fn verify_v2_header<'a>(
        &self,
        req: &'a S3Request,
        addr: &Address,
        auth: &'a str,
        claim: &mut Claim<'a>,
    ) -> Result<Authenticated, AuthError> {
        let rest = &auth[4..];
        if rest.starts_with(' ') {
            return Err(AuthError::V2HeaderSpace {
                header: auth.to_string(),
            });
        }
        let (access_key, provided) = rest
            .rsplit_once(':')
            .filter(|(k, s)| !k.is_empty() && !s.is_empty())
            .ok_or_else(|| AuthError::V2HeaderMalformed {
                header: auth.to_string(),
            })?;
        claim.access_key = Some(access_key);
        let (raw_date, date) = v2_request_date(req)?;
        let cred = self.credential(
            access_key,
            req.header(crate::header_names::X_AMZ_SECURITY_TOKEN),
            None,
        )?;
        self.check_skew(&raw_date, date)?;
        let date_line = if req.headers.contains_key("x-amz-date") {
            String::new()
        } else {
            raw_date
        };
        let sts = StringToSignV2::from_request(req, addr, date_line);
        self.check_v2_signature(req, addr, &cred, provided, &sts, false)?;
        Ok(Authenticated::signed(
            AuthKind::V2Header,
            &cred,
            None,
            PayloadCheck::None,
        ))
    }

    /// `?AWSAccessKeyId=…&Expires=<epoch seconds>&Signature=…`.
    pub(super) fn verify_v2_query<'a>(
        &self,
        req: &'a S3Request,
        addr: &Address,
        claim: &mut Claim<'a>,
    ) -> Result<Authenticated, AuthError> {
        claim.access_key = req.query_param("AWSAccessKeyId");
        let (Some(access_key), Some(expires), Some(provided)) = (
            req.query_param("AWSAccessKeyId"),
            req.query_param("Expires"),
            req.query_param("Signature"),
        ) else {
            return Err(AuthError::V2QueryMissing);
        };
        let expires_at = expires
            .parse::<i64>()
            .ok()
            .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
            .ok_or_else(|| AuthError::V2BadExpires {
                got: expires.to_string(),
            })?;
        let now = self.clock.now();
        // SigV2 URLs carry no signing time: the window shown starts an hour before expiry
        // (the SDKs' default lifetime), or now if that is later.
        claim.window = Some(Window {
            signed_at: expires_at.saturating_sub(time::Duration::hours(1)).min(now),
            expires_at,
        });
        let token = req
            .query_param("x-amz-security-token")
            .or_else(|| req.header(crate::header_names::X_AMZ_SECURITY_TOKEN));
        let cred = self.credential(access_key, token, Some(expires_at))?;
        if now >= expires_at {
            return Err(AuthError::ExpiredV2 { expires_at, now });
        }
        let sts = StringToSignV2::from_request(req, addr, expires.to_string());
        self.check_v2_signature(req, addr, &cred, provided, &sts, true)?;
        Ok(Authenticated::signed(
            AuthKind::V2Query,
            &cred,
            None,
            PayloadCheck::None,
        ))
    }
}

/// `x-amz-date` or `Date`, as an HTTP date.
fn v2_request_date(req: &S3Request) -> Result<(String, OffsetDateTime), AuthError> {
    let raw = req
        .header(crate::header_names::X_AMZ_DATE)
        .or_else(|| req.header(http::header::DATE))
        .ok_or(AuthError::MissingDate { detail: None })?;
    let t = crate::dates::parse_http_date(raw).ok_or_else(|| AuthError::MissingDate {
        detail: Some(format!(
            "{raw:?} is not an HTTP date (RFC 1123 like \"Wed, 02 Dec 2026 00:51:07 GMT\", with GMT, UTC or a ±hhmm offset; RFC 850; asctime)"
        )),
    })?;
    Ok((raw.to_string(), t))
}

impl Authenticator {
    /// Constant-time comparison against the string to sign and, for a path-style bucket
    /// request, its twin with the bucket's trailing slash toggled: botocore signs `/bucket/`
    /// for the path `/bucket` ("the trailing slash is needed for S3 to accept it", its own
    /// comment) while other clients sign `/bucket` (S3 accepting it: minio/mc#1579), so
    /// S3 takes both. On failure the diagnosis names the one change that fits, if any.
    fn check_v2_signature(
        &self,
        req: &S3Request,
        addr: &Address,
        cred: &crate::config::Credential,
        provided: &str,
        sts: &StringToSignV2,
        query: bool,
    ) -> Result<(), AuthError> {
        let secret = cred.secret_key.expose();
        let provided_sig = Signature::from_base64(provided);
        let fits =
            |sts: &StringToSignV2| provided_sig.is_some_and(|p| p.matches(&sign_v2(secret, sts)));
        if fits(sts) || bucket_slash_twin(addr, sts).is_some_and(|twin| fits(&twin)) {
            return Ok(());
        }
        let diagnosis = provided_sig.and_then(|provided| {
            super::diagnose_v2::diagnose(&super::diagnose_v2::AttemptV2 {
                req,
                addr,
                sts,
                secret,
                access_key: &cred.access_key,
                provided,
                query,
                config: &self.config,
            })
        });
        Err(AuthError::SignatureMismatchV2(Box::new(MismatchV2 {
            access_key: cred.access_key.to_string(),
            provided: provided.to_string(),
            string_to_sign: sts.to_string(),
            string_to_sign_bytes: sts.to_bytes(),
            diagnosis,
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addressing::Style;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD as BASE64;
    use http::{HeaderMap, HeaderValue, Method};

    fn request(method: Method, path: &str, query: &str, headers: &[(&str, &str)]) -> S3Request {
        let mut h = HeaderMap::new();
        for (k, v) in headers {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        S3Request::new(method, path, Some(query), h, "r".into()).unwrap()
    }

    /// The worked example of the S3 developer guide ("Signing and authenticating REST
    /// requests", Object GET): secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY.
    #[test]
    fn reproduces_the_documented_get_example() {
        let req = request(
            Method::GET,
            "/photos/puppy.jpg",
            "",
            &[
                ("host", "awsexamplebucket1.us-west-1.s3.amazonaws.com"),
                ("date", "Tue, 27 Mar 2007 19:36:42 +0000"),
            ],
        );
        let addr = Address {
            region: None,
            style: Style::VirtualHosted,
            target: crate::addressing::Target::Object {
                bucket: "awsexamplebucket1".into(),
                key: "photos/puppy.jpg".into(),
            },
        };
        let sts =
            StringToSignV2::from_request(&req, &addr, "Tue, 27 Mar 2007 19:36:42 +0000".into());
        assert_eq!(
            sts.to_string(),
            "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/awsexamplebucket1/photos/puppy.jpg"
        );
        let sig = sign_v2("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", &sts);
        assert_eq!(
            BASE64.encode(sig.as_bytes()),
            "qgk2+6Sv9/oM7G3qLEjTH1a1l1g="
        );
    }

    #[test]
    fn amz_headers_and_subresources_are_canonicalised() {
        let req = request(
            Method::PUT,
            "/bkt/k",
            "uploadId=abc&partNumber=2&foo=bar&acl",
            &[
                ("x-amz-meta-b", " 2 "),
                ("x-amz-meta-a", "1"),
                ("x-amz-meta-a", "3"),
                ("content-type", "text/plain"),
            ],
        );
        let addr = crate::addressing::resolve(&req, &[], 1024).unwrap();
        let sts = StringToSignV2::from_request(&req, &addr, "123".into());
        assert_eq!(
            sts.to_string(),
            "PUT\n\ntext/plain\n123\nx-amz-meta-a:1,3\nx-amz-meta-b:2\n/bkt/k?acl&partNumber=2&uploadId=abc"
        );
    }

    /// A presigned URL's `x-amz-*` query parameters are signed as headers (a session
    /// token), once when the header is sent too.
    #[test]
    fn presigned_amz_query_parameters_count_as_headers() {
        let req = request(
            Method::PUT,
            "/bkt/k",
            "AWSAccessKeyId=AK&Expires=123&Signature=x&x-amz-security-token=tok&x-amz-meta-owner=me",
            &[("x-amz-meta-owner", "me")],
        );
        let addr = crate::addressing::resolve(&req, &[], 1024).unwrap();
        let sts = StringToSignV2::from_request(&req, &addr, "123".into());
        assert_eq!(
            sts.to_string(),
            "PUT\n\n\n123\nx-amz-meta-owner:me\nx-amz-security-token:tok\n/bkt/k"
        );
    }
}
