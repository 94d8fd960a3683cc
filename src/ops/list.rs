//! ListObjects (v1, `marker`) and ListObjectsV2 (`continuation-token`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::Response;

use super::{Ctx, xml_response, xml_time};
use crate::body::ResponseBody;
use crate::error::S3Error;
use crate::request::{S3Request, listing_encode};
use crate::storage::{ListPage, ListQuery, ObjectMeta};
use crate::xml::XmlWriter;

/// S3 never returns more than 1000 keys a page.
const MAX_KEYS: usize = 1000;

/// `max-keys`: 0..=2147483647; values over 1000 are capped, as S3 does.
fn max_keys(raw: Option<&str>) -> Result<usize, S3Error> {
    let Some(raw) = raw else { return Ok(MAX_KEYS) };
    match raw.parse::<i64>() {
        Ok(n) if (0..=i64::from(i32::MAX)).contains(&n) => Ok((n as usize).min(MAX_KEYS)),
        _ => Err(S3Error::invalid_argument(
            "Argument maxKeys must be an integer between 0 and 2147483647",
            "maxKeys",
            raw,
        )),
    }
}

/// Continuation tokens are opaque on S3 and it refuses tokens it did not issue, so ours
/// carry a MAC: a client that builds its own (say, the base64 of a key) fails here as it
/// would on AWS. The MAC key is fixed, so tokens survive a restart.
const TOKEN_KEY: &[u8] = b"strict-s3 continuation token v1";

pub(super) fn token_for(key: &str) -> String {
    let mac = crate::auth::signing::hmac_sha256(TOKEN_KEY, key.as_bytes());
    let mut raw = mac[..16].to_vec();
    raw.extend_from_slice(key.as_bytes());
    BASE64.encode(raw)
}

pub(super) fn key_from_token(token: &str) -> Result<String, S3Error> {
    let invalid = || {
        S3Error::with_message(
            crate::error::S3ErrorCode::InvalidArgument,
            "The continuation token provided is incorrect",
        )
        .extra("ArgumentName", "continuation-token")
        .reason("the token was not issued by this server (they are opaque: pass NextContinuationToken back unchanged)")
    };
    let raw = BASE64.decode(token).map_err(|_| invalid())?;
    if raw.len() < 16 {
        return Err(invalid());
    }
    let (mac, key) = raw.split_at(16);
    let key = String::from_utf8(key.to_vec()).map_err(|_| invalid())?;
    let expected = crate::auth::signing::hmac_sha256(TOKEN_KEY, key.as_bytes());
    if !bool::from(subtle::ConstantTimeEq::ct_eq(mac, &expected[..16])) {
        return Err(invalid());
    }
    Ok(key)
}

/// `encoding-type=url`: which listing elements it encodes is the API reference's list
/// for each operation (ListObjects: Delimiter, Marker, Prefix, NextMarker, Key;
/// ListObjectsV2: Delimiter, Prefix, Key, StartAfter; ListMultipartUploads: Delimiter,
/// KeyMarker, Prefix, NextKeyMarker, Key; CommonPrefixes in all), never the opaque
/// tokens or upload ids.
pub(super) struct UrlEncoding {
    pub on: bool,
}

impl UrlEncoding {
    pub fn apply(&self, s: &str) -> String {
        if self.on {
            listing_encode(s)
        } else {
            s.to_string()
        }
    }
}

pub(super) fn url_encoding(req: &S3Request) -> Result<UrlEncoding, S3Error> {
    match req.query_param("encoding-type") {
        None => Ok(UrlEncoding { on: false }),
        Some("url") => Ok(UrlEncoding { on: true }),
        Some(other) => Err(S3Error::invalid_argument(
            "Invalid Encoding Method specified in Request",
            "encoding-type",
            other,
        )),
    }
}

/// A listing request's parameters, validated before the store is asked, so that a bad
/// parameter fails as S3 fails it (max-keys, then encoding-type, then the token) and the
/// response echoes exactly what the query used.
struct ListParams<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    max: usize,
    enc: UrlEncoding,
    /// The key a v2 continuation token names (checked against its MAC).
    token: Option<String>,
    /// `start-after` (v2) or `marker` (v1), as sent.
    start_after: Option<&'a str>,
}

impl ListParams<'_> {
    fn parse(req: &S3Request, v2: bool) -> Result<ListParams<'_>, S3Error> {
        let prefix = req.query_param("prefix").unwrap_or("");
        let delimiter = req.query_param("delimiter").filter(|d| !d.is_empty());
        let max = max_keys(req.query_param("max-keys"))?;
        let enc = url_encoding(req)?;
        let token = if v2 {
            req.query_param("continuation-token")
                .map(key_from_token)
                .transpose()?
        } else {
            None
        };
        let start_after = if v2 {
            req.query_param("start-after")
        } else {
            req.query_param("marker")
        };
        Ok(ListParams {
            prefix,
            delimiter,
            max,
            enc,
            token,
            start_after,
        })
    }

    /// Resume after whichever is later: the token's key or start-after.
    fn resume_after(&self) -> Option<&str> {
        match (
            self.token.as_deref(),
            self.start_after.filter(|s| !s.is_empty()),
        ) {
            (Some(t), Some(s)) => Some(if t > s { t } else { s }),
            (t, s) => t.or(s),
        }
    }
}

pub async fn list_objects(
    ctx: &Ctx<'_>,
    bucket: &str,
    v2: bool,
) -> Result<Response<ResponseBody>, S3Error> {
    let req = ctx.req;
    let params = ListParams::parse(req, v2)?;
    let page = ctx
        .storage
        .list_objects(
            bucket,
            &ListQuery {
                prefix: params.prefix,
                delimiter: params.delimiter,
                start_after: params.resume_after(),
                max_keys: params.max,
            },
        )
        .await?;

    let mut w = XmlWriter::new();
    w.open_ns("ListBucketResult");
    write_page_fields(&mut w, req, bucket, v2, &params, &page);
    let fetch_owner = !v2 || req.query_param("fetch-owner") == Some("true");
    let bucket_owner = super::acl::rules(ctx, bucket)?.owner();
    for o in &page.objects {
        let owner = fetch_owner.then(|| super::acl::owner_of(&o.attrs, bucket_owner));
        write_contents(&mut w, o, &params.enc, owner.as_deref());
    }
    for p in &page.common_prefixes {
        w.open("CommonPrefixes");
        w.elem("Prefix", &params.enc.apply(p));
        w.close("CommonPrefixes");
    }
    w.close("ListBucketResult");
    Ok(xml_response(w.finish()))
}

/// The elements before the first `<Contents>`: v1 and v2 echo different markers and
/// name the next page differently (an opaque token vs `NextMarker`), in AWS's order.
fn write_page_fields(
    w: &mut XmlWriter,
    req: &S3Request,
    bucket: &str,
    v2: bool,
    params: &ListParams<'_>,
    page: &ListPage,
) {
    let enc = &params.enc;
    w.elem("Name", bucket);
    w.elem("Prefix", &enc.apply(params.prefix));
    if v2 {
        if let Some(t) = req.query_param("continuation-token") {
            w.elem("ContinuationToken", t);
        }
        if let Some(s) = params.start_after {
            w.elem("StartAfter", &enc.apply(s));
        }
        w.elem(
            "KeyCount",
            &(page.objects.len() + page.common_prefixes.len()).to_string(),
        );
    } else {
        w.elem("Marker", &enc.apply(params.start_after.unwrap_or("")));
    }
    w.elem("MaxKeys", &params.max.to_string());
    if let Some(d) = params.delimiter {
        w.elem("Delimiter", &enc.apply(d));
    }
    w.elem(
        "IsTruncated",
        if page.is_truncated { "true" } else { "false" },
    );
    if page.is_truncated
        && let Some(last) = &page.last
    {
        if v2 {
            w.elem("NextContinuationToken", &token_for(last));
        } else if params.delimiter.is_some() {
            // S3 returns NextMarker only when a delimiter is given.
            w.elem("NextMarker", &enc.apply(last));
        }
    }
    if enc.on {
        w.elem("EncodingType", "url");
    }
}

/// One object's `<Contents>`; the owner only where S3 includes it (always in v1, on
/// `fetch-owner=true` in v2).
fn write_contents(w: &mut XmlWriter, o: &ObjectMeta, enc: &UrlEncoding, owner: Option<&str>) {
    w.open("Contents");
    w.elem("Key", &enc.apply(&o.key));
    w.elem("LastModified", &xml_time(o.last_modified));
    w.elem("ETag", &o.quoted_etag());
    w.elem("Size", &o.size.to_string());
    if let Some(id) = owner {
        super::bucket::owner(w, "Owner", id);
    }
    w.elem(
        "StorageClass",
        o.attrs
            .extra
            .get("x-amz-storage-class")
            .map_or("STANDARD", String::as_str),
    );
    w.close("Contents");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_keys_rules() {
        assert_eq!(max_keys(None).unwrap(), 1000);
        assert_eq!(max_keys(Some("5")).unwrap(), 5);
        assert_eq!(max_keys(Some("0")).unwrap(), 0);
        assert_eq!(max_keys(Some("5000")).unwrap(), 1000);
        for bad in ["-1", "abc", "99999999999"] {
            assert!(max_keys(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn url_encoding_and_tokens() {
        assert_eq!(listing_encode("a b+c/d\u{e9}"), "a+b%2Bc/d%C3%A9");
        assert_eq!(listing_encode("foo+1/"), "foo%2B1/");
        assert_eq!(listing_encode("100%.csv"), "100%25.csv");
        assert_eq!(crate::request::form_encode("a b/c"), "a+b%2Fc");
        assert_eq!(key_from_token(&token_for("k/\u{e9}")).unwrap(), "k/\u{e9}");
        assert!(key_from_token("!!").is_err());
        assert!(key_from_token("").is_err());
        assert!(key_from_token(&BASE64.encode("a key the client made up")).is_err());
    }
}
