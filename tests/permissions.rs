//! Permissions: a presigned URL, a header-signed request and a DeleteObjects key are only
//! as powerful as the signer's identity policy. The root user of the account may do
//! everything; an IAM user what its policy allows; a user without a policy nothing.
//! Every refusal is S3's 403 AccessDenied with AWS's same-account wording.

mod common;

use std::time::Duration;

use common::*;
use strict_s3::config::{Config, Credential};
use strict_s3::policy::Policy;

const UPLOADER: (&str, &str) = ("AKIAUPLOADER00000000", "uploader-secret");
const NOBODY: (&str, &str) = ("AKIANOBODY0000000000", "nobody-secret");
const READER: (&str, &str) = ("AKIAREADER0000000000", "reader-secret");

/// The tutorial user: GetObject and PutObject on one bucket, nothing else.
const TUTORIAL: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{"Sid": "UploadsOnly", "Effect": "Allow",
                 "Action": ["s3:GetObject", "s3:PutObject"],
                 "Resource": "arn:aws:s3:::bkt/*"}]
}"#;

/// Reads and lists `bkt`, but not with a presigned URL signed more than 10 minutes ago
/// (AWS's own example of s3:signatureAge).
const READER_POLICY: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
     "Resource": ["arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*"]},
    {"Sid": "DenyOldPresigned", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
     "Condition": {"NumericGreaterThan": {"s3:signatureAge": "600000"}}}
  ]
}"#;

async fn server() -> TestServer {
    let user = |name, (ak, sk): (&str, &str), policy: Option<&str>| {
        Credential::user(
            name,
            ak,
            sk,
            policy.map(|p| Policy::parse_identity(p).unwrap()),
        )
    };
    let config = Config {
        buckets: vec!["bkt".into(), "bkt2".into()],
        credentials: vec![
            Credential::new(AK, SK),
            user("uploader", UPLOADER, Some(TUTORIAL)),
            user("nobody", NOBODY, None),
            user("reader", READER, Some(READER_POLICY)),
        ],
        ..Config::in_memory()
    };
    TestServer::start(config, t0()).await
}

fn signed(s: &TestServer, method: &str, target: &str, (ak, sk): (&str, &str)) -> Raw {
    Raw::new(method, target).sign_with(
        &s.host,
        ak,
        sk,
        REGION,
        "s3",
        s.clock_now(),
        PayloadMode::Body,
    )
}

fn presigned(s: &TestServer, method: &str, target: &str, (ak, sk): (&str, &str)) -> Raw {
    Raw::new(method, target).presign_with(
        &s.host,
        ak,
        sk,
        REGION,
        s.clock_now(),
        Duration::from_secs(3600),
    )
}

fn denied_message(user: &str, action: &str, resource: &str) -> String {
    format!(
        "User: arn:aws:iam::123456789012:user/{user} is not authorized to perform: {action} on resource: \"{resource}\" because no identity-based policy allows the {action} action"
    )
}

#[tokio::test]
async fn a_presigned_url_is_only_as_powerful_as_its_signer() {
    let s = server().await;
    let put = Raw::new("PUT", "/bkt/k.txt").body(b"hello").sign_with(
        &s.host,
        UPLOADER.0,
        UPLOADER.1,
        REGION,
        "s3",
        s.clock_now(),
        PayloadMode::Body,
    );
    assert_eq!(s.send(&put).await.status, 200, "PutObject is allowed");
    let get = s.send(&presigned(&s, "GET", "/bkt/k.txt", UPLOADER)).await;
    assert_eq!((get.status, get.body.as_slice()), (200, &b"hello"[..]));

    // Twins: the same URL for DELETE, and GET on another bucket, are refused.
    let msg = denied_message("uploader", "s3:DeleteObject", "arn:aws:s3:::bkt/k.txt");
    let resp = s
        .send(&presigned(&s, "DELETE", "/bkt/k.txt", UPLOADER))
        .await;
    resp.assert_error(403, "AccessDenied", Some(&msg));
    let reason = resp.header("x-strict-s3-reason").unwrap();
    assert!(
        reason.contains("no statement of its identity policy or of the bucket policy allows"),
        "{reason}"
    );
    s.put("/bkt2/k.txt", b"other").await;
    let msg = denied_message("uploader", "s3:GetObject", "arn:aws:s3:::bkt2/k.txt");
    s.send(&presigned(&s, "GET", "/bkt2/k.txt", UPLOADER))
        .await
        .assert_error(403, "AccessDenied", Some(&msg));
    let msg = denied_message("uploader", "s3:ListBucket", "arn:aws:s3:::bkt");
    s.send(&signed(&s, "GET", "/bkt?list-type=2", UPLOADER))
        .await
        .assert_error(403, "AccessDenied", Some(&msg));
    // The object is still there: the refused DELETE did nothing.
    assert_eq!(
        s.send(&signed(&s, "GET", "/bkt/k.txt", AKSK)).await.status,
        200
    );

    // The root user may do everything.
    assert_eq!(
        s.send(&signed(&s, "DELETE", "/bkt/k.txt", AKSK))
            .await
            .status,
        204
    );
}

#[tokio::test]
async fn a_missing_key_is_404_only_for_a_caller_who_may_list() {
    let s = server().await;
    // Without s3:ListBucket: 403, so keys cannot be probed.
    let resp = s
        .send(&presigned(&s, "GET", "/bkt/missing", UPLOADER))
        .await;
    resp.assert_error(
        403,
        "AccessDenied",
        Some(&denied_message(
            "uploader",
            "s3:ListBucket",
            "arn:aws:s3:::bkt",
        )),
    );
    assert!(
        resp.header("x-strict-s3-reason")
            .unwrap()
            .contains("the key does not exist")
    );
    let head = s.send(&signed(&s, "HEAD", "/bkt/missing", UPLOADER)).await;
    assert_eq!(head.status, 403);
    // With it (and for the root user): 404 NoSuchKey.
    s.send(&signed(&s, "GET", "/bkt/missing", READER))
        .await
        .assert_error(404, "NoSuchKey", None);
    s.send(&signed(&s, "GET", "/bkt/missing", AKSK))
        .await
        .assert_error(404, "NoSuchKey", None);
}

#[tokio::test]
async fn a_user_without_a_policy_may_do_nothing() {
    let s = server().await;
    s.put("/bkt/k", b"x").await;
    for (method, target, action, resource) in [
        ("GET", "/bkt/k", "s3:GetObject", "arn:aws:s3:::bkt/k"),
        ("PUT", "/bkt/new", "s3:PutObject", "arn:aws:s3:::bkt/new"),
        ("GET", "/", "s3:ListAllMyBuckets", "*"),
        (
            "PUT",
            "/newbucket",
            "s3:CreateBucket",
            "arn:aws:s3:::newbucket",
        ),
    ] {
        let resp = s.send(&signed(&s, method, target, NOBODY)).await;
        resp.assert_error(
            403,
            "AccessDenied",
            Some(&denied_message("nobody", action, resource)),
        );
        assert!(
            resp.header("x-strict-s3-reason")
                .unwrap()
                .contains("has no identity policy")
        );
    }
}

#[tokio::test]
async fn an_explicit_deny_with_a_condition_wins() {
    let s = server().await;
    s.put("/bkt/k", b"x").await;
    let url = presigned(&s, "GET", "/bkt/k", READER);
    assert_eq!(s.send(&url).await.status, 200, "signed just now");
    s.clock.advance(Duration::from_secs(11 * 60));
    let resp = s.send(&url).await;
    resp.assert_error(
        403,
        "AccessDenied",
        Some("User: arn:aws:iam::123456789012:user/reader is not authorized to perform: s3:GetObject on resource: \"arn:aws:s3:::bkt/k\" with an explicit deny in an identity-based policy"),
    );
    let reason = resp.header("x-strict-s3-reason").unwrap();
    assert!(
        reason.contains("statement \"DenyOldPresigned\""),
        "{reason}"
    );
    // Twin: a header-signed request has no s3:signatureAge, so the Deny does not apply.
    assert_eq!(
        s.send(&signed(&s, "GET", "/bkt/k", READER)).await.status,
        200
    );
    let r = s.latest_record().await;
    assert_eq!(r["verdict"], "accepted");
    s.send(&url).await;
    let r = s.latest_record().await;
    let access = r["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "access")
        .unwrap();
    assert_eq!(access["state"], "failed", "{r}");
}

#[tokio::test]
async fn delete_objects_checks_each_key() {
    let s = server().await;
    s.put("/bkt/a", b"x").await;
    let doc = b"<Delete><Object><Key>a</Key></Object></Delete>";
    let md5 = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(md5_digest(doc))
    };
    let req = Raw::new("POST", "/bkt?delete")
        .header("content-md5", &md5)
        .body(doc)
        .sign_with(
            &s.host,
            UPLOADER.0,
            UPLOADER.1,
            REGION,
            "s3",
            s.clock_now(),
            PayloadMode::Body,
        );
    let resp = s.send(&req).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let text = resp.body_text();
    assert!(
        text.contains(
            "<Error><Key>a</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        ),
        "{text}"
    );
    assert_eq!(
        s.send(&signed(&s, "GET", "/bkt/a", AKSK)).await.status,
        200,
        "not deleted"
    );
}

const AKSK: (&str, &str) = (AK, SK);

fn md5_digest(data: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(data).into()
}

fn put_policy(s: &TestServer, bucket: &str, policy: &str, (ak, sk): (&str, &str)) -> Raw {
    Raw::new("PUT", &format!("/{bucket}?policy"))
        .body(policy.as_bytes())
        .sign_with(
            &s.host,
            ak,
            sk,
            REGION,
            "s3",
            s.clock_now(),
            PayloadMode::Body,
        )
}

const PUBLIC_READ: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}"#;

#[tokio::test]
async fn a_bucket_policy_is_set_read_deleted_and_decides_anonymous_access() {
    let s = server().await;
    s.put("/bkt/k", b"private by default").await;
    let get_policy = || signed(&s, "GET", "/bkt?policy", AKSK);
    s.send(&get_policy()).await.assert_error(
        404,
        "NoSuchBucketPolicy",
        Some("The bucket policy does not exist"),
    );
    s.send(&Raw::new("GET", "/bkt/k")).await.assert_error(
        403,
        "AccessDenied",
        Some("Access Denied"),
    );

    // A new bucket blocks public policies (Block Public Access, on by default).
    let blocked = s.send(&put_policy(&s, "bkt", PUBLIC_READ, AKSK)).await;
    blocked.assert_error(403, "AccessDenied", Some("Access Denied"));
    assert!(
        blocked
            .header("x-strict-s3-reason")
            .unwrap()
            .contains("BlockPublicPolicy"),
        "{:?}",
        blocked.header("x-strict-s3-reason")
    );
    assert_eq!(
        s.send(&signed(&s, "DELETE", "/bkt?publicAccessBlock", AKSK))
            .await
            .status,
        204
    );
    assert_eq!(
        s.send(&put_policy(&s, "bkt", PUBLIC_READ, AKSK))
            .await
            .status,
        204
    );
    let got = s.send(&get_policy()).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/json"));
    assert_eq!(got.body_text(), PUBLIC_READ, "returned as it was set");
    let status = s.send(&signed(&s, "GET", "/bkt?policyStatus", AKSK)).await;
    assert!(
        status.body_text().contains("<IsPublic>true</IsPublic>"),
        "{}",
        status.body_text()
    );

    // Anonymous: the policy allows GetObject to everyone, and nothing else.
    let anon = s.send(&Raw::new("GET", "/bkt/k")).await;
    assert_eq!(
        (anon.status, anon.body_text().as_str()),
        (200, "private by default")
    );
    s.send(&Raw::new("PUT", "/bkt/other").body(b"x"))
        .await
        .assert_error(403, "AccessDenied", Some("Access Denied"));
    s.send(&Raw::new("GET", "/bkt/missing")).await.assert_error(
        403,
        "AccessDenied",
        Some("Access Denied"),
    );

    assert_eq!(
        s.send(&signed(&s, "DELETE", "/bkt?policy", AKSK))
            .await
            .status,
        204
    );
    s.send(&Raw::new("GET", "/bkt/k")).await.assert_error(
        403,
        "AccessDenied",
        Some("Access Denied"),
    );
    s.send(&signed(&s, "GET", "/bkt?policyStatus", AKSK))
        .await
        .assert_error(404, "NoSuchBucketPolicy", None);
}

#[tokio::test]
async fn a_bucket_policy_grants_a_user_and_its_deny_binds_the_root_user() {
    let s = server().await;
    s.put("/bkt/k", b"x").await;
    let grant = r#"{"Version":"2012-10-17","Statement":[
        {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/nobody"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"},
        {"Sid":"KeepEverything","Effect":"Deny","Principal":"*","Action":"s3:DeleteObject","Resource":"arn:aws:s3:::bkt/*"}]}"#;
    assert_eq!(
        s.send(&put_policy(&s, "bkt", grant, AKSK)).await.status,
        204
    );
    // The user without an identity policy may now read, through the bucket policy only.
    assert_eq!(
        s.send(&signed(&s, "GET", "/bkt/k", NOBODY)).await.status,
        200
    );
    s.send(&signed(&s, "PUT", "/bkt/n", NOBODY))
        .await
        .assert_error(
            403,
            "AccessDenied",
            Some(&denied_message(
                "nobody",
                "s3:PutObject",
                "arn:aws:s3:::bkt/n",
            )),
        );
    // An explicit Deny binds the root user too, except for managing the policy itself.
    let resp = s.send(&signed(&s, "DELETE", "/bkt/k", AKSK)).await;
    resp.assert_error(
        403,
        "AccessDenied",
        Some("User: arn:aws:iam::123456789012:root is not authorized to perform: s3:DeleteObject on resource: \"arn:aws:s3:::bkt/k\" with an explicit deny in a resource-based policy"),
    );
    assert!(
        resp.header("x-strict-s3-reason")
            .unwrap()
            .contains("statement \"KeepEverything\" of the bucket policy")
    );
    assert_eq!(
        s.send(&signed(&s, "DELETE", "/bkt?policy", AKSK))
            .await
            .status,
        204
    );
    assert_eq!(
        s.send(&signed(&s, "DELETE", "/bkt/k", AKSK)).await.status,
        204
    );
    // The tutorial user may not set a bucket policy.
    s.send(&put_policy(&s, "bkt", PUBLIC_READ, UPLOADER))
        .await
        .assert_error(
            403,
            "AccessDenied",
            Some(&denied_message(
                "uploader",
                "s3:PutBucketPolicy",
                "arn:aws:s3:::bkt",
            )),
        );
}

#[tokio::test]
async fn malformed_bucket_policies_get_s3s_messages() {
    let s = server().await;
    let statement = |extra: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:GetObject"{extra}}}]}}"#
        )
    };
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Sid":"{}","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}}]}}"#,
        "x".repeat(21 * 1024)
    );
    let cases: Vec<(String, &str)> = vec![
        (
            "not json".into(),
            "Policies must be valid JSON and the first byte must be '{'",
        ),
        ("{\"Version\":".into(), "This policy contains invalid Json"),
        (
            statement(r#","Principal":"*","Resource":"arn:aws:s3:::bkt2/*""#),
            "Policy has invalid resource",
        ),
        (
            statement(r#","Principal":"*","Resource":"*""#),
            "Policy has invalid resource",
        ),
        (
            statement(r#","Resource":"arn:aws:s3:::bkt/*""#),
            "Missing required field Principal",
        ),
        (
            statement(
                r#","Principal":{"AWS":"arn:aws:iam::123456789012:user/ghost"},"Resource":"arn:aws:s3:::bkt/*""#,
            ),
            "Invalid principal in policy",
        ),
        (
            statement(r#","Principal":{"AWS":"999999999999"},"Resource":"arn:aws:s3:::bkt/*""#),
            "Invalid principal in policy",
        ),
        (
            statement(r#","Principal":"*","Resource":"arn:aws:s3:::bkt""#),
            "Action does not apply to any resource(s) in statement",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:ListBucket","s3:GetBucketAcl"],"Resource":"arn:aws:s3:::bkt/*"}]}"#.into(),
            "Action does not apply to any resource(s) in statement",
        ),
        (big, "Policy exceeds the maximum allowed document size."),
    ];
    for (policy, message) in cases {
        s.send(&put_policy(&s, "bkt", &policy, AKSK))
            .await
            .assert_error(400, "MalformedPolicy", Some(message));
    }
    // Twins of the resource-type check: an action of each type with its own resource
    // type, in one statement, is accepted.
    let both = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]}]}"#;
    assert_eq!(s.send(&put_policy(&s, "bkt", both, AKSK)).await.status, 204);
    // Twin: a valid policy naming the account by id is accepted, and a condition on a
    // fixed source address makes it not public.
    let limited = statement(
        r#","Principal":{"AWS":"123456789012"},"Resource":"arn:aws:s3:::bkt/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
    );
    assert_eq!(
        s.send(&put_policy(&s, "bkt", &limited, AKSK)).await.status,
        204
    );
    let status = s.send(&signed(&s, "GET", "/bkt?policyStatus", AKSK)).await;
    assert!(
        status.body_text().contains("<IsPublic>false</IsPublic>"),
        "{}",
        status.body_text()
    );
}

/// An IAM user's upload names the user as its Initiator (ARN and name) in
/// ListMultipartUploads and ListParts, as S3 does; the Owner is the account. A root
/// user's upload has the account as both.
#[tokio::test]
async fn an_iam_users_upload_names_the_user_as_initiator() {
    let s = server().await;
    let create = |key: &str, who| signed(&s, "POST", &format!("/bkt/{key}?uploads"), who);
    let resp = s.send(&create("by-user", UPLOADER)).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let upload_id = resp.xml("UploadId").unwrap();
    assert_eq!(s.send(&create("by-root", AKSK)).await.status, 200);
    // The user may not list uploads: its policy has no s3:ListBucketMultipartUploads.
    let list = s.send(&signed(&s, "GET", "/bkt?uploads", UPLOADER)).await;
    list.assert_error(403, "AccessDenied", None);

    let body = s
        .send(&signed(&s, "GET", "/bkt?uploads", AKSK))
        .await
        .body_text();
    let canonical = strict_s3::identity::DEFAULT_CANONICAL_ID;
    assert!(body.contains("<Key>by-root</Key><UploadId>"), "{body}");
    let user_initiator = "<Initiator><ID>arn:aws:iam::123456789012:user/uploader</ID><DisplayName>uploader</DisplayName></Initiator>";
    let root_initiator = format!("<Initiator><ID>{canonical}</ID>");
    assert_eq!(body.matches(user_initiator).count(), 1, "{body}");
    assert_eq!(body.matches(&root_initiator).count(), 1, "{body}");
    assert_eq!(
        body.matches(&format!("<Owner><ID>{canonical}</ID>"))
            .count(),
        2,
        "{body}"
    );
    let by_user = &body[body.find("<Key>by-user</Key>").unwrap()..];
    assert!(
        by_user.find(user_initiator) < by_user.find("</Upload>"),
        "{body}"
    );

    let parts = signed(
        &s,
        "GET",
        &format!("/bkt/by-user?uploadId={upload_id}"),
        AKSK,
    );
    let body = s.send(&parts).await.body_text();
    assert!(body.contains(user_initiator), "{body}");
    assert!(
        body.contains(&format!("<Owner><ID>{canonical}</ID>")),
        "{body}"
    );
}

/// A URL is checked when it is used, not when it is signed: a presigned GET that a
/// bucket policy allowed stops working the moment the policy is deleted, and works
/// again when it is put back, as on AWS.
#[tokio::test]
async fn taking_a_permission_away_stops_urls_already_handed_out() {
    let s = server().await;
    s.put("/bkt/report.csv", b"a,b").await;
    let grant = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NobodyReads","Effect":"Allow",
        "Principal":{"AWS":"arn:aws:iam::123456789012:user/nobody"},"Action":"s3:GetObject",
        "Resource":"arn:aws:s3:::bkt/*"}]}"#;
    assert_eq!(
        s.send(&put_policy(&s, "bkt", grant, AKSK)).await.status,
        204
    );
    let url = presigned(&s, "GET", "/bkt/report.csv", NOBODY);
    assert_eq!(s.send(&url).await.body_text(), "a,b");

    let delete = signed(&s, "DELETE", "/bkt?policy", AKSK);
    assert_eq!(s.send(&delete).await.status, 204);
    let msg = denied_message("nobody", "s3:GetObject", "arn:aws:s3:::bkt/report.csv");
    s.send(&url)
        .await
        .assert_error(403, "AccessDenied", Some(&msg));

    assert_eq!(
        s.send(&put_policy(&s, "bkt", grant, AKSK)).await.status,
        204
    );
    assert_eq!(s.send(&url).await.status, 200);
}
