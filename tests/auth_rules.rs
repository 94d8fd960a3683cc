//! One row per authentication rule: a request signed by AWS's own signer (`aws-sigv4`),
//! then changed in exactly one way, and the exact status, `<Code>` and `<Message>` S3
//! answers. Every rejection row has an accepted twin, so a server that accepts
//! everything (or refuses everything) fails this file.

mod common;

use std::time::Duration;

use common::*;

struct Row {
    name: &'static str,
    req: Raw,
    status: u16,
    /// `None` for a success row.
    code: Option<&'static str>,
    message: Option<&'static str>,
}

fn ok(name: &'static str, req: Raw, status: u16) -> Row {
    Row {
        name,
        req,
        status,
        code: None,
        message: None,
    }
}

fn err(
    name: &'static str,
    req: Raw,
    status: u16,
    code: &'static str,
    message: Option<&'static str>,
) -> Row {
    Row {
        name,
        req,
        status,
        code: Some(code),
        message,
    }
}

async fn run(server: &TestServer, rows: Vec<Row>) {
    let mut failures = Vec::new();
    for row in rows {
        let resp = server.send(&row.req).await;
        let got_code = resp.code();
        let good = match row.code {
            None => resp.status == row.status && got_code.is_none(),
            Some(code) => {
                resp.status == row.status
                    && got_code.as_deref() == Some(code)
                    && row
                        .message
                        .is_none_or(|m| resp.xml("Message").as_deref() == Some(m))
                    && resp.header("x-amz-request-id").is_some()
            }
        };
        if !good {
            failures.push(format!(
                "{}: expected {} {:?} {:?}, got {} {}",
                row.name,
                row.status,
                row.code,
                row.message,
                resp.status,
                resp.body_text()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} rows failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

const SIG_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your key and signing method.";

#[tokio::test]
async fn header_auth_rules() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"hello world").await;
    let h = s.host.clone();
    let now = st(t0());
    let get = || Raw::new("GET", "/bkt/obj");
    let signed = |r: Raw| r.sign(&h, SK, REGION, now);
    let m = Duration::from_secs(60);

    let rows = vec![
        ok("valid GET", signed(get()), 200),
        ok("valid GET with Range", signed(get().header("range", "bytes=0-4")), 206),
        ok("14 minutes slow is within the skew", get().sign(&h, SK, REGION, now - 14 * m), 200),
        ok("14 minutes fast is within the skew", get().sign(&h, SK, REGION, now + 14 * m), 200),
        ok("UNSIGNED-PAYLOAD", get().sign_with(&h, AK, SK, REGION, "s3", now, PayloadMode::Unsigned), 200),
        err("wrong secret", get().sign(&h, "wrong-secret", REGION, now), 403, "SignatureDoesNotMatch", Some(SIG_MISMATCH)),
        err(
            "unknown access key",
            get().sign_with(&h, "AKIDUNKNOWN", SK, REGION, "s3", now, PayloadMode::Body),
            403,
            "InvalidAccessKeyId",
            Some("The AWS Access Key Id you provided does not exist in our records."),
        ),
        // Path-style and signed for another AWS region: on AWS it reached that region's
        // endpoint, which redirects (tests/regions.rs has the virtual-hosted 400).
        err(
            "wrong region",
            get().sign(&h, SK, "eu-west-1", now),
            301,
            "PermanentRedirect",
            Some("The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint."),
        ),
        err(
            "not a region",
            get().sign(&h, SK, "eu-west-9", now),
            400,
            "AuthorizationHeaderMalformed",
            Some("The authorization header is malformed; the region 'eu-west-9' is wrong; expecting 'us-east-1'"),
        ),
        err(
            "wrong service",
            get().sign_with(&h, AK, SK, REGION, "s4", now, PayloadMode::Body),
            400,
            "AuthorizationHeaderMalformed",
            Some("The authorization header is malformed; incorrect service \"s4\". This endpoint belongs to \"s3\"."),
        ),
        err("16 minutes slow", get().sign(&h, SK, REGION, now - 16 * m), 403, "RequestTimeTooSkewed", None),
        err("16 minutes fast", get().sign(&h, SK, REGION, now + 16 * m), 403, "RequestTimeTooSkewed", None),
        err("method changed after signing", Raw { method: "DELETE".into(), ..signed(get()) }, 403, "SignatureDoesNotMatch", None),
        err("path changed after signing", Raw { target: "/bkt/other".into(), ..signed(get()) }, 403, "SignatureDoesNotMatch", None),
        err("bucket changed after signing", Raw { target: "/bkt2/obj".into(), ..signed(get()) }, 403, "SignatureDoesNotMatch", None),
        err(
            "query changed after signing",
            Raw { target: "/bkt?prefix=b".into(), ..signed(Raw::new("GET", "/bkt?prefix=a")) },
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "signed header value changed",
            signed(get().header("range", "bytes=0-4")).set_header("range", "bytes=0-5"),
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "host changed (proxy or port rewrite)",
            signed(get()).set_header("host", "localhost:1"),
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "x-amz-* header added unsigned",
            signed(get()).header("x-amz-meta-extra", "1"),
            403,
            "AccessDenied",
            Some("There were headers present in the request which were not signed"),
        ),
        err(
            "x-amz-content-sha256 missing",
            signed(get()).without_header("x-amz-content-sha256"),
            400,
            "InvalidRequest",
            Some("Missing required header for this request: x-amz-content-sha256"),
        ),
        err(
            "x-amz-content-sha256 not a hash",
            get().sign_with(&h, AK, SK, REGION, "s3", now, PayloadMode::Precomputed("abc".into())),
            400,
            "InvalidArgument",
            None,
        ),
        err(
            "no date at all",
            signed(get()).without_header("x-amz-date"),
            403,
            "AccessDenied",
            Some("AWS authentication requires a valid Date or x-amz-date header"),
        ),
        err(
            "credential date differs from x-amz-date",
            signed(get()).set_header("x-amz-date", "20260116T120000Z"),
            400,
            "AuthorizationHeaderMalformed",
            Some("The authorization header is malformed; Invalid credential date. Date is not the same as X-Amz-Date."),
        ),
        err(
            "unknown scheme",
            get().header("authorization", "Bearer abc"),
            400,
            "InvalidArgument",
            Some("Unsupported Authorization Type"),
        ),
        err(
            "missing Signature component",
            get()
                .header("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260115/us-east-1/s3/aws4_request, SignedHeaders=host")
                .header("x-amz-date", "20260115T120000Z")
                .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            400,
            "AuthorizationHeaderMalformed",
            Some("The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature."),
        ),
        err(
            "credential with four parts",
            get()
                .header("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260115/us-east-1/s3, SignedHeaders=host, Signature=abc")
                .header("x-amz-date", "20260115T120000Z"),
            400,
            "AuthorizationHeaderMalformed",
            None,
        ),
        err("no credentials at all", get(), 403, "AccessDenied", Some("Access Denied")),
        err(
            "header and query signature together",
            signed(get()).set_query("X-Amz-Signature", "abc"),
            400,
            "InvalidArgument",
            Some("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified"),
        ),
        err(
            "host not signed",
            Raw::new("GET", "/bkt/obj")
                .header("authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260115/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000")
                .header("x-amz-date", "20260115T120000Z")
                .header("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
            403,
            "AccessDenied",
            Some("There were headers present in the request which were not signed"),
        ),
    ];
    run(&s, rows).await;
}

#[tokio::test]
async fn body_hash_is_checked_and_a_bad_body_stores_nothing() {
    let s = TestServer::default().await;
    s.put("/bkt/k", b"original").await;
    let now = s.clock_now();
    let signed = Raw::new("PUT", "/bkt/k")
        .body(b"new body")
        .sign(&s.host, SK, REGION, now);
    let tampered = Raw {
        body: b"evil body".to_vec(),
        ..signed.clone()
    };
    let resp = s.send(&tampered).await;
    resp.assert_error(
        400,
        "XAmzContentSHA256Mismatch",
        Some("The provided 'x-amz-content-sha256' header does not match what was computed."),
    );
    assert_eq!(
        resp.xml("ClientComputedContentSHA256").as_deref(),
        signed.header_value("x-amz-content-sha256")
    );
    let get = s
        .send(&Raw::new("GET", "/bkt/k").sign(&s.host, SK, REGION, now))
        .await;
    assert_eq!(get.body, b"original", "the previous object stays");
    // The twin: the body that was signed is accepted.
    assert_eq!(s.send(&signed).await.status, 200);
    let get = s
        .send(&Raw::new("GET", "/bkt/k").sign(&s.host, SK, REGION, now))
        .await;
    assert_eq!(get.body, b"new body");
}

#[tokio::test]
async fn signature_mismatch_carries_the_canonical_request_and_string_to_sign() {
    let s = TestServer::default().await;
    let now = s.clock_now();
    let resp = s
        .send(&Raw::new("GET", "/bkt?prefix=a%20b").sign(&s.host, "wrong", REGION, now))
        .await;
    resp.assert_error(403, "SignatureDoesNotMatch", Some(SIG_MISMATCH));
    let canonical = resp.xml("CanonicalRequest").unwrap();
    assert!(
        canonical.starts_with("GET\n/bkt\nprefix=a%20b\nhost:127.0.0.1:"),
        "{canonical}"
    );
    assert!(canonical.ends_with("\n\nhost;x-amz-content-sha256;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    let sts = resp.xml("StringToSign").unwrap();
    assert!(
        sts.starts_with("AWS4-HMAC-SHA256\n20260115T120000Z\n20260115/us-east-1/s3/aws4_request\n"),
        "{sts}"
    );
    assert_eq!(resp.xml("AWSAccessKeyId").as_deref(), Some(AK));
    let bytes = resp.xml("StringToSignBytes").unwrap();
    assert!(bytes.starts_with("41 57 53 34"), "{bytes}");
    assert!(resp.xml("SignatureProvided").unwrap().len() == 64);
}

#[tokio::test]
async fn presigned_url_rules() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"hello").await;
    let h = s.host.clone();
    let now = st(t0());
    let hour = Duration::from_secs(3600);
    let url = || Raw::new("GET", "/bkt/obj").presign(&h, SK, REGION, now, hour);

    let rows = vec![
        ok("valid presigned GET", url(), 200),
        err(
            "tampered signature",
            url().set_query("X-Amz-Signature", &"0".repeat(64)),
            403,
            "SignatureDoesNotMatch",
            Some(SIG_MISMATCH),
        ),
        err(
            "used with PUT",
            Raw {
                method: "PUT".into(),
                ..url()
            },
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "used with DELETE",
            Raw {
                method: "DELETE".into(),
                ..url()
            },
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "used for another key",
            {
                let u = url();
                Raw {
                    target: u.target.replacen("/bkt/obj", "/bkt/obk", 1),
                    ..u
                }
            },
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "used for another bucket",
            {
                let u = url();
                Raw {
                    target: u.target.replacen("/bkt/obj", "/bkt2/obj", 1),
                    ..u
                }
            },
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "extra query parameter",
            url().set_query("response-content-type", "text/html"),
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "X-Amz-Expires changed",
            url().set_query("X-Amz-Expires", "7200"),
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "wrong secret",
            Raw::new("GET", "/bkt/obj").presign(&h, "nope", REGION, now, hour),
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        err(
            "unknown key",
            Raw::new("GET", "/bkt/obj").presign_with(&h, "AKIDUNKNOWN", SK, REGION, now, hour),
            403,
            "InvalidAccessKeyId",
            None,
        ),
        err(
            "wrong region",
            Raw::new("GET", "/bkt/obj").presign(&h, SK, "eu-west-1", now, hour),
            301,
            "PermanentRedirect",
            None,
        ),
        err(
            "not a region",
            Raw::new("GET", "/bkt/obj").presign(&h, SK, "eu-west-9", now, hour),
            400,
            "AuthorizationQueryParametersError",
            Some(
                "Error parsing the X-Amz-Credential parameter; the region 'eu-west-9' is wrong; expecting 'us-east-1'",
            ),
        ),
        err(
            "unsigned x-amz header sent with the URL",
            url().header("x-amz-meta-a", "b"),
            403,
            "AccessDenied",
            Some("There were headers present in the request which were not signed"),
        ),
        err(
            "signed header value changed",
            Raw::new("PUT", "/bkt/obj")
                .header("content-type", "image/png")
                .presign(&h, SK, REGION, now, hour)
                .set_header("content-type", "text/html"),
            403,
            "SignatureDoesNotMatch",
            None,
        ),
        ok(
            "signed content-type honoured",
            Raw::new("PUT", "/bkt/obj2")
                .header("content-type", "image/png")
                .presign(&h, SK, REGION, now, hour),
            200,
        ),
        err(
            "expires over a week",
            url().set_query("X-Amz-Expires", "604801"),
            400,
            "AuthorizationQueryParametersError",
            Some(
                "X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds",
            ),
        ),
        err(
            "expires not a number",
            url().set_query("X-Amz-Expires", "soon"),
            400,
            "AuthorizationQueryParametersError",
            Some("X-Amz-Expires should be a number"),
        ),
        err(
            "expires negative",
            url().set_query("X-Amz-Expires", "-5"),
            400,
            "AuthorizationQueryParametersError",
            Some("X-Amz-Expires must be non-negative"),
        ),
        err(
            "expires zero is already expired",
            url().set_query("X-Amz-Expires", "0"),
            403,
            "AccessDenied",
            Some("Request has expired"),
        ),
        err(
            "signature missing",
            url().remove_query("X-Amz-Signature"),
            400,
            "AuthorizationQueryParametersError",
            Some(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.",
            ),
        ),
        err(
            "algorithm",
            url().set_query("X-Amz-Algorithm", "AWS4-HMAC-SHA1"),
            400,
            "AuthorizationQueryParametersError",
            None,
        ),
        err(
            "bad date",
            url().set_query("X-Amz-Date", "2026-01-15"),
            400,
            "AuthorizationQueryParametersError",
            Some("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""),
        ),
        err(
            "duplicated signature",
            {
                let u = url();
                let sig = u.query_value("X-Amz-Signature").unwrap();
                Raw {
                    target: format!("{}&X-Amz-Signature={sig}", u.target),
                    ..u
                }
            },
            400,
            "AuthorizationQueryParametersError",
            None,
        ),
        err(
            "no signature of any kind",
            Raw::new("GET", "/bkt/obj"),
            403,
            "AccessDenied",
            Some("Access Denied"),
        ),
    ];
    run(&s, rows).await;

    // HEAD errors carry no body, only the status (as on S3).
    let head = s
        .send(&Raw {
            method: "HEAD".into(),
            ..url()
        })
        .await;
    assert_eq!(head.status, 403);
    assert!(head.body.is_empty());
    // S3's form: 16 upper-case hex digits, the same in x-amz-id-2 here, and a new one
    // per request.
    let id = head.header("x-amz-request-id").unwrap().to_string();
    assert!(
        id.len() == 16
            && id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)),
        "{id}"
    );
    assert_eq!(head.header("x-amz-id-2"), Some(id.as_str()));
    let again = s.send(&Raw::new("GET", "/bkt/obj")).await;
    assert_eq!(again.status, 403);
    assert_ne!(again.header("x-amz-request-id"), Some(id.as_str()));
    assert_eq!(
        again.xml("RequestId").as_deref(),
        again.header("x-amz-request-id")
    );
}

#[tokio::test]
async fn presigned_url_validity_window_follows_the_clock() {
    let s = TestServer::default().await;
    s.put("/bkt/obj", b"hello").await;
    let signed_at = st(t0());
    let url = Raw::new("GET", "/bkt/obj").presign(
        &s.host,
        SK,
        REGION,
        signed_at,
        Duration::from_secs(3600),
    );

    assert_eq!(s.send(&url).await.status, 200);
    s.clock.advance(Duration::from_secs(3599));
    assert_eq!(
        s.send(&url).await.status,
        200,
        "valid during its last second"
    );
    s.clock.advance(Duration::from_secs(1));
    let resp = s.send(&url).await;
    resp.assert_error(403, "AccessDenied", Some("Request has expired"));
    assert_eq!(resp.xml("X-Amz-Expires").as_deref(), Some("3600"));
    assert_eq!(resp.xml("Expires").as_deref(), Some("2026-01-15T13:00:00Z"));
    assert_eq!(
        resp.xml("ServerTime").as_deref(),
        Some("2026-01-15T13:00:00Z")
    );

    // Signed 16 minutes in the future: not yet valid; 14 minutes: fine (clock skew).
    s.clock.set(t0() - time::Duration::minutes(16));
    let resp = s.send(&url).await;
    resp.assert_error(403, "AccessDenied", Some("Request is not yet valid"));
    s.clock.set(t0() - time::Duration::minutes(14));
    assert_eq!(s.send(&url).await.status, 200);
}

#[tokio::test]
async fn session_tokens_are_checked() {
    let s = TestServer::default().await;
    let now = s.clock_now();
    let resp = s
        .send(
            &Raw::new("GET", "/bkt")
                .header("x-amz-security-token", "tok")
                .sign(&s.host, SK, REGION, now),
        )
        .await;
    resp.assert_error(
        400,
        "InvalidToken",
        Some("The provided token is malformed or otherwise invalid."),
    );
    assert_eq!(resp.xml("Token-0").as_deref(), Some("tok"));
}

/// SigV2, signed here by a minimal independent implementation of the documented string
/// to sign (the real-client SigV2 paths are covered by boto3 and the AWS CLI).
mod v2 {
    use super::*;
    use base64::Engine;
    use hmac::{Hmac, KeyInit, Mac};

    fn sign(secret: &str, sts: &str) -> String {
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(sts.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    fn enc(s: &str) -> String {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    }

    fn query_url(method: &str, path: &str, expires: i64, secret: &str) -> Raw {
        let sig = sign(secret, &format!("{method}\n\n\n{expires}\n{path}"));
        Raw::new(
            method,
            &format!(
                "{path}?AWSAccessKeyId={AK}&Expires={expires}&Signature={}",
                enc(&sig)
            ),
        )
    }

    #[tokio::test]
    async fn query_and_header_rules() {
        let s = TestServer::default().await;
        s.put("/bkt/obj", b"v2 body").await;
        let now = t0().unix_timestamp();
        let date = httpdate::fmt_http_date(st(t0()));
        let header = |date: &str, secret: &str| {
            let sig = sign(secret, &format!("GET\n\n\n{date}\n/bkt/obj"));
            Raw::new("GET", "/bkt/obj")
                .header("date", date)
                .header("authorization", &format!("AWS {AK}:{sig}"))
        };
        let rows = vec![
            ok(
                "valid V2 presigned GET",
                query_url("GET", "/bkt/obj", now + 60, SK),
                200,
            ),
            err(
                "V2 URL expired",
                query_url("GET", "/bkt/obj", now - 1, SK),
                403,
                "AccessDenied",
                Some("Request has expired"),
            ),
            err(
                "V2 wrong secret",
                query_url("GET", "/bkt/obj", now + 60, "x"),
                403,
                "SignatureDoesNotMatch",
                Some(SIG_MISMATCH),
            ),
            err(
                "V2 used with DELETE",
                Raw {
                    method: "DELETE".into(),
                    ..query_url("GET", "/bkt/obj", now + 60, SK)
                },
                403,
                "SignatureDoesNotMatch",
                None,
            ),
            err(
                "V2 other key",
                Raw::new(
                    "GET",
                    &query_url("GET", "/bkt/obj", now + 60, SK)
                        .target
                        .replace("/bkt/obj", "/bkt/ob"),
                ),
                403,
                "SignatureDoesNotMatch",
                None,
            ),
            err(
                "V2 missing Signature",
                Raw::new(
                    "GET",
                    &format!("/bkt/obj?AWSAccessKeyId={AK}&Expires={}", now + 60),
                ),
                403,
                "AccessDenied",
                Some(
                    "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters",
                ),
            ),
            err(
                "V2 unknown key",
                Raw::new(
                    "GET",
                    &query_url("GET", "/bkt/obj", now + 60, SK)
                        .target
                        .replace(AK, "AKIDNOPE"),
                ),
                403,
                "InvalidAccessKeyId",
                None,
            ),
            ok("valid V2 header", header(&date, SK), 200),
            err(
                "V2 header wrong secret",
                header(&date, "x"),
                403,
                "SignatureDoesNotMatch",
                None,
            ),
            err(
                "V2 header skewed",
                header(
                    &httpdate::fmt_http_date(st(t0() - time::Duration::minutes(20))),
                    SK,
                ),
                403,
                "RequestTimeTooSkewed",
                None,
            ),
            err(
                "V2 header without a date",
                header(&date, SK).without_header("date"),
                403,
                "AccessDenied",
                Some("AWS authentication requires a valid Date or x-amz-date header"),
            ),
            err(
                "V2 header malformed",
                Raw::new("GET", "/bkt/obj")
                    .header("authorization", "AWS nocolon")
                    .header("date", &date),
                400,
                "InvalidArgument",
                Some("AWS authorization header is invalid.  Expected AwsAccessKeyId:signature"),
            ),
        ];
        run(&s, rows).await;

        let resp = s.send(&query_url("GET", "/bkt/obj", now - 10, SK)).await;
        assert_eq!(resp.xml("Expires").as_deref(), Some("2026-01-15T11:59:50Z"));
        assert_eq!(
            resp.xml("ServerTime").as_deref(),
            Some("2026-01-15T12:00:00Z")
        );
        assert_eq!(
            resp.xml("X-Amz-Expires"),
            None,
            "SigV2 expiry has no X-Amz-Expires element"
        );
        let mismatch = s.send(&query_url("GET", "/bkt/obj", now + 60, "x")).await;
        assert_eq!(
            mismatch.xml("StringToSign"),
            Some(format!("GET\n\n\n{}\n/bkt/obj", now + 60))
        );
    }
}

#[tokio::test]
async fn virtual_hosted_style_addressing() {
    let s = TestServer::default().await;
    s.put("/bkt/dir/obj", b"vhost").await;
    let port = s.host.rsplit(':').next().unwrap().to_string();
    let vhost = format!("bkt.localhost:{port}");
    let now = s.clock_now();
    let get = Raw::new("GET", "/dir/obj").sign(&vhost, SK, REGION, now);
    let resp = s.send(&get).await;
    assert_eq!((resp.status, resp.body.as_slice()), (200, &b"vhost"[..]));
    let list = s
        .send(&Raw::new("GET", "/?list-type=2&prefix=dir/").sign(&vhost, SK, REGION, now))
        .await;
    assert_eq!(list.xml("Name").as_deref(), Some("bkt"));
    assert_eq!(list.xml("Key").as_deref(), Some("dir/obj"));
    let url = Raw::new("GET", "/dir/obj").presign(&vhost, SK, REGION, now, Duration::from_secs(60));
    assert_eq!(s.send(&url).await.status, 200);
    // Signed for the virtual host, sent path-style: the Host differs, the signature fails.
    let moved = Raw {
        target: format!("/bkt{}", url.target),
        ..url.clone()
    }
    .set_header("host", &s.host);
    s.send(&moved)
        .await
        .assert_error(403, "SignatureDoesNotMatch", None);
    // A virtual host naming a missing bucket.
    let resp = s
        .send(&Raw::new("GET", "/k").sign(&format!("nope.localhost:{port}"), SK, REGION, now))
        .await;
    resp.assert_error(
        404,
        "NoSuchBucket",
        Some("The specified bucket does not exist"),
    );
    assert_eq!(resp.xml("BucketName").as_deref(), Some("nope"));
}
