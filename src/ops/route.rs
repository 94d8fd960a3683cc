//! The route table: (target, method, the sub-resources present) → the [`Op`] to run,
//! carrying the bucket and key it acts on, so no handler has to look them up again.
//!
//! A sub-resource strict-s3 does not implement is a 501 `NotImplemented` naming it,
//! never a silent fallback to another operation (a lenient mock that answers `?acl`
//! with the object body is exactly what this project replaces).

use http::Method;

use crate::addressing::{Address, Target};
use crate::error::{S3Error, S3ErrorCode};
use crate::request::S3Request;

/// An operation and what it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op<'a> {
    ListBuckets,
    Bucket(&'a str, BucketOp),
    Object {
        bucket: &'a str,
        key: &'a str,
        op: ObjectOp,
    },
}

/// The operations on a bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketOp {
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    DeleteObjects,
    ListMultipartUploads,
    /// A browser form upload: the form carries its own signature.
    PostObject,
    PutBucketCors,
    GetBucketCors,
    DeleteBucketCors,
    PutBucketPolicy,
    GetBucketPolicy,
    DeleteBucketPolicy,
    GetBucketPolicyStatus,
    GetBucketAcl,
    PutBucketAcl,
    GetBucketOwnershipControls,
    PutBucketOwnershipControls,
    DeleteBucketOwnershipControls,
    GetPublicAccessBlock,
    PutPublicAccessBlock,
    DeletePublicAccessBlock,
    GetBucketTagging,
    PutBucketTagging,
    DeleteBucketTagging,
    GetBucketVersioning,
    PutBucketVersioning,
    ListObjectVersions,
}

/// The operations on an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectOp {
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    GetObjectAcl,
    PutObjectAcl,
    GetObjectTagging,
    PutObjectTagging,
    DeleteObjectTagging,
    GetObjectAttributes,
}

impl Op<'_> {
    /// The operation's name in the S3 API reference.
    pub fn name(&self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::Bucket(_, op) => op.name(),
            Op::Object { op, .. } => op.name(),
        }
    }

    pub fn bucket(&self) -> Option<&str> {
        match self {
            Op::ListBuckets => None,
            Op::Bucket(b, _) | Op::Object { bucket: b, .. } => Some(b),
        }
    }

    /// A browser POST form, whose own fields carry its signature.
    pub fn is_post_form(&self) -> bool {
        matches!(self, Op::Bucket(_, BucketOp::PostObject))
    }

    /// Reads an object (the operations an anonymous caller may use on a public object).
    pub fn reads_object(&self) -> bool {
        matches!(
            self,
            Op::Object {
                op: ObjectOp::GetObject | ObjectOp::HeadObject | ObjectOp::GetObjectAttributes,
                ..
            }
        )
    }
}

impl<'a> Op<'a> {
    /// The existing object whose own ACL an access decision reads, if any: the object
    /// read (GetObject, HeadObject) or whose ACL is read or replaced.
    pub fn object_read(&self) -> Option<(&'a str, &'a str)> {
        match *self {
            Op::Object {
                bucket,
                key,
                op:
                    ObjectOp::GetObject
                    | ObjectOp::HeadObject
                    | ObjectOp::GetObjectAcl
                    | ObjectOp::PutObjectAcl
                    | ObjectOp::GetObjectTagging
                    | ObjectOp::PutObjectTagging
                    | ObjectOp::DeleteObjectTagging
                    | ObjectOp::GetObjectAttributes,
            } => Some((bucket, key)),
            _ => None,
        }
    }

    /// Reads another object as its source (`x-amz-copy-source`).
    pub fn copies(&self) -> bool {
        matches!(
            self,
            Op::Object {
                op: ObjectOp::CopyObject | ObjectOp::UploadPartCopy,
                ..
            }
        )
    }
}

impl BucketOp {
    pub fn name(self) -> &'static str {
        match self {
            BucketOp::CreateBucket => "CreateBucket",
            BucketOp::DeleteBucket => "DeleteBucket",
            BucketOp::HeadBucket => "HeadBucket",
            BucketOp::GetBucketLocation => "GetBucketLocation",
            BucketOp::ListObjects => "ListObjects",
            BucketOp::ListObjectsV2 => "ListObjectsV2",
            BucketOp::DeleteObjects => "DeleteObjects",
            BucketOp::ListMultipartUploads => "ListMultipartUploads",
            BucketOp::PostObject => "PostObject",
            BucketOp::PutBucketCors => "PutBucketCors",
            BucketOp::GetBucketCors => "GetBucketCors",
            BucketOp::DeleteBucketCors => "DeleteBucketCors",
            BucketOp::PutBucketPolicy => "PutBucketPolicy",
            BucketOp::GetBucketPolicy => "GetBucketPolicy",
            BucketOp::DeleteBucketPolicy => "DeleteBucketPolicy",
            BucketOp::GetBucketPolicyStatus => "GetBucketPolicyStatus",
            BucketOp::GetBucketAcl => "GetBucketAcl",
            BucketOp::PutBucketAcl => "PutBucketAcl",
            BucketOp::GetBucketOwnershipControls => "GetBucketOwnershipControls",
            BucketOp::PutBucketOwnershipControls => "PutBucketOwnershipControls",
            BucketOp::DeleteBucketOwnershipControls => "DeleteBucketOwnershipControls",
            BucketOp::GetPublicAccessBlock => "GetPublicAccessBlock",
            BucketOp::PutPublicAccessBlock => "PutPublicAccessBlock",
            BucketOp::DeletePublicAccessBlock => "DeletePublicAccessBlock",
            BucketOp::GetBucketTagging => "GetBucketTagging",
            BucketOp::PutBucketTagging => "PutBucketTagging",
            BucketOp::DeleteBucketTagging => "DeleteBucketTagging",
            BucketOp::GetBucketVersioning => "GetBucketVersioning",
            BucketOp::PutBucketVersioning => "PutBucketVersioning",
            BucketOp::ListObjectVersions => "ListObjectVersions",
        }
    }
}

impl ObjectOp {
    pub fn name(self) -> &'static str {
        match self {
            ObjectOp::PutObject => "PutObject",
            ObjectOp::CopyObject => "CopyObject",
            ObjectOp::GetObject => "GetObject",
            ObjectOp::HeadObject => "HeadObject",
            ObjectOp::DeleteObject => "DeleteObject",
            ObjectOp::CreateMultipartUpload => "CreateMultipartUpload",
            ObjectOp::UploadPart => "UploadPart",
            ObjectOp::UploadPartCopy => "UploadPartCopy",
            ObjectOp::CompleteMultipartUpload => "CompleteMultipartUpload",
            ObjectOp::AbortMultipartUpload => "AbortMultipartUpload",
            ObjectOp::ListParts => "ListParts",
            ObjectOp::GetObjectAcl => "GetObjectAcl",
            ObjectOp::PutObjectAcl => "PutObjectAcl",
            ObjectOp::GetObjectTagging => "GetObjectTagging",
            ObjectOp::PutObjectTagging => "PutObjectTagging",
            ObjectOp::DeleteObjectTagging => "DeleteObjectTagging",
            ObjectOp::GetObjectAttributes => "GetObjectAttributes",
        }
    }
}

/// The route table.
pub fn route<'a>(req: &S3Request, addr: &'a Address) -> Result<Op<'a>, S3Error> {
    let mut subs: Vec<&str> = req
        .query
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| crate::subresources::selects_operation(k))
        .collect();
    subs.sort_unstable();
    subs.dedup();
    match &addr.target {
        Target::Root if subs.is_empty() && req.method == Method::GET => Ok(Op::ListBuckets),
        Target::Root if subs.is_empty() => Err(method_not_allowed(req, "SERVICE")),
        Target::Root => Err(not_implemented_subresource(req, &subs)),
        Target::Bucket(bucket) => Ok(Op::Bucket(bucket, bucket_op(req, &subs)?)),
        Target::Object { bucket, key } => Ok(Op::Object {
            bucket,
            key,
            op: object_op(req, &subs)?,
        }),
    }
}

fn bucket_op(req: &S3Request, subs: &[&str]) -> Result<BucketOp, S3Error> {
    let m = &req.method;
    Ok(match subs {
        [] => match *m {
            Method::PUT => BucketOp::CreateBucket,
            Method::DELETE => BucketOp::DeleteBucket,
            Method::HEAD => BucketOp::HeadBucket,
            Method::GET if req.query_param("list-type") == Some("2") => BucketOp::ListObjectsV2,
            Method::GET => BucketOp::ListObjects,
            Method::POST => BucketOp::PostObject,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        ["location"] if m == Method::GET => BucketOp::GetBucketLocation,
        ["uploads"] if m == Method::GET => BucketOp::ListMultipartUploads,
        ["delete"] if m == Method::POST => BucketOp::DeleteObjects,
        ["cors"] => match *m {
            Method::PUT => BucketOp::PutBucketCors,
            Method::GET => BucketOp::GetBucketCors,
            Method::DELETE => BucketOp::DeleteBucketCors,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        ["policy"] => match *m {
            Method::PUT => BucketOp::PutBucketPolicy,
            Method::GET => BucketOp::GetBucketPolicy,
            Method::DELETE => BucketOp::DeleteBucketPolicy,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        ["policyStatus"] if m == Method::GET => BucketOp::GetBucketPolicyStatus,
        ["acl"] => match *m {
            Method::PUT => BucketOp::PutBucketAcl,
            Method::GET => BucketOp::GetBucketAcl,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        ["ownershipControls"] => match *m {
            Method::PUT => BucketOp::PutBucketOwnershipControls,
            Method::GET => BucketOp::GetBucketOwnershipControls,
            Method::DELETE => BucketOp::DeleteBucketOwnershipControls,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        ["publicAccessBlock"] => match *m {
            Method::PUT => BucketOp::PutPublicAccessBlock,
            Method::GET => BucketOp::GetPublicAccessBlock,
            Method::DELETE => BucketOp::DeletePublicAccessBlock,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        ["versioning"] => match *m {
            Method::PUT => BucketOp::PutBucketVersioning,
            Method::GET => BucketOp::GetBucketVersioning,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        ["versions"] if m == Method::GET => BucketOp::ListObjectVersions,
        ["tagging"] => match *m {
            Method::PUT => BucketOp::PutBucketTagging,
            Method::GET => BucketOp::GetBucketTagging,
            Method::DELETE => BucketOp::DeleteBucketTagging,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        subs => return Err(not_implemented_subresource(req, subs)),
    })
}

fn object_op(req: &S3Request, subs: &[&str]) -> Result<ObjectOp, S3Error> {
    let m = &req.method;
    let copy = req.headers.contains_key("x-amz-copy-source");
    Ok(match subs {
        [] => match *m {
            Method::PUT if copy => ObjectOp::CopyObject,
            Method::PUT => ObjectOp::PutObject,
            Method::GET => ObjectOp::GetObject,
            Method::HEAD => ObjectOp::HeadObject,
            Method::DELETE => ObjectOp::DeleteObject,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        // A version of the object (the operation finds it: `crate::versioning`).
        ["versionId"] => match *m {
            Method::GET => ObjectOp::GetObject,
            Method::HEAD => ObjectOp::HeadObject,
            Method::DELETE => ObjectOp::DeleteObject,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        ["partNumber"] | ["partNumber", "versionId"] if m == Method::GET => ObjectOp::GetObject,
        ["partNumber"] | ["partNumber", "versionId"] if m == Method::HEAD => ObjectOp::HeadObject,
        ["uploads"] if m == Method::POST => ObjectOp::CreateMultipartUpload,
        ["partNumber", "uploadId"] if m == Method::PUT && copy => ObjectOp::UploadPartCopy,
        ["partNumber", "uploadId"] if m == Method::PUT => ObjectOp::UploadPart,
        ["acl"] | ["acl", "versionId"] => match *m {
            Method::PUT => ObjectOp::PutObjectAcl,
            Method::GET => ObjectOp::GetObjectAcl,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        // The version is checked by the operation (`super::tagging::check_version`).
        ["tagging"] | ["tagging", "versionId"] => match *m {
            Method::PUT => ObjectOp::PutObjectTagging,
            Method::GET => ObjectOp::GetObjectTagging,
            Method::DELETE => ObjectOp::DeleteObjectTagging,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        ["attributes"] | ["attributes", "versionId"] => match *m {
            Method::GET => ObjectOp::GetObjectAttributes,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        ["uploadId"] => match *m {
            Method::POST => ObjectOp::CompleteMultipartUpload,
            Method::DELETE => ObjectOp::AbortMultipartUpload,
            Method::GET => ObjectOp::ListParts,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        subs => return Err(not_implemented_subresource(req, subs)),
    })
}

/// AWS has no message for this (it implements every sub-resource), so ours names what is
/// missing; the code and status are S3's for an unimplemented feature.
fn not_implemented_subresource(req: &S3Request, subs: &[&str]) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        format!(
            "strict-s3 does not implement {} with the ?{} sub-resource yet",
            req.method,
            subs.join("&?")
        ),
    )
    .reason("see the README's list of supported operations")
}

fn method_not_allowed(req: &S3Request, resource_type: &str) -> S3Error {
    S3Error::new(S3ErrorCode::MethodNotAllowed)
        .extra("Method", req.method.as_str())
        .extra("ResourceType", resource_type)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    /// The name of the operation routed to (an `Op` borrows the request's address).
    fn route_of(method: Method, path: &str, query: &str) -> Result<&'static str, S3Error> {
        let req = S3Request::new(method, path, Some(query), HeaderMap::new(), "r".into()).unwrap();
        let addr = crate::addressing::resolve(&req, &[], 1024).unwrap();
        route(&req, &addr).map(|op| op.name())
    }

    #[test]
    fn route_table() {
        assert_eq!(route_of(Method::GET, "/", "").unwrap(), "ListBuckets");
        assert_eq!(
            route_of(Method::GET, "/bkt", "list-type=2").unwrap(),
            "ListObjectsV2"
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "prefix=a").unwrap(),
            "ListObjects"
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "location").unwrap(),
            "GetBucketLocation"
        );
        assert_eq!(
            route_of(Method::POST, "/bkt", "delete").unwrap(),
            "DeleteObjects"
        );
        assert_eq!(route_of(Method::PUT, "/bkt/k", "").unwrap(), "PutObject");
        assert_eq!(route_of(Method::HEAD, "/bkt/k", "").unwrap(), "HeadObject");
        assert_eq!(
            route_of(Method::GET, "/bkt/k", "acl").unwrap(),
            "GetObjectAcl"
        );
        assert_eq!(
            route_of(Method::PUT, "/bkt", "acl").unwrap(),
            "PutBucketAcl"
        );
        assert_eq!(
            route_of(Method::DELETE, "/bkt", "ownershipControls").unwrap(),
            "DeleteBucketOwnershipControls"
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "publicAccessBlock").unwrap(),
            "GetPublicAccessBlock"
        );
        assert_eq!(
            route_of(Method::DELETE, "/bkt/k", "acl").unwrap_err().code,
            S3ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "cors").unwrap(),
            "GetBucketCors"
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "website").unwrap_err().code,
            S3ErrorCode::NotImplemented
        );
        assert_eq!(
            route_of(Method::POST, "/bkt/k", "").unwrap_err().code,
            S3ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            route_of(Method::POST, "/bkt/k", "uploads").unwrap(),
            "CreateMultipartUpload"
        );
        assert_eq!(
            route_of(Method::PUT, "/bkt/k", "uploadId=u&partNumber=2").unwrap(),
            "UploadPart"
        );
        assert_eq!(
            route_of(Method::POST, "/bkt/k", "uploadId=u").unwrap(),
            "CompleteMultipartUpload"
        );
        assert_eq!(
            route_of(Method::DELETE, "/bkt/k", "uploadId=u").unwrap(),
            "AbortMultipartUpload"
        );
        assert_eq!(
            route_of(Method::GET, "/bkt/k", "uploadId=u").unwrap(),
            "ListParts"
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "uploads").unwrap(),
            "ListMultipartUploads"
        );
        assert_eq!(
            route_of(Method::GET, "/bkt/k", "partNumber=1").unwrap(),
            "GetObject"
        );
        assert_eq!(
            route_of(Method::GET, "/bkt/k", "uploadId=u&acl")
                .unwrap_err()
                .code,
            S3ErrorCode::NotImplemented
        );
        assert_eq!(
            route_of(Method::PUT, "/", "").unwrap_err().code,
            S3ErrorCode::MethodNotAllowed
        );
    }
}
