//! The MD5 (the ETag) and size of a body, computed as its bytes pass: inline for the
//! first [`INLINE_BYTES`], then on a thread of its own fed through a bounded channel.
//!
//! Why: a 256 MiB presigned PUT spent half of its server time in MD5, on the same worker
//! that reads the socket and stores the chunks, so reading, storing and hashing took
//! turns (perf under `scripts/bench.sh`). With the hash on its own thread they overlap,
//! and a large upload runs at the speed of its slowest stage (one core's MD5) instead of
//! the sum of all three. Small bodies (most presigned PUTs) never pay the hand-off. The
//! channel is bounded, so a client sending faster than MD5 is slowed by back-pressure,
//! never buffered without bound.

use bytes::Bytes;
use md5::{Digest, Md5};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::error::S3Error;

/// Bodies are hashed inline up to this size; beyond it, on a thread.
pub const INLINE_BYTES: u64 = 1024 * 1024;
/// Chunks waiting for the hashing thread (each as large as the body's chunks).
const QUEUE: usize = 32;

/// A body's MD5 in progress (see the module documentation).
pub struct BodyMd5 {
    size: u64,
    state: State,
}

enum State {
    Inline(Md5),
    Threaded {
        chunks: mpsc::Sender<Bytes>,
        digest: JoinHandle<[u8; 16]>,
    },
}

impl Default for BodyMd5 {
    fn default() -> Self {
        BodyMd5 {
            size: 0,
            state: State::Inline(Md5::new()),
        }
    }
}

impl BodyMd5 {
    /// The bytes seen so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a chunk; waits only when the hashing thread is `QUEUE` chunks behind.
    pub async fn update(&mut self, chunk: &Bytes) -> Result<(), S3Error> {
        self.size += chunk.len() as u64;
        match &mut self.state {
            State::Inline(md5) => {
                md5.update(chunk);
                if self.size > INLINE_BYTES {
                    let md5 = std::mem::take(md5);
                    self.state = spawn(md5);
                }
                Ok(())
            }
            State::Threaded { chunks, .. } => chunks
                .send(chunk.clone())
                .await
                .map_err(|_| S3Error::internal("the MD5 thread ended early")),
        }
    }

    /// The size and the MD5.
    pub async fn finish(self) -> Result<(u64, [u8; 16]), S3Error> {
        let md5 = match self.state {
            State::Inline(md5) => md5.finalize().into(),
            State::Threaded { chunks, digest } => {
                drop(chunks);
                digest
                    .await
                    .map_err(|e| S3Error::internal(format!("the MD5 thread failed: {e}")))?
            }
        };
        Ok((self.size, md5))
    }
}

/// Moves the hash to a blocking thread that takes chunks until the sender is dropped
/// (the body ended, or the request was dropped: then the thread just stops).
fn spawn(mut md5: Md5) -> State {
    let (chunks, mut rx) = mpsc::channel::<Bytes>(QUEUE);
    let digest = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = rx.blocking_recv() {
            md5.update(&chunk);
        }
        md5.finalize().into()
    });
    State::Threaded { chunks, digest }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same digest inline and threaded, across the switch between them.
    #[tokio::test]
    async fn the_digest_does_not_depend_on_where_it_was_computed() {
        for len in [0usize, 1, 1 << 20, (1 << 20) + 1, 5 << 20] {
            let data: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let mut hashed = BodyMd5::default();
            for chunk in data.chunks(300 * 1024) {
                hashed.update(&Bytes::copy_from_slice(chunk)).await.unwrap();
            }
            let threaded = matches!(hashed.state, State::Threaded { .. });
            assert_eq!(threaded, len as u64 > INLINE_BYTES, "{len}");
            let (size, md5) = hashed.finish().await.unwrap();
            assert_eq!(size, len as u64);
            assert_eq!(md5, <[u8; 16]>::from(Md5::digest(&data)), "{len}");
        }
    }
}
