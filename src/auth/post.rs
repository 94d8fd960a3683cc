//! Browser POST uploads: the form's signature and its policy, condition by condition.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-HTTPPOSTConstructPolicy.html>:
//! the policy is base64 JSON with an `expiration` and `conditions`; SigV4 signs the base64
//! text itself with the key derived from `x-amz-credential` (SigV2: base64 HMAC-SHA1 of it
//! with the secret). Every form field but `x-amz-signature`, `file`, `policy` and
//! `x-ignore-*` must be covered by a condition; a condition that fails is named in the
//! error exactly as AWS prints it (`["starts-with", "$key", "user/eric/"]`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;

use super::error::{AuthError, Via, missing_field};
use super::params::{ALGORITHM_V4, AmzDate, CredentialScope};
use super::signing::Signature;
use super::sigv2::sign_policy_v2;
use super::sigv4::{self, StringToSign};
use super::verify::check_scope;
use super::{Attempt, AuthKind, Authenticated, Authenticator, Claim, PayloadCheck};
use crate::error::{S3Error, S3ErrorCode};

/// The text fields of a POST form, in order, up to the `file` field.
#[derive(Debug, Clone, Default)]
pub struct PostForm {
    /// `(name as sent, value)`; names compare case-insensitively.
    pub fields: Vec<(String, String)>,
    /// The file part's filename, substituted for `${filename}` in `key`.
    pub filename: Option<String>,
}

impl PostForm {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The object key: the `key` field with `${filename}` replaced.
    pub fn key(&self) -> Result<String, S3Error> {
        let key = self.get("key").ok_or_else(|| missing_field("key"))?;
        Ok(key.replace("${filename}", self.filename.as_deref().unwrap_or("")))
    }
}

fn policy_error(message: impl Into<String>) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidPolicyDocument,
        format!("Invalid Policy: {}", message.into()),
    )
}

fn denied(message: impl Into<String>) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessDenied,
        format!("Invalid according to Policy: {}", message.into()),
    )
}

/// One policy condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// `{"field": "value"}` or `["eq", "$field", "value"]`.
    Eq { field: String, value: String },
    /// `["starts-with", "$field", "prefix"]`.
    StartsWith { field: String, prefix: String },
    /// `["content-length-range", min, max]`.
    ContentLengthRange { min: u64, max: u64 },
}

impl Condition {
    /// The condition as AWS prints it in "Policy Condition failed: …".
    pub fn printed(&self) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
        match self {
            Condition::Eq { field, value } => {
                format!("[\"eq\", {}, {}]", q(&format!("${field}")), q(value))
            }
            Condition::StartsWith { field, prefix } => {
                format!(
                    "[\"starts-with\", {}, {}]",
                    q(&format!("${field}")),
                    q(prefix)
                )
            }
            Condition::ContentLengthRange { min, max } => {
                format!("[\"content-length-range\", {min}, {max}]")
            }
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Condition::Eq { field, .. } | Condition::StartsWith { field, .. } => Some(field),
            Condition::ContentLengthRange { .. } => None,
        }
    }
}

/// A decoded policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostPolicy {
    pub expiration: OffsetDateTime,
    pub conditions: Vec<Condition>,
}

/// Fields that only exact matching may constrain (MinIO's `startsWithConds` and the AWS
/// policy page: bucket and the signature fields are exact-match only).
const EXACT_ONLY: &[&str] = &[
    "bucket",
    "x-amz-algorithm",
    "x-amz-credential",
    "x-amz-date",
];

impl PostPolicy {
    /// Decodes and validates the policy's shape: `InvalidPolicyDocument` for anything malformed.
    pub fn parse(b64: &str) -> Result<PostPolicy, S3Error> {
        let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let json = BASE64.decode(compact.as_bytes()).map_err(|_| {
            policy_error("Invalid Base64 encoding.").reason("the policy field is not base64")
        })?;
        let doc: Value = serde_json::from_slice(&json).map_err(|err| {
            policy_error("Invalid JSON.").reason(format!("the decoded policy is not JSON: {err}"))
        })?;
        let obj = doc
            .as_object()
            .ok_or_else(|| policy_error("Invalid JSON."))?;
        let expiration = obj
            .get("expiration")
            .ok_or_else(|| policy_error("Policy missing expiration."))?;
        let expiration = expiration
            .as_str()
            .and_then(|s| OffsetDateTime::parse(s, &Iso8601::DEFAULT).ok())
            .ok_or_else(|| policy_error(format!("Invalid 'expiration' value: {expiration}")))?;
        let conditions = obj
            .get("conditions")
            .ok_or_else(|| policy_error("Policy missing conditions."))?
            .as_array()
            .ok_or_else(|| policy_error("Invalid 'conditions' value: must be a list."))?
            .iter()
            .map(parse_condition)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PostPolicy {
            expiration,
            conditions,
        })
    }
}

fn field_name(v: &Value, op: &str) -> Result<String, S3Error> {
    let s = v
        .as_str()
        .ok_or_else(|| policy_error(format!("Invalid Condition: '{op}' requires a field name.")))?;
    let name = s.strip_prefix('$').ok_or_else(|| {
        policy_error(format!(
            "Invalid Condition: field names must start with '$': {s}"
        ))
    })?;
    Ok(name.to_string())
}

fn parse_condition(v: &Value) -> Result<Condition, S3Error> {
    match v {
        Value::Object(map) => {
            if map.len() != 1 {
                return Err(policy_error(
                    "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.",
                ));
            }
            let (k, value) = map.iter().next().expect("one property");
            let value = value.as_str().ok_or_else(|| {
                policy_error(format!(
                    "Invalid Simple-Condition: value of {k} must be a string."
                ))
            })?;
            Ok(Condition::Eq {
                field: k.to_string(),
                value: value.to_string(),
            })
        }
        Value::Array(items) => {
            let op = items.first().and_then(Value::as_str).ok_or_else(|| {
                policy_error("Invalid Condition: the first element must be an operator.")
            })?;
            match op.to_ascii_lowercase().as_str() {
                "eq" | "starts-with" => {
                    if items.len() != 3 {
                        return Err(policy_error(format!(
                            "Invalid '{op}' condition: wrong number of arguments."
                        )));
                    }
                    let field = field_name(&items[1], op)?;
                    let value = items[2]
                        .as_str()
                        .ok_or_else(|| {
                            policy_error(format!(
                                "Invalid '{op}' condition: the value must be a string."
                            ))
                        })?
                        .to_string();
                    if op.eq_ignore_ascii_case("eq") {
                        Ok(Condition::Eq { field, value })
                    } else if EXACT_ONLY.iter().any(|f| f.eq_ignore_ascii_case(&field)) {
                        Err(policy_error(format!(
                            "Invalid Condition: 'starts-with' cannot be used with '${field}'."
                        )))
                    } else {
                        Ok(Condition::StartsWith {
                            field,
                            prefix: value,
                        })
                    }
                }
                "content-length-range" => {
                    let bound = |v: &Value| -> Option<u64> {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    };
                    match (
                        items.len(),
                        items.get(1).and_then(bound),
                        items.get(2).and_then(bound),
                    ) {
                        (3, Some(min), Some(max)) => Ok(Condition::ContentLengthRange { min, max }),
                        _ => Err(policy_error(
                            "Invalid content-length-range condition: it takes two non-negative integers.",
                        )),
                    }
                }
                other => Err(policy_error(format!(
                    "Invalid Condition: unknown operator '{other}'."
                ))),
            }
        }
        _ => Err(policy_error(
            "Invalid Condition: a condition is an object or a list.",
        )),
    }
}

/// Fields the conditions need not cover.
fn exempt(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(
        n.as_str(),
        "x-amz-signature" | "file" | "policy" | "signature" | "awsaccesskeyid"
    ) || n.starts_with("x-ignore-")
}

impl PostPolicy {
    /// Checks expiry, every condition against the form (and the target bucket), and that
    /// every field is covered. Returns the content-length range to hold the file to.
    pub fn check(
        &self,
        form: &PostForm,
        bucket: &str,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(u64, u64)>, S3Error> {
        if now >= self.expiration {
            return Err(denied("Policy expired.")
                .reason(format!(
                    "the policy's expiration {} is before the server time {}",
                    crate::dates::iso(self.expiration),
                    crate::dates::iso(now)
                ))
                .at(crate::error::Check::Time));
        }
        // `$bucket` is the URL's bucket and `$key` the key with `${filename}` expanded;
        // any other field is the form's, and a condition on a field the form does not
        // send fails, even `["starts-with", "$Content-Type", ""]`: AWS answers "Policy
        // Condition failed" for it (waynehoover/s3_direct_upload#29,
        // dwilkie/carrierwave_direct#63) and for a field no form can carry, such as
        // `$Content-Length` (tj/node-s3-policy#8).
        let value_of = |field: &str| -> Option<String> {
            match field.to_ascii_lowercase().as_str() {
                "bucket" => Some(bucket.to_string()),
                "key" => Some(key.to_string()),
                f => form.get(f).map(str::to_string),
            }
        };
        let mut range = None;
        for c in &self.conditions {
            let ok = match c {
                Condition::Eq { field, value } => value_of(field).is_some_and(|v| v == *value),
                Condition::StartsWith { field, prefix }
                    if field.eq_ignore_ascii_case("content-type") =>
                {
                    // A comma-separated Content-Type is checked element by element.
                    value_of(field).is_some_and(|v| {
                        v.split(',').all(|v| v.trim().starts_with(prefix.as_str()))
                    })
                }
                Condition::StartsWith { field, prefix } => {
                    value_of(field).is_some_and(|v| v.starts_with(prefix.as_str()))
                }
                Condition::ContentLengthRange { min, max } => {
                    range = Some((*min, *max));
                    true
                }
            };
            if !ok {
                let field = c.field().unwrap_or("");
                let reason = match value_of(field) {
                    Some(v) => format!("the form's {field} is {v:?}"),
                    None => format!(
                        "the form has no field {field}: a condition on a field the form does not send fails, whatever it asks"
                    ),
                };
                return Err(
                    denied(format!("Policy Condition failed: {}", c.printed())).reason(reason)
                );
            }
        }
        let covered = |name: &str| {
            self.conditions
                .iter()
                .any(|c| c.field().is_some_and(|f| f.eq_ignore_ascii_case(name)))
        };
        if let Some((name, _)) = form.fields.iter().find(|(n, _)| !exempt(n) && !covered(n)) {
            return Err(
                denied(format!("Extra input fields: {}", name.to_ascii_lowercase())).reason(
                    format!("the form has a field {name:?} that no policy condition names"),
                ),
            );
        }
        Ok(range)
    }
}

impl Authenticator {
    /// Verifies the form's signature over its policy: SigV4 when `x-amz-algorithm` is
    /// present, SigV2 when `AWSAccessKeyId` is, anonymous when neither.
    pub fn verify_post(
        &self,
        form: &PostForm,
        region: crate::regions::Expected<'_>,
        attempt: &mut Attempt,
    ) -> Result<Authenticated, AuthError> {
        attempt.kind = if form.get("x-amz-algorithm").is_some() {
            AuthKind::V4Post
        } else if form.get("awsaccesskeyid").is_some() {
            AuthKind::V2Post
        } else {
            AuthKind::Anonymous
        };
        let mut claim = Claim::default();
        let result = self.verify_form(form, region, &mut claim);
        claim.record(attempt, &result);
        result
    }

    fn verify_form<'a>(
        &self,
        form: &'a PostForm,
        region: crate::regions::Expected<'_>,
        claim: &mut Claim<'a>,
    ) -> Result<Authenticated, AuthError> {
        let field = |name: &'static str| form.get(name).ok_or(AuthError::PostMissingField { name });
        let authenticated = |kind, cred: &crate::config::Credential, signed_at| {
            Authenticated::signed(kind, cred, signed_at, PayloadCheck::None)
        };
        if let Some(algorithm) = form.get("x-amz-algorithm") {
            claim.access_key = form
                .get("x-amz-credential")
                .map(|c| c.split('/').next().unwrap_or(""));
            if algorithm != ALGORITHM_V4 {
                return Err(AuthError::PostAlgorithm {
                    got: algorithm.to_string(),
                });
            }
            let credential = field("x-amz-credential")?;
            let date = field("x-amz-date")?;
            let provided = field("x-amz-signature")?;
            let policy = field("policy")?;
            let amz = AmzDate::parse(date).ok_or_else(|| AuthError::BadQueryDate {
                got: date.to_string(),
            })?;
            let scope =
                CredentialScope::parse(credential).ok_or(AuthError::CredentialMalformed {
                    via: Via::Query,
                    empty_key: false,
                })?;
            // A form's wrong region is S3's InvalidArgument, not the query error, and
            // not a redirect whatever the form's URL (CulturalMe/meteor-slingshot#150;
            // docs/sts-regions-evidence.md §6).
            let region = match region {
                crate::regions::Expected::Bucket { bucket, region, .. } => {
                    crate::regions::Expected::Bucket {
                        bucket,
                        region,
                        path_style: false,
                    }
                }
                any => any,
            };
            check_scope(&scope, amz.day(), region, Via::Query, "s3").map_err(|e| match e {
                AuthError::WrongRegion {
                    got, expected, why, ..
                } => AuthError::PostWrongRegion {
                    got,
                    expected,
                    why,
                    credential: credential.to_string(),
                },
                e => e,
            })?;
            let cred = self.credential(scope.access_key, form.get("x-amz-security-token"), None)?;
            let key = self.keys.get(
                scope.key_id(),
                cred.secret_key.expose(),
                scope.date,
                scope.region,
                scope.service,
            );
            let expected = sigv4::sign(&key, &StringToSign::Policy(policy));
            if !Signature::from_hex(provided).is_some_and(|p| p.matches(&expected)) {
                return Err(post_mismatch(scope.access_key, policy, provided));
            }
            return Ok(authenticated(AuthKind::V4Post, &cred, Some(amz.time)));
        }
        if let Some(access_key) = form.get("awsaccesskeyid") {
            claim.access_key = Some(access_key);
            let provided = field("signature")?;
            let policy = field("policy")?;
            if self.config.reject_sigv2 {
                return Err(AuthError::Sigv2Refused);
            }
            let cred = self.credential(access_key, form.get("x-amz-security-token"), None)?;
            let expected = sign_policy_v2(cred.secret_key.expose(), policy);
            let ok = Signature::from_base64(provided).is_some_and(|p| p.matches(&expected));
            if !ok {
                return Err(post_mismatch(access_key, policy, provided));
            }
            return Ok(authenticated(AuthKind::V2Post, &cred, None));
        }
        if form.get("policy").is_some() || form.get("x-amz-signature").is_some() {
            return Err(AuthError::PostMissingField {
                name: "x-amz-algorithm",
            });
        }
        Ok(Authenticated::anonymous())
    }
}

fn post_mismatch(access_key: &str, policy: &str, provided: &str) -> AuthError {
    AuthError::PostSignatureMismatch {
        access_key: access_key.to_string(),
        policy: policy.to_string(),
        provided: provided.to_string(),
    }
}

#[cfg(test)]
mod tests;
