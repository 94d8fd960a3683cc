//! Access control lists: who owns a bucket or an object, and what its grants allow.
//!
//! An ACL is the oldest of S3's permission layers and, since April 2023, off by default:
//! a new bucket's Object Ownership is `BucketOwnerEnforced`, so ACLs are "no longer
//! considered for access" and only the bucket owner's full control remains
//! (docs/permissions-evidence.md §1.9, §7). Buckets created with another ownership (or
//! with `--legacy-bucket-defaults`) evaluate them: a grant to an account's canonical id,
//! or to the AllUsers / AuthenticatedUsers groups, allows the actions its permission maps
//! to (the user guide's "Mapping of ACL permissions and access policy permissions",
//! §9 of the evidence).
//!
//! The canned ACLs expand to grants as the user guide's "Canned ACL" table gives them;
//! grants from `x-amz-grant-*` headers are in [`request`], the AccessControlPolicy XML in
//! [`xml`].

pub mod request;
pub mod xml;

use serde::{Deserialize, Serialize};

pub use request::AclRequest;

/// The canonical id S3 gives the owner of an object an anonymous caller wrote (the ACL
/// overview: "Amazon S3 … sets the owner … to 65a011a29cdf8ec533ec3d1ccaae921c").
pub const ANONYMOUS_OWNER: &str = "65a011a29cdf8ec533ec3d1ccaae921c";

/// The canonical user `aws-exec-read` grants READ to (the EC2 AMI bundle reader, per the
/// user guide's canned ACL table).
pub const EC2_BUNDLE_READER: &str =
    "6aa5a366c34c1cbe25dc49211496e913e0351eb0e8c37aa3477e40942ec6b97c";

/// A permission an ACL grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Permission {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::FullControl => "FULL_CONTROL",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Some(match s {
            "READ" => Permission::Read,
            "WRITE" => Permission::Write,
            "READ_ACP" => Permission::ReadAcp,
            "WRITE_ACP" => Permission::WriteAcp,
            "FULL_CONTROL" => Permission::FullControl,
            _ => return None,
        })
    }

    /// Whether a grant of `self` covers `wanted` (FULL_CONTROL covers all four).
    fn covers(self, wanted: Permission) -> bool {
        self == wanted || self == Permission::FullControl
    }
}

/// S3's predefined groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Group {
    AllUsers,
    AuthenticatedUsers,
    LogDelivery,
}

impl Group {
    pub fn uri(self) -> &'static str {
        match self {
            Group::AllUsers => "http://acs.amazonaws.com/groups/global/AllUsers",
            Group::AuthenticatedUsers => {
                "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
            }
            Group::LogDelivery => "http://acs.amazonaws.com/groups/s3/LogDelivery",
        }
    }

    pub fn from_uri(uri: &str) -> Option<Group> {
        [
            Group::AllUsers,
            Group::AuthenticatedUsers,
            Group::LogDelivery,
        ]
        .into_iter()
        .find(|g| g.uri() == uri)
    }
}

/// Who a grant is for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Grantee {
    /// An account, by canonical user id.
    User(String),
    Group(Group),
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

impl Grant {
    pub fn user(id: &str, permission: Permission) -> Grant {
        Grant {
            grantee: Grantee::User(id.to_string()),
            permission,
        }
    }

    pub fn group(group: Group, permission: Permission) -> Grant {
        Grant {
            grantee: Grantee::Group(group),
            permission,
        }
    }
}

/// An owner (canonical id) and its grants.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Acl {
    pub owner: String,
    pub grants: Vec<Grant>,
}

/// The canned ACLs, by their `x-amz-acl` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Canned {
    Private,
    PublicRead,
    PublicReadWrite,
    AuthenticatedRead,
    AwsExecRead,
    BucketOwnerRead,
    BucketOwnerFullControl,
    LogDeliveryWrite,
}

impl Canned {
    const ALL: [(&'static str, Canned); 8] = [
        ("private", Canned::Private),
        ("public-read", Canned::PublicRead),
        ("public-read-write", Canned::PublicReadWrite),
        ("authenticated-read", Canned::AuthenticatedRead),
        ("aws-exec-read", Canned::AwsExecRead),
        ("bucket-owner-read", Canned::BucketOwnerRead),
        ("bucket-owner-full-control", Canned::BucketOwnerFullControl),
        ("log-delivery-write", Canned::LogDeliveryWrite),
    ];

    pub fn parse(name: &str) -> Option<Canned> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    }

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, c)| *c == self)
            .map_or("private", |(n, _)| n)
    }

    /// The grants it stands for, after the user guide's canned ACL table. On a bucket,
    /// `bucket-owner-read` and `bucket-owner-full-control` are ignored ("Amazon S3
    /// ignores it if you specify it when creating a bucket"): the owner alone.
    pub fn acl(self, owner: &str, bucket_owner: &str, for_bucket: bool) -> Acl {
        use Permission::*;
        let mut grants = vec![Grant::user(owner, FullControl)];
        match self {
            Canned::Private => {}
            Canned::PublicRead => grants.push(Grant::group(Group::AllUsers, Read)),
            Canned::PublicReadWrite => {
                grants.push(Grant::group(Group::AllUsers, Read));
                grants.push(Grant::group(Group::AllUsers, Write));
            }
            Canned::AuthenticatedRead => grants.push(Grant::group(Group::AuthenticatedUsers, Read)),
            Canned::AwsExecRead => grants.push(Grant::user(EC2_BUNDLE_READER, Read)),
            Canned::BucketOwnerRead | Canned::BucketOwnerFullControl if for_bucket => {}
            Canned::BucketOwnerRead if bucket_owner != owner => {
                grants.push(Grant::user(bucket_owner, Read))
            }
            Canned::BucketOwnerFullControl if bucket_owner != owner => {
                grants.push(Grant::user(bucket_owner, FullControl))
            }
            Canned::BucketOwnerRead | Canned::BucketOwnerFullControl => {}
            Canned::LogDeliveryWrite => {
                grants.push(Grant::group(Group::LogDelivery, Write));
                grants.push(Grant::group(Group::LogDelivery, ReadAcp));
            }
        }
        Acl {
            owner: owner.to_string(),
            grants,
        }
    }
}

impl Acl {
    /// The default: the owner's full control.
    pub fn private(owner: &str) -> Acl {
        Canned::Private.acl(owner, owner, true)
    }

    /// S3's "public" ACL: one that "grants any permissions to members of the predefined
    /// AllUsers or AuthenticatedUsers groups" (Block Public Access, §7).
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(|g| {
            matches!(
                g.grantee,
                Grantee::Group(Group::AllUsers | Group::AuthenticatedUsers)
            )
        })
    }

    /// The ACL `IgnorePublicAcls` leaves in force: without the public grants.
    pub fn without_public(&self) -> Acl {
        Acl {
            owner: self.owner.clone(),
            grants: self
                .grants
                .iter()
                .filter(|g| {
                    !matches!(
                        g.grantee,
                        Grantee::Group(Group::AllUsers | Group::AuthenticatedUsers)
                    )
                })
                .cloned()
                .collect(),
        }
    }

    /// The grant that gives `permission` to a caller, if one does. `account` is the
    /// canonical id a grant to an account must name (`None` when such grants do not
    /// apply: an anonymous caller, or an IAM user of the owner's own account, whose
    /// permissions come from its identity policy); `authenticated` says whether the
    /// request was signed (the AuthenticatedUsers group).
    pub fn grants(
        &self,
        account: Option<&str>,
        authenticated: bool,
        permission: Permission,
    ) -> Option<&Grant> {
        self.grants.iter().find(|g| {
            g.permission.covers(permission)
                && match &g.grantee {
                    Grantee::User(id) => account == Some(id.as_str()),
                    Grantee::Group(Group::AllUsers) => true,
                    Grantee::Group(Group::AuthenticatedUsers) => authenticated,
                    Grantee::Group(Group::LogDelivery) => false,
                }
        })
    }

    /// Whether it is what `BucketOwnerEnforced` still accepts: the bucket owner's full
    /// control and nothing else.
    pub fn is_owner_full_control(&self, bucket_owner: &str) -> bool {
        self.owner == bucket_owner
            && self
                .grants
                .iter()
                .all(|g| g.grantee == Grantee::User(bucket_owner.to_string()))
    }

    /// How a reason names a grant.
    pub fn describe(grant: &Grant) -> String {
        let who = match &grant.grantee {
            Grantee::User(id) => format!("canonical user {id}"),
            Grantee::Group(g) => format!("the {g:?} group"),
        };
        format!("{} to {who}", grant.permission.as_str())
    }
}

/// The ACL permission an action needs, on a bucket or on an object (the user guide's
/// mapping table; a bucket's WRITE also lets its grantees delete, as the guide's ACL
/// overview describes for bucket WRITE — the live table is silent on it, §9).
pub fn permission_for(action: &str, on_object: bool) -> Option<Permission> {
    let a = action.to_ascii_lowercase();
    Some(match (a.as_str(), on_object) {
        ("s3:getobject" | "s3:getobjectversion", true) => Permission::Read,
        ("s3:getobjectacl" | "s3:getobjectversionacl", true) => Permission::ReadAcp,
        ("s3:putobjectacl" | "s3:putobjectversionacl", true) => Permission::WriteAcp,
        ("s3:listbucket" | "s3:listbucketversions" | "s3:listbucketmultipartuploads", false) => {
            Permission::Read
        }
        ("s3:putobject" | "s3:deleteobject", false) => Permission::Write,
        ("s3:getbucketacl", false) => Permission::ReadAcp,
        ("s3:putbucketacl", false) => Permission::WriteAcp,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_expand_as_the_user_guide_lists_them() {
        let a = Canned::PublicRead.acl("o", "b", false);
        assert_eq!(
            a.grants,
            vec![
                Grant::user("o", Permission::FullControl),
                Grant::group(Group::AllUsers, Permission::Read)
            ]
        );
        assert!(a.is_public());
        assert!(!a.without_public().is_public());
        let full = Canned::BucketOwnerFullControl.acl("writer", "owner", false);
        assert_eq!(
            full.grants[1],
            Grant::user("owner", Permission::FullControl)
        );
        // Ignored on a bucket.
        assert_eq!(
            Canned::BucketOwnerFullControl.acl("o", "o", true),
            Acl::private("o")
        );
        let logs = Canned::LogDeliveryWrite.acl("o", "o", true);
        assert_eq!(logs.grants.len(), 3);
        assert!(!logs.is_public());
        assert!(Canned::parse("privatee").is_none());
        assert_eq!(
            Canned::parse("aws-exec-read").unwrap().name(),
            "aws-exec-read"
        );
    }

    #[test]
    fn grants_match_accounts_and_groups() {
        let acl = Acl {
            owner: "o".into(),
            grants: vec![
                Grant::user("o", Permission::FullControl),
                Grant::user("friend", Permission::Read),
                Grant::group(Group::AuthenticatedUsers, Permission::ReadAcp),
            ],
        };
        assert!(acl.grants(Some("o"), true, Permission::WriteAcp).is_some());
        assert!(acl.grants(Some("friend"), true, Permission::Read).is_some());
        assert!(
            acl.grants(Some("friend"), true, Permission::WriteAcp)
                .is_none()
        );
        assert!(
            acl.grants(Some("stranger"), true, Permission::ReadAcp)
                .is_some()
        );
        assert!(acl.grants(None, false, Permission::ReadAcp).is_none());
        assert!(acl.grants(None, true, Permission::Read).is_none());
        assert_eq!(permission_for("s3:GetObject", true), Some(Permission::Read));
        assert_eq!(permission_for("s3:GetObject", false), None);
        assert_eq!(
            permission_for("s3:PutObject", false),
            Some(Permission::Write)
        );
        assert_eq!(permission_for("s3:PutBucketPolicy", false), None);
    }
}
