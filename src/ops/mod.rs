//! S3 operations: one readable route table, one handler per operation.
//!
//! The route table maps (method, target, sub-resource) to an [`Op`]; a sub-resource
//! strict-s3 does not implement is a 501 `NotImplemented` naming it, never a silent
//! fallback to another operation (a lenient mock that answers `?acl` with the object body
//! is exactly what this project replaces).

mod bucket;
mod copy;
mod delete;
mod list;
mod object;

use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Response, StatusCode};

use crate::addressing::{Address, Target};
use crate::auth::Principal;
use crate::body::{self, ByteStream, ResponseBody};
use crate::error::{S3Error, S3ErrorCode};
use crate::request::S3Request;
use crate::service::AppState;

/// Everything a handler may read about the request.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub req: &'a S3Request,
    pub addr: &'a Address,
    pub principal: &'a Principal,
}

/// The operations strict-s3 implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    ListBuckets,
    CreateBucket,
    DeleteBucket,
    HeadBucket,
    GetBucketLocation,
    ListObjects,
    ListObjectsV2,
    DeleteObjects,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Op::ListBuckets => "ListBuckets",
            Op::CreateBucket => "CreateBucket",
            Op::DeleteBucket => "DeleteBucket",
            Op::HeadBucket => "HeadBucket",
            Op::GetBucketLocation => "GetBucketLocation",
            Op::ListObjects => "ListObjects",
            Op::ListObjectsV2 => "ListObjectsV2",
            Op::DeleteObjects => "DeleteObjects",
            Op::PutObject => "PutObject",
            Op::CopyObject => "CopyObject",
            Op::GetObject => "GetObject",
            Op::HeadObject => "HeadObject",
            Op::DeleteObject => "DeleteObject",
        }
    }
}

/// Query parameters that select a sub-resource (another operation) in S3. Any of these
/// that the route table does not handle is refused with `NotImplemented`.
const SUBRESOURCES: &[&str] = &[
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "delete",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "location",
    "logging",
    "metadataConfiguration",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "partNumber",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

/// The route table.
pub fn route(req: &S3Request, addr: &Address) -> Result<Op, S3Error> {
    let sub = req
        .query
        .iter()
        .map(|(k, _)| k.as_str())
        .find(|k| SUBRESOURCES.contains(k));
    let m = &req.method;
    let op = match (&addr.target, sub) {
        (Target::Root, None) if m == Method::GET => Op::ListBuckets,
        (Target::Bucket(_), None) => match *m {
            Method::PUT => Op::CreateBucket,
            Method::DELETE => Op::DeleteBucket,
            Method::HEAD => Op::HeadBucket,
            Method::GET if req.query_param("list-type") == Some("2") => Op::ListObjectsV2,
            Method::GET => Op::ListObjects,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        (Target::Bucket(_), Some("location")) if m == Method::GET => Op::GetBucketLocation,
        (Target::Bucket(_), Some("delete")) if m == Method::POST => Op::DeleteObjects,
        (Target::Object { .. }, None) => match *m {
            Method::PUT if req.headers.contains_key("x-amz-copy-source") => Op::CopyObject,
            Method::PUT => Op::PutObject,
            Method::GET => Op::GetObject,
            Method::HEAD => Op::HeadObject,
            Method::DELETE => Op::DeleteObject,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        (_, Some(sub)) => return Err(not_implemented_subresource(req, sub)),
        (Target::Root, None) => return Err(method_not_allowed(req, "SERVICE")),
    };
    Ok(op)
}

/// AWS has no message for this (it implements every sub-resource), so ours names what is
/// missing; the code and status are S3's for an unimplemented feature.
fn not_implemented_subresource(req: &S3Request, sub: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        format!(
            "strict-s3 does not implement {} with the ?{sub} sub-resource yet",
            req.method
        ),
    )
    .reason("see the README's list of supported operations")
}

fn method_not_allowed(req: &S3Request, resource_type: &str) -> S3Error {
    S3Error::new(S3ErrorCode::MethodNotAllowed)
        .extra("Method", req.method.as_str())
        .extra("ResourceType", resource_type)
}

/// Runs the operation.
pub async fn dispatch(
    ctx: &Ctx<'_>,
    op: Op,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    match op {
        Op::ListBuckets => bucket::list_buckets(ctx).await,
        Op::CreateBucket => bucket::create_bucket(ctx, body).await,
        Op::DeleteBucket => bucket::delete_bucket(ctx).await,
        Op::HeadBucket => bucket::head_bucket(ctx).await,
        Op::GetBucketLocation => bucket::get_bucket_location(ctx).await,
        Op::ListObjects => list::list_objects(ctx, false).await,
        Op::ListObjectsV2 => list::list_objects(ctx, true).await,
        Op::DeleteObjects => delete::delete_objects(ctx, body).await,
        Op::PutObject => object::put_object(ctx, body).await,
        Op::CopyObject => copy::copy_object(ctx).await,
        Op::GetObject => object::get_object(ctx, false).await,
        Op::HeadObject => object::get_object(ctx, true).await,
        Op::DeleteObject => object::delete_object(ctx).await,
    }
}

/// A 200 with an XML document.
pub fn xml_response(xml: String) -> Response<ResponseBody> {
    let len = xml.len();
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, "application/xml")
        .header(CONTENT_LENGTH, len)
        .body(body::full(xml))
        .expect("static response parts are valid")
}

/// An empty response with `status`.
pub fn empty_response(status: StatusCode) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .body(body::empty())
        .expect("static response parts are valid")
}

/// The bucket of a bucket or object target (routing guarantees there is one).
pub fn bucket_of<'a>(ctx: &'a Ctx<'_>) -> &'a str {
    ctx.addr.bucket().unwrap_or_default()
}

/// S3 timestamps in XML: `2009-10-12T17:50:30.000Z`.
pub fn xml_time(t: time::OffsetDateTime) -> String {
    let ms = t.millisecond();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// HTTP dates (`Last-Modified`): `Fri, 24 May 2013 00:00:00 GMT`.
pub fn http_time(t: time::OffsetDateTime) -> String {
    httpdate::fmt_http_date(std::time::SystemTime::from(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderMap;

    fn route_of(method: Method, path: &str, query: &str) -> Result<Op, S3Error> {
        let req = S3Request::new(method, path, Some(query), HeaderMap::new(), "r".into()).unwrap();
        let addr = crate::addressing::resolve(&req, &[], 1024).unwrap();
        route(&req, &addr)
    }

    #[test]
    fn route_table() {
        assert_eq!(route_of(Method::GET, "/", "").unwrap(), Op::ListBuckets);
        assert_eq!(
            route_of(Method::GET, "/bkt", "list-type=2").unwrap(),
            Op::ListObjectsV2
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "prefix=a").unwrap(),
            Op::ListObjects
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "location").unwrap(),
            Op::GetBucketLocation
        );
        assert_eq!(
            route_of(Method::POST, "/bkt", "delete").unwrap(),
            Op::DeleteObjects
        );
        assert_eq!(route_of(Method::PUT, "/bkt/k", "").unwrap(), Op::PutObject);
        assert_eq!(
            route_of(Method::HEAD, "/bkt/k", "").unwrap(),
            Op::HeadObject
        );
        assert_eq!(
            route_of(Method::GET, "/bkt/k", "acl").unwrap_err().code,
            S3ErrorCode::NotImplemented
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "cors").unwrap_err().code,
            S3ErrorCode::NotImplemented
        );
        assert_eq!(
            route_of(Method::POST, "/bkt/k", "").unwrap_err().code,
            S3ErrorCode::MethodNotAllowed
        );
        assert_eq!(
            route_of(Method::PUT, "/", "").unwrap_err().code,
            S3ErrorCode::MethodNotAllowed
        );
    }

    #[test]
    fn times() {
        let t = time::macros::datetime!(2013-05-24 00:00:00.123 UTC);
        assert_eq!(xml_time(t), "2013-05-24T00:00:00.123Z");
        assert_eq!(http_time(t), "Fri, 24 May 2013 00:00:00 GMT");
    }
}
