//! The `strict-s3` command: command line → Config, logging, signals → shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use strict_s3::config::{DEFAULT_ACCESS_KEY, DEFAULT_REGION, DEFAULT_SECRET_KEY};
use strict_s3::{Config, Credential, Server, StorageConfig};

/// A local S3-compatible server that checks every request the way AWS S3 does.
///
/// With no options it serves http://127.0.0.1:9000, stores objects under ./data and accepts
/// the AWS documentation's example key pair in region us-east-1.
#[derive(Parser, Debug)]
#[command(name = "strict-s3", version, about, long_about)]
struct Cli {
    /// Address to listen on; port 0 picks a free port (printed at start).
    #[arg(long, env = "S3_ADDR", default_value = "127.0.0.1:9000")]
    addr: SocketAddr,

    /// Directory for buckets and objects (created if missing).
    #[arg(long, env = "S3_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,

    /// Keep everything in memory instead (lost at exit).
    #[arg(long, conflicts_with = "data_dir")]
    in_memory: bool,

    /// The region this endpoint serves; credential scopes must name it.
    /// [env: S3_REGION, or AWS_REGION]
    #[arg(long, global = true)]
    region: Option<String>,

    /// Access key id accepted by the server.
    /// [env: AWS_ACCESS_KEY_ID, or S3_ACCESS_KEY] [default: AKIAIOSFODNN7EXAMPLE]
    #[arg(long, global = true)]
    access_key: Option<String>,

    /// Secret key of --access-key.
    /// [env: AWS_SECRET_ACCESS_KEY, or S3_SECRET_KEY] [default: the AWS docs' example secret]
    #[arg(long, global = true)]
    secret_key: Option<String>,

    /// Session token that requests with this key must carry (x-amz-security-token).
    /// [env: AWS_SESSION_TOKEN]
    #[arg(long, global = true)]
    session_token: Option<String>,

    /// A TOML configuration file: accounts, IAM users and their policies, buckets and
    /// their rules (see strict-s3.example.toml). Options on the command line add to it.
    /// A file with a mistake stops the server (exit 2) naming the line and the field.
    #[arg(long, env = "STRICT_S3_CONFIG", value_name = "FILE", global = true)]
    config: Option<PathBuf>,

    /// An IAM user of the default account (repeatable): its access key and secret, and
    /// the JSON file of its identity policy. Requests it signs (presigned URLs and POST
    /// forms included) may do only what the policy allows; without a policy, nothing.
    /// The --access-key credential is the account's root user, who may do everything.
    #[arg(
        long = "user",
        value_name = "NAME:ACCESS_KEY:SECRET[:POLICY_FILE]",
        global = true
    )]
    users: Vec<String>,

    /// The root user of another account (repeatable). Its account id and canonical id
    /// are derived from the access key (the same on every run, printed at start); it
    /// owns the buckets it creates, and reaches other accounts' buckets only where their
    /// bucket policy or ACL grants it.
    #[arg(long = "account", value_name = "ACCESS_KEY:SECRET", global = true)]
    accounts: Vec<String>,

    /// Create buckets as S3 did before April 2023: ACLs enabled (Object Ownership
    /// ObjectWriter, no ownership controls set) and no Block Public Access. Without it,
    /// buckets are created as S3 creates them now: BucketOwnerEnforced (x-amz-acl other
    /// than bucket-owner-full-control is AccessControlListNotSupported) and all four
    /// Block Public Access settings on.
    #[arg(long, global = true)]
    legacy_bucket_defaults: bool,

    /// Seed data: each subdirectory of DIR is a bucket (created at start if missing), and
    /// its files are objects (key: the path below it; content type from the extension).
    #[arg(long, value_name = "DIR")]
    seed: Option<PathBuf>,

    /// Create this bucket at start if missing (repeatable). [env: S3_BUCKET]
    #[arg(long = "bucket", value_name = "NAME")]
    buckets: Vec<String>,

    /// Base domain for virtual-hosted-style requests: BUCKET.DOMAIN (repeatable).
    #[arg(
        long = "domain",
        value_name = "DOMAIN",
        default_value = "localhost",
        global = true
    )]
    domains: Vec<String>,

    /// Verify x-amz-checksum-* query parameters of presigned PUTs, as Cloudflare R2, Garage
    /// and SeaweedFS do (AWS S3 does not: by default they are accepted unverified).
    #[arg(long)]
    strict_query_checksums: bool,

    /// Refuse Signature Version 2 as AWS does on buckets created after 24 June 2020 (by
    /// default it is verified and accepted: SDKs still emit it for custom endpoints).
    #[arg(long, global = true)]
    reject_sigv2: bool,

    /// Give the buckets created at start (--bucket) a permissive CORS configuration for
    /// this origin, e.g. http://localhost:3000 (repeatable). A local-dev shortcut AWS does
    /// not have: on AWS, set the configuration with PutBucketCors.
    #[arg(long = "cors-allow-origin", value_name = "ORIGIN")]
    cors_allow_origins: Vec<String>,

    /// Send error responses exactly as AWS does: without strict-s3's explanation (the
    /// x-strict-s3-reason header and the <Explanation> element). The log keeps it.
    #[arg(long)]
    aws_exact_errors: bool,

    /// How many recent requests the inspector at /_strict/ keeps.
    #[arg(long, value_name = "N", default_value_t = 200)]
    inspect_buffer: usize,

    /// Serve the inspector (/_strict/) even when listening on a non-loopback address.
    #[arg(long)]
    admin: bool,

    /// Connections served at once (0: derived from the open-file limit, which the server
    /// first raises to its hard limit). Past it, new connections wait in the listen backlog
    /// while the longest-idle keep-alive connections are closed to make room.
    #[arg(long, value_name = "N", default_value_t = 0)]
    max_connections: usize,

    /// A host name the inspector answers for, besides localhost, loopback addresses and the
    /// --domain names (repeatable). Other Host headers are refused, so a web page that points
    /// its own name at 127.0.0.1 (DNS rebinding) cannot read it.
    #[arg(long = "admin-host", value_name = "NAME")]
    admin_hosts: Vec<String>,

    /// Shift the server's clock by this many seconds (negative allowed), to see presigned
    /// URLs expire or requests be refused as skewed without waiting. For tests.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    clock_offset: i64,

    /// Start with the clock standing still at this moment (RFC 3339, e.g.
    /// 2026-01-15T12:00:00Z), for tests that need the same "now" on every run. Move it
    /// with PUT /_strict/clock.
    #[arg(long, value_name = "RFC3339", value_parser = parse_rfc3339, conflicts_with = "clock_offset")]
    clock_fixed: Option<time::OffsetDateTime>,

    /// Log filter (tracing EnvFilter syntax), e.g. "debug". [env: RUST_LOG]
    #[arg(long, default_value = "info")]
    log: String,

    /// Log lines as text (colours only on a terminal, and never with NO_COLOR set) or as
    /// one JSON object a line, for CI log tools.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    /// Once the server accepts connections, write its endpoint (http://127.0.0.1:PORT)
    /// and a newline to this file, so a script can wait for it without polling the port
    /// (the file appears whole: it is written beside and renamed). Removed at shutdown.
    #[arg(long, value_name = "PATH")]
    ready_file: Option<PathBuf>,

    /// Without a subcommand, strict-s3 serves. The credential, region, domain and
    /// --reject-sigv2 options apply to the subcommands too.
    #[command(subcommand)]
    command: Option<strict_s3::cli::Command>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

/// Writes `endpoint` to `path` in one step: a reader never sees a partial file.
fn write_ready_file(path: &std::path::Path, endpoint: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, format!("{endpoint}\n"))?;
    std::fs::rename(&tmp, path)
}

fn parse_rfc3339(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .map_err(|e| format!("not an RFC 3339 time (e.g. 2026-01-15T12:00:00Z): {e}"))
}

fn env(names: &[&str]) -> Option<String> {
    env_named(names).map(|(_, v)| v)
}

/// Where the secret and the session token came from, for the banner: it prints neither
/// unless the secret is the AWS documentation's example (a real key must not end up in a
/// CI log).
struct SecretSources {
    secret: &'static str,
    token: Option<&'static str>,
}

/// The first of `names` that is set (and not empty), with its value.
fn env_named<'a>(names: &[&'a str]) -> Option<(&'a str, String)> {
    names.iter().find_map(|n| {
        std::env::var(n)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| (*n, v))
    })
}

impl Cli {
    fn secret_sources(&self) -> SecretSources {
        let secret = if self.secret_key.is_some() {
            "--secret-key"
        } else {
            env_named(&["AWS_SECRET_ACCESS_KEY", "S3_SECRET_KEY"]).map_or("the default", |(n, _)| n)
        };
        let token = if self.session_token.is_some() {
            Some("--session-token")
        } else {
            env_named(&["AWS_SESSION_TOKEN"]).map(|(n, _)| n)
        };
        SecretSources { secret, token }
    }

    /// The configuration, and the address to listen on. A config file's address,
    /// region and storage apply where `given` says the command line and the environment
    /// left them alone; its accounts, users and buckets add to theirs.
    fn into_config(self, given: Given) -> Result<(Config, SocketAddr), String> {
        let region_given = self.region.is_some() || env(&["S3_REGION", "AWS_REGION"]).is_some();
        let mut addr = self.addr;
        let seed = self.seed.clone();
        let access_key = self
            .access_key
            .or_else(|| env(&["AWS_ACCESS_KEY_ID", "S3_ACCESS_KEY"]));
        let secret_key = self
            .secret_key
            .or_else(|| env(&["AWS_SECRET_ACCESS_KEY", "S3_SECRET_KEY"]));
        let mut credential = match (access_key, secret_key) {
            (None, None) => Credential::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY),
            (Some(a), Some(s)) => Credential::new(a, s),
            (Some(_), None) => {
                return Err(
                    "--access-key needs --secret-key (or AWS_SECRET_ACCESS_KEY / S3_SECRET_KEY)"
                        .into(),
                );
            }
            (None, Some(_)) => {
                return Err(
                    "--secret-key needs --access-key (or AWS_ACCESS_KEY_ID / S3_ACCESS_KEY)".into(),
                );
            }
        };
        credential.session_token = self
            .session_token
            .or_else(|| env(&["AWS_SESSION_TOKEN"]))
            .map(strict_s3::config::Secret::new);
        let mut buckets = self.buckets;
        if let Some(b) = env(&["S3_BUCKET"])
            && !buckets.contains(&b)
        {
            buckets.push(b);
        }
        let file = self.config.clone();
        let mut config = Config {
            region: self
                .region
                .or_else(|| env(&["S3_REGION", "AWS_REGION"]))
                .unwrap_or_else(|| DEFAULT_REGION.to_string()),
            credentials: std::iter::once(Ok(credential))
                .chain(self.users.iter().map(|u| parse_user(u)))
                .chain(self.accounts.iter().map(|a| parse_account(a)))
                .collect::<Result<Vec<_>, String>>()?,
            domains: self.domains,
            storage: if self.in_memory {
                StorageConfig::Memory
            } else {
                StorageConfig::Disk(self.data_dir)
            },
            buckets: buckets.into_iter().map(Into::into).collect(),
            strict_query_checksums: self.strict_query_checksums,
            reject_sigv2: self.reject_sigv2,
            cors_allow_origins: self.cors_allow_origins,
            aws_exact_errors: self.aws_exact_errors,
            legacy_bucket_defaults: self.legacy_bucket_defaults,
            inspector_capacity: self.inspect_buffer,
            admin: self.admin,
            admin_hosts: self.admin_hosts,
            limits: strict_s3::Limits {
                max_connections: self.max_connections,
                ..Default::default()
            },
            ..Config::default()
        };
        if let Some(dir) = seed {
            let specs =
                strict_s3::config::seed_buckets(&dir).map_err(|e| format!("--seed: {e}"))?;
            for spec in specs {
                config.buckets.retain(|b| b.name != spec.name);
                config.buckets.push(spec);
            }
        }
        if let Some(path) = file {
            let refused = |e| format!("the config file is refused: {e}");
            let file = strict_s3::config::ConfigFile::load(&path).map_err(refused)?;
            let settings = file.settings().map_err(refused)?;
            if let (Some(a), false) = (settings.addr, given.addr) {
                addr = a;
            }
            if let (Some(r), false) = (settings.region, region_given) {
                config.region = r;
            }
            if let (Some(s), false) = (settings.storage, given.storage) {
                config.storage = s;
            }
            file.apply(&mut config).map_err(refused)?;
        }
        Ok((config, addr))
    }
}

/// Which settings the command line or the environment gave (they win over the file).
#[derive(Debug, Clone, Copy, Default)]
struct Given {
    addr: bool,
    storage: bool,
}

impl Given {
    fn of(matches: &clap::ArgMatches) -> Given {
        use clap::parser::ValueSource;
        let given = |id: &str| {
            matches!(
                matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        };
        Given {
            addr: given("addr"),
            storage: given("data_dir") || given("in_memory"),
        }
    }
}

/// Registers the shutdown signals now and returns a future that completes on the
/// first of them. Registering before the banner is printed matters: the server
/// answers from its own tasks as soon as it is bound, and a SIGTERM that arrives
/// before a lazily created handler exists would kill the process with status 15
/// instead of shutting it down gracefully.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn banner(config: &Config, endpoint: &str, sources: &SecretSources) -> String {
    let cred = &config.credentials[0];
    let storage = match &config.storage {
        StorageConfig::Disk(d) => format!("{} (on disk)", d.display()),
        StorageConfig::Memory => "in memory (lost at exit)".to_string(),
    };
    let buckets = if config.buckets.is_empty() {
        "(none yet)".to_string()
    } else {
        config
            .buckets
            .iter()
            .map(|b| b.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Only the documentation's example pair is printed: anything else may be a real key.
    let example = &*cred.access_key == DEFAULT_ACCESS_KEY
        && cred.secret_key.expose() == DEFAULT_SECRET_KEY
        && cred.session_token.is_none();
    let (secret_line, export_secret) = if example {
        let sk = cred.secret_key.expose();
        (sk.to_string(), format!("AWS_SECRET_ACCESS_KEY='{sk}'"))
    } else {
        (
            format!("(from {}; not shown)", sources.secret),
            "AWS_SECRET_ACCESS_KEY='<the secret you configured>'".to_string(),
        )
    };
    let defaults = if config.legacy_bucket_defaults {
        "buckets are created with ACLs enabled and no Block Public Access (--legacy-bucket-defaults)"
    } else {
        "buckets are created as S3 makes them: ACLs disabled, Block Public Access on"
    };
    let mut others = String::new();
    for c in config.credentials.iter().skip(1) {
        if let strict_s3::identity::Identity::Root(a) = &*c.identity {
            others.push_str(&format!(
                "\n\x20 account     {} is account {} (canonical id {})",
                c.access_key, a.id, a.canonical_id
            ));
        }
    }
    let token_line = match (&cred.session_token, sources.token) {
        (Some(_), Some(from)) => format!("\n\x20 session     (token from {from}; not shown)"),
        _ => String::new(),
    };
    format!(
        "strict-s3 listening on {endpoint}\n\
         \x20 region      {region}\n\
         \x20 access key  {ak}\n\
         \x20 secret key  {secret_line}{token_line}\n\
         \x20 storage     {storage}\n\
         \x20 buckets     {buckets}; {defaults}{others}\n\
         \x20 inspector   {endpoint}/_strict/   (why each request was accepted or refused)\n\
         \n\
         Try it with the AWS CLI:\n\
         \x20 export AWS_ACCESS_KEY_ID={ak} {export_secret} AWS_DEFAULT_REGION={region}\n\
         \x20 aws --endpoint-url {endpoint} s3 mb s3://my-bucket\n\
         \x20 aws --endpoint-url {endpoint} s3 cp README.md s3://my-bucket/\n\
         \x20 aws --endpoint-url {endpoint} s3 presign s3://my-bucket/README.md --expires-in 300\n",
        region = config.region,
        ak = cred.access_key,
    )
}

/// `ACCESS_KEY:SECRET`: the root user of another account, its ids derived from the key.
fn parse_account(spec: &str) -> Result<Credential, String> {
    match spec.split_once(':') {
        Some((ak, sk)) if !ak.is_empty() && !sk.is_empty() => Ok(Credential::root_of(
            strict_s3::identity::Account::derived(ak),
            ak,
            sk,
        )),
        _ => Err(format!("--account {spec:?}: write it as ACCESS_KEY:SECRET")),
    }
}

/// `NAME:ACCESS_KEY:SECRET[:POLICY_FILE]`: an IAM user whose policy is read and checked
/// now, so a mistake in it stops the server at start rather than deny requests later.
fn parse_user(spec: &str) -> Result<Credential, String> {
    let mut parts = spec.splitn(4, ':');
    let (Some(name), Some(access_key), Some(secret)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(format!(
            "--user {spec:?}: write it as NAME:ACCESS_KEY:SECRET or NAME:ACCESS_KEY:SECRET:POLICY_FILE"
        ));
    };
    if name.is_empty() || access_key.is_empty() || secret.is_empty() {
        return Err(format!(
            "--user {spec:?}: the name, access key and secret must not be empty"
        ));
    }
    let policy = match parts.next() {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--user {name}: cannot read the policy file {path}: {e}"))?;
            Some(
                strict_s3::policy::Policy::parse_identity(&text)
                    .map_err(|e| format!("--user {name}: the policy in {path} is refused: {e}"))?,
            )
        }
    };
    Ok(Credential::user(name, access_key, secret, policy))
}

#[tokio::main]
async fn main() -> ExitCode {
    strict_s3::connections::tune_allocator();
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let given = Given::of(&matches);
    let mut cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.exit(),
    };
    if let Some(command) = cli.command.take() {
        return match cli.into_config(given) {
            Ok((config, _)) => strict_s3::cli::run(command, &config),
            Err(e) => {
                eprintln!("strict-s3: {e}");
                ExitCode::from(2)
            }
        };
    }
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| cli.log.clone());
    // Colour codes only for a person at a terminal (https://no-color.org).
    let format = match cli.log_format {
        LogFormat::Json => strict_s3::logs::Format::Json,
        LogFormat::Text => {
            use std::io::IsTerminal;
            let ansi = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            strict_s3::logs::Format::Text { ansi }
        }
    };
    // Held to the end of `main`: dropping it flushes the buffered log lines.
    let _logs = strict_s3::logs::init(&filter, format);
    // A server may use the descriptors its hard limit allows; the connection cap is then
    // derived from the raised limit.
    let _ = strict_s3::connections::raise_fd_limit();
    let clock = std::sync::Arc::new(strict_s3::AdjustableClock::new(
        time::Duration::seconds(cli.clock_offset),
        cli.clock_fixed,
    ));
    let sources = cli.secret_sources();
    let ready_file = cli.ready_file.clone();
    let (config, addr) = match cli.into_config(given) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("strict-s3: {e}");
            return ExitCode::from(2);
        }
    };
    let shown = config.clone();
    let stop = shutdown_signal();
    let server = match Server::builder()
        .config(config)
        .addr(addr)
        .clock(clock)
        .start()
        .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("strict-s3: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", banner(&shown, &server.endpoint(), &sources));
    if let Some(path) = &ready_file
        && let Err(e) = write_ready_file(path, &server.endpoint())
    {
        eprintln!(
            "strict-s3: cannot write --ready-file {}: {e}",
            path.display()
        );
        server.shutdown().await;
        return ExitCode::FAILURE;
    }
    server.run_until(stop).await;
    if let Some(path) = &ready_file {
        let _ = std::fs::remove_file(path);
    }
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
