use super::*;

fn load(text: &str) -> Result<Config, ConfigFileError> {
    let mut config = Config::in_memory();
    ConfigFile::parse(Path::new("/cfg/strict-s3.toml"), text.to_string())?.apply(&mut config)?;
    Ok(config)
}

const TUTORIAL: &str = r#"
[[accounts]]
id = "111122223333"
name = "partner"
access_key = "AKIAPARTNER000000000"
secret_key = "partner-secret"

[[users]]
name = "uploader"
access_key = "AKIAUPLOADER00000000"
secret_key = "uploader-secret"
policy = { Version = "2012-10-17", Statement = [
  { Effect = "Allow", Action = ["s3:GetObject", "s3:PutObject"], Resource = "arn:aws:s3:::uploads/*" },
] }

[[users]]
name = "reader"
account = "111122223333"
access_key = "AKIAPARTNERREADER000"
secret_key = "reader-secret"
policy = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}'

[[buckets]]
name = "uploads"
object_ownership = "ObjectWriter"
block_public_access = false
acl = "public-read"
policy = '''{"Version": "2012-10-17", "Statement": [{"Sid": "PartnerReads", "Effect": "Allow",
  "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject",
  "Resource": "arn:aws:s3:::uploads/*"}]}'''

[[buckets]]
name = "partner-bucket"
owner = "111122223333"
"#;

#[test]
fn accounts_users_and_buckets_are_added() {
    let config = load(TUTORIAL).unwrap();
    let partner = config.credential("AKIAPARTNER000000000").unwrap();
    assert_eq!(partner.identity.account().id, "111122223333");
    assert_eq!(partner.identity.account().display_name, "partner");
    assert_eq!(partner.identity.arn(), "arn:aws:iam::111122223333:root");
    let uploader = config.credential("AKIAUPLOADER00000000").unwrap();
    assert_eq!(
        uploader.identity.arn(),
        "arn:aws:iam::123456789012:user/uploader"
    );
    let reader = config.credential("AKIAPARTNERREADER000").unwrap();
    assert_eq!(
        reader.identity.arn(),
        "arn:aws:iam::111122223333:user/reader"
    );
    match &*uploader.identity {
        crate::identity::Identity::User {
            policy: Some(p), ..
        } => {
            assert_eq!(p.statements.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(config.buckets.len(), 2);
    let uploads = &config.buckets[0];
    assert_eq!(uploads.ownership, Some(ObjectOwnership::ObjectWriter));
    assert_eq!(uploads.public_access, Some(None));
    assert_eq!(uploads.acl, Some(Canned::PublicRead));
    assert!(uploads.policy.as_deref().unwrap().contains("PartnerReads"));
    assert_eq!(config.buckets[1].owner.as_deref(), Some("111122223333"));
    // Left to the defaults: today's (BucketOwnerEnforced, all of Block Public Access).
    assert_eq!(
        config.buckets[1].effective_controls(false),
        (
            ObjectOwnership::BucketOwnerEnforced,
            Some(PublicAccessBlock::ALL)
        )
    );
}

/// Each mistake is refused with its line, column and field.
#[test]
fn mistakes_name_the_line_and_the_field() {
    let cases: &[(&str, &str)] = &[
        (
            "[[users]]\nname = \"u\"\naccess_key = \"AK\"\nsecret_key = \"s\"\npolicy_fil = \"p.json\"\n",
            "/cfg/strict-s3.toml:5:1: unknown field `policy_fil`",
        ),
        (
            "legacy_bucket_defaults = \"yes\"\n",
            "/cfg/strict-s3.toml:1:26: invalid type: string \"yes\", expected a boolean",
        ),
        (
            "[[users]]\nname = \"u\"\naccount = \"999999999999\"\naccess_key = \"AK\"\nsecret_key = \"s\"\n",
            "/cfg/strict-s3.toml:3:11: users[0].account: no account 999999999999 is configured",
        ),
        (
            "[[users]]\nname = \"u\"\naccess_key = \"AK\"\nsecret_key = \"s\"\npolicy = '{\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Allow\", \"Action\": \"s3:*\"}}'\n",
            "/cfg/strict-s3.toml:5:10: users[0].policy: the policy is refused: Missing required field Resource",
        ),
        (
            "[[users]]\nname = \"u\"\naccess_key = \"AKIAIOSFODNN7EXAMPLE\"\nsecret_key = \"s\"\n",
            "/cfg/strict-s3.toml:3:14: users[0].access_key: the access key AKIAIOSFODNN7EXAMPLE is already configured",
        ),
        (
            "[[buckets]]\nname = \"Bad_Name\"\n",
            "/cfg/strict-s3.toml:2:8: buckets[0].name: InvalidBucketName",
        ),
        (
            "[[buckets]]\nname = \"bkt1\"\nacl = \"public-read\"\n",
            "/cfg/strict-s3.toml:3:7: buckets[0].acl: InvalidBucketAclWithObjectOwnership",
        ),
        (
            "[[buckets]]\nname = \"bkt1\"\nobject_ownership = \"ObjectWriter\"\nacl = \"public-read\"\n",
            "/cfg/strict-s3.toml:4:7: buckets[0].acl: InvalidBucketAclWithBlockPublicAccessError",
        ),
        (
            "[[buckets]]\nname = \"bkt1\"\npolicy = { Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Principal = \"*\", Action = \"s3:GetObject\", Resource = \"arn:aws:s3:::bkt1/*\" }] }\n",
            "/cfg/strict-s3.toml:3:10: buckets[0].policy: the policy is public and Block Public Access",
        ),
        (
            "[[buckets]]\nname = \"bkt1\"\npolicy = { Version = \"2012-10-17\", Statement = [{ Effect = \"Allow\", Principal = \"*\", Action = \"s3:GetObject\", Resource = \"arn:aws:s3:::other/*\" }] }\n",
            "/cfg/strict-s3.toml:3:10: buckets[0].policy: MalformedPolicy: Policy has invalid resource",
        ),
        (
            "[[buckets]]\nname = \"bkt1\"\nowner = \"111122223333\"\n",
            "/cfg/strict-s3.toml:3:9: buckets[0].owner: no account 111122223333 is configured",
        ),
        (
            "[[buckets]]\nname = \"bkt1\"\npolicy_file = \"missing.json\"\n",
            "/cfg/strict-s3.toml:3:15: buckets[0].policy_file: cannot read /cfg/missing.json",
        ),
        (
            "[[accounts]]\nid = \"12345\"\naccess_key = \"AK\"\nsecret_key = \"s\"\n",
            "/cfg/strict-s3.toml:2:6: accounts[0].id: an account id is 12 digits",
        ),
        (
            "[[roles]]\nname = \"r\"\n",
            "/cfg/strict-s3.toml:2:8: roles[0].trust_policy: a role needs a trust policy",
        ),
        (
            "[[roles]]\nname = \"r\"\nmax_session_duration = 60\ntrust_policy = '{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\"}}'\n",
            "/cfg/strict-s3.toml:3:24: roles[0].max_session_duration: MaxSessionDuration is 3600 to 43200 seconds",
        ),
        (
            "[[roles]]\nname = \"r\"\ntrust_policy = '{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\", \"Resource\": \"*\"}}'\n",
            "/cfg/strict-s3.toml:3:16: roles[0].trust_policy: the trust policy is refused: Has prohibited field Resource",
        ),
        (
            "[[roles]]\nname = \"r\"\ntrust_policy = '{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": {\"AWS\": \"arn:aws:iam::123456789012:user/nobody\"}, \"Action\": \"sts:AssumeRole\"}}'\n",
            "/cfg/strict-s3.toml:3:16: roles[0].trust_policy: the trust policy is refused: Invalid principal in policy",
        ),
        (
            "[[roles]]\nname = \"a/b\"\ntrust_policy = '{\"Statement\": {\"Effect\": \"Allow\", \"Principal\": \"*\", \"Action\": \"sts:AssumeRole\"}}'\n",
            "/cfg/strict-s3.toml:2:8: roles[0].name: a role name is 1 to 64 characters",
        ),
        ("[[users]\n", "/cfg/strict-s3.toml:1:"),
    ];
    for (text, expected) in cases {
        let e = load(text).expect_err(text).to_string();
        assert!(
            e.starts_with(expected),
            "{text}\n got: {e}\nwant: {expected}"
        );
    }
}

#[test]
fn a_policy_file_is_found_beside_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("uploader.json"),
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
    )
    .unwrap();
    let path = dir.path().join("strict-s3.toml");
    std::fs::write(
        &path,
        "[[users]]\nname = \"u\"\naccess_key = \"AKU\"\nsecret_key = \"s\"\npolicy_file = \"uploader.json\"\n",
    )
    .unwrap();
    let mut config = Config::in_memory();
    ConfigFile::load(&path).unwrap().apply(&mut config).unwrap();
    assert!(config.credential("AKU").is_some());
    // Both forms at once are refused.
    std::fs::write(
        &path,
        "[[users]]\nname = \"u\"\naccess_key = \"AKU\"\nsecret_key = \"s\"\npolicy_file = \"uploader.json\"\npolicy = '{}'\n",
    )
    .unwrap();
    let e = ConfigFile::load(&path)
        .unwrap()
        .apply(&mut Config::in_memory())
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("users[0].policy_file"));
    assert!(e.message.contains("not both"), "{e}");
}
