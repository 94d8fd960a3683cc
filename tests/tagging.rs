//! Object and bucket tagging over the wire: Put/Get/DeleteObjectTagging, `x-amz-tagging`
//! on PutObject (header-signed and presigned), CopyObject's `x-amz-tagging-directive`,
//! CreateMultipartUpload, the POST form's `tagging` field, `x-amz-tagging-count`, bucket
//! tagging, every refusal with S3's code and message, and the permission rules that come
//! with tags (s3:PutObjectTagging for a tagged upload, s3:ExistingObjectTag,
//! s3:RequestObjectTag). AWS's answers and their sources are in docs/tagging-evidence.md.

mod common;

use std::time::Duration;

use base64::Engine;
use common::*;
use strict_s3::config::{Config, Credential};
use strict_s3::policy::Policy;

const TAGGER: (&str, &str) = ("AKIATAGGER0000000000", "tagger-secret");
const PLAIN: (&str, &str) = ("AKIAPLAIN00000000000", "plain-secret");

/// Reads any object of `bkt` tagged `class=public`, writes objects only when they are
/// tagged `project=apollo`, and reads and writes tags.
const TAGGER_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bkt/*",
     "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "public"}}},
    {"Effect": "Allow", "Action": ["s3:PutObject", "s3:PutObjectTagging"],
     "Resource": "arn:aws:s3:::bkt/*",
     "Condition": {"StringEquals": {"s3:RequestObjectTag/project": "apollo"}}},
    {"Effect": "Allow", "Action": "s3:GetObjectTagging", "Resource": "arn:aws:s3:::bkt/*"}
  ]
}"#;

/// GetObject and PutObject, nothing about tags.
const PLAIN_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": "arn:aws:s3:::bkt/*"}]
}"#;

async fn server() -> TestServer {
    let user = |name, (ak, sk): (&str, &str), policy: &str| {
        Credential::user(name, ak, sk, Some(Policy::parse_identity(policy).unwrap()))
    };
    TestServer::start(
        Config {
            buckets: vec!["bkt".into(), "bkt2".into()],
            credentials: vec![
                Credential::new(AK, SK),
                user("tagger", TAGGER, TAGGER_POLICY),
                user("plain", PLAIN, PLAIN_POLICY),
            ],
            ..Config::in_memory()
        },
        t0(),
    )
    .await
}

fn owner(s: &TestServer, r: Raw) -> Raw {
    signed(s, r, (AK, SK))
}

fn md5(b: &[u8]) -> String {
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b))
}

/// A `<Tagging>` document of `pairs` (written by hand: the server's writer is not the
/// judge of its own reader).
fn document(pairs: &[(&str, &str)]) -> String {
    let tags: String = pairs
        .iter()
        .map(|(k, v)| format!("<Tag><Key>{k}</Key><Value>{v}</Value></Tag>"))
        .collect();
    format!(
        r#"<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>{tags}</TagSet></Tagging>"#
    )
}

/// PutObjectTagging, with the Content-MD5 SDKs always send.
fn put_tagging(target: &str, doc: &str) -> Raw {
    Raw::new("PUT", target)
        .header("content-md5", &md5(doc.as_bytes()))
        .body(doc.as_bytes())
}

/// The `(Key, Value)` pairs of a `<Tagging>` answer, in order.
fn tag_set(resp: &Resp) -> Vec<(String, String)> {
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let text = resp.body_text();
    assert!(text.contains("<Tagging"), "{text}");
    text.split("<Tag>")
        .skip(1)
        .map(|t| {
            let field = |name: &str| {
                let open = format!("<{name}>");
                let start = t.find(&open).map(|i| i + open.len());
                match start {
                    Some(start) => t[start..t.find(&format!("</{name}>")).unwrap()].to_string(),
                    None => {
                        assert!(t.contains(&format!("<{name}/>")), "{t}");
                        String::new()
                    }
                }
            };
            (field("Key"), field("Value"))
        })
        .collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    p.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test]
async fn object_tags_are_set_read_replaced_and_removed() {
    let s = server().await;
    let put = owner(
        &s,
        Raw::new("PUT", "/bkt/report.csv")
            .header("x-amz-tagging", "project=apollo&stage=draft%20one&flag")
            .body(b"a,b"),
    );
    assert_eq!(s.send(&put).await.status, 200);
    let get = s
        .send(&owner(&s, Raw::new("GET", "/bkt/report.csv?tagging")))
        .await;
    assert_eq!(
        tag_set(&get),
        pairs(&[("project", "apollo"), ("stage", "draft one"), ("flag", "")])
    );
    let obj = s.send(&owner(&s, Raw::new("GET", "/bkt/report.csv"))).await;
    assert_eq!(obj.header("x-amz-tagging-count"), Some("3"));
    let head = s
        .send(&owner(&s, Raw::new("HEAD", "/bkt/report.csv")))
        .await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("x-amz-tagging-count"), Some("3"));

    // PutObjectTagging replaces the whole set; the object's body and ETag stay.
    let doc = document(&[("owner", "ops@example.com"), ("tier", "gold + 1")]);
    let resp = s
        .send(&owner(&s, put_tagging("/bkt/report.csv?tagging", &doc)))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let get = s
        .send(&owner(&s, Raw::new("GET", "/bkt/report.csv?tagging")))
        .await;
    assert_eq!(
        tag_set(&get),
        pairs(&[("owner", "ops@example.com"), ("tier", "gold + 1")])
    );
    let obj = s.send(&owner(&s, Raw::new("GET", "/bkt/report.csv"))).await;
    assert_eq!(
        (obj.body.as_slice(), obj.header("x-amz-tagging-count")),
        (&b"a,b"[..], Some("2"))
    );
    // versionId=null names the only version an unversioned object has.
    let get = s
        .send(&owner(
            &s,
            Raw::new("GET", "/bkt/report.csv?tagging&versionId=null"),
        ))
        .await;
    assert_eq!(tag_set(&get).len(), 2);

    let del = s
        .send(&owner(&s, Raw::new("DELETE", "/bkt/report.csv?tagging")))
        .await;
    assert_eq!(del.status, 204, "{}", del.body_text());
    let get = s
        .send(&owner(&s, Raw::new("GET", "/bkt/report.csv?tagging")))
        .await;
    assert!(tag_set(&get).is_empty(), "{}", get.body_text());
    let obj = s.send(&owner(&s, Raw::new("GET", "/bkt/report.csv"))).await;
    assert_eq!((obj.status, obj.header("x-amz-tagging-count")), (200, None));
    // A PUT of the object replaces its tags too: without x-amz-tagging it has none.
    s.send(&owner(
        &s,
        put_tagging("/bkt/report.csv?tagging", &document(&[("a", "1")])),
    ))
    .await;
    s.put("/bkt/report.csv", b"new").await;
    let get = s
        .send(&owner(&s, Raw::new("GET", "/bkt/report.csv?tagging")))
        .await;
    assert!(tag_set(&get).is_empty());
}

#[tokio::test]
async fn object_tagging_refusals() {
    let s = server().await;
    s.put("/bkt/k", b"x").await;
    let send = |r: Raw| {
        let r = owner(&s, r);
        let s = &s;
        async move { s.send(&r).await }
    };
    // No such key, and a version that does not exist.
    send(Raw::new("GET", "/bkt/missing?tagging"))
        .await
        .assert_error(404, "NoSuchKey", Some("The specified key does not exist."));
    send(put_tagging(
        "/bkt/missing?tagging",
        &document(&[("a", "1")]),
    ))
    .await
    .assert_error(404, "NoSuchKey", None);
    send(Raw::new("DELETE", "/bkt/missing?tagging"))
        .await
        .assert_error(404, "NoSuchKey", None);
    // An unversioned bucket's objects have only the version `null`.
    let resp = send(Raw::new(
        "GET",
        "/bkt/k?tagging&versionId=3sL4kqtJlcpXroDTDmJ",
    ))
    .await;
    resp.assert_error(400, "InvalidArgument", Some("Invalid version id specified"));
    assert_eq!(resp.xml("ArgumentName").as_deref(), Some("versionId"));
    assert_eq!(
        resp.xml("ArgumentValue").as_deref(),
        Some("3sL4kqtJlcpXroDTDmJ")
    );

    // The limits, each with AWS's message.
    let eleven: Vec<(String, String)> = (0..11).map(|i| (format!("k{i}"), "v".into())).collect();
    let eleven: Vec<(&str, &str)> = eleven
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let long_key = "k".repeat(129);
    let long_value = "v".repeat(257);
    send(put_tagging("/bkt/k?tagging", &document(&eleven)))
        .await
        .assert_error(
            400,
            "BadRequest",
            Some("Object tags cannot be greater than 10"),
        );
    for (doc, message, tag_key, tag_value) in [
        (
            document(&[(&long_key, "v")]),
            "The TagKey you have provided is invalid",
            long_key.as_str(),
            None,
        ),
        (
            document(&[("k", &long_value)]),
            "The TagValue you have provided is invalid",
            "k",
            Some(long_value.as_str()),
        ),
        (
            document(&[("a*b", "v")]),
            "The TagKey you have provided is invalid",
            "a*b",
            None,
        ),
        (
            document(&[("k", "semi;colon")]),
            "The TagValue you have provided is invalid",
            "k",
            Some("semi;colon"),
        ),
        (
            document(&[("k", "1"), ("k", "2")]),
            "Cannot provide multiple Tags with the same key",
            "k",
            None,
        ),
        (
            document(&[("aws:createdBy", "me")]),
            "Your TagKey cannot be prefixed with aws:",
            "aws:createdBy",
            None,
        ),
    ] {
        let resp = send(put_tagging("/bkt/k?tagging", &doc)).await;
        resp.assert_error(400, "InvalidTag", Some(message));
        assert_eq!(resp.xml("TagKey").as_deref(), Some(tag_key));
        assert_eq!(resp.xml("TagValue").as_deref(), tag_value);
    }
    // Exactly at the limits is accepted.
    let ten = &eleven[..10];
    assert_eq!(
        send(put_tagging("/bkt/k?tagging", &document(ten)))
            .await
            .status,
        200
    );
    let (k128, v256) = ("é".repeat(128), "v".repeat(256));
    let resp = send(put_tagging("/bkt/k?tagging", &document(&[(&k128, &v256)]))).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());

    // Documents S3's schema does not have.
    for doc in [
        "<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
        "<Tagging/>",
        "<Tags><TagSet/></Tags>",
        "<Tagging><TagSet>",
    ] {
        send(put_tagging("/bkt/k?tagging", doc))
            .await
            .assert_error(
                400,
                "MalformedXML",
                Some("The XML you provided was not well-formed or did not validate against our published schema"),
            );
    }
    // A Content-MD5 that does not match is refused; none at all is accepted (S3 does not
    // require one here, though SDKs send a checksum).
    let doc = document(&[("a", "1")]);
    send(
        Raw::new("PUT", "/bkt/k?tagging")
            .header("content-md5", &md5(b"other"))
            .body(doc.as_bytes()),
    )
    .await
    .assert_error(400, "BadDigest", None);
    // After every refusal the object keeps the last accepted set.
    let get = send(Raw::new("GET", "/bkt/k?tagging")).await;
    assert_eq!(tag_set(&get), vec![(k128, v256)]);
    let resp = send(Raw::new("PUT", "/bkt/k?tagging").body(doc.as_bytes())).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(
        tag_set(&send(Raw::new("GET", "/bkt/k?tagging")).await),
        pairs(&[("a", "1")])
    );
}

#[tokio::test]
async fn the_tagging_header_is_checked_before_anything_is_stored() {
    let s = server().await;
    for (header, status, code, message) in [
        (
            "a=1&a=2",
            400,
            "InvalidArgument",
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
        ),
        (
            "a=%FF",
            400,
            "InvalidArgument",
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
        ),
        (
            "a%2Ab=1",
            400,
            "InvalidTag",
            "The TagKey you have provided is invalid",
        ),
        (
            "key%",
            400,
            "InvalidArgument",
            "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.",
        ),
        (
            "aws:owner=me",
            400,
            "InvalidTag",
            "Your TagKey cannot be prefixed with aws:",
        ),
        (
            "k0&k1&k2&k3&k4&k5&k6&k7&k8&k9&k10",
            400,
            "BadRequest",
            "Object tags cannot be greater than 10",
        ),
    ] {
        let resp = s
            .send(&owner(
                &s,
                Raw::new("PUT", "/bkt/t")
                    .header("x-amz-tagging", header)
                    .body(b"x"),
            ))
            .await;
        resp.assert_error(status, code, Some(message));
        if code == "InvalidArgument" {
            assert_eq!(resp.xml("ArgumentName").as_deref(), Some("x-amz-tagging"));
            assert_eq!(resp.xml("ArgumentValue").as_deref(), Some(header));
        }
        s.send(&owner(&s, Raw::new("GET", "/bkt/t")))
            .await
            .assert_error(404, "NoSuchKey", None);
    }
}

#[tokio::test]
async fn a_presigned_put_carries_its_signed_tags() {
    let s = server().await;
    let url = Raw::new("PUT", "/bkt/upload.bin")
        .header("x-amz-tagging", "source=browser&batch=7")
        .presign(&s.host, SK, REGION, s.clock_now(), Duration::from_secs(600));
    assert!(
        url.query_value("X-Amz-SignedHeaders")
            .unwrap()
            .contains("x-amz-tagging"),
        "the tagging header is signed into the URL"
    );
    let resp = s.send(&url.clone().body(b"payload")).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let get = s
        .send(&owner(&s, Raw::new("GET", "/bkt/upload.bin?tagging")))
        .await;
    assert_eq!(
        tag_set(&get),
        pairs(&[("source", "browser"), ("batch", "7")])
    );
    // Twin: the same URL with other tags no longer matches its signature.
    let forged = url
        .set_header("x-amz-tagging", "source=browser&batch=8")
        .body(b"payload");
    s.send(&forged)
        .await
        .assert_error(403, "SignatureDoesNotMatch", None);
}

/// SDK presigners (JS v3, Java v2) hoist `x-amz-tagging` into the query string, signed
/// by the URL's signature; S3 applies it from there.
#[tokio::test]
async fn a_presigned_put_applies_tags_hoisted_into_its_query() {
    let s = server().await;
    let url = Raw::new("PUT", "/bkt/hoisted?x-amz-tagging=source%3Dsdk%26batch%3D9").presign(
        &s.host,
        SK,
        REGION,
        s.clock_now(),
        Duration::from_secs(600),
    );
    assert_eq!(
        url.query_value("X-Amz-SignedHeaders").as_deref(),
        Some("host")
    );
    let resp = s.send(&url.clone().body(b"payload")).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let get = s
        .send(&owner(&s, Raw::new("GET", "/bkt/hoisted?tagging")))
        .await;
    assert_eq!(tag_set(&get), pairs(&[("source", "sdk"), ("batch", "9")]));
    // Twins: other tags in the query break the signature; bad ones are refused.
    let forged = url
        .clone()
        .set_query("x-amz-tagging", "source%3Dforged")
        .body(b"payload");
    s.send(&forged)
        .await
        .assert_error(403, "SignatureDoesNotMatch", None);
    let bad = Raw::new("PUT", "/bkt/hoisted2?x-amz-tagging=aws%3Ax%3D1")
        .presign(&s.host, SK, REGION, s.clock_now(), Duration::from_secs(600))
        .body(b"payload");
    s.send(&bad).await.assert_error(
        400,
        "InvalidTag",
        Some("Your TagKey cannot be prefixed with aws:"),
    );
    // A header-signed request's query parameter is not a tag set.
    let header_signed = owner(
        &s,
        Raw::new("PUT", "/bkt/plain?x-amz-tagging=a%3D1").body(b"x"),
    );
    assert_eq!(s.send(&header_signed).await.status, 200);
    let get = s
        .send(&owner(&s, Raw::new("GET", "/bkt/plain?tagging")))
        .await;
    assert!(tag_set(&get).is_empty());
}

#[tokio::test]
async fn copies_keep_or_replace_the_source_tags() {
    let s = server().await;
    s.send(&owner(
        &s,
        Raw::new("PUT", "/bkt/src")
            .header("x-amz-tagging", "a=1&b=2")
            .body(b"body"),
    ))
    .await;
    let copy = |dest: &str, extra: &[(&str, &str)]| {
        let mut r = Raw::new("PUT", dest).header("x-amz-copy-source", "/bkt/src");
        for (n, v) in extra {
            r = r.header(n, v);
        }
        owner(&s, r)
    };
    let tags_of = |key: &str| owner(&s, Raw::new("GET", &format!("/bkt/{key}?tagging")));
    // COPY is the default: the copy has the source's tags, even with a tagging header.
    assert_eq!(s.send(&copy("/bkt/c1", &[])).await.status, 200);
    assert_eq!(
        tag_set(&s.send(&tags_of("c1")).await),
        pairs(&[("a", "1"), ("b", "2")])
    );
    let resp = s
        .send(&copy("/bkt/c2", &[("x-amz-tagging", "ignored=yes")]))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(tag_set(&s.send(&tags_of("c2")).await).len(), 2);
    // REPLACE takes the header's tags, or none.
    let replace = [
        ("x-amz-tagging-directive", "REPLACE"),
        ("x-amz-tagging", "c=3"),
    ];
    assert_eq!(s.send(&copy("/bkt/c3", &replace)).await.status, 200);
    assert_eq!(tag_set(&s.send(&tags_of("c3")).await), pairs(&[("c", "3")]));
    let resp = s
        .send(&copy("/bkt/c4", &[("x-amz-tagging-directive", "REPLACE")]))
        .await;
    assert_eq!(resp.status, 200);
    assert!(tag_set(&s.send(&tags_of("c4")).await).is_empty());
    let resp = s
        .send(&copy("/bkt/c5", &[("x-amz-tagging-directive", "MERGE")]))
        .await;
    resp.assert_error(400, "InvalidArgument", Some("Unknown tagging directive."));
    assert_eq!(
        resp.xml("ArgumentName").as_deref(),
        Some("x-amz-tagging-directive")
    );
}

#[tokio::test]
async fn a_multipart_upload_is_tagged_when_it_completes() {
    let s = server().await;
    let create = s
        .send(&owner(
            &s,
            Raw::new("POST", "/bkt/big?uploads").header("x-amz-tagging", "kind=video"),
        ))
        .await;
    assert_eq!(create.status, 200, "{}", create.body_text());
    let id = create.xml("UploadId").unwrap();
    let part = s
        .send(&owner(
            &s,
            Raw::new("PUT", &format!("/bkt/big?partNumber=1&uploadId={id}")).body(b"part one"),
        ))
        .await;
    let etag = part.header("etag").unwrap().to_string();
    // Before it completes there is no object to tag.
    s.send(&owner(&s, Raw::new("GET", "/bkt/big?tagging")))
        .await
        .assert_error(404, "NoSuchKey", None);
    let done = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let resp = s
        .send(&owner(
            &s,
            Raw::new("POST", &format!("/bkt/big?uploadId={id}")).body(done.as_bytes()),
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let get = s
        .send(&owner(&s, Raw::new("GET", "/bkt/big?tagging")))
        .await;
    assert_eq!(tag_set(&get), pairs(&[("kind", "video")]));
    // A bad header is refused when the upload is created.
    s.send(&owner(
        &s,
        Raw::new("POST", "/bkt/big2?uploads").header("x-amz-tagging", "aws:x=1"),
    ))
    .await
    .assert_error(
        400,
        "InvalidTag",
        Some("Your TagKey cannot be prefixed with aws:"),
    );
}

#[tokio::test]
async fn bucket_tags_are_set_read_and_removed() {
    let s = server().await;
    let send = |r: Raw| {
        let r = owner(&s, r);
        let s = &s;
        async move { s.send(&r).await }
    };
    let resp = send(Raw::new("GET", "/bkt?tagging")).await;
    resp.assert_error(404, "NoSuchTagSet", Some("The TagSet does not exist"));
    assert_eq!(resp.xml("BucketName").as_deref(), Some("bkt"));

    let doc = document(&[("team", "storage"), ("cost-center", "42")]);
    let resp = send(put_tagging("/bkt?tagging", &doc)).await;
    assert_eq!(resp.status, 204, "{}", resp.body_text());
    let get = send(Raw::new("GET", "/bkt?tagging")).await;
    assert_eq!(
        tag_set(&get),
        pairs(&[("team", "storage"), ("cost-center", "42")])
    );
    // The other bucket is untouched.
    send(Raw::new("GET", "/bkt2?tagging"))
        .await
        .assert_error(404, "NoSuchTagSet", None);

    // Refusals: no Content-MD5, over 50 tags, a bad key; the stored set stays.
    send(Raw::new("PUT", "/bkt?tagging").body(doc.as_bytes()))
        .await
        .assert_error(
            400,
            "InvalidRequest",
            Some("Missing required header for this request: Content-MD5 OR x-amz-checksum-*"),
        );
    let many: Vec<(String, String)> = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    send(put_tagging("/bkt?tagging", &document(&many)))
        .await
        .assert_error(
            400,
            "BadRequest",
            Some("Bucket tag count cannot be greater than 50"),
        );
    assert_eq!(
        send(put_tagging("/bkt?tagging", &document(&many[..50])))
            .await
            .status,
        204
    );
    send(put_tagging("/bkt?tagging", &document(&[("bad*key", "v")])))
        .await
        .assert_error(
            400,
            "InvalidTag",
            Some("The TagKey you have provided is invalid"),
        );
    send(put_tagging(
        "/bkt?tagging",
        &document(&[("aws:cloudformation:stack-name", "v")]),
    ))
    .await
    .assert_error(
        400,
        "InvalidTag",
        Some("System tags cannot be added/updated by requester"),
    );
    assert_eq!(
        tag_set(&send(Raw::new("GET", "/bkt?tagging")).await).len(),
        50
    );
    // An empty set removes the tags, as DeleteBucketTagging does.
    let resp = send(put_tagging("/bkt2?tagging", &document(&[("a", "1")]))).await;
    assert_eq!(resp.status, 204);
    let resp = send(put_tagging("/bkt2?tagging", &document(&[]))).await;
    assert_eq!(resp.status, 204);
    send(Raw::new("GET", "/bkt2?tagging"))
        .await
        .assert_error(404, "NoSuchTagSet", None);
    send(put_tagging("/nobucket?tagging", &doc))
        .await
        .assert_error(404, "NoSuchBucket", None);

    let resp = send(Raw::new("DELETE", "/bkt?tagging")).await;
    assert_eq!(resp.status, 204);
    send(Raw::new("GET", "/bkt?tagging"))
        .await
        .assert_error(404, "NoSuchTagSet", None);
}

#[tokio::test]
async fn a_tagged_upload_needs_put_object_tagging() {
    let s = server().await;
    // `plain` may PutObject, but not tag what it writes.
    let untagged = signed(&s, Raw::new("PUT", "/bkt/p").body(b"x"), PLAIN);
    assert_eq!(s.send(&untagged).await.status, 200);
    let tagged = signed(
        &s,
        Raw::new("PUT", "/bkt/p2")
            .header("x-amz-tagging", "project=apollo")
            .body(b"x"),
        PLAIN,
    );
    s.send(&tagged).await.assert_error(
        403,
        "AccessDenied",
        Some(
            "User: arn:aws:iam::123456789012:user/plain is not authorized to perform: s3:PutObjectTagging on resource: \"arn:aws:s3:::bkt/p2\" because no identity-based policy allows the s3:PutObjectTagging action",
        ),
    );
    s.send(&owner(&s, Raw::new("GET", "/bkt/p2")))
        .await
        .assert_error(404, "NoSuchKey", None);
    // It reads a tagged object, but is not told how many tags it has.
    s.send(&owner(
        &s,
        Raw::new("PUT", "/bkt/t")
            .header("x-amz-tagging", "a=1")
            .body(b"x"),
    ))
    .await;
    let get = s.send(&signed(&s, Raw::new("GET", "/bkt/t"), PLAIN)).await;
    assert_eq!((get.status, get.header("x-amz-tagging-count")), (200, None));
    let get = s.send(&owner(&s, Raw::new("GET", "/bkt/t"))).await;
    assert_eq!(get.header("x-amz-tagging-count"), Some("1"));
}

#[tokio::test]
async fn policies_read_the_existing_and_the_requested_tags() {
    let s = server().await;
    for (key, tagging) in [
        ("pub", "class=public"),
        ("priv", "class=private"),
        ("none", ""),
    ] {
        let mut r = Raw::new("PUT", &format!("/bkt/{key}")).body(b"x");
        if !tagging.is_empty() {
            r = r.header("x-amz-tagging", tagging);
        }
        assert_eq!(s.send(&owner(&s, r)).await.status, 200);
    }
    // s3:ExistingObjectTag/class = public: the tagged object only.
    let get = |key: &str| signed(&s, Raw::new("GET", &format!("/bkt/{key}")), TAGGER);
    let resp = s.send(&get("pub")).await;
    assert_eq!(
        (resp.status, resp.header("x-amz-tagging-count")),
        (200, Some("1"))
    );
    for key in ["priv", "none"] {
        s.send(&get(key)).await.assert_error(
            403,
            "AccessDenied",
            Some(&format!(
                "User: arn:aws:iam::123456789012:user/tagger is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::bkt/{key}\" because no identity-based policy allows the s3:GetObject action"
            )),
        );
    }
    // Retagging changes what the policy allows.
    s.send(&owner(
        &s,
        put_tagging("/bkt/priv?tagging", &document(&[("class", "public")])),
    ))
    .await;
    assert_eq!(s.send(&get("priv")).await.status, 200);

    // s3:RequestObjectTag/project = apollo on writes (header, and PutObjectTagging's body).
    let put = |key: &str, tagging: Option<&str>| {
        let mut r = Raw::new("PUT", &format!("/bkt/{key}")).body(b"x");
        if let Some(t) = tagging {
            r = r.header("x-amz-tagging", t);
        }
        signed(&s, r, TAGGER)
    };
    assert_eq!(s.send(&put("w1", Some("project=apollo"))).await.status, 200);
    s.send(&put("w2", Some("project=gemini")))
        .await
        .assert_error(403, "AccessDenied", None);
    s.send(&put("w3", None))
        .await
        .assert_error(403, "AccessDenied", None);
    let retag = |doc: String| signed(&s, put_tagging("/bkt/w1?tagging", &doc), TAGGER);
    let resp = s
        .send(&retag(document(&[("project", "apollo"), ("x", "y")])))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    s.send(&retag(document(&[("project", "gemini")])))
        .await
        .assert_error(403, "AccessDenied", None);
}
