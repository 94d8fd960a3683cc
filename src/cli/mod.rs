//! The `strict-s3` subcommands, beside the server (which runs when none is given):
//!
//! - `presign`: presigned URLs and POST forms, signed with this crate's own SigV4 code
//!   (`auth::sigv4::canonical`, [`crate::auth::signing`]) and the configured key.
//! - `explain`: a request checked offline by the server's own [`crate::auth::Authenticator`],
//!   with the canonical request, the string to sign, the times and the verdict laid out.
//!
//! Both take the server's `--access-key`/`--secret-key`/`--region` (and their environment
//! fallbacks): the binary resolves them into one [`Config`] for the server and for these.

pub mod explain;
pub mod presign;

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::config::{Config, MAX_EXPIRES_SECS};

/// Exit status when `explain` finds the request would be refused.
pub const EXIT_REFUSED: u8 = 1;
/// Exit status for usage errors (as clap uses for its own).
pub const EXIT_USAGE: u8 = 2;

/// The subcommands of `strict-s3`.
#[derive(clap::Subcommand, Debug)]
pub enum Command {
    /// Print a presigned URL (get, put, delete, head, upload-part) or a signed POST form.
    Presign(presign::PresignArgs),
    /// Check a request offline, as the server would, and explain the verdict.
    ///
    /// Exit status: 0 when the server would accept the request, 1 when it would refuse
    /// it, 2 on usage errors.
    Explain(explain::ExplainArgs),
}

/// Runs a subcommand against the resolved configuration (credentials, region, domains).
pub fn run(command: Command, config: &Config) -> ExitCode {
    let result = match command {
        Command::Presign(args) => presign::run(args, config),
        Command::Explain(args) => explain::run(args, config),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("strict-s3: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `900`, `90s`, `15m`, `2h`, `7d` → seconds; at least 1 and at most 604800 (7 days),
/// the longest a SigV4 presigned URL may last.
pub fn parse_duration(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "{s:?} is not a duration: write seconds (900) or a number with s, m, h or d (15m, 2h, 7d)"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a duration: expected e.g. 900, 15m, 2h or 7d"))?;
    let secs = n.saturating_mul(factor);
    if secs == 0 {
        return Err("the expiry must be at least 1 second".into());
    }
    if secs > MAX_EXPIRES_SECS {
        return Err(format!(
            "{s} is {secs} s: a SigV4 signature lasts at most 7 days (7d = {MAX_EXPIRES_SECS} s)"
        ));
    }
    Ok(secs)
}

/// `1048576`, `512KB`, `10MB`, `1GB` (units are powers of 1024; `KiB`, `MiB`, `GiB` and
/// `K`, `M`, `G` too) → bytes, at most 5 GiB (S3's limit for a POST upload).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let i = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(i);
    let factor: u64 = match unit.trim().to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KB" | "KIB" => 1 << 10,
        "M" | "MB" | "MIB" => 1 << 20,
        "G" | "GB" | "GIB" => 1 << 30,
        _ => {
            return Err(format!(
                "{s:?} is not a size: write bytes (1048576) or a number with KB, MB or GB (10MB)"
            ));
        }
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a size: expected e.g. 1048576, 512KB or 10MB"))?;
    let bytes = n.saturating_mul(factor);
    const MAX: u64 = 5 << 30;
    if bytes > MAX {
        return Err(format!(
            "{s} is {bytes} bytes: a POST upload may be at most 5 GB ({MAX} bytes)"
        ));
    }
    Ok(bytes)
}

pub use crate::dates::{amz_date, iso};

/// A span of seconds in words: `14m 32s`, `2h 0m 5s`, `3d 4h 0m`.
pub fn human_span(secs: i64) -> String {
    let s = secs.unsigned_abs();
    let (d, h, m, sec) = (s / 86_400, s / 3600 % 24, s / 60 % 60, s % 60);
    if d > 0 {
        format!("{d}d {h}h {m}m")
    } else if h > 0 {
        format!("{h}h {m}m {sec}s")
    } else if m > 0 {
        format!("{m}m {sec}s")
    } else {
        format!("{sec}s")
    }
}

/// `s3://bucket/key`: the bucket and the key exactly as written (not decoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Url {
    pub bucket: String,
    pub key: String,
}

impl S3Url {
    pub fn parse(s: &str) -> Result<S3Url, String> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("{s:?} is not an S3 URL: write s3://BUCKET/KEY"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        crate::addressing::check_bucket_name(bucket).map_err(|e| {
            e.reason
                .unwrap_or_else(|| format!("{bucket:?} is not a valid bucket name"))
        })?;
        Ok(S3Url {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

/// An `http(s)://host[:port]` endpoint. A default port (`:80` for http, `:443` for https)
/// is dropped, as HTTP clients leave it out of the `Host` header they send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: &'static str,
    /// `host[:port]`: the `Host` header the request will carry.
    pub authority: String,
}

impl Endpoint {
    pub fn parse(s: &str) -> Result<Endpoint, String> {
        let (scheme, rest) = if let Some(r) = s.strip_prefix("http://") {
            ("http", r)
        } else if let Some(r) = s.strip_prefix("https://") {
            ("https", r)
        } else {
            return Err(format!(
                "--endpoint {s:?} must start with http:// or https://"
            ));
        };
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        if !path.trim_end_matches('/').is_empty() {
            return Err(format!(
                "--endpoint {s:?} has a path: give only http(s)://HOST[:PORT] (URLs are path-style)"
            ));
        }
        if authority.is_empty() || authority.contains(['@', '?', '#', ' ']) {
            return Err(format!("--endpoint {s:?} has no valid host"));
        }
        let default_port = if scheme == "http" { ":80" } else { ":443" };
        let authority = authority
            .strip_suffix(default_port)
            .unwrap_or(authority)
            .to_ascii_lowercase();
        Ok(Endpoint { scheme, authority })
    }

    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }
}

/// ANSI styles when stdout is a terminal (and `NO_COLOR` is unset); plain text otherwise.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    on: bool,
}

impl Style {
    pub fn for_stdout() -> Style {
        Style {
            on: std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn plain() -> Style {
        Style { on: false }
    }

    fn paint(&self, code: &str, s: &str) -> String {
        if self.on {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    pub fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub fn dim(&self, s: &str) -> String {
        self.paint("2", s)
    }
    pub fn green(&self, s: &str) -> String {
        self.paint("1;32", s)
    }
    pub fn red(&self, s: &str) -> String {
        self.paint("1;31", s)
    }
    pub fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub fn cyan(&self, s: &str) -> String {
        self.paint("36", s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("900"), Ok(900));
        assert_eq!(parse_duration("15m"), Ok(900));
        assert_eq!(parse_duration("2h"), Ok(7200));
        assert_eq!(parse_duration("7d"), Ok(604_800));
        assert_eq!(parse_duration("30s"), Ok(30));
        assert!(parse_duration("8d").unwrap_err().contains("604800"));
        assert!(parse_duration("604801").is_err());
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("15 minutes").is_err());
        assert!(parse_duration("m").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("10MB"), Ok(10 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("5GB"), Ok(5 << 30));
        assert!(parse_size("6GB").is_err());
        assert!(parse_size("10 parsecs").is_err());
    }

    #[test]
    fn urls_and_endpoints() {
        assert_eq!(
            S3Url::parse("s3://bkt/a/b c.txt").unwrap(),
            S3Url {
                bucket: "bkt".into(),
                key: "a/b c.txt".into()
            }
        );
        assert_eq!(S3Url::parse("s3://bkt").unwrap().key, "");
        assert!(S3Url::parse("http://bkt/k").is_err());
        assert!(S3Url::parse("s3://Bad_Bucket/k").is_err());
        let e = Endpoint::parse("http://LOCALHOST:80/").unwrap();
        assert_eq!(e.base(), "http://localhost");
        assert_eq!(
            Endpoint::parse("https://s3.example.com:9000")
                .unwrap()
                .authority,
            "s3.example.com:9000"
        );
        assert!(Endpoint::parse("localhost:9000").is_err());
        assert!(Endpoint::parse("http://h/prefix").is_err());
    }

    #[test]
    fn spans() {
        assert_eq!(human_span(5), "5s");
        assert_eq!(human_span(-872), "14m 32s");
        assert_eq!(human_span(7205), "2h 0m 5s");
        assert_eq!(human_span(3 * 86_400 + 4 * 3600), "3d 4h 0m");
    }
}
