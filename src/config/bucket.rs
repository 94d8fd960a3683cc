//! A bucket the configuration creates at start, and the rules it starts with: from
//! `--bucket`, `--seed` or `[[buckets]]` in the config file.

use std::path::{Path, PathBuf};

use crate::acl::Canned;
use crate::controls::{ObjectOwnership, PublicAccessBlock};

/// A bucket created at start (`--bucket`, or `[[buckets]]` in the config file), and
/// the rules it is given. What is left `None` follows the bucket defaults
/// (`legacy_bucket_defaults`); what is set is written at every start, so the config
/// file stays the source of truth for a bucket kept on disk.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BucketSpec {
    pub name: String,
    /// The owning account's 12-digit id; `None`: the default account.
    pub owner: Option<String>,
    pub ownership: Option<ObjectOwnership>,
    /// `Some(None)`: no Block Public Access configuration at all.
    pub public_access: Option<Option<PublicAccessBlock>>,
    pub acl: Option<Canned>,
    /// The bucket policy's JSON text, checked when the configuration is loaded.
    pub policy: Option<String>,
    /// The bucket's region; `None`: the server's (`--region`).
    pub region: Option<String>,
    /// A CORS configuration (PutBucketCors XML, checked when loaded), written at start.
    pub cors: Option<String>,
    /// A directory whose files become objects at start (key: the path below it; content
    /// type from the extension), replacing objects of the same key.
    pub seed: Option<PathBuf>,
}

impl From<&str> for BucketSpec {
    fn from(name: &str) -> Self {
        BucketSpec {
            name: name.to_string(),
            ..BucketSpec::default()
        }
    }
}

impl From<String> for BucketSpec {
    fn from(name: String) -> Self {
        BucketSpec {
            name,
            ..BucketSpec::default()
        }
    }
}

impl BucketSpec {
    /// Whether the spec sets this bucket document itself (rather than leaving it to
    /// the defaults), so that it is rewritten on a bucket kept from an earlier run.
    pub fn names_document(&self, document: &str) -> bool {
        use crate::access::rules::{
            ACL_DOCUMENT, OWNERSHIP_DOCUMENT, POLICY_DOCUMENT, PUBLIC_ACCESS_DOCUMENT,
        };
        match document {
            ACL_DOCUMENT => self.acl.is_some() || self.owner.is_some(),
            OWNERSHIP_DOCUMENT => self.ownership.is_some(),
            PUBLIC_ACCESS_DOCUMENT => self.public_access.is_some(),
            POLICY_DOCUMENT => self.policy.is_some(),
            crate::ops::cors::DOCUMENT => self.cors.is_some(),
            _ => false,
        }
    }

    /// The ownership and Block Public Access the bucket gets: what it names, else the
    /// bucket defaults.
    pub fn effective_controls(&self, legacy: bool) -> (ObjectOwnership, Option<PublicAccessBlock>) {
        let ownership = self.ownership.unwrap_or(if legacy {
            ObjectOwnership::ObjectWriter
        } else {
            ObjectOwnership::BucketOwnerEnforced
        });
        let block = self
            .public_access
            .unwrap_or((!legacy).then_some(PublicAccessBlock::ALL));
        (ownership, block)
    }
}

/// `--seed DIR` and `seed = "DIR"`: each subdirectory a bucket whose files are seeded.
pub fn seed_buckets(dir: &Path) -> Result<Vec<BucketSpec>, String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut specs = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        if !entry.path().is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        crate::addressing::check_bucket_name(&name).map_err(|e| {
            format!(
                "{}: the directory {name:?} cannot be a bucket: {}",
                dir.display(),
                super::file::words(&e)
            )
        })?;
        specs.push(BucketSpec {
            seed: Some(entry.path()),
            ..BucketSpec::from(name)
        });
    }
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(specs)
}
