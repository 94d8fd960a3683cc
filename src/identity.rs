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

/// The identity behind an access key.
#[derive(Debug, Clone)]
pub enum Identity {
    Root(Arc<Account>),
    User {
        account: Arc<Account>,
        name: String,
        policy: Option<Arc<Policy>>,
    },
}

impl Identity {
    pub fn account(&self) -> &Account {
        match self {
            Identity::Root(a) | Identity::User { account: a, .. } => a,
        }
    }

    pub fn account_arc(&self) -> Arc<Account> {
        match self {
            Identity::Root(a) | Identity::User { account: a, .. } => a.clone(),
        }
    }

    /// `arn:aws:iam::<account>:root` or `arn:aws:iam::<account>:user/<name>`.
    pub fn arn(&self) -> String {
        match self {
            Identity::Root(a) => format!("arn:aws:iam::{}:root", a.id),
            Identity::User { account, name, .. } => {
                format!("arn:aws:iam::{}:user/{name}", account.id)
            }
        }
    }

    /// `aws:username`: present for IAM users only.
    pub fn username(&self) -> Option<&str> {
        match self {
            Identity::Root(_) => None,
            Identity::User { name, .. } => Some(name),
        }
    }

    /// `aws:userid`: the account id for a root user, the user's unique id (`AIDA…`,
    /// derived from the account and name so it is stable across runs) for an IAM user.
    pub fn userid(&self) -> String {
        match self {
            Identity::Root(a) => a.id.clone(),
            Identity::User { account, name, .. } => {
                const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
                let digest = Sha256::digest(format!("{}/{name}", account.id));
                let tail: String = digest
                    .iter()
                    .take(17)
                    .map(|b| ALPHABET[usize::from(b % 32)] as char)
                    .collect();
                format!("AIDA{tail}")
            }
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
}
