//! Server configuration and its documented defaults.
//!
//! The defaults reproduce the AWS documentation's worked examples: the example key pair
//! (`AKIAIOSFODNN7EXAMPLE`), region `us-east-1`, 15 minutes of allowed clock skew and a
//! 7-day limit on presigned URLs.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use crate::identity::{Account, Identity, Role};

mod bucket;
pub mod file;
pub use bucket::{BucketSpec, seed_buckets};
pub use file::{ConfigFile, ConfigFileError};

/// The AWS documentation's example access key.
pub const DEFAULT_ACCESS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
/// The AWS documentation's example secret key (not a real credential).
pub const DEFAULT_SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const DEFAULT_REGION: &str = "us-east-1";
/// S3 refuses header-signed requests whose time is more than 15 minutes off.
pub const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// `X-Amz-Expires` may be at most 7 days (604800 s).
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>
pub const MAX_EXPIRES_SECS: u64 = 604_800;

/// A secret that never shows up in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; only the signing code calls this.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// An access key the server accepts.
#[derive(Clone, Debug)]
pub struct Credential {
    /// Shared: every request authenticated with it names it, without a copy.
    pub access_key: std::sync::Arc<str>,
    pub secret_key: Secret,
    /// When set, requests with this key must carry this `x-amz-security-token`.
    pub session_token: Option<Secret>,
    /// Whose key it is (shared with every request it authenticates).
    pub identity: std::sync::Arc<Identity>,
    /// Temporary credentials (from STS): when they were issued and when they expire.
    pub lifetime: Option<Lifetime>,
}

/// The validity of temporary credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lifetime {
    pub issued_at: time::OffsetDateTime,
    pub expires_at: time::OffsetDateTime,
    /// Issued by GetSessionToken (which may then call only AssumeRole and
    /// GetCallerIdentity of STS) or by AssumeRole (a role session).
    pub from_session_token: bool,
}

impl Credential {
    /// A key of the default account's root user, who may do everything.
    pub fn new(access_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Credential {
            access_key: std::sync::Arc::from(access_key.into()),
            secret_key: Secret::new(secret_key),
            session_token: None,
            identity: std::sync::Arc::new(Identity::Root(Account::default_account())),
            lifetime: None,
        }
    }

    /// A key of the root user of `account` (another account, from `--account`).
    pub fn root_of(
        account: std::sync::Arc<Account>,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        Credential {
            identity: std::sync::Arc::new(Identity::Root(account)),
            ..Credential::new(access_key, secret_key)
        }
    }

    /// A key of an IAM user of the default account, limited to `policy` (none: nothing).
    pub fn user(
        name: impl Into<String>,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
        policy: Option<crate::policy::Policy>,
    ) -> Self {
        Self::user_of(
            Account::default_account(),
            name,
            access_key,
            secret_key,
            policy,
        )
    }

    /// A key of an IAM user of `account`.
    pub fn user_of(
        account: std::sync::Arc<Account>,
        name: impl Into<String>,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
        policy: Option<crate::policy::Policy>,
    ) -> Self {
        Credential {
            identity: std::sync::Arc::new(Identity::User {
                account,
                name: name.into(),
                policy: policy.map(std::sync::Arc::new),
            }),
            ..Credential::new(access_key, secret_key)
        }
    }
}

/// Size limits, each explicit and tested. Values follow S3's documented limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Total request header bytes (S3: 8 KB, `RequestHeaderSectionTooLarge` beyond).
    pub max_header_bytes: usize,
    /// User metadata (`x-amz-meta-*` names and values): 2 KB (`MetadataTooLarge`).
    pub max_user_metadata_bytes: usize,
    /// Keys: 1024 bytes of UTF-8 (`KeyTooLongError`).
    pub max_key_bytes: usize,
    /// Single PUT: 5 GiB (`EntityTooLarge`).
    pub max_object_size: u64,
    /// XML request documents (DeleteObjects, CreateBucketConfiguration): 2 MiB.
    pub max_xml_body: usize,
    /// XML request documents read and parsed at once; more wait, unread. With
    /// `max_xml_body` and the element bounds this caps the memory XML bodies may hold.
    pub max_xml_in_flight: usize,
    /// Connections served at once; 0 derives it from the descriptor limit
    /// ([`crate::connections::derived_max_connections`]). Past it, new connections wait
    /// in the listen backlog while the longest-idle keep-alive connections are closed.
    pub max_connections: usize,
    /// How long in-flight requests may run after a shutdown signal.
    pub shutdown_grace: Duration,
    /// How long a request body may go without a byte before `RequestTimeout`.
    pub body_idle_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_header_bytes: 8 * 1024,
            max_user_metadata_bytes: 2 * 1024,
            max_key_bytes: 1024,
            max_object_size: 5 * 1024 * 1024 * 1024,
            max_xml_body: crate::xml::MAX_XML_BODY,
            max_xml_in_flight: 8,
            max_connections: 0,
            shutdown_grace: Duration::from_secs(10),
            body_idle_timeout: Duration::from_secs(20),
        }
    }
}

/// Where objects are kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageConfig {
    Disk(PathBuf),
    Memory,
}

/// Everything the server needs to run.
#[derive(Clone, Debug)]
pub struct Config {
    pub region: String,
    pub credentials: Vec<Credential>,
    /// Host names under which `bucket.<domain>` is virtual-hosted addressing.
    pub domains: Vec<String>,
    pub storage: StorageConfig,
    /// Buckets created at start if missing, with the rules they start with.
    pub buckets: Vec<BucketSpec>,
    /// IAM roles that STS AssumeRole may hand out sessions of.
    pub roles: Vec<std::sync::Arc<Role>>,
    pub max_skew: Duration,
    pub limits: Limits,
    /// Verify `x-amz-checksum-*` query parameters of presigned PUTs (AWS does not; R2,
    /// Garage and SeaweedFS do, and answer `BadDigest`).
    pub strict_query_checksums: bool,
    /// Refuse Signature Version 2, as AWS does for buckets created after 24 June 2020
    /// and in regions launched after 2014.
    pub reject_sigv2: bool,
    /// `--cors-allow-origin`: buckets created at start get a permissive CORS
    /// configuration for these origins (a local-dev shortcut AWS does not have).
    pub cors_allow_origins: Vec<String>,
    /// Leave out strict-s3's explanation (`x-strict-s3-reason`, `<Explanation>`) so
    /// error responses are byte for byte what AWS sends.
    pub aws_exact_errors: bool,
    /// How many recent requests the inspector (`/_strict/`) keeps.
    pub inspector_capacity: usize,
    /// Serve `/_strict/` even when listening on a non-loopback address.
    pub admin: bool,
    /// Host names the inspector answers for besides loopback names and `domains`.
    pub admin_hosts: Vec<String>,
    /// Create buckets as S3 did before April 2023: `ObjectWriter` ownership (ACLs
    /// evaluated) and no Block Public Access. Off: `BucketOwnerEnforced` and all four
    /// Block Public Access settings on, as S3 creates buckets now.
    pub legacy_bucket_defaults: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            region: DEFAULT_REGION.to_string(),
            credentials: vec![Credential::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY)],
            domains: vec!["localhost".to_string()],
            storage: StorageConfig::Disk(PathBuf::from("data")),
            buckets: Vec::new(),
            roles: Vec::new(),
            max_skew: MAX_SKEW,
            limits: Limits::default(),
            strict_query_checksums: false,
            reject_sigv2: false,
            cors_allow_origins: Vec::new(),
            aws_exact_errors: false,
            inspector_capacity: 200,
            admin: false,
            admin_hosts: Vec::new(),
            legacy_bucket_defaults: false,
        }
    }
}

impl Config {
    /// An in-memory configuration, as tests want it.
    pub fn in_memory() -> Self {
        Config {
            storage: StorageConfig::Memory,
            ..Config::default()
        }
    }

    /// The account the default credential belongs to, which owns the buckets created
    /// at start and those of a store made before strict-s3 had accounts.
    pub fn default_account(&self) -> std::sync::Arc<Account> {
        Account::default_account()
    }

    /// The region of a bucket the configuration creates (else the server's region).
    pub fn bucket_region(&self, bucket: &str) -> &str {
        self.buckets
            .iter()
            .find(|b| b.name == bucket)
            .and_then(|b| b.region.as_deref())
            .unwrap_or(&self.region)
    }

    /// The account whose 12-digit id is `id`, among the credentials' and roles' accounts.
    pub fn account_by_id(&self, id: &str) -> Option<std::sync::Arc<Account>> {
        if id == crate::identity::DEFAULT_ACCOUNT_ID {
            return Some(self.default_account());
        }
        self.credentials
            .iter()
            .find(|c| c.identity.account().id == id)
            .map(|c| c.identity.account_arc())
            .or_else(|| {
                self.roles
                    .iter()
                    .find(|r| r.account.id == id)
                    .map(|r| r.account.clone())
            })
    }

    /// The role an ARN names (`arn:aws:iam::<account>:role/<path><name>`).
    pub fn role(&self, arn: &str) -> Option<&std::sync::Arc<Role>> {
        self.roles.iter().find(|r| r.arn() == arn)
    }

    /// The account whose canonical id is `id`, among the credentials' accounts.
    pub fn account_by_canonical(&self, id: &str) -> Option<&Account> {
        self.credentials
            .iter()
            .map(|c| c.identity.account())
            .find(|a| a.canonical_id == id)
    }

    pub fn credential(&self, access_key: &str) -> Option<&Credential> {
        self.credentials
            .iter()
            .find(|c| &*c.access_key == access_key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = Config::default();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains(DEFAULT_SECRET_KEY));
        assert!(dbg.contains(DEFAULT_ACCESS_KEY));
    }
}
