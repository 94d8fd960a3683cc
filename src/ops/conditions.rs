//! Conditional writes: `If-None-Match: *` and `If-Match: <etag>` on PutObject, CopyObject
//! (the destination; since October 2025) and CompleteMultipartUpload, checked atomically
//! with the commit (the store runs the check under its commit lock).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>
//!
//! The answers (docs/aws-evidence.md, "Conditional writes"): a condition that does not
//! hold is 412 PreconditionFailed naming it; If-Match on a key that does not exist is 404
//! NoSuchKey; "a delete request to an object succeeds before a conditional write
//! operation on that object completes" is 409 ConditionalRequestConflict, and so is a
//! multipart completion whose key was deleted, or rewritten, after the upload began
//! ("re-initiate the multipart upload"). Any other If-None-Match value, or both headers,
//! is 501 NotImplemented.

use time::OffsetDateTime;

use super::Ctx;
use super::attrs::not_implemented_header;
use crate::error::{S3Error, S3ErrorCode};
use crate::request::S3Request;
use crate::storage::{CommitCheck, ObjectMeta};

/// What a conditional write asks for.
enum Condition {
    IfNoneMatch,
    IfMatch(String),
}

impl Condition {
    fn name(&self) -> &'static str {
        match self {
            Condition::IfNoneMatch => "If-None-Match",
            Condition::IfMatch(_) => "If-Match",
        }
    }
}

fn parse(req: &S3Request) -> Result<Option<Condition>, S3Error> {
    let if_none = req.header(http::header::IF_NONE_MATCH).map(str::trim);
    let if_match = req.header(http::header::IF_MATCH).map(str::to_string);
    match (if_none, if_match) {
        (Some(_), Some(_)) => Err(not_implemented_header("If-Match,If-None-Match")
            .extra(
                "additionalMessage",
                "Multiple conditional request headers present in the request",
            )
            .reason("If-Match and If-None-Match cannot be combined on a write")),
        (Some("*"), None) => Ok(Some(Condition::IfNoneMatch)),
        (Some(_), None) => Err(not_implemented_header("If-None-Match")
            .extra(
                "additionalMessage",
                "We don't accept the provided value of If-None-Match header for this API",
            )
            .reason("conditional writes accept only If-None-Match: *")),
        (None, Some(etag)) => Ok(Some(Condition::IfMatch(etag))),
        (None, None) => Ok(None),
    }
}

/// What the key held when the write began: before a PUT's body streamed, or when a
/// multipart upload was created.
struct Before {
    existed: bool,
    /// For a completion: when its upload began (a key rewritten since is a conflict).
    since: Option<OffsetDateTime>,
}

fn check(condition: Condition, before: Before, key: &str) -> CommitCheck {
    let key = key.to_string();
    Box::new(move |current: Option<&ObjectMeta>| {
        let name = condition.name();
        let conflict = |why: &str| {
            S3Error::new(S3ErrorCode::ConditionalRequestConflict)
                .extra("Condition", name)
                .extra("Key", &key)
                .reason(why.to_string())
        };
        match (&condition, current) {
            (Condition::IfNoneMatch, Some(_)) => {
                Err(precondition_failed(name).reason("If-None-Match: * but the key already exists"))
            }
            (_, None) if before.existed => Err(conflict(
                "the key was deleted while this conditional write was in progress",
            )),
            (Condition::IfNoneMatch, None) => Ok(()),
            (Condition::IfMatch(_), None) => {
                Err(S3Error::no_such_key(&key)
                    .reason("If-Match was given but the key does not exist"))
            }
            (Condition::IfMatch(expected), Some(m)) if !etag_matches(expected, &m.etag) => {
                Err(precondition_failed(name).reason(format!(
                    "If-Match {expected} but the current ETag is \"{}\"",
                    m.etag
                )))
            }
            (Condition::IfMatch(_), Some(m))
                if before.since.is_some_and(|since| m.last_modified > since) =>
            {
                Err(conflict(
                    "the key was rewritten after the multipart upload began: create a new upload",
                ))
            }
            (Condition::IfMatch(_), Some(_)) => Ok(()),
        }
    })
}

/// The check for a PutObject or CopyObject, with what the key holds now.
pub async fn write_condition(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
) -> Result<Option<CommitCheck>, S3Error> {
    let Some(condition) = parse(ctx.req)? else {
        return Ok(None);
    };
    let existed = key_exists(ctx, bucket, key).await?;
    let before = Before {
        existed,
        since: None,
    };
    Ok(Some(check(condition, before, key)))
}

/// The check for a CompleteMultipartUpload, against what the key held when its upload
/// began. An unknown upload gets no check: the store answers NoSuchUpload (or the
/// completion is a retry the operation replays).
pub async fn completion_condition(
    ctx: &Ctx<'_>,
    bucket: &str,
    key: &str,
    upload_id: &str,
) -> Result<Option<CommitCheck>, S3Error> {
    let Some(condition) = parse(ctx.req)? else {
        return Ok(None);
    };
    let upload = match ctx.storage.upload(bucket, key, upload_id).await {
        Ok((upload, _)) => upload,
        Err(e) if e.code == S3ErrorCode::NoSuchUpload => return Ok(None),
        Err(e) => return Err(e),
    };
    let before = Before {
        existed: upload.key_existed,
        since: Some(upload.initiated),
    };
    Ok(Some(check(condition, before, key)))
}

/// Whether the key holds an object now.
pub async fn key_exists(ctx: &Ctx<'_>, bucket: &str, key: &str) -> Result<bool, S3Error> {
    match ctx.storage.head_object(bucket, key).await {
        Ok(_) => Ok(true),
        Err(e) if e.code == S3ErrorCode::NoSuchKey => Ok(false),
        Err(e) => Err(e),
    }
}

pub fn precondition_failed(condition: &str) -> S3Error {
    S3Error::new(S3ErrorCode::PreconditionFailed).extra("Condition", condition)
}

/// Does an `If-Match`/`If-None-Match` list name this ETag (or `*`)? Quotes are optional,
/// as S3 takes them ("it will accept ETags without quotes").
pub fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|t| {
        let t = t.strip_prefix("W/").unwrap_or(t);
        t == "*" || t.trim_matches('"') == etag
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_lists() {
        assert!(etag_matches("\"abc\"", "abc"));
        assert!(etag_matches("\"x\", \"abc\"", "abc"));
        assert!(etag_matches("*", "abc"));
        assert!(etag_matches("W/\"abc\"", "abc"));
        assert!(!etag_matches("\"abd\"", "abc"));
    }
}
