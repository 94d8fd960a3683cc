//! The authorization stage: may this caller perform this operation on this resource?
//!
//! A presigned URL or a POST form is only as powerful as its signer: the request's
//! action(s) and resource(s) ([`required`], the table of "Actions, resources, and
//! condition keys for Amazon S3"; evidence in `docs/permissions-evidence.md` §5) are
//! evaluated at request time against the signer's identity, so taking a permission away
//! stops URLs already handed out, as on AWS. The root user of the account that owns the
//! buckets may do everything; an IAM user may do what its identity policy allows, and a
//! user without one nothing. An explicit Deny wins over any Allow.

use std::net::SocketAddr;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::{AuthKind, Authenticated};
use crate::error::{S3Error, S3ErrorCode};
use crate::identity::Identity;
use crate::ops::{BucketOp, ObjectOp, Op};
use crate::policy::{Context, Request, Verdict};
use crate::request::S3Request;

/// The caller and the request's condition keys, decided once per request.
pub struct Access {
    identity: Option<Arc<Identity>>,
    context: Context,
}

/// `arn:aws:s3:::bucket`.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// `arn:aws:s3:::bucket/key`.
pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

/// The S3 actions an operation needs, each on its resource. DeleteObjects needs
/// `s3:DeleteObject` per key, checked by the operation as it reads the keys.
pub fn required(op: &Op<'_>, req: &S3Request) -> Vec<(&'static str, String)> {
    let acl = req.headers.contains_key("x-amz-acl")
        || req
            .headers
            .keys()
            .any(|k| k.as_str().starts_with("x-amz-grant-"));
    match *op {
        Op::ListBuckets => vec![("s3:ListAllMyBuckets", "*".to_string())],
        Op::Bucket(bucket, op) => {
            let action = match op {
                BucketOp::CreateBucket => "s3:CreateBucket",
                BucketOp::DeleteBucket => "s3:DeleteBucket",
                BucketOp::HeadBucket | BucketOp::ListObjects | BucketOp::ListObjectsV2 => {
                    "s3:ListBucket"
                }
                BucketOp::GetBucketLocation => "s3:GetBucketLocation",
                BucketOp::DeleteObjects => return Vec::new(),
                BucketOp::ListMultipartUploads => "s3:ListBucketMultipartUploads",
                // The form's key is checked by the operation, once it is known.
                BucketOp::PostObject => return Vec::new(),
                BucketOp::PutBucketCors | BucketOp::DeleteBucketCors => "s3:PutBucketCORS",
                BucketOp::GetBucketCors => "s3:GetBucketCORS",
            };
            vec![(action, bucket_arn(bucket))]
        }
        Op::Object { bucket, key, op } => {
            let target = object_arn(bucket, key);
            let source = || copy_source(req).map(|(b, k)| object_arn(&b, &k));
            let mut out = match op {
                ObjectOp::PutObject
                | ObjectOp::CreateMultipartUpload
                | ObjectOp::UploadPart
                | ObjectOp::CompleteMultipartUpload => vec![("s3:PutObject", target.clone())],
                ObjectOp::CopyObject | ObjectOp::UploadPartCopy => {
                    let mut v = Vec::new();
                    if let Some(src) = source() {
                        v.push(("s3:GetObject", src));
                    }
                    v.push(("s3:PutObject", target.clone()));
                    v
                }
                ObjectOp::GetObject | ObjectOp::HeadObject => {
                    vec![("s3:GetObject", target.clone())]
                }
                ObjectOp::DeleteObject => vec![("s3:DeleteObject", target.clone())],
                ObjectOp::AbortMultipartUpload => vec![("s3:AbortMultipartUpload", target.clone())],
                ObjectOp::ListParts => vec![("s3:ListMultipartUploadParts", target.clone())],
            };
            if acl
                && matches!(
                    op,
                    ObjectOp::PutObject | ObjectOp::CopyObject | ObjectOp::CreateMultipartUpload
                )
            {
                out.push(("s3:PutObjectAcl", target));
            }
            out
        }
    }
}

/// `x-amz-copy-source` as (bucket, key): `bucket/key` or `/bucket/key`, URL-encoded,
/// `?versionId=` ignored.
fn copy_source(req: &S3Request) -> Option<(String, String)> {
    let raw = req.header("x-amz-copy-source")?;
    let raw = raw.split_once('?').map_or(raw, |(p, _)| p);
    let decoded = crate::request::decode_component(raw.trim_start_matches('/')).ok()?;
    let (b, k) = decoded.split_once('/')?;
    Some((b.to_string(), k.to_string()))
}

impl Access {
    /// The caller's identity and the request's condition keys.
    pub fn new(
        who: &Authenticated,
        req: &S3Request,
        now: OffsetDateTime,
        peer: Option<SocketAddr>,
    ) -> Access {
        Access {
            identity: who.identity.clone(),
            context: context(who, req, now, peer),
        }
    }

    /// `Ok` when the caller may perform `action` on `resource`; otherwise AWS's 403,
    /// with the statement that denied it or the fact that none allowed it.
    pub fn check(&self, action: &str, resource: &str) -> Result<(), S3Error> {
        let Some(identity) = &self.identity else {
            return Err(crate::auth::error::anonymous());
        };
        let Identity::User { policy, .. } = &**identity else {
            return Ok(());
        };
        let request = Request {
            action,
            resource,
            context: &self.context,
        };
        let arn = identity.arn();
        let (verdict, miss) = match policy {
            Some(p) => p.evaluate(&request),
            None => (Verdict::NotApplicable, None),
        };
        let (because, reason) = match verdict {
            Verdict::Allow(_) => return Ok(()),
            Verdict::Deny(s) => (
                "with an explicit deny in an identity-based policy".to_string(),
                format!(
                    "{arn} may not perform {action} on {resource}: {} of its identity policy denies it",
                    s.label()
                ),
            ),
            Verdict::NotApplicable => (
                format!("because no identity-based policy allows the {action} action"),
                match (policy, miss) {
                    (None, _) => format!(
                        "{arn} has no identity policy (--user NAME:KEY:SECRET:POLICY_FILE), and an IAM user without one may do nothing"
                    ),
                    (Some(_), Some(miss)) => format!(
                        "{arn} may not perform {action} on {resource}: the closest allowing statement, {} of its identity policy, does not apply because {}",
                        miss.statement, miss.why
                    ),
                    (Some(_), None) => format!(
                        "{arn} may not perform {action} on {resource}: no statement of its identity policy allows that action on that resource"
                    ),
                },
            ),
        };
        // AWS's wording for requests within the account (since August 2024; real
        // bodies in docs/permissions-evidence.md §1.13).
        Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            format!("User: {arn} is not authorized to perform: {action} on resource: \"{resource}\" {because}"),
        )
        .reason(reason)
        .at(crate::error::Check::Access))
    }

    pub fn allows(&self, action: &str, resource: &str) -> bool {
        self.check(action, resource).is_ok()
    }
}

/// The request's condition keys (docs/permissions-evidence.md §4): present only when
/// the request carries them, as AWS sets them.
fn context(
    who: &Authenticated,
    req: &S3Request,
    now: OffsetDateTime,
    peer: Option<SocketAddr>,
) -> Context {
    let mut c = Context::default();
    c.set("aws:CurrentTime", crate::dates::iso(now));
    c.set("aws:EpochTime", now.unix_timestamp().to_string());
    c.set("aws:SecureTransport", "false");
    if let Some(peer) = peer {
        c.set("aws:SourceIp", peer.ip().to_string());
    }
    for (key, header) in [
        ("aws:UserAgent", "user-agent"),
        ("aws:Referer", "referer"),
        ("s3:x-amz-acl", "x-amz-acl"),
        ("s3:x-amz-copy-source", "x-amz-copy-source"),
        ("s3:x-amz-metadata-directive", "x-amz-metadata-directive"),
    ] {
        if let Some(v) = req.header(header) {
            c.set(key, v);
        }
    }
    for (key, param) in [("s3:prefix", "prefix"), ("s3:delimiter", "delimiter")] {
        if let Some(v) = req.query_param(param) {
            c.set(key, v);
        }
    }
    // "always present in the request when you perform the ListBucket operation".
    c.set("s3:max-keys", req.query_param("max-keys").unwrap_or("1000"));
    if let Some(identity) = &who.identity {
        c.set("aws:PrincipalArn", identity.arn());
        c.set("aws:PrincipalAccount", identity.account().id.clone());
        c.set("aws:userid", identity.userid());
        if let Some(name) = identity.username() {
            c.set("aws:username", name);
        }
    }
    let (auth_type, version) = match who.kind {
        AuthKind::V4Header => (Some("REST-HEADER"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V4Query => (Some("REST-QUERY-STRING"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V4Post => (Some("POST"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V2Header => (Some("REST-HEADER"), Some("AWS")),
        AuthKind::V2Query => (Some("REST-QUERY-STRING"), Some("AWS")),
        AuthKind::V2Post => (Some("POST"), Some("AWS")),
        AuthKind::Anonymous => (None, None),
    };
    if let (Some(t), Some(v)) = (auth_type, version) {
        c.set("s3:authType", t);
        c.set("s3:signatureversion", v);
    }
    // Presigned URLs and POST forms, in milliseconds; SigV2 "always set to 0".
    match (who.kind, who.signed_at) {
        (AuthKind::V4Query | AuthKind::V4Post, Some(at)) => {
            let age = (now - at).whole_milliseconds().max(0);
            c.set("s3:signatureAge", age.to_string());
        }
        (AuthKind::V2Query | AuthKind::V2Post, _) => c.set("s3:signatureAge", "0"),
        _ => {}
    }
    if who.kind == AuthKind::V4Header
        && let Some(v) = req.header("x-amz-content-sha256")
    {
        c.set("s3:x-amz-content-sha256", v);
    }
    c
}
