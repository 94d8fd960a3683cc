//! A bucket's access rules, loaded once and kept: its owner and ACL, its policy, its
//! Object Ownership and its Block Public Access setting.
//!
//! Each is a bucket document in the store (`acl`, `policy`, `ownership`,
//! `public-access-block`), written by its operation, by CreateBucket in the same atomic
//! step as the bucket itself. Requests read the parsed rules from this cache, so none
//! parses a policy or reads a document from disk again; a write forgets the bucket's
//! entry and the next request loads it anew.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::acl::Acl;
use crate::controls::{ObjectOwnership, PublicAccessBlock};
use crate::error::{S3Error, S3ErrorCode};
use crate::policy::Policy;
use crate::storage::Storage;

/// The bucket documents that hold the rules.
pub const POLICY_DOCUMENT: &str = "policy";
pub const ACL_DOCUMENT: &str = "acl";
pub const OWNERSHIP_DOCUMENT: &str = "ownership";
pub const PUBLIC_ACCESS_DOCUMENT: &str = "public-access-block";

/// What decides access to one bucket.
#[derive(Debug, Clone)]
pub struct BucketRules {
    /// The bucket's ACL; its owner is the bucket owner's canonical id.
    pub acl: Acl,
    pub policy: Option<Arc<Policy>>,
    /// `None`: never set (a bucket from before ownership controls: ACLs count, as for
    /// `ObjectWriter`).
    pub ownership: Option<ObjectOwnership>,
    /// `None`: never set (nothing is blocked).
    pub public_access: Option<PublicAccessBlock>,
    /// `None`: versioning was never enabled (`crate::versioning`).
    pub versioning: Option<crate::versioning::Status>,
}

impl BucketRules {
    pub fn owner(&self) -> &str {
        &self.acl.owner
    }

    /// The ownership in force.
    pub fn ownership(&self) -> ObjectOwnership {
        self.ownership.unwrap_or(ObjectOwnership::ObjectWriter)
    }

    /// Whether ACLs are evaluated (and may be set): every ownership but
    /// `BucketOwnerEnforced`.
    pub fn acls_enabled(&self) -> bool {
        self.ownership() != ObjectOwnership::BucketOwnerEnforced
    }

    pub fn public_access(&self) -> PublicAccessBlock {
        self.public_access.unwrap_or_default()
    }

    /// An ACL as access sees it: without public grants under `IgnorePublicAcls`.
    pub fn effective<'a>(&self, acl: &'a Acl) -> std::borrow::Cow<'a, Acl> {
        if self.public_access().ignore_public_acls && acl.is_public() {
            std::borrow::Cow::Owned(acl.without_public())
        } else {
            std::borrow::Cow::Borrowed(acl)
        }
    }

    /// The rules its documents say (`acl` apart, since its absence means something:
    /// the bucket predates accounts and `default_owner` owns it). Each document was
    /// checked when it was set; a bucket policy's principals are not re-resolved
    /// against this run's users (AWS keeps a policy whose principal has since been
    /// deleted).
    pub fn from_documents(
        bucket: &str,
        default_owner: &str,
        acl: Option<&[u8]>,
        docs: &[(&str, Bytes)],
    ) -> Result<BucketRules, S3Error> {
        let unreadable = |what: &str, e: &dyn std::fmt::Display| {
            S3Error::internal(format!("the stored {what} of {bucket} is unreadable: {e}"))
        };
        let doc = |name: &str| docs.iter().find(|(n, _)| *n == name).map(|(_, d)| d);
        let acl = match acl {
            Some(d) => serde_json::from_slice(d).map_err(|e| unreadable("ACL", &e))?,
            None => Acl::private(default_owner),
        };
        let policy = match doc(POLICY_DOCUMENT) {
            Some(d) => {
                let text = String::from_utf8_lossy(d);
                let p = Policy::parse_bucket(&text, bucket, &|_| true)
                    .map_err(|e| unreadable("policy", &e))?;
                Some(Arc::new(p))
            }
            None => None,
        };
        let ownership = match doc(OWNERSHIP_DOCUMENT) {
            Some(d) => Some(
                ObjectOwnership::parse(&String::from_utf8_lossy(d))
                    .ok_or_else(|| unreadable("ownership", &"unknown value"))?,
            ),
            None => None,
        };
        let public_access = match doc(PUBLIC_ACCESS_DOCUMENT) {
            Some(d) => {
                Some(serde_json::from_slice(d).map_err(|e| unreadable("public access block", &e))?)
            }
            None => None,
        };
        let versioning = match doc(crate::versioning::DOCUMENT) {
            Some(d) => Some(
                crate::versioning::Status::of_document(d)
                    .ok_or_else(|| unreadable("versioning status", &"unknown value"))?,
            ),
            None => None,
        };
        Ok(BucketRules {
            acl,
            policy,
            ownership,
            public_access,
            versioning,
        })
    }

    /// The documents a new bucket is created with (in the same atomic step).
    pub fn documents(
        acl: &Acl,
        ownership: Option<ObjectOwnership>,
        public_access: Option<PublicAccessBlock>,
    ) -> Result<Vec<(&'static str, Bytes)>, S3Error> {
        let mut docs = vec![(ACL_DOCUMENT, json(acl)?)];
        if let Some(o) = ownership {
            docs.push((
                OWNERSHIP_DOCUMENT,
                Bytes::from_static(o.as_str().as_bytes()),
            ));
        }
        if let Some(p) = public_access {
            docs.push((PUBLIC_ACCESS_DOCUMENT, json(&p)?));
        }
        Ok(docs)
    }
}

/// A rule as its document stores it.
pub fn json<T: serde::Serialize>(value: &T) -> Result<Bytes, S3Error> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(S3Error::internal)
}

/// The parsed rules of each bucket, by name. A generation counter keeps a load that
/// raced with a write from caching what the write replaced.
pub struct RulesCache {
    map: RwLock<HashMap<String, Arc<BucketRules>>>,
    generation: AtomicU64,
    /// Who owns a bucket with no `acl` document (made before strict-s3 had accounts).
    default_owner: String,
}

impl RulesCache {
    pub fn new(default_owner: &str) -> RulesCache {
        RulesCache {
            map: RwLock::default(),
            generation: AtomicU64::new(0),
            default_owner: default_owner.to_string(),
        }
    }

    /// The bucket's rules; `None` if it does not exist. A store that cannot read a rule
    /// fails the request rather than let it through unchecked.
    pub async fn get(
        &self,
        storage: &dyn Storage,
        bucket: &str,
    ) -> Result<Option<Arc<BucketRules>>, S3Error> {
        // A bucket's version history is no bucket a client may address.
        if crate::versioning::is_history_bucket(bucket) {
            return Ok(None);
        }
        if let Some(r) = self
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(bucket)
        {
            return Ok(Some(r.clone()));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let Some(rules) = self.load(storage, bucket).await? else {
            return Ok(None);
        };
        let rules = Arc::new(rules);
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        if self.generation.load(Ordering::Acquire) == generation {
            map.insert(bucket.to_string(), rules.clone());
        }
        Ok(Some(rules))
    }

    /// Forgets a bucket whose rules changed (or that was created or deleted).
    pub fn forget(&self, bucket: &str) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        self.generation.fetch_add(1, Ordering::AcqRel);
        map.remove(bucket);
    }

    async fn load(
        &self,
        storage: &dyn Storage,
        bucket: &str,
    ) -> Result<Option<BucketRules>, S3Error> {
        let doc = |name| storage.bucket_document(bucket, name);
        let acl = match doc(ACL_DOCUMENT).await {
            Ok(d) => d,
            Err(e) if e.code == S3ErrorCode::NoSuchBucket => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut docs = Vec::with_capacity(3);
        for name in [
            POLICY_DOCUMENT,
            OWNERSHIP_DOCUMENT,
            PUBLIC_ACCESS_DOCUMENT,
            crate::versioning::DOCUMENT,
        ] {
            if let Some(d) = doc(name).await? {
                docs.push((name, d));
            }
        }
        BucketRules::from_documents(bucket, &self.default_owner, acl.as_deref(), &docs).map(Some)
    }
}
