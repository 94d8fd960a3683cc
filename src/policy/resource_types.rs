//! Which resource type each S3 action applies to, so a bucket policy statement whose
//! actions apply to none of its resources is refused as S3 refuses it: MalformedPolicy
//! "Action does not apply to any resource(s) in statement" (an `s3:PutObject` on
//! `arn:aws:s3:::bucket`, or an `s3:ListBucket` on `arn:aws:s3:::bucket/*`). Evidence:
//! ministryofjustice/modernisation-platform PR #10762 (the SDK error with AWS's request
//! id) and versitygw#645; docs/permissions-evidence.md §2.
//!
//! The lists follow the "Resource types" column of AWS's "Actions, resources, and
//! condition keys for Amazon S3" (service authorization reference): `object` for the
//! first, `bucket` for the second. Account-level actions (`s3:ListAllMyBuckets`,
//! `s3:GetAccountPublicAccessBlock`, ...) take `*` and so apply to nothing a bucket
//! policy may name. An action this table does not know is never refused for its
//! resource type: the check only refuses what it is sure of.

use super::wildcard;

const OBJECT_ACTIONS: &[&str] = &[
    "s3:AbortMultipartUpload",
    "s3:BypassGovernanceRetention",
    "s3:DeleteObject",
    "s3:DeleteObjectTagging",
    "s3:DeleteObjectVersion",
    "s3:DeleteObjectVersionTagging",
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:GetObjectAttributes",
    "s3:GetObjectLegalHold",
    "s3:GetObjectRetention",
    "s3:GetObjectTagging",
    "s3:GetObjectTorrent",
    "s3:GetObjectVersion",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionAttributes",
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionTagging",
    "s3:GetObjectVersionTorrent",
    "s3:InitiateReplication",
    "s3:ListMultipartUploadParts",
    "s3:ObjectOwnerOverrideToBucketOwner",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:PutObjectLegalHold",
    "s3:PutObjectRetention",
    "s3:PutObjectTagging",
    "s3:PutObjectVersionAcl",
    "s3:PutObjectVersionTagging",
    "s3:ReplicateDelete",
    "s3:ReplicateObject",
    "s3:ReplicateTags",
    "s3:RestoreObject",
];

const BUCKET_ACTIONS: &[&str] = &[
    "s3:CreateBucket",
    "s3:DeleteBucket",
    "s3:DeleteBucketOwnershipControls",
    "s3:DeleteBucketPolicy",
    "s3:DeleteBucketWebsite",
    "s3:GetAccelerateConfiguration",
    "s3:GetAnalyticsConfiguration",
    "s3:GetBucketAcl",
    "s3:GetBucketCORS",
    "s3:GetBucketLocation",
    "s3:GetBucketLogging",
    "s3:GetBucketNotification",
    "s3:GetBucketObjectLockConfiguration",
    "s3:GetBucketOwnershipControls",
    "s3:GetBucketPolicy",
    "s3:GetBucketPolicyStatus",
    "s3:GetBucketPublicAccessBlock",
    "s3:GetBucketRequestPayment",
    "s3:GetBucketTagging",
    "s3:GetBucketVersioning",
    "s3:GetBucketWebsite",
    "s3:GetEncryptionConfiguration",
    "s3:GetIntelligentTieringConfiguration",
    "s3:GetInventoryConfiguration",
    "s3:GetLifecycleConfiguration",
    "s3:GetMetricsConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
    "s3:ListBucketVersions",
    "s3:PutAccelerateConfiguration",
    "s3:PutAnalyticsConfiguration",
    "s3:PutBucketAcl",
    "s3:PutBucketCORS",
    "s3:PutBucketLogging",
    "s3:PutBucketNotification",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutBucketOwnershipControls",
    "s3:PutBucketPolicy",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketRequestPayment",
    "s3:PutBucketTagging",
    "s3:PutBucketVersioning",
    "s3:PutBucketWebsite",
    "s3:PutEncryptionConfiguration",
    "s3:PutIntelligentTieringConfiguration",
    "s3:PutInventoryConfiguration",
    "s3:PutLifecycleConfiguration",
    "s3:PutMetricsConfiguration",
    "s3:PutReplicationConfiguration",
];

/// Account-level actions (resource `*`): known, and applying to no bucket or object.
const ACCOUNT_ACTIONS: &[&str] = &[
    "s3:GetAccountPublicAccessBlock",
    "s3:ListAllMyBuckets",
    "s3:ListAccessPoints",
    "s3:ListJobs",
    "s3:PutAccountPublicAccessBlock",
    "s3:CreateJob",
];

/// Whether a statement whose `Action` patterns are `actions` applies to any of the
/// resource types its resources name (`bucket`: some resource is the bucket itself;
/// `object`: some resource is under it). `true` when an action is not in the table.
pub fn applies(actions: &[String], bucket: bool, object: bool) -> bool {
    actions.iter().any(|pattern| {
        let any = |list: &[&str]| list.iter().any(|a| wildcard::matches(pattern, a, true));
        let known = any(OBJECT_ACTIONS) || any(BUCKET_ACTIONS) || any(ACCOUNT_ACTIONS);
        !known || (object && any(OBJECT_ACTIONS)) || (bucket && any(BUCKET_ACTIONS))
    })
}

#[cfg(test)]
mod tests {
    use super::applies;

    fn a(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn actions_and_resource_types() {
        assert!(applies(&a(&["s3:GetObject"]), false, true));
        assert!(!applies(&a(&["s3:GetObject"]), true, false));
        assert!(!applies(&a(&["s3:ListBucket"]), false, true));
        assert!(applies(&a(&["s3:ListBucket", "s3:GetObject"]), true, false));
        assert!(applies(&a(&["s3:*"]), true, false));
        assert!(applies(&a(&["s3:Get*"]), false, true));
        assert!(
            applies(&a(&["s3:getobject"]), false, true),
            "case-insensitive"
        );
        assert!(!applies(&a(&["s3:ListAllMyBuckets"]), true, true));
        assert!(!applies(&a(&["s3:PutObject*"]), true, false));
        assert!(
            applies(&a(&["s3:SomeFutureAction"]), true, false),
            "unknown: not refused"
        );
    }
}
