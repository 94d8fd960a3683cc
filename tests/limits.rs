//! Requests over S3's limits get S3's XML errors, never a bare status from the HTTP layer
//! (issue 10): a header section over 8 KB, a head too large for the HTTP parser (1 MiB of
//! headers, 10,000 header lines, a 100 KiB request line), user metadata over 2 KB. Each has
//! its accepted twin: what S3 allows (120 small x-amz-meta-* headers, 4.7 KB) is served, and
//! an object whose bytes look like the HTTP layer's own error comes back byte for byte.

mod common;

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOO_LARGE: &str = "Your request header section exceeds the maximum allowed size.";

/// Sends `head` (and nothing else) while reading the answer: the server may answer and
/// close before the whole head is written.
async fn send_head(host: &str, head: Vec<u8>) -> Resp {
    let stream = TcpStream::connect(host).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(&head).await;
        let _ = wr.flush().await;
        wr
    });
    let mut buf = Vec::new();
    let _ =
        tokio::time::timeout(std::time::Duration::from_secs(10), rd.read_to_end(&mut buf)).await;
    drop(writer);
    parse_response(&buf, false)
}

fn head_with(target: &str, extra: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n{extra}\r\n")
        .into_bytes()
}

#[tokio::test]
async fn oversized_heads_get_s3_errors() {
    let s = TestServer::default().await;
    let cases = [
        (
            "9 KB of headers (over S3's 8 KB)",
            head_with("/bkt/k", &format!("x-pad: {}\r\n", "a".repeat(9 * 1024))),
        ),
        (
            "a 1 MiB header block",
            head_with("/bkt/k", &format!("x-pad: {}\r\n", "a".repeat(1024 * 1024))),
        ),
        (
            "10,000 header lines",
            head_with("/bkt/k", &"x-a: b\r\n".repeat(10_000)),
        ),
        (
            "a 100 KiB request line",
            head_with(&format!("/bkt/{}", "k".repeat(100 * 1024)), ""),
        ),
    ];
    for (name, head) in cases {
        let resp = send_head(&s.host, head).await;
        resp.assert_error(400, "RequestHeaderSectionTooLarge", Some(TOO_LARGE));
        assert_eq!(
            resp.xml("MaxSizeAllowed").as_deref(),
            Some("8192"),
            "{name}"
        );
    }
    // The server is still serving.
    s.put("/bkt/after", b"x").await;
}

#[tokio::test]
async fn what_s3_allows_is_served() {
    let s = TestServer::default().await;
    // 120 x-amz-meta-* headers, 4.7 KB: legal on S3, over hyper's default of 100 headers.
    let mut req = Raw::new("PUT", "/bkt/meta").body(b"x");
    for i in 0..120 {
        // 4 + 12 bytes of metadata each: 1,920 of S3's 2,048.
        req = req.header(&format!("x-amz-meta-m{i:03}"), "012345678901");
    }
    let resp = s.send(&req.sign(&s.host, SK, REGION, s.clock_now())).await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let meta = s.handle.storage().head_object("bkt", "meta").await.unwrap();
    assert_eq!(meta.attrs.user_metadata.len(), 120);

    // Over 2 KB of metadata: S3's MetadataTooLarge with the sizes.
    let req = Raw::new("PUT", "/bkt/big-meta")
        .header("x-amz-meta-k", &"v".repeat(2100))
        .body(b"x")
        .sign(&s.host, SK, REGION, s.clock_now());
    let resp = s.send(&req).await;
    resp.assert_error(
        400,
        "MetadataTooLarge",
        // No period: a real S3 body (RequestId 4SJA4PV72M8WXZ46, docs/aws-evidence.md §13).
        Some("Your metadata headers exceed the maximum allowed metadata size"),
    );
    assert_eq!(resp.xml("MaxSizeAllowed").as_deref(), Some("2048"));
    assert_eq!(resp.xml("Size").as_deref(), Some("2101"));
}

/// The HTTP layer's own answer is recognized only outside a response: an object whose bytes
/// are that answer is returned as stored.
#[tokio::test]
async fn an_object_that_looks_like_the_http_layers_error_is_returned_as_stored() {
    // On disk: the body is read in 64 KiB chunks, each written apart from the head.
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::on_disk(dir.path()).await;
    let canned = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
    // Large enough that its chunks are written apart from the response head, each chunk
    // (and the object) starting with the lookalike bytes.
    let mut lookalike = Vec::new();
    while lookalike.len() < 512 * 1024 {
        lookalike.extend_from_slice(canned);
        lookalike.resize(lookalike.len().next_multiple_of(16 * 1024), b'.');
    }
    s.put("/bkt/lookalike", &lookalike).await;
    for _ in 0..3 {
        let get = Raw::new("GET", "/bkt/lookalike").sign(&s.host, SK, REGION, s.clock_now());
        let resp = s.send(&get).await;
        assert_eq!(resp.status, 200);
        assert!(resp.body == lookalike, "the object came back changed");
    }
}
