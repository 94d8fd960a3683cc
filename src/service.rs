//! The hyper service: runs the stages of a request in order, once, forward only.
//!
//! ```text
//! request → addressing → route → authentication → access → operation → storage
//!    ← respond::to_response (the only place an error becomes XML) ← CORS, request-id headers
//! ```
//!
//! Each stage hands the next a typed value (`Address`, `Op`, `Authenticated`) and writes
//! what it learned into the `Trace`, from which the log line and the inspector record
//! are built: nothing here re-reads the request to find out what a stage decided.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;

use crate::access::{self, Access};
use crate::addressing::{self, Address};
use crate::auth::{self, Attempt, AuthKind, Authenticated, Authenticator};
use crate::body::{self, ResponseBody};
use crate::clock::Clock;
use crate::config::Config;
use crate::error::{S3Error, S3ErrorCode};
use crate::form::FormUpload;
use crate::inspector::{self, Inspector};
use crate::ops::{self, Ctx, Input, Op};
use crate::request::S3Request;
use crate::storage::Storage;

/// How much of an unread body is read after an error before the connection is closed.
const DRAIN_LIMIT: usize = 1024 * 1024;
const DRAIN_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Everything a request needs, shared by all connections.
pub struct AppState {
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub auth: Authenticator,
    pub storage: Arc<dyn Storage>,
    pub inspector: Inspector,
    /// CompleteMultipartUpload answers, for clients that retry one.
    pub completions: ops::Completions,
    /// Slots for XML request documents being read and parsed (`Limits::max_xml_in_flight`).
    pub xml_slots: tokio::sync::Semaphore,
    /// Each bucket's access rules (owner and ACL, policy, ownership, Block Public
    /// Access), parsed once.
    pub rules: access::RulesCache,
    /// One lock per key whose versions are changing (`crate::versioning`).
    pub key_locks: crate::versioning::KeyLocks,
    /// Whether `/_strict/` is served (loopback listeners, or `--admin`).
    pub admin_routes: bool,
    next_id: AtomicU64,
    id_seed: u64,
}

impl AppState {
    pub fn new(
        config: Arc<Config>,
        clock: Arc<dyn Clock>,
        storage: Arc<dyn Storage>,
        admin_routes: bool,
    ) -> Self {
        let id_seed = clock.now().unix_timestamp_nanos() as u64;
        AppState {
            auth: Authenticator::new(config.clone(), clock.clone()),
            inspector: Inspector::new(config.inspector_capacity),
            completions: Default::default(),
            key_locks: Default::default(),
            rules: access::RulesCache::new(&config.default_account().canonical_id),
            xml_slots: tokio::sync::Semaphore::new(config.limits.max_xml_in_flight.max(1)),
            admin_routes,
            config,
            clock,
            storage,
            next_id: AtomicU64::new(1),
            id_seed,
        }
    }

    /// 16 upper-case hex digits, like S3's request ids; unique within a run.
    pub(crate) fn request_id(&self) -> String {
        let n = self.next_id.fetch_add(1, Ordering::Relaxed);
        // splitmix64: distinct inputs give distinct, well-spread outputs.
        let mut z = self
            .id_seed
            .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        // By table rather than `{:016X}`: every request makes one.
        hex::encode_upper((z ^ (z >> 31)).to_be_bytes())
    }
}

/// What the log line and the inspector report about a request, filled by each stage
/// from its own typed result as the request passes it.
#[derive(Default)]
struct Trace {
    /// What the request claimed, as authentication read it.
    attempt: Option<Attempt>,
    /// Whether authentication passed (so a later failure is the payload's or the
    /// operation's).
    authenticated: bool,
    op: Option<&'static str>,
    /// The addressed bucket, for the CORS headers of the response.
    bucket: Option<String>,
    addressing: Option<&'static str>,
    /// An STS request's refusal (STS answers in its own XML, not as an `S3Error`).
    sts_refusal: Option<crate::sts::StsError>,
}

impl Trace {
    fn auth(&self) -> Option<AuthKind> {
        self.attempt.as_ref().map(|a| a.kind)
    }

    fn access_key(&self) -> Option<&str> {
        self.attempt.as_ref().and_then(|a| a.access_key.as_deref())
    }
}

/// What the respond stage needs of the request, kept before the request moves on.
struct Sent {
    method: Method,
    path: String,
    origin: Option<String>,
    /// `Access-Control-Request-Method`: S3 matches an actual request's CORS rule by it
    /// when present (LocalStack's recorded "get-wrong-op" case), else by the method.
    cors_method: Option<String>,
    expect_continue: bool,
}

impl Sent {
    fn of(parts: &http::request::Parts) -> Sent {
        let text = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        Sent {
            method: parts.method.clone(),
            path: parts.uri.path().to_string(),
            origin: text(http::header::ORIGIN.as_str()),
            cors_method: text(http::header::ACCESS_CONTROL_REQUEST_METHOD.as_str()),
            expect_continue: parts
                .headers
                .get(http::header::EXPECT)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue")),
        }
    }
}

/// Serves one request. Never fails: every error becomes an S3 error response.
pub async fn handle(
    state: Arc<AppState>,
    req: Request<Incoming>,
    peer: Option<std::net::SocketAddr>,
) -> Result<Response<ResponseBody>, Infallible> {
    let started = Instant::now();
    let request_id = state.request_id();
    let (parts, incoming) = req.into_parts();
    let sent = Sent::of(&parts);
    if state.admin_routes && sent.path.starts_with(inspector::PREFIX) {
        let host = parts.headers.get(http::header::HOST).map(|h| h.as_bytes());
        return Ok(crate::admin::route(&state, &sent.method, &sent.path, host, incoming).await);
    }
    let slot = body::BodySlot::new(body::from_incoming(
        incoming,
        state.config.limits.body_idle_timeout,
    ));
    let mut trace = Trace::default();
    let result = run(&state, parts, slot.stream(), &request_id, peer, &mut trace).await;
    let (mut resp, failure) = match result {
        Ok(resp) => (resp, None),
        Err(err) => {
            let head = sent.method == Method::HEAD;
            let explain = !state.config.aws_exact_errors;
            let resp = crate::respond::to_response(&err, &request_id, head, explain);
            (resp, Some(err))
        }
    };
    if let (Some(origin), Some(bucket)) = (sent.origin.as_deref(), trace.bucket.as_deref())
        && sent.method != Method::OPTIONS
    {
        let cors_method = sent.cors_method.as_deref().unwrap_or(sent.method.as_str());
        add_cors_headers(&state, bucket, origin, cors_method, &mut resp).await;
    }
    let headers = resp.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        headers.insert(crate::header_names::X_AMZ_REQUEST_ID, id.clone());
        headers.insert(crate::header_names::X_AMZ_ID_2, id);
    }
    headers.insert(http::header::SERVER, HeaderValue::from_static("strict-s3"));
    // The server's clock, not hyper's system-time Date, so a moved clock shows here too.
    if let Some(date) = crate::dates::date_header(state.clock.now()) {
        headers.insert(http::header::DATE, date);
    }
    // An error may leave the body partly unread: read the rest (bounded) so the client
    // gets this answer and can reuse the connection; past the bound, say the connection
    // closes, so the client does not send its next request into the rest of this body.
    if failure.is_some()
        && !slot
            .drain(DRAIN_LIMIT, DRAIN_TIME, sent.expect_continue)
            .await
    {
        headers.insert(http::header::CONNECTION, HeaderValue::from_static("close"));
    }
    let failure = failure.as_ref();
    log(&sent, &resp, failure, &trace, &request_id, started);
    let record = record(&state, sent, &resp, failure, trace, request_id, started);
    state.inspector.push(record);
    Ok(resp)
}

/// What the inspector keeps of a request.
fn record(
    state: &AppState,
    sent: Sent,
    resp: &Response<ResponseBody>,
    failure: Option<&S3Error>,
    trace: Trace,
    request_id: String,
    started: Instant,
) -> inspector::Record {
    let extra = |name: &str| {
        failure.and_then(|e| {
            e.extra
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        })
    };
    let signed = trace.auth().is_some_and(|a| a != AuthKind::Anonymous);
    let now = state.clock.now();
    let sts = trace.sts_refusal.as_ref();
    inspector::Record {
        request_id,
        time: now,
        method: sent.method,
        path: sent.path,
        addressing: trace.addressing,
        auth: trace.auth().map(AuthKind::as_str),
        access_key: trace.access_key().map(str::to_string),
        operation: trace.op,
        verdict: if failure.is_some() || sts.is_some() {
            "refused"
        } else {
            "accepted"
        },
        status: resp.status().as_u16(),
        code: failure.map(|e| e.code.as_str()).or(sts.map(|e| e.code)),
        message: failure
            .map(|e| e.message.to_string())
            .or(sts.map(|e| e.message.clone())),
        reason: failure
            .and_then(|e| e.reason.clone())
            .or(sts.and_then(|e| e.reason.clone())),
        canonical_request: extra("CanonicalRequest"),
        string_to_sign: extra("StringToSign"),
        window: trace
            .attempt
            .as_ref()
            .and_then(|a| a.window)
            .map(|w| inspector::Window::new(w, now)),
        checks: inspector::checks(failure, signed, trace.authenticated),
        duration_ms: started.elapsed().as_secs_f64() * 1000.0,
    }
}

fn log(
    sent: &Sent,
    resp: &Response<ResponseBody>,
    failure: Option<&S3Error>,
    trace: &Trace,
    request_id: &str,
    started: Instant,
) {
    use crate::escape::for_log;
    use tracing::Level;
    let status = resp.status().as_u16();
    let auth = trace.auth().map_or("-", AuthKind::as_str);
    let op = trace.op.unwrap_or("-");
    // Tenths of a millisecond by integer arithmetic: float formatting was a tenth of the
    // line's cost.
    let tenths = (started.elapsed().as_micros() + 50) / 100;
    let ms = format_args!("{}.{}", tenths / 10, tenths % 10);
    // Everything the request chose (its path, the key it names, values quoted in the
    // message or the reason) goes through `for_log`: one request, one line.
    let (method, path) = (&sent.method, for_log(&sent.path));
    if let (None, Some(e)) = (failure, &trace.sts_refusal) {
        let reason = e.reason.as_deref().map(for_log);
        crate::logs::request(
            Level::WARN,
            format_args!(
                "{request_id} {method} {path} → {status} {} auth={auth} op={op}: {}{}{} {ms}ms",
                e.code,
                for_log(&e.message),
                if reason.is_some() { " — " } else { "" },
                reason.as_deref().unwrap_or(""),
            ),
        );
        return;
    }
    match failure {
        None => crate::logs::request(
            Level::INFO,
            format_args!(
                "{request_id} {method} {path} → {status} {op} auth={auth} key={} {ms}ms",
                for_log(trace.access_key().unwrap_or("-")),
            ),
        ),
        Some(e) => {
            let reason = e.reason.as_deref().map(for_log);
            crate::logs::request(
                Level::WARN,
                format_args!(
                    "{request_id} {method} {path} → {status} {} auth={auth} op={op}: {}{}{} {ms}ms",
                    e.code.as_str(),
                    for_log(&e.message),
                    if reason.is_some() { " — " } else { "" },
                    reason.as_deref().unwrap_or(""),
                ),
            )
        }
    }
}

async fn run(
    state: &AppState,
    parts: http::request::Parts,
    incoming: body::ByteStream,
    request_id: &str,
    peer: Option<std::net::SocketAddr>,
    trace: &mut Trace,
) -> Result<Response<ResponseBody>, S3Error> {
    let req = S3Request::new(
        parts.method,
        parts.uri.path(),
        parts.uri.query(),
        parts.headers,
        request_id.to_string(),
    )?;
    check_header_size(&req, state.config.limits.max_header_bytes)?;
    let mut addr: Address = addressing::resolve(
        &req,
        &state.config.domains,
        state.config.limits.max_key_bytes,
    )?;
    // The bucket's region, which the credential scope must name (see `regions`).
    // GetBucketLocation is answered whatever the region signed: it is how a client
    // finds the region out (SDKs send it signed for us-east-1).
    let location = matches!(addr.target, addressing::Target::Bucket(_))
        && req.method == Method::GET
        && req.has_query("location");
    if let Some(bucket) = addr.bucket().filter(|_| !location) {
        addr.region = state.storage.bucket(bucket).await.ok().map(|b| b.region);
    }
    trace.bucket = addr.bucket().map(str::to_string);
    trace.addressing = Some(match addr.style {
        addressing::Style::Path => "path-style",
        addressing::Style::VirtualHosted => "virtual-hosted",
    });
    if crate::sts::is_sts(&req, &addr) {
        let (resp, outcome) = crate::sts::handle(state, &req, incoming, peer).await;
        trace.op = Some(outcome.action.unwrap_or("STS"));
        trace.attempt = Some(Attempt {
            kind: auth::detect(&req),
            access_key: outcome.access_key.map(Arc::from),
            window: None,
        });
        trace.authenticated = outcome.refusal.is_none();
        trace.sts_refusal = outcome.refusal;
        return Ok(resp);
    }
    if req.method == Method::OPTIONS {
        trace.op = Some("Preflight");
        return ops::cors::preflight(&*state.storage, &req, &addr).await;
    }
    // Routed before authentication, so a refused request still shows what it asked for;
    // a routing error is answered only after authentication and access (S3's order).
    let op = ops::route(&req, &addr);
    trace.op = op.as_ref().ok().map(Op::name);
    let (authenticated, input) = authenticate(state, &req, &addr, &op, incoming, trace).await?;
    trace.authenticated = true;
    // The actions the operation needs, and the policies of the buckets they name.
    let access = access_for(state, &req, &addr, op.as_ref().ok(), &authenticated, peer).await?;
    authorize(&req, &addr, op.as_ref().ok(), &authenticated, &access).await?;
    let op = op?;
    let ctx = Ctx {
        req: &req,
        addr: &addr,
        auth: &authenticated,
        access: &access,
        storage: &*state.storage,
        config: &state.config,
        clock: &*state.clock,
        completions: &state.completions,
        xml_slots: &state.xml_slots,
        rules: &state.rules,
        key_locks: &state.key_locks,
    };
    let result = ops::dispatch(&ctx, op, input).await;
    hide_missing_key(result, op, &access)
}

/// The caller's `Access`: the rules of the buckets the request names (the addressed
/// one, and a copy's source), one cached lookup each, and the ACLs of the objects it
/// reads where ACLs count (from the store's index).
async fn access_for(
    state: &AppState,
    req: &S3Request,
    addr: &Address,
    op: Option<&Op<'_>>,
    who: &Authenticated,
    peer: Option<std::net::SocketAddr>,
) -> Result<Access, S3Error> {
    let source = ops::copy_source(req);
    let mut buckets = Vec::new();
    let source_bucket = source.as_ref().map(|(b, _)| b.as_str());
    for bucket in addr.bucket().into_iter().chain(source_bucket) {
        if !buckets.iter().any(|(b, _)| b == bucket)
            && let Some(r) = state.rules.get(&*state.storage, bucket).await?
        {
            buckets.push((bucket.to_string(), r));
        }
    }
    let mut objects = Vec::new();
    let read = op.and_then(Op::object_read);
    // The tags of the object acted on, only when a policy reads s3:ExistingObjectTag.
    let wants_tags = read.is_some()
        && access::condition_keys(who, &buckets)
            .iter()
            .any(|k| k.starts_with(access::EXISTING_TAG));
    let mut existing_tags = None;
    if let (true, Some((bucket, key))) = (wants_tags, read) {
        match state.storage.head_object(bucket, key).await {
            Ok(meta) => existing_tags = Some(meta.attrs.tags),
            Err(e) if e.code == S3ErrorCode::NoSuchKey => {}
            Err(e) => return Err(e),
        }
    }
    let copied = source.as_ref().filter(|_| op.is_some_and(Op::copies));
    for (bucket, key) in read
        .into_iter()
        .chain(copied.map(|(b, k)| (b.as_str(), k.as_str())))
    {
        let Some((_, rules)) = buckets.iter().find(|(b, _)| b == bucket) else {
            continue;
        };
        if !rules.acls_enabled() {
            continue;
        }
        match state.storage.head_object(bucket, key).await {
            Ok(meta) => {
                if let Some(acl) = meta.attrs.stored_acl(rules.owner()) {
                    objects.push((access::object_arn(bucket, key), acl));
                }
            }
            Err(e) if e.code == S3ErrorCode::NoSuchKey => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Access::new(
        who,
        req,
        state.clock.now(),
        peer,
        buckets,
        objects,
        existing_tags.as_deref(),
    ))
}

/// GET or HEAD of a missing key is 404 only for a caller that may list the bucket;
/// anyone else gets 403, so keys cannot be probed (the GetObject and HeadObject
/// "Permissions" sections; docs/permissions-evidence.md §5), anonymous callers too.
fn hide_missing_key(
    result: Result<Response<ResponseBody>, S3Error>,
    op: Op<'_>,
    access: &Access,
) -> Result<Response<ResponseBody>, S3Error> {
    if let (Err(e), Op::Object { bucket, .. }) = (&result, op)
        && e.code == S3ErrorCode::NoSuchKey
        && op.reads_object()
        && let Err(denied) = access.check("s3:ListBucket", &access::bucket_arn(bucket))
    {
        return Err(denied.reason(format!(
            "the key does not exist, and without s3:ListBucket on {bucket} S3 answers 403 rather than say so"
        )));
    }
    result
}

/// The authentication stage: the request's own signature (header or query), then for a
/// POST form the form's: its head is read here, because the form's fields carry its
/// signature, and its file is left for the operation to stream. What each step read is
/// recorded in the trace, refused or not.
async fn authenticate(
    state: &AppState,
    req: &S3Request,
    addr: &Address,
    op: &Result<Op<'_>, S3Error>,
    incoming: body::ByteStream,
    trace: &mut Trace,
) -> Result<(Authenticated, Input), S3Error> {
    let mut attempt = Attempt::default();
    let result = state.auth.authenticate_recorded(req, addr, &mut attempt);
    trace.attempt = Some(attempt);
    let authenticated = result?;
    let body = auth::verified_body(incoming, authenticated.payload.clone());
    if !op.as_ref().is_ok_and(Op::is_post_form) {
        return Ok((authenticated, Input::Body(body)));
    }
    let upload = FormUpload::read(req, body).await?;
    let mut attempt = Attempt::default();
    let region = state.auth.expected_region(addr);
    let result = state.auth.verify_post(&upload.form, region, &mut attempt);
    trace.attempt = Some(attempt);
    Ok((result?, Input::Form(Box::new(upload))))
}

/// An actual request with `Origin` gets the headers of the bucket's first CORS rule that
/// allows its origin and method, on success and error responses alike, so the browser can
/// read S3's answer (or its error). No rule, no headers: the browser then refuses.
async fn add_cors_headers(
    state: &AppState,
    bucket: &str,
    origin: &str,
    method: &str,
    resp: &mut Response<ResponseBody>,
) {
    let Ok(Some(config)) = ops::cors::load(&*state.storage, bucket).await else {
        return;
    };
    if let Some(rule) = config.actual_rule(origin, method) {
        crate::cors::apply(resp, crate::cors::actual_headers(rule, origin));
    }
}

/// S3 limits the request header section to 8 KB.
fn check_header_size(req: &S3Request, max: usize) -> Result<(), S3Error> {
    let size = req.header_bytes();
    if size > max {
        return Err(S3Error::new(S3ErrorCode::RequestHeaderSectionTooLarge)
            .extra("MaxSizeAllowed", max.to_string())
            .reason(format!("the request headers are {size} bytes")));
    }
    Ok(())
}

/// The access stage: every action the operation requires (`ops::required`), decided
/// by `Access`. An anonymous request to a bucket that does not exist gets 404
/// NoSuchBucket, as on S3 (a real answer in minio#11293); an anonymous POST form has no
/// signature to stand on. A routing error (an unknown sub-resource) has no action to
/// check: a signed one is answered as such after this stage, an anonymous one is 403
/// as S3 answers anonymous requests, never 501: authentication and authorization come
/// before "not implemented".
async fn authorize(
    req: &S3Request,
    addr: &Address,
    op: Option<&Op<'_>>,
    who: &Authenticated,
    access: &Access,
) -> Result<(), S3Error> {
    let anonymous = who.kind == AuthKind::Anonymous;
    if !anonymous && access.unrestricted() {
        return Ok(());
    }
    if anonymous {
        if let Some(bucket) = addr.bucket()
            && access.rules(bucket).is_none()
        {
            return Err(S3Error::no_such_bucket(bucket));
        }
        match op {
            None => return Err(auth::error::anonymous()),
            Some(op) if op.is_post_form() => {
                return Err(auth::error::anonymous().reason("the form carries no policy signature"));
            }
            Some(_) => {}
        }
    }
    let required = op.map(|op| ops::required(op, req)).unwrap_or_default();
    if anonymous && required.is_empty() {
        return Err(auth::error::anonymous());
    }
    if access.reads_request_tags() && op.is_some_and(ops::checked_with_body_tags) {
        return Ok(());
    }
    for (action, resource) in &required {
        access.check(action, resource)?;
    }
    Ok(())
}
