//! ListBuckets and its paging (max-buckets, continuation-token, prefix, bucket-region) over
//! the wire: the shape of each page, the tokens, and every refusal with the message real
//! S3 answers (docs/aws-evidence.md, "ListBuckets").

mod common;

use common::*;
use strict_s3::config::Config;

async fn server() -> TestServer {
    TestServer::start(
        Config {
            buckets: ["alpha", "beta", "gamma-1", "gamma-2", "zeta"]
                .iter()
                .map(|b| (*b).into())
                .collect(),
            ..Config::in_memory()
        },
        t0(),
    )
    .await
}

fn list(s: &TestServer, query: &str) -> Raw {
    let target = if query.is_empty() {
        "/".to_string()
    } else {
        format!("/?{query}")
    };
    Raw::new("GET", &target).sign(&s.host, SK, REGION, s.clock_now())
}

fn names(resp: &Resp) -> Vec<String> {
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    resp.body_text()
        .split("<Name>")
        .skip(1)
        .map(|t| t[..t.find("</Name>").unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn unpaged_lists_everything_without_regions() {
    let s = server().await;
    let resp = s.send(&list(&s, "")).await;
    assert_eq!(
        names(&resp),
        ["alpha", "beta", "gamma-1", "gamma-2", "zeta"]
    );
    let body = resp.body_text();
    for absent in ["BucketRegion", "ContinuationToken", "<Prefix"] {
        assert!(!body.contains(absent), "{absent} in {body}");
    }
    // Owner, then Buckets.
    assert!(
        body.find("<Owner>").unwrap() < body.find("<Buckets>").unwrap(),
        "{body}"
    );
}

#[tokio::test]
async fn pages_follow_their_tokens_to_the_end() {
    let s = server().await;
    let mut seen = Vec::new();
    let mut query = "max-buckets=2".to_string();
    for _ in 0..5 {
        let resp = s.send(&list(&s, &query)).await;
        let page = names(&resp);
        assert!(page.len() <= 2);
        let body = resp.body_text();
        assert_eq!(
            body.matches("<BucketRegion>us-east-1</BucketRegion>")
                .count(),
            page.len()
        );
        seen.extend(page);
        match resp.xml("ContinuationToken") {
            Some(token) => {
                // The token follows the buckets.
                assert!(
                    body.find("</Buckets>").unwrap() < body.find("<ContinuationToken>").unwrap()
                );
                query = format!("max-buckets=2&continuation-token={}", urlencoding(&token));
            }
            None => break,
        }
    }
    assert_eq!(seen, ["alpha", "beta", "gamma-1", "gamma-2", "zeta"]);

    // A prefix filters and is echoed (an empty one too), before the token.
    let resp = s.send(&list(&s, "prefix=gamma&max-buckets=1")).await;
    assert_eq!(names(&resp), ["gamma-1"]);
    let body = resp.body_text();
    assert!(
        body.find("<Prefix>gamma</Prefix>").unwrap() < body.find("<ContinuationToken>").unwrap()
    );
    let resp = s.send(&list(&s, "prefix=")).await;
    assert_eq!(names(&resp).len(), 5);
    assert!(resp.body_text().contains("<Prefix></Prefix>"));
    assert!(resp.xml("ContinuationToken").is_none());
    // Any parameter, even empty, adds the regions.
    for q in [
        "max-buckets=",
        "continuation-token=",
        "bucket-region=us-east-1",
        "bucket-region=US-EAST-1",
    ] {
        let resp = s.send(&list(&s, q)).await;
        assert_eq!(names(&resp).len(), 5, "{q}");
        assert!(resp.body_text().contains("<BucketRegion>"), "{q}");
    }
    let resp = s.send(&list(&s, "prefix=nothing")).await;
    assert!(names(&resp).is_empty());
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn refusals_name_the_parameter() {
    let s = server().await;
    for (query, message, value) in [
        (
            "max-buckets=abc",
            "Provided max-buckets not an integer or within integer range",
            Some("abc"),
        ),
        (
            "max-buckets=%201",
            "Provided max-buckets not an integer or within integer range",
            Some(" 1"),
        ),
        (
            "max-buckets=0",
            "Argument max-buckets must be an integer between 1 and 10000",
            Some("0"),
        ),
        (
            "max-buckets=-01",
            "Argument max-buckets must be an integer between 1 and 10000",
            Some("-1"),
        ),
        (
            "max-buckets=010001",
            "Argument max-buckets must be an integer between 1 and 10000",
            Some("10001"),
        ),
        (
            "bucket-region=zz",
            "Argument value zz is not a valid AWS Region",
            None,
        ),
        (
            "bucket-region=",
            "Argument value  is not a valid AWS Region",
            None,
        ),
        (
            "bucket-region=eu-west-1",
            "Requests with bucket-region specified must be made to the corresponding regional endpoint",
            None,
        ),
        (
            "max-buckets=0&bucket-region=zz",
            "Argument max-buckets must be an integer between 1 and 10000",
            Some("0"),
        ),
        (
            "continuation-token=garbage",
            "The continuation token provided is incorrect",
            None,
        ),
    ] {
        let resp = s.send(&list(&s, query)).await;
        resp.assert_error(400, "InvalidArgument", Some(message));
        let name = query.split('=').next().unwrap();
        assert_eq!(resp.xml("ArgumentName").as_deref(), Some(name), "{query}");
        assert_eq!(resp.xml("ArgumentValue").as_deref(), value, "{query}");
    }
    // A token made by the client, not the server, is refused too.
    let forged = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alpha");
    s.send(&list(
        &s,
        &format!("continuation-token={}", urlencoding(&forged)),
    ))
    .await
    .assert_error(
        400,
        "InvalidArgument",
        Some("The continuation token provided is incorrect"),
    );
}
