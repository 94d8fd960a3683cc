//! The query parameters S3 treats as sub-resources: the one list, with what each does.
//!
//! Two things depend on it. The route table: a sub-resource selects another operation
//! (`?acl`, `?uploads`), so one strict-s3 does not implement is refused by name rather than
//! served as the plain operation. And SigV2: its canonicalized resource includes the
//! sub-resources AWS lists (plus the `response-*` overrides and `select-type`, which
//! botocore's `HmacV1Auth` signs too), and no other parameter.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html>

/// Selects an operation in the route table.
const ROUTES: u8 = 1;
/// Part of SigV2's canonicalized resource.
const SIGNED_V2: u8 = 2;

/// Sorted by name (SigV2 lists them in this order).
const TABLE: &[(&str, u8)] = &[
    ("accelerate", ROUTES | SIGNED_V2),
    ("acl", ROUTES | SIGNED_V2),
    ("analytics", ROUTES | SIGNED_V2),
    ("attributes", ROUTES),
    ("cors", ROUTES | SIGNED_V2),
    ("delete", ROUTES | SIGNED_V2),
    ("encryption", ROUTES | SIGNED_V2),
    ("intelligent-tiering", ROUTES | SIGNED_V2),
    ("inventory", ROUTES | SIGNED_V2),
    ("legal-hold", ROUTES),
    ("lifecycle", ROUTES | SIGNED_V2),
    ("location", ROUTES | SIGNED_V2),
    ("logging", ROUTES | SIGNED_V2),
    ("metadataConfiguration", ROUTES),
    ("metrics", ROUTES | SIGNED_V2),
    ("notification", ROUTES | SIGNED_V2),
    ("object-lock", ROUTES | SIGNED_V2),
    ("ownershipControls", ROUTES | SIGNED_V2),
    ("partNumber", ROUTES | SIGNED_V2),
    ("policy", ROUTES | SIGNED_V2),
    ("policyStatus", ROUTES),
    ("publicAccessBlock", ROUTES | SIGNED_V2),
    ("replication", ROUTES | SIGNED_V2),
    ("requestPayment", ROUTES | SIGNED_V2),
    ("response-cache-control", SIGNED_V2),
    ("response-content-disposition", SIGNED_V2),
    ("response-content-encoding", SIGNED_V2),
    ("response-content-language", SIGNED_V2),
    ("response-content-type", SIGNED_V2),
    ("response-expires", SIGNED_V2),
    ("restore", ROUTES | SIGNED_V2),
    ("retention", ROUTES),
    ("select", ROUTES | SIGNED_V2),
    ("select-type", SIGNED_V2),
    ("session", ROUTES),
    ("tagging", ROUTES | SIGNED_V2),
    ("torrent", ROUTES | SIGNED_V2),
    ("uploadId", ROUTES | SIGNED_V2),
    ("uploads", ROUTES | SIGNED_V2),
    ("versionId", ROUTES | SIGNED_V2),
    ("versioning", ROUTES | SIGNED_V2),
    ("versions", ROUTES | SIGNED_V2),
    ("website", ROUTES | SIGNED_V2),
];

fn has(name: &str, flag: u8) -> bool {
    // Every request's own signing parameters (`X-Amz-Signature`...) are none of these:
    // answered without the search, which every parameter of every request runs.
    if name.starts_with("X-Amz-") {
        return false;
    }
    TABLE
        .binary_search_by(|(n, _)| n.cmp(&name))
        .is_ok_and(|i| TABLE[i].1 & flag != 0)
}

/// Whether the parameter selects an operation (the route table reads it).
pub fn selects_operation(name: &str) -> bool {
    has(name, ROUTES)
}

/// Whether the parameter is part of SigV2's canonicalized resource.
pub fn signed_by_v2(name: &str) -> bool {
    has(name, SIGNED_V2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_and_answers_both_questions() {
        assert!(
            TABLE.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no repeats"
        );
        assert!(selects_operation("acl") && signed_by_v2("acl"));
        assert!(selects_operation("retention") && !signed_by_v2("retention"));
        assert!(
            !selects_operation("response-content-type") && signed_by_v2("response-content-type")
        );
        assert!(!selects_operation("prefix") && !signed_by_v2("prefix"));
        assert!(!selects_operation("Acl"), "names are case-sensitive");
    }
}
