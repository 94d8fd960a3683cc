//! ACLs, Object Ownership, Block Public Access and a second account, through the HTTP
//! API: each rule with its accepted and its refused twin, and S3's codes and messages.

mod common;

use common::*;
use strict_s3::config::{Config, Credential};
use strict_s3::identity::{Account, DEFAULT_CANONICAL_ID};

const OTHER: (&str, &str) = ("AKIAOTHERACCOUNT0000", "other-secret");

fn other_account() -> std::sync::Arc<Account> {
    Account::derived(OTHER.0)
}

async fn server() -> TestServer {
    let config = Config {
        buckets: vec!["bkt".into()],
        credentials: vec![
            Credential::new(AK, SK),
            Credential::root_of(other_account(), OTHER.0, OTHER.1),
        ],
        ..Config::in_memory()
    };
    TestServer::start(config, t0()).await
}

fn owner(s: &TestServer, r: Raw) -> Raw {
    signed(s, r, (AK, SK))
}

#[tokio::test]
async fn new_buckets_disable_acls_and_block_public_access() {
    let s = server().await;
    let put = |acl: &str| {
        owner(
            &s,
            Raw::new("PUT", "/bkt/k")
                .header("x-amz-acl", acl)
                .body(b"x"),
        )
    };
    let resp = s.send(&put("public-read")).await;
    resp.assert_error(
        400,
        "AccessControlListNotSupported",
        Some("The bucket does not allow ACLs"),
    );
    assert!(
        resp.header("x-strict-s3-reason")
            .unwrap()
            .contains("BucketOwnerEnforced")
    );
    s.send(&put("private"))
        .await
        .assert_error(400, "AccessControlListNotSupported", None);
    assert_eq!(s.send(&put("bucket-owner-full-control")).await.status, 200);

    let ownership = s
        .send(&owner(&s, Raw::new("GET", "/bkt?ownershipControls")))
        .await;
    assert_eq!(
        ownership.xml("ObjectOwnership").as_deref(),
        Some("BucketOwnerEnforced")
    );
    let pab = s
        .send(&owner(&s, Raw::new("GET", "/bkt?publicAccessBlock")))
        .await;
    for f in [
        "BlockPublicAcls",
        "IgnorePublicAcls",
        "BlockPublicPolicy",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(pab.xml(f).as_deref(), Some("true"), "{f}");
    }
    let acl = s.send(&owner(&s, Raw::new("GET", "/bkt/k?acl"))).await;
    assert_eq!(acl.status, 200);
    let text = acl.body_text();
    assert!(
        text.contains(&format!("<Owner><ID>{DEFAULT_CANONICAL_ID}</ID></Owner>")),
        "{text}"
    );
    assert!(
        text.contains(r#"xsi:type="CanonicalUser""#)
            && text.contains("<Permission>FULL_CONTROL</Permission>")
    );
    // Setting an ACL is refused, whatever it is ("Requests to set ACLs or update ACLs
    // fail"); reading one is not.
    for (target, acl) in [
        ("/bkt/k?acl", "public-read"),
        ("/bkt/k?acl", "private"),
        ("/bkt/k?acl", "bucket-owner-full-control"),
        ("/bkt?acl", "private"),
    ] {
        s.send(&owner(&s, Raw::new("PUT", target).header("x-amz-acl", acl)))
            .await
            .assert_error(400, "AccessControlListNotSupported", None);
    }
    // CreateBucket with an ACL needs another ownership, and a public one is blocked.
    s.send(&owner(
        &s,
        Raw::new("PUT", "/acl-bucket").header("x-amz-acl", "public-read"),
    ))
    .await
    .assert_error(
        400,
        "InvalidBucketAclWithObjectOwnership",
        Some("Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"),
    );
    s.send(&owner(
        &s,
        Raw::new("PUT", "/acl-bucket")
            .header("x-amz-acl", "public-read")
            .header("x-amz-object-ownership", "ObjectWriter"),
    ))
    .await
    .assert_error(
        400,
        "InvalidBucketAclWithBlockPublicAccessError",
        Some("Bucket cannot have public ACLs set with BlockPublicAccess enabled"),
    );
    s.send(&owner(
        &s,
        Raw::new("PUT", "/acl-bucket").header("x-amz-object-ownership", "Mine"),
    ))
    .await
    .assert_error(
        400,
        "InvalidArgument",
        Some("Invalid x-amz-object-ownership header: Mine"),
    );
}

/// A bucket with ACLs enabled: a public-read object is readable without credentials, a
/// private one is not, PutObjectAcl changes that, and BlockPublicAcls refuses public ones.
#[tokio::test]
async fn acls_decide_where_ownership_enables_them() {
    let s = server().await;
    let create = owner(
        &s,
        Raw::new("PUT", "/legacy").header("x-amz-object-ownership", "ObjectWriter"),
    );
    assert_eq!(s.send(&create).await.status, 200);
    let put_public = || {
        owner(
            &s,
            Raw::new("PUT", "/legacy/pub")
                .header("x-amz-acl", "public-read")
                .body(b"public"),
        )
    };
    let blocked = s.send(&put_public()).await;
    blocked.assert_error(403, "AccessDenied", Some("Access Denied"));
    assert!(
        blocked
            .header("x-strict-s3-reason")
            .unwrap()
            .contains("BlockPublicAcls")
    );
    let unblock = owner(&s, Raw::new("DELETE", "/legacy?publicAccessBlock"));
    assert_eq!(s.send(&unblock).await.status, 204);
    s.send(&owner(&s, Raw::new("GET", "/legacy?publicAccessBlock")))
        .await
        .assert_error(
            404,
            "NoSuchPublicAccessBlockConfiguration",
            Some("The public access block configuration was not found"),
        );
    assert_eq!(s.send(&put_public()).await.status, 200);
    s.send(&owner(&s, Raw::new("PUT", "/legacy/priv").body(b"private")))
        .await;
    let anon = s.send(&Raw::new("GET", "/legacy/pub")).await;
    assert_eq!((anon.status, anon.body_text().as_str()), (200, "public"));
    s.send(&Raw::new("GET", "/legacy/priv")).await.assert_error(
        403,
        "AccessDenied",
        Some("Access Denied"),
    );
    let acl = s.send(&owner(&s, Raw::new("GET", "/legacy/pub?acl"))).await;
    assert!(
        acl.body_text()
            .contains("<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission>"),
        "{}",
        acl.body_text()
    );
    // PutObjectAcl: private again, then a grant by header.
    let private = owner(
        &s,
        Raw::new("PUT", "/legacy/pub?acl").header("x-amz-acl", "private"),
    );
    assert_eq!(s.send(&private).await.status, 200);
    s.send(&Raw::new("GET", "/legacy/pub"))
        .await
        .assert_error(403, "AccessDenied", None);
    let grant = owner(
        &s,
        Raw::new("PUT", "/legacy/pub?acl").header(
            "x-amz-grant-read",
            "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"",
        ),
    );
    assert_eq!(s.send(&grant).await.status, 200);
    assert_eq!(s.send(&Raw::new("GET", "/legacy/pub")).await.status, 200);
    // Header errors, as S3 words them.
    s.send(&owner(
        &s,
        Raw::new("PUT", "/legacy/pub?acl").header("x-amz-grant-read", "foo"),
    ))
    .await
    .assert_error(
        400,
        "InvalidArgument",
        Some("Argument format not recognized"),
    );
    s.send(&owner(
        &s,
        Raw::new("PUT", "/legacy/pub?acl")
            .header("x-amz-acl", "private")
            .header("x-amz-grant-read", "id=\"x\""),
    ))
    .await
    .assert_error(
        400,
        "InvalidRequest",
        Some("Specifying both Canned ACLs and Header Grants is not allowed"),
    );
    s.send(&owner(&s, Raw::new("PUT", "/legacy/pub?acl")))
        .await
        .assert_error(400, "MissingSecurityHeader", None);
    // A public-read *bucket* ACL lets everyone list, not read its private objects.
    let open = owner(
        &s,
        Raw::new("PUT", "/legacy?acl").header("x-amz-acl", "public-read"),
    );
    assert_eq!(s.send(&open).await.status, 200);
    assert_eq!(s.send(&Raw::new("GET", "/legacy")).await.status, 200);
    s.send(&Raw::new("GET", "/legacy/priv")).await.assert_error(
        403,
        "AccessDenied",
        Some("Access Denied"),
    );
    s.send(&owner(
        &s,
        Raw::new("PUT", "/legacy/pub?acl").body(b"<AccessControlPolicy><Owner>"),
    ))
    .await
    .assert_error(400, "MalformedACLError", None);
}

#[tokio::test]
async fn another_account_needs_the_owners_grant() {
    let s = server().await;
    s.put("/bkt/k", b"owner's").await;
    let other = |r: Raw| signed(&s, r, OTHER);
    // Plain "Access Denied" across accounts (the enhanced text is for the same account).
    let resp = s.send(&other(Raw::new("GET", "/bkt/k"))).await;
    resp.assert_error(403, "AccessDenied", Some("Access Denied"));
    assert!(
        resp.header("x-strict-s3-reason")
            .unwrap()
            .contains("another account"),
        "{:?}",
        resp.header("x-strict-s3-reason")
    );
    // Its own buckets only, in ListBuckets; a taken name is BucketAlreadyExists.
    let list = s.send(&other(Raw::new("GET", "/"))).await;
    assert_eq!(list.status, 200);
    assert!(!list.body_text().contains("<Name>bkt</Name>"));
    assert_eq!(
        list.xml("ID").as_deref(),
        Some(other_account().canonical_id.as_str())
    );
    s.send(&other(Raw::new("PUT", "/bkt")))
        .await
        .assert_error(409, "BucketAlreadyExists", None);
    // A bucket policy naming the account (not public, so Block Public Access allows it).
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{}"}},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}}]}}"#,
        other_account().id
    );
    let put = owner(&s, Raw::new("PUT", "/bkt?policy").body(policy.as_bytes()));
    assert_eq!(s.send(&put).await.status, 204);
    let got = s.send(&other(Raw::new("GET", "/bkt/k"))).await;
    assert_eq!((got.status, got.body_text().as_str()), (200, "owner's"));
    s.send(&other(Raw::new("DELETE", "/bkt/k")))
        .await
        .assert_error(403, "AccessDenied", Some("Access Denied"));
    // Nothing else was granted: not the policy itself.
    s.send(&other(Raw::new("GET", "/bkt?policy")))
        .await
        .assert_error(403, "AccessDenied", None);

    // Its own bucket with ACLs enabled: an object it grants the owner account READ.
    let create = other(Raw::new("PUT", "/theirs").header("x-amz-object-ownership", "ObjectWriter"));
    assert_eq!(s.send(&create).await.status, 200);
    let grant = format!("id=\"{DEFAULT_CANONICAL_ID}\"");
    let put = other(
        Raw::new("PUT", "/theirs/shared")
            .header("x-amz-grant-read", &grant)
            .body(b"shared"),
    );
    assert_eq!(s.send(&put).await.status, 200);
    s.send(&other(Raw::new("PUT", "/theirs/mine").body(b"mine")))
        .await;
    let shared = s.send(&owner(&s, Raw::new("GET", "/theirs/shared"))).await;
    assert_eq!(
        (shared.status, shared.body_text().as_str()),
        (200, "shared")
    );
    s.send(&owner(&s, Raw::new("GET", "/theirs/mine")))
        .await
        .assert_error(403, "AccessDenied", Some("Access Denied"));
    let unknown = other(
        Raw::new("PUT", "/theirs/x")
            .header("x-amz-grant-read", "id=\"0123\"")
            .body(b"x"),
    );
    s.send(&unknown)
        .await
        .assert_error(400, "InvalidArgument", Some("Invalid id"));
}

/// Under ObjectWriter an object another account writes into the bucket is that
/// account's: the bucket owner reads it only if the writer grants it, the classic
/// cross-account upload trap `bucket-owner-full-control` exists for.
#[tokio::test]
async fn an_object_written_by_another_account_belongs_to_it_under_object_writer() {
    let s = server().await;
    let create = owner(
        &s,
        Raw::new("PUT", "/drop").header("x-amz-object-ownership", "ObjectWriter"),
    );
    assert_eq!(s.send(&create).await.status, 200);
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{}:root"}},"Action":["s3:PutObject","s3:PutObjectAcl"],"Resource":"arn:aws:s3:::drop/*"}}]}}"#,
        other_account().id
    );
    assert_eq!(
        s.send(&owner(
            &s,
            Raw::new("PUT", "/drop?policy").body(policy.as_bytes())
        ))
        .await
        .status,
        204
    );
    let upload = |key: &str, acl: Option<&str>| {
        let mut r = Raw::new("PUT", &format!("/drop/{key}")).body(b"dropped");
        if let Some(a) = acl {
            r = r.header("x-amz-acl", a);
        }
        signed(&s, r, OTHER)
    };
    assert_eq!(s.send(&upload("plain", None)).await.status, 200);
    assert_eq!(
        s.send(&upload("handed", Some("bucket-owner-full-control")))
            .await
            .status,
        200
    );
    s.send(&owner(&s, Raw::new("GET", "/drop/plain")))
        .await
        .assert_error(403, "AccessDenied", None);
    assert_eq!(
        s.send(&owner(&s, Raw::new("GET", "/drop/handed")))
            .await
            .status,
        200
    );
    // The listing names each object's owner.
    let list = s.send(&owner(&s, Raw::new("GET", "/drop"))).await;
    assert!(
        list.body_text().contains(&format!(
            "<Owner><ID>{}</ID></Owner>",
            other_account().canonical_id
        )),
        "{}",
        list.body_text()
    );
    // BucketOwnerPreferred hands bucket-owner-full-control uploads to the bucket owner.
    let preferred = b"<OwnershipControls><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule></OwnershipControls>";
    assert_eq!(
        s.send(&owner(
            &s,
            Raw::new("PUT", "/drop?ownershipControls").body(preferred)
        ))
        .await
        .status,
        200
    );
    assert_eq!(
        s.send(&upload("given", Some("bucket-owner-full-control")))
            .await
            .status,
        200
    );
    let acl = s.send(&owner(&s, Raw::new("GET", "/drop/given?acl"))).await;
    assert_eq!(acl.xml("ID").as_deref(), Some(DEFAULT_CANONICAL_ID));
    // Enforcing ownership again is refused only while the bucket ACL grants others.
    let enforced = b"<OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>";
    assert_eq!(
        s.send(&owner(
            &s,
            Raw::new("PUT", "/drop?ownershipControls").body(enforced)
        ))
        .await
        .status,
        200
    );
    // Now ACLs no longer count: the bucket owner reads the other account's object.
    assert_eq!(
        s.send(&owner(&s, Raw::new("GET", "/drop/plain")))
            .await
            .status,
        200
    );
}

/// IgnorePublicAcls keeps public grants out of access decisions without removing them:
/// GetObjectAcl still shows the AllUsers grant, and anonymous reads work again once the
/// setting is off.
#[tokio::test]
async fn ignore_public_acls_ignores_without_removing() {
    let s = server().await;
    let create = Raw::new("PUT", "/ignoring").header("x-amz-object-ownership", "ObjectWriter");
    assert_eq!(s.send(&owner(&s, create)).await.status, 200);
    let del = Raw::new("DELETE", "/ignoring?publicAccessBlock");
    assert_eq!(s.send(&owner(&s, del)).await.status, 204);
    let put = Raw::new("PUT", "/ignoring/pub")
        .header("x-amz-acl", "public-read")
        .body(b"public");
    assert_eq!(s.send(&owner(&s, put)).await.status, 200);
    assert_eq!(s.send(&Raw::new("GET", "/ignoring/pub")).await.status, 200);

    let only_ignore = b"<PublicAccessBlockConfiguration><IgnorePublicAcls>true</IgnorePublicAcls></PublicAccessBlockConfiguration>";
    let pab = Raw::new("PUT", "/ignoring?publicAccessBlock").body(only_ignore);
    assert_eq!(s.send(&owner(&s, pab)).await.status, 200);
    s.send(&Raw::new("GET", "/ignoring/pub"))
        .await
        .assert_error(403, "AccessDenied", Some("Access Denied"));
    let acl = s
        .send(&owner(&s, Raw::new("GET", "/ignoring/pub?acl")))
        .await
        .body_text();
    assert!(
        acl.contains("<URI>http://acs.amazonaws.com/groups/global/AllUsers</URI>"),
        "{acl}"
    );

    let del = Raw::new("DELETE", "/ignoring?publicAccessBlock");
    assert_eq!(s.send(&owner(&s, del)).await.status, 204);
    assert_eq!(
        s.send(&Raw::new("GET", "/ignoring/pub")).await.body_text(),
        "public"
    );
}
