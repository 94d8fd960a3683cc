//! Conditional writes over the wire: If-None-Match / If-Match on CopyObject's destination
//! and on CompleteMultipartUpload, the 409 ConditionalRequestConflict of a key deleted or
//! rewritten while a conditional write was in progress, and the 501s for what S3 does not
//! take (docs/aws-evidence.md, "Conditional writes"). PutObject's basic cases are in the
//! boto3 and SDK suites.

mod common;

use common::*;
use tokio::io::AsyncWriteExt;

const PRECONDITION: &str = "At least one of the pre-conditions you specified did not hold";
const CONFLICT: &str =
    "The conditional request cannot succeed due to a conflicting operation against this resource.";

fn owner(s: &TestServer, r: Raw) -> Raw {
    signed(s, r, (AK, SK))
}

async fn etag(s: &TestServer, key: &str) -> String {
    let resp = s.send(&owner(s, Raw::new("HEAD", key))).await;
    assert_eq!(resp.status, 200);
    resp.header("etag").unwrap().to_string()
}

fn copy(dest: &str, condition: Option<(&str, &str)>) -> Raw {
    let r = Raw::new("PUT", dest).header("x-amz-copy-source", "/bkt/src");
    match condition {
        Some((name, value)) => r.header(name, value),
        None => r,
    }
}

#[tokio::test]
async fn copy_object_checks_its_destination() {
    let s = TestServer::default().await;
    s.put("/bkt/src", b"source").await;
    // If-None-Match: * copies only onto a free key.
    let resp = s
        .send(&owner(&s, copy("/bkt/new", Some(("if-none-match", "*")))))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let resp = s
        .send(&owner(&s, copy("/bkt/new", Some(("if-none-match", "*")))))
        .await;
    resp.assert_error(412, "PreconditionFailed", Some(PRECONDITION));
    assert_eq!(resp.xml("Condition").as_deref(), Some("If-None-Match"));

    // If-Match: the destination's current ETag (quoted or not), else 412; 404 if absent.
    s.put("/bkt/dest", b"old").await;
    let current = etag(&s, "/bkt/dest").await;
    let resp = s
        .send(&owner(
            &s,
            copy(
                "/bkt/dest",
                Some(("if-match", "\"0123456789abcdef0123456789abcdef\"")),
            ),
        ))
        .await;
    resp.assert_error(412, "PreconditionFailed", Some(PRECONDITION));
    assert_eq!(resp.xml("Condition").as_deref(), Some("If-Match"));
    let bare = current.trim_matches('"').to_string();
    let resp = s
        .send(&owner(&s, copy("/bkt/dest", Some(("if-match", &bare)))))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let got = s.send(&owner(&s, Raw::new("GET", "/bkt/dest"))).await;
    assert_eq!(got.body, b"source");
    s.send(&owner(
        &s,
        copy("/bkt/absent", Some(("if-match", &current))),
    ))
    .await
    .assert_error(404, "NoSuchKey", None);
    s.send(&owner(&s, Raw::new("GET", "/bkt/absent")))
        .await
        .assert_error(404, "NoSuchKey", None);
}

#[tokio::test]
async fn what_s3_does_not_take_is_not_implemented() {
    let s = TestServer::default().await;
    s.put("/bkt/src", b"source").await;
    for req in [Raw::new("PUT", "/bkt/k").body(b"x"), copy("/bkt/k", None)] {
        let resp = s
            .send(&owner(&s, req.clone().header("if-none-match", "\"abc\"")))
            .await;
        resp.assert_error(
            501,
            "NotImplemented",
            Some("A header you provided implies functionality that is not implemented"),
        );
        assert_eq!(resp.xml("Header").as_deref(), Some("If-None-Match"));
        assert_eq!(
            resp.xml("additionalMessage").as_deref(),
            Some("We don't accept the provided value of If-None-Match header for this API")
        );
        let resp = s
            .send(&owner(
                &s,
                req.header("if-none-match", "*")
                    .header("if-match", "\"abc\""),
            ))
            .await;
        resp.assert_error(501, "NotImplemented", None);
        assert_eq!(
            resp.xml("Header").as_deref(),
            Some("If-Match,If-None-Match")
        );
        assert_eq!(
            resp.xml("additionalMessage").as_deref(),
            Some("Multiple conditional request headers present in the request")
        );
    }
}

/// Creates an upload of `key` with one part; returns its id and the completion document.
async fn upload(s: &TestServer, key: &str) -> (String, String) {
    let create = s
        .send(&owner(s, Raw::new("POST", &format!("{key}?uploads"))))
        .await;
    assert_eq!(create.status, 200, "{}", create.body_text());
    let id = create.xml("UploadId").unwrap();
    let part = s
        .send(&owner(
            s,
            Raw::new("PUT", &format!("{key}?partNumber=1&uploadId={id}")).body(b"part"),
        ))
        .await;
    let etag = part.header("etag").unwrap().to_string();
    let doc = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    (id, doc)
}

fn complete(key: &str, id: &str, doc: &str, condition: (&str, &str)) -> Raw {
    Raw::new("POST", &format!("{key}?uploadId={id}"))
        .header(condition.0, condition.1)
        .body(doc.as_bytes())
}

#[tokio::test]
async fn a_conditional_completion_sees_what_changed_since_its_upload_began() {
    let s = TestServer::default().await;
    // The key is written after the upload began: If-None-Match fails, the upload stays, and
    // once the key is gone again it completes.
    let (id, doc) = upload(&s, "/bkt/a").await;
    s.put("/bkt/a", b"someone else").await;
    let resp = s
        .send(&owner(
            &s,
            complete("/bkt/a", &id, &doc, ("if-none-match", "*")),
        ))
        .await;
    resp.assert_error(412, "PreconditionFailed", Some(PRECONDITION));
    let parts = s
        .send(&owner(
            &s,
            Raw::new("GET", &format!("/bkt/a?uploadId={id}")),
        ))
        .await;
    assert_eq!(parts.status, 200, "the upload survives a failed condition");
    s.send(&owner(&s, Raw::new("DELETE", "/bkt/a"))).await;
    let resp = s
        .send(&owner(
            &s,
            complete("/bkt/a", &id, &doc, ("if-none-match", "*")),
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());

    // The key existed when the upload began and was deleted since: 409.
    s.put("/bkt/b", b"original").await;
    let (id, doc) = upload(&s, "/bkt/b").await;
    s.send(&owner(&s, Raw::new("DELETE", "/bkt/b"))).await;
    let resp = s
        .send(&owner(
            &s,
            complete("/bkt/b", &id, &doc, ("if-none-match", "*")),
        ))
        .await;
    resp.assert_error(409, "ConditionalRequestConflict", Some(CONFLICT));
    assert_eq!(resp.xml("Condition").as_deref(), Some("If-None-Match"));
    assert_eq!(resp.xml("Key").as_deref(), Some("b"));

    // If-Match: the ETag the key had when the upload began completes it; a key rewritten
    // since is a conflict even with its new ETag, and a stale ETag is 412.
    s.put("/bkt/c", b"v1").await;
    let v1 = etag(&s, "/bkt/c").await;
    let (id, doc) = upload(&s, "/bkt/c").await;
    let resp = s
        .send(&owner(&s, complete("/bkt/c", &id, &doc, ("if-match", &v1))))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let (id, doc) = upload(&s, "/bkt/c").await;
    s.clock.advance(std::time::Duration::from_secs(1));
    s.put("/bkt/c", b"v2").await;
    let v2 = etag(&s, "/bkt/c").await;
    s.send(&owner(&s, complete("/bkt/c", &id, &doc, ("if-match", &v1))))
        .await
        .assert_error(412, "PreconditionFailed", Some(PRECONDITION));
    let resp = s
        .send(&owner(&s, complete("/bkt/c", &id, &doc, ("if-match", &v2))))
        .await;
    resp.assert_error(409, "ConditionalRequestConflict", Some(CONFLICT));
    assert_eq!(resp.xml("Condition").as_deref(), Some("If-Match"));
    // A key that never existed: 404.
    let (id, doc) = upload(&s, "/bkt/d").await;
    s.send(&owner(&s, complete("/bkt/d", &id, &doc, ("if-match", &v1))))
        .await
        .assert_error(404, "NoSuchKey", None);
}

#[tokio::test]
async fn a_key_deleted_during_a_conditional_put_is_a_conflict() {
    use tokio::io::AsyncReadExt;
    let s = TestServer::default().await;
    s.put("/bkt/k", b"v1").await;
    let current = etag(&s, "/bkt/k").await;
    let body = vec![b'x'; 64 * 1024];
    let put = owner(
        &s,
        Raw::new("PUT", "/bkt/k")
            .header("if-match", &current)
            .header("expect", "100-continue")
            .header("connection", "close")
            .body(&body),
    );
    // The head goes first; the server answers 100 Continue once the operation asks for
    // the body, after it has looked at the key. Then the key is deleted, then the body
    // arrives: deterministic, no sleep.
    let mut stream = send_partial(&s.host, &put, 0).await;
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    let del = s.send(&owner(&s, Raw::new("DELETE", "/bkt/k"))).await;
    assert_eq!(del.status, 204);
    stream.write_all(&body).await.unwrap();
    let resp = read_response(&mut stream, false).await;
    resp.assert_error(409, "ConditionalRequestConflict", Some(CONFLICT));
    assert_eq!(resp.xml("Condition").as_deref(), Some("If-Match"));
    s.send(&owner(&s, Raw::new("GET", "/bkt/k")))
        .await
        .assert_error(404, "NoSuchKey", None);
}
