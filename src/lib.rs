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
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use strict_s3::{Config, ManualClock, Server};
//!
//! let clock = Arc::new(ManualClock::starting_now());
//! let server = Server::builder()
//!     .config(Config { buckets: vec!["uploads".into()], ..Config::in_memory() })
//!     .clock(clock.clone())
//!     .start()
//!     .await?;
//! // point an SDK at server.endpoint() with the AWS documentation's example keys
//! // (strict_s3::config::DEFAULT_ACCESS_KEY / DEFAULT_SECRET_KEY), region us-east-1.
//! clock.advance(std::time::Duration::from_secs(7200)); // expire a presigned URL
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
pub mod identity;
pub mod inspector;
pub mod ops;
pub mod policy;
pub mod regions;
pub mod request;
pub mod respond;
pub mod seed;
pub mod server;
pub mod service;
pub mod storage;
pub mod subresources;
pub mod wire;
pub mod xml;

pub use clock::{AdjustableClock, Clock, ManualClock, OffsetClock, SystemClock};
pub use config::{Config, Credential, Limits, StorageConfig};
pub use error::{S3Error, S3ErrorCode};
pub use server::{Server, ServerBuilder, ServerHandle, StartError};
