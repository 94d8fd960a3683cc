//! Bodies as streams of `Bytes`: the request body after verification flows into
//! storage, the stored object flows out to the client; neither is ever collected whole
//! (except small XML documents, under an explicit limit).

use std::pin::Pin;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;

use crate::error::{S3Error, S3ErrorCode};

/// A body in flight. An `Err` item aborts the transfer: a write is discarded, a read is cut.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, S3Error>> + Send>>;

/// The body type of every response the server sends.
pub type ResponseBody = UnsyncBoxBody<Bytes, S3Error>;

pub fn empty() -> ResponseBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

pub fn full(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

pub fn streaming(stream: ByteStream) -> ResponseBody {
    StreamBody::new(stream.map(|r| r.map(Frame::data))).boxed_unsync()
}

/// A stream of the given chunks (used by the memory store and by tests).
pub fn from_chunks(chunks: Vec<Bytes>) -> ByteStream {
    Box::pin(futures_util::stream::iter(chunks.into_iter().map(Ok)))
}

/// Collects a small body (an XML request document) up to `limit` bytes; more is refused
/// with `too_large` so a hostile client cannot make the server buffer without bound.
pub async fn collect_limited(
    mut body: ByteStream,
    limit: usize,
    too_large: impl FnOnce() -> S3Error,
) -> Result<Bytes, S3Error> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk?;
        if buf.len() + chunk.len() > limit {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// Passes the body through unchanged while `update` sees every chunk; at the end
/// `finish` decides, and its error becomes the stream's last item (so a store discards
/// the write). The building block of every as-bytes-pass check (SHA-256, checksums).
pub fn checked<S: Send + 'static>(
    body: ByteStream,
    state: S,
    update: fn(&mut S, &[u8]),
    finish: fn(S) -> Result<(), S3Error>,
) -> ByteStream {
    struct Run<S> {
        body: ByteStream,
        state: Option<S>,
        update: fn(&mut S, &[u8]),
        finish: fn(S) -> Result<(), S3Error>,
    }
    let run = Run {
        body,
        state: Some(state),
        update,
        finish,
    };
    Box::pin(futures_util::stream::unfold(run, |mut run| async move {
        let state = run.state.as_mut()?;
        match run.body.next().await {
            Some(Ok(chunk)) => {
                (run.update)(state, &chunk);
                Some((Ok(chunk), run))
            }
            Some(Err(e)) => {
                run.state = None;
                Some((Err(e), run))
            }
            None => {
                let state = run.state.take()?;
                match (run.finish)(state) {
                    Ok(()) => None,
                    Err(e) => Some((Err(e), run)),
                }
            }
        }
    }))
}

/// Holds the request body so that whatever the operation left unread can be read (and
/// discarded) before an error response goes out. Clients such as `fetch` keep writing a
/// form while the server answers early; closing on them loses the answer (EPIPE), so up
/// to a bound the rest is read and the connection stays usable, as S3 does for small
/// bodies (it resets large ones: aws-sdk-js-v3#5589).
#[derive(Clone)]
pub struct BodySlot(std::sync::Arc<std::sync::Mutex<SlotState>>);

enum SlotState {
    /// Never polled: hyper has not answered `Expect: 100-continue` yet.
    Unread(ByteStream),
    Open(ByteStream),
    /// Read to its end: the connection can be reused.
    Done,
    /// Cut, timed out or malformed: the connection must close.
    Failed,
}

impl BodySlot {
    pub fn new(body: ByteStream) -> Self {
        BodySlot(std::sync::Arc::new(std::sync::Mutex::new(
            SlotState::Unread(body),
        )))
    }

    /// The body as a stream for the operation; it reads through the slot.
    pub fn stream(&self) -> ByteStream {
        let slot = self.clone();
        Box::pin(futures_util::stream::poll_fn(move |cx| {
            let mut guard = slot.0.lock().unwrap_or_else(|p| p.into_inner());
            if matches!(*guard, SlotState::Unread(_))
                && let SlotState::Unread(body) = std::mem::replace(&mut *guard, SlotState::Done)
            {
                *guard = SlotState::Open(body);
            }
            let SlotState::Open(body) = &mut *guard else {
                return std::task::Poll::Ready(None);
            };
            let item = body.as_mut().poll_next(cx);
            match &item {
                std::task::Poll::Ready(None) => *guard = SlotState::Done,
                std::task::Poll::Ready(Some(Err(_))) => *guard = SlotState::Failed,
                _ => {}
            }
            item
        }))
    }

    /// Reads and discards what is left, at most `limit` bytes within `time`. `true` when
    /// the body has been read to its end, so the connection can be reused.
    ///
    /// A body never read of a request that sent `Expect: 100-continue` is left unread:
    /// reading it would make hyper send `100 Continue` and the client its whole body,
    /// only to be refused. The client gets the error instead of the 100, as from S3, and
    /// the connection closes (what follows on it is unknown).
    pub async fn drain(
        &self,
        limit: usize,
        time: std::time::Duration,
        expect_continue: bool,
    ) -> bool {
        match *self.0.lock().unwrap_or_else(|p| p.into_inner()) {
            SlotState::Failed => return false,
            SlotState::Unread(_) if expect_continue => return false,
            _ => {}
        }
        let mut rest = self.stream();
        let mut read = 0usize;
        let drained = tokio::time::timeout(time, async {
            while let Some(chunk) = rest.next().await {
                match chunk {
                    Ok(c) => {
                        read += c.len();
                        if read > limit {
                            return false;
                        }
                    }
                    Err(_) => return false,
                }
            }
            true
        })
        .await;
        drained.unwrap_or(false)
    }
}

/// Turns the incoming hyper body into a [`ByteStream`]. A connection that drops or ends
/// early becomes `IncompleteBody`; one that sends nothing for `idle` becomes
/// `RequestTimeout` (S3's answer to a Content-Length larger than the body sent). Either
/// way the storage layer discards the partial write.
pub fn from_incoming(body: hyper::body::Incoming, idle: std::time::Duration) -> ByteStream {
    let frames = http_body_util::BodyStream::new(body);
    Box::pin(futures_util::stream::unfold(
        Some(frames),
        move |frames| async move {
            let mut frames = frames?;
            loop {
                match tokio::time::timeout(idle, frames.next()).await {
                    Err(_) => {
                        let err = S3Error::new(S3ErrorCode::RequestTimeout).reason(format!(
                        "no body bytes arrived for {idle:?} before the declared length was reached"
                    ));
                        return Some((Err(err), None));
                    }
                    Ok(None) => return None,
                    Ok(Some(Ok(frame))) => {
                        if let Ok(data) = frame.into_data() {
                            return Some((Ok(data), Some(frames)));
                        }
                    }
                    Ok(Some(Err(e))) => {
                        let err = S3Error::new(S3ErrorCode::IncompleteBody)
                            .reason(format!("the request body ended early: {e}"));
                        return Some((Err(err), None));
                    }
                }
            }
        },
    ))
}
