//! The AWS regions a bucket may live in, and which region a request must be signed for.
//!
//! One strict-s3 endpoint serves every region, as if it were each region's endpoint at
//! once: a request that names an existing bucket must be signed for that bucket's region
//! (S3 answers the region it expected, with `<Region>` and `x-amz-bucket-region`, which is
//! how SDKs find a bucket's region); a request with no bucket, or for one that does not
//! exist, may be signed for any region, as it would be accepted by that region's endpoint.
//! Which refusal depends on where AWS would have received the request: named in the path,
//! it went to the endpoint of the region it is signed for, which redirects (301
//! PermanentRedirect, `x-amz-bucket-region`: what JS SDK v3's followRegionRedirects and
//! botocore follow); named in the host, DNS took it to the bucket's own region, which
//! answers 400 AuthorizationHeaderMalformed / AuthorizationQueryParametersError.
//! Names are S3's `BucketLocationConstraint` values (botocore 1.44.8) plus `us-east-1`;
//! docs/sts-regions-evidence.md §7.

/// The commercial-partition regions S3 accepts as a bucket's location, and us-east-1.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

pub fn is_region(name: &str) -> bool {
    REGIONS.contains(&name)
}

/// The region a `LocationConstraint` names: `EU` is the legacy name of eu-west-1
/// ("Configurations using the value EU will create a bucket in eu-west-1").
pub fn of_constraint(constraint: &str) -> Option<&'static str> {
    if constraint == "EU" {
        return Some("eu-west-1");
    }
    REGIONS.iter().copied().find(|r| *r == constraint)
}

/// The region a request's credential scope must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected<'a> {
    /// The bucket the request names lives there. `path_style`: the request named it in
    /// the path, so on AWS it went to the endpoint of the region it is signed for (and
    /// is redirected, 301), not to the bucket's own (reached through its DNS name).
    Bucket {
        bucket: &'a str,
        region: &'a str,
        path_style: bool,
    },
    /// No existing bucket: any region, else the server's default region.
    Any { default: &'a str },
}

impl<'a> Expected<'a> {
    /// The region to name when `got` is refused, or `None` when `got` is accepted.
    pub fn refuses(&self, got: &str) -> Option<&'a str> {
        match *self {
            Expected::Bucket { region, .. } => (got != region).then_some(region),
            Expected::Any { default } => (got != default && !is_region(got)).then_some(default),
        }
    }

    /// Why the expected region is the one it is, for the reason of a refusal.
    pub fn why(&self) -> String {
        match self {
            Expected::Bucket { bucket, region, .. } => {
                format!("bucket {bucket} is in region {region}")
            }
            Expected::Any { default } => format!(
                "it is not an AWS region, and this server's default region is {default:?} (--region)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_regions() {
        let bucket = Expected::Bucket {
            bucket: "b",
            region: "eu-west-2",
            path_style: false,
        };
        assert_eq!(bucket.refuses("eu-west-2"), None);
        assert_eq!(bucket.refuses("us-east-1"), Some("eu-west-2"));
        let any = Expected::Any {
            default: "us-east-1",
        };
        assert_eq!(any.refuses("ap-south-1"), None);
        assert_eq!(any.refuses("us-east-1"), None);
        assert_eq!(any.refuses("mars-1"), Some("us-east-1"));
        assert_eq!(of_constraint("EU"), Some("eu-west-1"));
        assert_eq!(of_constraint("eu-west-2"), Some("eu-west-2"));
        assert_eq!(of_constraint("zz-1"), None);
    }
}
