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
    /// Built only when a policy will read it (an IAM user's request): the root user's
    /// requests, the common case, cost no allocation here.
    context: Option<Context>,
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
        let context = match who.identity.as_deref() {
            Some(Identity::User { policy, .. }) => {
                let keys = policy.as_ref().map_or(&[][..], |p| p.keys.as_slice());
                Some(context(who, req, now, peer, keys))
            }
            _ => None,
        };
        Access {
            identity: who.identity.clone(),
            context,
        }
    }

    /// Whether every action is allowed without evaluation (the account's root user).
    pub fn unrestricted(&self) -> bool {
        matches!(self.identity.as_deref(), Some(Identity::Root(_)))
    }

    /// `Ok` when the caller may perform `action` on `resource`; otherwise AWS's 403,
    /// with the statement that denied it or the fact that none allowed it.
    pub fn check(&self, action: &str, resource: &str) -> Result<(), S3Error> {
        let Some(identity) = &self.identity else {
            return Err(crate::auth::error::anonymous());
        };
        let (Identity::User { policy, .. }, Some(context)) = (&**identity, &self.context) else {
            return Ok(());
        };
        let request = Request {
            action,
            resource,
            context,
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

/// The request's condition keys (docs/permissions-evidence.md §4), present only when
/// the request carries them, as AWS sets them. Only the keys the caller's policy reads
/// (`keys`, lower case) are computed.
fn context(
    who: &Authenticated,
    req: &S3Request,
    now: OffsetDateTime,
    peer: Option<SocketAddr>,
    keys: &[String],
) -> Context {
    let mut c = Context::default();
    let mut put = |key: &str, value: &dyn Fn() -> Option<String>| {
        if keys.iter().any(|k| k.eq_ignore_ascii_case(key))
            && let Some(v) = value()
        {
            c.set(key, v);
        }
    };
    let header = |name: &'static str| move || req.header(name).map(str::to_string);
    let param = |name: &'static str| move || req.query_param(name).map(str::to_string);
    put("aws:CurrentTime", &|| Some(crate::dates::iso(now)));
    put("aws:EpochTime", &|| Some(now.unix_timestamp().to_string()));
    put("aws:SecureTransport", &|| Some("false".into()));
    put("aws:SourceIp", &|| peer.map(|p| p.ip().to_string()));
    put("aws:UserAgent", &header("user-agent"));
    put("aws:Referer", &header("referer"));
    put("s3:x-amz-acl", &header("x-amz-acl"));
    put("s3:x-amz-copy-source", &header("x-amz-copy-source"));
    put(
        "s3:x-amz-metadata-directive",
        &header("x-amz-metadata-directive"),
    );
    put("s3:prefix", &param("prefix"));
    put("s3:delimiter", &param("delimiter"));
    // "always present in the request when you perform the ListBucket operation".
    put("s3:max-keys", &|| {
        Some(req.query_param("max-keys").unwrap_or("1000").to_string())
    });
    let identity = who.identity.as_deref();
    put("aws:PrincipalArn", &|| identity.map(Identity::arn));
    put("aws:PrincipalAccount", &|| {
        identity.map(|i| i.account().id.clone())
    });
    put("aws:userid", &|| identity.map(Identity::userid));
    put("aws:username", &|| {
        identity.and_then(Identity::username).map(str::to_string)
    });
    let (auth_type, version) = match who.kind {
        AuthKind::V4Header => (Some("REST-HEADER"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V4Query => (Some("REST-QUERY-STRING"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V4Post => (Some("POST"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V2Header => (Some("REST-HEADER"), Some("AWS")),
        AuthKind::V2Query => (Some("REST-QUERY-STRING"), Some("AWS")),
        AuthKind::V2Post => (Some("POST"), Some("AWS")),
        AuthKind::Anonymous => (None, None),
    };
    put("s3:authType", &|| auth_type.map(str::to_string));
    put("s3:signatureversion", &|| version.map(str::to_string));
    // Presigned URLs and POST forms, in milliseconds; SigV2 "always set to 0".
    put("s3:signatureAge", &|| match (who.kind, who.signed_at) {
        (AuthKind::V4Query | AuthKind::V4Post, Some(at)) => {
            Some((now - at).whole_milliseconds().max(0).to_string())
        }
        (AuthKind::V2Query | AuthKind::V2Post, _) => Some("0".into()),
        _ => None,
    });
    // Header-signed SigV4 only ("does not support x-amz-content-sha256 as a query
    // string parameter").
    put("s3:x-amz-content-sha256", &|| {
        (who.kind == AuthKind::V4Header)
            .then(|| req.header("x-amz-content-sha256").map(str::to_string))
            .flatten()
    });
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::PayloadCheck;
    use crate::config::Credential;
    use time::macros::datetime;

    const KEYS: &[&str] = &[
        "aws:CurrentTime",
        "aws:EpochTime",
        "aws:SecureTransport",
        "aws:SourceIp",
        "aws:UserAgent",
        "aws:Referer",
        "aws:username",
        "aws:userid",
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "s3:prefix",
        "s3:delimiter",
        "s3:max-keys",
        "s3:x-amz-acl",
        "s3:x-amz-content-sha256",
        "s3:authType",
        "s3:signatureversion",
        "s3:signatureAge",
        "s3:x-amz-copy-source",
        "s3:x-amz-metadata-directive",
    ];

    fn request(query: &str, headers: &[(&'static str, &'static str)]) -> S3Request {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, http::HeaderValue::from_static(v));
        }
        S3Request::new(http::Method::GET, "/bkt", Some(query), map, "r".into()).unwrap()
    }

    #[test]
    fn condition_keys_as_aws_sets_them() {
        let cred = Credential::user("alice", "AKIAALICE", "s", None);
        let signed_at = datetime!(2026-01-15 12:00:00 UTC);
        let who = |kind| Authenticated {
            kind,
            access_key: Some(cred.access_key.clone()),
            identity: Some(cred.identity.clone()),
            signed_at: Some(signed_at),
            payload: PayloadCheck::None,
        };
        let req = request(
            "prefix=home/&delimiter=/",
            &[
                ("user-agent", "app/1.0"),
                ("referer", "https://example.com/"),
                ("x-amz-acl", "private"),
                ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                ("x-amz-copy-source", "src/k"),
                ("x-amz-metadata-directive", "REPLACE"),
            ],
        );
        let keys: Vec<String> = KEYS.iter().map(|k| k.to_ascii_lowercase()).collect();
        let now = signed_at + time::Duration::seconds(700);
        let peer = Some("127.0.0.1:5000".parse().unwrap());
        let c = context(&who(AuthKind::V4Query), &req, now, peer, &keys);
        let v = |k| c.value(k).map(str::to_string);
        assert_eq!(
            v("aws:CurrentTime").as_deref(),
            Some("2026-01-15T12:11:40Z")
        );
        assert_eq!(v("aws:EpochTime"), Some(now.unix_timestamp().to_string()));
        assert_eq!(v("aws:SecureTransport").as_deref(), Some("false"));
        assert_eq!(v("aws:SourceIp").as_deref(), Some("127.0.0.1"));
        assert_eq!(v("aws:UserAgent").as_deref(), Some("app/1.0"));
        assert_eq!(v("aws:Referer").as_deref(), Some("https://example.com/"));
        assert_eq!(v("aws:username").as_deref(), Some("alice"));
        assert!(v("aws:userid").unwrap().starts_with("AIDA"));
        assert_eq!(
            v("aws:PrincipalArn").as_deref(),
            Some("arn:aws:iam::123456789012:user/alice")
        );
        assert_eq!(v("aws:PrincipalAccount").as_deref(), Some("123456789012"));
        assert_eq!(v("s3:prefix").as_deref(), Some("home/"));
        assert_eq!(v("s3:delimiter").as_deref(), Some("/"));
        assert_eq!(v("s3:max-keys").as_deref(), Some("1000"));
        assert_eq!(v("s3:x-amz-acl").as_deref(), Some("private"));
        assert_eq!(v("s3:authType").as_deref(), Some("REST-QUERY-STRING"));
        assert_eq!(
            v("s3:signatureversion").as_deref(),
            Some("AWS4-HMAC-SHA256")
        );
        assert_eq!(v("s3:signatureAge").as_deref(), Some("700000"));
        assert_eq!(v("s3:x-amz-copy-source").as_deref(), Some("src/k"));
        assert_eq!(v("s3:x-amz-metadata-directive").as_deref(), Some("REPLACE"));
        // Presigned: no s3:x-amz-content-sha256. Header-signed: it, and no signature age.
        assert_eq!(v("s3:x-amz-content-sha256"), None);
        let c = context(&who(AuthKind::V4Header), &req, now, peer, &keys);
        assert_eq!(c.value("s3:x-amz-content-sha256"), Some("UNSIGNED-PAYLOAD"));
        assert_eq!(c.value("s3:authType"), Some("REST-HEADER"));
        assert_eq!(c.value("s3:signatureAge"), None);
        let c = context(&who(AuthKind::V2Query), &req, now, peer, &keys);
        assert_eq!(c.value("s3:signatureversion"), Some("AWS"));
        assert_eq!(c.value("s3:signatureAge"), Some("0"));
        // Only the keys a policy reads are computed.
        let c = context(
            &who(AuthKind::V4Query),
            &req,
            now,
            peer,
            &["s3:prefix".into()],
        );
        assert_eq!(c.value("s3:prefix"), Some("home/"));
        assert_eq!(c.value("aws:UserAgent"), None);
        // Absent from the request, absent from the context.
        let bare = request("", &[]);
        let c = context(&who(AuthKind::V4Query), &bare, now, None, &keys);
        for k in ["s3:prefix", "aws:Referer", "s3:x-amz-acl", "aws:SourceIp"] {
            assert_eq!(c.value(k), None, "{k}");
        }
    }

    #[test]
    fn the_action_table() {
        let req = request(
            "",
            &[
                ("x-amz-copy-source", "/src/a%20b?versionId=1"),
                ("x-amz-acl", "private"),
            ],
        );
        let op = Op::Object {
            bucket: "dst",
            key: "k",
            op: ObjectOp::CopyObject,
        };
        assert_eq!(
            required(&op, &req),
            vec![
                ("s3:GetObject", "arn:aws:s3:::src/a b".to_string()),
                ("s3:PutObject", "arn:aws:s3:::dst/k".to_string()),
                ("s3:PutObjectAcl", "arn:aws:s3:::dst/k".to_string()),
            ]
        );
        let plain = request("", &[]);
        for (op, action, resource) in [
            (Op::ListBuckets, "s3:ListAllMyBuckets", "*"),
            (
                Op::Bucket("b", BucketOp::HeadBucket),
                "s3:ListBucket",
                "arn:aws:s3:::b",
            ),
            (
                Op::Bucket("b", BucketOp::DeleteBucketCors),
                "s3:PutBucketCORS",
                "arn:aws:s3:::b",
            ),
            (
                Op::Bucket("b", BucketOp::ListMultipartUploads),
                "s3:ListBucketMultipartUploads",
                "arn:aws:s3:::b",
            ),
            (
                Op::Object {
                    bucket: "b",
                    key: "k",
                    op: ObjectOp::HeadObject,
                },
                "s3:GetObject",
                "arn:aws:s3:::b/k",
            ),
            (
                Op::Object {
                    bucket: "b",
                    key: "k",
                    op: ObjectOp::UploadPart,
                },
                "s3:PutObject",
                "arn:aws:s3:::b/k",
            ),
            (
                Op::Object {
                    bucket: "b",
                    key: "k",
                    op: ObjectOp::ListParts,
                },
                "s3:ListMultipartUploadParts",
                "arn:aws:s3:::b/k",
            ),
            (
                Op::Object {
                    bucket: "b",
                    key: "k",
                    op: ObjectOp::AbortMultipartUpload,
                },
                "s3:AbortMultipartUpload",
                "arn:aws:s3:::b/k",
            ),
        ] {
            assert_eq!(
                required(&op, &plain),
                vec![(action, resource.to_string())],
                "{op:?}"
            );
        }
        assert!(required(&Op::Bucket("b", BucketOp::DeleteObjects), &plain).is_empty());
    }
}
