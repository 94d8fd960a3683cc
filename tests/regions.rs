//! Buckets in several regions behind one endpoint: a request for an existing bucket
//! must be signed for the bucket's region, and is refused as S3 refuses it otherwise
//! (the region it expected in the message, `<Region>` and `x-amz-bucket-region`, which
//! SDKs follow); requests without an existing bucket may be signed for any region, as
//! that region's endpoint would take them; CreateBucket follows S3's constraint rules.

mod common;

use common::*;
use strict_s3::config::{BucketSpec, Config};

async fn server() -> TestServer {
    let config = Config {
        buckets: vec![
            "home".into(),
            BucketSpec {
                region: Some("eu-west-2".into()),
                ..BucketSpec::from("euro")
            },
        ],
        ..Config::in_memory()
    };
    TestServer::start(config, t0()).await
}

/// The text of GetBucketLocation's `<LocationConstraint xmlns=…>` root element.
fn constraint(resp: &Resp) -> String {
    let body = resp.body_text();
    let start = body
        .find("<LocationConstraint")
        .expect("a LocationConstraint");
    let rest = &body[start..];
    if rest[..rest.find('>').unwrap()].ends_with('/') {
        return String::new();
    }
    let open = rest.find('>').unwrap() + 1;
    rest[open..rest.find("</LocationConstraint>").unwrap()].to_string()
}

fn signed(s: &TestServer, r: Raw, region: &str) -> Raw {
    r.sign(&s.host, SK, region, s.clock_now())
}

#[tokio::test]
async fn a_bucket_answers_only_requests_signed_for_its_region() {
    let s = server().await;
    let port = s.host.rsplit(':').next().unwrap().to_string();
    let vhost = format!("euro.localhost:{port}");
    let now = s.clock_now();
    let put = |region| signed(&s, Raw::new("PUT", "/euro/k").body(b"v"), region);
    assert_eq!(s.send(&put("eu-west-2")).await.status, 200);

    // Named in the host, the request reached the bucket's region (DNS), which refuses
    // the scope: 400, the region it expected, <Region> and x-amz-bucket-region.
    let get = |region| Raw::new("GET", "/k").sign(&vhost, SK, region, now);
    assert_eq!(s.send(&get("eu-west-2")).await.body_text(), "v");
    let resp = s.send(&get("us-east-1")).await;
    resp.assert_error(
        400,
        "AuthorizationHeaderMalformed",
        Some("The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'eu-west-2'"),
    );
    assert_eq!(resp.xml("Region").as_deref(), Some("eu-west-2"));
    assert_eq!(resp.header("x-amz-bucket-region"), Some("eu-west-2"));
    let reason = resp.header("x-strict-s3-reason").unwrap();
    assert!(
        reason.contains("bucket euro is in region eu-west-2"),
        "{reason}"
    );
    // Presigned: the query parameter's wording.
    let url = |region| {
        Raw::new("GET", "/k").presign(&vhost, SK, region, now, std::time::Duration::from_secs(600))
    };
    assert_eq!(s.send(&url("eu-west-2")).await.body_text(), "v");
    let resp = s.send(&url("us-east-1")).await;
    resp.assert_error(
        400,
        "AuthorizationQueryParametersError",
        Some("Error parsing the X-Amz-Credential parameter; the region 'us-east-1' is wrong; expecting 'eu-west-2'"),
    );
    assert_eq!(resp.xml("Region").as_deref(), Some("eu-west-2"));
    assert_eq!(resp.header("x-amz-bucket-region"), Some("eu-west-2"));

    // Named in the path, it went to the endpoint of the region it is signed for, which
    // redirects: 301 PermanentRedirect with the bucket's region (what SDKs follow).
    for req in [
        put("us-east-1"),
        Raw::new("GET", "/euro/k").presign(
            &s.host,
            SK,
            "us-east-1",
            now,
            std::time::Duration::from_secs(600),
        ),
    ] {
        let resp = s.send(&req).await;
        resp.assert_error(301, "PermanentRedirect", Some("The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."));
        assert_eq!(resp.xml("Bucket").as_deref(), Some("euro"));
        assert_eq!(
            resp.xml("Endpoint").as_deref(),
            Some("euro.s3.eu-west-2.amazonaws.com")
        );
        assert_eq!(resp.header("x-amz-bucket-region"), Some("eu-west-2"));
    }
    // A scope that names no AWS region is malformed wherever it went.
    s.send(&put("mars-1"))
        .await
        .assert_error(400, "AuthorizationHeaderMalformed", None);

    // HeadBucket: no body, the region header either way; 200 with it when right.
    let resp = s
        .send(&signed(&s, Raw::new("HEAD", "/euro"), "us-east-1"))
        .await;
    assert_eq!(
        (resp.status, resp.header("x-amz-bucket-region")),
        (301, Some("eu-west-2"))
    );
    let resp = s
        .send(&Raw::new("HEAD", "/").sign(&vhost, SK, "us-east-1", now))
        .await;
    assert_eq!(
        (resp.status, resp.header("x-amz-bucket-region")),
        (400, Some("eu-west-2"))
    );
    let resp = s
        .send(&signed(&s, Raw::new("HEAD", "/euro"), "eu-west-2"))
        .await;
    assert_eq!(
        (resp.status, resp.header("x-amz-bucket-region")),
        (200, Some("eu-west-2"))
    );
    // GetBucketLocation answers whatever the region signed: it is how clients find out.
    let resp = s
        .send(&signed(&s, Raw::new("GET", "/euro?location"), "us-east-1"))
        .await;
    assert_eq!(constraint(&resp), "eu-west-2");
    // The default-region bucket keeps its rule too.
    let resp = s
        .send(&signed(
            &s,
            Raw::new("GET", "/home?list-type=2"),
            "eu-west-2",
        ))
        .await;
    resp.assert_error(301, "PermanentRedirect", None);
    assert_eq!(resp.header("x-amz-bucket-region"), Some("us-east-1"));

    // ListBuckets and a missing bucket take any real region; a paged ListBuckets names
    // each bucket's region (an unpaged one does not: docs/aws-evidence.md).
    let list = s
        .send(&signed(
            &s,
            Raw::new("GET", "/?max-buckets=100"),
            "ap-south-1",
        ))
        .await;
    assert_eq!(list.status, 200);
    let body = list.body_text();
    assert!(
        body.contains("<BucketRegion>eu-west-2</BucketRegion>"),
        "{body}"
    );
    let unpaged = s
        .send(&signed(&s, Raw::new("GET", "/"), "ap-south-1"))
        .await;
    assert_eq!(unpaged.status, 200);
    assert!(!unpaged.body_text().contains("BucketRegion"));
    let missing = s
        .send(&signed(&s, Raw::new("GET", "/nowhere/k"), "ap-south-1"))
        .await;
    missing.assert_error(404, "NoSuchBucket", None);
    let resp = s.send(&signed(&s, Raw::new("GET", "/"), "mars-1")).await;
    resp.assert_error(
        400,
        "AuthorizationHeaderMalformed",
        Some("The authorization header is malformed; the region 'mars-1' is wrong; expecting 'us-east-1'"),
    );
}

#[tokio::test]
async fn a_post_form_signed_for_another_region_is_invalid_argument() {
    let s = server().await;
    let form = |region: &str| {
        let credential = format!("{AK}/20260115/{region}/s3/aws4_request");
        let b64 = base64::engine::general_purpose::STANDARD;
        use base64::Engine;
        let policy = b64.encode(format!(
            r#"{{"expiration": "2026-01-15T13:00:00.000Z", "conditions": [{{"bucket": "euro"}}, {{"key": "f"}}, {{"x-amz-credential": "{credential}"}}, {{"x-amz-algorithm": "AWS4-HMAC-SHA256"}}, {{"x-amz-date": "20260115T120000Z"}}]}}"#
        ));
        let key = aws_sigv4::sign::v4::generate_signing_key(SK, s.clock_now(), region, "s3");
        let signature = aws_sigv4::sign::v4::calculate_signature(key, policy.as_bytes());
        let mut body = String::new();
        for (n, v) in [
            ("key", "f"),
            ("x-amz-credential", credential.as_str()),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256"),
            ("x-amz-date", "20260115T120000Z"),
            ("policy", policy.as_str()),
            ("x-amz-signature", signature.as_str()),
        ] {
            body.push_str(&format!(
                "--B\r\nContent-Disposition: form-data; name=\"{n}\"\r\n\r\n{v}\r\n"
            ));
        }
        body.push_str("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\nx\r\n--B--\r\n");
        Raw::new("POST", "/euro")
            .header("content-type", "multipart/form-data; boundary=B")
            .body(body.as_bytes())
    };
    assert_eq!(s.send(&form("eu-west-2")).await.status, 204);
    let resp = s.send(&form("us-east-1")).await;
    resp.assert_error(
        400,
        "InvalidArgument",
        Some("the region 'us-east-1' is wrong; expecting 'eu-west-2'"),
    );
    assert_eq!(
        resp.xml("ArgumentName").as_deref(),
        Some("X-Amz-Credential")
    );
    assert_eq!(
        resp.xml("ArgumentValue").as_deref(),
        Some(format!("{AK}/20260115/us-east-1/s3/aws4_request").as_str())
    );
    assert_eq!(resp.xml("Region").as_deref(), Some("eu-west-2"));
}

#[tokio::test]
async fn create_bucket_follows_s3s_location_constraint_rules() {
    let s = server().await;
    let create = |name: &str, region: &str, constraint: Option<&str>| {
        let body = constraint.map(|c| {
            format!("<CreateBucketConfiguration><LocationConstraint>{c}</LocationConstraint></CreateBucketConfiguration>")
        });
        let raw = Raw::new("PUT", &format!("/{name}"));
        let raw = match &body {
            Some(b) => raw.body(b.as_bytes()),
            None => raw,
        };
        signed(&s, raw, region)
    };
    let location = |name: &str| {
        signed(
            &s,
            Raw::new("GET", &format!("/{name}?location")),
            "us-east-1",
        )
    };

    // Signed for the region it names: created there.
    assert_eq!(
        s.send(&create("in-paris", "eu-west-3", Some("eu-west-3")))
            .await
            .status,
        200
    );
    assert_eq!(
        constraint(&s.send(&location("in-paris")).await),
        "eu-west-3"
    );
    // us-east-1 is S3's global endpoint: any valid constraint is taken.
    assert_eq!(
        s.send(&create("in-mumbai", "us-east-1", Some("ap-south-1")))
            .await
            .status,
        200
    );
    assert_eq!(
        constraint(&s.send(&location("in-mumbai")).await),
        "ap-south-1"
    );
    // Requests for it are then signed for ap-south-1.
    let put = signed(&s, Raw::new("PUT", "/in-mumbai/k").body(b"v"), "ap-south-1");
    assert_eq!(s.send(&put).await.status, 200);
    // No constraint at us-east-1: us-east-1, whose GetBucketLocation is empty.
    assert_eq!(
        s.send(&create("in-virginia", "us-east-1", None))
            .await
            .status,
        200
    );
    assert_eq!(constraint(&s.send(&location("in-virginia")).await), "");

    // The refusals, with S3's codes and messages.
    s.send(&create("no-constraint", "eu-west-3", None))
        .await
        .assert_error(400, "IllegalLocationConstraintException", Some("The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."));
    s.send(&create("elsewhere", "eu-west-3", Some("us-west-1")))
        .await
        .assert_error(400, "IllegalLocationConstraintException", Some("The us-west-1 location constraint is incompatible for the region specific endpoint this request was sent to."));
    let resp = s
        .send(&create("nowhere", "us-east-1", Some("zz-moon-1")))
        .await;
    resp.assert_error(
        400,
        "InvalidLocationConstraint",
        Some("The specified location-constraint is not valid"),
    );
    assert_eq!(resp.xml("LocationConstraint").as_deref(), Some("zz-moon-1"));
    s.send(&create("named-virginia", "us-east-1", Some("us-east-1")))
        .await
        .assert_error(400, "InvalidLocationConstraint", None);
    // Nothing was created by the refusals.
    for name in ["no-constraint", "elsewhere", "nowhere", "named-virginia"] {
        s.send(&signed(
            &s,
            Raw::new("HEAD", &format!("/{name}")),
            "us-east-1",
        ))
        .await;
        let resp = s.send(&location(name)).await;
        resp.assert_error(404, "NoSuchBucket", None);
    }
}
