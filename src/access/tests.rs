use super::*;
use crate::auth::AuthKind;
use crate::auth::PayloadCheck;
use crate::config::Credential;
use time::macros::datetime;

const KEYS: &[&str] = &[
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:SecureTransport",
    "aws:SourceIp",
    "aws:UserAgent",
    "aws:Referer",
    "aws:username",
    "aws:userid",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "s3:prefix",
    "s3:delimiter",
    "s3:max-keys",
    "s3:x-amz-acl",
    "s3:x-amz-content-sha256",
    "s3:authType",
    "s3:signatureversion",
    "s3:signatureAge",
    "s3:x-amz-copy-source",
    "s3:x-amz-metadata-directive",
];

fn request(query: &str, headers: &[(&'static str, &'static str)]) -> S3Request {
    let mut map = http::HeaderMap::new();
    for (k, v) in headers {
        map.insert(*k, http::HeaderValue::from_static(v));
    }
    S3Request::new(http::Method::GET, "/bkt", Some(query), map, "r".into()).unwrap()
}

#[test]
fn condition_keys_as_aws_sets_them() {
    let cred = Credential::user("alice", "AKIAALICE", "s", None);
    let signed_at = datetime!(2026-01-15 12:00:00 UTC);
    let who = |kind| Authenticated::signed(kind, &cred, Some(signed_at), PayloadCheck::None);
    let req = request(
        "prefix=home/&delimiter=/",
        &[
            ("user-agent", "app/1.0"),
            ("referer", "https://example.com/"),
            ("x-amz-acl", "private"),
            ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            ("x-amz-copy-source", "src/k"),
            ("x-amz-metadata-directive", "REPLACE"),
        ],
    );
    let keys: Vec<String> = KEYS.iter().map(|k| k.to_ascii_lowercase()).collect();
    let now = signed_at + time::Duration::seconds(700);
    let peer = Some("127.0.0.1:5000".parse().unwrap());
    let c = context::context(&who(AuthKind::V4Query), &req, now, peer, &keys);
    let v = |k| c.value(k).map(str::to_string);
    assert_eq!(
        v("aws:CurrentTime").as_deref(),
        Some("2026-01-15T12:11:40Z")
    );
    assert_eq!(v("aws:EpochTime"), Some(now.unix_timestamp().to_string()));
    assert_eq!(v("aws:SecureTransport").as_deref(), Some("false"));
    assert_eq!(v("aws:SourceIp").as_deref(), Some("127.0.0.1"));
    assert_eq!(v("aws:UserAgent").as_deref(), Some("app/1.0"));
    assert_eq!(v("aws:Referer").as_deref(), Some("https://example.com/"));
    assert_eq!(v("aws:username").as_deref(), Some("alice"));
    assert!(v("aws:userid").unwrap().starts_with("AIDA"));
    assert_eq!(
        v("aws:PrincipalArn").as_deref(),
        Some("arn:aws:iam::123456789012:user/alice")
    );
    assert_eq!(v("aws:PrincipalAccount").as_deref(), Some("123456789012"));
    assert_eq!(v("s3:prefix").as_deref(), Some("home/"));
    assert_eq!(v("s3:delimiter").as_deref(), Some("/"));
    assert_eq!(v("s3:max-keys").as_deref(), Some("1000"));
    assert_eq!(v("s3:x-amz-acl").as_deref(), Some("private"));
    assert_eq!(v("s3:authType").as_deref(), Some("REST-QUERY-STRING"));
    assert_eq!(
        v("s3:signatureversion").as_deref(),
        Some("AWS4-HMAC-SHA256")
    );
    assert_eq!(v("s3:signatureAge").as_deref(), Some("700000"));
    assert_eq!(v("s3:x-amz-copy-source").as_deref(), Some("src/k"));
    assert_eq!(v("s3:x-amz-metadata-directive").as_deref(), Some("REPLACE"));
    // Presigned: no s3:x-amz-content-sha256. Header-signed: it, and no signature age.
    assert_eq!(v("s3:x-amz-content-sha256"), None);
    let c = context::context(&who(AuthKind::V4Header), &req, now, peer, &keys);
    assert_eq!(c.value("s3:x-amz-content-sha256"), Some("UNSIGNED-PAYLOAD"));
    assert_eq!(c.value("s3:authType"), Some("REST-HEADER"));
    assert_eq!(c.value("s3:signatureAge"), None);
    let c = context::context(&who(AuthKind::V2Query), &req, now, peer, &keys);
    assert_eq!(c.value("s3:signatureversion"), Some("AWS"));
    assert_eq!(c.value("s3:signatureAge"), Some("0"));
    // Only the keys a policy reads are computed.
    let c = context::context(
        &who(AuthKind::V4Query),
        &req,
        now,
        peer,
        &["s3:prefix".into()],
    );
    assert_eq!(c.value("s3:prefix"), Some("home/"));
    assert_eq!(c.value("aws:UserAgent"), None);
    // Tags a write asks for: each by key, and the list of keys.
    let tagged = request("", &[("x-amz-tagging", "project=blue%20sky&Owner=ann")]);
    let tag_keys: Vec<String> = [
        "s3:RequestObjectTag/project",
        "s3:RequestObjectTag/owner",
        "s3:RequestObjectTag/missing",
        "s3:RequestObjectTagKeys",
    ]
    .iter()
    .map(|k| k.to_ascii_lowercase())
    .collect();
    let c = context::context(&who(AuthKind::V4Query), &tagged, now, peer, &tag_keys);
    assert_eq!(c.value("s3:RequestObjectTag/project"), Some("blue sky"));
    assert_eq!(c.value("s3:RequestObjectTag/Owner"), Some("ann"));
    assert_eq!(c.value("s3:RequestObjectTag/missing"), None);
    assert_eq!(
        c.get("s3:RequestObjectTagKeys"),
        Some(&["project".to_string(), "Owner".to_string()][..])
    );
    // Absent from the request, absent from the context.
    let bare = request("", &[]);
    let c = context::context(&who(AuthKind::V4Query), &bare, now, None, &keys);
    assert_eq!(c.get("s3:RequestObjectTagKeys"), None);
    for k in ["s3:prefix", "aws:Referer", "s3:x-amz-acl", "aws:SourceIp"] {
        assert_eq!(c.value(k), None, "{k}");
    }
}
