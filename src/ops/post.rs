//! PostObject: a browser form upload (`POST /bucket`, `multipart/form-data`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html>
//!
//! By the time the operation runs, the form's head has been read ([`crate::form`]) and
//! its signature verified (`auth::post`, in the authentication stage). Here the bucket
//! is looked up, the policy's conditions are checked against the fields, and the file
//! streams to the store.

use http::header::{CONTENT_TYPE, ETAG, LOCATION};
use http::{Response, StatusCode};

use super::attrs::attrs_from_form;
use super::{Ctx, respond};
use crate::auth::post::{PostForm, PostPolicy};
use crate::body::{self, ResponseBody};
use crate::error::S3Error;
use crate::form::FormUpload;
use crate::storage::PutRequest;
use crate::xml::XmlWriter;

pub async fn post_object(
    ctx: &Ctx<'_>,
    bucket: &str,
    upload: FormUpload,
) -> Result<Response<ResponseBody>, S3Error> {
    ctx.storage.bucket(bucket).await?;
    let form = &upload.form;
    let policy = PostPolicy::parse(form.get("policy").unwrap_or_default())?;
    let key = form.key()?;
    crate::addressing::check_key(&key, ctx.config.limits.max_key_bytes)?;
    // The signer's permission, now that the form's key is known; a policy that reads
    // s3:RequestObjectTag sees the form's `tagging` field (a well-formed one: a
    // malformed field is refused below, with its own error, before anything is stored).
    let arn = crate::access::object_arn(bucket, &key);
    let form_tags = match form.get("tagging") {
        Some(doc) if ctx.access.reads_request_tags() => {
            crate::tagging::parse_document(doc.as_bytes(), crate::tagging::Owner::Object)
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    ctx.access
        .check_with_request_tags("s3:PutObject", &arn, &form_tags)?;
    let range = policy.check(form, bucket, &key, ctx.clock.now())?;
    let mut attrs = attrs_from_form(form, ctx.config.limits.max_user_metadata_bytes)?;
    if form.get("tagging").is_some() {
        ctx.access
            .check_with_request_tags("s3:PutObjectTagging", &arn, &form_tags)?;
    }
    let requested = match form.get("acl") {
        Some(name) => {
            ctx.access.check("s3:PutObjectAcl", &arn)?;
            Some(crate::acl::AclRequest::canned(name, "acl", false)?)
        }
        None => None,
    };
    attrs.acl = super::acl::for_new_object(ctx, bucket, requested)?;
    let (form, file) = upload.into_parts(range);
    let versioned = super::versions::versioned(ctx, bucket);
    let write = versioned.begin_write(&key).await?;
    attrs.version = write.stamp.clone();
    let result = ctx
        .storage
        .put_object(bucket, &key, PutRequest::new(attrs, file))
        .await;
    let version = super::versions::write_version_header(write.stamp.as_ref()).map(str::to_string);
    versioned.finish_write(write, result.is_ok()).await?;
    let meta = result?;
    let mut resp = success(ctx, bucket, &key, &meta.quoted_etag(), &form)?;
    if let Some(v) = version.and_then(|v| http::HeaderValue::from_str(&v).ok()) {
        resp.headers_mut().insert("x-amz-version-id", v);
    }
    Ok(resp)
}

/// The answer the form asks for: a redirect (`success_action_redirect`), or the status
/// of `success_action_status` (204 by default, 201 with a `PostResponse` document).
fn success(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    etag: &str,
    form: &PostForm,
) -> Result<Response<ResponseBody>, S3Error> {
    let host = ctx.req.header(http::header::HOST).unwrap_or("localhost");
    let encoded_key = crate::request::form_encode(key);
    let location = match ctx.addr.style {
        crate::addressing::Style::Path => format!("http://{host}/{bucket}/{encoded_key}"),
        crate::addressing::Style::VirtualHosted => format!("http://{host}/{encoded_key}"),
    };
    let redirect = form
        .get("success_action_redirect")
        .or_else(|| form.get("redirect"))
        .filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    if let Some(url) = redirect {
        let q = |s: &str| crate::auth::sigv4::uri_encode(s).into_owned();
        let sep = if url.contains('?') { '&' } else { '?' };
        let target = format!(
            "{url}{sep}bucket={}&key={}&etag={}",
            q(bucket),
            q(key),
            q(etag)
        );
        return respond(
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header(LOCATION, target)
                .header(ETAG, etag),
            body::empty(),
        );
    }
    let resp = Response::builder()
        .header(ETAG, etag)
        .header(LOCATION, &location);
    match form.get("success_action_status") {
        Some("200") => respond(resp.status(StatusCode::OK), body::empty()),
        Some("201") => {
            let mut w = XmlWriter::new();
            w.open("PostResponse");
            w.elem("Location", &location);
            w.elem("Bucket", bucket);
            w.elem("Key", key);
            w.elem("ETag", etag);
            w.close("PostResponse");
            respond(
                resp.status(StatusCode::CREATED)
                    .header(CONTENT_TYPE, "application/xml"),
                body::full(w.finish()),
            )
        }
        _ => respond(resp.status(StatusCode::NO_CONTENT), body::empty()),
    }
}
