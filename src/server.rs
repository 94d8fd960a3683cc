//! Starting, serving and stopping: the server as a library.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use strict_s3::{Config, ManualClock, Server};
//!
//! let clock = Arc::new(ManualClock::starting_now());
//! let server = Server::builder()
//!     .config(Config { buckets: vec!["test".into()], ..Config::in_memory() })
//!     .clock(clock.clone())
//!     .start()
//!     .await?;
//! println!("S3 endpoint: {}", server.endpoint());
//! clock.advance(std::time::Duration::from_secs(3600)); // presigned URLs expire, no sleeping
//! server.shutdown().await;
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::addressing::check_bucket_name;
use crate::clock::Clock;
use crate::config::{Config, StorageConfig};
use crate::connections::{AcceptBackoff, Connections};
use crate::error::{S3Error, S3ErrorCode};
use crate::service::{AppState, handle};
use crate::storage::{DiskStorage, MemoryStorage, Storage};
use crate::wire;

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    Bind(SocketAddr, std::io::Error),
    Storage(S3Error),
    Bucket(String, S3Error),
    /// A seed directory's file could not become an object.
    Seed(String, String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind(a, e) => write!(f, "cannot listen on {a}: {e}"),
            StartError::Storage(e) => write!(f, "cannot open the store: {e}"),
            StartError::Bucket(b, e) => write!(f, "cannot create bucket {b:?}: {e}"),
            StartError::Seed(b, e) => write!(f, "cannot seed bucket {b:?}: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

pub struct Server;

impl Server {
    pub fn builder() -> ServerBuilder {
        ServerBuilder {
            config: Config::in_memory(),
            clock: None,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            storage: None,
        }
    }
}

/// Configures a server; `start` binds it (port 0 picks a free port).
pub struct ServerBuilder {
    config: Config,
    clock: Option<Arc<dyn Clock>>,
    addr: SocketAddr,
    storage: Option<Arc<dyn Storage>>,
}

impl ServerBuilder {
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// The clock every check uses; tests pass a `ManualClock` and move it.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// A store of your own instead of the one the configuration names.
    pub fn storage(mut self, storage: Arc<dyn Storage>) -> Self {
        self.storage = Some(storage);
        self
    }

    pub async fn start(self) -> Result<ServerHandle, StartError> {
        // The default clock can be moved over HTTP (PUT /_strict/clock).
        let clock = self
            .clock
            .unwrap_or_else(|| Arc::new(crate::clock::AdjustableClock::default()));
        let storage: Arc<dyn Storage> = match (self.storage, &self.config.storage) {
            (Some(s), _) => s,
            (None, StorageConfig::Memory) => Arc::new(MemoryStorage::new(clock.clone())),
            (None, StorageConfig::Disk(dir)) => Arc::new(
                DiskStorage::open(dir, clock.clone())
                    .await
                    .map_err(StartError::Storage)?,
            ),
        };
        for spec in &self.config.buckets {
            let b = &spec.name;
            let fail = |e| StartError::Bucket(b.clone(), e);
            check_bucket_name(b).map_err(fail)?;
            let docs = crate::ops::bucket::startup_documents(&self.config, spec).map_err(fail)?;
            // Bytes: the clone shares the documents, kept for a bucket that already exists.
            match storage
                .create_bucket_with(b, self.config.bucket_region(b), docs.clone())
                .await
            {
                Ok(_) => {}
                // Kept from an earlier run: what the spec names explicitly is written
                // again, so the configuration stays the source of truth.
                Err(e) if e.code == S3ErrorCode::BucketAlreadyOwnedByYou => {
                    for (name, doc) in docs.into_iter().filter(|(n, _)| spec.names_document(n)) {
                        storage
                            .put_bucket_document(b, name, Some(doc))
                            .await
                            .map_err(fail)?;
                    }
                    if spec.public_access == Some(None) {
                        storage
                            .put_bucket_document(
                                b,
                                crate::access::rules::PUBLIC_ACCESS_DOCUMENT,
                                None,
                            )
                            .await
                            .map_err(fail)?;
                    }
                }
                Err(e) => return Err(fail(e)),
            }
            if let Some(dir) = &spec.seed {
                crate::seed::seed(&*storage, b, dir, self.config.limits.max_object_size)
                    .await
                    .map_err(|e| StartError::Seed(b.clone(), e))?;
            }
            if !self.config.cors_allow_origins.is_empty() {
                let doc =
                    crate::cors::CorsConfiguration::permissive(&self.config.cors_allow_origins);
                storage
                    .put_bucket_document(b, crate::ops::cors::DOCUMENT, Some(doc.to_xml().into()))
                    .await
                    .map_err(fail)?;
            }
        }
        let listener = TcpListener::bind(self.addr)
            .await
            .map_err(|e| StartError::Bind(self.addr, e))?;
        let local_addr = listener
            .local_addr()
            .map_err(|e| StartError::Bind(self.addr, e))?;
        let grace = self.config.limits.shutdown_grace;
        let admin_routes = local_addr.ip().is_loopback() || self.config.admin;
        let state = Arc::new(AppState::new(
            Arc::new(self.config),
            clock.clone(),
            storage.clone(),
            admin_routes,
        ));
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(serve(listener, state, rx, grace));
        Ok(ServerHandle {
            local_addr,
            clock,
            storage,
            shutdown: Some(tx),
            task,
        })
    }
}

/// A running server.
pub struct ServerHandle {
    local_addr: SocketAddr,
    clock: Arc<dyn Clock>,
    storage: Arc<dyn Storage>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl ServerHandle {
    /// `http://127.0.0.1:PORT`, ready for an SDK's `endpoint_url`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub fn storage(&self) -> Arc<dyn Storage> {
        self.storage.clone()
    }

    /// Stops accepting, lets in-flight requests finish (bounded by the grace period),
    /// then returns.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serves until `signal` completes, then shuts down gracefully.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        self.shutdown().await;
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// What replaces hyper's bare 431/414: S3's XML error, logged like any refusal.
fn head_too_large_answer(state: Arc<AppState>) -> Arc<wire::Answer> {
    Arc::new(Box::new(move |reason: &'static str| {
        let id = state.request_id();
        let err = wire::head_too_large(reason);
        tracing::warn!(
            target: "strict_s3::request",
            "{id} - (request head not read) → 400 {}: {} — {reason}",
            err.code.as_str(),
            err.message,
        );
        crate::respond::to_raw_response(&err, &id, !state.config.aws_exact_errors)
    }))
}

/// Accepts connections until `stop` fires, at most `max_connections` served at once
/// ([`Connections`]); then waits for open connections to finish their requests, at most
/// `grace`.
async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    mut stop: oneshot::Receiver<()>,
    grace: std::time::Duration,
) {
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(30))
        .max_buf_size(wire::MAX_HEAD_BUFFER)
        .max_headers(wire::MAX_HEADERS)
        .keep_alive(true);
    let builder = Arc::new(builder);
    let answer = head_too_large_answer(state.clone());
    let connections = Connections::new(max_connections(&state.config));
    let (stopping, stopped) = tokio::sync::watch::channel(false);
    let mut backoff = AcceptBackoff::default();
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, peer)) => {
                backoff.succeeded();
                (stream, peer)
            }
            Err(e) => {
                let (pause, report) = backoff.failed(&e, std::time::Instant::now());
                if let Some(count) = report {
                    tracing::warn!(
                        "accept failed {count} time(s) since the last report: {e} (pausing {pause:?} between tries; serving at most {} connections)",
                        connections.max()
                    );
                }
                tokio::select! {
                    _ = &mut stop => break,
                    _ = tokio::time::sleep(pause) => continue,
                }
            }
        };
        let registered = tokio::select! {
            _ = &mut stop => break,
            r = connections.admit() => r,
        };
        // Small responses leave in one segment without waiting for delayed ACKs.
        let (stream, peer) = stream;
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve_connection(
            stream,
            peer,
            registered,
            state.clone(),
            builder.clone(),
            answer.clone(),
            stopped.clone(),
        ));
    }
    drop(listener);
    let _ = stopping.send(true);
    if !connections.drained(grace).await {
        tracing::warn!("in-flight requests did not finish within {grace:?}; closing them");
    }
}

/// `Limits::max_connections`, or the cap the descriptor limit allows.
fn max_connections(config: &Config) -> usize {
    match config.limits.max_connections {
        0 => crate::connections::fd_limit().map_or(1024, |(soft, _)| {
            crate::connections::derived_max_connections(soft)
        }),
        n => n,
    }
}

/// One connection: served until the client closes it, the server stops, or it is shed to
/// make room near the cap (both of the last close it once its response is out).
async fn serve_connection(
    stream: tokio::net::TcpStream,
    peer: std::net::SocketAddr,
    registered: crate::connections::Registered,
    state: Arc<AppState>,
    builder: Arc<http1::Builder>,
    answer: Arc<wire::Answer>,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let inflight = registered.inflight.clone();
    let tracked = inflight.clone();
    let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        tracked.begin();
        let (state, tracked) = (state.clone(), tracked.clone());
        async move {
            // The client's address (for aws:SourceIp) as an argument, not a request
            // extension: an extension costs a map allocated per request.
            let resp = handle(state, req, Some(peer)).await?;
            Ok::<_, std::convert::Infallible>(resp.map(|b| wire::TrackedBody::new(b, tracked)))
        }
    });
    let io = wire::S3Wire::new(stream, inflight.clone(), answer);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = async { drop(stopped.wait_for(|s| *s).await) } => {
            conn.as_mut().graceful_shutdown();
            conn.as_mut().await
        }
        _ = inflight.shed_requested() => {
            conn.as_mut().graceful_shutdown();
            conn.as_mut().await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection ended with an error: {e}");
    }
    drop(registered);
}
