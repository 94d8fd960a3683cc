//! Measures the server's resident memory while the real aws-sdk-s3 uploads a large file,
//! once as a single aws-chunked PutObject (signed chunks, trailing CRC32) and once as a
//! multipart upload, then downloads it and compares hashes. Not a test: a measurement
//! for the closing notes and for anyone changing the streaming paths.
//!
//! ```sh
//! cargo build --release && target/release/strict-s3 --addr 127.0.0.1:9400 --data-dir /tmp/probe --bucket probe &
//! head -c 1073741824 /dev/urandom > /tmp/big.bin
//! cargo run --release --example memory_probe -- http://127.0.0.1:9400 $(pgrep -f 'strict-s3 --addr 127.0.0.1:9400') /tmp/big.bin
//! ```

use std::time::Instant;

use aws_credential_types::Credentials;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

const PART: u64 = 64 * 1024 * 1024;

/// (VmRSS, VmHWM) of a process, in KiB.
fn rss(pid: &str) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn sha256_file(path: &str) -> String {
    let mut f = tokio::fs::File::open(path).await.expect("file");
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).await.expect("read");
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    hex::encode(h.finalize())
}

async fn download_sha256(client: &Client, key: &str) -> String {
    let mut body = client
        .get_object()
        .bucket("probe")
        .key(key)
        .send()
        .await
        .expect("get")
        .body;
    let mut h = Sha256::new();
    while let Some(chunk) = body.try_next().await.expect("body") {
        h.update(&chunk);
    }
    hex::encode(h.finalize())
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (endpoint, pid, path) = (&args[1], &args[2], &args[3]);
    let client = Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version_latest()
            .endpoint_url(endpoint)
            .force_path_style(true)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                strict_s3::config::DEFAULT_ACCESS_KEY,
                strict_s3::config::DEFAULT_SECRET_KEY,
                None,
                None,
                "probe",
            ))
            .build(),
    );
    let size = std::fs::metadata(path).expect("file").len();
    let expected = sha256_file(path).await;
    let (idle, _) = rss(pid);
    println!("server idle RSS: {} KiB; file {} MiB", idle, size >> 20);

    let t = Instant::now();
    client
        .put_object()
        .bucket("probe")
        .key("chunked.bin")
        .body(ByteStream::from_path(path).await.expect("stream"))
        .send()
        .await
        .expect("aws-chunked put");
    let (now, peak) = rss(pid);
    println!(
        "aws-chunked PutObject: {:.1} s, RSS {now} KiB, peak {peak} KiB (+{} KiB over idle)",
        t.elapsed().as_secs_f64(),
        peak.saturating_sub(idle)
    );

    let t = Instant::now();
    let id = client
        .create_multipart_upload()
        .bucket("probe")
        .key("multipart.bin")
        .send()
        .await
        .expect("create")
        .upload_id
        .expect("id");
    let mut parts = Vec::new();
    let mut offset = 0;
    let mut n = 1;
    while offset < size {
        let len = PART.min(size - offset);
        let body = ByteStream::read_from()
            .path(path)
            .offset(offset)
            .length(aws_sdk_s3::primitives::Length::Exact(len))
            .build()
            .await
            .expect("part stream");
        let out = client
            .upload_part()
            .bucket("probe")
            .key("multipart.bin")
            .upload_id(&id)
            .part_number(n)
            .body(body)
            .send()
            .await
            .expect("part");
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .e_tag(out.e_tag.expect("etag"))
                .build(),
        );
        offset += len;
        n += 1;
    }
    client
        .complete_multipart_upload()
        .bucket("probe")
        .key("multipart.bin")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await
        .expect("complete");
    let (now, peak) = rss(pid);
    println!(
        "multipart upload ({} parts): {:.1} s, RSS {now} KiB, peak {peak} KiB (+{} KiB over idle)",
        n - 1,
        t.elapsed().as_secs_f64(),
        peak.saturating_sub(idle)
    );

    for key in ["chunked.bin", "multipart.bin"] {
        let t = Instant::now();
        let got = download_sha256(&client, key).await;
        assert_eq!(got, expected, "{key} round trip");
        let (now, peak) = rss(pid);
        println!(
            "GetObject {key}: {:.1} s, identical, RSS {now} KiB, peak {peak} KiB",
            t.elapsed().as_secs_f64()
        );
    }
}
