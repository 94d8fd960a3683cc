//! The authorization stage: may this caller perform this operation on this resource?
//!
//! A presigned URL or a POST form is only as powerful as its signer: the request's
//! action(s) and resource(s) (`ops::required`, the table of "Actions, resources, and
//! condition keys for Amazon S3"; evidence in `docs/permissions-evidence.md` §5) are
//! evaluated at request time against the signer's identity, so taking a permission away
//! stops URLs already handed out, as on AWS.
//!
//! The evaluation is IAM's and S3's (§1):
//! - an explicit Deny in the identity policy or the bucket policy wins;
//! - within the account that owns the resource, any one of: the root user, an Allow of
//!   the identity policy, of the bucket policy, or of an ACL grant to a group;
//! - from another account, both sides: its own account's permission (its root may do
//!   anything, its users what their policies allow) **and** the owner's (the bucket
//!   policy, or an ACL grant to that account or to a group);
//! - anonymous callers: what the bucket policy or an ACL grants everyone.
//!
//! Object Ownership decides whether ACLs count (not under `BucketOwnerEnforced`, the
//! default) and who owns an object: under `ObjectWriter` an object another account wrote
//! is that account's, and the bucket owner reaches it only through its ACL. Block Public
//! Access removes public ACL grants (`IgnorePublicAcls`) and a public policy's grants to
//! anyone outside the bucket owner's account (`RestrictPublicBuckets`).

mod context;
pub mod rules;

use std::net::SocketAddr;
use std::sync::Arc;

use time::OffsetDateTime;

use crate::acl::{self, Acl};
use crate::auth::Authenticated;
use crate::error::{S3Error, S3ErrorCode};
use crate::identity::Identity;
use crate::policy::{Caller, Context, Request, Verdict};
use crate::request::S3Request;
pub use context::EXISTING_TAG;
pub use rules::{BucketRules, RulesCache};

/// The caller, the rules of the buckets the request touches, the ACLs of the objects it
/// reads and the request's condition keys, decided once per request.
pub struct Access {
    identity: Option<Arc<Identity>>,
    buckets: Vec<(String, Arc<BucketRules>)>,
    /// The ACLs of existing objects the request reads in buckets where ACLs count, by
    /// object ARN (an object without one is the bucket owner's, private).
    objects: Vec<(String, Acl)>,
    /// Built only when a policy will read it (an IAM user's request, or a bucket with a
    /// policy): the root user's requests to buckets without one cost nothing here.
    context: Option<Context>,
    /// The condition keys the policies read, when one of them is a request-tag key:
    /// an operation that learns the request's tags from its body evaluates again.
    request_tag_keys: Option<Vec<String>>,
}

/// Whether `arn` (an IAM principal) or a canonical id names an identity this server
/// knows: an account's root, or one of its users.
pub fn known_principal(config: &crate::config::Config, name: &str) -> bool {
    config.credentials.iter().any(|c| {
        let id = &c.identity;
        name == id.arn()
            || name == format!("arn:aws:iam::{}:root", id.account().id)
            || name == id.account().canonical_id
    }) || config.roles.iter().any(|r| {
        // The role, or one of its sessions (`…:assumed-role/<role>/<session>`).
        name == r.arn()
            || name
                .strip_prefix(&format!(
                    "arn:aws:sts::{}:assumed-role/{}/",
                    r.account.id, r.name
                ))
                .is_some_and(|session| !session.is_empty())
            || name == format!("arn:aws:iam::{}:root", r.account.id)
    })
}

/// Whether a canonical id is an account this server knows (an ACL grantee).
pub fn known_account(config: &crate::config::Config, id: &str) -> bool {
    id == acl::EC2_BUNDLE_READER
        || config
            .credentials
            .iter()
            .any(|c| c.identity.account().canonical_id == id)
}

/// The condition keys (lower case) the policies that can decide the request read: the
/// caller's identity and session policies and the bucket policies of `buckets`.
pub fn condition_keys(who: &Authenticated, buckets: &[(String, Arc<BucketRules>)]) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for p in who.identity.as_deref().into_iter().flat_map(|i| {
        [i.identity_policy(), i.session_policy()]
            .into_iter()
            .flatten()
    }) {
        keys.extend(p.keys.iter().cloned());
    }
    for p in buckets.iter().filter_map(|(_, r)| r.policy.as_ref()) {
        keys.extend(p.keys.iter().cloned());
    }
    keys
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

/// The parts of one evaluation a refusal's reason is written from.
struct Sides<'a> {
    who: String,
    action: &'a str,
    resource: &'a str,
    same_account: bool,
    /// The owner of what is acted on (canonical id), when it has one.
    owner: Option<&'a str>,
    user_miss: Option<crate::policy::Miss>,
}

impl Access {
    /// The caller's identity, the rules of the buckets the request touches, the ACLs of
    /// the objects it reads, and the request's condition keys.
    pub fn new(
        who: &Authenticated,
        req: &S3Request,
        now: OffsetDateTime,
        peer: Option<SocketAddr>,
        buckets: Vec<(String, Arc<BucketRules>)>,
        objects: Vec<(String, Acl)>,
        existing_tags: Option<&[crate::tagging::Tag]>,
    ) -> Access {
        let identity = who.identity.as_deref();
        let evaluated = identity.is_some_and(|i| !matches!(i, Identity::Root(_)));
        let any_bucket_policy = buckets.iter().any(|(_, r)| r.policy.is_some());
        let mut request_tag_keys = None;
        let context = (evaluated || any_bucket_policy).then(|| {
            let keys = condition_keys(who, &buckets);
            let mut c = context::context(who, req, now, peer, &keys);
            if let Some(tags) = existing_tags {
                context::existing_tags(&mut c, tags, &keys);
            }
            if context::reads_request_tags(&keys) {
                request_tag_keys = Some(keys);
            }
            c
        });
        Access {
            identity: who.identity.clone(),
            buckets,
            objects,
            context,
            request_tag_keys,
        }
    }

    /// Whether a policy that can decide the request reads the request's tags
    /// (`s3:RequestObjectTag/<key>`, `s3:RequestObjectTagKeys`).
    pub fn reads_request_tags(&self) -> bool {
        self.request_tag_keys.is_some()
    }

    /// [`Access::check`] with the request's tags taken from `tags` (a PutObjectTagging
    /// body, a POST form's `tagging` field) rather than from the `x-amz-tagging` header.
    pub fn check_with_request_tags(
        &self,
        action: &str,
        resource: &str,
        tags: &[crate::tagging::Tag],
    ) -> Result<(), S3Error> {
        let (Some(keys), Some(context)) = (&self.request_tag_keys, &self.context) else {
            return self.check(action, resource);
        };
        let mut context = context.clone();
        context::set_request_tags(&mut context, tags, keys);
        match self.decide_in(action, resource, &context) {
            Decision::Allowed => Ok(()),
            Decision::Denied(e) | Decision::ExplicitlyDenied(e) => Err(e),
        }
    }

    /// Whether every action is allowed without evaluation: the root user of the account
    /// that owns every bucket and object the request touches, none with a policy.
    pub fn unrestricted(&self) -> bool {
        let Some(Identity::Root(account)) = self.identity.as_deref() else {
            return false;
        };
        let own = account.canonical_id.as_str();
        self.buckets
            .iter()
            .all(|(_, r)| r.owner() == own && r.policy.is_none())
            && self.objects.iter().all(|(_, a)| a.owner == own)
    }

    /// The caller's account's canonical id (`None`: anonymous).
    pub fn account(&self) -> Option<&str> {
        self.identity
            .as_deref()
            .map(|i| i.account().canonical_id.as_str())
    }

    /// The rules of a bucket the request touches (`None`: it does not exist).
    pub fn rules(&self, bucket: &str) -> Option<&BucketRules> {
        self.buckets
            .iter()
            .find(|(b, _)| b == bucket)
            .map(|(_, r)| &**r)
    }

    /// `Ok` when the caller may perform `action` on `resource`; otherwise AWS's 403,
    /// with the statement or grant that decided it, or the fact that none allowed it.
    pub fn check(&self, action: &str, resource: &str) -> Result<(), S3Error> {
        match self.decide(action, resource) {
            Decision::Allowed => Ok(()),
            Decision::Denied(e) | Decision::ExplicitlyDenied(e) => Err(e),
        }
    }

    pub fn allows(&self, action: &str, resource: &str) -> bool {
        matches!(self.decide(action, resource), Decision::Allowed)
    }

    /// IAM's and S3's evaluation (see the module documentation).
    fn decide(&self, action: &str, resource: &str) -> Decision {
        let empty = Context::default();
        self.decide_in(action, resource, self.context.as_ref().unwrap_or(&empty))
    }

    fn decide_in(&self, action: &str, resource: &str, context: &Context) -> Decision {
        let request = Request {
            action,
            resource,
            context,
        };
        let identity = self.identity.as_deref();
        let account = self.account();
        let rules = bucket_of_arn(resource).and_then(|b| self.rules(b));
        let bucket_owner = rules.map(BucketRules::owner);
        let on_object = resource
            .split_once(":::")
            .is_some_and(|(_, r)| r.contains('/'));
        // The object context: an existing object's own ACL decides for the object
        // permissions (READ, READ_ACP, WRITE_ACP), where ACLs count.
        let object_permission = acl::permission_for(action, true).filter(|_| on_object);
        let object_acl = object_permission
            .and_then(|_| self.objects.iter().find(|(arn, _)| arn == resource))
            .map(|(_, a)| a);
        // Creating a bucket is the caller's own account's business (a name another
        // account holds is the operation's BucketAlreadyExists).
        let creates = action.eq_ignore_ascii_case("s3:CreateBucket");
        let owner = object_acl
            .map(|a| a.owner.as_str())
            .or(bucket_owner)
            .filter(|_| !creates);
        let same_account = account.is_some() && (owner.is_none() || owner == account);
        let arn = identity.map(Identity::arn);
        let is_root = matches!(identity, Some(Identity::Root(_)));
        let (user_verdict, user_miss) = match identity.and_then(Identity::identity_policy) {
            Some(p) => p.evaluate(&request),
            None => (Verdict::NotApplicable, None),
        };
        // A role session's session policy bounds what the role's policy allows.
        let session = identity
            .and_then(Identity::session_policy)
            .map(|p| p.evaluate(&request));
        let sides = Sides {
            who: arn.clone().unwrap_or_else(|| "an anonymous caller".into()),
            action,
            resource,
            same_account,
            owner,
            user_miss,
        };
        if let Verdict::Deny(s) = user_verdict {
            let why = format!("{} of its identity policy denies it", s.label());
            return Decision::ExplicitlyDenied(self.denied(
                &sides,
                "with an explicit deny in an identity-based policy",
                why,
            ));
        }
        if let Some((Verdict::Deny(s), _)) = &session {
            let why = format!("{} of its session policy denies it", s.label());
            return Decision::ExplicitlyDenied(self.denied(
                &sides,
                "with an explicit deny in a session policy",
                why,
            ));
        }
        let session_allows = match &session {
            None => true,
            Some((v, _)) => matches!(v, Verdict::Allow(_)),
        };
        let root_arn = identity.map(|i| format!("arn:aws:iam::{}:root", i.account().id));
        let owns_bucket = account.is_some() && account == bucket_owner;
        let role_arn = identity
            .and_then(Identity::role)
            .map(crate::identity::Role::arn);
        let caller = Caller {
            arn: arn.as_deref(),
            role: role_arn.as_deref(),
            account_root: root_arn.as_deref(),
            canonical_id: account,
            is_root,
            delegated: !owns_bucket,
        };
        let policy = rules.and_then(|r| r.policy.as_deref());
        let bucket_verdict = match policy {
            Some(p) => p.evaluate_for(&request, Some(&caller)).0,
            None => Verdict::NotApplicable,
        };
        // The bucket owner's root user may always manage the bucket policy, whatever it
        // says (GetBucketPolicy, PutBucketPolicy, DeleteBucketPolicy; §1.10).
        let policy_action = matches!(
            action.to_ascii_lowercase().as_str(),
            "s3:getbucketpolicy" | "s3:putbucketpolicy" | "s3:deletebucketpolicy"
        );
        if let Verdict::Deny(s) = bucket_verdict
            && !(is_root && owns_bucket && policy_action)
        {
            let why = format!("{} of the bucket policy denies it", s.label());
            return Decision::ExplicitlyDenied(self.denied(
                &sides,
                "with an explicit deny in a resource-based policy",
                why,
            ));
        }
        // The owner's side: the bucket policy (which speaks for objects the bucket owner
        // owns only), then the ACL.
        let restricted = rules.is_some_and(|r| r.public_access().restrict_public_buckets)
            && policy.is_some_and(|p| p.is_public())
            && !owns_bucket;
        // A session policy limits what a bucket policy grants the role; a statement
        // naming the session itself is not limited (IAM "Session policies").
        let names_session = || {
            let direct = Caller {
                role: None,
                ..caller
            };
            policy.is_some_and(|p| {
                matches!(p.evaluate_for(&request, Some(&direct)).0, Verdict::Allow(_))
            })
        };
        let policy_allows = matches!(bucket_verdict, Verdict::Allow(_))
            && (!on_object || owner == bucket_owner)
            && !restricted
            && (session_allows || names_session());
        let acl_allows = rules.is_some_and(|r| {
            self.acl_allows(
                r,
                action,
                object_permission,
                object_acl,
                same_account && !is_root,
            )
        });
        let identity_allows =
            is_root || (matches!(user_verdict, Verdict::Allow(_)) && session_allows);
        let allowed = match identity {
            None => policy_allows || acl_allows,
            Some(_) if same_account => identity_allows || policy_allows || acl_allows,
            Some(_) => identity_allows && (policy_allows || acl_allows),
        };
        if allowed {
            return Decision::Allowed;
        }
        let because = format!("because no identity-based policy allows the {action} action");
        let reason = match &session {
            Some((v, miss))
                if !matches!(v, Verdict::Allow(_)) && matches!(user_verdict, Verdict::Allow(_)) =>
            {
                match miss {
                    Some(m) => format!(
                        "the role's policy allows it, but the session policy passed to AssumeRole does not: its closest statement, {}, does not apply because {}",
                        m.statement, m.why
                    ),
                    None => "the role's policy allows it, but the session policy passed to AssumeRole does not (a session may do only what both allow)".to_string(),
                }
            }
            _ => implicit_reason(identity, &sides, restricted, identity_allows),
        };
        Decision::Denied(self.denied(&sides, &because, reason))
    }

    /// Whether an ACL grant allows it: the object's ACL for an object permission, the
    /// bucket's for a bucket one; never where ACLs are disabled. A same-account IAM
    /// user (`user_of_owner`) gets only group grants: a grant to its account is the
    /// account's, delegated to users by their identity policies.
    fn acl_allows(
        &self,
        rules: &BucketRules,
        action: &str,
        object_permission: Option<acl::Permission>,
        object_acl: Option<&Acl>,
        user_of_owner: bool,
    ) -> bool {
        if !rules.acls_enabled() {
            return false;
        }
        let (acl, permission) = match (object_permission, acl::permission_for(action, false)) {
            (Some(p), _) => match object_acl {
                Some(a) => (a, p),
                // No ACL of its own: the bucket owner's, private, which grants no one
                // else (the bucket's ACL never speaks for an object's READ).
                None => return false,
            },
            (None, Some(p)) => (&rules.acl, p),
            (None, None) => return false,
        };
        let account = self.account().filter(|_| !user_of_owner);
        rules
            .effective(acl)
            .grants(account, self.identity.is_some(), permission)
            .is_some()
    }

    /// AWS's 403: within the owner's account, its same-account wording (since August
    /// 2024; real bodies in docs/permissions-evidence.md §1.13); otherwise (anonymous, or
    /// another account) the plain "Access Denied".
    fn denied(&self, sides: &Sides<'_>, because: &str, why: String) -> S3Error {
        let reason = format!(
            "{} may not perform {} on {}: {why}",
            sides.who, sides.action, sides.resource
        );
        let err = match self.identity.as_deref() {
            Some(identity) if sides.same_account => S3Error::with_message(
                S3ErrorCode::AccessDenied,
                format!(
                    "User: {} is not authorized to perform: {} on resource: \"{}\" {because}",
                    identity.arn(),
                    sides.action,
                    sides.resource
                ),
            ),
            _ => S3Error::new(S3ErrorCode::AccessDenied),
        };
        err.reason(reason).at(crate::error::Check::Access)
    }
}

/// Why nothing allowed the request, for the reason of an implicit deny.
fn implicit_reason(
    identity: Option<&Identity>,
    sides: &Sides<'_>,
    restricted: bool,
    identity_allows: bool,
) -> String {
    let owner = sides.owner.unwrap_or("nobody");
    let restricted = if restricted {
        " (the bucket policy is public and RestrictPublicBuckets limits it to the bucket owner's account)"
    } else {
        ""
    };
    match identity {
        None => format!(
            "no bucket policy statement or ACL grant allows it for everyone{restricted}"
        ),
        Some(i) if !sides.same_account && identity_allows => format!(
            "it belongs to the account with canonical id {owner}, not the caller's ({}): a request from another account needs the owner's permission too, and neither the bucket policy nor an ACL grants it{restricted}",
            i.account().canonical_id
        ),
        Some(i) if !sides.same_account => format!(
            "it belongs to the account with canonical id {owner}, and a request from another account needs its own account's permission as well as the owner's; the identity policy of {} allows neither",
            i.arn()
        ),
        Some(Identity::User { policy: None, .. }) => {
            "it has no identity policy (--user NAME:KEY:SECRET:POLICY_FILE), and no bucket policy statement allows it".to_string()
        }
        Some(Identity::RoleSession { role, .. }) if role.policy.is_none() => format!(
            "its role {} has no permission policy (the config file's [[roles]] policy), and no bucket policy statement allows it",
            role.arn()
        ),
        Some(_) => match &sides.user_miss {
            Some(miss) => format!(
                "the closest allowing statement, {} of its identity policy, does not apply because {}",
                miss.statement, miss.why
            ),
            None => format!(
                "no statement of its identity policy or of the bucket policy allows that action on that resource{restricted}"
            ),
        },
    }
}

#[cfg(test)]
mod tests;
