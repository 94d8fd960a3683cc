//! A bucket's two switches over ACLs and public access: Object Ownership and Block
//! Public Access, with their XML documents.
//!
//! Since April 2023 a new bucket has `BucketOwnerEnforced` (ACLs disabled) and all four
//! Block Public Access settings on; before that, `ObjectWriter` and none
//! (docs/permissions-evidence.md §7). strict-s3 creates buckets the modern way unless
//! started with `--legacy-bucket-defaults`.

use serde::{Deserialize, Serialize};

use crate::error::{S3Error, S3ErrorCode};
use crate::xml::{XmlWriter, malformed, parse_tree_limited};

/// Object Ownership: who owns the objects written into a bucket, and whether ACLs count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ObjectOwnership {
    /// ACLs disabled; the bucket owner owns every object.
    BucketOwnerEnforced,
    /// The bucket owner owns objects written with `bucket-owner-full-control`.
    BucketOwnerPreferred,
    /// The writer's account owns what it writes (S3's behaviour before 2023).
    ObjectWriter,
}

impl ObjectOwnership {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectOwnership::BucketOwnerEnforced => "BucketOwnerEnforced",
            ObjectOwnership::BucketOwnerPreferred => "BucketOwnerPreferred",
            ObjectOwnership::ObjectWriter => "ObjectWriter",
        }
    }

    pub fn parse(s: &str) -> Option<ObjectOwnership> {
        [
            ObjectOwnership::BucketOwnerEnforced,
            ObjectOwnership::BucketOwnerPreferred,
            ObjectOwnership::ObjectWriter,
        ]
        .into_iter()
        .find(|o| o.as_str() == s)
    }

    /// `x-amz-object-ownership` on CreateBucket (localstack and versitygw give this
    /// error for an unknown value; §9).
    pub fn from_header(value: &str) -> Result<ObjectOwnership, S3Error> {
        Self::parse(value).ok_or_else(|| {
            S3Error::invalid_argument(
                format!("Invalid x-amz-object-ownership header: {value}"),
                "x-amz-object-ownership",
                value,
            )
        })
    }

    /// `<OwnershipControls><Rule><ObjectOwnership>…`.
    pub fn to_xml(self) -> String {
        let mut w = XmlWriter::new();
        w.open_ns("OwnershipControls");
        w.open("Rule");
        w.elem("ObjectOwnership", self.as_str());
        w.close("Rule");
        w.close("OwnershipControls");
        w.finish()
    }

    /// A PutBucketOwnershipControls body: exactly one rule with a known value, else
    /// MalformedXML (§9).
    pub fn from_xml(body: &[u8]) -> Result<ObjectOwnership, S3Error> {
        let doc = parse_tree_limited(body, 16)?;
        if doc.name != "OwnershipControls" {
            return Err(malformed(format!(
                "expected <OwnershipControls>, found <{}>",
                doc.name
            )));
        }
        doc.only(&["Rule"])?;
        let rule = doc
            .one("Rule")?
            .ok_or_else(|| malformed("<OwnershipControls> needs one <Rule>"))?;
        rule.only(&["ObjectOwnership"])?;
        let value = rule
            .one("ObjectOwnership")?
            .map(|e| e.text.trim().to_string())
            .unwrap_or_default();
        Self::parse(&value).ok_or_else(|| {
            malformed(format!(
                "ObjectOwnership is BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter, not {value:?}"
            ))
        })
    }
}

/// Block Public Access, as a bucket's `PublicAccessBlockConfiguration`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAccessBlock {
    /// A request carrying a public ACL is refused (403).
    pub block_public_acls: bool,
    /// Public ACLs are not evaluated.
    pub ignore_public_acls: bool,
    /// A public bucket policy is refused (PutBucketPolicy 403).
    pub block_public_policy: bool,
    /// A public policy grants only the bucket owner's account.
    pub restrict_public_buckets: bool,
}

const PAB_FIELDS: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

impl PublicAccessBlock {
    /// All four on: a new bucket's setting since April 2023.
    pub const ALL: PublicAccessBlock = PublicAccessBlock {
        block_public_acls: true,
        ignore_public_acls: true,
        block_public_policy: true,
        restrict_public_buckets: true,
    };

    fn fields(&self) -> [bool; 4] {
        [
            self.block_public_acls,
            self.ignore_public_acls,
            self.block_public_policy,
            self.restrict_public_buckets,
        ]
    }

    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_ns("PublicAccessBlockConfiguration");
        for (name, on) in PAB_FIELDS.iter().zip(self.fields()) {
            w.elem(name, if on { "true" } else { "false" });
        }
        w.close("PublicAccessBlockConfiguration");
        w.finish()
    }

    /// A PutPublicAccessBlock body. Each element is optional ("Required: No") and
    /// absent means false; a value other than true or false is MalformedXML (no AWS
    /// capture of that case exists; §9).
    pub fn from_xml(body: &[u8]) -> Result<PublicAccessBlock, S3Error> {
        let doc = parse_tree_limited(body, 16)?;
        if doc.name != "PublicAccessBlockConfiguration" {
            return Err(malformed(format!(
                "expected <PublicAccessBlockConfiguration>, found <{}>",
                doc.name
            )));
        }
        doc.only(&PAB_FIELDS)?;
        let mut v = [false; 4];
        for (slot, name) in v.iter_mut().zip(PAB_FIELDS) {
            *slot = match doc.one(name)?.map(|e| e.text.trim()) {
                None => false,
                Some(t) if t.eq_ignore_ascii_case("true") => true,
                Some(t) if t.eq_ignore_ascii_case("false") => false,
                Some(t) => {
                    return Err(malformed(format!("<{name}> is true or false, not {t:?}")));
                }
            };
        }
        Ok(PublicAccessBlock {
            block_public_acls: v[0],
            ignore_public_acls: v[1],
            block_public_policy: v[2],
            restrict_public_buckets: v[3],
        })
    }

    /// The 403 S3 gives a request Block Public Access refuses (the code is certain, the
    /// current message is not captured: §6).
    pub fn refusal(setting: &str, what: &str) -> S3Error {
        S3Error::new(S3ErrorCode::AccessDenied)
            .reason(format!(
                "{what}, and the bucket's Block Public Access setting {setting} is on (DeletePublicAccessBlock or PutPublicAccessBlock turns it off; --legacy-bucket-defaults creates buckets without it)"
            ))
            .at(crate::error::Check::Access)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip_and_bad_ones_are_malformed() {
        for o in [
            ObjectOwnership::BucketOwnerEnforced,
            ObjectOwnership::BucketOwnerPreferred,
            ObjectOwnership::ObjectWriter,
        ] {
            assert_eq!(ObjectOwnership::from_xml(o.to_xml().as_bytes()).unwrap(), o);
        }
        let bad = b"<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>";
        assert_eq!(
            ObjectOwnership::from_xml(bad).unwrap_err().code,
            S3ErrorCode::MalformedXML
        );
        let e = ObjectOwnership::from_header("mine").unwrap_err();
        assert_eq!(e.code, S3ErrorCode::InvalidArgument);
        let pab = PublicAccessBlock::ALL;
        assert_eq!(
            PublicAccessBlock::from_xml(pab.to_xml().as_bytes()).unwrap(),
            pab
        );
        let partial = b"<PublicAccessBlockConfiguration><BlockPublicPolicy>TRUE</BlockPublicPolicy></PublicAccessBlockConfiguration>";
        let got = PublicAccessBlock::from_xml(partial).unwrap();
        assert!(got.block_public_policy && !got.block_public_acls);
        let bad = b"<PublicAccessBlockConfiguration><BlockPublicAcls>yes</BlockPublicAcls></PublicAccessBlockConfiguration>";
        assert_eq!(
            PublicAccessBlock::from_xml(bad).unwrap_err().code,
            S3ErrorCode::MalformedXML
        );
    }
}
