//! The disk store's index as a bucket grows: for 1,000, 10,000 and 100,000 objects, the
//! time to open the store (the index is rebuilt from the object files), the time to list
//! one 1,000-key page from the middle of the bucket, and the resident memory the index
//! costs per object. Not a test: a measurement for issue 14's closing note and for anyone
//! changing the index (`scripts/bench.sh` runs it with `INDEX=1`).
//!
//! ```sh
//! cargo run --release --example index_growth            # 1k, 10k, 100k
//! cargo run --release --example index_growth -- 1000    # one size
//! ```
//!
//! Objects are 16 bytes with keys like `photos/2026/00042137.jpg` and the attributes an
//! SDK sends (a content type). Memory is VmRSS of this process before and after the open,
//! page cache excluded; the open is measured with a warm page cache (the files were just
//! written), as a restarted CI job would see it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use strict_s3::clock::SystemClock;
use strict_s3::storage::{DiskStorage, ListQuery, ObjectAttrs, PutRequest, Storage};

/// Puts in flight while filling the bucket (the store's group sync shares their syncs).
const FILL_CONCURRENCY: usize = 64;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn key(i: usize) -> String {
    format!("photos/{}/{i:08}.jpg", 2000 + i % 27)
}

async fn fill(store: Arc<DiskStorage>, n: usize) {
    futures_util::stream::iter(0..n)
        .for_each_concurrent(FILL_CONCURRENCY, |i| {
            let store = store.clone();
            async move {
                let attrs = ObjectAttrs {
                    content_type: Some("image/jpeg".into()),
                    ..ObjectAttrs::default()
                };
                let body = futures_util::stream::once(async {
                    Ok(Bytes::from_static(b"0123456789abcdef"))
                });
                store
                    .put_object("b", &key(i), PutRequest::new(attrs, Box::pin(body)))
                    .await
                    .expect("put");
            }
        })
        .await;
}

#[tokio::main]
async fn main() {
    // `index_growth reopen DIR`: only open a store filled before (for profiling the open).
    if std::env::args().nth(1).as_deref() == Some("reopen") {
        let dir = std::env::args().nth(2).expect("a store directory");
        let started = Instant::now();
        let store = DiskStorage::open(&dir, Arc::new(SystemClock))
            .await
            .expect("open");
        println!("opened {dir} in {}", ms(started.elapsed()));
        drop(store);
        return;
    }
    let sizes: Vec<usize> = match std::env::args().nth(1) {
        Some(n) => vec![n.parse().expect("a number of objects")],
        None => vec![1_000, 10_000, 100_000],
    };
    println!("| objects | open | 1,000-key page | index RSS per object |");
    println!("|---|---|---|---|");
    for n in sizes {
        let temp = tempfile::tempdir().expect("temp dir");
        let root = temp.path().to_path_buf();
        // KEEP=1 leaves the filled store behind (for `index_growth reopen DIR`).
        let _temp = match std::env::var_os("KEEP") {
            Some(_) => {
                eprintln!("store kept in {}", temp.keep().display());
                None
            }
            None => Some(temp),
        };
        let clock = Arc::new(SystemClock);
        {
            let store = Arc::new(DiskStorage::open(&root, clock.clone()).await.expect("open"));
            store.create_bucket("b", "us-east-1").await.expect("bucket");
            fill(store, n).await;
        }
        let before = rss_kib();
        let started = Instant::now();
        let store = DiskStorage::open(&root, clock).await.expect("reopen");
        let open = started.elapsed();
        let per_object = (rss_kib().saturating_sub(before)) as f64 * 1024.0 / n as f64;
        let middle = key(n / 2);
        let mut pages = Vec::new();
        for _ in 0..21 {
            let query = ListQuery {
                prefix: "photos/",
                start_after: Some(&middle),
                max_keys: 1000,
                ..ListQuery::default()
            };
            let started = Instant::now();
            let page = store.list_objects("b", &query).await.expect("list");
            pages.push(started.elapsed());
            assert!(!page.objects.is_empty(), "the page lists objects");
        }
        pages.sort();
        println!(
            "| {n} | {} | {} | {per_object:.0} B |",
            ms(open),
            ms(pages[pages.len() / 2])
        );
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}
