//! The `AccessControlPolicy` document: what GetBucketAcl / GetObjectAcl answer and
//! PutBucketAcl / PutObjectAcl accept. The shape follows a real S3 body (aws-sdk-go-v2#1078):
//! `Owner` then `AccessControlList` of `Grant`s, each `Grantee` typed with `xsi:type`.
//! No `DisplayName`: S3 stopped returning it on November 21, 2025 (API reference notice;
//! docs/permissions-evidence.md §9).

use super::request::unresolvable_email;
use super::{Acl, Grant, Grantee, Group, Permission};
use crate::error::{S3Error, S3ErrorCode};
use crate::xml::{Element, XmlWriter, parse_tree_limited};

const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// "An ACL can have up to 100 grants" (the user guide's ACL overview).
pub const MAX_GRANTS: usize = 100;

/// The document for an ACL.
pub fn write(acl: &Acl) -> String {
    let mut w = XmlWriter::new();
    w.open_ns("AccessControlPolicy");
    w.open("Owner");
    w.elem("ID", &acl.owner);
    w.close("Owner");
    w.open("AccessControlList");
    for g in &acl.grants {
        w.open("Grant");
        match &g.grantee {
            Grantee::User(id) => {
                w.open_with(
                    "Grantee",
                    &[("xmlns:xsi", XSI), ("xsi:type", "CanonicalUser")],
                );
                w.elem("ID", id);
            }
            Grantee::Group(group) => {
                w.open_with("Grantee", &[("xmlns:xsi", XSI), ("xsi:type", "Group")]);
                w.elem("URI", group.uri());
            }
        }
        w.close("Grantee");
        w.elem("Permission", g.permission.as_str());
        w.close("Grant");
    }
    w.close("AccessControlList");
    w.close("AccessControlPolicy");
    w.finish()
}

/// `MalformedACLError`, with what did not fit the schema.
fn malformed_acl(reason: impl Into<String>) -> S3Error {
    S3Error::new(S3ErrorCode::MalformedACLError).reason(reason)
}

/// Parses a PutBucketAcl / PutObjectAcl body. The owner it names must be the resource's
/// owner (an ACL cannot give a resource away: 403 AccessDenied, as ceph's
/// `test_object_giveaway` records of S3); `known` says whether a canonical id names an
/// account.
pub fn parse(body: &[u8], owner: &str, known: &dyn Fn(&str) -> bool) -> Result<Acl, S3Error> {
    let doc = parse_tree_limited(body, 8 + MAX_GRANTS * 6).map_err(|e| {
        let why = e.reason.unwrap_or_else(|| e.message.to_string());
        malformed_acl(why)
    })?;
    if doc.name != "AccessControlPolicy" {
        return Err(malformed_acl(format!(
            "expected <AccessControlPolicy>, found <{}>",
            doc.name
        )));
    }
    let one = |el: &Element, name: &str| -> Result<Option<Element>, S3Error> {
        el.one(name)
            .map(|e| e.cloned())
            .map_err(|_| malformed_acl(format!("<{name}> appears twice in <{}>", el.name)))
    };
    let owner_el = one(&doc, "Owner")?.ok_or_else(|| malformed_acl("<Owner> is missing"))?;
    let claimed = one(&owner_el, "ID")?
        .map(|e| e.text.trim().to_string())
        .ok_or_else(|| malformed_acl("<Owner> has no <ID>"))?;
    if claimed != owner {
        return Err(S3Error::new(S3ErrorCode::AccessDenied).reason(format!(
            "the ACL names owner {claimed}, but the owner is {owner}: an ACL cannot change the owner"
        )));
    }
    let mut grants = Vec::new();
    if let Some(list) = one(&doc, "AccessControlList")? {
        for g in &list.children {
            if g.name != "Grant" {
                return Err(malformed_acl(format!(
                    "<{}> inside <AccessControlList>",
                    g.name
                )));
            }
            grants.push(parse_grant(g, known)?);
        }
    }
    if grants.len() > MAX_GRANTS {
        return Err(malformed_acl(format!(
            "{} grants; an ACL holds at most {MAX_GRANTS}",
            grants.len()
        )));
    }
    Ok(Acl {
        owner: owner.to_string(),
        grants,
    })
}

fn parse_grant(g: &Element, known: &dyn Fn(&str) -> bool) -> Result<Grant, S3Error> {
    let grantee = g
        .one("Grantee")
        .ok()
        .flatten()
        .ok_or_else(|| malformed_acl("a <Grant> needs one <Grantee>"))?;
    let permission = g
        .one("Permission")
        .ok()
        .flatten()
        .and_then(|p| Permission::parse(p.text.trim()))
        .ok_or_else(|| {
            malformed_acl("a <Grant> needs one <Permission>: READ, WRITE, READ_ACP, WRITE_ACP or FULL_CONTROL")
        })?;
    let text = |name: &str| {
        grantee
            .one(name)
            .ok()
            .flatten()
            .map(|e| e.text.trim().to_string())
    };
    let grantee = match grantee.xsi_type.as_deref() {
        Some("CanonicalUser") => {
            let id =
                text("ID").ok_or_else(|| malformed_acl("a CanonicalUser grantee has no <ID>"))?;
            if !known(&id) {
                return Err(
                    S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid id")
                        .extra("ArgumentName", "CanonicalUser/ID")
                        .extra("ArgumentValue", id.clone())
                        .reason(format!(
                            "no account this server knows has canonical id {id}"
                        )),
                );
            }
            Grantee::User(id)
        }
        Some("Group") => {
            let uri = text("URI").ok_or_else(|| malformed_acl("a Group grantee has no <URI>"))?;
            Grantee::Group(Group::from_uri(&uri).ok_or_else(|| {
                S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid group uri")
                    .extra("ArgumentName", "Group/URI")
                    .extra("ArgumentValue", uri.clone())
            })?)
        }
        Some("AmazonCustomerByEmail") => {
            return Err(unresolvable_email(
                &text("EmailAddress").unwrap_or_default(),
            ));
        }
        other => {
            return Err(malformed_acl(format!(
                "a <Grantee> needs xsi:type CanonicalUser, Group or AmazonCustomerByEmail, not {other:?}"
            )));
        }
    };
    Ok(Grant {
        grantee,
        permission,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::Canned;

    #[test]
    fn round_trips_and_refuses_as_s3_does() {
        let acl = Canned::PublicRead.acl("owner1", "owner1", false);
        let text = write(&acl);
        assert!(text.contains(
            r#"<Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission>"#
        ), "{text}");
        let known = |id: &str| id == "owner1";
        assert_eq!(parse(text.as_bytes(), "owner1", &known).unwrap(), acl);
        let e = parse(text.as_bytes(), "someone-else", &known).unwrap_err();
        assert_eq!(e.code, S3ErrorCode::AccessDenied);
        for bad in [
            "<AccessControlPolicy>",
            "<Other/>",
            "<AccessControlPolicy><Owner><ID>owner1</ID></Owner><AccessControlList><Grant><Grantee><ID>owner1</ID></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>",
            "<AccessControlPolicy><Owner><ID>owner1</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>owner1</ID></Grantee><Permission>ALL</Permission></Grant></AccessControlList></AccessControlPolicy>",
        ] {
            assert_eq!(
                parse(bad.as_bytes(), "owner1", &known).unwrap_err().code,
                S3ErrorCode::MalformedACLError,
                "{bad}"
            );
        }
        let unknown = text.replace("<ID>owner1</ID></Grantee>", "<ID>nobody</ID></Grantee>");
        let e = parse(unknown.as_bytes(), "owner1", &known).unwrap_err();
        assert_eq!(
            (e.code, &*e.message),
            (S3ErrorCode::InvalidArgument, "Invalid id")
        );
    }
}
