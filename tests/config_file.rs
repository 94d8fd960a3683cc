//! The configuration file as the server uses it: `strict-s3.example.toml` (the
//! documented example) loaded as is, and every account, user and bucket rule it sets
//! shown working, each with its refused twin. A bucket kept on disk gets the file's
//! rules again at the next start.

mod common;

use common::*;
use strict_s3::config::{Config, ConfigFile, StorageConfig};

const PARTNER: (&str, &str) = ("AKIAPARTNER000000000", "partner-secret-key");
const UPLOADER: (&str, &str) = ("AKIAUPLOADER00000000", "uploader-secret-key");
const AUDITOR: (&str, &str) = ("AKIAPARTNERAUDITOR00", "auditor-secret-key");

fn example(storage: StorageConfig) -> Config {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("strict-s3.example.toml");
    let mut config = Config {
        storage,
        ..Config::in_memory()
    };
    ConfigFile::load(&path)
        .expect("the example parses")
        .apply(&mut config)
        .expect("the example is valid");
    config
}

/// Signed for `region` (partner-data lives in eu-west-2).
fn signed_in(s: &TestServer, r: Raw, (ak, sk): (&str, &str), region: &str) -> Raw {
    r.sign_with(
        &s.host,
        ak,
        sk,
        region,
        "s3",
        s.clock_now(),
        PayloadMode::Body,
    )
}

fn signed(s: &TestServer, r: Raw, (ak, sk): (&str, &str)) -> Raw {
    r.sign_with(
        &s.host,
        ak,
        sk,
        REGION,
        "s3",
        s.clock_now(),
        PayloadMode::Body,
    )
}

#[tokio::test]
async fn the_example_file_sets_up_accounts_users_and_bucket_rules() {
    let s = TestServer::start(example(StorageConfig::Memory), t0()).await;
    let root = (AK, SK);

    // The uploader (default account) may put and get in uploads, nothing more.
    let put = signed(
        &s,
        Raw::new("PUT", "/uploads/a.txt").body(b"hello"),
        UPLOADER,
    );
    assert_eq!(s.send(&put).await.status, 200);
    let get = signed(&s, Raw::new("GET", "/uploads/a.txt"), UPLOADER);
    assert_eq!(s.send(&get).await.body_text(), "hello");
    let del = signed(&s, Raw::new("DELETE", "/uploads/a.txt"), UPLOADER);
    let resp = s.send(&del).await;
    resp.assert_error(403, "AccessDenied", Some(
        "User: arn:aws:iam::123456789012:user/uploader is not authorized to perform: s3:DeleteObject on resource: \"arn:aws:s3:::uploads/a.txt\" because no identity-based policy allows the s3:DeleteObject action",
    ));

    // The partner account's root reads uploads through the bucket policy, cannot write.
    let get = signed(&s, Raw::new("GET", "/uploads/a.txt"), PARTNER);
    assert_eq!(s.send(&get).await.status, 200);
    let put = signed(&s, Raw::new("PUT", "/uploads/b.txt").body(b"x"), PARTNER);
    s.send(&put)
        .await
        .assert_error(403, "AccessDenied", Some("Access Denied"));

    // Its IAM user needs both its own policy and the bucket's: the bucket policy names
    // the partner account, so the auditor (GetObject on *) reads; ListBucket is not in
    // the bucket policy, so listing uploads is refused, while listing its own
    // account's bucket is allowed by its identity policy alone.
    let get = signed(&s, Raw::new("GET", "/uploads/a.txt"), AUDITOR);
    assert_eq!(s.send(&get).await.status, 200);
    let list = signed(&s, Raw::new("GET", "/uploads?list-type=2"), AUDITOR);
    s.send(&list)
        .await
        .assert_error(403, "AccessDenied", Some("Access Denied"));
    let list = signed_in(
        &s,
        Raw::new("GET", "/partner-data?list-type=2"),
        AUDITOR,
        "eu-west-2",
    );
    assert_eq!(s.send(&list).await.status, 200);
    let put = signed_in(
        &s,
        Raw::new("PUT", "/partner-data/x").body(b"x"),
        AUDITOR,
        "eu-west-2",
    );
    let resp = s.send(&put).await;
    resp.assert_error(403, "AccessDenied", None);
    assert!(
        resp.body_text().contains("user/auditor"),
        "{}",
        resp.body_text()
    );

    // partner-data is in eu-west-2: signed for us-east-1, the redirect naming it.
    let wrong = signed(&s, Raw::new("GET", "/partner-data?list-type=2"), AUDITOR);
    let resp = s.send(&wrong).await;
    resp.assert_error(301, "PermanentRedirect", None);
    assert_eq!(resp.header("x-amz-bucket-region"), Some("eu-west-2"));
    // partner-data belongs to the partner account: its root owns it, ours is refused.
    let put = signed_in(
        &s,
        Raw::new("PUT", "/partner-data/p").body(b"p"),
        PARTNER,
        "eu-west-2",
    );
    assert_eq!(s.send(&put).await.status, 200);
    let get = signed_in(&s, Raw::new("GET", "/partner-data/p"), root, "eu-west-2");
    s.send(&get)
        .await
        .assert_error(403, "AccessDenied", Some("Access Denied"));
    let acl = signed_in(
        &s,
        Raw::new("GET", "/partner-data?acl"),
        PARTNER,
        "eu-west-2",
    );
    let body = s.send(&acl).await.body_text();
    assert!(
        body.contains(&strict_s3::identity::Account::with_id("111122223333").canonical_id),
        "{body}"
    );

    // public-site: ObjectWriter, no Block Public Access, public-read bucket ACL: anyone
    // lists it; an object is public only with its own public-read ACL.
    let put = signed(
        &s,
        Raw::new("PUT", "/public-site/index.html")
            .header("x-amz-acl", "public-read")
            .body(b"<p>hi</p>"),
        root,
    );
    assert_eq!(s.send(&put).await.status, 200);
    let put = signed(
        &s,
        Raw::new("PUT", "/public-site/private.txt").body(b"secret"),
        root,
    );
    assert_eq!(s.send(&put).await.status, 200);
    assert_eq!(
        s.send(&Raw::new("GET", "/public-site?list-type=2"))
            .await
            .status,
        200
    );
    assert_eq!(
        s.send(&Raw::new("GET", "/public-site/index.html"))
            .await
            .body_text(),
        "<p>hi</p>"
    );
    s.send(&Raw::new("GET", "/public-site/private.txt"))
        .await
        .assert_error(403, "AccessDenied", Some("Access Denied"));
    // uploads keeps today's defaults: ACLs disabled, Block Public Access on.
    let put = signed(
        &s,
        Raw::new("PUT", "/uploads/c")
            .header("x-amz-acl", "public-read")
            .body(b"c"),
        root,
    );
    s.send(&put).await.assert_error(
        400,
        "AccessControlListNotSupported",
        Some("The bucket does not allow ACLs"),
    );
    let pab = signed(&s, Raw::new("GET", "/uploads?publicAccessBlock"), root);
    assert!(
        s.send(&pab)
            .await
            .body_text()
            .contains("<BlockPublicPolicy>true</BlockPublicPolicy>")
    );
    let pab = signed(&s, Raw::new("GET", "/public-site?publicAccessBlock"), root);
    s.send(&pab)
        .await
        .assert_error(404, "NoSuchPublicAccessBlockConfiguration", None);
}

/// On disk, a bucket from an earlier run gets the file's rules again: a policy deleted
/// over HTTP is back after a restart, and what the file leaves out stays as it was.
#[tokio::test]
async fn a_restart_applies_the_file_to_buckets_kept_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let storage = StorageConfig::Disk(dir.path().into());
    let s = TestServer::start(example(storage.clone()), t0()).await;
    let del = signed(&s, Raw::new("DELETE", "/uploads?policy"), (AK, SK));
    assert_eq!(s.send(&del).await.status, 204);
    let get = signed(&s, Raw::new("GET", "/uploads/a"), PARTNER);
    assert_eq!(s.send(&get).await.status, 403, "no policy, no grant");
    let cors = br#"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>"#;
    use base64::Engine;
    use md5::Digest;
    let md5 = base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(cors));
    let put = signed(
        &s,
        Raw::new("PUT", "/uploads?cors")
            .header("content-md5", &md5)
            .body(cors),
        (AK, SK),
    );
    assert_eq!(s.send(&put).await.status, 200);
    s.handle.shutdown().await;

    let s = TestServer::start(example(storage), t0()).await;
    let get = signed(&s, Raw::new("GET", "/uploads?policy"), (AK, SK));
    assert!(s.send(&get).await.body_text().contains("PartnerReads"));
    let get = signed(&s, Raw::new("GET", "/uploads?cors"), (AK, SK));
    assert_eq!(
        s.send(&get).await.status,
        200,
        "CORS, not in the file, is kept"
    );
}
