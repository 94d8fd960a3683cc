use super::*;
use crate::auth::Authenticator;
use crate::clock::ManualClock;
use std::sync::Arc;
use time::macros::datetime;

fn verify(url: &str, method: Method, now: OffsetDateTime) -> Result<(), crate::S3Error> {
    let config = Arc::new(Config::in_memory());
    let auth = Authenticator::new(config.clone(), Arc::new(ManualClock::new(now)));
    let rest = url.strip_prefix("http://127.0.0.1:9000").unwrap();
    let (path, query) = rest.split_once('?').unwrap();
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:9000"));
    let req = S3Request::new(method, path, Some(query), headers, "t".into())?;
    let addr = crate::addressing::resolve(&req, &config.domains, 1024)?;
    auth.authenticate(&req, &addr)
        .map(|_| ())
        .map_err(crate::S3Error::from)
}

#[test]
fn presigned_urls_verify_and_expire() {
    let config = Config::in_memory();
    let t = datetime!(2026-01-15 12:00:00 UTC);
    let signer = Signer::from_config(&config, t).unwrap();
    let endpoint = Endpoint::parse("http://127.0.0.1:9000").unwrap();
    let target = S3Url::parse("s3://bkt/dir/a b+c.txt").unwrap();
    let url = signer
        .presign_url(&endpoint, Method::GET, &target, &[], None, 900)
        .unwrap();
    assert!(url.starts_with("http://127.0.0.1:9000/bkt/dir/a%20b%2Bc.txt?X-Amz-Algorithm="));
    assert!(url.contains("X-Amz-Expires=900"));
    verify(&url, Method::GET, t).unwrap();
    assert_eq!(
        verify(&url, Method::PUT, t).unwrap_err().code,
        crate::S3ErrorCode::SignatureDoesNotMatch
    );
    let late = verify(&url, Method::GET, t + time::Duration::seconds(900)).unwrap_err();
    assert_eq!(late.message, "Request has expired");
}

#[test]
fn post_form_signs_its_policy() {
    let config = Config::in_memory();
    let t = datetime!(2026-01-15 12:00:00 UTC);
    let signer = Signer::from_config(&config, t).unwrap();
    let endpoint = Endpoint::parse("http://127.0.0.1:9000").unwrap();
    let args = PostArgs {
        target: "s3://bkt/up/".into(),
        max_size: 100,
        content_type: Some("image/".into()),
        expires: 1800,
        format: PostFormat::Json,
    };
    let form = signer.post_form(&endpoint, &args).unwrap();
    assert_eq!(form.url, "http://127.0.0.1:9000/bkt");
    let post = crate::auth::post::PostForm {
        fields: form.fields.clone(),
        filename: Some("cat.png".into()),
    };
    let auth = Authenticator::new(Arc::new(Config::in_memory()), Arc::new(ManualClock::new(t)));
    auth.verify_post(
        &post,
        crate::regions::Expected::Any {
            default: "us-east-1",
        },
        &mut Default::default(),
    )
    .unwrap();
    let policy = crate::auth::post::PostPolicy::parse(post.get("policy").unwrap()).unwrap();
    assert_eq!(policy.expiration, datetime!(2026-01-15 12:30:00 UTC));
    let key = post.key().unwrap();
    assert_eq!(key, "up/cat.png");
    assert_eq!(policy.check(&post, "bkt", &key, t).unwrap(), Some((0, 100)));
    let html = form.html();
    assert!(html.contains(r#"<input type="hidden" name="key" value="up/${filename}">"#));
    assert!(html.contains(r#"accept="image/*""#));
    let curl = form.curl();
    assert!(curl.contains("--form-string 'key=up/${filename}'"));
    assert!(curl.ends_with("-F 'file=@FILE' \\\n  'http://127.0.0.1:9000/bkt'"));
    assert_eq!(shell_quote("it's"), r#"'it'\''s'"#);
}
