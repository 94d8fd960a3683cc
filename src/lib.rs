//! # strict-s3
//!
//! A local, S3-compatible server that checks every request the way AWS S3 does:
//! signatures (SigV4 and SigV2, header and presigned), expiry, clock skew, credential
//! scope, signed headers, payload hashes and checksums — each rejection with AWS's own
//! status, code and XML, plus a reason that says which check failed and why.
//!
//! ## Architecture: one pass, forward only
//!
//! ```text
//! TCP → server → service ─┬─ request      method, raw + decoded path, query in wire order, headers, request id
//!                         ├─ addressing   path-style | virtual-hosted → Root | Bucket | Object
//!                         ├─ cors         OPTIONS preflight answered here, before auth
//!                         ├─ route        → Op carrying its bucket and key (errors held until after auth)
//!                         ├─ auth         header | presigned | SigV2 | POST form → Authenticated, or a typed AuthError
//!                         ├─ access       identity policy, bucket policy, ACLs, ownership, Block Public Access
//!                         ├─ ops          one handler per S3 operation
//!                         └─ storage      trait Storage: Disk | Memory
//!      ← respond::to_response: the ONLY place an error becomes S3 XML  ← cors headers on success and error alike
//! ```
//!
//! `docs/ARCHITECTURE.md` says what each module owns and where to add an operation, an
//! authentication check, a policy condition or a storage backend.
//!
//! ## Embedding in a test
//!
//! Add `strict-s3 = { git = "<this repository>" }` (or a `path`) to `[dev-dependencies]`.
//! The server below has an IAM user, a bucket with a CORS configuration, a public-read
//! bucket policy and seed data, and a clock the test moves (this example is run by the
//! test suite, `cargo test --doc`):
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use strict_s3::config::{BucketSpec, Credential, DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY};
//! use strict_s3::{Config, ManualClock, Server, policy::Policy};
//!
//! let seed = tempfile::tempdir()?; // its files become the bucket's objects
//! std::fs::write(seed.path().join("hello.txt"), "hello")?;
//! let clock = Arc::new(ManualClock::new(time::macros::datetime!(2026-01-15 12:00 UTC)));
//! let uploader = Policy::parse_identity(
//!     r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
//!         "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::uploads/*"}]}"#,
//! )?;
//! let server = Server::builder()
//!     .config(Config {
//!         credentials: vec![
//!             Credential::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY), // the account's root
//!             Credential::user("uploader", "AKIAUPLOADER00000000", "uploader-secret", Some(uploader)),
//!         ],
//!         buckets: vec![BucketSpec {
//!             seed: Some(seed.path().into()),
//!             cors: Some(
//!                 "<CORSConfiguration><CORSRule><AllowedOrigin>http://localhost:3000</AllowedOrigin>\
//!                  <AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>".into(),
//!             ),
//!             public_access: Some(None), // no Block Public Access, so the policy may be public
//!             policy: Some(
//!                 r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
//!                     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::uploads/*"}]}"#.into(),
//!             ),
//!             ..BucketSpec::from("uploads")
//!         }],
//!         ..Config::in_memory()
//!     })
//!     .clock(clock.clone())
//!     .start()
//!     .await?;
//! // Point an SDK at server.endpoint() (path-style, region us-east-1). Anyone may read:
//! let resp = reqwest::get(format!("{}/uploads/hello.txt", server.endpoint())).await?;
//! assert_eq!(resp.headers()["last-modified"], "Thu, 15 Jan 2026 12:00:00 GMT"); // the clock's
//! assert_eq!(resp.text().await?, "hello");
//! // ...and nobody may write without signing.
//! let put = reqwest::Client::new()
//!     .put(format!("{}/uploads/new.txt", server.endpoint()))
//!     .body("x")
//!     .send()
//!     .await?;
//! assert_eq!(put.status(), 403);
//! // A browser page on http://localhost:3000 may, as the bucket's CORS configuration says.
//! let preflight = reqwest::Client::new()
//!     .request(reqwest::Method::OPTIONS, format!("{}/uploads/hello.txt", server.endpoint()))
//!     .header("origin", "http://localhost:3000")
//!     .header("access-control-request-method", "GET")
//!     .send()
//!     .await?;
//! assert_eq!(preflight.headers()["access-control-allow-origin"], "http://localhost:3000");
//! clock.advance(std::time::Duration::from_secs(7200)); // presigned URLs signed before now expire
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## Modules
//! - [`request`], [`addressing`]: what was sent and what it names.
//! - [`auth`]: SigV4/SigV2 verification, canonical forms, aws-chunked decoding.
//! - [`ops`]: the S3 operations; [`storage`]: the disk and memory stores.
//! - [`error`]: the S3 error table; [`respond`]: its single serializer; [`xml`]: XML in and out.
//! - [`config`], [`clock`], [`server`], [`service`]: running it.

pub mod access;
pub mod acl;
pub mod addressing;
pub mod admin;
pub mod auth;
pub mod body;
pub mod checksum;
pub mod cli;
pub mod clock;
pub mod config;
pub mod connections;
pub mod controls;
pub mod cors;
pub mod dates;
pub mod error;
pub mod escape;
pub mod form;
#[doc(hidden)]
pub mod fuzzing;
pub mod header_names;
pub mod identity;
pub mod inspector;
pub mod logs;
pub mod ops;
pub mod policy;
pub mod regions;
pub mod request;
pub mod respond;
pub mod seed;
pub mod server;
pub mod service;
pub mod storage;
pub mod sts;
pub mod subresources;
pub mod tagging;
pub mod versioning;
pub mod wire;
pub mod xml;

pub use clock::{AdjustableClock, Clock, ManualClock, OffsetClock, SystemClock};
pub use config::{Config, Credential, Limits, StorageConfig};
pub use error::{S3Error, S3ErrorCode};
pub use server::{Server, ServerBuilder, ServerHandle, StartError};
