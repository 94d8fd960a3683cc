//! The server's log output: one line per request, written to stdout at once while the
//! server is not busy, and through a shared buffer flushed every [`FLUSH_EVERY`] when it
//! is.
//!
//! Why: profiling a presigned GET under load (perf, `scripts/bench.sh`) showed the
//! per-line `write(2)` of the request log at 12 % of a request's CPU. A buffer shared by
//! every worker and written by a small flusher thread costs a mutex and a `memcpy` per
//! line. A dedicated writer thread fed by a channel (tracing-appender's design) was
//! measured too and was slower on two cores: the hand-off wakes a third thread per burst.
//!
//! But a test that reads the log right after its response must find the line there
//! (the browser and client suites do), so buffering starts only past
//! [`INLINE_LINES`] lines in one [`FLUSH_EVERY`] window (1,600 lines a second): below
//! that each line is written as it is logged, above it a line waits at most
//! [`FLUSH_EVERY`]. Under load (tens of thousands of requests a second) that is still one
//! `write(2)` per hundreds of lines. Everything is flushed when the [`LogGuard`] is
//! dropped (the end of `main`), so nothing logged before a clean exit is lost.

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long a logged line may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// The shared buffer; a line longer than this is written through at once.
const BUFFER: usize = 64 * 1024;
/// Lines per [`FLUSH_EVERY`] window that are written as they come (see the module doc).
pub const INLINE_LINES: u32 = 32;

/// The format of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Human-readable lines; `ansi` adds colour codes (only for a person at a terminal).
    Text { ansi: bool },
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber writing to stdout with `filter` (an `EnvFilter`
/// directive such as `info` or `strict_s3=debug`). Keep the guard for the life of the
/// program: dropping it stops the flusher and flushes what is left.
pub fn init(filter: &str, format: Format) -> LogGuard {
    let out = Shared(Arc::new(Mutex::new(Out {
        stdout: BufWriter::with_capacity(BUFFER, io::stdout()),
        lines: 0,
    })));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_target(false)
        .with_writer(out.clone());
    match format {
        Format::Json => logs.json().init(),
        Format::Text { ansi } => logs.with_ansi(ansi).init(),
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flusher = {
        let (out, stop) = (out.clone(), stop.clone());
        std::thread::Builder::new()
            .name("strict-s3-logs".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(FLUSH_EVERY);
                    let mut out = out.lock();
                    out.lines = 0;
                    let _ = out.stdout.flush();
                }
            })
            .ok()
    };
    LogGuard { out, stop, flusher }
}

/// Flushes the log buffer when dropped.
pub struct LogGuard {
    out: Shared,
    stop: Arc<AtomicBool>,
    flusher: Option<JoinHandle<()>>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(flusher) = self.flusher.take() {
            let _ = flusher.join();
        }
        let _ = self.out.lock().stdout.flush();
    }
}

/// The buffer every worker writes its lines into.
#[derive(Clone)]
struct Shared(Arc<Mutex<Out>>);

struct Out {
    stdout: BufWriter<Stdout>,
    /// Lines logged in this [`FLUSH_EVERY`] window.
    lines: u32,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Out> {
        // A panic while holding the lock leaves at worst a partial line in the buffer.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One line's writer: tracing formats the line elsewhere and writes it here in one call.
pub struct Locked<'a>(MutexGuard<'a, Out>);

impl Write for Locked<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.stdout.write(buf)?;
        self.line_written()?;
        Ok(n)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.stdout.write_all(buf)?;
        self.line_written()
    }

    /// Not flushed on request: `Locked::line_written` and the flusher thread decide.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Locked<'_> {
    /// The first [`INLINE_LINES`] lines of a window go out at once; later ones wait for
    /// the flusher.
    fn line_written(&mut self) -> io::Result<()> {
        self.0.lines = self.0.lines.saturating_add(1);
        if self.0.lines <= INLINE_LINES {
            self.0.stdout.flush()
        } else {
            Ok(())
        }
    }
}

impl<'a> MakeWriter<'a> for Shared {
    type Writer = Locked<'a>;

    fn make_writer(&'a self) -> Locked<'a> {
        Locked(self.lock())
    }
}
