//! Bucket operations: ListBuckets (with its paging), CreateBucket, DeleteBucket,
//! HeadBucket, GetBucketLocation.

use http::{Response, StatusCode};

use super::{Ctx, empty_response, xml_response, xml_time};
use crate::access::BucketRules;
use crate::body::{ByteStream, ResponseBody};
use crate::controls::{ObjectOwnership, PublicAccessBlock};
use crate::error::{S3Error, S3ErrorCode};
use crate::xml::{XmlWriter, malformed, parse_tree_limited};

/// `<Owner><ID>…</ID></Owner>`. No DisplayName: S3 stopped returning it on November
/// 21, 2025 (docs/permissions-evidence.md §9).
pub fn owner(w: &mut XmlWriter, element: &str, canonical_id: &str) {
    w.open(element);
    w.elem("ID", canonical_id);
    w.close(element);
}

/// ListBuckets' paging (`max-buckets`, `continuation-token`, `prefix`, `bucket-region`,
/// added in 2024), as real S3 answers it (docs/aws-evidence.md, "ListBuckets"): with none
/// of them every bucket comes back, without regions; with any of them, even empty, a page
/// of at most `max-buckets` (10,000 by default) with each bucket's `BucketRegion`, the
/// `Prefix` echoed when sent and a `ContinuationToken` when more remain.
struct BucketPage<'a> {
    paged: bool,
    max: usize,
    after: Option<String>,
    prefix: Option<&'a str>,
    region: Option<&'a str>,
}

/// "Maximum number of buckets to be returned in response" (1–10,000).
const MAX_BUCKETS: usize = 10_000;

impl<'a> BucketPage<'a> {
    /// Checked in S3's order: `max-buckets`, then `bucket-region`, then the token.
    fn parse(ctx: &'a Ctx<'_>) -> Result<BucketPage<'a>, S3Error> {
        let req = ctx.req;
        let paged = [
            "max-buckets",
            "continuation-token",
            "prefix",
            "bucket-region",
        ]
        .iter()
        .any(|p| req.has_query(p));
        let max = match req.query_param("max-buckets").filter(|v| !v.is_empty()) {
            None if paged => MAX_BUCKETS,
            None => usize::MAX,
            Some(raw) => match raw.parse::<i32>() {
                Ok(n) if (1..=MAX_BUCKETS as i32).contains(&n) => n as usize,
                Ok(n) => {
                    return Err(S3Error::invalid_argument(
                        "Argument max-buckets must be an integer between 1 and 10000",
                        "max-buckets",
                        n.to_string(),
                    ));
                }
                Err(_) => {
                    return Err(S3Error::invalid_argument(
                        "Provided max-buckets not an integer or within integer range",
                        "max-buckets",
                        raw,
                    ));
                }
            },
        };
        let region = req.query_param("bucket-region");
        if let Some(r) = region {
            let invalid = |message: String, why: String| {
                S3Error::with_message(S3ErrorCode::InvalidArgument, message)
                    .extra("ArgumentName", "bucket-region")
                    .reason(why)
            };
            let lower = r.to_ascii_lowercase();
            if !crate::regions::is_region(&lower) {
                return Err(invalid(
                    format!("Argument value {r} is not a valid AWS Region"),
                    format!("{r:?} names no region strict-s3 knows"),
                ));
            }
            // One regional endpoint lists its own region's buckets.
            let endpoint = crate::auth::signed_region(req).unwrap_or(&ctx.config.region);
            if lower != endpoint {
                return Err(invalid(
                    "Requests with bucket-region specified must be made to the corresponding regional endpoint".into(),
                    format!("the request is signed for {endpoint}, so it reached that region's endpoint; sign it for {lower}"),
                ));
            }
        }
        let after = match req.query_param("continuation-token") {
            None | Some("") => None,
            Some(token) => Some(super::list::key_from_token(token)?),
        };
        Ok(BucketPage {
            paged,
            max,
            after,
            prefix: req.query_param("prefix"),
            region,
        })
    }
}

/// The buckets the caller's account owns ("Returns a list of all buckets owned by the
/// authenticated sender of the request"), in name order, a page at a time when asked.
pub async fn list_buckets(ctx: &Ctx<'_>) -> Result<Response<ResponseBody>, S3Error> {
    let account = ctx
        .access
        .account()
        .ok_or_else(crate::auth::error::anonymous)?;
    let page = BucketPage::parse(ctx)?;
    let mut all = ctx.storage.list_buckets().await?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let mut buckets = Vec::new();
    let mut more = false;
    for b in all {
        if crate::versioning::is_history_bucket(&b.name) {
            continue;
        }
        if page
            .after
            .as_deref()
            .is_some_and(|after| b.name.as_str() <= after)
            || page.prefix.is_some_and(|p| !b.name.starts_with(p))
            || page
                .region
                .is_some_and(|r| !b.region.eq_ignore_ascii_case(r))
        {
            continue;
        }
        if let Some(rules) = ctx.rules.get(ctx.storage, &b.name).await?
            && rules.owner() == account
        {
            if buckets.len() == page.max {
                more = true;
                break;
            }
            buckets.push(b);
        }
    }
    let mut w = XmlWriter::new();
    w.open_ns("ListAllMyBucketsResult");
    owner(&mut w, "Owner", account);
    w.open("Buckets");
    for b in &buckets {
        w.open("Bucket");
        w.elem("Name", &b.name);
        w.elem("CreationDate", &xml_time(b.created));
        if page.paged {
            w.elem("BucketRegion", &b.region);
        }
        w.close("Bucket");
    }
    w.close("Buckets");
    if let Some(prefix) = page.prefix {
        w.elem("Prefix", prefix);
    }
    if more && let Some(last) = buckets.last() {
        w.elem("ContinuationToken", &super::list::token_for(&last.name));
    }
    w.close("ListAllMyBucketsResult");
    Ok(xml_response(w.finish()))
}

/// The `LocationConstraint` of an optional `CreateBucketConfiguration` body.
async fn location_constraint(ctx: &Ctx<'_>, body: ByteStream) -> Result<Option<String>, S3Error> {
    let (bytes, _slot) = super::read_xml_document(ctx, body).await?;
    parse_location_constraint(&bytes)
}

/// Parses a `CreateBucketConfiguration` document (empty: none).
pub(crate) fn parse_location_constraint(bytes: &[u8]) -> Result<Option<String>, S3Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    // <CreateBucketConfiguration> holds a handful of elements.
    let doc = parse_tree_limited(bytes, 64)?;
    if doc.name != "CreateBucketConfiguration" {
        return Err(malformed(format!(
            "expected <CreateBucketConfiguration>, found <{}>",
            doc.name
        )));
    }
    doc.only(&["LocationConstraint", "Location", "Bucket"])?;
    Ok(doc
        .one("LocationConstraint")?
        .map(|e| e.text.trim().to_string()))
}

/// CreateBucket, with S3's region rules, this endpoint being the endpoint of the region
/// the request is signed for (the default region for SigV2 and anonymous requests): at
/// us-east-1 (S3's global endpoint) any valid constraint creates the bucket there, and no
/// constraint means us-east-1, which may not be named; elsewhere the constraint must name
/// that region. docs/aws-evidence.md §12, docs/sts-regions-evidence.md §7.
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html>
pub async fn create_bucket(
    ctx: &Ctx<'_>,
    name: &str,
    body: ByteStream,
) -> Result<Response<ResponseBody>, S3Error> {
    let endpoint = crate::auth::signed_region(ctx.req)
        .filter(|r| crate::regions::is_region(r))
        .unwrap_or(ctx.config.region.as_str());
    let invalid = |lc: &str, why: String| {
        S3Error::new(S3ErrorCode::InvalidLocationConstraint)
            .extra("LocationConstraint", lc)
            .reason(why)
    };
    let region = match location_constraint(ctx, body).await?.as_deref() {
        None | Some("") if endpoint == "us-east-1" => "us-east-1",
        Some("us-east-1") if endpoint == "us-east-1" => {
            return Err(invalid(
                "us-east-1",
                "us-east-1 is chosen by sending no LocationConstraint; naming it is an error on S3"
                    .into(),
            ));
        }
        None | Some("") => {
            return Err(S3Error::new(S3ErrorCode::IllegalLocationConstraintException).reason(format!(
                "the request is signed for region {endpoint}, whose endpoint needs <LocationConstraint>{endpoint}</LocationConstraint>; sign for us-east-1 to create a bucket there"
            )));
        }
        Some(lc) => match crate::regions::of_constraint(lc) {
            None => {
                return Err(invalid(
                    lc,
                    format!(
                        "{lc:?} is not an AWS region S3 accepts (for example eu-west-2, ap-south-1)"
                    ),
                ));
            }
            Some(r) if endpoint == "us-east-1" || r == endpoint => r,
            Some(_) => {
                return Err(S3Error::with_message(
                    S3ErrorCode::IllegalLocationConstraintException,
                    format!("The {lc} location constraint is incompatible for the region specific endpoint this request was sent to."),
                )
                .reason(format!(
                    "the request is signed for region {endpoint}; sign it for the constraint's region (or for us-east-1, the global endpoint)"
                )));
            }
        },
    };
    let owner = ctx.access.account().unwrap_or_default().to_string();
    if let Some(existing) = ctx.access.rules(name)
        && existing.owner() != owner
    {
        return Err(S3Error::new(S3ErrorCode::BucketAlreadyExists)
            .extra("BucketName", name)
            .reason("another account owns a bucket of that name"));
    }
    let docs = new_bucket_documents(ctx, &owner)?;
    match ctx.storage.create_bucket_with(name, region, docs).await {
        Ok(_) => ctx.rules.forget(name),
        // "For legacy compatibility, if you re-create an existing bucket that you already
        // own in the North Virginia Region, Amazon S3 returns 200 OK" (API reference,
        // BucketAlreadyOwnedByYou); everywhere else it is a 409.
        Err(e) if e.code == S3ErrorCode::BucketAlreadyOwnedByYou && region == "us-east-1" => {}
        Err(e) => return Err(e),
    }
    Response::builder()
        .status(StatusCode::OK)
        .header("location", format!("/{name}"))
        .body(crate::body::empty())
        .map_err(S3Error::internal)
}

/// A new bucket's access rules: S3's defaults since April 2023 (`BucketOwnerEnforced`,
/// all of Block Public Access) or, with `--legacy-bucket-defaults`, those before
/// (no ownership controls, so ACLs count as under `ObjectWriter`, and nothing blocked);
/// `x-amz-object-ownership` and the ACL headers as the request sends them.
fn new_bucket_documents(
    ctx: &Ctx<'_>,
    owner: &str,
) -> Result<Vec<(&'static str, bytes::Bytes)>, S3Error> {
    let ownership = match ctx.req.header(crate::header_names::X_AMZ_OBJECT_OWNERSHIP) {
        Some(v) => Some(ObjectOwnership::from_header(v)?),
        None => {
            (!ctx.config.legacy_bucket_defaults).then_some(ObjectOwnership::BucketOwnerEnforced)
        }
    };
    let public_access = (!ctx.config.legacy_bucket_defaults).then_some(PublicAccessBlock::ALL);
    let requested = super::acl::requested(ctx, true)?;
    let acl = super::acl::for_new_bucket(
        requested.as_ref(),
        owner,
        ownership.unwrap_or(ObjectOwnership::ObjectWriter),
        public_access,
    )?;
    BucketRules::documents(&acl, ownership, public_access)
}

/// The documents a bucket created at start (`--bucket`, `[[buckets]]`) gets: what its
/// spec names, the bucket defaults for the rest; owned by the spec's account (the
/// default account unless it names another).
pub fn startup_documents(
    config: &crate::config::Config,
    spec: &crate::config::BucketSpec,
) -> Result<Vec<(&'static str, bytes::Bytes)>, S3Error> {
    let owner = spec
        .owner
        .as_deref()
        .and_then(|id| config.account_by_id(id))
        .unwrap_or_else(|| config.default_account())
        .canonical_id
        .clone();
    let legacy = config.legacy_bucket_defaults;
    let ownership = spec
        .ownership
        .or((!legacy).then_some(ObjectOwnership::BucketOwnerEnforced));
    let (_, public_access) = spec.effective_controls(legacy);
    let acl = match spec.acl {
        Some(canned) => canned.acl(&owner, &owner, true),
        None => crate::acl::Acl::private(&owner),
    };
    let mut docs = BucketRules::documents(&acl, ownership, public_access)?;
    if let Some(policy) = &spec.policy {
        docs.push((
            crate::access::rules::POLICY_DOCUMENT,
            bytes::Bytes::from(policy.clone()),
        ));
    }
    if let Some(cors) = &spec.cors {
        docs.push((super::cors::DOCUMENT, bytes::Bytes::from(cors.clone())));
    }
    Ok(docs)
}

/// The rules a bucket has when the configuration alone decides them (`explain`
/// offline): its `[[buckets]]` entry if it has one, else those of a bucket created
/// now with the default account as owner.
pub fn configured_rules(
    config: &crate::config::Config,
    bucket: &str,
) -> Result<BucketRules, S3Error> {
    let spec = config
        .buckets
        .iter()
        .find(|b| b.name == bucket)
        .cloned()
        .unwrap_or_else(|| bucket.into());
    let mut docs = startup_documents(config, &spec)?;
    let acl_at = docs
        .iter()
        .position(|(n, _)| *n == crate::access::rules::ACL_DOCUMENT);
    let acl = acl_at.map(|i| docs.remove(i).1);
    let owner = &config.default_account().canonical_id;
    BucketRules::from_documents(bucket, owner, acl.as_deref(), &docs)
}

/// DeleteBucket: a versioned bucket is empty only once its history is (noncurrent
/// versions and delete markers count, as on S3), and its history goes with it.
pub async fn delete_bucket(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    let history = crate::versioning::history_bucket(bucket);
    if super::versions::status(ctx, bucket).is_some() {
        let left = crate::versioning::History::new(ctx.storage, bucket)
            .entries_under("")
            .await?;
        if !left.is_empty() {
            return Err(S3Error::with_message(
                S3ErrorCode::BucketNotEmpty,
                "The bucket you tried to delete is not empty. You must delete all versions in the bucket.",
            )
            .extra("BucketName", bucket)
            .reason(format!(
                "{} noncurrent versions or delete markers remain (ListObjectVersions shows them)",
                left.len()
            )));
        }
    }
    ctx.storage.delete_bucket(bucket).await?;
    match ctx.storage.delete_bucket(&history).await {
        Ok(()) => {}
        Err(e) if e.code == S3ErrorCode::NoSuchBucket => {}
        Err(e) => return Err(e),
    }
    ctx.rules.forget(bucket);
    Ok(empty_response(StatusCode::NO_CONTENT))
}

pub async fn head_bucket(ctx: &Ctx<'_>, bucket: &str) -> Result<Response<ResponseBody>, S3Error> {
    let info = ctx.storage.bucket(bucket).await?;
    Response::builder()
        .status(StatusCode::OK)
        .header("x-amz-bucket-region", info.region)
        .body(crate::body::empty())
        .map_err(S3Error::internal)
}

/// `us-east-1` buckets report an empty constraint, as S3 does.
pub async fn get_bucket_location(
    ctx: &Ctx<'_>,
    bucket: &str,
) -> Result<Response<ResponseBody>, S3Error> {
    let info = ctx.storage.bucket(bucket).await?;
    let mut w = XmlWriter::new();
    if info.region == "us-east-1" {
        w.open_ns("LocationConstraint");
        w.close("LocationConstraint");
    } else {
        w.open_ns("LocationConstraint");
        w.elem_text(&info.region);
        w.close("LocationConstraint");
    }
    Ok(xml_response(w.finish()))
}
