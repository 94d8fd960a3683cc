//! Single-core speed of the hash implementations the server itself runs on a body (the
//! `md-5` crate for ETags, `sha2` for SigV4 payload hashes), in GB/s: the bound of a large
//! PUT's speed, printed by `scripts/bench.sh` beside `openssl speed` (whose MD5 is
//! hand-written assembly, about a fifth faster than the `md-5` crate here).
//!
//! ```sh
//! cargo run --release --example hash_speed     # prints "md5 0.62" and "sha256 1.71"
//! ```

use std::time::Instant;

use md5::{Digest, Md5};
use sha2::Sha256;

/// 256 MiB in 1 MiB blocks, as a large body arrives; the best of three.
fn gbps<D: Digest>() -> f64 {
    let block = vec![0x5au8; 1 << 20];
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let mut hash = D::new();
        for _ in 0..256 {
            hash.update(&block);
        }
        std::hint::black_box(hash.finalize());
        best = best.min(start.elapsed().as_secs_f64());
    }
    (256u64 << 20) as f64 / best / 1e9
}

fn main() {
    println!("md5 {:.2}", gbps::<Md5>());
    println!("sha256 {:.2}", gbps::<Sha256>());
}
