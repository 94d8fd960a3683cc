//! Object versioning over the wire, on both stores: the bucket configuration, version
//! ids on every write, reads and deletes by version, delete markers, the null version of
//! suspended buckets, ListObjectVersions, copies from a version, DeleteObjects with
//! versions, and every refusal with S3's code and message (docs/versioning-evidence.md).

mod common;

use std::time::Duration;

use common::*;
use strict_s3::config::{Config, Credential};
use strict_s3::policy::Policy;

fn owner(s: &TestServer, r: Raw) -> Raw {
    signed(s, r, (AK, SK))
}

fn md5(b: &[u8]) -> String {
    use base64::Engine;
    use md5::Digest;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(b))
}

fn config_doc(status: &str) -> String {
    format!(
        r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>{status}</Status></VersioningConfiguration>"#
    )
}

async fn set_versioning(s: &TestServer, bucket: &str, status: &str) {
    let doc = config_doc(status);
    let resp = s
        .send(&owner(
            s,
            Raw::new("PUT", &format!("/{bucket}?versioning")).body(doc.as_bytes()),
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
}

/// PUT `body` at `path`; the version id it answers with.
async fn put(s: &TestServer, path: &str, body: &[u8]) -> Option<String> {
    let resp = s.send(&owner(s, Raw::new("PUT", path).body(body))).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    resp.header("x-amz-version-id").map(str::to_string)
}

async fn get(s: &TestServer, path: &str) -> Resp {
    s.send(&owner(s, Raw::new("GET", path))).await
}

/// `(element, key, version id, is latest)` of each entry of ListObjectVersions.
fn entries(resp: &Resp) -> Vec<(String, String, String, bool)> {
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let text = resp.body_text();
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(i) = [rest.find("<Version>"), rest.find("<DeleteMarker>")]
        .into_iter()
        .flatten()
        .min()
    {
        let element = if rest[i..].starts_with("<Version>") {
            "Version"
        } else {
            "DeleteMarker"
        };
        let end = rest[i..].find(&format!("</{element}>")).unwrap() + i;
        let body = &rest[i..end];
        let field = |name: &str| {
            let open = format!("<{name}>");
            let a = body.find(&open).unwrap() + open.len();
            body[a..a + body[a..].find('<').unwrap()].to_string()
        };
        out.push((
            element.to_string(),
            field("Key"),
            field("VersionId"),
            field("IsLatest") == "true",
        ));
        rest = &rest[end..];
    }
    out
}

async fn server_on(storage: Option<&std::path::Path>) -> TestServer {
    let user = ("AKIAVERSIONREADER000", "version-reader-secret");
    TestServer::start(
        Config {
            buckets: vec!["bkt".into(), "bkt2".into()],
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
            storage: match storage {
                Some(dir) => strict_s3::StorageConfig::Disk(dir.into()),
                None => strict_s3::StorageConfig::Memory,
            },
            ..Config::in_memory()
        },
        t0(),
    )
    .await
}

#[tokio::test]
async fn the_bucket_configuration() {
    let s = server_on(None).await;
    let resp = get(&s, "/bkt?versioning").await;
    assert_eq!(resp.status, 200);
    assert!(resp.header("content-type").is_none(), "S3 sends none here");
    assert!(resp.body_text().ends_with(
        r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></VersioningConfiguration>"#
    ) || resp.body_text().ends_with(
        r#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#
    ), "{}", resp.body_text());
    let send = |doc: &str| {
        let r = owner(&s, Raw::new("PUT", "/bkt?versioning").body(doc.as_bytes()));
        let s = &s;
        async move { s.send(&r).await }
    };
    for bad in ["Disabled", "enabled", "Off"] {
        send(&config_doc(bad))
            .await
            .assert_error(400, "MalformedXML", None);
    }
    send("<VersioningConfiguration/>").await.assert_error(
        400,
        "IllegalVersioningConfigurationException",
        Some("The Versioning element must be specified"),
    );
    send("").await.assert_error(
        400,
        "MissingRequestBodyError",
        Some("Request Body is empty"),
    );
    send("<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>")
        .await
        .assert_error(403, "AccessDenied", Some("Mfa Authentication must be used for this request"));
    // A wrong Content-MD5 is checked (none is needed).
    let doc = config_doc("Enabled");
    s.send(&owner(
        &s,
        Raw::new("PUT", "/bkt?versioning")
            .header("content-md5", &md5(b"other"))
            .body(doc.as_bytes()),
    ))
    .await
    .assert_error(400, "BadDigest", None);
    assert!(get(&s, "/bkt?versioning").await.xml("Status").is_none());

    let resp = send("<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>").await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let resp = get(&s, "/bkt?versioning").await;
    assert_eq!(
        resp.xml("Status").as_deref(),
        Some("Enabled"),
        "{}",
        resp.body_text()
    );
    assert_eq!(resp.xml("MfaDelete").as_deref(), Some("Disabled"));
    set_versioning(&s, "bkt", "Suspended").await;
    assert_eq!(
        get(&s, "/bkt?versioning").await.xml("Status").as_deref(),
        Some("Suspended")
    );
    // The history bucket is never listed, nor addressed.
    let list = get(&s, "/").await;
    assert!(
        !list.body_text().contains("~versions"),
        "{}",
        list.body_text()
    );
    for target in [
        "/bkt~versions",
        "/bkt~versions/k",
        "/bkt~versions?versioning",
    ] {
        // Its name is not a bucket name S3 takes.
        get(&s, target)
            .await
            .assert_error(400, "InvalidBucketName", None);
    }
    send_missing(&s).await;
}

async fn send_missing(s: &TestServer) {
    let doc = config_doc("Enabled");
    s.send(&owner(
        s,
        Raw::new("PUT", "/nobucket?versioning").body(doc.as_bytes()),
    ))
    .await
    .assert_error(404, "NoSuchBucket", None);
}

async fn versions_lifecycle(s: &TestServer) {
    // An object from before versioning is the null version.
    assert_eq!(put(s, "/bkt/k", b"v0").await, None);
    set_versioning(s, "bkt", "Enabled").await;
    let v1 = put(s, "/bkt/k", b"v1").await.expect("a version id");
    s.clock.advance(Duration::from_secs(1));
    let v2 = put(s, "/bkt/k", b"v2").await.expect("a version id");
    assert_eq!(v1.len(), 32);
    assert_ne!(v1, v2);

    let cur = get(s, "/bkt/k").await;
    assert_eq!(
        (cur.body.as_slice(), cur.header("x-amz-version-id")),
        (&b"v2"[..], Some(v2.as_str()))
    );
    for (id, body) in [
        (v1.as_str(), &b"v1"[..]),
        ("null", b"v0"),
        (v2.as_str(), b"v2"),
    ] {
        let resp = get(s, &format!("/bkt/k?versionId={id}")).await;
        assert_eq!(resp.status, 200, "{id}: {}", resp.body_text());
        assert_eq!(resp.body, body, "{id}");
        assert_eq!(resp.header("x-amz-version-id"), Some(id));
        let head = s
            .send(&owner(
                s,
                Raw::new("HEAD", &format!("/bkt/k?versionId={id}")),
            ))
            .await;
        assert_eq!(head.header("content-length"), Some("2"));
    }
    // A made-up id, and one that could be real but is not.
    let resp = get(s, "/bkt/k?versionId=HPniJFCxqTsMuIH9KX8K8wEjNUgmABCD").await;
    resp.assert_error(400, "InvalidArgument", Some("Invalid version id specified"));
    assert_eq!(resp.xml("ArgumentName").as_deref(), Some("versionId"));
    let other = put(s, "/bkt/other", b"x").await.unwrap();
    let resp = get(s, &format!("/bkt/k?versionId={other}")).await;
    resp.assert_error(
        404,
        "NoSuchVersion",
        Some("The specified version does not exist."),
    );
    assert_eq!(resp.xml("Key").as_deref(), Some("k"));
    assert_eq!(resp.xml("VersionId").as_deref(), Some(other.as_str()));

    let list = get(s, "/bkt?versions&prefix=k").await;
    assert_eq!(
        entries(&list),
        vec![
            ("Version".into(), "k".into(), v2.clone(), true),
            ("Version".into(), "k".into(), v1.clone(), false),
            ("Version".into(), "k".into(), "null".into(), false),
        ]
    );

    // DELETE adds a marker: the key is gone, its versions are not.
    s.clock.advance(Duration::from_secs(1));
    let del = s.send(&owner(s, Raw::new("DELETE", "/bkt/k"))).await;
    assert_eq!(del.status, 204);
    assert_eq!(del.header("x-amz-delete-marker"), Some("true"));
    let marker = del.header("x-amz-version-id").unwrap().to_string();
    let gone = get(s, "/bkt/k").await;
    gone.assert_error(404, "NoSuchKey", None);
    assert_eq!(gone.header("x-amz-delete-marker"), Some("true"));
    assert_eq!(gone.header("x-amz-version-id"), Some(marker.as_str()));
    let resp = get(s, &format!("/bkt/k?versionId={marker}")).await;
    resp.assert_error(
        405,
        "MethodNotAllowed",
        Some("The specified method is not allowed against this resource."),
    );
    assert_eq!(resp.xml("ResourceType").as_deref(), Some("DeleteMarker"));
    assert_eq!(resp.header("allow"), Some("DELETE"));
    let listed = get(s, "/bkt?list-type=2&prefix=k").await;
    assert!(
        !listed.body_text().contains("<Key>k</Key>"),
        "{}",
        listed.body_text()
    );
    let list = get(s, "/bkt?versions&prefix=k").await;
    assert_eq!(
        entries(&list)[0],
        ("DeleteMarker".into(), "k".into(), marker.clone(), true)
    );
    assert_eq!(entries(&list).len(), 4);

    // Deleting the marker brings v2 back; deleting v2 itself brings v1 back.
    let del = s
        .send(&owner(
            s,
            Raw::new("DELETE", &format!("/bkt/k?versionId={marker}")),
        ))
        .await;
    assert_eq!(del.status, 204);
    assert_eq!(
        (
            del.header("x-amz-delete-marker"),
            del.header("x-amz-version-id")
        ),
        (Some("true"), Some(marker.as_str()))
    );
    assert_eq!(get(s, "/bkt/k").await.body, b"v2");
    let del = s
        .send(&owner(
            s,
            Raw::new("DELETE", &format!("/bkt/k?versionId={v2}")),
        ))
        .await;
    assert_eq!((del.status, del.header("x-amz-delete-marker")), (204, None));
    let cur = get(s, "/bkt/k").await;
    assert_eq!(
        (cur.body.as_slice(), cur.header("x-amz-version-id")),
        (&b"v1"[..], Some(v1.as_str()))
    );
    s.send(&owner(s, Raw::new("DELETE", "/bkt/k?versionId=nonsense")))
        .await
        .assert_error(400, "InvalidArgument", Some("Invalid version id specified"));
    let list = get(s, "/bkt?versions&prefix=k").await;
    assert_eq!(
        entries(&list),
        vec![
            ("Version".into(), "k".into(), v1.clone(), true),
            ("Version".into(), "k".into(), "null".into(), false),
        ]
    );

    // Suspended: writes make the null version (no id on the PUT, `null` on reads).
    set_versioning(s, "bkt", "Suspended").await;
    assert_eq!(put(s, "/bkt/k", b"s1").await, None);
    let cur = get(s, "/bkt/k").await;
    assert_eq!(
        (cur.body.as_slice(), cur.header("x-amz-version-id")),
        (&b"s1"[..], Some("null"))
    );
    assert_eq!(put(s, "/bkt/k", b"s2").await, None);
    let list = get(s, "/bkt?versions&prefix=k").await;
    assert_eq!(
        entries(&list),
        vec![
            ("Version".into(), "k".into(), "null".into(), true),
            ("Version".into(), "k".into(), v1.clone(), false),
        ],
        "the null version was replaced, v1 kept"
    );
    assert_eq!(get(s, "/bkt/k?versionId=null").await.body, b"s2");
    let del = s.send(&owner(s, Raw::new("DELETE", "/bkt/k"))).await;
    assert_eq!(
        (
            del.header("x-amz-delete-marker"),
            del.header("x-amz-version-id")
        ),
        (Some("true"), Some("null"))
    );
    let list = get(s, "/bkt?versions&prefix=k").await;
    assert_eq!(
        entries(&list),
        vec![
            ("DeleteMarker".into(), "k".into(), "null".into(), true),
            ("Version".into(), "k".into(), v1.clone(), false),
        ]
    );
    // A versioned bucket with versions left is not empty.
    set_versioning(s, "bkt2", "Enabled").await;
    put(s, "/bkt2/only", b"x").await;
    s.send(&owner(s, Raw::new("DELETE", "/bkt2/only"))).await;
    let resp = s.send(&owner(s, Raw::new("DELETE", "/bkt2"))).await;
    resp.assert_error(
        409,
        "BucketNotEmpty",
        Some("The bucket you tried to delete is not empty. You must delete all versions in the bucket."),
    );
}

#[tokio::test]
async fn versions_in_memory() {
    let s = server_on(None).await;
    versions_lifecycle(&s).await;
}

#[tokio::test]
async fn versions_on_disk_and_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let listing = {
        let s = server_on(Some(dir.path())).await;
        versions_lifecycle(&s).await;
        let list = get(&s, "/bkt?versions").await.body_text();
        s.handle.shutdown().await;
        list
    };
    let s = server_on(Some(dir.path())).await;
    let after = get(&s, "/bkt?versions").await;
    assert_eq!(after.body_text(), listing);
    assert_eq!(
        get(&s, "/bkt?versioning").await.xml("Status").as_deref(),
        Some("Suspended")
    );
}

#[tokio::test]
async fn multipart_copies_and_batch_deletes_make_versions() {
    let s = server_on(None).await;
    set_versioning(&s, "bkt", "Enabled").await;
    // A multipart object keeps its ETag and parts when it becomes noncurrent.
    let create = s
        .send(&owner(&s, Raw::new("POST", "/bkt/mp?uploads")))
        .await;
    let id = create.xml("UploadId").unwrap();
    let part = s
        .send(&owner(
            &s,
            Raw::new("PUT", &format!("/bkt/mp?partNumber=1&uploadId={id}")).body(b"part"),
        ))
        .await;
    let doc = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{}</ETag></Part></CompleteMultipartUpload>",
        part.header("etag").unwrap()
    );
    let done = s
        .send(&owner(
            &s,
            Raw::new("POST", &format!("/bkt/mp?uploadId={id}")).body(doc.as_bytes()),
        ))
        .await;
    assert_eq!(done.status, 200, "{}", done.body_text());
    let mp_version = done.header("x-amz-version-id").unwrap().to_string();
    let mp_etag = done.xml("ETag").unwrap();
    put(&s, "/bkt/mp", b"plain").await;
    let old = s
        .send(&owner(
            &s,
            Raw::new(
                "HEAD",
                &format!("/bkt/mp?versionId={mp_version}&partNumber=1"),
            ),
        ))
        .await;
    assert_eq!(
        old.status, 206,
        "a noncurrent multipart version keeps its parts"
    );
    assert_eq!(old.header("etag"), Some(mp_etag.as_str()));

    // CopyObject from a version.
    let copy = s
        .send(&owner(
            &s,
            Raw::new("PUT", "/bkt/copied").header(
                "x-amz-copy-source",
                &format!("/bkt/mp?versionId={mp_version}"),
            ),
        ))
        .await;
    assert_eq!(copy.status, 200, "{}", copy.body_text());
    assert_eq!(
        copy.header("x-amz-copy-source-version-id"),
        Some(mp_version.as_str())
    );
    assert!(copy.header("x-amz-version-id").is_some());
    assert_eq!(get(&s, "/bkt/copied").await.body, b"part");
    s.send(&owner(
        &s,
        Raw::new("PUT", "/bkt/copied2").header("x-amz-copy-source", "/bkt/mp?versionId=abc"),
    ))
    .await
    .assert_error(400, "InvalidRequest", Some("Invalid Request"));
    s.send(&owner(&s, Raw::new("DELETE", "/bkt/gone"))).await;
    let marker = s
        .send(&owner(&s, Raw::new("GET", "/bkt?versions&prefix=gone")))
        .await;
    let marker_id = entries(&marker)[0].2.clone();
    s.send(&owner(
        &s,
        Raw::new("PUT", "/bkt/copied3")
            .header("x-amz-copy-source", &format!("/bkt/gone?versionId={marker_id}")),
    ))
    .await
    .assert_error(
        400,
        "InvalidRequest",
        Some("The source of a copy request may not specifically refer to a delete marker by version id."),
    );
    let resp = s
        .send(&owner(
            &s,
            Raw::new("PUT", "/bkt/copied4").header("x-amz-copy-source", "/bkt/gone"),
        ))
        .await;
    resp.assert_error(404, "NoSuchKey", None);
    assert_eq!(resp.header("x-amz-delete-marker"), Some("true"));

    // DeleteObjects: a marker for a key, one version for a key and version.
    let batch = format!(
        "<Delete><Object><Key>copied</Key></Object><Object><Key>mp</Key><VersionId>{mp_version}</VersionId></Object><Object><Key>mp</Key><VersionId>garbage</VersionId></Object></Delete>"
    );
    let resp = s
        .send(&owner(
            &s,
            Raw::new("POST", "/bkt?delete")
                .header("content-md5", &md5(batch.as_bytes()))
                .body(batch.as_bytes()),
        ))
        .await;
    let text = resp.body_text();
    assert_eq!(resp.status, 200, "{text}");
    assert!(
        text.contains(
            "<Deleted><Key>copied</Key><DeleteMarker>true</DeleteMarker><DeleteMarkerVersionId>"
        ),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "<Deleted><Key>mp</Key><VersionId>{mp_version}</VersionId></Deleted>"
        )),
        "{text}"
    );
    assert!(
        text.contains(
            "<Error><Key>mp</Key><VersionId>garbage</VersionId><Code>NoSuchVersion</Code>"
        ),
        "{text}"
    );
    get(&s, &format!("/bkt/mp?versionId={mp_version}"))
        .await
        .assert_error(404, "NoSuchVersion", None);
    assert_eq!(get(&s, "/bkt/mp").await.body, b"plain");
}

#[tokio::test]
async fn listing_pages_and_version_permissions() {
    let s = server_on(None).await;
    set_versioning(&s, "bkt", "Enabled").await;
    let mut ids = Vec::new();
    for (key, n) in [("a", 3), ("b/x", 2), ("c", 1)] {
        for i in 0..n {
            s.clock.advance(Duration::from_millis(10));
            ids.push((
                key,
                put(&s, &format!("/bkt/{key}"), format!("{key}{i}").as_bytes())
                    .await
                    .unwrap(),
            ));
        }
    }
    // Pages of two, followed to the end, see every version once, newest first per key.
    let mut seen = Vec::new();
    let mut query = "versions&max-keys=2".to_string();
    for _ in 0..10 {
        let resp = get(&s, &format!("/bkt?{query}")).await;
        let page = entries(&resp);
        assert!(page.len() <= 2);
        seen.extend(page.into_iter().map(|e| (e.1, e.2)));
        if resp.xml("IsTruncated").as_deref() != Some("true") {
            break;
        }
        query = format!(
            "versions&max-keys=2&key-marker={}&version-id-marker={}",
            resp.xml("NextKeyMarker").unwrap().replace('/', "%2F"),
            resp.xml("NextVersionIdMarker").unwrap()
        );
    }
    let mut expected: Vec<(String, String)> = Vec::new();
    for key in ["a", "b/x", "c"] {
        let mut of_key: Vec<_> = ids.iter().filter(|(k, _)| *k == key).collect();
        of_key.reverse();
        expected.extend(of_key.into_iter().map(|(k, v)| (k.to_string(), v.clone())));
    }
    assert_eq!(seen, expected);
    // A delimiter folds b/ into one common prefix.
    let resp = get(&s, "/bkt?versions&delimiter=/").await;
    assert!(
        resp.body_text()
            .contains("<CommonPrefixes><Prefix>b/</Prefix></CommonPrefixes>")
    );
    assert!(entries(&resp).iter().all(|e| e.1 != "b/x"));
    // The refusals, in S3's order.
    for (query, message) in [
        (
            "max-keys=abc",
            "Provided max-keys not an integer or within integer range",
        ),
        (
            "version-id-marker=null",
            "A version-id marker cannot be specified without a key marker.",
        ),
        (
            "key-marker=a&version-id-marker=",
            "A version-id marker cannot be empty.",
        ),
        (
            "key-marker=a&version-id-marker=bogus",
            "Invalid version id specified",
        ),
        (
            "encoding-type=xml",
            "Invalid Encoding Method specified in Request",
        ),
    ] {
        get(&s, &format!("/bkt?versions&{query}"))
            .await
            .assert_error(400, "InvalidArgument", Some(message));
    }
    // A never-versioned bucket lists its objects as null versions.
    put(&s, "/bkt2/plain", b"x").await;
    assert_eq!(
        entries(&get(&s, "/bkt2?versions").await),
        vec![("Version".into(), "plain".into(), "null".into(), true)]
    );

    // Reading a version takes s3:GetObjectVersion; listing them s3:ListBucketVersions.
    let reader = ("AKIAVERSIONREADER000", "version-reader-secret");
    let (_, a0) = &ids[0];
    let read = |target: String| signed(&s, Raw::new("GET", &target), reader);
    assert_eq!(s.send(&read("/bkt/a".into())).await.status, 200);
    s.send(&read(format!("/bkt/a?versionId={a0}")))
        .await
        .assert_error(
            403,
            "AccessDenied",
            Some(
                "User: arn:aws:iam::123456789012:user/reader is not authorized to perform: s3:GetObjectVersion on resource: \"arn:aws:s3:::bkt/a\" because no identity-based policy allows the s3:GetObjectVersion action",
            ),
        );
    s.send(&read("/bkt?versions".into()))
        .await
        .assert_error(403, "AccessDenied", None);
    // A presigned URL names a version, and is bound to it.
    let url = Raw::new("GET", &format!("/bkt/a?versionId={a0}")).presign(
        &s.host,
        SK,
        REGION,
        s.clock_now(),
        Duration::from_secs(300),
    );
    let resp = s.send(&url).await;
    assert_eq!((resp.status, resp.body.as_slice()), (200, &b"a0"[..]));
    let (_, a1) = &ids[1];
    let moved = url.clone().set_query("versionId", a1);
    s.send(&moved)
        .await
        .assert_error(403, "SignatureDoesNotMatch", None);
    // A key that continues another with a NUL keeps its own history.
    let a_versions = entries(&get(&s, "/bkt?versions&prefix=a").await).len();
    put(&s, "/bkt/a%00b", b"nul").await;
    put(&s, "/bkt/a%00b", b"nul2").await;
    let listed = entries(&get(&s, "/bkt?versions&prefix=a").await);
    assert_eq!(listed.len(), a_versions + 2);
    assert_eq!(listed.iter().filter(|e| e.1 == "a").count(), a_versions);
    // Tags of a noncurrent version.
    let tagging = "<Tagging><TagSet><Tag><Key>old</Key><Value>yes</Value></Tag></TagSet></Tagging>";
    let resp = s
        .send(&owner(
            &s,
            Raw::new("PUT", &format!("/bkt/a?tagging&versionId={a0}")).body(tagging.as_bytes()),
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(resp.header("x-amz-version-id"), Some(a0.as_str()));
    let tags = get(&s, &format!("/bkt/a?tagging&versionId={a0}")).await;
    assert_eq!(tags.xml("Key").as_deref(), Some("old"));
    assert_eq!(tags.header("x-amz-version-id"), Some(a0.as_str()));
    let (_, a2) = &ids[2];
    for sub in ["acl", "tagging"] {
        let resp = get(&s, &format!("/bkt/a?{sub}")).await;
        assert_eq!(resp.header("x-amz-version-id"), Some(a2.as_str()), "{sub}");
        // A bucket never versioned sends none.
        let resp = get(&s, &format!("/bkt2/plain?{sub}")).await;
        assert_eq!(
            (resp.status, resp.header("x-amz-version-id")),
            (200, None),
            "{sub}"
        );
    }
    let attrs = s
        .send(&owner(
            &s,
            Raw::new("GET", &format!("/bkt/a?attributes&versionId={a0}"))
                .header("x-amz-object-attributes", "ObjectSize"),
        ))
        .await;
    assert_eq!(
        (
            attrs.xml("ObjectSize").as_deref(),
            attrs.header("x-amz-version-id")
        ),
        (Some("2"), Some(a0.as_str()))
    );
    assert!(
        !get(&s, "/bkt/a?tagging")
            .await
            .body_text()
            .contains("<Key>old</Key>")
    );
}

#[tokio::test]
async fn restores_markers_and_edge_cases() {
    let s = server_on(None).await;
    set_versioning(&s, "bkt", "Enabled").await;
    let v1 = put(&s, "/bkt/k", b"first").await.unwrap();
    s.clock.advance(Duration::from_secs(1));
    put(&s, "/bkt/k", b"second").await.unwrap();
    // Copying an older version onto its own key restores it, as a new version.
    let copy = s
        .send(&owner(
            &s,
            Raw::new("PUT", "/bkt/k")
                .header("x-amz-copy-source", &format!("/bkt/k?versionId={v1}")),
        ))
        .await;
    assert_eq!(copy.status, 200, "{}", copy.body_text());
    let restored = copy.header("x-amz-version-id").unwrap().to_string();
    assert_ne!(restored, v1);
    assert_eq!(get(&s, "/bkt/k").await.body, b"first");
    assert_eq!(entries(&get(&s, "/bkt?versions&prefix=k").await).len(), 3);

    // A key whose current version is a delete marker: its sub-resources answer as S3's.
    s.send(&owner(&s, Raw::new("DELETE", "/bkt/k"))).await;
    let acl = get(&s, "/bkt/k?acl").await;
    acl.assert_error(404, "NoSuchKey", None);
    assert_eq!(acl.header("x-amz-delete-marker"), Some("true"));
    let tagging = "<Tagging><TagSet/></Tagging>";
    for req in [
        Raw::new("GET", "/bkt/k?tagging"),
        Raw::new("PUT", "/bkt/k?tagging").body(tagging.as_bytes()),
        Raw::new("DELETE", "/bkt/k?tagging"),
        Raw::new("PUT", "/bkt/k?acl").header("x-amz-acl", "private"),
    ] {
        let method = req.method.clone();
        let resp = s.send(&owner(&s, req)).await;
        resp.assert_error(405, "MethodNotAllowed", None);
        assert_eq!(resp.xml("ResourceType").as_deref(), Some("DeleteMarker"));
        assert_eq!(resp.xml("Method").as_deref(), Some(method.as_str()));
    }

    // DeleteObjects answers a key named twice once, with one marker.
    let batch =
        "<Delete><Object><Key>twice</Key></Object><Object><Key>twice</Key></Object></Delete>";
    let resp = s
        .send(&owner(
            &s,
            Raw::new("POST", "/bkt?delete")
                .header("content-md5", &md5(batch.as_bytes()))
                .body(batch.as_bytes()),
        ))
        .await;
    assert_eq!(
        resp.body_text().matches("<Deleted>").count(),
        1,
        "{}",
        resp.body_text()
    );
    assert_eq!(
        entries(&get(&s, "/bkt?versions&prefix=twice").await).len(),
        1
    );

    // max-keys=0 lists nothing and is not truncated; a NUL in the prefix is refused.
    let resp = get(&s, "/bkt?versions&max-keys=0").await;
    assert_eq!(
        (entries(&resp).len(), resp.xml("IsTruncated").as_deref()),
        (0, Some("false"))
    );
    get(&s, "/bkt?versions&prefix=k%00&delimiter=/")
        .await
        .assert_error(
            400,
            "InvalidArgument",
            Some("Value must be a sequence of Unicode characters and cannot include Null."),
        );
}

/// A copy of the current version that a kill left in the history (between copying it
/// and replacing it) never comes back once that version is deleted for good.
#[tokio::test]
async fn a_leftover_copy_of_a_deleted_version_is_not_promoted() {
    use std::sync::Arc;
    use strict_s3::storage::{MemoryStorage, ObjectAttrs, PutRequest, Storage};
    use strict_s3::versioning::{History, KeyLocks, Status, Versioned};
    let clock = Arc::new(strict_s3::ManualClock::new(t0()));
    let store = MemoryStorage::new(clock.clone());
    store.create_bucket("b", "us-east-1").await.unwrap();
    let history = History::new(&store, "b");
    history.create("us-east-1").await.unwrap();
    let locks = KeyLocks::default();
    let versioned = Versioned {
        storage: &store,
        locks: &locks,
        clock: &*clock,
        bucket: "b",
        status: Some(Status::Enabled),
    };
    for body in [&b"old"[..], b"new"] {
        clock.advance(Duration::from_secs(1));
        let write = versioned.begin_write("k").await.unwrap();
        let attrs = ObjectAttrs {
            version: write.stamp.clone(),
            ..ObjectAttrs::default()
        };
        let stream: strict_s3::body::ByteStream = Box::pin(futures_util::stream::iter([Ok(
            bytes::Bytes::copy_from_slice(body),
        )]));
        let landed = store
            .put_object("b", "k", PutRequest::new(attrs, stream))
            .await;
        versioned.finish_write(write, landed.is_ok()).await.unwrap();
    }
    let current = store.head_object("b", "k").await.unwrap();
    let id = current.attrs.version.clone().unwrap().id;
    // The kill's leftover: the current version copied into the history.
    history.archive("k", &current).await.unwrap();
    assert_eq!(history.entries("k", Some(&current)).await.unwrap().len(), 1);
    versioned.delete("k", Some(&id)).await.unwrap();
    let now = store.head_object("b", "k").await.unwrap();
    assert_ne!(
        now.attrs.version.unwrap().id,
        id,
        "the deleted version stays deleted"
    );
    assert!(history.all_entries("k").await.unwrap().is_empty());
}
