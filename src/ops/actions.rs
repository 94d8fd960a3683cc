//! The action table: the S3 action(s) each operation needs, each on its resource ARN,
//! after "Actions, resources, and condition keys for Amazon S3" (evidence in
//! `docs/permissions-evidence.md` §5). It sits beside the route table so an operation
//! and its permission are added together; `crate::access` evaluates them.

use super::{BucketOp, ObjectOp, Op};
use crate::access::{bucket_arn, object_arn};
use crate::request::S3Request;

/// The S3 actions an operation needs, each on its resource. DeleteObjects needs
/// `s3:DeleteObject` per key, checked by the operation as it reads the keys.
pub fn required(op: &Op<'_>, req: &S3Request) -> Vec<(&'static str, String)> {
    let acl = super::acl::carries_acl(req, false);
    match *op {
        Op::ListBuckets => vec![("s3:ListAllMyBuckets", "*".to_string())],
        Op::Bucket(bucket, op) => {
            let action = match op {
                BucketOp::CreateBucket => return create_bucket(bucket, req),
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
                BucketOp::PutBucketPolicy => "s3:PutBucketPolicy",
                BucketOp::GetBucketPolicy => "s3:GetBucketPolicy",
                BucketOp::DeleteBucketPolicy => "s3:DeleteBucketPolicy",
                BucketOp::GetBucketPolicyStatus => "s3:GetBucketPolicyStatus",
                BucketOp::GetBucketAcl => "s3:GetBucketAcl",
                BucketOp::PutBucketAcl => "s3:PutBucketAcl",
                BucketOp::GetBucketOwnershipControls => "s3:GetBucketOwnershipControls",
                // "To apply, update, or delete … you need the s3:PutBucketOwnershipControls
                // permission" (§5).
                BucketOp::PutBucketOwnershipControls | BucketOp::DeleteBucketOwnershipControls => {
                    "s3:PutBucketOwnershipControls"
                }
                BucketOp::GetPublicAccessBlock => "s3:GetBucketPublicAccessBlock",
                BucketOp::PutPublicAccessBlock | BucketOp::DeletePublicAccessBlock => {
                    "s3:PutBucketPublicAccessBlock"
                }
                BucketOp::GetBucketTagging => "s3:GetBucketTagging",
                // DeleteBucketTagging: "To use this operation, you must have permission to
                // perform the s3:PutBucketTagging action" (its API reference).
                BucketOp::PutBucketTagging | BucketOp::DeleteBucketTagging => "s3:PutBucketTagging",
                BucketOp::GetBucketVersioning => "s3:GetBucketVersioning",
                BucketOp::PutBucketVersioning => "s3:PutBucketVersioning",
                // "you must have permission to perform the s3:ListBucketVersions action.
                // Be aware of the name difference."
                BucketOp::ListObjectVersions => "s3:ListBucketVersions",
            };
            vec![(action, bucket_arn(bucket))]
        }
        Op::Object { bucket, key, op } => {
            let target = object_arn(bucket, key);
            let versioned = req.query_param("versionId").is_some();
            let source = || copy_source(req).map(|(b, k)| object_arn(&b, &k));
            let mut out = match op {
                ObjectOp::PutObject
                | ObjectOp::CreateMultipartUpload
                | ObjectOp::UploadPart
                | ObjectOp::CompleteMultipartUpload => vec![("s3:PutObject", target.clone())],
                ObjectOp::CopyObject | ObjectOp::UploadPartCopy => {
                    let mut v = Vec::new();
                    if let Some(src) = source() {
                        v.push((source_read(req), src));
                    }
                    v.push(("s3:PutObject", target.clone()));
                    v
                }
                // "If you include a versionId in your request header, you must have the
                // s3:GetObjectVersion permission … The s3:GetObject permission is not
                // required"; DeleteObject with one needs s3:DeleteObjectVersion.
                ObjectOp::GetObject | ObjectOp::HeadObject if versioned => {
                    vec![("s3:GetObjectVersion", target.clone())]
                }
                ObjectOp::GetObject | ObjectOp::HeadObject => {
                    vec![("s3:GetObject", target.clone())]
                }
                ObjectOp::DeleteObject if versioned => {
                    vec![("s3:DeleteObjectVersion", target.clone())]
                }
                ObjectOp::DeleteObject => vec![("s3:DeleteObject", target.clone())],
                ObjectOp::AbortMultipartUpload => vec![("s3:AbortMultipartUpload", target.clone())],
                ObjectOp::ListParts => vec![("s3:ListMultipartUploadParts", target.clone())],
                ObjectOp::GetObjectAcl if versioned => {
                    vec![("s3:GetObjectVersionAcl", target.clone())]
                }
                ObjectOp::GetObjectAcl => vec![("s3:GetObjectAcl", target.clone())],
                ObjectOp::PutObjectAcl if versioned => {
                    return vec![("s3:PutObjectVersionAcl", target)];
                }
                ObjectOp::PutObjectAcl => return vec![("s3:PutObjectAcl", target)],
                // With `versionId`, the …VersionTagging action (the API references).
                // "If you pass a version ID in your request, you need both the
                // s3:GetObjectVersion and s3:GetObjectVersionAttributes permissions. If you
                // do not pass a version ID … s3:GetObject and s3:GetObjectAttributes."
                ObjectOp::GetObjectAttributes => {
                    let (read, attributes) = if req.query_param("versionId").is_some() {
                        ("s3:GetObjectVersion", "s3:GetObjectVersionAttributes")
                    } else {
                        ("s3:GetObject", "s3:GetObjectAttributes")
                    };
                    return vec![(read, target.clone()), (attributes, target)];
                }
                ObjectOp::GetObjectTagging
                | ObjectOp::PutObjectTagging
                | ObjectOp::DeleteObjectTagging => return vec![(tagging_action(op, req), target)],
            };
            let writes = matches!(
                op,
                ObjectOp::PutObject | ObjectOp::CopyObject | ObjectOp::CreateMultipartUpload
            );
            // "To use tagging with PutObject you must have the s3:PutObjectTagging
            // permission" besides s3:PutObject (the user guide's tagging and access
            // control page; docs/tagging-evidence.md).
            if writes && crate::tagging::requested(req).is_some() {
                out.push(("s3:PutObjectTagging", target.clone()));
            }
            if acl && writes {
                out.push(("s3:PutObjectAcl", target));
            }
            out
        }
    }
}

/// CreateBucket needs `s3:CreateBucket`; with an ACL other than `private` also
/// `s3:PutBucketAcl`, and with `x-amz-object-ownership` also
/// `s3:PutBucketOwnershipControls` (the API reference's Permissions; §5).
fn create_bucket(bucket: &str, req: &S3Request) -> Vec<(&'static str, String)> {
    let arn = bucket_arn(bucket);
    let mut out = vec![("s3:CreateBucket", arn.clone())];
    if super::acl::carries_acl(req, true)
        && req.header(crate::header_names::X_AMZ_ACL) != Some("private")
    {
        out.push(("s3:PutBucketAcl", arn.clone()));
    }
    if req
        .header(crate::header_names::X_AMZ_OBJECT_OWNERSHIP)
        .is_some()
    {
        out.push(("s3:PutBucketOwnershipControls", arn));
    }
    out
}

/// `x-amz-copy-source` as (bucket, key), read by the parser the copy itself uses, so the
/// source that is authorized is the source that is read. One it cannot parse names no
/// source here; the operation refuses it.
pub fn copy_source(req: &S3Request) -> Option<(String, String)> {
    let raw = req.header(crate::header_names::X_AMZ_COPY_SOURCE)?;
    // The version does not change the object's ARN; it changes the action.
    let path = raw.split_once('?').map_or(raw, |(p, _)| p);
    super::copy::copy_source(path, usize::MAX)
        .ok()
        .map(|(b, k, _)| (b, k))
}

/// Reading a copy's source: s3:GetObjectVersion when it names a version.
fn source_read(req: &S3Request) -> &'static str {
    let names_version = req
        .header(crate::header_names::X_AMZ_COPY_SOURCE)
        .and_then(|raw| raw.split_once('?'))
        .is_some_and(|(_, q)| q.starts_with("versionId="));
    if names_version {
        "s3:GetObjectVersion"
    } else {
        "s3:GetObject"
    }
}

/// The action of an object tagging operation: with `versionId`, the …VersionTagging one
/// (the API references).
pub fn tagging_action(op: ObjectOp, req: &S3Request) -> &'static str {
    let versioned = req.query_param("versionId").is_some();
    match (op, versioned) {
        (ObjectOp::GetObjectTagging, false) => "s3:GetObjectTagging",
        (ObjectOp::GetObjectTagging, true) => "s3:GetObjectVersionTagging",
        (ObjectOp::PutObjectTagging, false) => "s3:PutObjectTagging",
        (ObjectOp::PutObjectTagging, true) => "s3:PutObjectVersionTagging",
        (_, false) => "s3:DeleteObjectTagging",
        (_, true) => "s3:DeleteObjectVersionTagging",
    }
}

/// Whether the operation's permission depends on tags in its body (PutObjectTagging:
/// s3:RequestObjectTag reads the document's tags). When a policy reads them, the
/// authorization stage leaves the check to the operation, which makes it once it has
/// read the document and before it changes anything.
pub fn checked_with_body_tags(op: &Op<'_>) -> bool {
    matches!(
        op,
        Op::Object {
            op: ObjectOp::PutObjectTagging,
            ..
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(query: &str, headers: &[(&'static str, &'static str)]) -> S3Request {
        let mut map = http::HeaderMap::new();
        for (k, v) in headers {
            map.insert(*k, http::HeaderValue::from_static(v));
        }
        S3Request::new(http::Method::GET, "/bkt", Some(query), map, "r".into()).unwrap()
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
                // A source version is read with s3:GetObjectVersion.
                ("s3:GetObjectVersion", "arn:aws:s3:::src/a b".to_string()),
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
