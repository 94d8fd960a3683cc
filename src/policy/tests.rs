use super::*;

const TUTORIAL: &str = r#"{
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "UploadsOnly",
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::uploads/*"
    }, {
        "Effect": "Deny",
        "Action": "s3:*",
        "Resource": "arn:aws:s3:::uploads/secret/*"
    }, {
        "Sid": "OwnPrefix",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": "arn:aws:s3:::uploads",
        "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/*"}}
    }]
}"#;

fn eval<'p>(p: &'p Policy, action: &str, resource: &str, ctx: &Context) -> Verdict<'p> {
    p.evaluate(&Request {
        action,
        resource,
        context: ctx,
    })
    .0
}

#[test]
fn deny_wins_allow_allows_nothing_else() {
    let p = Policy::parse_identity(TUTORIAL).unwrap();
    let ctx = Context::default();
    assert!(matches!(
        eval(&p, "s3:GetObject", "arn:aws:s3:::uploads/a.png", &ctx),
        Verdict::Allow(s) if s.sid.as_deref() == Some("UploadsOnly")
    ));
    assert!(matches!(
        eval(&p, "s3:getobject", "arn:aws:s3:::uploads/a.png", &ctx),
        Verdict::Allow(_)
    ));
    assert!(matches!(
        eval(&p, "s3:GetObject", "arn:aws:s3:::uploads/secret/k", &ctx),
        Verdict::Deny(s) if s.position == 2
    ));
    assert!(matches!(
        eval(&p, "s3:DeleteObject", "arn:aws:s3:::uploads/a.png", &ctx),
        Verdict::NotApplicable
    ));
    assert!(matches!(
        eval(&p, "s3:GetObject", "arn:aws:s3:::other/a.png", &ctx),
        Verdict::NotApplicable
    ));
}

#[test]
fn variables_and_failed_conditions_are_explained() {
    let p = Policy::parse_identity(TUTORIAL).unwrap();
    let mut ctx = Context::default();
    ctx.set("aws:username", "alice");
    ctx.set("s3:prefix", "home/alice/docs");
    assert!(matches!(
        eval(&p, "s3:ListBucket", "arn:aws:s3:::uploads", &ctx),
        Verdict::Allow(_)
    ));
    ctx.set("s3:prefix", "home/bob/");
    let (verdict, miss) = p.evaluate(&Request {
        action: "s3:ListBucket",
        resource: "arn:aws:s3:::uploads",
        context: &ctx,
    });
    assert!(matches!(verdict, Verdict::NotApplicable));
    let miss = miss.unwrap();
    assert_eq!(miss.statement, "statement \"OwnPrefix\"");
    assert!(miss.why.contains("home/alice/*"), "{}", miss.why);
    assert_eq!(
        substitute("a/${*}/${aws:username}", &ctx).as_deref(),
        Some("a/*/alice")
    );
    assert_eq!(substitute("${aws:userid}", &ctx), None);
    assert_eq!(p.keys, vec!["aws:username", "s3:prefix"]);
}

#[test]
fn not_action_and_not_resource() {
    let p = Policy::parse_identity(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3:Delete*","NotResource":"arn:aws:s3:::logs/*"}}"#,
    )
    .unwrap();
    let ctx = Context::default();
    assert!(matches!(
        eval(&p, "s3:GetObject", "arn:aws:s3:::b/k", &ctx),
        Verdict::Allow(_)
    ));
    assert!(matches!(
        eval(&p, "s3:DeleteObject", "arn:aws:s3:::b/k", &ctx),
        Verdict::NotApplicable
    ));
    assert!(matches!(
        eval(&p, "s3:GetObject", "arn:aws:s3:::logs/k", &ctx),
        Verdict::NotApplicable
    ));
}

#[test]
fn malformed_policies_are_refused_with_reasons() {
    let cases = [
        ("[]", "the first byte must be '{'"),
        ("{", "This policy contains invalid Json"),
        (
            r#"{"Version":"2012-10-17"}"#,
            "Missing required field Statement",
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            "Statement is empty!",
        ),
        (
            r#"{"Version":"2011-01-01","Statement":{}}"#,
            "valid version string",
        ),
        (r#"{"Version":"","Statement":{}}"#, "valid version string"),
        (
            r#"{"Statement":{"Action":"s3:*","Resource":"*"}}"#,
            "Missing required field Effect",
        ),
        (
            r#"{"Statement":{"Effect":"Maybe","Action":"s3:*","Resource":"*"}}"#,
            "Invalid effect",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
            "Missing required field Action",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#,
            "Missing required field Resource",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"bucket"}}"#,
            "invalid resource",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"ec2:*","Resource":"*"}}"#,
            "action",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}"#,
            "principal",
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{"Bogus":{"a":"b"}}}}"#,
            "Invalid Condition type",
        ),
    ];
    for (text, words) in cases {
        let err = Policy::parse_identity(text).unwrap_err();
        assert!(err.0.contains(words), "{text}: {err}");
    }
}
