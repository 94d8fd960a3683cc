//! PutBucketCors, GetBucketCors, DeleteBucketCors (`?cors`), and the preflight answer.
//! The configuration is kept as a bucket document, so it persists with the bucket.

use http::{Response, StatusCode};

use super::object::read_checked_document;
use super::{Ctx, empty_response, xml_response};
use crate::body::{ByteStream, ResponseBody};
use crate::cors::CorsConfiguration;
use crate::error::{S3Error, S3ErrorCode};
use crate::storage::Storage;

/// The bucket document the configuration is stored as.
pub const DOCUMENT: &str = "cors";

/// The bucket's configuration, if it has one.
pub async fn load(
    storage: &dyn Storage,
    bucket: &str,
) -> Result<Option<CorsConfiguration>, S3Error> {
    match storage.bucket_document(bucket, DOCUMENT).await? {
        None => Ok(None),
        Some(bytes) => CorsConfiguration::parse(&bytes).map(Some),
    }
}

pub async fn put(
    ctx: &Ctx<'_>,
    bucket: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage.bucket(bucket).await?;
    let (bytes, _slot) = read_checked_document(ctx, body, "PutBucketCors").await?;
    let config = CorsConfiguration::parse(&bytes)?;
    ctx.storage
        .put_bucket_document(bucket, DOCUMENT, Some(config.to_xml().into()))
        .await?;
    Ok(empty_response(StatusCode::OK))
}

pub async fn get(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    match load(ctx.storage, bucket).await? {
        Some(config) => Ok(xml_response(config.to_xml())),
        None => Err(S3Error::new(S3ErrorCode::NoSuchCORSConfiguration).extra("BucketName", bucket)),
    }
}

pub async fn delete(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage.bucket(bucket).await?;
    ctx.storage
        .put_bucket_document(bucket, DOCUMENT, None)
        .await?;
    Ok(empty_response(StatusCode::NO_CONTENT))
}

/// Answers an `OPTIONS` preflight, before any authentication: browsers send none.
pub async fn preflight(
    storage: &dyn Storage,
    req: &crate::request::S3Request,
    addr: &crate::addressing::Address,
) -> Result<Response<ResponseBody>, S3Error> {
    let Some(bucket) = addr.bucket() else {
        return Err(S3Error::new(S3ErrorCode::MethodNotAllowed)
            .extra("Method", "OPTIONS")
            .extra("ResourceType", "SERVICE"));
    };
    let origin = req.header(http::header::ORIGIN).ok_or_else(|| {
        S3Error::with_message(
            S3ErrorCode::BadRequest,
            "Insufficient information. Origin request header needed.",
        )
    })?;
    // Real S3's answers, as recorded against AWS in LocalStack's CORS snapshot tests:
    // a missing bucket and a bucket without CORS are 403 AccessForbidden for the BUCKET
    // (Method OPTIONS when no Access-Control-Request-Method came).
    let method_or_options = req
        .header(http::header::ACCESS_CONTROL_REQUEST_METHOD)
        .unwrap_or("OPTIONS");
    if storage.bucket(bucket).await.is_err() {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessForbidden,
            "CORSResponse: Bucket not found",
        )
        .extra("Method", method_or_options)
        .extra("ResourceType", "BUCKET")
        .reason(format!("there is no bucket {bucket:?}")));
    }
    let config = load(storage, bucket)
        .await?
        .ok_or_else(|| crate::cors::not_enabled(method_or_options, "BUCKET"))?;
    let method = req
        .header(http::header::ACCESS_CONTROL_REQUEST_METHOD)
        .ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::BadRequest,
                "Invalid Access-Control-Request-Method: null",
            )
        })?;
    let resource = crate::cors::resource_type(addr.key().is_some());
    let requested = crate::cors::requested_headers(req.header("access-control-request-headers"));
    let requested: Vec<&str> = requested.iter().map(String::as_str).collect();
    let rule = config
        .preflight_rule(origin, method, &requested)
        .ok_or_else(|| crate::cors::not_allowed(method, resource, origin, &requested))?;
    let mut resp = empty_response(StatusCode::OK);
    crate::cors::apply(
        &mut resp,
        crate::cors::preflight_headers(rule, origin, &requested),
    );
    Ok(resp)
}
