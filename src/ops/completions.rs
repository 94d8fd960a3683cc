//! CompleteMultipartUpload answers kept for clients that retry a completion.

use crate::storage::CompletePart;

/// Completions this server has answered, so that a client retrying a completion whose
/// answer it lost gets that answer again: S3 answers a repeated CompleteMultipartUpload
/// with the same parts 200 and the same result (adobe/S3Mock#2586 and minio/minio#13318
/// ran it against S3). Another part list for a completed upload, or a completion this
/// server no longer remembers, is `NoSuchUpload` (S3's documented answer for a completed
/// upload; no capture of the different-list case exists). Kept in memory for the
/// server's life, the most recent `Completions::CAPACITY` only: S3 itself forgets
/// completed ids after some hours (minio#2250).
#[derive(Default)]
pub struct Completions(std::sync::Mutex<std::collections::VecDeque<Completed>>);

pub(super) struct Completed {
    pub bucket: String,
    pub key: String,
    pub upload_id: String,
    pub parts: Vec<CompletePart>,
    pub meta: crate::storage::ObjectMeta,
}

impl Completions {
    const CAPACITY: usize = 1000;

    pub(super) fn remember(&self, completed: Completed) {
        let mut list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if list.len() == Self::CAPACITY {
            list.pop_front();
        }
        list.push_back(completed);
    }

    /// The earlier result, when this upload was completed with exactly these parts.
    pub(super) fn replay(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        parts: &[CompletePart],
    ) -> Option<crate::storage::ObjectMeta> {
        let list = self.0.lock().unwrap_or_else(|p| p.into_inner());
        list.iter()
            .find(|c| c.upload_id == upload_id && c.bucket == bucket && c.key == key)
            .filter(|c| same_parts(&c.parts, parts))
            .map(|c| c.meta.clone())
    }
}

/// The same part list: numbers, ETags (quotes aside) and checksums.
fn same_parts(a: &[CompletePart], b: &[CompletePart]) -> bool {
    let etag = |p: &CompletePart| p.etag.trim().trim_matches('"').to_string();
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.number == y.number && etag(x) == etag(y) && x.checksum == y.checksum)
}
