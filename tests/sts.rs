//! The STS endpoint in-process, on a clock the tests set: the protocol's refusals
//! (unsigned, unknown action, wrong service, skew), temporary credentials on every S3
//! mechanism (header, presigned, POST form, SigV2), and their end on the server's clock,
//! with the exact codes, statuses, messages and reasons. The real SDK clients are in
//! tests/clients/test_sts.py (boto3) and tests/js/sts.test.js (JS v3).

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use strict_s3::Config;
use strict_s3::config::Credential;
use strict_s3::identity::{Account, Role};
use strict_s3::policy::Policy;

const DEV: (&str, &str) = ("AKIADEV0000000000001", "devsecret");
const ROLE: &str = "arn:aws:iam::123456789012:role/uploader";

async fn server() -> TestServer {
    let policy = Policy::parse_identity(
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","sts:AssumeRole"],"Resource":"*"}]}"#,
    )
    .unwrap();
    let mut config = Config {
        buckets: vec!["bkt".into()],
        ..Config::in_memory()
    };
    config
        .credentials
        .push(Credential::user("dev", DEV.0, DEV.1, Some(policy)));
    let known = |p: &str| p == "arn:aws:iam::123456789012:user/dev";
    config.roles.push(Arc::new(Role {
        account: Account::default_account(),
        name: "uploader".into(),
        path: "/".into(),
        trust: Arc::new(
            Policy::parse_trust(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/dev"},"Action":"sts:AssumeRole"}]}"#,
                &known,
            )
            .unwrap(),
        ),
        policy: Some(Arc::new(
            Policy::parse_identity(
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}"#,
            )
            .unwrap(),
        )),
        max_session_secs: 3600,
    }));
    TestServer::start(config, t0()).await
}

/// `POST /` with a form body, signed for STS by `(key, secret)` (with `token`, if any).
fn sts_request(s: &TestServer, form: &str, who: (&str, &str), token: Option<&str>) -> Raw {
    let mut r = Raw::new("POST", "/")
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(form.as_bytes());
    if let Some(t) = token {
        r = r.header("x-amz-security-token", t);
    }
    r.sign_with(
        &s.host,
        who.0,
        who.1,
        REGION,
        "sts",
        s.clock_now(),
        PayloadMode::Body,
    )
}

/// Temporary credentials from `form` (GetSessionToken or AssumeRole) as dev.
async fn issue(s: &TestServer, form: &str) -> (String, String, String) {
    let resp = s.send(&sts_request(s, form, DEV, None)).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    (
        resp.xml("AccessKeyId").unwrap(),
        resp.xml("SecretAccessKey").unwrap(),
        resp.xml("SessionToken").unwrap(),
    )
}

#[tokio::test]
async fn stss_own_refusals() {
    let s = server().await;
    // Unsigned.
    let resp = s
        .send(&Raw::new("POST", "/").body(b"Action=GetCallerIdentity&Version=2011-06-15"))
        .await;
    sts_error(
        &resp,
        403,
        "MissingAuthenticationToken",
        "Request is missing Authentication Token",
    );
    assert_eq!(resp.header("content-type"), Some("text/xml"));
    assert_eq!(resp.xml("Type").as_deref(), Some("Sender"));
    assert_eq!(resp.header("x-amzn-requestid").map(str::len), Some(36));
    // Unknown operation, missing version.
    let resp = s
        .send(&sts_request(
            &s,
            "Action=GetFederationToken&Version=2011-06-15",
            DEV,
            None,
        ))
        .await;
    sts_error(
        &resp,
        400,
        "InvalidAction",
        "Could not find operation GetFederationToken for version 2011-06-15",
    );
    let resp = s
        .send(&sts_request(&s, "Action=GetCallerIdentity", DEV, None))
        .await;
    sts_error(
        &resp,
        400,
        "InvalidAction",
        "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED",
    );
    // Signed for S3, not STS (the trailing space is STS's).
    let form = "Action=GetCallerIdentity&Version=2011-06-15";
    let resp = s
        .send(&Raw::new("POST", "/").body(form.as_bytes()).sign_with(
            &s.host,
            DEV.0,
            DEV.1,
            REGION,
            "s3",
            s.clock_now(),
            PayloadMode::Body,
        ))
        .await;
    sts_error(
        &resp,
        403,
        "SignatureDoesNotMatch",
        "Credential should be scoped to correct service: 'sts'. ",
    );
    // Signed 20 minutes ago.
    let past = st(t0() - time::Duration::minutes(20));
    let resp = s
        .send(&Raw::new("POST", "/").body(form.as_bytes()).sign_with(
            &s.host,
            DEV.0,
            DEV.1,
            REGION,
            "sts",
            past,
            PayloadMode::Body,
        ))
        .await;
    sts_error(
        &resp,
        403,
        "SignatureDoesNotMatch",
        "Signature expired: 20260115T114000Z is now earlier than 20260115T114500Z (20260115T120000Z - 15 min.)",
    );
    // The body is signed: a changed body is a signature mismatch.
    let mut tampered = sts_request(&s, form, DEV, None);
    tampered = tampered.body(b"Action=GetCallerIdentity&Version=2011-06-16");
    let resp = s.send(&tampered).await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.code().as_deref(), Some("SignatureDoesNotMatch"));
    // A body past the bound is refused unread, and the connection closed.
    let big = format!(
        "Action=GetCallerIdentity&Version=2011-06-15&Pad={}",
        "x".repeat(70_000)
    );
    let resp = s.send(&sts_request(&s, &big, DEV, None)).await;
    sts_error(
        &resp,
        413,
        "RequestEntityTooLarge",
        "The request body exceeds 65536 bytes",
    );
    assert_eq!(resp.header("connection"), Some("close"));
    // And the good one.
    let resp = s.send(&sts_request(&s, form, DEV, None)).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(
        resp.xml("Arn").as_deref(),
        Some("arn:aws:iam::123456789012:user/dev")
    );
    assert!(
        resp.body_text()
            .starts_with("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <GetCallerIdentityResult>\n"),
        "{}",
        resp.body_text()
    );
}

#[tokio::test]
async fn temporary_credentials_on_every_s3_mechanism_until_they_end() {
    let s = server().await;
    s.put("/bkt/k", b"v").await;
    let (ak, sk, token) = issue(
        &s,
        "Action=GetSessionToken&Version=2011-06-15&DurationSeconds=900",
    )
    .await;
    assert!(ak.starts_with("ASIA"));
    let who = (ak.as_str(), sk.as_str());
    let get = |token: Option<&str>| {
        let mut r = Raw::new("GET", "/bkt/k");
        if let Some(t) = token {
            r = r.header("x-amz-security-token", t);
        }
        signed(&s, r, who)
    };
    assert_eq!(s.send(&get(Some(&token))).await.status, 200);
    // No token: the temporary key alone is unknown (databend#8069).
    let resp = s.send(&get(None)).await;
    resp.assert_error(
        403,
        "InvalidAccessKeyId",
        Some("The AWS Access Key Id you provided does not exist in our records."),
    );
    assert!(
        resp.header("x-strict-s3-reason")
            .unwrap()
            .contains("temporary access key")
    );
    let resp = s.send(&get(Some("forged"))).await;
    resp.assert_error(
        400,
        "InvalidToken",
        Some("The provided token is malformed or otherwise invalid."),
    );
    assert_eq!(resp.xml("Token-0").as_deref(), Some("forged"));
    // A token with a key this server never issued (or issued before a restart).
    let resp = s
        .send(&signed(
            &s,
            Raw::new("GET", "/bkt/k").header("x-amz-security-token", &token),
            ("ASIAUNKNOWN000000000", "x"),
        ))
        .await;
    resp.assert_error(400, "InvalidToken", None);

    // A presigned URL valid for a day, signed with the 15-minute credentials.
    let url = Raw::new(
        "GET",
        &format!("/bkt/k?X-Amz-Security-Token={}", enc(&token)),
    )
    .presign_with(
        &s.host,
        &ak,
        &sk,
        REGION,
        s.clock_now(),
        Duration::from_secs(86_400),
    );
    assert_eq!(s.send(&url).await.status, 200);

    // Sixteen minutes later, the session has ended.
    s.clock.set(t0() + time::Duration::minutes(16));
    let resp = s.send(&url).await;
    resp.assert_error(400, "ExpiredToken", Some("The provided token has expired."));
    assert_eq!(resp.xml("Token-0").as_deref(), Some(token.as_str()));
    assert_eq!(
        resp.header("x-strict-s3-reason"),
        Some(
            "the URL was signed with temporary credentials that expired at 2026-01-15T12:15:00Z, before the URL's own expiry at 2026-01-16T12:00:00Z (server time 2026-01-15T12:16:00Z): a presigned URL works only as long as the credentials that signed it"
        )
    );
    let resp = s.send(&get(Some(&token))).await;
    resp.assert_error(400, "ExpiredToken", Some("The provided token has expired."));
    // STS itself answers in its own words.
    let resp = s
        .send(&sts_request(
            &s,
            "Action=GetCallerIdentity&Version=2011-06-15",
            who,
            Some(&token),
        ))
        .await;
    sts_error(
        &resp,
        403,
        "ExpiredToken",
        "The security token included in the request is expired",
    );
}

#[tokio::test]
async fn role_sessions_are_what_the_role_allows_and_bucket_policies_can_name_the_role() {
    let s = server().await;
    s.put("/bkt/k", b"v").await;
    let (ak, sk, token) = issue(
        &s,
        &format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn={}&RoleSessionName=r1",
            enc(ROLE)
        ),
    )
    .await;
    let who = (ak.as_str(), sk.as_str());
    let send = |method: &str, path: &str| {
        signed(
            &s,
            Raw::new(method, path).header("x-amz-security-token", &token),
            who,
        )
    };
    assert_eq!(s.send(&send("GET", "/bkt/k")).await.status, 200);
    let resp = s.send(&send("PUT", "/bkt/new")).await;
    resp.assert_error(
        403,
        "AccessDenied",
        Some(
            "User: arn:aws:sts::123456789012:assumed-role/uploader/r1 is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::bkt/new\" because no identity-based policy allows the s3:PutObject action",
        ),
    );
    // Whoever the role is, a bucket policy naming the role applies to its sessions.
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{ROLE}"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::bkt/*"}}]}}"#
    );
    let resp = s
        .send(&signed(
            &s,
            Raw::new("PUT", "/bkt?policy").body(policy.as_bytes()),
            (AK, SK),
        ))
        .await;
    assert_eq!(resp.status, 204, "{}", resp.body_text());
    assert_eq!(s.send(&send("PUT", "/bkt/new")).await.status, 200);
    // Listing stays refused: neither the role's policy nor the bucket policy allows it.
    let resp = s.send(&send("GET", "/bkt?list-type=2")).await;
    resp.assert_error(403, "AccessDenied", None);
}

/// An STS error: status, Code, Message, and STS's envelope (RequestId outside Error,
/// the same UUID as x-amzn-RequestId).
#[track_caller]
fn sts_error(resp: &Resp, status: u16, code: &str, message: &str) {
    assert_eq!(
        (
            resp.status,
            resp.code().as_deref(),
            resp.xml("Message").as_deref()
        ),
        (status, Some(code), Some(message)),
        "{}",
        resp.body_text()
    );
    let body = resp.body_text();
    assert!(body.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n"), "{body}");
    assert!(
        body.contains(&format!(
            "  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
            resp.header("x-amzn-requestid").unwrap()
        )),
        "{body}"
    );
}

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
