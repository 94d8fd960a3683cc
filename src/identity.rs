//! Who a credential belongs to: the root user of an account (who may do everything in
//! it), or an IAM user of an account, who may do what its identity policy allows and
//! nothing else (no policy: nothing at all, as on AWS).

use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::policy::Policy;

/// The default account's id: the 12-digit example id of the AWS documentation.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";
/// Its canonical user id: the example canonical id of the S3 documentation's ACL pages.
pub const DEFAULT_CANONICAL_ID: &str =
    "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";
pub const DEFAULT_DISPLAY_NAME: &str = "strict-s3";

/// An AWS account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub canonical_id: String,
    pub display_name: String,
}

impl Account {
    pub fn default_account() -> Arc<Account> {
        Arc::new(Account {
            id: DEFAULT_ACCOUNT_ID.to_string(),
            canonical_id: DEFAULT_CANONICAL_ID.to_string(),
            display_name: DEFAULT_DISPLAY_NAME.to_string(),
        })
    }

    /// Another account, its ids derived from its root's access key so they are the same
    /// on every run: a 12-digit id and a 64-hex-digit canonical id, as AWS's look.
    pub fn derived(access_key: &str) -> Arc<Account> {
        let digest = Sha256::digest(format!("strict-s3 account {access_key}"));
        let mut id: String = digest
            .iter()
            .take(12)
            .map(|b| char::from(b'0' + b % 10))
            .collect();
        if id.starts_with('0') {
            id.replace_range(0..1, "1");
        }
        Self::with_id(&id)
    }

    /// An account with this 12-digit id; its canonical id is derived from it.
    pub fn with_id(id: &str) -> Arc<Account> {
        if id == DEFAULT_ACCOUNT_ID {
            return Self::default_account();
        }
        Arc::new(Account {
            id: id.to_string(),
            canonical_id: hex::encode(Sha256::digest(format!("strict-s3 canonical {id}"))),
            display_name: format!("account-{id}"),
        })
    }
}

/// An IAM role: who may assume it (its trust policy), what its sessions may do (its
/// permission policy), and how long a session may last.
#[derive(Debug, Clone)]
pub struct Role {
    pub account: Arc<Account>,
    pub name: String,
    /// `/` or `/a/b/`: part of the role's ARN, not of its sessions' ARNs.
    pub path: String,
    /// The role's trust policy (a resource-based policy on the role; action `sts:AssumeRole`).
    pub trust: Arc<Policy>,
    /// The role's permission policy; `None` allows nothing.
    pub policy: Option<Arc<Policy>>,
    /// `MaxSessionDuration`, 3600 to 43200 seconds (IAM's default 3600).
    pub max_session_secs: u32,
}

/// IAM's bounds on a role's `MaxSessionDuration` (CreateRole: 1 to 12 hours).
pub const ROLE_SESSION_SECS: std::ops::RangeInclusive<u32> = 3600..=43_200;

impl Role {
    /// `arn:aws:iam::<account>:role<path><name>`.
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account.id, self.path, self.name
        )
    }

    /// The role's unique id, `AROA…`, stable across runs (derived from its ARN).
    pub fn role_id(&self) -> String {
        unique_id("AROA", &self.arn())
    }
}

/// An AWS-style unique id: a four-letter prefix (`AIDA` user, `AROA` role) and 17
/// base-32 characters derived from `seed`, so the same principal has the same id on
/// every run.
fn unique_id(prefix: &str, seed: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = Sha256::digest(seed);
    let tail: String = digest
        .iter()
        .take(17)
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    format!("{prefix}{tail}")
}

/// The identity behind an access key.
#[derive(Debug, Clone)]
pub enum Identity {
    Root(Arc<Account>),
    User {
        account: Arc<Account>,
        name: String,
        policy: Option<Arc<Policy>>,
    },
    /// A session of an assumed role (temporary credentials from `AssumeRole`). It may do
    /// what the role's policy allows and, when the caller passed one, what the session
    /// policy allows too: the intersection.
    RoleSession {
        role: Arc<Role>,
        session_name: String,
        session_policy: Option<Arc<Policy>>,
    },
}

impl Identity {
    pub fn account(&self) -> &Account {
        match self {
            Identity::Root(a) | Identity::User { account: a, .. } => a,
            Identity::RoleSession { role, .. } => &role.account,
        }
    }

    pub fn account_arc(&self) -> Arc<Account> {
        match self {
            Identity::Root(a) | Identity::User { account: a, .. } => a.clone(),
            Identity::RoleSession { role, .. } => role.account.clone(),
        }
    }

    /// `arn:aws:iam::<account>:root`, `arn:aws:iam::<account>:user/<name>`, or a role
    /// session's `arn:aws:sts::<account>:assumed-role/<role>/<session>` (the role's path
    /// left out, as STS does): the ARN AccessDenied messages and GetCallerIdentity name.
    pub fn arn(&self) -> String {
        match self {
            Identity::Root(a) => format!("arn:aws:iam::{}:root", a.id),
            Identity::User { account, name, .. } => {
                format!("arn:aws:iam::{}:user/{name}", account.id)
            }
            Identity::RoleSession {
                role, session_name, ..
            } => format!(
                "arn:aws:sts::{}:assumed-role/{}/{session_name}",
                role.account.id, role.name
            ),
        }
    }

    /// `aws:PrincipalArn`: the ARN, except for a role session, where it is the role's
    /// ("For IAM roles, the request context returns the ARN of the role").
    pub fn principal_arn(&self) -> String {
        match self {
            Identity::RoleSession { role, .. } => role.arn(),
            _ => self.arn(),
        }
    }

    /// The role a session belongs to: a policy naming the role's ARN as principal
    /// applies to all its sessions.
    pub fn role(&self) -> Option<&Role> {
        match self {
            Identity::RoleSession { role, .. } => Some(role),
            _ => None,
        }
    }

    /// `aws:PrincipalType`: `Account`, `User` or `AssumedRole`.
    pub fn principal_type(&self) -> &'static str {
        match self {
            Identity::Root(_) => "Account",
            Identity::User { .. } => "User",
            Identity::RoleSession { .. } => "AssumedRole",
        }
    }

    /// The identity-based policy that speaks for this caller: an IAM user's, or the
    /// role's for a role session; `None` for the root user (who needs none) and for a
    /// user or role without one (who may do nothing).
    pub fn identity_policy(&self) -> Option<&Policy> {
        match self {
            Identity::Root(_) => None,
            Identity::User { policy, .. } => policy.as_deref(),
            Identity::RoleSession { role, .. } => role.policy.as_deref(),
        }
    }

    /// The session policy a role session was created with, which bounds it further.
    pub fn session_policy(&self) -> Option<&Policy> {
        match self {
            Identity::RoleSession { session_policy, .. } => session_policy.as_deref(),
            _ => None,
        }
    }

    /// `aws:username`: present for IAM users only.
    pub fn username(&self) -> Option<&str> {
        match self {
            Identity::User { name, .. } => Some(name),
            _ => None,
        }
    }

    /// `aws:userid`: the account id for a root user, the user's unique id (`AIDA…`,
    /// derived from the account and name so it is stable across runs) for an IAM user,
    /// `<role id>:<session name>` for a role session.
    pub fn userid(&self) -> String {
        match self {
            Identity::Root(a) => a.id.clone(),
            Identity::User { account, name, .. } => {
                unique_id("AIDA", &format!("{}/{name}", account.id))
            }
            Identity::RoleSession {
                role, session_name, ..
            } => format!("{}:{session_name}", role.role_id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_ids() {
        let account = Account::default_account();
        let root = Identity::Root(account.clone());
        assert_eq!(root.arn(), "arn:aws:iam::123456789012:root");
        assert_eq!(root.username(), None);
        assert_eq!(root.userid(), "123456789012");
        let user = Identity::User {
            account,
            name: "uploader".into(),
            policy: None,
        };
        assert_eq!(user.arn(), "arn:aws:iam::123456789012:user/uploader");
        assert_eq!(user.username(), Some("uploader"));
        let id = user.userid();
        assert!(id.starts_with("AIDA") && id.len() == 21, "{id}");
        assert_eq!(id, user.userid(), "stable");
    }

    #[test]
    fn role_sessions_name_the_role_and_the_session() {
        let trust = crate::policy::Policy::parse_identity(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}"#,
        )
        .unwrap();
        let role = Arc::new(Role {
            account: Account::default_account(),
            name: "uploader".into(),
            path: "/ci/".into(),
            trust: Arc::new(trust),
            policy: None,
            max_session_secs: 3600,
        });
        assert_eq!(role.arn(), "arn:aws:iam::123456789012:role/ci/uploader");
        let session = Identity::RoleSession {
            role: role.clone(),
            session_name: "build-7".into(),
            session_policy: None,
        };
        assert_eq!(
            session.arn(),
            "arn:aws:sts::123456789012:assumed-role/uploader/build-7"
        );
        assert_eq!(session.principal_arn(), role.arn());
        assert_eq!(session.username(), None);
        let id = session.userid();
        assert!(id.starts_with("AROA") && id.ends_with(":build-7"), "{id}");
        assert_eq!(session.principal_type(), "AssumedRole");
    }
}
