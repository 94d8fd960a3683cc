//! Tag sets: an object's (at most 10 tags) and a bucket's (at most 50), as S3 reads them
//! from a `<Tagging>` document (Put*Tagging, the POST form's `tagging` field) or from the
//! `x-amz-tagging` header (PutObject, CopyObject, CreateMultipartUpload), checks them and
//! writes them back. The checks and their messages follow AWS (evidence and sources in
//! `docs/tagging-evidence.md`); where AWS's wording is not on record ours says so.
//!
//! A tag set keeps the order it was given in: S3 returns the tags it was sent, and a
//! client comparing them does not sort them first.

use crate::error::{S3Error, S3ErrorCode};
use crate::xml::{XmlWriter, malformed, parse_tree_limited};

/// One tag.
pub type Tag = (String, String);

/// What a tag set belongs to: the two have different limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Object,
    Bucket,
}

impl Owner {
    /// "You can associate up to 10 tags with an object"; a bucket takes up to 50.
    pub fn max_tags(self) -> usize {
        match self {
            Owner::Object => 10,
            Owner::Bucket => 50,
        }
    }
}

/// The longest tag key and value, in UTF-16 code units: "Amazon S3 object tags are
/// internally represented in UTF-16. Note that in UTF-16, characters consume either 1
/// or 2 character positions" (the user guide's object tagging page).
pub const MAX_KEY_UNITS: usize = 128;
pub const MAX_VALUE_UNITS: usize = 256;

fn invalid_key(key: &str, why: String) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidTag,
        "The TagKey you have provided is invalid",
    )
    .extra("TagKey", key)
    .reason(why)
}

fn invalid_value(key: &str, value: &str, why: String) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidTag,
        "The TagValue you have provided is invalid",
    )
    .extra("TagKey", key)
    .extra("TagValue", value)
    .reason(why)
}

/// The characters a tag key or value may hold: "letters, numbers, and spaces
/// representable in UTF-8, and the following characters: + - = . _ : / @" (AWS's
/// pattern `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`). `\p{Z}` is the separators (spaces, not
/// tabs or line breaks), which is what `is_whitespace` without the controls leaves.
fn allowed(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '+' | '-' | '=' | '.' | '_' | ':' | '/' | '@')
}

const ALLOWED: &str = "letters, digits, spaces and + - = . _ : / @";

/// Checks a tag set against S3's rules, in the order AWS applies them: each tag's key
/// and value, then duplicate keys, then the count (a set of 51 bucket tags with a bad one
/// is refused for the bad tag, as observed on AWS by scality/cloudserver#4451).
///
/// Codes and messages, from replies recorded against AWS (docs/tagging-evidence.md): a
/// bad key or value, including one too long or an empty key, is `InvalidTag` "The
/// TagKey/TagValue you have provided is invalid" with `<TagKey>` (and `<TagValue>`); an
/// `aws:` key is "Your TagKey cannot be prefixed with aws:" on an object and "System
/// tags cannot be added/updated by requester" on a bucket; a duplicate is "Cannot provide
/// multiple Tags with the same key"; too many is `BadRequest`, not `InvalidTag`.
pub fn check(tags: &[Tag], owner: Owner) -> Result<(), S3Error> {
    for (key, value) in tags {
        let key_units = key.encode_utf16().count();
        if key_units == 0 {
            return Err(invalid_key(key, "a tag key may not be empty".into()));
        }
        if key_units > MAX_KEY_UNITS {
            return Err(invalid_key(
                key,
                format!("the key is {key_units} UTF-16 units long; S3 allows {MAX_KEY_UNITS}"),
            ));
        }
        if let Some(c) = key.chars().find(|&c| !allowed(c)) {
            return Err(invalid_key(
                key,
                format!("the key holds {c:?}; tag keys take {ALLOWED}"),
            ));
        }
        if key.starts_with("aws:") {
            let message = match owner {
                Owner::Object => "Your TagKey cannot be prefixed with aws:",
                Owner::Bucket => "System tags cannot be added/updated by requester",
            };
            return Err(S3Error::with_message(S3ErrorCode::InvalidTag, message)
                .extra("TagKey", key)
                .reason("the aws: prefix is reserved for tags AWS sets"));
        }
        let value_units = value.encode_utf16().count();
        if value_units > MAX_VALUE_UNITS {
            return Err(invalid_value(
                key,
                value,
                format!(
                    "the value is {value_units} UTF-16 units long; S3 allows {MAX_VALUE_UNITS}"
                ),
            ));
        }
        if let Some(c) = value.chars().find(|&c| !allowed(c)) {
            return Err(invalid_value(
                key,
                value,
                format!("the value holds {c:?}; tag values take {ALLOWED}"),
            ));
        }
    }
    for (i, (key, _)) in tags.iter().enumerate() {
        if tags[..i].iter().any(|(k, _)| k == key) {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidTag,
                "Cannot provide multiple Tags with the same key",
            )
            .extra("TagKey", key)
            .reason(format!("the key {key:?} appears more than once")));
        }
    }
    if tags.len() > owner.max_tags() {
        let message = match owner {
            Owner::Object => "Object tags cannot be greater than 10",
            Owner::Bucket => "Bucket tag count cannot be greater than 50",
        };
        return Err(
            S3Error::with_message(S3ErrorCode::BadRequest, message).reason(format!(
                "{} tags; S3 allows at most {}",
                tags.len(),
                owner.max_tags()
            )),
        );
    }
    Ok(())
}

/// Parses and checks a `<Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging>`
/// document. A tag without `<Key>` or `<Value>`, or an element S3's schema does not have,
/// is `MalformedXML`.
pub fn parse_document(bytes: &[u8], owner: Owner) -> Result<Vec<Tag>, S3Error> {
    // A tag is three elements; the bound leaves room for a set over the limit, so that
    // one is answered with its own InvalidTag.
    let doc = parse_tree_limited(bytes, 1024)?;
    if doc.name != "Tagging" {
        return Err(malformed(format!(
            "expected <Tagging>, found <{}>",
            doc.name
        )));
    }
    doc.only(&["TagSet"])?;
    let set = doc
        .one("TagSet")?
        .ok_or_else(|| malformed("<Tagging> needs a <TagSet>"))?;
    set.only(&["Tag"])?;
    let mut tags = Vec::new();
    for tag in set.all("Tag") {
        tag.only(&["Key", "Value"])?;
        let key = tag
            .one("Key")?
            .ok_or_else(|| malformed("a <Tag> needs a <Key>"))?;
        let value = tag
            .one("Value")?
            .ok_or_else(|| malformed("a <Tag> needs a <Value>"))?;
        tags.push((key.text.clone(), value.text.clone()));
    }
    check(&tags, owner)?;
    Ok(tags)
}

/// The `x-amz-tagging` a write asks for: the header, or on a SigV4 presigned URL the
/// query parameter SDK presigners hoist it into by default (JS v3, Java v2: the signature
/// covers it; `X-Amz-SignedHeaders` is then just `host`). Real S3 applies the hoisted form
/// (floci-io/floci#3608, verified against S3 in eu-central-1, 2026-08), though reports from
/// 2017–2022 saw it ignored (aws/aws-sdk-js-v3#3496, aws-sdk-ruby#3137): the latest
/// verification is followed (docs/tagging-evidence.md). The header wins when both are sent.
pub fn requested(req: &crate::request::S3Request) -> Option<&str> {
    req.header("x-amz-tagging").or_else(|| {
        req.has_query("X-Amz-Signature")
            .then(|| req.query_param("x-amz-tagging"))
            .flatten()
    })
}

/// Parses and checks the `x-amz-tagging` header: "The tag-set must be encoded as URL
/// Query parameters" (`k1=v1&k2=v2`); a key without `=` has the empty value, and `+` is a
/// space as in any query string.
pub fn parse_header(raw: &str) -> Result<Vec<Tag>, S3Error> {
    let refused = |why: String| {
        S3Error::invalid_argument(
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
            "x-amz-tagging",
            raw,
        )
        .reason(why)
    };
    let decode = |s: &str| -> Result<String, S3Error> {
        // A `%` must start an escape (`key%` is refused as badly encoded).
        let bytes = s.as_bytes();
        if let Some(i) = (0..bytes.len()).find(|&i| {
            bytes[i] == b'%'
                && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                    && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        }) {
            return Err(refused(format!(
                "{s:?} has a '%' at {i} that does not start a %XX escape"
            )));
        }
        percent_encoding::percent_decode_str(&s.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| refused(format!("{s:?} decodes to bytes that are not UTF-8")))
    };
    let mut tags = Vec::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        tags.push((decode(k)?, decode(v)?));
    }
    for (i, (key, _)) in tags.iter().enumerate() {
        if tags[..i].iter().any(|(k, _)| k == key) {
            return Err(refused(format!("the tag {key:?} appears more than once")));
        }
    }
    check(&tags, Owner::Object)?;
    Ok(tags)
}

/// The `<Tagging>` document Get*Tagging answers.
pub fn to_document(tags: &[Tag]) -> String {
    let mut w = XmlWriter::new();
    w.open_ns("Tagging");
    w.open("TagSet");
    for (k, v) in tags {
        w.open("Tag");
        w.elem("Key", k);
        w.elem("Value", v);
        w.close("Tag");
    }
    w.close("TagSet");
    w.close("Tagging");
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(pairs: &[(&str, &str)]) -> Vec<Tag> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn message(r: Result<impl std::fmt::Debug, S3Error>) -> (S3ErrorCode, String) {
        let e = r.unwrap_err();
        (e.code, e.message.into_owned())
    }

    #[test]
    fn the_header_decodes_as_a_query_string() {
        assert_eq!(
            parse_header("a=1&b%20c=d+e&flag&empty=").unwrap(),
            tags(&[("a", "1"), ("b c", "d e"), ("flag", ""), ("empty", "")])
        );
        assert_eq!(parse_header("").unwrap(), Vec::<Tag>::new());
        let (code, msg) = message(parse_header("a=1&a=2"));
        assert_eq!(code, S3ErrorCode::InvalidArgument);
        assert!(msg.contains("without tag name duplicates"), "{msg}");
        assert_eq!(
            message(parse_header("a=%FF")).0,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(
            message(parse_header("key%")).0,
            S3ErrorCode::InvalidArgument
        );
        assert_eq!(message(parse_header("a%2A=1")).0, S3ErrorCode::InvalidTag);
    }

    #[test]
    fn limits_and_characters() {
        let eleven: Vec<Tag> = (0..11).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            message(check(&eleven, Owner::Object)),
            (
                S3ErrorCode::BadRequest,
                "Object tags cannot be greater than 10".into()
            )
        );
        check(&eleven, Owner::Bucket).unwrap();
        check(&eleven[..10], Owner::Object).unwrap();
        let fifty_one: Vec<Tag> = (0..51).map(|i| (format!("k{i}"), String::new())).collect();
        assert_eq!(
            message(check(&fifty_one, Owner::Bucket)),
            (
                S3ErrorCode::BadRequest,
                "Bucket tag count cannot be greater than 50".into()
            )
        );
        // A bad tag is reported before the count.
        let mut bad = eleven.clone();
        bad[10].0 = "a*b".into();
        assert_eq!(
            message(check(&bad, Owner::Object)).0,
            S3ErrorCode::InvalidTag
        );

        let e = check(&tags(&[(&"k".repeat(129), "v")]), Owner::Object).unwrap_err();
        assert_eq!(e.message, "The TagKey you have provided is invalid");
        // Lengths are UTF-16 units: 128 `é` fit, 65 emoji-sized letters (2 units) do not.
        check(
            &tags(&[(&"é".repeat(128), &"é".repeat(256))]),
            Owner::Object,
        )
        .unwrap();
        let wide = "\u{20000}".repeat(65); // CJK Extension B: a letter outside the BMP
        assert_eq!(
            message(check(&tags(&[(&wide, "v")]), Owner::Object)).1,
            "The TagKey you have provided is invalid"
        );
        check(&tags(&[(&"\u{20000}".repeat(64), "v")]), Owner::Object).unwrap();
        assert_eq!(
            message(check(&tags(&[("k", &"v".repeat(257))]), Owner::Object)).1,
            "The TagValue you have provided is invalid"
        );
        assert_eq!(
            message(check(&tags(&[("a*b", "v")]), Owner::Object)).1,
            "The TagKey you have provided is invalid"
        );
        assert_eq!(
            message(check(&tags(&[("k", "v\n")]), Owner::Object)).1,
            "The TagValue you have provided is invalid"
        );
        assert_eq!(
            message(check(&tags(&[("", "v")]), Owner::Object)).1,
            "The TagKey you have provided is invalid"
        );
        check(
            &tags(&[("Project X_1", "a+b-c=d.e_f:g/h@i \u{a0}日本")]),
            Owner::Object,
        )
        .unwrap();
        assert_eq!(
            message(check(&tags(&[("k", "1"), ("k", "2")]), Owner::Object)).1,
            "Cannot provide multiple Tags with the same key"
        );
        assert_eq!(
            message(check(&tags(&[("aws:x", "1")]), Owner::Object)).1,
            "Your TagKey cannot be prefixed with aws:"
        );
        assert_eq!(
            message(check(&tags(&[("aws:x", "1")]), Owner::Bucket)).1,
            "System tags cannot be added/updated by requester"
        );
        // Only the lower-case prefix is reserved.
        check(&tags(&[("AWS:x", "1"), ("my:aws:x", "2")]), Owner::Object).unwrap();
    }

    #[test]
    fn documents_round_trip_and_malformed_ones_are_refused() {
        let set = tags(&[("b", "2"), ("a", "x + y = z@/:"), ("c", "")]);
        assert_eq!(
            parse_document(to_document(&set).as_bytes(), Owner::Object).unwrap(),
            set
        );
        let empty = b"<Tagging><TagSet/></Tagging>";
        assert!(parse_document(empty, Owner::Object).unwrap().is_empty());
        for bad in [
            &b"<Tagging/>"[..],
            b"<Tags><TagSet/></Tags>",
            b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
            b"<Tagging><TagSet><Tag><Value>v</Value></Tag></TagSet></Tagging>",
            b"<Tagging><TagSet><Tag><Key>k</Key><Value/><Extra/></Tag></TagSet></Tagging>",
            b"<Tagging><TagSet><Tag><Key>k</Key><Key>j</Key><Value/></Tag></TagSet></Tagging>",
            b"<Tagging><TagSet>",
        ] {
            assert_eq!(
                message(parse_document(bad, Owner::Object)).0,
                S3ErrorCode::MalformedXML,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
