//! The S3 header names the request path reads or writes on every request, as
//! [`HeaderName`] constants.
//!
//! Why: a `HeaderMap` lookup by string parses the name first, and an insert by string
//! also copies it into a new allocation; by constant neither happens. Under
//! `scripts/bench.sh` the names parsed for a presigned GET were 5 % of its CPU. HTTP's
//! own names are `http::header`'s constants; these are the `x-amz-*` ones.

use http::HeaderName;

pub const X_AMZ_DATE: HeaderName = HeaderName::from_static("x-amz-date");
pub const X_AMZ_CONTENT_SHA256: HeaderName = HeaderName::from_static("x-amz-content-sha256");
pub const X_AMZ_SECURITY_TOKEN: HeaderName = HeaderName::from_static("x-amz-security-token");
pub const X_AMZ_DECODED_CONTENT_LENGTH: HeaderName =
    HeaderName::from_static("x-amz-decoded-content-length");
pub const X_AMZ_TRAILER: HeaderName = HeaderName::from_static("x-amz-trailer");
pub const X_AMZ_COPY_SOURCE: HeaderName = HeaderName::from_static("x-amz-copy-source");
pub const X_AMZ_ACL: HeaderName = HeaderName::from_static("x-amz-acl");
pub const X_AMZ_OBJECT_OWNERSHIP: HeaderName = HeaderName::from_static("x-amz-object-ownership");
pub const X_AMZ_SDK_CHECKSUM_ALGORITHM: HeaderName =
    HeaderName::from_static("x-amz-sdk-checksum-algorithm");
pub const X_AMZ_CHECKSUM_MODE: HeaderName = HeaderName::from_static("x-amz-checksum-mode");
pub const X_AMZ_REQUEST_ID: HeaderName = HeaderName::from_static("x-amz-request-id");
pub const X_AMZ_ID_2: HeaderName = HeaderName::from_static("x-amz-id-2");
pub const X_AMZ_VERSION_ID: HeaderName = HeaderName::from_static("x-amz-version-id");
pub const X_AMZ_TAGGING_COUNT: HeaderName = HeaderName::from_static("x-amz-tagging-count");
pub const X_AMZ_MP_PARTS_COUNT: HeaderName = HeaderName::from_static("x-amz-mp-parts-count");
