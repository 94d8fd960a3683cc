//! File-descriptor exhaustion (issue 10): under a low `RLIMIT_NOFILE` and more connections
//! than it allows, the server stays idle (it used a whole core before), its log stays short
//! (1,182,378 lines in 3 s before), and a new client is served as soon as others close.
//!
//! The binary runs with its descriptor limit set to 64 (soft and hard, so it cannot raise
//! it), once with its derived connection cap (16: idle connections are shed to make room)
//! and once with a cap above what the limit allows (accept fails with EMFILE and backs off).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod common;

use common::Process;

const BIN: &str = env!("CARGO_BIN_EXE_strict-s3");
const FD_LIMIT: u64 = 64;

struct Server {
    process: Process,
    host: String,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let mut cmd = Command::new(BIN);
        cmd.args(["--addr", "127.0.0.1:0", "--in-memory", "--bucket", "bkt"])
            .args(extra)
            .env("RUST_LOG", "info")
            .stderr(Stdio::null());
        // SAFETY: setrlimit is async-signal-safe; nothing else runs in the child before exec.
        unsafe {
            cmd.pre_exec(|| {
                let lim = libc::rlimit {
                    rlim_cur: FD_LIMIT as libc::rlim_t,
                    rlim_max: FD_LIMIT as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let process = Process::spawn(&mut cmd);
        let host = process.host.clone();
        Server { process, host }
    }

    /// User plus system CPU time so far.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.process.pid())).unwrap();
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .unwrap()
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        // SAFETY: sysconf has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
        Duration::from_millis(ticks * 1000 / hz)
    }

    fn log_lines(&self) -> Vec<String> {
        self.process.lines.lock().unwrap().clone()
    }
}

/// One GET on a new connection; its status line, within `within`.
async fn served(host: &str, within: Duration) -> Option<String> {
    tokio::time::timeout(within, async {
        let mut s = TcpStream::connect(host).await.ok()?;
        s.write_all(
            format!("GET /bkt HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n").as_bytes(),
        )
        .await
        .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.ok()?;
        String::from_utf8_lossy(&buf)
            .lines()
            .next()
            .map(str::to_string)
    })
    .await
    .ok()
    .flatten()
}

/// Opens `n` connections that never send anything.
async fn idle_connections(host: &str, n: usize) -> Vec<TcpStream> {
    let mut open = Vec::new();
    for _ in 0..n {
        if let Ok(s) = TcpStream::connect(host).await {
            open.push(s);
        }
    }
    open
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_cap_idle_connections_make_room() {
    let s = Server::start(&[]);
    let idle = idle_connections(&s.host, 100).await;
    assert_eq!(idle.len(), 100, "the backlog takes them all");
    let cpu0 = s.cpu();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let status = served(&s.host, Duration::from_secs(5)).await;
    let used = s.cpu() - cpu0;
    assert_eq!(
        status.as_deref(),
        Some("HTTP/1.1 403 Forbidden"),
        "a new client is served"
    );
    assert!(used < Duration::from_millis(500), "CPU {used:?} over 2 s");
    let accept_errors = s
        .log_lines()
        .iter()
        .filter(|l| l.contains("accept failed"))
        .count();
    assert_eq!(accept_errors, 0, "{:?}", s.log_lines());
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_the_server_backs_off_and_recovers() {
    let s = Server::start(&["--max-connections", "1000"]);
    let mut idle = idle_connections(&s.host, 100).await;
    let cpu0 = s.cpu();
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let used = s.cpu() - cpu0;
    assert!(
        used < Duration::from_millis(500),
        "CPU {used:?} over {:?}",
        t0.elapsed()
    );
    let lines = s.log_lines();
    let accept_errors: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("accept failed"))
        .collect();
    assert!(
        !accept_errors.is_empty(),
        "descriptors did run out: {lines:?}"
    );
    assert!(
        accept_errors.len() <= 2,
        "one line per 5 s at most: {accept_errors:?}"
    );
    assert!(
        accept_errors[0].contains("Too many open files"),
        "{accept_errors:?}"
    );
    // Others close: new clients are served again.
    idle.truncate(20);
    let status = served(&s.host, Duration::from_secs(10)).await;
    assert_eq!(status.as_deref(), Some("HTTP/1.1 403 Forbidden"));
    drop(idle);
}
