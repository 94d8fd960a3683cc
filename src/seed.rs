//! Seed data: the files of a directory become a bucket's objects when the server starts
//! (`[[buckets]] seed`, `seed`, `--seed`), so a test suite starts from known content in
//! one step. The key is the file's path below the directory (`/`-separated), the content
//! type comes from its extension, and an object of the same key is replaced.

use std::path::{Path, PathBuf};

use crate::error::S3Error;
use crate::storage::{ObjectAttrs, PutRequest, Storage};

/// Puts every file under `dir` into `bucket`; returns how many. Files are read whole
/// (seed data is test data), and one larger than `max_size` stops the start.
pub async fn seed(
    storage: &dyn Storage,
    bucket: &str,
    dir: &Path,
    max_size: u64,
) -> Result<usize, String> {
    let mut files = Vec::new();
    walk(dir, &mut files).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    files.sort();
    for path in &files {
        let key = key_of(dir, path)?;
        let data = tokio::fs::read(path)
            .await
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if data.len() as u64 > max_size {
            return Err(format!(
                "{} is {} bytes, more than an object may hold here ({max_size})",
                path.display(),
                data.len()
            ));
        }
        let attrs = ObjectAttrs {
            content_type: Some(
                mime_guess::from_path(path)
                    .first_or_octet_stream()
                    .essence_str()
                    .to_string(),
            ),
            ..ObjectAttrs::default()
        };
        let body = crate::body::from_chunks(vec![bytes::Bytes::from(data)]);
        storage
            .put_object(bucket, &key, PutRequest::new(attrs, body))
            .await
            .map_err(|e: S3Error| {
                format!("{key}: {}", e.reason.as_deref().unwrap_or(&e.message))
            })?;
    }
    Ok(files.len())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// The object key of `path`: its components below `dir`, joined with `/`.
fn key_of(dir: &Path, path: &Path) -> Result<String, String> {
    let rel = path
        .strip_prefix(dir)
        .map_err(|_| format!("{} is outside {}", path.display(), dir.display()))?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    parts
        .map(|p| p.join("/"))
        .ok_or_else(|| format!("{}: a key must be UTF-8", path.display()))
}
