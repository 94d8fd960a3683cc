//! The ACL a request asks for: a canned ACL (`x-amz-acl`, or a POST form's `acl`
//! field) or grants (`x-amz-grant-*`), each checked as S3 checks it (evidence in
//! docs/permissions-evidence.md §6 and §9).

use super::{Acl, Canned, Grant, Grantee, Group, Permission};
use crate::error::{S3Error, S3ErrorCode};

/// The grant headers and the permission each grants; `x-amz-grant-write` exists for
/// buckets only (PutObject has no such header, so S3 ignores it there).
const GRANT_HEADERS: [(&str, Permission); 5] = [
    ("x-amz-grant-read", Permission::Read),
    ("x-amz-grant-write", Permission::Write),
    ("x-amz-grant-read-acp", Permission::ReadAcp),
    ("x-amz-grant-write-acp", Permission::WriteAcp),
    ("x-amz-grant-full-control", Permission::FullControl),
];

/// What the request asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AclRequest {
    Canned(Canned),
    /// Header grants replace the whole ACL; the owner's full control is not added.
    Grants(Vec<Grant>),
}

/// Whether a request carries an ACL of its own (a header a write must also be allowed
/// `s3:PutObjectAcl` for).
pub fn has_acl_headers<'a>(header: &dyn Fn(&str) -> Option<&'a str>, for_bucket: bool) -> bool {
    header("x-amz-acl").is_some()
        || GRANT_HEADERS
            .iter()
            .any(|(h, p)| (for_bucket || *p != Permission::Write) && header(h).is_some())
}

impl AclRequest {
    /// Reads the ACL headers. `known` says whether a canonical id names an account this
    /// server knows (S3 refuses an id of no account: "Invalid id").
    pub fn from_headers<'a>(
        header: &dyn Fn(&str) -> Option<&'a str>,
        for_bucket: bool,
        known: &dyn Fn(&str) -> bool,
    ) -> Result<Option<AclRequest>, S3Error> {
        let canned = header("x-amz-acl");
        if canned.is_some()
            && has_acl_headers(&|h| header(h).filter(|_| h != "x-amz-acl"), for_bucket)
        {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                "Specifying both Canned ACLs and Header Grants is not allowed",
            )
            .reason("send either x-amz-acl or x-amz-grant-* headers, not both"));
        }
        let mut grants = Vec::new();
        for (name, permission) in GRANT_HEADERS {
            if permission == Permission::Write && !for_bucket {
                continue;
            }
            if let Some(value) = header(name) {
                for grantee in parse_grantees(name, value, known)? {
                    grants.push(Grant {
                        grantee,
                        permission,
                    });
                }
            }
        }
        match (canned, grants.is_empty()) {
            (Some(name), _) => Self::canned(name, "x-amz-acl", for_bucket).map(Some),
            (None, false) => Ok(Some(AclRequest::Grants(grants))),
            (None, true) => Ok(None),
        }
    }

    /// A canned ACL by name; an unknown one is S3's InvalidArgument with an empty
    /// message (real bodies in versitygw#1367). `log-delivery-write` is for buckets.
    pub fn canned(name: &str, field: &str, for_bucket: bool) -> Result<AclRequest, S3Error> {
        match Canned::parse(name) {
            Some(Canned::LogDeliveryWrite) if !for_bucket => {}
            Some(c) => return Ok(AclRequest::Canned(c)),
            None => {}
        }
        Err(S3Error::invalid_argument("", field, name).reason(format!(
            "{name:?} is not a canned ACL {} accepts",
            if for_bucket { "a bucket" } else { "an object" }
        )))
    }

    /// The ACL it stands for, for a resource `owner` owns in a bucket `bucket_owner` owns.
    pub fn resolve(&self, owner: &str, bucket_owner: &str, for_bucket: bool) -> Acl {
        match self {
            AclRequest::Canned(c) => c.acl(owner, bucket_owner, for_bucket),
            AclRequest::Grants(grants) => Acl {
                owner: owner.to_string(),
                grants: grants.clone(),
            },
        }
    }

    /// `bucket-owner-full-control`, the one canned ACL `BucketOwnerPreferred` hands the
    /// object to the bucket owner for.
    pub fn is_bucket_owner_full_control(&self) -> bool {
        matches!(self, AclRequest::Canned(Canned::BucketOwnerFullControl))
    }
}

/// `id="…", uri="…", emailAddress="…"`: one or more grantees, comma-separated.
fn parse_grantees(
    header: &str,
    value: &str,
    known: &dyn Fn(&str) -> bool,
) -> Result<Vec<Grantee>, S3Error> {
    let unrecognized = || {
        S3Error::invalid_argument("Argument format not recognized", header, value).reason(format!(
            "{header} holds type=\"value\" pairs (id=, uri=, emailAddress=) separated by commas"
        ))
    };
    let mut out = Vec::new();
    for item in value.split(',') {
        let (kind, raw) = item.trim().split_once('=').ok_or_else(unrecognized)?;
        let v = raw.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(v);
        if v.is_empty() {
            return Err(unrecognized());
        }
        out.push(match kind.trim() {
            "id" if known(v) => Grantee::User(v.to_string()),
            "id" => {
                return Err(S3Error::invalid_argument("Invalid id", "id", v).reason(format!(
                    "no account this server knows has canonical id {v} (--account adds accounts)"
                )));
            }
            "uri" => match Group::from_uri(v) {
                Some(g) => Grantee::Group(g),
                None => {
                    return Err(S3Error::invalid_argument("Invalid group uri", "uri", v));
                }
            },
            "emailAddress" => return Err(unresolvable_email(v)),
            _ => return Err(unrecognized()),
        });
    }
    Ok(out)
}

/// An email grantee: no account here has an email address.
pub fn unresolvable_email(address: &str) -> S3Error {
    S3Error::new(S3ErrorCode::UnresolvableGrantByEmailAddress)
        .extra("EmailAddress", address)
        .reason("strict-s3's accounts have no email addresses; grant by canonical id (id=) instead")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    #[test]
    fn grant_headers_as_s3_reads_them() {
        let known = |id: &str| id == "abc";
        let h = headers(&[
            (
                "x-amz-grant-read",
                "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\", id=\"abc\"",
            ),
            ("x-amz-grant-write", "id=abc"),
        ]);
        let got = AclRequest::from_headers(&h, false, &known)
            .unwrap()
            .unwrap();
        assert_eq!(
            got,
            AclRequest::Grants(vec![
                Grant::group(Group::AllUsers, Permission::Read),
                Grant::user("abc", Permission::Read),
            ])
        );
        let both = headers(&[("x-amz-acl", "private"), ("x-amz-grant-read", "id=abc")]);
        let e = AclRequest::from_headers(&both, true, &known).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::InvalidRequest);
        for (value, message) in [
            ("foo", "Argument format not recognized"),
            ("id=\"nobody\"", "Invalid id"),
            ("uri=http://example.com/group", "Invalid group uri"),
        ] {
            let pairs = [("x-amz-grant-read", value)];
            let h = headers(&pairs);
            let e = AclRequest::from_headers(&h, true, &known).unwrap_err();
            assert_eq!(
                (e.code, &*e.message),
                (S3ErrorCode::InvalidArgument, message)
            );
        }
        let email = headers(&[("x-amz-grant-read", "emailAddress=\"a@b.c\"")]);
        assert_eq!(
            AclRequest::from_headers(&email, true, &known)
                .unwrap_err()
                .code,
            S3ErrorCode::UnresolvableGrantByEmailAddress
        );
        let bad = AclRequest::canned("log-delivery-write", "x-amz-acl", false).unwrap_err();
        assert_eq!(
            (bad.code, &*bad.message),
            (S3ErrorCode::InvalidArgument, "")
        );
        assert!(
            AclRequest::from_headers(&headers(&[]), true, &known)
                .unwrap()
                .is_none()
        );
    }
}
