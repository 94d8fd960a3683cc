//! The reference "limit" server of `scripts/bench.sh`: hyper and strict-s3's own SigV4
//! verification of each request (parse, address, authenticate), and nothing else: no
//! storage, no access rules, no log line. What strict-s3 serves beyond this is what its
//! storage, authorization and bookkeeping cost; the benchmark prints each server's rate
//! as a share of this one's.
//!
//! GET answers a fixed body of `--size` bytes (default 1024); PUT reads the body to its
//! end and answers 200. A request that fails verification gets 403 (the benchmark's
//! response check then marks the run invalid).
//!
//! ```sh
//! cargo run --release --example limit_server -- 127.0.0.1:0 1024
//! ```

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use strict_s3::Config;
use strict_s3::auth::Authenticator;
use strict_s3::clock::SystemClock;
use strict_s3::request::S3Request;

async fn serve(
    auth: Arc<Authenticator>,
    config: Arc<Config>,
    body: Bytes,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, incoming) = req.into_parts();
    let verdict = S3Request::new(
        parts.method.clone(),
        parts.uri.path(),
        parts.uri.query(),
        parts.headers,
        String::new(),
    )
    .ok()
    .and_then(|r| {
        let addr = strict_s3::addressing::resolve(&r, &config.domains, 1024).ok()?;
        auth.authenticate(&r, &addr).ok()
    });
    // Read the whole body (a PUT's), as a server must before it answers, frame by frame
    // (nothing kept: the limit of receiving, not of buffering).
    let mut incoming = incoming;
    while let Some(Ok(_)) = incoming.frame().await {}
    let resp = match verdict {
        None => Response::builder()
            .status(403)
            .body(Full::new(Bytes::new())),
        Some(_) if parts.method == http::Method::GET => Response::builder()
            .header("content-length", body.len())
            .body(Full::new(body)),
        Some(_) => Response::builder()
            .status(200)
            .body(Full::new(Bytes::new())),
    };
    Ok(resp.unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:0".into());
    let size: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let config = Arc::new(Config::in_memory());
    let auth = Arc::new(Authenticator::new(config.clone(), Arc::new(SystemClock)));
    let body = Bytes::from(vec![b'x'; size]);
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!(
        "limit server listening on http://{}",
        listener.local_addr()?
    );
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (auth, config, body) = (auth.clone(), config.clone(), body.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| {
                serve(auth.clone(), config.clone(), body.clone(), req)
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
