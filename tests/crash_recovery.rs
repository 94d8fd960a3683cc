//! CompleteMultipartUpload survives a kill at any point (issue 10): the binary is stopped
//! mid-completion — at each of the commit's crash points, and by SIGKILL at random moments —
//! and restarted on the same directory. Every time, the upload is either completed (the
//! object whole, the upload gone) or not (no object, the upload listed with all its parts,
//! and completing it again works); never both, never a torn object, and no temp files left.
//!
//! The binary is `STRICT_S3_BIN` when set (CI runs this file against the release build
//! too), else the one cargo built for this test.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

fn binary() -> String {
    std::env::var("STRICT_S3_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_strict-s3").to_string())
}

struct Server {
    process: Process,
    host: String,
}

impl Server {
    fn start(dir: &Path, failpoint: Option<&str>) -> Server {
        let mut cmd = Command::new(binary());
        cmd.args(["--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir)
            .args(["--bucket", "bkt", "--access-key", AK, "--secret-key", SK])
            .args(["--region", REGION])
            .env("RUST_LOG", "warn")
            .env_remove("STRICT_S3_FAILPOINT")
            .stderr(Stdio::null());
        if let Some(fp) = failpoint {
            cmd.env("STRICT_S3_FAILPOINT", fp);
        }
        let process = Process::spawn(&mut cmd);
        let host = process.host.clone();
        Server { process, host }
    }

    async fn send(&self, req: Raw) -> Resp {
        let now = std::time::SystemTime::from(strict_s3::Clock::now(&strict_s3::SystemClock));
        send_raw(&self.host, &req.sign(&self.host, SK, REGION, now)).await
    }

    fn kill(self) {
        self.process.kill();
    }
}

/// Sends a request to a server that may die meanwhile: `None` when no answer came.
async fn try_send_full(host: &str, req: &Raw) -> Option<Resp> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(host).await.ok()?;
    let mut head = format!("{} {} HTTP/1.1\r\n", req.method, req.target);
    for (n, v) in &req.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        req.body.len()
    ));
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(&req.body).await.ok()?;
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf).await;
    // A whole head came back: the answer (a cut one is no answer).
    buf.windows(4)
        .any(|w| w == b"\r\n\r\n")
        .then(|| parse_response(&buf, false))
}

async fn try_send(host: &str, req: &Raw) -> Option<u16> {
    try_send_full(host, req).await.map(|r| r.status)
}

fn part(n: u8, size: usize) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(n))
        .collect()
}

/// An upload of two parts (5 MiB and a tail); returns its id and the completion body.
async fn prepare(s: &Server, key: &str) -> (String, String, Vec<u8>) {
    let created = s
        .send(Raw::new("POST", &format!("/bkt/{key}?uploads")))
        .await;
    let id = created.xml("UploadId").expect("upload id");
    let parts = [part(1, 5 * 1024 * 1024), part(2, 1000)];
    let mut xml = String::from("<CompleteMultipartUpload>");
    for (i, data) in parts.iter().enumerate() {
        let n = i + 1;
        let resp = s
            .send(Raw::new("PUT", &format!("/bkt/{key}?partNumber={n}&uploadId={id}")).body(data))
            .await;
        assert_eq!(resp.status, 200, "part {n}: {}", resp.body_text());
        let etag = resp.header("etag").unwrap().to_string();
        xml.push_str(&format!(
            "<Part><PartNumber>{n}</PartNumber><ETag>{etag}</ETag></Part>"
        ));
    }
    xml.push_str("</CompleteMultipartUpload>");
    (id, xml, parts.concat())
}

/// What the store holds for `key` after a restart: the object's body, if any, and the
/// upload ids listed for it with their part counts.
async fn state(s: &Server, key: &str) -> (Option<Vec<u8>>, Vec<(String, usize)>) {
    let got = s.send(Raw::new("GET", &format!("/bkt/{key}"))).await;
    let body = (got.status == 200).then_some(got.body);
    assert!(body.is_some() || got.status == 404, "GET: {}", got.status);
    let listed = s.send(Raw::new("GET", "/bkt?uploads")).await.body_text();
    let mut uploads = Vec::new();
    for chunk in listed.split("<Upload>").skip(1) {
        if chunk.contains(&format!("<Key>{key}</Key>")) {
            let id = chunk
                .split("<UploadId>")
                .nth(1)
                .unwrap()
                .split('<')
                .next()
                .unwrap();
            let parts = s
                .send(Raw::new("GET", &format!("/bkt/{key}?uploadId={id}")))
                .await
                .body_text()
                .matches("<Part>")
                .count();
            uploads.push((id.to_string(), parts));
        }
    }
    (body, uploads)
}

fn temp_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("tmp")).map_or(0, |d| d.count())
}

/// Checks the all-or-nothing outcome; if the completion did not happen, completes it now.
async fn check_after_restart(
    s: &Server,
    dir: &Path,
    key: &str,
    id: &str,
    xml: &str,
    whole: &[u8],
) -> bool {
    assert_eq!(temp_files(dir), 0, "temp files left after the restart");
    match state(s, key).await {
        (Some(body), uploads) => {
            assert!(body == whole, "a completed object is whole");
            assert!(
                uploads.is_empty(),
                "completed, yet still listed: {uploads:?}"
            );
            true
        }
        (None, uploads) => {
            assert_eq!(
                uploads,
                vec![(id.to_string(), 2)],
                "not completed: the upload and its parts remain"
            );
            let again = s
                .send(Raw::new("POST", &format!("/bkt/{key}?uploadId={id}")).body(xml.as_bytes()))
                .await;
            assert_eq!(again.status, 200, "completing again: {}", again.body_text());
            let (body, uploads) = state(s, key).await;
            assert!(body.as_deref() == Some(whole) && uploads.is_empty());
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_killed_at_each_crash_point_is_finished_or_rolled_back() {
    for (failpoint, completed) in [("complete:recorded", false), ("complete:placed", true)] {
        let dir = tempfile::tempdir().unwrap();
        let s = Server::start(dir.path(), Some(failpoint));
        let (id, xml, whole) = prepare(&s, "obj").await;
        let host = s.host.clone();
        let now = std::time::SystemTime::from(strict_s3::Clock::now(&strict_s3::SystemClock));
        let complete = Raw::new("POST", &format!("/bkt/obj?uploadId={id}"))
            .body(xml.as_bytes())
            .sign(&host, SK, REGION, now);
        // The server aborts mid-request: no answer comes.
        let answered = try_send(&host, &complete).await;
        assert_eq!(
            answered, None,
            "{failpoint}: the server stopped mid-completion"
        );
        s.kill();
        let s = Server::start(dir.path(), None);
        let done = check_after_restart(&s, dir.path(), "obj", &id, &xml, &whole).await;
        assert_eq!(done, completed, "{failpoint}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completions_killed_at_random_moments_are_all_or_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut outcomes = (0, 0);
    for round in 0..12u64 {
        let s = Server::start(dir.path(), None);
        let key = format!("obj{round}");
        let (id, xml, whole) = prepare(&s, &key).await;
        let host = s.host.clone();
        let now = std::time::SystemTime::from(strict_s3::Clock::now(&strict_s3::SystemClock));
        let complete = Raw::new("POST", &format!("/bkt/{key}?uploadId={id}"))
            .body(xml.as_bytes())
            .sign(&host, SK, REGION, now);
        let request = tokio::spawn(async move { try_send(&host, &complete).await });
        // From just after the request is sent to well past the completion's commit.
        tokio::time::sleep(Duration::from_micros(500 + round * 12_000)).await;
        let pid = s.process.pid();
        let _ = Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
        let _ = request.await;
        s.kill();
        let s = Server::start(dir.path(), None);
        if check_after_restart(&s, dir.path(), &key, &id, &xml, &whole).await {
            outcomes.0 += 1;
        } else {
            outcomes.1 += 1;
        }
        s.kill();
    }
    println!(
        "completed before the kill: {}, rolled back: {}",
        outcomes.0, outcomes.1
    );
}

/// A request that fails leaves no temp file behind (a long-running server must not
/// accumulate them; the restart cleanup is for crashes only).
#[tokio::test]
async fn failed_writes_leave_no_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::on_disk(dir.path()).await;
    let sign = |r: Raw| r.sign(&s.host, SK, REGION, s.clock_now());
    s.put("/bkt/exists", b"x").await;
    // A body that does not match its Content-MD5.
    let resp = s
        .send(&sign(
            Raw::new("PUT", "/bkt/bad-md5")
                .header("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==")
                .body(b"not empty"),
        ))
        .await;
    resp.assert_error(400, "BadDigest", None);
    assert_eq!(temp_files(dir.path()), 0, "after BadDigest");
    // A completion refused by its condition after the object was written to a temp file.
    let created = s.send(&sign(Raw::new("POST", "/bkt/exists?uploads"))).await;
    let id = created.xml("UploadId").unwrap();
    let part = s
        .send(&sign(
            Raw::new("PUT", &format!("/bkt/exists?partNumber=1&uploadId={id}")).body(b"tail"),
        ))
        .await;
    let etag = part.header("etag").unwrap().to_string();
    let xml = format!(
        "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>{etag}</ETag></Part></CompleteMultipartUpload>"
    );
    let resp = s
        .send(&sign(
            Raw::new("POST", &format!("/bkt/exists?uploadId={id}"))
                .header("if-none-match", "*")
                .body(xml.as_bytes()),
        ))
        .await;
    resp.assert_error(412, "PreconditionFailed", None);
    assert_eq!(temp_files(dir.path()), 0, "after a refused completion");
    // The refusal left the upload as it was: it completes without the condition.
    let resp = s
        .send(&sign(
            Raw::new("POST", &format!("/bkt/exists?uploadId={id}")).body(xml.as_bytes()),
        ))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(temp_files(dir.path()), 0);
}

/// Writers that put small objects (segment records; one of them also large ones, object
/// files) and delete, killed by SIGKILL at random moments (issue 14): after every restart
/// each key holds exactly its last acknowledged write or the one in flight at the kill —
/// never an older one, never a torn body — and writing goes on. (A kill leaves the page
/// cache, so this checks the ordering and recovery rules, not the syncs; see
/// `group_sync`.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_writes_killed_at_random_moments_keep_every_acknowledged_one() {
    const WRITERS: usize = 12;
    let dir = tempfile::tempdir().unwrap();
    let mut next = [0u64; WRITERS];
    // What each key may hold at the next restart.
    let mut allowed: Vec<Vec<Option<Vec<u8>>>> = vec![vec![None]; WRITERS];
    let (mut acked_total, mut in_flight_total) = (0, 0);
    for round in 0..9u64 {
        let s = Server::start(dir.path(), None);
        for (w, allowed) in allowed.iter_mut().enumerate() {
            *allowed = vec![observe(&s, w, allowed).await];
        }
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| tokio::spawn(writer(s.host.clone(), w, next[w])))
            .collect();
        tokio::time::sleep(Duration::from_millis(30 + round * 40)).await;
        let _ = Command::new("kill")
            .args(["-KILL", &s.process.pid().to_string()])
            .status();
        for (w, task) in writers.into_iter().enumerate() {
            let ended = task.await.unwrap();
            acked_total += ended.acked_count;
            if let Some(acked) = ended.acked {
                allowed[w] = vec![acked];
            }
            if let Some(in_flight) = ended.in_flight {
                in_flight_total += 1;
                allowed[w].push(in_flight);
            }
            next[w] = ended.next;
        }
        s.kill();
    }
    let s = Server::start(dir.path(), None);
    for (w, allowed) in allowed.iter().enumerate() {
        observe(&s, w, allowed).await;
    }
    assert_eq!(temp_files(dir.path()), 0);
    assert!(
        acked_total > 100,
        "only {acked_total} writes were acknowledged"
    );
    println!("acknowledged writes: {acked_total}, in flight at a kill: {in_flight_total}");
    s.kill();
}

/// The `n`th write of writer `w`: a body unique to (w, n), or a delete (every 7th).
/// Writer 0 makes every third body large (past the segment records: an object file).
fn write_of(w: usize, n: u64) -> Option<Vec<u8>> {
    if n % 7 == 6 {
        return None;
    }
    let len = if w == 0 && n.is_multiple_of(3) {
        300 * 1024
    } else {
        200 + (w * 131 + n as usize * 17) % 4000
    };
    let unit = format!("w{w}n{n};");
    Some(unit.repeat(len / unit.len() + 1).into_bytes())
}

struct WriterEnd {
    acked: Option<Option<Vec<u8>>>,
    acked_count: usize,
    in_flight: Option<Option<Vec<u8>>>,
    next: u64,
}

/// Writes `write_of(w, n)` to key `w{w}` for n = start, start + 1, … until the server dies.
async fn writer(host: String, w: usize, start: u64) -> WriterEnd {
    let path = format!("/bkt/w{w}");
    let mut end = WriterEnd {
        acked: None,
        acked_count: 0,
        in_flight: None,
        next: start,
    };
    loop {
        let write = write_of(w, end.next);
        let req = match &write {
            Some(body) => Raw::new("PUT", &path).body(body),
            None => Raw::new("DELETE", &path),
        };
        let now = std::time::SystemTime::from(strict_s3::Clock::now(&strict_s3::SystemClock));
        let req = req.sign(&host, SK, REGION, now);
        end.in_flight = Some(write.clone());
        end.next += 1;
        match try_send(&host, &req).await {
            Some(200 | 204) => {
                end.acked = Some(write);
                end.acked_count += 1;
                end.in_flight = None;
            }
            Some(status) => panic!("writer {w}: write {} answered {status}", end.next - 1),
            None => return end,
        }
    }
}

/// What key `w{w}` holds, checked to be one of `allowed`.
async fn observe(s: &Server, w: usize, allowed: &[Option<Vec<u8>>]) -> Option<Vec<u8>> {
    let got = s.send(Raw::new("GET", &format!("/bkt/w{w}"))).await;
    let held = match got.status {
        200 => Some(got.body),
        404 => None,
        other => panic!("GET w{w}: {other}"),
    };
    let describe = |v: &Option<Vec<u8>>| match v {
        Some(body) => format!(
            "{} bytes starting {:?}",
            body.len(),
            String::from_utf8_lossy(&body[..body.len().min(12)])
        ),
        None => "absent".to_string(),
    };
    assert!(
        allowed.contains(&held),
        "w{w} holds {}, expected one of {:?}",
        describe(&held),
        allowed.iter().map(describe).collect::<Vec<_>>()
    );
    held
}

/// Versioned overwrites and deletes killed at random moments (issue 15): after every
/// restart, each version the server acknowledged (by id) is still there with its body,
/// every version is listed once, and the key's current state is the last acknowledged
/// write or the one in flight at the kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versioned_writes_killed_at_random_moments_keep_every_acknowledged_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Vec<(String, Vec<u8>)> = Vec::new();
    let mut n = 0u64;
    {
        let s = Server::start(dir.path(), None);
        let doc = "<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>";
        let resp = s
            .send(Raw::new("PUT", "/bkt?versioning").body(doc.as_bytes()))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body_text());
        s.kill();
    }
    for round in 0..6u64 {
        let s = Server::start(dir.path(), None);
        check_versions(&s, &acked).await;
        let host = s.host.clone();
        let writes = tokio::spawn(async move {
            let mut done: Vec<(String, Vec<u8>)> = Vec::new();
            loop {
                n += 1;
                // Every fifth write is a delete (a marker); bodies alternate small and large.
                let body = match n % 5 {
                    0 => None,
                    k => Some(
                        format!("v{n};")
                            .repeat(if k == 1 { 40_000 } else { 50 })
                            .into_bytes(),
                    ),
                };
                let req = match &body {
                    Some(b) => Raw::new("PUT", "/bkt/doc").body(b),
                    None => Raw::new("DELETE", "/bkt/doc"),
                };
                let now =
                    std::time::SystemTime::from(strict_s3::Clock::now(&strict_s3::SystemClock));
                match try_send_full(&host, &req.sign(&host, SK, REGION, now)).await {
                    Some(r) if r.status == 200 || r.status == 204 => {
                        let id = r
                            .header("x-amz-version-id")
                            .expect("a version id")
                            .to_string();
                        done.push((id, body.unwrap_or_default()));
                    }
                    Some(r) => panic!("write {n}: {} {}", r.status, r.body_text()),
                    None => return (done, n),
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(40 + round * 60)).await;
        let _ = Command::new("kill")
            .args(["-KILL", &s.process.pid().to_string()])
            .status();
        let (done, next) = writes.await.unwrap();
        n = next;
        acked.extend(done);
        s.kill();
    }
    let s = Server::start(dir.path(), None);
    check_versions(&s, &acked).await;
    assert!(
        acked.len() > 20,
        "only {} versioned writes were acknowledged",
        acked.len()
    );
    println!("acknowledged versions: {}", acked.len());
    s.kill();
}

/// Every acknowledged version (a delete marker's body is empty) is listed once and
/// reads back as written, and the key reads as its latest listed version.
async fn check_versions(s: &Server, acked: &[(String, Vec<u8>)]) {
    let current = s.send(Raw::new("GET", "/bkt/doc")).await;
    let list = s.send(Raw::new("GET", "/bkt?versions&max-keys=1000")).await;
    assert_eq!(list.status, 200, "{}", list.body_text());
    let text = list.body_text();
    if let Some(i) = text.find("<IsLatest>true</IsLatest>") {
        let before = &text[..i];
        let id_at = before.rfind("<VersionId>").unwrap() + "<VersionId>".len();
        let latest = &before[id_at..id_at + before[id_at..].find('<').unwrap()];
        let is_marker = before.rfind("<DeleteMarker>") > before.rfind("<Version>");
        let got = match is_marker {
            true => (current.status, current.header("x-amz-delete-marker")),
            false => (current.status, None),
        };
        assert_eq!(
            got,
            if is_marker {
                (404, Some("true"))
            } else {
                (200, None)
            },
            "GET: {} {:?}; listing: {text}",
            current.body_text(),
            current.header("x-strict-s3-reason")
        );
        assert_eq!(current.header("x-amz-version-id"), Some(latest));
    }
    for (id, body) in acked {
        assert_eq!(
            text.matches(&format!("<VersionId>{id}</VersionId>"))
                .count(),
            1,
            "version {id} listed once"
        );
        let marker = text.contains(&format!(
            "<DeleteMarker><Key>doc</Key><VersionId>{id}</VersionId>"
        ));
        if marker {
            assert!(body.is_empty());
            continue;
        }
        let got = s
            .send(Raw::new("GET", &format!("/bkt/doc?versionId={id}")))
            .await;
        assert_eq!(got.status, 200, "version {id}: {}", got.body_text());
        assert!(got.body == *body, "version {id} reads back as written");
    }
}
