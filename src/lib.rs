//! strict-s3: a local S3-compatible server that checks every request the way AWS S3 does.

pub mod addressing;
pub mod auth;
pub mod body;
pub mod checksum;
pub mod clock;
pub mod config;
pub mod error;
pub mod request;
pub mod storage;
pub mod xml;
