//! GetObjectAttributes over the wire: each attribute as S3 writes it for a single PUT, a
//! COMPOSITE and a FULL_OBJECT multipart object, the ObjectParts pages, the refusals, the
//! permissions it needs, and the part checksums surviving a restart of the disk store
//! (docs/aws-evidence.md, "GetObjectAttributes").

mod common;

use base64::Engine;
use common::*;
use strict_s3::config::{Config, Credential};
use strict_s3::policy::Policy;

const MIB: usize = 1024 * 1024;

fn owner(s: &TestServer, r: Raw) -> Raw {
    signed(s, r, (AK, SK))
}

/// CRC-32 (ISO-HDLC), computed here, base64 as S3 writes it.
fn crc32_b64(data: &[u8]) -> String {
    let mut c = !0u32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    base64::engine::general_purpose::STANDARD.encode((!c).to_be_bytes())
}

fn attributes(key: &str, names: &str) -> Raw {
    Raw::new("GET", &format!("{key}?attributes")).header("x-amz-object-attributes", names)
}

const ALL: &str = "ETag,Checksum,ObjectParts,StorageClass,ObjectSize";

/// A multipart upload of `parts` with CRC32 of `kind`; returns the completed object's ETag.
async fn multipart(s: &TestServer, key: &str, kind: &str, parts: &[Vec<u8>]) -> String {
    let create = s
        .send(&owner(
            s,
            Raw::new("POST", &format!("{key}?uploads"))
                .header("x-amz-checksum-algorithm", "CRC32")
                .header("x-amz-checksum-type", kind),
        ))
        .await;
    assert_eq!(create.status, 200, "{}", create.body_text());
    let id = create.xml("UploadId").unwrap();
    let mut doc = String::from("<CompleteMultipartUpload>");
    for (i, p) in parts.iter().enumerate() {
        let n = i + 1;
        let resp = s
            .send(&owner(
                s,
                Raw::new("PUT", &format!("{key}?partNumber={n}&uploadId={id}"))
                    .header("x-amz-checksum-crc32", &crc32_b64(p))
                    .body(p),
            ))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body_text());
        doc.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{}</ETag><ChecksumCRC32>{}</ChecksumCRC32></Part>",
            resp.header("etag").unwrap(),
            crc32_b64(p)
        ));
    }
    doc.push_str("</CompleteMultipartUpload>");
    let done = s
        .send(&owner(
            s,
            Raw::new("POST", &format!("{key}?uploadId={id}")).body(doc.as_bytes()),
        ))
        .await;
    assert_eq!(done.status, 200, "{}", done.body_text());
    done.xml("ETag").unwrap()
}

#[tokio::test]
async fn a_single_put_object() {
    let s = TestServer::default().await;
    let body = b"attributes of a small object";
    let put = s
        .send(&owner(
            &s,
            Raw::new("PUT", "/bkt/one")
                .header("x-amz-checksum-crc32", &crc32_b64(body))
                .header("x-amz-storage-class", "STANDARD_IA")
                .body(body),
        ))
        .await;
    assert_eq!(put.status, 200);
    let etag = put.header("etag").unwrap().trim_matches('"').to_string();
    let resp = s.send(&owner(&s, attributes("/bkt/one", ALL))).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let expected = format!(
        r#"<GetObjectAttributesResponse xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ETag>{etag}</ETag><Checksum><ChecksumCRC32>{}</ChecksumCRC32><ChecksumType>FULL_OBJECT</ChecksumType></Checksum><StorageClass>STANDARD_IA</StorageClass><ObjectSize>{}</ObjectSize></GetObjectAttributesResponse>"#,
        crc32_b64(body),
        body.len()
    );
    assert!(
        resp.body_text().ends_with(&expected),
        "{}",
        resp.body_text()
    );
    let head = s.send(&owner(&s, Raw::new("HEAD", "/bkt/one"))).await;
    assert_eq!(resp.header("last-modified"), head.header("last-modified"));
    assert!(resp.header("last-modified").is_some());

    // Only what is asked for, in S3's order whatever the header's; unknown names beside
    // known ones are skipped.
    let resp = s
        .send(&owner(
            &s,
            attributes("/bkt/one", " ObjectSize , ,ETags,ETag"),
        ))
        .await;
    assert!(
        resp.body_text().ends_with(&format!(
            "<ETag>{etag}</ETag><ObjectSize>{}</ObjectSize></GetObjectAttributesResponse>",
            body.len()
        )),
        "{}",
        resp.body_text()
    );
    // An object without a checksum has no Checksum element.
    s.put("/bkt/plain", b"x").await;
    let resp = s
        .send(&owner(
            &s,
            attributes("/bkt/plain", "Checksum,StorageClass"),
        ))
        .await;
    assert!(resp.body_text().ends_with(
        "<GetObjectAttributesResponse xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><StorageClass>STANDARD</StorageClass></GetObjectAttributesResponse>"
    ), "{}", resp.body_text());
}

#[tokio::test]
async fn multipart_objects_and_their_parts() {
    let s = TestServer::default().await;
    let parts = vec![vec![1u8; 5 * MIB], vec![2u8; 5 * MIB], vec![3u8; 100]];
    let etag = multipart(&s, "/bkt/composite", "COMPOSITE", &parts).await;
    let resp = s.send(&owner(&s, attributes("/bkt/composite", ALL))).await;
    let text = resp.body_text();
    assert_eq!(resp.xml("ETag").unwrap(), etag.trim_matches('"'));
    // The composite checksum without its -3.
    let value = resp.xml("ChecksumCRC32").unwrap();
    assert!(!value.contains('-'), "{text}");
    assert!(
        text.contains("<ChecksumType>COMPOSITE</ChecksumType>"),
        "{text}"
    );
    assert!(text.contains(&format!("<ObjectSize>{}</ObjectSize>", 10 * MIB + 100)));
    let part = |n: usize, p: &[u8]| {
        format!(
            "<Part><ChecksumCRC32>{}</ChecksumCRC32><PartNumber>{n}</PartNumber><Size>{}</Size></Part>",
            crc32_b64(p),
            p.len()
        )
    };
    assert!(text.contains(&format!(
        "<ObjectParts><PartsCount>3</PartsCount><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>{}{}{}</ObjectParts>",
        part(1, &parts[0]),
        part(2, &parts[1]),
        part(3, &parts[2])
    )), "{text}");

    // Pages of one part.
    let page = s
        .send(&owner(
            &s,
            attributes("/bkt/composite", "ObjectParts")
                .header("x-amz-max-parts", "1")
                .header("x-amz-part-number-marker", "1"),
        ))
        .await;
    let text = page.body_text();
    assert!(text.contains(&format!(
        "<PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>1</MaxParts><IsTruncated>true</IsTruncated>{}</ObjectParts>",
        part(2, &parts[1])
    )), "{text}");
    // A bad number is ignored, as S3 ignores it.
    let page = s
        .send(&owner(
            &s,
            attributes("/bkt/composite", "ObjectParts").header("x-amz-max-parts", "many"),
        ))
        .await;
    assert!(page.body_text().contains("<MaxParts>1000</MaxParts>"));

    // FULL_OBJECT: the count only.
    let parts = vec![vec![4u8; 5 * MIB], vec![5u8; 10]];
    multipart(&s, "/bkt/full", "FULL_OBJECT", &parts).await;
    let resp = s.send(&owner(&s, attributes("/bkt/full", ALL))).await;
    let text = resp.body_text();
    assert!(
        text.contains("<ObjectParts><PartsCount>2</PartsCount></ObjectParts>"),
        "{text}"
    );
    assert!(
        text.contains("<ChecksumType>FULL_OBJECT</ChecksumType>"),
        "{text}"
    );
    let whole: Vec<u8> = parts.concat();
    assert_eq!(resp.xml("ChecksumCRC32").unwrap(), crc32_b64(&whole));
}

#[tokio::test]
async fn refusals() {
    let user = ("AKIAREADONLY00000000", "readonly-secret");
    let s = TestServer::start(
        Config {
            buckets: vec!["bkt".into()],
            credentials: vec![
                Credential::new(AK, SK),
                Credential::user(
                    "reader",
                    user.0,
                    user.1,
                    Some(
                        Policy::parse_identity(
                            r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                "Action": ["s3:GetObject", "s3:ListBucket"],
                                "Resource": ["arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*"]}]}"#,
                        )
                        .unwrap(),
                    ),
                ),
            ],
            ..Config::in_memory()
        },
        t0(),
    )
    .await;
    s.put("/bkt/k", b"x").await;
    s.send(&owner(&s, Raw::new("GET", "/bkt/k?attributes")))
        .await
        .assert_error(
            400,
            "InvalidRequest",
            Some("The x-amz-object-attributes header specifying the attributes to be retrieved is either missing or empty"),
        );
    s.send(&owner(&s, attributes("/bkt/k", " , ")))
        .await
        .assert_error(400, "InvalidRequest", None);
    let resp = s.send(&owner(&s, attributes("/bkt/k", "ETags"))).await;
    resp.assert_error(
        400,
        "InvalidArgument",
        Some("Invalid attribute name specified."),
    );
    assert_eq!(
        resp.xml("ArgumentName").as_deref(),
        Some("x-amz-object-attributes")
    );
    assert_eq!(resp.xml("ArgumentValue").as_deref(), Some("ETags"));
    s.send(&owner(&s, attributes("/bkt/missing", "ETag")))
        .await
        .assert_error(404, "NoSuchKey", Some("The specified key does not exist."));
    let resp = s
        .send(&owner(
            &s,
            Raw::new("GET", "/bkt/k?attributes&versionId=abc")
                .header("x-amz-object-attributes", "ETag"),
        ))
        .await;
    resp.assert_error(400, "InvalidArgument", Some("Invalid version id specified"));
    // GetObject alone is not enough: S3 also wants s3:GetObjectAttributes.
    s.send(&signed(&s, attributes("/bkt/k", "ETag"), user))
        .await
        .assert_error(
            403,
            "AccessDenied",
            Some("User: arn:aws:iam::123456789012:user/reader is not authorized to perform: s3:GetObjectAttributes on resource: \"arn:aws:s3:::bkt/k\" because no identity-based policy allows the s3:GetObjectAttributes action"),
        );
    // HEAD with the selector is 405, as for the other sub-resources.
    let head = s
        .send(&owner(&s, Raw::new("HEAD", "/bkt/k?attributes")))
        .await;
    assert_eq!(head.status, 405);
}

#[tokio::test]
async fn part_checksums_survive_a_restart_of_the_disk_store() {
    let dir = tempfile::tempdir().unwrap();
    let parts = vec![vec![7u8; 5 * MIB], vec![8u8; 3]];
    let before = {
        let s = TestServer::on_disk(dir.path()).await;
        multipart(&s, "/bkt/big", "COMPOSITE", &parts).await;
        let resp = s.send(&owner(&s, attributes("/bkt/big", ALL))).await;
        s.handle.shutdown().await;
        resp.body_text()
    };
    let s = TestServer::on_disk(dir.path()).await;
    let after = s.send(&owner(&s, attributes("/bkt/big", ALL))).await;
    assert_eq!(after.body_text(), before);
    assert!(before.contains(&crc32_b64(&parts[1])), "{before}");
}
