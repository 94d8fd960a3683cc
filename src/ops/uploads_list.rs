//! ListMultipartUploads: the bucket's uploads in progress, after the markers, grouped
//! by the delimiter, one page.

use http::Response;

use super::list::UrlEncoding;
use super::multipart::{owners, page_size};
use super::{Ctx, xml_response, xml_time};
use crate::body::ResponseBody;
use crate::error::S3Error;
use crate::storage::Upload;
use crate::xml::XmlWriter;

/// One entry of a ListMultipartUploads page: an upload, or the common prefix that
/// stands for every upload rolled up under it (which counts once towards `max-uploads`).
enum Entry<'a> {
    Upload(&'a Upload),
    Prefix(String),
}

/// Where a ListMultipartUploads page starts and how it groups: the query's
/// `prefix`, `delimiter`, `key-marker` and `upload-id-marker`.
struct UploadsQuery<'a> {
    prefix: &'a str,
    delimiter: Option<&'a str>,
    key_marker: &'a str,
    /// Ignored without a key marker, as S3 ignores it.
    id_marker: Option<&'a str>,
    max: usize,
}

/// Uploads after the markers, grouped by the delimiter, one page.
pub async fn list_uploads(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    let q = |n: &str| ctx.req.query_param(n);
    let key_marker = q("key-marker").unwrap_or("");
    let query = UploadsQuery {
        prefix: q("prefix").unwrap_or(""),
        delimiter: q("delimiter").filter(|d| !d.is_empty()),
        key_marker,
        id_marker: q("upload-id-marker").filter(|_| !key_marker.is_empty()),
        max: page_size(ctx, "max-uploads")?,
    };
    let enc = super::list::url_encoding(ctx.req)?;
    let uploads = ctx.storage.list_uploads(bucket).await?;
    let (entries, truncated) = uploads_page(&uploads, &query);
    let bucket_owner = super::acl::rules(ctx, bucket)?.owner();

    let mut w = XmlWriter::new();
    w.open_ns("ListMultipartUploadsResult");
    w.elem("Bucket", bucket);
    w.elem("KeyMarker", &enc.apply(query.key_marker));
    w.elem("UploadIdMarker", query.id_marker.unwrap_or(""));
    if truncated {
        write_next_markers(&mut w, entries.last(), &enc);
    }
    w.elem("Prefix", &enc.apply(query.prefix));
    if let Some(d) = query.delimiter {
        w.elem("Delimiter", &enc.apply(d));
    }
    w.elem("MaxUploads", &query.max.to_string());
    if enc.on {
        w.elem("EncodingType", "url");
    }
    w.elem("IsTruncated", if truncated { "true" } else { "false" });
    for e in &entries {
        if let Entry::Upload(u) = e {
            write_upload(&mut w, u, &enc, bucket_owner);
        }
    }
    for e in &entries {
        if let Entry::Prefix(p) = e {
            w.open("CommonPrefixes");
            w.elem("Prefix", &enc.apply(p));
            w.close("CommonPrefixes");
        }
    }
    w.close("ListMultipartUploadsResult");
    Ok(xml_response(w.finish()))
}

/// The page's entries, in key (then upload id) order, and whether more follow. A
/// prefix at or before the key marker was listed on an earlier page, and uploads that
/// roll up into the prefix just listed are one entry, not several.
fn uploads_page<'a>(uploads: &'a [Upload], query: &UploadsQuery<'_>) -> (Vec<Entry<'a>>, bool) {
    let UploadsQuery {
        prefix,
        delimiter,
        key_marker,
        id_marker,
        max,
    } = *query;
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for u in uploads.iter().filter(|u| u.key.starts_with(prefix)) {
        let after_marker = match id_marker {
            Some(id) => {
                u.key.as_str() > key_marker || (u.key == key_marker && u.upload_id.as_str() > id)
            }
            None => u.key.as_str() > key_marker,
        };
        if !after_marker {
            continue;
        }
        let rolled = delimiter.and_then(|d| {
            u.key[prefix.len()..]
                .find(d)
                .map(|i| u.key[..prefix.len() + i + d.len()].to_string())
        });
        if let Some(p) = &rolled {
            if matches!(entries.last(), Some(Entry::Prefix(last)) if last == p) {
                continue;
            }
            if p.as_str() <= key_marker {
                continue;
            }
        }
        if entries.len() == max {
            return (entries, true);
        }
        entries.push(match rolled {
            Some(p) => Entry::Prefix(p),
            None => Entry::Upload(u),
        });
    }
    (entries, false)
}

/// `NextKeyMarker` and `NextUploadIdMarker` of a truncated page: where the next page
/// starts after. A common prefix has no upload id, so S3 sends an empty one.
fn write_next_markers(w: &mut XmlWriter, last: Option<&Entry<'_>>, enc: &UrlEncoding) {
    match last {
        Some(Entry::Upload(u)) => {
            w.elem("NextKeyMarker", &enc.apply(&u.key));
            w.elem("NextUploadIdMarker", &u.upload_id);
        }
        Some(Entry::Prefix(p)) => {
            w.elem("NextKeyMarker", &enc.apply(p));
            w.elem("NextUploadIdMarker", "");
        }
        None => {}
    }
}

/// One upload's `<Upload>` element; the upload id is opaque, so never URL-encoded.
fn write_upload(w: &mut XmlWriter, u: &Upload, enc: &UrlEncoding, bucket_owner: &str) {
    w.open("Upload");
    w.elem("Key", &enc.apply(&u.key));
    w.elem("UploadId", &u.upload_id);
    owners(w, u, bucket_owner);
    w.elem(
        "StorageClass",
        u.attrs
            .extra
            .get("x-amz-storage-class")
            .map_or("STANDARD", String::as_str),
    );
    w.elem("Initiated", &xml_time(u.initiated));
    if let Some(c) = u.checksum {
        w.elem("ChecksumAlgorithm", c.algorithm.name());
        w.elem("ChecksumType", c.kind.as_str());
    }
    w.close("Upload");
}
