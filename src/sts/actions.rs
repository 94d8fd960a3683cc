//! The STS operations: GetSessionToken, AssumeRole and GetCallerIdentity, with STS's
//! limits and refusals (docs/sts-regions-evidence.md §2–§5).

use std::net::SocketAddr;
use std::sync::Arc;

use time::OffsetDateTime;

use super::error::StsError;
use super::params::{Params, Validation, external_id_char, session_name_char};
use super::xml::{Doc, result_document};
use crate::auth::Authenticated;
use crate::config::{Config, Credential};
use crate::identity::{Identity, Role};
use crate::policy::{Caller, Context, Policy, Request, Verdict};

/// GetSessionToken's DurationSeconds: 15 minutes to 36 hours, 12 hours by default; an
/// account's root user gets at most (and by default) one hour, longer asks clamped.
const SESSION_TOKEN_SECS: (i64, i64, u32) = (900, 129_600, 43_200);
const ROOT_SESSION_SECS: u32 = 3600;
/// AssumeRole's DurationSeconds: 15 minutes up to the role's MaxSessionDuration (the
/// model's bound is 12 hours), one hour by default, and at most one hour when a role
/// session assumes a role (role chaining).
const ASSUME_ROLE_SECS: (i64, i64, u32) = (900, 43_200, 3600);
const CHAINED_SECS: u32 = 3600;
/// "The plaintext that you use for both inline and managed session policies can't
/// exceed 2,048 characters" (AssumeRole, Policy).
const MAX_SESSION_POLICY: usize = 2048;

/// Everything an operation needs.
pub struct Call<'a> {
    pub config: &'a Config,
    pub sessions: &'a super::Sessions,
    pub who: &'a Authenticated,
    pub identity: &'a Arc<Identity>,
    pub params: &'a Params,
    pub now: OffsetDateTime,
    pub peer: Option<SocketAddr>,
    pub request_id: &'a str,
}

impl Call<'_> {
    /// Credentials from GetSessionToken or AssumeRole (a role session).
    fn temporary(&self) -> bool {
        self.who.token_issued_at.is_some() || self.identity.role().is_some()
    }
}

pub fn get_caller_identity(call: &Call<'_>) -> Result<String, StsError> {
    let id = call.identity;
    Ok(result_document("GetCallerIdentity", call.request_id, |d| {
        d.elem("Arn", &id.arn())
            .elem("UserId", &id.userid())
            .elem("Account", &id.account().id);
    }))
}

pub fn get_session_token(call: &Call<'_>) -> Result<String, StsError> {
    let mut v = Validation::default();
    let (min, max, default) = SESSION_TOKEN_SECS;
    let duration = v.integer(
        call.params.get("DurationSeconds"),
        "durationSeconds",
        min,
        max,
    );
    v.finish()?;
    refuse_unsupported(call.params, &["SerialNumber", "TokenCode"])?;
    // aws/aws-sdk-net#1704, aws/aws-sdk-js#3670.
    if call.temporary() {
        return Err(StsError::new(
            403,
            "AccessDenied",
            "Cannot call GetSessionToken with session credentials",
        )
        .reason("these are temporary credentials already: GetSessionToken needs a long-term key of an IAM user or a root user"));
    }
    let secs = match &**call.identity {
        Identity::Root(_) => {
            duration.map_or(ROOT_SESSION_SECS, |d| (d as u32).min(ROOT_SESSION_SECS))
        }
        _ => duration.map_or(default, |d| d as u32),
    };
    let cred = call
        .sessions
        .issue(call.identity.clone(), call.now, secs, true);
    Ok(result_document("GetSessionToken", call.request_id, |d| {
        credentials(d, &cred);
    }))
}

pub fn assume_role(call: &Call<'_>) -> Result<String, StsError> {
    let p = call.params;
    let mut v = Validation::default();
    let role_arn = v.required(p.get("RoleArn"), "roleArn");
    v.length(role_arn, "roleArn", 20, 2048);
    let session_name = v.required(p.get("RoleSessionName"), "roleSessionName");
    v.length(session_name, "roleSessionName", 2, 64);
    v.pattern(
        session_name,
        "roleSessionName",
        r"[\w+=,.@-]*",
        session_name_char,
    );
    let (min, max, default) = ASSUME_ROLE_SECS;
    let duration = v.integer(p.get("DurationSeconds"), "durationSeconds", min, max);
    let external_id = p.get("ExternalId");
    v.length(external_id, "externalId", 2, 1224);
    v.pattern(
        external_id,
        "externalId",
        r"[\w+=,.@:\/-]*",
        external_id_char,
    );
    let policy_text = p.get("Policy");
    v.length(policy_text, "policy", 1, MAX_SESSION_POLICY);
    v.finish()?;
    refuse_unsupported(
        p,
        &[
            "PolicyArns",
            "Tags",
            "TransitiveTagKeys",
            "SerialNumber",
            "TokenCode",
            "SourceIdentity",
            "ProvidedContexts",
        ],
    )?;
    let (Some(role_arn), Some(session_name)) = (role_arn, session_name) else {
        unreachable!("required members were validated")
    };
    let caller_arn = call.identity.arn();
    // kubeflow/testing#961, double-break/spapi-php#45 (403).
    if let Identity::Root(_) = &**call.identity {
        return Err(StsError::new(403, "AccessDenied", "Roles may not be assumed by root accounts.")
            .reason("an account's root user cannot assume roles on AWS: sign AssumeRole with an IAM user's key (--user, or [[users]] in the config file)"));
    }
    let denied =
        |why: String| StsError::not_authorized(&caller_arn, "sts:AssumeRole", role_arn).reason(why);
    let Some(role) = call.config.role(role_arn) else {
        let known: Vec<String> = call.config.roles.iter().map(|r| r.arn()).collect();
        return Err(denied(format!(
            "no role {role_arn} is configured ([[roles]] in the config file); the roles are: {}",
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        )));
    };
    may_assume(call, role, session_name, external_id).map_err(denied)?;
    let chained = call.identity.role().is_some();
    let secs = match duration {
        // aws-vault#263, eks-anywhere#9485.
        Some(d) if chained && d > i64::from(CHAINED_SECS) => {
            return Err(StsError::validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
            )
            .reason(format!("{caller_arn} is itself a role session, so the new session may last at most 3600 seconds")));
        }
        // kreuzwerker/awsu#27, aws-azure-login#93.
        Some(d) if d > i64::from(role.max_session_secs) => {
            return Err(StsError::validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            )
            .reason(format!(
                "DurationSeconds is {d}, and {} has a MaxSessionDuration of {} seconds (max_session_duration in the config file)",
                role.arn(),
                role.max_session_secs
            )));
        }
        Some(d) => d as u32,
        None => default,
    };
    let (session_policy, packed) = match policy_text {
        Some(text) => {
            let policy = Policy::parse_identity(text).map_err(|e| {
                StsError::new(400, "MalformedPolicyDocument", e.to_string()).reason(
                    "the Policy parameter (the session policy) is not a valid identity policy",
                )
            })?;
            (Some(Arc::new(policy)), Some(packed_size(text)))
        }
        None => (None, None),
    };
    let identity = Arc::new(Identity::RoleSession {
        role: role.clone(),
        session_name: session_name.to_string(),
        session_policy,
    });
    let cred = call.sessions.issue(identity.clone(), call.now, secs, false);
    Ok(result_document("AssumeRole", call.request_id, |d| {
        d.open("AssumedRoleUser")
            .elem("AssumedRoleId", &identity.userid())
            .elem("Arn", &identity.arn())
            .close("AssumedRoleUser");
        credentials(d, &cred);
        if let Some(size) = packed {
            d.elem("PackedPolicySize", &size.to_string());
        }
    }))
}

/// Whether the caller may assume `role`, as IAM decides it: an explicit Deny in the
/// trust policy or the caller's policies refuses; the trust policy must allow; and
/// unless it names the caller itself in the role's own account, the caller's identity
/// policy must allow `sts:AssumeRole` on the role too (a trust policy naming an account
/// delegates to that account's policies).
fn may_assume(
    call: &Call<'_>,
    role: &Role,
    session_name: &str,
    external_id: Option<&str>,
) -> Result<(), String> {
    let identity = &**call.identity;
    let role_arn = role.arn();
    let context = trust_context(call, session_name, external_id);
    let request = Request {
        action: "sts:AssumeRole",
        resource: &role_arn,
        context: &context,
    };
    let arn = identity.arn();
    let caller_role = identity.role().map(Role::arn);
    let root = format!("arn:aws:iam::{}:root", identity.account().id);
    let caller = |delegated| Caller {
        arn: Some(&arn),
        role: caller_role.as_deref(),
        account_root: Some(&root),
        canonical_id: Some(&identity.account().canonical_id),
        is_root: false,
        delegated,
    };
    let same_account = identity.account().id == role.account.id;
    let direct = role.trust.evaluate_for(&request, Some(&caller(false)));
    let delegated = role.trust.evaluate_for(&request, Some(&caller(true)));
    if let Verdict::Deny(s) = &delegated.0 {
        return Err(format!(
            "{} of the role's trust policy denies it",
            s.label()
        ));
    }
    let identity_verdict = identity.identity_policy().map(|p| p.evaluate(&request));
    let session_verdict = identity.session_policy().map(|p| p.evaluate(&request));
    for (which, verdict) in [
        ("identity", &identity_verdict),
        ("session", &session_verdict),
    ] {
        if let Some((Verdict::Deny(s), _)) = verdict {
            return Err(format!(
                "{} of the caller's {which} policy denies it",
                s.label()
            ));
        }
    }
    let identity_allows = matches!(identity_verdict, Some((Verdict::Allow(_), _)))
        && session_verdict
            .as_ref()
            .is_none_or(|(v, _)| matches!(v, Verdict::Allow(_)));
    let trust_allows = matches!(delegated.0, Verdict::Allow(_));
    if same_account && matches!(direct.0, Verdict::Allow(_)) {
        return Ok(());
    }
    match (trust_allows, identity_allows) {
        (true, true) => Ok(()),
        (false, _) => Err(match delegated.1 {
            Some(miss) => format!(
                "the role's trust policy does not allow it: its closest statement, {}, does not apply because {}",
                miss.statement, miss.why
            ),
            None => format!("no statement of the role's trust policy allows {arn} to assume it"),
        }),
        (true, false) => Err(if same_account {
            format!(
                "the role's trust policy allows it only through the account ({root}), so the caller's identity policy must also allow sts:AssumeRole on {role_arn}, and it does not"
            )
        } else {
            format!(
                "the role belongs to account {}: a caller from account {} needs its own identity policy to allow sts:AssumeRole on {role_arn} as well as the trust policy, and it does not",
                role.account.id,
                identity.account().id
            )
        }),
    }
}

/// The condition keys a trust policy may read.
fn trust_context(call: &Call<'_>, session_name: &str, external_id: Option<&str>) -> Context {
    let identity = &**call.identity;
    let mut c = Context::default();
    c.set("sts:RoleSessionName", session_name);
    if let Some(id) = external_id {
        c.set("sts:ExternalId", id);
    }
    c.set("aws:PrincipalArn", identity.principal_arn());
    c.set("aws:PrincipalAccount", identity.account().id.clone());
    c.set("aws:PrincipalType", identity.principal_type());
    c.set("aws:userid", identity.userid());
    if let Some(name) = identity.username() {
        c.set("aws:username", name);
    }
    c.set("aws:CurrentTime", crate::dates::iso(call.now));
    c.set("aws:EpochTime", call.now.unix_timestamp().to_string());
    c.set("aws:SecureTransport", "false");
    if let Some(peer) = call.peer {
        c.set("aws:SourceIp", peer.ip().to_string());
    }
    if let Some(at) = call.who.token_issued_at {
        c.set("aws:TokenIssueTime", crate::dates::iso(at));
    }
    c
}

/// Parameters strict-s3 does not model: refused by name rather than ignored, so a test
/// never passes here on a session that AWS would shape differently.
fn refuse_unsupported(params: &Params, names: &[&str]) -> Result<(), StsError> {
    match names.iter().find_map(|n| params.any_of(n)) {
        None => Ok(()),
        Some(name) => Err(StsError::validation(format!(
            "strict-s3 does not support the parameter {name} (managed policy ARNs, session tags, source identity and MFA are not modelled)"
        ))
        .reason("only RoleArn, RoleSessionName, DurationSeconds, ExternalId and Policy (AssumeRole), and DurationSeconds (GetSessionToken), are supported")),
    }
}

/// `PackedPolicySize`: the share (in percent, rounded up) of the packed space the
/// session policy takes; here its whitespace-free length against 2048 characters.
fn packed_size(text: &str) -> usize {
    let compact = text.chars().filter(|c| !c.is_whitespace()).count();
    compact
        .saturating_mul(100)
        .div_ceil(MAX_SESSION_POLICY)
        .max(1)
}

fn credentials(d: &mut Doc, cred: &Credential) {
    let expires = cred.lifetime.map(|l| l.expires_at);
    d.open("Credentials")
        .elem("AccessKeyId", &cred.access_key)
        .elem("SecretAccessKey", cred.secret_key.expose())
        .elem(
            "SessionToken",
            cred.session_token.as_ref().map_or("", |t| t.expose()),
        )
        .elem(
            "Expiration",
            &expires.map(crate::dates::iso).unwrap_or_default(),
        )
        .close("Credentials");
}
