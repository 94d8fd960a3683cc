//! Shared helpers for the integration tests: an in-process server on port 0 with a
//! `ManualClock`, an exact raw HTTP/1.1 client (so paths, headers and bodies reach the
//! server byte for byte), and an independent SigV4 signer (the `aws-sigv4` crate, AWS's
//! own implementation) so the server is never checked against itself.

#![allow(dead_code)]

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SignatureLocation,
    SigningSettings, UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use strict_s3::clock::ManualClock;
use strict_s3::{Config, Server, ServerHandle};
use time::OffsetDateTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub const AK: &str = "AKIAIOSFODNN7EXAMPLE";
pub const SK: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const REGION: &str = "us-east-1";

/// `r` signed in its header by `(access key, secret)` for us-east-1, at the server's now.
/// (A test file may define its own `signed`; it shadows this one.)
pub fn signed(s: &TestServer, r: Raw, who: (&str, &str)) -> Raw {
    signed_in(s, r, who, REGION)
}

/// [`signed`] for `region`.
pub fn signed_in(s: &TestServer, r: Raw, (ak, sk): (&str, &str), region: &str) -> Raw {
    r.sign_with(
        &s.host,
        ak,
        sk,
        region,
        "s3",
        s.clock_now(),
        PayloadMode::Body,
    )
}

/// 2026-01-15T12:00:00Z: the fixed "now" of most tests.
pub fn t0() -> OffsetDateTime {
    time::macros::datetime!(2026-01-15 12:00:00 UTC)
}

pub struct TestServer {
    pub handle: ServerHandle,
    pub clock: Arc<ManualClock>,
    /// `127.0.0.1:PORT`
    pub host: String,
}

impl TestServer {
    pub async fn start(config: Config, now: OffsetDateTime) -> TestServer {
        let clock = Arc::new(ManualClock::new(now));
        let handle = Server::builder()
            .config(config)
            .clock(clock.clone())
            .start()
            .await
            .expect("server starts");
        let host = handle.local_addr().to_string();
        TestServer {
            handle,
            clock,
            host,
        }
    }

    /// In memory, bucket `bkt`, clock at [`t0`].
    pub async fn default() -> TestServer {
        TestServer::start(
            Config {
                buckets: vec!["bkt".into(), "bkt2".into()],
                ..Config::in_memory()
            },
            t0(),
        )
        .await
    }

    /// On disk under `dir`, bucket `bkt`, clock at [`t0`].
    pub async fn on_disk(dir: &std::path::Path) -> TestServer {
        TestServer::start(
            Config {
                buckets: vec!["bkt".into()],
                storage: strict_s3::StorageConfig::Disk(dir.into()),
                ..Config::in_memory()
            },
            t0(),
        )
        .await
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.host, path_and_query)
    }

    pub async fn send(&self, req: &Raw) -> Resp {
        send_raw(&self.host, req).await
    }

    /// Stores an object with a valid header-signed PUT (at the clock's current time).
    /// The inspector's record of the latest request (its own are not recorded).
    pub async fn latest_record(&self) -> serde_json::Value {
        let resp = self.send(&Raw::new("GET", "/_strict/requests")).await;
        let records: serde_json::Value = serde_json::from_slice(&resp.body).unwrap();
        records[0].clone()
    }

    pub async fn put(&self, path: &str, body: &[u8]) -> Resp {
        let now = self.clock_now();
        let req = Raw::new("PUT", path)
            .body(body)
            .sign(&self.host, SK, REGION, now);
        let resp = self.send(&req).await;
        assert_eq!(
            resp.status,
            200,
            "setup PUT {path} failed: {}",
            resp.body_text()
        );
        resp
    }

    pub fn clock_now(&self) -> SystemTime {
        use strict_s3::Clock;
        SystemTime::from(self.clock.now())
    }
}

/// A request to send byte for byte.
#[derive(Clone, Debug)]
pub struct Raw {
    pub method: String,
    /// Path and query exactly as they go on the request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Leave out Content-Length (for chunked/missing-length tests).
    pub no_content_length: bool,
}

impl Raw {
    pub fn new(method: &str, target: &str) -> Raw {
        Raw {
            method: method.into(),
            target: target.into(),
            headers: Vec::new(),
            body: Vec::new(),
            no_content_length: false,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Raw {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn body(mut self, body: &[u8]) -> Raw {
        self.body = body.to_vec();
        self
    }

    pub fn without_header(mut self, name: &str) -> Raw {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self
    }

    pub fn set_header(self, name: &str, value: &str) -> Raw {
        self.without_header(name).header(name, value)
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Signs with SigV4 in the Authorization header (S3 settings: single URI encoding,
    /// x-amz-content-sha256 over the body). `host` defaults to the server's address.
    pub fn sign(self, host: &str, secret: &str, region: &str, at: SystemTime) -> Raw {
        self.sign_with(host, AK, secret, region, "s3", at, PayloadMode::Body)
    }

    #[allow(clippy::too_many_arguments)]
    pub fn sign_with(
        self,
        host: &str,
        access_key: &str,
        secret: &str,
        region: &str,
        service: &str,
        at: SystemTime,
        payload: PayloadMode,
    ) -> Raw {
        let mut settings = s3_settings();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let key = Key {
            access_key,
            secret,
            region,
            service,
            at,
        };
        let (req, instructions) = self.with_host(host).run_signer(&key, settings, payload);
        let (new_headers, _) = instructions.into_parts();
        let mut out = req;
        for h in new_headers {
            out = out.set_header(h.name(), h.value());
        }
        out
    }

    /// Turns this request into a SigV4 presigned URL request (query auth).
    pub fn presign(
        self,
        host: &str,
        secret: &str,
        region: &str,
        at: SystemTime,
        expires: Duration,
    ) -> Raw {
        self.presign_with(host, AK, secret, region, at, expires)
    }

    pub fn presign_with(
        self,
        host: &str,
        access_key: &str,
        secret: &str,
        region: &str,
        at: SystemTime,
        expires: Duration,
    ) -> Raw {
        let mut settings = s3_settings();
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(expires);
        let key = Key {
            access_key,
            secret,
            region,
            service: "s3",
            at,
        };
        let (mut req, instructions) =
            self.with_host(host)
                .run_signer(&key, settings, PayloadMode::Unsigned);
        let (_, params): (_, Vec<(&'static str, Cow<'static, str>)>) = instructions.into_parts();
        for (k, v) in params {
            req.target
                .push(if req.target.contains('?') { '&' } else { '?' });
            req.target.push_str(k);
            req.target.push('=');
            req.target
                .push_str(&percent_encoding::utf8_percent_encode(&v, STRICT).to_string());
        }
        req
    }

    fn with_host(mut self, host: &str) -> Raw {
        if self.header_value("host").is_none() {
            self.headers.insert(0, ("host".into(), host.into()));
        }
        self
    }

    /// Runs aws-sigv4 over this request as it will be sent.
    fn run_signer(
        self,
        key: &Key<'_>,
        settings: SigningSettings,
        payload: PayloadMode,
    ) -> (Raw, aws_sigv4::http_request::SigningInstructions) {
        let url = format!(
            "http://{}{}",
            self.header_value("host").unwrap(),
            self.target
        );
        let identity = Credentials::new(key.access_key, key.secret, None, None, "test").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(key.region)
            .name(key.service)
            .time(key.at)
            .settings(settings)
            .build()
            .expect("signing params")
            .into();
        let body = match &payload {
            PayloadMode::Body => SignableBody::Bytes(&self.body),
            PayloadMode::Unsigned => SignableBody::UnsignedPayload,
            PayloadMode::Precomputed(h) => SignableBody::Precomputed(h.clone()),
        };
        let headers = self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        let signable =
            SignableRequest::new(&self.method, url, headers, body).expect("signable request");
        let (instructions, _sig) = sign(signable, &params).expect("signs").into_parts();
        (self, instructions)
    }

    /// Replaces query parameter `name`'s value (raw, as it goes on the wire).
    pub fn set_query(mut self, name: &str, raw_value: &str) -> Raw {
        let (path, query) = self.target.split_once('?').unwrap_or((&self.target, ""));
        let mut found = false;
        let parts: Vec<String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let k = p.split('=').next().unwrap_or("");
                if k == name {
                    found = true;
                    format!("{name}={raw_value}")
                } else {
                    p.to_string()
                }
            })
            .collect();
        let mut parts = parts;
        if !found {
            parts.push(format!("{name}={raw_value}"));
        }
        self.target = format!("{path}?{}", parts.join("&"));
        self
    }

    pub fn remove_query(mut self, name: &str) -> Raw {
        let (path, query) = self.target.split_once('?').unwrap_or((&self.target, ""));
        let parts: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && p.split('=').next() != Some(name))
            .collect();
        self.target = if parts.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", parts.join("&"))
        };
        self
    }

    pub fn query_value(&self, name: &str) -> Option<String> {
        let (_, query) = self.target.split_once('?')?;
        query
            .split('&')
            .find_map(|p| p.strip_prefix(&format!("{name}=")).map(str::to_string))
    }
}

const STRICT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Who signs, where and when.
struct Key<'a> {
    access_key: &'a str,
    secret: &'a str,
    region: &'a str,
    service: &'a str,
    at: SystemTime,
}

/// S3's signing settings: the path encoded once and never normalised.
fn s3_settings() -> SigningSettings {
    let mut settings = SigningSettings::default();
    settings.percent_encoding_mode = PercentEncodingMode::Single;
    settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    settings
}

pub enum PayloadMode {
    Body,
    Unsigned,
    Precomputed(String),
}

/// A response as received.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The text of XML element `name` in the body (first occurrence).
    pub fn xml(&self, name: &str) -> Option<String> {
        let text = self.body_text();
        let open = format!("<{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&format!("</{name}>"))? + start;
        Some(
            text[start..end]
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&apos;", "'")
                .replace("&amp;", "&"),
        )
    }

    pub fn code(&self) -> Option<String> {
        self.xml("Code")
    }

    /// Asserts an S3 error: status, `<Code>`, and (when given) the exact `<Message>`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, message: Option<&str>) {
        assert_eq!(
            (self.status, self.code().as_deref()),
            (status, Some(code)),
            "body: {}",
            self.body_text()
        );
        if let Some(m) = message {
            assert_eq!(
                self.xml("Message").as_deref(),
                Some(m),
                "body: {}",
                self.body_text()
            );
        }
        assert!(
            self.header("x-amz-request-id").is_some(),
            "every response has x-amz-request-id"
        );
        assert_eq!(
            self.xml("RequestId").as_deref(),
            self.header("x-amz-request-id")
        );
    }
}

/// Sends one request on a fresh connection and reads the whole response.
pub async fn send_raw(addr: &str, req: &Raw) -> Resp {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    let mut has_host = false;
    for (n, v) in &req.headers {
        has_host |= n.eq_ignore_ascii_case("host");
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if !has_host {
        head.push_str(&format!("host: {addr}\r\n"));
    }
    if !req.no_content_length && req.header_value("content-length").is_none() {
        head.push_str(&format!("content-length: {}\r\n", req.body.len()));
    }
    head.push_str("connection: close\r\n\r\n");
    stream
        .write_all(head.as_bytes())
        .await
        .expect("writes head");
    stream.write_all(&req.body).await.expect("writes body");
    read_response(&mut stream, req.method == "HEAD").await
}

/// Opens a connection and sends `req`'s head with `Content-Length: req.body.len()`, then
/// only the first `sent` bytes of the body: the rest never comes (a cut or stalled upload).
pub async fn send_partial(addr: &str, req: &Raw, sent: usize) -> TcpStream {
    let mut stream = TcpStream::connect(addr).await.expect("connects");
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (n, v) in &req.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", req.body.len()));
    stream
        .write_all(head.as_bytes())
        .await
        .expect("writes head");
    stream
        .write_all(&req.body[..sent])
        .await
        .expect("writes body");
    stream
}

/// Reads a response (Content-Length, chunked, or until close).
pub async fn read_response(stream: &mut TcpStream, head_request: bool) -> Resp {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut buf))
        .await
        .expect("response within 30 s");
    parse_response(&buf, head_request)
}

pub fn parse_response(buf: &[u8], head_request: bool) -> Resp {
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(buf)));
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &buf[split + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if head_request {
        Vec::new()
    } else if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Resp {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(pos) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(
            String::from_utf8_lossy(&data[..pos])
                .split(';')
                .next()
                .unwrap()
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = pos + 2;
        out.extend_from_slice(&data[start..start + size]);
        data = &data[start + size + 2..];
    }
}

/// SystemTime of an OffsetDateTime.
pub fn st(t: OffsetDateTime) -> SystemTime {
    SystemTime::from(t)
}

/// The strict-s3 binary as a separate process (for what only a process shows: its peak
/// memory, its CPU time, its descriptor limit, a kill): started from `cmd` with stdout
/// piped, its endpoint read from the banner, its later output kept in `lines`. Killed
/// when dropped.
pub struct Process {
    pub child: std::process::Child,
    /// `127.0.0.1:PORT`
    pub host: String,
    pub lines: Arc<std::sync::Mutex<Vec<String>>>,
}

impl Process {
    pub fn spawn(cmd: &mut std::process::Command) -> Process {
        use std::io::BufRead;
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("strict-s3 starts");
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        // The banner, after what recovery logged before it (a store reopened after a
        // kill may say which torn record it cut): those lines are kept with the rest.
        let mut before = Vec::new();
        let host = loop {
            let mut line = String::new();
            out.read_line(&mut line).unwrap();
            if let Some(host) = line.trim().strip_prefix("strict-s3 listening on http://") {
                break host.to_string();
            }
            let logged = line.contains(" WARN ") || line.contains(" INFO ");
            assert!(
                logged && before.len() < 100,
                "banner: {line:?} after {before:?}"
            );
            before.push(line.trim_end().to_string());
        };
        let lines = Arc::new(std::sync::Mutex::new(before));
        let sink = lines.clone();
        // Read everything, so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Process { child, host, lines }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
