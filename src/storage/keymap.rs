//! Names that become paths: object keys, bucket names and bucket-document names.
//!
//! An S3 key is any UTF-8 string up to 1024 bytes: `../etc/passwd`, `//`, `a/`, `%2F`,
//! a 300-byte segment, `a` beside `a/b`. None of that may reach the file system as a
//! path. So a key is never used as a path; it is *named* by the lowercase hex SHA-256 of
//! its UTF-8 bytes, fanned out by the first two hex digits:
//!
//! ```text
//! buckets/<bucket>/objects/3f/3fa1…(64 hex digits)
//! ```
//!
//! Why this mapping:
//! - **Nothing can escape.** The file name is 64 characters of `[0-9a-f]` and the fan-out
//!   directory 2 of them: no separator, no `.`/`..`, no NUL, no platform-reserved name.
//! - **Bounded length.** Always 64 + 2 characters, far under every file system's 255-byte
//!   component limit, whatever the key's length.
//! - **Injective in practice.** A SHA-256 collision is not known to exist; even so, each
//!   object file stores its key and readers compare it (see `disk.rs`), so a collision
//!   would read as "no such key", never as another object's body.
//! - **Prefixes coexist.** `a` and `a/b` are two unrelated hashes, never a file and a
//!   directory fighting for one name.
//! - **Fan-out** keeps directories to about 1/256 of the objects each.
//!
//! Key order is lost in the names; the in-memory index (rebuilt from the files at start-up)
//! gives listings their order.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::error::{S3Error, S3ErrorCode};

/// Where an object's file lives, relative to its bucket's `objects/` directory.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObjectName {
    /// The fan-out directory: the first two hex digits of the hash.
    pub fanout: String,
    /// The file name: all 64 hex digits of the hash.
    pub file: String,
}

impl ObjectName {
    /// The name for `key`: SHA-256 of its UTF-8 bytes, in lowercase hex.
    pub fn of_key(key: &str) -> ObjectName {
        let file = hex::encode(Sha256::digest(key.as_bytes()));
        let fanout = file[..2].to_owned();
        ObjectName { fanout, file }
    }

    /// `<fanout>/<file>`, to join onto an `objects/` directory.
    pub fn relative_path(&self) -> PathBuf {
        PathBuf::from(&self.fanout).join(&self.file)
    }

    /// Whether `name` has the shape of a file name this module produces (used when
    /// scanning a directory at start-up, to ignore anything else).
    pub fn is_object_file_name(name: &str) -> bool {
        name.len() == 64 && is_lower_hex(name)
    }

    /// Whether `name` has the shape of a fan-out directory name.
    pub fn is_fanout_name(name: &str) -> bool {
        name.len() == 2 && is_lower_hex(name)
    }
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Bucket names are validated by the addressing stage (3–63 characters of
/// `[a-z0-9.-]`) before they reach storage. Storage still refuses anything that could
/// act as more than one safe path component, as a last line of defence.
pub fn check_bucket_name(name: &str) -> Result<(), S3Error> {
    let unsafe_name =
        name.is_empty() || name == "." || name.contains("..") || name.contains(['/', '\\', '\0']);
    if unsafe_name {
        return Err(S3Error::new(S3ErrorCode::InvalidBucketName)
            .extra("BucketName", name)
            .reason(format!(
                "bucket name {name:?} cannot be used as a directory name"
            )));
    }
    Ok(())
}

/// Bucket documents (`cors`, `policy`, …) are named by the code, not by clients; a name
/// is 1–64 characters of `[A-Za-z0-9_-]`, so it is always one safe path component.
pub fn check_document_name(name: &str) -> Result<(), S3Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(S3Error::internal(format!(
            "invalid bucket document name {name:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::{Component, Path};

    fn assert_safe(key: &str) {
        let name = ObjectName::of_key(key);
        assert!(ObjectName::is_object_file_name(&name.file), "{key:?}");
        assert!(ObjectName::is_fanout_name(&name.fanout), "{key:?}");
        assert!(name.file.starts_with(&name.fanout));
        let root = Path::new("/data/buckets/b/objects");
        let full = root.join(name.relative_path());
        assert!(full.starts_with(root));
        let rel = full.strip_prefix(root).expect("under root");
        let parts: Vec<_> = rel.components().collect();
        assert_eq!(parts.len(), 2, "{key:?}");
        assert!(parts.iter().all(|c| matches!(c, Component::Normal(_))));
    }

    #[test]
    fn hostile_keys_map_to_safe_distinct_names() {
        let long_segment = "x".repeat(300);
        let long_key = "é".repeat(512);
        let keys = [
            "",
            "a",
            "a/b",
            "a/",
            "/a",
            "//",
            "../../etc/passwd",
            "..",
            ".",
            "%2F..%2F",
            "a\\b",
            "nul\0byte",
            "日本語/キー",
            long_segment.as_str(),
            long_key.as_str(),
        ];
        let mut seen = std::collections::HashSet::new();
        for key in keys {
            assert_safe(key);
            assert!(seen.insert(ObjectName::of_key(key)), "collision on {key:?}");
        }
    }

    #[test]
    fn name_is_the_sha256_of_the_key() {
        // SHA-256("") is a published constant.
        let name = ObjectName::of_key("");
        assert_eq!(
            name.file,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(name.fanout, "e3");
    }

    #[test]
    fn bucket_and_document_names_are_single_components() {
        assert!(check_bucket_name("my-bucket.1").is_ok());
        for bad in ["", ".", "..", "a/b", "a..b", "a\\b", "a\0"] {
            let err = check_bucket_name(bad).expect_err(bad);
            assert_eq!(err.code, S3ErrorCode::InvalidBucketName);
        }
        assert!(check_document_name("cors").is_ok());
        for bad in ["", "../x", "a/b", ".", "a.b"] {
            assert!(check_document_name(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn any_key_maps_to_one_safe_component(key in "\\PC{0,300}") {
            assert_safe(&key);
        }

        #[test]
        fn path_like_keys_stay_under_the_objects_dir(
            parts in proptest::collection::vec(
                prop_oneof![Just("..".to_owned()), Just(".".to_owned()), Just(String::new()), "[a-z%\\\\]{1,8}"],
                0..20,
            )
        ) {
            assert_safe(&parts.join("/"));
        }

        #[test]
        fn distinct_keys_get_distinct_names(a in "\\PC{0,40}", b in "\\PC{0,40}") {
            prop_assume!(a != b);
            prop_assert_ne!(ObjectName::of_key(&a), ObjectName::of_key(&b));
        }
    }
}
