//! Targets for documents and values the operations parse: CORS, XML bodies, ranges and
//! conditionals, and the key-to-path mapping.

use std::path::{Component, Path};

use http::{HeaderMap, HeaderValue};

use crate::cors::CorsConfiguration;
use crate::storage::keymap::{ObjectName, check_bucket_name, check_document_name};
use crate::storage::{ByteRange, ObjectMeta};
use crate::xml::{Element, parse_tree};

use super::*;

/// A CORS document, then NUL-separated: `Origin`, the method, and
/// `Access-Control-Request-Headers`. Parses the document, checks that the copy GetBucketCors
/// returns (and that is stored) parses to the same rules, and matches the request against it.
pub fn cors_xml_and_match(data: &[u8]) {
    let mut parts = data.split(|&b| b == 0);
    let xml = parts.next().unwrap_or_default();
    let Ok(config) = CorsConfiguration::parse(xml) else {
        return;
    };
    let stored = config.to_xml();
    assert_eq!(
        CorsConfiguration::parse(stored.as_bytes()).as_ref().ok(),
        Some(&config),
        "the stored document {stored:?} reads back differently"
    );
    let text = |p: Option<&[u8]>| String::from_utf8_lossy(p.unwrap_or_default()).into_owned();
    let (origin, method, requested) = (text(parts.next()), text(parts.next()), text(parts.next()));
    let requested = crate::cors::requested_headers(Some(&requested));
    let requested: Vec<&str> = requested.iter().map(String::as_str).collect();
    let actual = config.actual_rule(&origin, &method);
    // A preflight asking for no headers matches exactly what an actual request matches.
    assert_eq!(config.preflight_rule(&origin, &method, &[]), actual);
    let headers = match config.preflight_rule(&origin, &method, &requested) {
        Some(rule) => crate::cors::preflight_headers(rule, &origin, &requested),
        None => Vec::new(),
    };
    let actual = actual.map(|rule| crate::cors::actual_headers(rule, &origin));
    let header_ok = HeaderValue::from_str(&origin).is_ok()
        && requested.iter().all(|h| HeaderValue::from_str(h).is_ok());
    if header_ok {
        // Values from a validated document and a header-safe request are header-safe
        // (`cors::apply` would silently drop one that is not).
        for (name, value) in headers.iter().chain(actual.iter().flatten()) {
            assert!(
                HeaderValue::from_str(value).is_ok(),
                "{name}: {value:?} cannot be sent"
            );
        }
    }
}

/// Every XML request body: the same bytes through CompleteMultipartUpload, DeleteObjects,
/// CreateBucketConfiguration, PutBucketCors and tagging parsing.
pub fn xml_bodies(data: &[u8]) {
    if let Ok(parts) = crate::ops::multipart::parse_complete(data) {
        assert!(parts.iter().all(|p| (1..=10_000).contains(&p.number)));
    }
    let _ = CorsConfiguration::parse(data);
    if let Ok((keys, _quiet)) = crate::ops::delete::parse_delete(data) {
        assert!(
            (1..=1000).contains(&keys.len()),
            "a Delete names 1 to 1000 keys"
        );
        assert!(keys.iter().all(|(k, _)| !k.is_empty()));
    }
    let _ = crate::ops::bucket::parse_location_constraint(data);
    tagging(data);
    let Ok(doc) = parse_tree(data) else {
        return;
    };
    assert!(depth(&doc) <= 32, "parse_tree bounds the depth");
}

/// The same bytes as a `<Tagging>` document (object and bucket rules) and as an
/// `x-amz-tagging` header: an accepted set obeys S3's limits and reads back unchanged from
/// the document GetObjectTagging answers.
fn tagging(data: &[u8]) {
    use crate::tagging::{Owner, check, parse_document, parse_header, to_document};
    for owner in [Owner::Object, Owner::Bucket] {
        if let Ok(tags) = parse_document(data, owner) {
            assert!(tags.len() <= owner.max_tags());
            assert!(check(&tags, owner).is_ok());
            let again = parse_document(to_document(&tags).as_bytes(), owner);
            assert_eq!(
                again.ok().as_ref(),
                Some(&tags),
                "the answered document reads back"
            );
        }
    }
    if let Ok(header) = std::str::from_utf8(data)
        && let Ok(tags) = parse_header(header)
    {
        assert!(check(&tags, Owner::Object).is_ok());
    }
}

fn depth(e: &Element) -> usize {
    1 + e.children.iter().map(depth).max().unwrap_or(0)
}

/// Lines: the object size (decimal), `Range`, `If-Match`, `If-None-Match`,
/// `If-Modified-Since`, `If-Unmodified-Since`, `x-amz-copy-source-range`. Parses the range
/// and resolves it against the size, evaluates the read conditions against an object of
/// that size with ETag [`ETAG`] last modified at [`NOW`], and the copy range.
pub fn range_and_conditionals(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut it = text.split('\n');
    let size: u64 = it.next().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
    let range = it.next().unwrap_or_default();
    if let Some(r) = ByteRange::parse(range) {
        assert_eq!(ByteRange::parse(&r.to_string()), Some(r), "{range:?}");
        if let Ok((a, b)) = r.resolve(size) {
            assert!(a <= b && b < size, "{r} in {size} bytes gave {a}-{b}");
        }
    }
    let mut map = HeaderMap::new();
    let names = [
        "if-match",
        "if-none-match",
        "if-modified-since",
        "if-unmodified-since",
    ];
    let mut values = Vec::new();
    for name in names {
        let v = it.next().unwrap_or_default();
        values.push(v);
        if let Ok(v) = HeaderValue::from_str(v) {
            map.insert(name, v);
        }
    }
    for list in &values[..2] {
        let quoted = format!("\"{ETAG}\"");
        let _ = crate::ops::conditions::etag_matches(list, ETAG);
        if list
            .split(',')
            .any(|t| t.trim() == quoted || t.trim() == "*")
        {
            assert!(crate::ops::conditions::etag_matches(list, ETAG), "{list:?}");
        }
    }
    if let Ok(v) = HeaderValue::from_str(range) {
        map.insert("range", v);
    }
    let copy_range = it.next().unwrap_or_default();
    if let Some(req) = request(b"GET", b"/examplebucket/test.txt", map) {
        let meta = ObjectMeta {
            key: "test.txt".into(),
            size,
            etag: ETAG.into(),
            last_modified: NOW,
            attrs: Default::default(),
            parts: Vec::new(),
            part_checksums: Vec::new(),
        };
        let _ = crate::ops::object::check_read_conditions(&req, &meta);
    }
    if let Ok((a, b)) = crate::ops::multipart::copy_range(copy_range, size) {
        assert!(a <= b && b < size, "copy range {copy_range:?} gave {a}-{b}");
    }
}

/// An object key (UTF-8) maps to `<fanout>/<file>`: two plain components of lowercase hex
/// under the objects directory, whatever the key; NUL separates a second key, which maps
/// elsewhere unless it is the same key. Bucket and document names that storage accepts
/// are one plain path component.
pub fn key_mapping(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (key, other) = text.split_once('\0').unwrap_or((text, ""));
    let name = ObjectName::of_key(key);
    assert!(ObjectName::is_object_file_name(&name.file), "{key:?}");
    assert!(ObjectName::is_fanout_name(&name.fanout), "{key:?}");
    assert!(name.file.starts_with(&name.fanout));
    let root = Path::new("/data/buckets/b/objects");
    let full = root.join(name.relative_path());
    let rel = full.strip_prefix(root).expect("under the root");
    let parts: Vec<_> = rel.components().collect();
    assert_eq!(parts.len(), 2, "{key:?} → {full:?}");
    assert!(parts.iter().all(|c| matches!(c, Component::Normal(_))));
    assert_eq!(key == other, name == ObjectName::of_key(other));
    for candidate in [key, other] {
        let one_component = || {
            let mut c = Path::new(candidate).components();
            matches!(c.next(), Some(Component::Normal(n)) if n == candidate) && c.next().is_none()
        };
        if check_bucket_name(candidate).is_ok() {
            assert!(one_component(), "bucket name {candidate:?}");
        }
        if check_document_name(candidate).is_ok() {
            assert!(one_component(), "document name {candidate:?}");
        }
    }
}
