//! S3 operations: one readable route table, one handler per operation.
//!
//! The route table maps (method, target, sub-resource) to an [`Op`]; a sub-resource
//! strict-s3 does not implement is a 501 `NotImplemented` naming it, never a silent
//! fallback to another operation (a lenient mock that answers `?acl` with the object body
//! is exactly what this project replaces).

pub(crate) mod attrs;
pub(crate) mod bucket;
mod completions;
mod copy;
pub mod cors;
pub(crate) mod delete;
mod list;
pub(crate) mod multipart;
pub use completions::Completions;
pub(crate) mod object;
pub mod post;

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
    /// An operation that authenticates by itself (a POST form signs its policy) records
    /// the mechanism and key here, for the log and the inspector.
    pub own_auth: std::sync::Mutex<Option<(crate::auth::AuthKind, Option<String>)>>,
}

impl Ctx<'_> {
    pub fn record_auth(&self, kind: crate::auth::AuthKind, access_key: Option<String>) {
        *self.own_auth.lock().unwrap_or_else(|p| p.into_inner()) = Some((kind, access_key));
    }
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
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    ListMultipartUploads,
    PostObject,
    PutBucketCors,
    GetBucketCors,
    DeleteBucketCors,
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
            Op::CreateMultipartUpload => "CreateMultipartUpload",
            Op::UploadPart => "UploadPart",
            Op::UploadPartCopy => "UploadPartCopy",
            Op::CompleteMultipartUpload => "CompleteMultipartUpload",
            Op::AbortMultipartUpload => "AbortMultipartUpload",
            Op::ListParts => "ListParts",
            Op::ListMultipartUploads => "ListMultipartUploads",
            Op::PostObject => "PostObject",
            Op::PutBucketCors => "PutBucketCors",
            Op::GetBucketCors => "GetBucketCors",
            Op::DeleteBucketCors => "DeleteBucketCors",
        }
    }
}

/// The route table: (target, method, the sub-resources present) → operation.
pub fn route(req: &S3Request, addr: &Address) -> Result<Op, S3Error> {
    let mut subs: Vec<&str> = req
        .query
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| crate::subresources::selects_operation(k))
        .collect();
    subs.sort_unstable();
    subs.dedup();
    let copy = req.headers.contains_key("x-amz-copy-source");
    let m = req.method.clone();
    let op = match (&addr.target, subs.as_slice()) {
        (Target::Root, []) if m == Method::GET => Op::ListBuckets,
        (Target::Root, []) => return Err(method_not_allowed(req, "SERVICE")),
        (Target::Bucket(_), []) => match m {
            Method::PUT => Op::CreateBucket,
            Method::DELETE => Op::DeleteBucket,
            Method::HEAD => Op::HeadBucket,
            Method::GET if req.query_param("list-type") == Some("2") => Op::ListObjectsV2,
            Method::GET => Op::ListObjects,
            // Browser form uploads; the form carries its own signature.
            Method::POST => Op::PostObject,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        (Target::Bucket(_), ["location"]) if m == Method::GET => Op::GetBucketLocation,
        (Target::Bucket(_), ["uploads"]) if m == Method::GET => Op::ListMultipartUploads,
        (Target::Bucket(_), ["delete"]) if m == Method::POST => Op::DeleteObjects,
        (Target::Bucket(_), ["cors"]) => match m {
            Method::PUT => Op::PutBucketCors,
            Method::GET => Op::GetBucketCors,
            Method::DELETE => Op::DeleteBucketCors,
            _ => return Err(method_not_allowed(req, "BUCKET")),
        },
        (Target::Object { .. }, []) => match m {
            Method::PUT if copy => Op::CopyObject,
            Method::PUT => Op::PutObject,
            Method::GET => Op::GetObject,
            Method::HEAD => Op::HeadObject,
            Method::DELETE => Op::DeleteObject,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        (Target::Object { .. }, ["partNumber"]) if m == Method::GET => Op::GetObject,
        (Target::Object { .. }, ["partNumber"]) if m == Method::HEAD => Op::HeadObject,
        (Target::Object { .. }, ["uploads"]) if m == Method::POST => Op::CreateMultipartUpload,
        (Target::Object { .. }, ["partNumber", "uploadId"]) if m == Method::PUT && copy => {
            Op::UploadPartCopy
        }
        (Target::Object { .. }, ["partNumber", "uploadId"]) if m == Method::PUT => Op::UploadPart,
        (Target::Object { .. }, ["uploadId"]) => match m {
            Method::POST => Op::CompleteMultipartUpload,
            Method::DELETE => Op::AbortMultipartUpload,
            Method::GET => Op::ListParts,
            _ => return Err(method_not_allowed(req, "OBJECT")),
        },
        (_, subs) => return Err(not_implemented_subresource(req, subs)),
    };
    Ok(op)
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
        Op::CreateMultipartUpload => multipart::create(ctx).await,
        Op::UploadPart => multipart::upload_part(ctx, body).await,
        Op::UploadPartCopy => multipart::upload_part_copy(ctx).await,
        Op::CompleteMultipartUpload => multipart::complete(ctx, body).await,
        Op::AbortMultipartUpload => multipart::abort(ctx).await,
        Op::ListParts => multipart::list_parts(ctx).await,
        Op::ListMultipartUploads => multipart::list_uploads(ctx).await,
        Op::PostObject => post::post_object(ctx, body).await,
        Op::PutBucketCors => cors::put(ctx, body).await,
        Op::GetBucketCors => cors::get(ctx).await,
        Op::DeleteBucketCors => cors::delete(ctx).await,
    }
}

/// An XML request document, read whole (at most `max_xml_body`) while holding one of the
/// server's XML slots: the permit travels with the bytes and is released when the caller
/// has parsed them, so at most `max_xml_in_flight` documents are in memory at once and the
/// others wait unread (187 MiB for 32 hostile 2 MiB documents at once before this bound).
pub async fn read_xml_document<'a>(
    ctx: &'a Ctx<'_>,
    body: ByteStream,
) -> Result<(bytes::Bytes, tokio::sync::SemaphorePermit<'a>), S3Error> {
    let permit = ctx
        .state
        .xml_slots
        .acquire()
        .await
        .map_err(S3Error::internal)?;
    let limit = ctx.state.config.limits.max_xml_body;
    let bytes = body::collect_limited(body, limit, || {
        crate::xml::malformed(format!("the XML body exceeds {limit} bytes"))
    })
    .await?;
    Ok((bytes, permit))
}

/// Finishes a response. Header values come from validated input, so this cannot fail in
/// practice; if it did, the client gets an InternalError rather than a dropped connection.
pub fn respond(
    builder: http::response::Builder,
    body: ResponseBody,
) -> Result<Response<ResponseBody>, S3Error> {
    builder.body(body).map_err(S3Error::internal)
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

pub use crate::dates::{http_time, xml_time};

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
            route_of(Method::GET, "/bkt", "cors").unwrap(),
            Op::GetBucketCors
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
            Op::CreateMultipartUpload
        );
        assert_eq!(
            route_of(Method::PUT, "/bkt/k", "uploadId=u&partNumber=2").unwrap(),
            Op::UploadPart
        );
        assert_eq!(
            route_of(Method::POST, "/bkt/k", "uploadId=u").unwrap(),
            Op::CompleteMultipartUpload
        );
        assert_eq!(
            route_of(Method::DELETE, "/bkt/k", "uploadId=u").unwrap(),
            Op::AbortMultipartUpload
        );
        assert_eq!(
            route_of(Method::GET, "/bkt/k", "uploadId=u").unwrap(),
            Op::ListParts
        );
        assert_eq!(
            route_of(Method::GET, "/bkt", "uploads").unwrap(),
            Op::ListMultipartUploads
        );
        assert_eq!(
            route_of(Method::GET, "/bkt/k", "partNumber=1").unwrap(),
            Op::GetObject
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

    #[test]
    fn times() {
        let t = time::macros::datetime!(2013-05-24 00:00:00.123 UTC);
        assert_eq!(xml_time(t), "2013-05-24T00:00:00.123Z");
        assert_eq!(http_time(t), "Fri, 24 May 2013 00:00:00 GMT");
    }
}
