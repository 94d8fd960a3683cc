//! The configuration file (`--config strict-s3.toml`): accounts, IAM users with their
//! identity policies, and buckets with the rules they start with.
//!
//! A file is read and checked whole before the server starts: an unknown field, a value
//! of the wrong type, a policy AWS would refuse or a user of an account that does not
//! exist stops it with the file, line, column and field named, so a typo never turns
//! into a permission that silently differs from the one intended. Policies are parsed
//! here, once, as PutBucketPolicy and IAM would parse them. Command-line flags add to
//! the file (more users, accounts and buckets) and override its settings.
//!
//! `strict-s3.example.toml` at the repository root documents every field.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::{BucketSpec, Config, Credential};
use crate::acl::Canned;
use crate::controls::{ObjectOwnership, PublicAccessBlock};
use crate::identity::Account;
use crate::policy::Policy;

/// A configuration file that was read and parsed; [`ConfigFile::apply`] checks what
/// depends on the rest of the configuration (accounts a user or a policy names).
#[derive(Debug)]
pub struct ConfigFile {
    path: PathBuf,
    text: String,
    raw: Raw,
}

/// What is wrong with a configuration file, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFileError {
    pub path: PathBuf,
    /// 1-based; 0 when the error is about the file as a whole (it cannot be read).
    pub line: usize,
    pub column: usize,
    /// The field, as a TOML path (`users[1].policy`), when one is to blame.
    pub field: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if let Some(field) = &self.field {
            write!(f, ": {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigFileError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    addr: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    storage: Option<RawStorage>,
    /// A directory whose subdirectories are buckets, their files objects (`--seed`).
    seed: Option<Spanned<String>>,
    legacy_bucket_defaults: Option<bool>,
    #[serde(default)]
    accounts: Vec<RawAccount>,
    #[serde(default)]
    users: Vec<RawUser>,
    #[serde(default)]
    roles: Vec<role::RawRole>,
    #[serde(default)]
    buckets: Vec<RawBucket>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorage {
    data_dir: Option<String>,
    #[serde(default)]
    in_memory: bool,
}

/// The server settings a file may give; each applies only where the command line and
/// the environment left the setting alone.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FileSettings {
    pub addr: Option<std::net::SocketAddr>,
    pub region: Option<String>,
    pub storage: Option<super::StorageConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAccount {
    access_key: Spanned<String>,
    secret_key: Spanned<String>,
    /// Derived from the access key when absent (as for `--account`).
    id: Option<Spanned<String>>,
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUser {
    name: Spanned<String>,
    access_key: Spanned<String>,
    secret_key: Spanned<String>,
    account: Option<Spanned<String>>,
    policy: Option<Spanned<toml::Value>>,
    policy_file: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBucket {
    name: Spanned<String>,
    owner: Option<Spanned<String>>,
    object_ownership: Option<Spanned<String>>,
    block_public_access: Option<Spanned<RawBlock>>,
    acl: Option<Spanned<String>>,
    policy: Option<Spanned<toml::Value>>,
    policy_file: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    cors_file: Option<Spanned<String>>,
    seed: Option<Spanned<String>>,
}

/// `block_public_access = true | false | { block_public_acls = true, ... }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawBlock {
    All(bool),
    Each(RawBlockEach),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBlockEach {
    #[serde(default)]
    block_public_acls: bool,
    #[serde(default)]
    ignore_public_acls: bool,
    #[serde(default)]
    block_public_policy: bool,
    #[serde(default)]
    restrict_public_buckets: bool,
}

impl ConfigFile {
    /// Reads and parses `path`; TOML syntax, unknown fields and wrong types fail here.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigFileError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            field: None,
            message: format!("cannot read it: {e}"),
        })?;
        Self::parse(path, text)
    }

    /// Parses `text` as the file at `path` (relative policy files are found beside it).
    pub fn parse(path: &Path, text: String) -> Result<ConfigFile, ConfigFileError> {
        match toml::from_str::<Raw>(&text) {
            Ok(raw) => Ok(ConfigFile {
                path: path.to_path_buf(),
                text,
                raw,
            }),
            Err(e) => {
                let (line, column) = e.span().map_or((1, 1), |s| line_column(&text, s.start));
                Err(ConfigFileError {
                    path: path.to_path_buf(),
                    line,
                    column,
                    field: None,
                    message: e.message().trim().to_string(),
                })
            }
        }
    }

    /// The file's address, region and storage, checked (relative paths are beside the
    /// file). The caller applies each one the command line did not set.
    pub fn settings(&self) -> Result<FileSettings, ConfigFileError> {
        let addr = match &self.raw.addr {
            None => None,
            Some(a) => Some(a.get_ref().parse().map_err(|e| {
                self.error(
                    a.span(),
                    "addr".into(),
                    format!("not an address such as 127.0.0.1:9000: {e}"),
                )
            })?),
        };
        let region = match &self.raw.region {
            None => None,
            Some(r) if crate::regions::is_region(r.get_ref()) => Some(r.get_ref().clone()),
            Some(r) => {
                return Err(self.error(
                    r.span(),
                    "region".into(),
                    format!(
                        "{:?} is not an AWS region (for example us-east-1, eu-west-2)",
                        r.get_ref()
                    ),
                ));
            }
        };
        let storage = self
            .raw
            .storage
            .as_ref()
            .map(|s| match (&s.data_dir, s.in_memory) {
                (_, true) => super::StorageConfig::Memory,
                (Some(d), false) => super::StorageConfig::Disk(self.beside(d)),
                (None, false) => super::StorageConfig::Disk(self.beside("data")),
            });
        Ok(FileSettings {
            addr,
            region,
            storage,
        })
    }

    /// A path the file names, relative to the file's directory.
    fn beside(&self, path: &str) -> PathBuf {
        self.path.parent().unwrap_or(Path::new(".")).join(path)
    }

    /// Adds the file's accounts, users and buckets to `config` (after those of the
    /// command line, which come first), and its settings where the command line left
    /// them at their default. Every policy is parsed now, against the accounts the
    /// whole configuration knows.
    pub fn apply(self, config: &mut Config) -> Result<(), ConfigFileError> {
        if let Some(legacy) = self.raw.legacy_bucket_defaults {
            config.legacy_bucket_defaults |= legacy;
        }
        for (i, a) in self.raw.accounts.iter().enumerate() {
            let field = |f: &str| format!("accounts[{i}].{f}");
            self.nonempty(&a.access_key, &field("access_key"))?;
            self.nonempty(&a.secret_key, &field("secret_key"))?;
            let mut account = match &a.id {
                None => Account::derived(a.access_key.get_ref()),
                Some(id) => {
                    let v = id.get_ref();
                    if v.len() != 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(self.error(
                            id.span(),
                            field("id"),
                            "an account id is 12 digits",
                        ));
                    }
                    Account::with_id(v)
                }
            };
            if let Some(name) = &a.name {
                Arc::make_mut(&mut account).display_name = name.clone();
            }
            self.unique_key(config, &a.access_key, &field("access_key"))?;
            config.credentials.push(Credential::root_of(
                account,
                a.access_key.get_ref().as_str(),
                a.secret_key.get_ref().as_str(),
            ));
        }
        for (i, u) in self.raw.users.iter().enumerate() {
            let field = |f: &str| format!("users[{i}].{f}");
            self.nonempty(&u.name, &field("name"))?;
            self.nonempty(&u.access_key, &field("access_key"))?;
            self.nonempty(&u.secret_key, &field("secret_key"))?;
            let account = match &u.account {
                None => config.default_account(),
                Some(id) => config.account_by_id(id.get_ref()).ok_or_else(|| {
                    self.error(
                        id.span(),
                        field("account"),
                        format!(
                            "no account {} is configured (the default account is {}; add others under [[accounts]])",
                            id.get_ref(),
                            crate::identity::DEFAULT_ACCOUNT_ID
                        ),
                    )
                })?,
            };
            let policy = match self.policy_text(&u.policy, &u.policy_file, &field)? {
                None => None,
                Some((text, span, at)) => Some(
                    Policy::parse_identity(&text)
                        .map_err(|e| self.error(span, at, format!("the policy is refused: {e}")))?,
                ),
            };
            self.unique_key(config, &u.access_key, &field("access_key"))?;
            config.credentials.push(Credential::user_of(
                account,
                u.name.get_ref().as_str(),
                u.access_key.get_ref().as_str(),
                u.secret_key.get_ref().as_str(),
                policy,
            ));
        }
        self.roles(config)?;
        if let Some(seed) = &self.raw.seed {
            let specs = super::bucket::seed_buckets(&self.beside(seed.get_ref()))
                .map_err(|e| self.error(seed.span(), "seed".into(), e))?;
            for spec in specs {
                if !config.buckets.iter().any(|b| b.name == spec.name) {
                    config.buckets.push(spec);
                }
            }
        }
        for (i, b) in self.raw.buckets.iter().enumerate() {
            let spec = self.bucket(config, i, b)?;
            config.buckets.retain(|existing| existing.name != spec.name);
            config.buckets.push(spec);
        }
        Ok(())
    }

    fn bucket(
        &self,
        config: &Config,
        i: usize,
        b: &RawBucket,
    ) -> Result<BucketSpec, ConfigFileError> {
        let field = |f: &str| format!("buckets[{i}].{f}");
        let name = b.name.get_ref();
        crate::addressing::check_bucket_name(name)
            .map_err(|e| self.error(b.name.span(), field("name"), words(&e)))?;
        let owner = match &b.owner {
            None => None,
            Some(id) => {
                config.account_by_id(id.get_ref()).ok_or_else(|| {
                    self.error(
                        id.span(),
                        field("owner"),
                        format!("no account {} is configured", id.get_ref()),
                    )
                })?;
                Some(id.get_ref().clone())
            }
        };
        let ownership = match &b.object_ownership {
            None => None,
            Some(o) => Some(ObjectOwnership::parse(o.get_ref()).ok_or_else(|| {
                self.error(
                    o.span(),
                    field("object_ownership"),
                    "one of BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter",
                )
            })?),
        };
        let public_access = b.block_public_access.as_ref().map(|p| match p.get_ref() {
            RawBlock::All(false) => None,
            RawBlock::All(true) => Some(PublicAccessBlock::ALL),
            RawBlock::Each(e) => Some(PublicAccessBlock {
                block_public_acls: e.block_public_acls,
                ignore_public_acls: e.ignore_public_acls,
                block_public_policy: e.block_public_policy,
                restrict_public_buckets: e.restrict_public_buckets,
            }),
        });
        let acl = match &b.acl {
            None => None,
            Some(a) => Some(Canned::parse(a.get_ref()).ok_or_else(|| {
                self.error(a.span(), field("acl"), "not a canned ACL (private, public-read, public-read-write, authenticated-read, log-delivery-write, aws-exec-read)")
            })?),
        };
        let region = match &b.region {
            None => None,
            Some(r) => Some(
                crate::regions::of_constraint(r.get_ref())
                    .ok_or_else(|| {
                        self.error(
                            r.span(),
                            field("region"),
                            format!(
                                "InvalidLocationConstraint: {:?} is not an AWS region S3 accepts (for example us-east-1, eu-west-2, ap-south-1)",
                                r.get_ref()
                            ),
                        )
                    })?
                    .to_string(),
            ),
        };
        let cors = match &b.cors_file {
            None => None,
            Some(f) => {
                let path = self.beside(f.get_ref());
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.error(
                        f.span(),
                        field("cors_file"),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                crate::cors::CorsConfiguration::parse(text.as_bytes())
                    .map_err(|e| self.error(f.span(), field("cors_file"), words(&e)))?;
                Some(text)
            }
        };
        let seed = match &b.seed {
            None => None,
            Some(d) => {
                let dir = self.beside(d.get_ref());
                if !dir.is_dir() {
                    return Err(self.error(
                        d.span(),
                        field("seed"),
                        format!("{} is not a directory", dir.display()),
                    ));
                }
                Some(dir)
            }
        };
        let spec = BucketSpec {
            name: name.clone(),
            owner,
            ownership,
            public_access,
            acl,
            policy: None,
            region,
            cors,
            seed,
        };
        // The same checks CreateBucket and PutBucketPolicy make, with their words.
        let (ownership, block) = spec.effective_controls(config.legacy_bucket_defaults);
        if let (Some(canned), Some(a)) = (acl, &b.acl) {
            let owner = "owner";
            let request = crate::acl::request::AclRequest::Canned(canned);
            crate::ops::acl::for_new_bucket(Some(&request), owner, ownership, block)
                .map_err(|e| self.error(a.span(), field("acl"), words(&e)))?;
        }
        let policy = match self.policy_text(&b.policy, &b.policy_file, &field)? {
            None => None,
            Some((text, span, at)) => {
                let known = |p: &str| crate::access::known_principal(config, p);
                let parsed = Policy::parse_bucket(&text, name, &known).map_err(|e| {
                    self.error(span.clone(), at.clone(), format!("MalformedPolicy: {e}"))
                })?;
                if parsed.is_public() && block.is_some_and(|b| b.block_public_policy) {
                    return Err(self.error(
                        span,
                        at,
                        "the policy is public and Block Public Access (block_public_policy) refuses it, as PutBucketPolicy would with 403 AccessDenied; set block_public_access = false",
                    ));
                }
                Some(text)
            }
        };
        Ok(BucketSpec { policy, ..spec })
    }

    /// A policy given inline (a JSON string or a TOML table) or as a file beside this
    /// one: its JSON text, where it was written and under which field.
    fn policy_text(
        &self,
        inline: &Option<Spanned<toml::Value>>,
        file: &Option<Spanned<String>>,
        field: &dyn Fn(&str) -> String,
    ) -> Result<Option<(String, std::ops::Range<usize>, String)>, ConfigFileError> {
        self.policy_text_named(inline, file, &|f| field(f), "policy")
    }

    /// [`ConfigFile::policy_text`] for fields `{name}` and `{name}_file`.
    fn policy_text_named(
        &self,
        inline: &Option<Spanned<toml::Value>>,
        file: &Option<Spanned<String>>,
        field: &dyn Fn(&str) -> String,
        name: &str,
    ) -> Result<Option<(String, std::ops::Range<usize>, String)>, ConfigFileError> {
        let file_name = format!("{name}_file");
        match (inline, file) {
            (Some(_), Some(f)) => Err(self.error(
                f.span(),
                field(&file_name),
                format!("give the policy inline ({name}) or as a file ({file_name}), not both"),
            )),
            (None, None) => Ok(None),
            (Some(p), None) => {
                let text = match p.get_ref() {
                    toml::Value::String(s) => s.clone(),
                    toml::Value::Table(_) => serde_json::to_string(p.get_ref())
                        .map_err(|e| self.error(p.span(), field(name), e.to_string()))?,
                    _ => {
                        return Err(self.error(
                            p.span(),
                            field(name),
                            "a policy is a JSON string or a table",
                        ));
                    }
                };
                Ok(Some((text, p.span(), field(name))))
            }
            (None, Some(f)) => {
                let dir = self.path.parent().unwrap_or(Path::new("."));
                let path = dir.join(f.get_ref());
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    self.error(
                        f.span(),
                        field(&file_name),
                        format!("cannot read {}: {e}", path.display()),
                    )
                })?;
                Ok(Some((text, f.span(), field(&file_name))))
            }
        }
    }

    fn nonempty(&self, v: &Spanned<String>, field: &str) -> Result<(), ConfigFileError> {
        if v.get_ref().is_empty() {
            return Err(self.error(v.span(), field.to_string(), "must not be empty"));
        }
        Ok(())
    }

    fn unique_key(
        &self,
        config: &Config,
        key: &Spanned<String>,
        field: &str,
    ) -> Result<(), ConfigFileError> {
        if config.credential(key.get_ref()).is_some() {
            return Err(self.error(
                key.span(),
                field.to_string(),
                format!(
                    "the access key {} is already configured for another identity",
                    key.get_ref()
                ),
            ));
        }
        Ok(())
    }

    fn error(
        &self,
        span: std::ops::Range<usize>,
        field: String,
        message: impl Into<String>,
    ) -> ConfigFileError {
        let (line, column) = line_column(&self.text, span.start);
        ConfigFileError {
            path: self.path.clone(),
            line,
            column,
            field: Some(field),
            message: message.into(),
        }
    }
}

/// An S3 refusal in a configuration error: its code and our reason.
pub(super) fn words(e: &crate::error::S3Error) -> String {
    format!(
        "{}: {}",
        e.code.as_str(),
        e.reason.as_deref().unwrap_or(&e.message)
    )
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

mod role;
#[cfg(test)]
mod tests;
