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
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::addressing::check_bucket_name;
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, StorageConfig};
use crate::error::{S3Error, S3ErrorCode};
use crate::service::{AppState, handle};
use crate::storage::{DiskStorage, MemoryStorage, Storage};

/// Why the server could not start.
#[derive(Debug)]
pub enum StartError {
    Bind(SocketAddr, std::io::Error),
    Storage(S3Error),
    Bucket(String, S3Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind(a, e) => write!(f, "cannot listen on {a}: {e}"),
            StartError::Storage(e) => write!(f, "cannot open the store: {e}"),
            StartError::Bucket(b, e) => write!(f, "cannot create bucket {b:?}: {e}"),
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
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let storage: Arc<dyn Storage> = match (self.storage, &self.config.storage) {
            (Some(s), _) => s,
            (None, StorageConfig::Memory) => Arc::new(MemoryStorage::new(clock.clone())),
            (None, StorageConfig::Disk(dir)) => Arc::new(
                DiskStorage::open(dir, clock.clone())
                    .await
                    .map_err(StartError::Storage)?,
            ),
        };
        for b in &self.config.buckets {
            check_bucket_name(b).map_err(|e| StartError::Bucket(b.clone(), e))?;
            match storage.create_bucket(b, &self.config.region).await {
                Ok(_) => {}
                Err(e) if e.code == S3ErrorCode::BucketAlreadyOwnedByYou => {}
                Err(e) => return Err(StartError::Bucket(b.clone(), e)),
            }
            if !self.config.cors_allow_origins.is_empty() {
                let doc =
                    crate::cors::CorsConfiguration::permissive(&self.config.cors_allow_origins);
                storage
                    .put_bucket_document(b, crate::ops::cors::DOCUMENT, Some(doc.to_xml().into()))
                    .await
                    .map_err(|e| StartError::Bucket(b.clone(), e))?;
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

/// Accepts connections until `stop` fires; then waits for open connections to finish
/// their requests, at most `grace`.
async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    mut stop: oneshot::Receiver<()>,
    grace: std::time::Duration,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(std::time::Duration::from_secs(30))
        .max_buf_size(64 * 1024)
        .keep_alive(true);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let (stream, _) = match accepted {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                };
                // Small responses leave in one segment without waiting for delayed ACKs.
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                let service = service_fn(move |req| handle(state.clone(), req));
                let conn = builder.serve_connection(TokioIo::new(stream), service);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!("connection ended with an error: {e}");
                    }
                });
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within {grace:?}; closing them");
    }
}
