//! The connection's byte stream, with hyper's own parse-error answers made S3's.
//!
//! A request head hyper cannot hold (more headers than [`MAX_HEADERS`], a head larger than
//! its read buffer, a request line over its URI limit) is answered by hyper itself with a
//! bare `431 Request Header Fields Too Large` or `414 URI Too Long`, before any of
//! strict-s3's code runs; hyper has no hook for that answer. S3 answers an oversized header
//! section with 400 `RequestHeaderSectionTooLarge` "Your request header section exceeds the
//! maximum allowed size." and `<MaxSizeAllowed>8192</MaxSizeAllowed>` (a captured body in
//! department-of-veterans-affairs/va.gov-team#89412; versitygw#2180). So this wrapper
//! recognizes hyper's canned head as it is written — strict-s3 itself never answers 431 or
//! 414 — and writes S3's error in its place. Heads within hyper's limits but over S3's 8 KB
//! are refused by the service the ordinary way. No capture exists for an over-long request
//! line; it is the same head section, so it gets the same answer (with a reason saying so).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::body::ResponseBody;
use crate::error::{S3Error, S3ErrorCode};

/// hyper's header-count limit: enough for any head within S3's 8 KB (120 small
/// `x-amz-meta-*` headers are legal on S3 and over hyper's default 100), small enough that
/// the per-request header array hyper allocates stays a few dozen KB.
pub const MAX_HEADERS: usize = 1024;

/// hyper's read buffer (the largest head it parses): past S3's 8 KB, so the service can
/// answer heads up to this size itself; larger ones are answered here.
pub const MAX_HEAD_BUFFER: usize = 64 * 1024;

/// What the wrapper writes instead of hyper's canned answer: a complete HTTP/1.1 response.
pub type Answer = Box<dyn Fn(&'static str) -> Vec<u8> + Send + Sync>;

/// Whether one of the service's responses is on its way out on this connection. Bytes
/// written meanwhile are the service's, whatever they look like (an object may well start
/// with `HTTP/1.1 431 `); only a head written while no response is in flight can be
/// hyper's canned one. A response is in flight from the service call until the first flush
/// after its body is finished: hyper drains its own buffer before it flushes the stream,
/// so by then every byte of the response has gone through [`S3Wire`].
///
/// It also knows when the connection last took a request and can be asked to close once
/// idle, so that near the connection cap the longest-idle keep-alive connections make room
/// ([`crate::connections`]).
#[derive(Default)]
pub struct InFlight {
    active: AtomicBool,
    body_done: AtomicBool,
    /// The server-wide sequence number of the connection's latest request (0: none yet).
    last_request: AtomicU64,
    shed: tokio::sync::Notify,
}

/// Orders requests across connections: a larger number is a more recent request.
static REQUESTS: AtomicU64 = AtomicU64::new(1);

impl InFlight {
    /// The service has taken a request.
    pub fn begin(&self) {
        self.body_done.store(false, Ordering::SeqCst);
        self.active.store(true, Ordering::SeqCst);
        self.last_request
            .store(REQUESTS.fetch_add(1, Ordering::Relaxed), Ordering::Relaxed);
    }

    /// When the connection last took a request (a server-wide sequence number).
    pub fn last_request(&self) -> u64 {
        self.last_request.load(Ordering::Relaxed)
    }

    /// Asks the connection to close: at once when idle, after its response otherwise.
    pub fn shed(&self) {
        self.shed.notify_one();
    }

    /// Resolves when [`InFlight::shed`] was called.
    pub async fn shed_requested(&self) {
        self.shed.notified().await;
    }

    /// No response of the service is on its way out.
    pub fn is_idle(&self) -> bool {
        self.idle()
    }

    /// hyper is done with the response body (it was dropped).
    pub fn body_done(&self) {
        self.body_done.store(true, Ordering::SeqCst);
    }

    fn flushed(&self) {
        if self.body_done.swap(false, Ordering::SeqCst) {
            self.active.store(false, Ordering::SeqCst);
        }
    }

    fn idle(&self) -> bool {
        !self.active.load(Ordering::SeqCst)
    }
}

/// A response body that tells [`InFlight`] when hyper is done with it.
pub struct TrackedBody {
    inner: ResponseBody,
    conn: Arc<InFlight>,
}

impl TrackedBody {
    pub fn new(inner: ResponseBody, conn: Arc<InFlight>) -> Self {
        TrackedBody { inner, conn }
    }
}

impl Drop for TrackedBody {
    fn drop(&mut self) {
        self.conn.body_done();
    }
}

impl hyper::body::Body for TrackedBody {
    type Data = bytes::Bytes;
    type Error = S3Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's stream: reads pass through; hyper's canned 431/414 becomes `answer`.
pub struct S3Wire<T> {
    inner: T,
    conn: Arc<InFlight>,
    answer: Arc<Answer>,
    /// A replacement being written, and how far, and the length of hyper's bytes it stands for.
    pending: Option<(Vec<u8>, usize, usize)>,
}

impl<T> S3Wire<T> {
    pub fn new(inner: T, conn: Arc<InFlight>, answer: Arc<Answer>) -> Self {
        S3Wire {
            inner,
            conn,
            answer,
            pending: None,
        }
    }
}

/// Which of hyper's canned answers `head` starts, if any.
fn canned(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"HTTP/1.1 431 ") {
        Some(
            "the request head is larger than strict-s3 reads (more than 64 KiB or 1024 header lines)",
        )
    } else if head.starts_with(b"HTTP/1.1 414 ") {
        Some("the request line is longer than strict-s3 reads")
    } else {
        None
    }
}

impl<T: AsyncWrite + Unpin> S3Wire<T> {
    /// Writes the pending replacement; `Ready(n)` with the length of the bytes it replaced.
    fn drive(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        while let Some((bytes, done, stands_for)) = &mut self.pending {
            if *done == bytes.len() {
                let n = *stands_for;
                self.pending = None;
                return Poll::Ready(Ok(n));
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*done..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *done += n;
        }
        Poll::Ready(Ok(0))
    }

    fn start(&mut self, reason: &'static str, stands_for: usize) {
        self.pending = Some(((self.answer)(reason), 0, stands_for));
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for S3Wire<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for S3Wire<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.pending.is_none() {
            match canned(buf).filter(|_| self.conn.idle()) {
                Some(reason) => self.start(reason, buf.len()),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        self.drive(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.pending.is_none() {
            let first = bufs.iter().find(|b| !b.is_empty());
            match first.and_then(|b| canned(b)).filter(|_| self.conn.idle()) {
                // The canned answer has no body: everything hyper hands over is its head.
                Some(reason) => {
                    let total = bufs.iter().map(|b| b.len()).sum();
                    self.start(reason, total);
                }
                None => return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
            }
        }
        self.drive(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drive(cx))?;
        ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        self.conn.flushed();
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drive(cx))?;
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// The error S3 gives for a head too large to read.
pub fn head_too_large(reason: &str) -> S3Error {
    S3Error::new(S3ErrorCode::RequestHeaderSectionTooLarge)
        .extra("MaxSizeAllowed", "8192")
        .reason(reason.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn hyper_canned_answers_become_s3_errors_and_the_service_bytes_pass() {
        let answer: Arc<Answer> = Arc::new(Box::new(|reason: &'static str| {
            format!("S3 ERROR: {reason}").into_bytes()
        }));
        let canned_head =
            b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        let conn = Arc::new(InFlight::default());
        let mut out = Vec::new();
        let mut wire = S3Wire::new(&mut out, conn.clone(), answer);
        // A response of the service whose body looks like hyper's canned head: untouched.
        conn.begin();
        wire.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 70\r\n\r\n")
            .await
            .unwrap();
        wire.write_all(canned_head).await.unwrap();
        drop(TrackedBody::new(crate::body::empty(), conn.clone()));
        wire.write_all(canned_head).await.unwrap();
        wire.flush().await.unwrap();
        // Then hyper's own answer to a head it could not read: replaced.
        wire.write_all(canned_head).await.unwrap();
        wire.flush().await.unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.matches("HTTP/1.1 431").count(), 2, "{text}");
        assert!(text.ends_with("S3 ERROR: the request head is larger than strict-s3 reads (more than 64 KiB or 1024 header lines)"), "{text}");
    }
}
