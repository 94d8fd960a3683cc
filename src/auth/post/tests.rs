//! The policy's conditions and messages, one row per rule.

use super::*;
use time::macros::datetime;

fn form(fields: &[(&str, &str)]) -> PostForm {
    PostForm {
        fields: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        filename: Some("photo.jpg".into()),
    }
}

fn policy(json: &str) -> PostPolicy {
    PostPolicy::parse(&BASE64.encode(json)).unwrap()
}

#[test]
fn prints_conditions_like_aws() {
    let c = Condition::StartsWith {
        field: "key".into(),
        prefix: "user/eric/".into(),
    };
    assert_eq!(c.printed(), "[\"starts-with\", \"$key\", \"user/eric/\"]");
    let c = Condition::ContentLengthRange { min: 0, max: 100 };
    assert_eq!(c.printed(), "[\"content-length-range\", 0, 100]");
}

#[test]
fn conditions_pass_and_fail_with_aws_messages() {
    let p = policy(
        r#"{"expiration":"2030-01-01T00:00:00.000Z","conditions":[{"bucket":"b"},["starts-with","$key","user/"],
           ["starts-with","$Content-Type","image/"],["content-length-range",1,100],{"acl":"private"}]}"#,
    );
    let now = datetime!(2026-01-01 00:00:00 UTC);
    let good = form(&[
        ("key", "user/${filename}"),
        ("Content-Type", "image/png, image/gif"),
        ("acl", "private"),
    ]);
    assert_eq!(
        p.check(&good, "b", &good.key().unwrap(), now).unwrap(),
        Some((1, 100))
    );
    assert_eq!(good.key().unwrap(), "user/photo.jpg");

    let msg = |f: &PostForm, bucket: &str| {
        p.check(f, bucket, &f.key().unwrap(), now)
            .unwrap_err()
            .message
            .into_owned()
    };
    assert_eq!(
        msg(&good, "other"),
        "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"b\"]"
    );
    let bad_key = form(&[
        ("key", "admin/x"),
        ("Content-Type", "image/png"),
        ("acl", "private"),
    ]);
    assert_eq!(
        msg(&bad_key, "b"),
        "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\", \"user/\"]"
    );
    let bad_type = form(&[
        ("key", "user/x"),
        ("Content-Type", "image/png, text/html"),
        ("acl", "private"),
    ]);
    assert_eq!(
        msg(&bad_type, "b"),
        "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$Content-Type\", \"image/\"]"
    );
    let extra = form(&[
        ("key", "user/x"),
        ("Content-Type", "image/png"),
        ("acl", "private"),
        ("X-Amz-Meta-Hi", "1"),
    ]);
    assert_eq!(
        msg(&extra, "b"),
        "Invalid according to Policy: Extra input fields: x-amz-meta-hi"
    );
    let exempt_fields = form(&[
        ("key", "user/x"),
        ("Content-Type", "image/png"),
        ("acl", "private"),
        ("x-ignore-me", "1"),
        ("Policy", "p"),
        ("X-Amz-Signature", "s"),
    ]);
    assert!(p.check(&exempt_fields, "b", "user/x", now).is_ok());
    let e = p
        .check(&good, "b", "user/x", datetime!(2030-01-01 00:00:00 UTC))
        .unwrap_err();
    assert_eq!(e.message, "Invalid according to Policy: Policy expired.");
}

/// A condition on a field the form does not send fails, whatever it asks: one row per
/// condition kind, each with its accepted twin (the same form with the field).
#[test]
fn a_condition_on_an_absent_field_fails() {
    let now = datetime!(2026-01-01 00:00:00 UTC);
    let base = [("key", "k")];
    for (condition, field, value) in [
        (
            r#"["starts-with", "$Content-Type", ""]"#,
            "Content-Type",
            "text/plain",
        ),
        (
            r#"["starts-with", "$Content-Length", ""]"#,
            "Content-Length",
            "5",
        ),
        (r#"["eq", "$acl", ""]"#, "acl", ""),
        (
            r#"{"success_action_status": "201"}"#,
            "success_action_status",
            "201",
        ),
        (
            r#"["starts-with", "$success_action_redirect", ""]"#,
            "success_action_redirect",
            "http://x/",
        ),
        (r#"["eq", "$x-amz-meta-tag", "v"]"#, "x-amz-meta-tag", "v"),
        (
            r#"["starts-with", "$x-amz-meta-tag", ""]"#,
            "x-amz-meta-tag",
            "anything",
        ),
    ] {
        let p = policy(&format!(
            r#"{{"expiration":"2030-01-01T00:00:00Z","conditions":[["starts-with","$key",""],{condition}]}}"#
        ));
        let without = form(&base);
        let err = p.check(&without, "b", "k", now).unwrap_err();
        assert_eq!(err.code, S3ErrorCode::AccessDenied, "{condition}");
        let printed = p.conditions[1].printed();
        assert_eq!(
            err.message,
            format!("Invalid according to Policy: Policy Condition failed: {printed}"),
        );
        assert!(
            err.reason.as_deref().unwrap().contains("has no field"),
            "{condition}"
        );
        let with = form(&[base[0], (field, value)]);
        assert!(
            p.check(&with, "b", "k", now).is_ok(),
            "{condition} with {field}"
        );
    }
    // $bucket and $key always have a value: the URL's bucket, the key field.
    let p = policy(
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key",""]]}"#,
    );
    assert!(p.check(&form(&base), "b", "k", now).is_ok());
    let err = p.check(&form(&base), "other", "k", now).unwrap_err();
    assert_eq!(
        err.message,
        "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$bucket\", \"b\"]"
    );
}

#[test]
fn malformed_policies() {
    let bad = |s: &str| PostPolicy::parse(&BASE64.encode(s)).unwrap_err();
    for doc in [
        "not json",
        "[]",
        r#"{"conditions":[]}"#,
        r#"{"expiration":"soon","conditions":[]}"#,
        r#"{"expiration":"2030-01-01T00:00:00Z"}"#,
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":"1","b":"2"}]}"#,
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["nope","$key","x"]]}"#,
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["eq","key","x"]]}"#,
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range","a",1]]}"#,
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[["starts-with","$bucket","x"]]}"#,
        r#"{"expiration":"2030-01-01T00:00:00Z","conditions":[{"a":1}]}"#,
    ] {
        assert_eq!(bad(doc).code, S3ErrorCode::InvalidPolicyDocument, "{doc}");
    }
    assert_eq!(
        PostPolicy::parse("%%%").unwrap_err().code,
        S3ErrorCode::InvalidPolicyDocument
    );
}
