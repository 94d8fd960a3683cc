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
    let file = ConfigFile::load(&path).expect("the example parses");
    let settings = file.settings().expect("the example's settings are valid");
    assert_eq!(settings.addr, Some("127.0.0.1:9000".parse().unwrap()));
    assert_eq!(settings.region.as_deref(), Some("us-east-1"));
    file.apply(&mut config).expect("the example is valid");
    config
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

    // The uploader may assume the ci-uploader role; its sessions may put under ci/ only.
    let form = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleSessionName=build-1&RoleArn={}",
        "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci%2Fci-uploader"
    );
    let resp = s
        .send(&Raw::new("POST", "/").body(form.as_bytes()).sign_with(
            &s.host,
            UPLOADER.0,
            UPLOADER.1,
            REGION,
            "sts",
            s.clock_now(),
            PayloadMode::Body,
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(
        resp.xml("Arn").as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/ci-uploader/build-1")
    );
    let (ak, sk, token) = (
        resp.xml("AccessKeyId").unwrap(),
        resp.xml("SecretAccessKey").unwrap(),
        resp.xml("SessionToken").unwrap(),
    );
    let as_role = |r: Raw| signed(&s, r.header("x-amz-security-token", &token), (&ak, &sk));
    let resp = s
        .send(&as_role(Raw::new("PUT", "/uploads/ci/out.bin").body(b"1")))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    s.send(&as_role(Raw::new("PUT", "/uploads/other.bin").body(b"1")))
        .await
        .assert_error(403, "AccessDenied", None);
    // The auditor (another account, not trusted) may not.
    let resp = s
        .send(&Raw::new("POST", "/").body(form.as_bytes()).sign_with(
            &s.host,
            AUDITOR.0,
            AUDITOR.1,
            REGION,
            "sts",
            s.clock_now(),
            PayloadMode::Body,
        ))
        .await;
    assert_eq!(
        (resp.status, resp.code().as_deref()),
        (403, Some("AccessDenied"))
    );

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

/// Seed data and a CORS file from the configuration file: each file of a bucket's `seed`
/// directory is an object (content type from its extension), each subdirectory of the
/// top-level `seed` a bucket; the bucket's CORS configuration is the file's.
#[tokio::test]
async fn seed_directories_and_cors_files_fill_buckets_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("site/css")).unwrap();
    std::fs::write(d.join("site/index.html"), "<p>hi</p>").unwrap();
    std::fs::write(d.join("site/css/app.css"), "p{}").unwrap();
    std::fs::write(d.join("site/blob.bin"), [0u8, 1, 2]).unwrap();
    std::fs::create_dir_all(d.join("seeds/assets")).unwrap();
    std::fs::write(d.join("seeds/assets/logo.svg"), "<svg/>").unwrap();
    std::fs::write(
        d.join("cors.xml"),
        "<CORSConfiguration><CORSRule><AllowedOrigin>http://localhost:3000</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
    )
    .unwrap();
    let path = d.join("strict-s3.toml");
    std::fs::write(
        &path,
        "region = \"eu-west-2\"\nseed = \"seeds\"\n[storage]\nin_memory = true\n\n[[buckets]]\nname = \"site\"\nseed = \"site\"\ncors_file = \"cors.xml\"\n",
    )
    .unwrap();
    let file = ConfigFile::load(&path).unwrap();
    let settings = file.settings().unwrap();
    assert_eq!(settings.region.as_deref(), Some("eu-west-2"));
    assert_eq!(settings.storage, Some(StorageConfig::Memory));
    let mut config = Config {
        region: settings.region.unwrap(),
        ..Config::in_memory()
    };
    file.apply(&mut config).unwrap();
    let s = TestServer::start(config, t0()).await;
    let get = |path: &str| {
        Raw::new("GET", path).sign_with(
            &s.host,
            AK,
            SK,
            "eu-west-2",
            "s3",
            s.clock_now(),
            PayloadMode::Body,
        )
    };
    for (path, body, content_type) in [
        ("/site/index.html", &b"<p>hi</p>"[..], "text/html"),
        ("/site/css/app.css", b"p{}", "text/css"),
        ("/site/blob.bin", &[0u8, 1, 2], "application/octet-stream"),
        ("/assets/logo.svg", b"<svg/>", "image/svg+xml"),
    ] {
        let resp = s.send(&get(path)).await;
        assert_eq!((resp.status, resp.body.as_slice()), (200, body), "{path}");
        assert_eq!(resp.header("content-type"), Some(content_type), "{path}");
    }
    let cors = s.send(&get("/site?cors")).await.body_text();
    assert!(
        cors.contains("<AllowedOrigin>http://localhost:3000</AllowedOrigin>"),
        "{cors}"
    );
    // No more objects than files.
    let list = s.send(&get("/site?list-type=2")).await;
    assert_eq!(list.xml("KeyCount").as_deref(), Some("3"));

    // Mistakes in these fields are named like the others.
    for (text, expected) in [
        (
            "region = \"mars-1\"\n",
            "strict-s3.toml:1:10: region: \"mars-1\" is not an AWS region",
        ),
        (
            "addr = \"localhost\"\n",
            "strict-s3.toml:1:8: addr: not an address",
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let e = ConfigFile::load(&path)
            .unwrap()
            .settings()
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{e}");
    }
    for (text, expected) in [
        (
            "[[buckets]]\nname = \"site\"\ncors_file = \"missing.xml\"\n",
            "buckets[0].cors_file: cannot read",
        ),
        (
            "[[buckets]]\nname = \"site\"\ncors_file = \"strict-s3.toml\"\n",
            "buckets[0].cors_file: MalformedXML",
        ),
        (
            "[[buckets]]\nname = \"site\"\nseed = \"nowhere\"\n",
            "buckets[0].seed:",
        ),
        ("seed = \"nowhere\"\n", "seed: cannot read"),
    ] {
        std::fs::write(&path, text).unwrap();
        let e = ConfigFile::load(&path)
            .unwrap()
            .apply(&mut Config::in_memory())
            .unwrap_err()
            .to_string();
        assert!(e.contains(expected), "{text}: {e}");
    }
}
