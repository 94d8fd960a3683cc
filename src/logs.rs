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
//!
//! The one line per request is formatted here ([`request`]) instead of by tracing's fmt
//! layer, in exactly the layout that layer writes (the text and JSON forms, checked
//! against it in the tests below). Why: that layer's per-event work (visiting fields,
//! escaping each character a second time, formatting the time through `fmt`) was 6 % of a
//! presigned GET's CPU under `scripts/bench.sh`; the request's text is already escaped by
//! [`crate::escape::for_log`]. Whether the line is written still follows the `--log`
//! filter (`tracing::enabled!`), and without [`init`] (strict-s3 embedded as a library)
//! the line is an ordinary tracing event for the embedder's subscriber.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::io::{self, BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing::Level;
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
    // A second `init` (not done by the binary) keeps the first sink, as tracing keeps
    // its first global subscriber.
    let _ = SINK.set(Sink {
        out: out.clone(),
        format,
    });
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

/// Where [`request`] writes when [`init`] ran: the same buffer and format as tracing's.
static SINK: OnceLock<Sink> = OnceLock::new();

struct Sink {
    out: Shared,
    format: Format,
}

/// The target of request lines, as filters name it (`--log strict_s3::request=warn`).
pub const REQUEST_TARGET: &str = "strict_s3::request";

/// Logs one request's line at `level` (`INFO` for an answered request, `WARN` for a
/// refused one): straight into the log buffer when [`init`] installed it, else as a
/// tracing event.
pub fn request(level: Level, message: fmt::Arguments<'_>) {
    let warn = level == Level::WARN;
    let Some(sink) = SINK.get() else {
        if warn {
            tracing::warn!(target: REQUEST_TARGET, "{message}");
        } else {
            tracing::info!(target: REQUEST_TARGET, "{message}");
        }
        return;
    };
    let enabled = if warn {
        tracing::enabled!(target: REQUEST_TARGET, Level::WARN)
    } else {
        tracing::enabled!(target: REQUEST_TARGET, Level::INFO)
    };
    if !enabled {
        return;
    }
    thread_local! {
        /// One line's bytes, reused: formatting takes no allocation once it has grown.
        static LINE: RefCell<String> = const { RefCell::new(String::new()) };
    }
    LINE.with_borrow_mut(|line| {
        line.clear();
        // Writing into a String cannot fail.
        let _ = format_line(line, sink.format, level, now(), message);
        let mut out = Locked(sink.out.lock());
        let _ = out.write_all(line.as_bytes());
    });
}

/// The wall-clock time of a log line, as tracing's fmt layer stamps its lines (the log
/// says when something happened on this machine, whatever the server's [`crate::clock`]
/// says).
#[allow(clippy::disallowed_methods)]
fn now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}

/// One line as tracing-subscriber's `Full` (text) or `Json` format writes an event with
/// only a message, no target and no spans, ending in `\n`.
fn format_line(
    line: &mut String,
    format: Format,
    level: Level,
    time: std::time::SystemTime,
    message: fmt::Arguments<'_>,
) -> fmt::Result {
    let warn = level == Level::WARN;
    match format {
        Format::Text { ansi: false } => {
            write_time(line, time);
            line.push_str(if warn { "  WARN " } else { "  INFO " });
            line.write_fmt(message)?;
        }
        Format::Text { ansi: true } => {
            line.push_str("\x1b[2m");
            write_time(line, time);
            line.push_str(if warn {
                "\x1b[0m \x1b[33m WARN\x1b[0m "
            } else {
                "\x1b[0m \x1b[32m INFO\x1b[0m "
            });
            line.write_fmt(message)?;
        }
        Format::Json => {
            line.push_str("{\"timestamp\":\"");
            write_time(line, time);
            line.push_str(if warn {
                "\",\"level\":\"WARN\",\"fields\":{\"message\":"
            } else {
                "\",\"level\":\"INFO\",\"fields\":{\"message\":"
            });
            // The message is formatted first, then JSON-escaped by serde_json (as
            // tracing's JSON layer does).
            let text = match message.as_str() {
                Some(s) => std::borrow::Cow::Borrowed(s),
                None => std::borrow::Cow::Owned(message.to_string()),
            };
            let escaped = serde_json::to_string(&*text).map_err(|_| fmt::Error)?;
            line.push_str(&escaped);
            line.push_str("}}");
        }
    }
    line.push('\n');
    Ok(())
}

/// `2026-12-04T03:45:39.536242Z`: UTC, microseconds, as tracing-subscriber's default timer.
/// The calendar part is formatted once a second per thread; the microseconds by hand.
fn write_time(line: &mut String, time: std::time::SystemTime) {
    thread_local! {
        /// The last second formatted, and its text up to the `.`.
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    SECOND.with_borrow_mut(|(second, text)| {
        if *second != since.as_secs() {
            let t = time::OffsetDateTime::from(time);
            text.clear();
            let _ = write!(
                text,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second(),
            );
            *second = since.as_secs();
        }
        line.push_str(text);
    });
    let micros = since.subsec_micros();
    let mut digits = [b'0'; 6];
    let mut n = micros;
    for d in digits.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    line.extend(digits.iter().map(|&d| char::from(d)));
    line.push('Z');
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What tracing-subscriber's fmt layer, set up as [`init`] sets it up, writes for
    /// one event with `message` at `level`.
    fn tracing_line(format: Format, level: Level, message: &str) -> String {
        #[derive(Clone, Default)]
        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl Write for Capture {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        impl<'a> MakeWriter<'a> for Capture {
            type Writer = Capture;
            fn make_writer(&'a self) -> Capture {
                self.clone()
            }
        }
        let capture = Capture::default();
        let builder = tracing_subscriber::fmt()
            .with_target(false)
            .with_writer(capture.clone());
        let emit = || {
            if level == Level::WARN {
                tracing::warn!(target: REQUEST_TARGET, "{message}");
            } else {
                tracing::info!(target: REQUEST_TARGET, "{message}");
            }
        };
        match format {
            Format::Json => tracing::subscriber::with_default(builder.json().finish(), emit),
            Format::Text { ansi } => {
                tracing::subscriber::with_default(builder.with_ansi(ansi).finish(), emit)
            }
        }
        String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
    }

    /// The line with its timestamp replaced, so two lines written at different moments
    /// compare by everything else.
    fn without_time(line: &str) -> String {
        let start = line.find("20").expect("a timestamp");
        let end = start + line[start..].find('Z').expect("the timestamp's Z") + 1;
        format!("{}<time>{}", &line[..start], &line[end..])
    }

    #[test]
    fn lines_are_byte_for_byte_what_tracing_writes() {
        let message =
            "4E1ED7E02FEB8D04 GET /b/k \"q\" \\x1b → 400 InvalidURI auth=- op=-: é — why 0.3ms";
        for format in [
            Format::Text { ansi: false },
            Format::Text { ansi: true },
            Format::Json,
        ] {
            for level in [Level::INFO, Level::WARN] {
                let mut ours = String::new();
                format_line(&mut ours, format, level, now(), format_args!("{message}")).unwrap();
                let theirs = tracing_line(format, level, message);
                assert_eq!(
                    without_time(&ours),
                    without_time(&theirs),
                    "{format:?} {level}"
                );
                assert!(ours.ends_with('\n') && ours.matches('\n').count() == 1);
            }
        }
    }

    #[test]
    fn time_is_utc_with_microseconds() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::new(1_796_355_939, 536_242_999);
        let mut line = String::new();
        write_time(&mut line, t);
        assert_eq!(line, "2026-12-04T03:45:39.536242Z");
        let mut line = String::new();
        write_time(&mut line, std::time::UNIX_EPOCH);
        assert_eq!(line, "1970-01-01T00:00:00.000000Z");
        // The same second again (the cached calendar part) and the one after it.
        for (nanos, want) in [(7_000, "00.000007Z"), (999_999_999, "00.999999Z")] {
            let mut line = String::new();
            write_time(
                &mut line,
                std::time::UNIX_EPOCH + std::time::Duration::new(0, nanos),
            );
            assert_eq!(line, format!("1970-01-01T00:00:{want}"));
        }
        let mut line = String::new();
        write_time(
            &mut line,
            std::time::UNIX_EPOCH + std::time::Duration::new(61, 5),
        );
        assert_eq!(line, "1970-01-01T00:01:01.000000Z");
    }
}
