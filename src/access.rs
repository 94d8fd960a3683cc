//! The authorization stage: may this caller perform this operation on this resource?
//!
//! A presigned URL or a POST form is only as powerful as its signer: the request's
//! action(s) and resource(s) (`ops::required`, the table of "Actions, resources, and
//! condition keys for Amazon S3"; evidence in `docs/permissions-evidence.md` §5) are
//! evaluated at request time against the signer's identity, so taking a permission away
//! stops URLs already handed out, as on AWS. The root user of the account that owns the
//! buckets may do everything; an IAM user may do what its identity policy allows, and a
//! user without one nothing. An explicit Deny wins over any Allow.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use time::OffsetDateTime;

use crate::auth::{AuthKind, Authenticated};
use crate::error::{S3Error, S3ErrorCode};
use crate::identity::Identity;
use crate::policy::{Caller, Context, Policy, Request, Verdict};
use crate::request::S3Request;
use crate::storage::Storage;

/// The caller, the bucket policies that apply and the request's condition keys,
/// decided once per request.
pub struct Access {
    identity: Option<Arc<Identity>>,
    /// The policies of the buckets the request touches (only those that have one).
    bucket_policies: Vec<(String, Arc<Policy>)>,
    /// Built only when a policy will read it (an IAM user's request, or a bucket with a
    /// policy): the root user's requests to buckets without one cost nothing here.
    context: Option<Context>,
}

/// The name of a bucket policy in the store's bucket documents.
pub const POLICY_DOCUMENT: &str = "policy";

/// Parsed bucket policies, loaded from the store on first use and replaced when one is
/// set or deleted, so no request parses a policy (or reads one from disk) again.
#[derive(Default)]
pub struct BucketPolicies {
    map: RwLock<HashMap<String, Option<Arc<Policy>>>>,
}

impl BucketPolicies {
    /// The bucket's policy. A bucket that does not exist has none (and nothing is
    /// remembered for it); a store that cannot read the policy fails the request rather
    /// than let it through unchecked.
    pub async fn get(
        &self,
        storage: &dyn Storage,
        bucket: &str,
    ) -> Result<Option<Arc<Policy>>, S3Error> {
        if let Some(p) = self
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(bucket)
        {
            return Ok(p.clone());
        }
        let doc = match storage.bucket_document(bucket, POLICY_DOCUMENT).await {
            Ok(doc) => doc,
            Err(e) if e.code == S3ErrorCode::NoSuchBucket => return Ok(None),
            Err(e) => return Err(e),
        };
        // Checked when it was set; principals are not re-resolved against this run's
        // users (AWS keeps a policy whose principal has since been deleted).
        let parsed = match doc {
            None => None,
            Some(d) => {
                let text = String::from_utf8_lossy(&d);
                let policy = Policy::parse_bucket(&text, bucket, &|_| true).map_err(|e| {
                    S3Error::internal(format!("the stored policy of {bucket} is unreadable: {e}"))
                })?;
                Some(Arc::new(policy))
            }
        };
        self.set(bucket, parsed.clone());
        Ok(parsed)
    }

    pub fn set(&self, bucket: &str, policy: Option<Arc<Policy>>) {
        let mut map = self.map.write().unwrap_or_else(|p| p.into_inner());
        map.insert(bucket.to_string(), policy);
    }

    /// Forgets a bucket (created or deleted): its policy is read again on next use.
    pub fn forget(&self, bucket: &str) {
        self.map
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(bucket);
    }
}

/// Whether `arn` (an IAM principal) or a canonical id names an identity this server
/// knows: the default account's root, or one of its configured users.
pub fn known_principal(config: &crate::config::Config, name: &str) -> bool {
    config.credentials.iter().any(|c| {
        let id = &c.identity;
        name == id.arn()
            || name == format!("arn:aws:iam::{}:root", id.account().id)
            || name == id.account().canonical_id
    })
}

/// What one evaluation decided.
enum Decision {
    Allowed,
    Denied(S3Error),
    ExplicitlyDenied(S3Error),
}

/// The bucket an S3 ARN names.
pub fn bucket_of_arn(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:aws:s3:::")?.split('/').next()
}

/// `arn:aws:s3:::bucket`.
pub fn bucket_arn(bucket: &str) -> String {
    format!("arn:aws:s3:::{bucket}")
}

/// `arn:aws:s3:::bucket/key`.
pub fn object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

impl Access {
    /// The caller's identity, the policies of the buckets the request touches and the
    /// request's condition keys.
    pub fn new(
        who: &Authenticated,
        req: &S3Request,
        now: OffsetDateTime,
        peer: Option<SocketAddr>,
        bucket_policies: Vec<(String, Arc<Policy>)>,
    ) -> Access {
        let user_policy = match who.identity.as_deref() {
            Some(Identity::User { policy, .. }) => Some(policy.as_deref()),
            _ => None,
        };
        let context = (user_policy.is_some() || !bucket_policies.is_empty()).then(|| {
            let mut keys: Vec<String> = user_policy
                .flatten()
                .map(|p| p.keys.clone())
                .unwrap_or_default();
            for (_, p) in &bucket_policies {
                keys.extend(p.keys.iter().cloned());
            }
            context(who, req, now, peer, &keys)
        });
        Access {
            identity: who.identity.clone(),
            bucket_policies,
            context,
        }
    }

    /// Whether every action is allowed without evaluation: the account's root user, on
    /// buckets without a policy.
    pub fn unrestricted(&self) -> bool {
        matches!(self.identity.as_deref(), Some(Identity::Root(_)))
            && self.bucket_policies.is_empty()
    }

    /// `Ok` when the caller may perform `action` on `resource`; otherwise AWS's 403,
    /// with the statement that denied it or the fact that none allowed it.
    pub fn check(&self, action: &str, resource: &str) -> Result<(), S3Error> {
        match self.decide(action, resource) {
            Decision::Allowed => Ok(()),
            Decision::Denied(e) | Decision::ExplicitlyDenied(e) => Err(e),
        }
    }

    pub fn allows(&self, action: &str, resource: &str) -> bool {
        matches!(self.decide(action, resource), Decision::Allowed)
    }

    /// Whether a statement explicitly denies it (an anonymous read of a public object is
    /// still refused then).
    pub fn explicitly_denied(&self, action: &str, resource: &str) -> Option<S3Error> {
        match self.decide(action, resource) {
            Decision::ExplicitlyDenied(e) => Some(e),
            _ => None,
        }
    }

    /// IAM's evaluation for one account: an explicit Deny in the identity policy or the
    /// bucket policy wins; then the root user may do anything; then an Allow from either
    /// allows; else implicit deny.
    fn decide(&self, action: &str, resource: &str) -> Decision {
        let empty = Context::default();
        let context = self.context.as_ref().unwrap_or(&empty);
        let request = Request {
            action,
            resource,
            context,
        };
        let identity = self.identity.as_deref();
        let arn = identity.map(Identity::arn);
        let (user_verdict, user_miss) = match identity {
            Some(Identity::User {
                policy: Some(p), ..
            }) => p.evaluate(&request),
            _ => (Verdict::NotApplicable, None),
        };
        let bucket_policy = self.policy_of(resource);
        let root_arn = identity.map(|i| format!("arn:aws:iam::{}:root", i.account().id));
        let caller = Caller {
            arn: arn.as_deref(),
            account_root: root_arn.as_deref(),
            canonical_id: identity.map(|i| i.account().canonical_id.as_str()),
            is_root: matches!(identity, Some(Identity::Root(_))),
        };
        let (bucket_verdict, _) = match bucket_policy {
            Some(p) => p.evaluate_for(&request, Some(&caller)),
            None => (Verdict::NotApplicable, None),
        };
        let who = arn.as_deref().unwrap_or("an anonymous caller");
        if let Verdict::Deny(s) = user_verdict {
            return Decision::ExplicitlyDenied(denied(
                identity,
                action,
                resource,
                "with an explicit deny in an identity-based policy",
                format!(
                    "{who} may not perform {action} on {resource}: {} of its identity policy denies it",
                    s.label()
                ),
            ));
        }
        // The bucket owner's root user may always manage the bucket policy, whatever it
        // says (GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy).
        let policy_action = matches!(
            action.to_ascii_lowercase().as_str(),
            "s3:getbucketpolicy" | "s3:putbucketpolicy" | "s3:deletebucketpolicy"
        );
        if let Verdict::Deny(s) = bucket_verdict
            && !(caller.is_root && policy_action)
        {
            return Decision::ExplicitlyDenied(denied(
                identity,
                action,
                resource,
                "with an explicit deny in a resource-based policy",
                format!(
                    "{who} may not perform {action} on {resource}: {} of the bucket policy denies it",
                    s.label()
                ),
            ));
        }
        if caller.is_root
            || matches!(user_verdict, Verdict::Allow(_))
            || matches!(bucket_verdict, Verdict::Allow(_))
        {
            return Decision::Allowed;
        }
        let reason = implicit_reason(identity, user_miss, who, action, resource);
        Decision::Denied(denied(
            identity,
            action,
            resource,
            &format!("because no identity-based policy allows the {action} action"),
            reason,
        ))
    }

    /// The policy of the bucket a resource ARN names, if it has one.
    fn policy_of(&self, resource: &str) -> Option<&Policy> {
        let bucket = bucket_of_arn(resource)?;
        self.bucket_policies
            .iter()
            .find(|(b, _)| b == bucket)
            .map(|(_, p)| &**p)
    }
}

/// Why nothing allowed the request, for the reason of an implicit deny.
fn implicit_reason(
    identity: Option<&Identity>,
    user_miss: Option<crate::policy::Miss>,
    who: &str,
    action: &str,
    resource: &str,
) -> String {
    match (identity, user_miss) {
        (None, _) => format!(
            "no statement of the bucket policy allows {action} on {resource} for an anonymous caller, and the resource is not public"
        ),
        (Some(Identity::User { policy: None, .. }), _) => format!(
            "{who} has no identity policy (--user NAME:KEY:SECRET:POLICY_FILE), and no bucket policy statement allows it {action} on {resource}"
        ),
        (_, Some(miss)) => format!(
            "{who} may not perform {action} on {resource}: the closest allowing statement, {} of its identity policy, does not apply because {}",
            miss.statement, miss.why
        ),
        _ => format!(
            "{who} may not perform {action} on {resource}: no statement of its identity policy or of the bucket policy allows that action on that resource"
        ),
    }
}

/// AWS's 403: for a caller in the account, its same-account wording (since August 2024;
/// real bodies in docs/permissions-evidence.md §1.13); for an anonymous one, the plain
/// "Access Denied".
fn denied(
    identity: Option<&Identity>,
    action: &str,
    resource: &str,
    because: &str,
    reason: String,
) -> S3Error {
    let err = match identity {
        Some(identity) => S3Error::with_message(
            S3ErrorCode::AccessDenied,
            format!(
                "User: {} is not authorized to perform: {action} on resource: \"{resource}\" {because}",
                identity.arn()
            ),
        ),
        None => S3Error::new(S3ErrorCode::AccessDenied),
    };
    err.reason(reason).at(crate::error::Check::Access)
}

/// The request's condition keys (docs/permissions-evidence.md §4), present only when
/// the request carries them, as AWS sets them. Only the keys the caller's policy reads
/// (`keys`, lower case) are computed.
fn context(
    who: &Authenticated,
    req: &S3Request,
    now: OffsetDateTime,
    peer: Option<SocketAddr>,
    keys: &[String],
) -> Context {
    let mut c = Context::default();
    let mut put = |key: &str, value: &dyn Fn() -> Option<String>| {
        if keys.iter().any(|k| k.eq_ignore_ascii_case(key))
            && let Some(v) = value()
        {
            c.set(key, v);
        }
    };
    let header = |name: &'static str| move || req.header(name).map(str::to_string);
    let param = |name: &'static str| move || req.query_param(name).map(str::to_string);
    put("aws:CurrentTime", &|| Some(crate::dates::iso(now)));
    put("aws:EpochTime", &|| Some(now.unix_timestamp().to_string()));
    put("aws:SecureTransport", &|| Some("false".into()));
    put("aws:SourceIp", &|| peer.map(|p| p.ip().to_string()));
    put("aws:UserAgent", &header("user-agent"));
    put("aws:Referer", &header("referer"));
    put("s3:x-amz-acl", &header("x-amz-acl"));
    put("s3:x-amz-copy-source", &header("x-amz-copy-source"));
    put(
        "s3:x-amz-metadata-directive",
        &header("x-amz-metadata-directive"),
    );
    put("s3:prefix", &param("prefix"));
    put("s3:delimiter", &param("delimiter"));
    // "always present in the request when you perform the ListBucket operation".
    put("s3:max-keys", &|| {
        Some(req.query_param("max-keys").unwrap_or("1000").to_string())
    });
    let identity = who.identity.as_deref();
    put("aws:PrincipalArn", &|| identity.map(Identity::arn));
    put("aws:PrincipalAccount", &|| {
        identity.map(|i| i.account().id.clone())
    });
    put("aws:userid", &|| identity.map(Identity::userid));
    put("aws:username", &|| {
        identity.and_then(Identity::username).map(str::to_string)
    });
    let (auth_type, version) = match who.kind {
        AuthKind::V4Header => (Some("REST-HEADER"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V4Query => (Some("REST-QUERY-STRING"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V4Post => (Some("POST"), Some("AWS4-HMAC-SHA256")),
        AuthKind::V2Header => (Some("REST-HEADER"), Some("AWS")),
        AuthKind::V2Query => (Some("REST-QUERY-STRING"), Some("AWS")),
        AuthKind::V2Post => (Some("POST"), Some("AWS")),
        AuthKind::Anonymous => (None, None),
    };
    put("s3:authType", &|| auth_type.map(str::to_string));
    put("s3:signatureversion", &|| version.map(str::to_string));
    // Presigned URLs and POST forms, in milliseconds; SigV2 "always set to 0".
    put("s3:signatureAge", &|| match (who.kind, who.signed_at) {
        (AuthKind::V4Query | AuthKind::V4Post, Some(at)) => {
            Some((now - at).whole_milliseconds().max(0).to_string())
        }
        (AuthKind::V2Query | AuthKind::V2Post, _) => Some("0".into()),
        _ => None,
    });
    // Header-signed SigV4 only ("does not support x-amz-content-sha256 as a query
    // string parameter").
    put("s3:x-amz-content-sha256", &|| {
        (who.kind == AuthKind::V4Header)
            .then(|| req.header("x-amz-content-sha256").map(str::to_string))
            .flatten()
    });
    c
}

#[cfg(test)]
mod tests;
