//! Reading a policy document's statements: each element checked as IAM and S3 check
//! them when a policy is set, with their MalformedPolicy messages.

use serde_json::Value;

use super::condition;
use super::resource_types;
use super::{Effect, Patterns, PolicyError, Principals, Statement};

/// Parses `Principal` / `NotPrincipal`: `"*"`, `{"AWS": …}` (ARNs, account ids, `"*"`),
/// `{"CanonicalUser": …}`. An account id is stored as its root ARN, as S3 stores it.
fn principals(
    s: &serde_json::Map<String, Value>,
    known: &dyn Fn(&str) -> bool,
) -> Result<Principals, PolicyError> {
    let invalid = || PolicyError::syntax("Invalid principal in policy");
    let (negated, value) = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(v), None) => (false, v),
        (None, Some(v)) => (true, v),
        (Some(_), Some(_)) => return Err(invalid()),
        (None, None) => return Err(PolicyError::syntax("Missing required field Principal")),
    };
    let mut out = Principals {
        negated,
        everyone: false,
        arns: Vec::new(),
        canonical: Vec::new(),
    };
    let list = |v: &Value| -> Result<Vec<String>, PolicyError> {
        match v {
            Value::String(one) => Ok(vec![one.clone()]),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string).ok_or_else(invalid))
                .collect(),
            _ => Err(invalid()),
        }
    };
    match value {
        Value::String(star) if star == "*" => out.everyone = true,
        Value::Object(map) if !map.is_empty() => {
            for (kind, v) in map {
                for name in list(v)? {
                    match kind.as_str() {
                        "AWS" if name == "*" => out.everyone = true,
                        "AWS" => {
                            let arn =
                                if name.len() == 12 && name.bytes().all(|b| b.is_ascii_digit()) {
                                    format!("arn:aws:iam::{name}:root")
                                } else {
                                    name
                                };
                            if !known(&arn) {
                                return Err(invalid());
                            }
                            out.arns.push(arn);
                        }
                        "CanonicalUser" if known(&name) => out.canonical.push(name),
                        // A service principal never signs an S3 request here.
                        "Service" => {}
                        _ => return Err(invalid()),
                    }
                }
            }
        }
        _ => return Err(invalid()),
    }
    Ok(out)
}

/// Which kind of policy is being parsed.
pub(super) enum Kind<'a> {
    Identity,
    Bucket {
        bucket: &'a str,
        known: &'a dyn Fn(&str) -> bool,
    },
    /// A role's trust policy: principals, `sts:` actions, and no `Resource` (the role
    /// itself is the resource).
    Trust {
        known: &'a dyn Fn(&str) -> bool,
    },
}

pub(super) fn parse_statement(
    v: &Value,
    position: usize,
    kind: &Kind<'_>,
) -> Result<Statement, PolicyError> {
    let Value::Object(s) = v else {
        return Err(PolicyError::syntax("each Statement must be an object"));
    };
    for key in s.keys() {
        match key.as_str() {
            "Sid" | "Effect" | "Action" | "NotAction" | "Condition" => {}
            "Principal" | "NotPrincipal" if matches!(kind, Kind::Identity) => {
                return Err(PolicyError::syntax(
                    "Policy document should not specify a principal.",
                ));
            }
            "Principal" | "NotPrincipal" => {}
            // IAM's MalformedPolicyDocument text for a trust policy with a Resource.
            "Resource" | "NotResource" if matches!(kind, Kind::Trust { .. }) => {
                return Err(PolicyError(format!("Has prohibited field {key}")));
            }
            "Resource" | "NotResource" => {}
            other => return Err(PolicyError(format!("Unknown field {other}"))),
        }
    }
    let principals = match kind {
        Kind::Identity => None,
        Kind::Bucket { known, .. } | Kind::Trust { known } => Some(principals(s, *known)?),
    };
    let effect = match s.get("Effect").and_then(Value::as_str) {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        Some(other) => return Err(PolicyError(format!("Invalid effect: {other}"))),
        None => return Err(PolicyError::syntax("Missing required field Effect")),
    };
    let actions = patterns(s, "Action", "NotAction")?;
    for a in &actions.patterns {
        let lower = a.to_ascii_lowercase();
        let valid = match kind {
            Kind::Bucket { .. } => a == "*" || lower.starts_with("s3:"),
            // An identity policy may also let its user assume roles (sts:AssumeRole).
            Kind::Identity => a == "*" || lower.starts_with("s3:") || lower.starts_with("sts:"),
            Kind::Trust { .. } => a == "*" || lower.starts_with("sts:"),
        };
        if !valid {
            return Err(PolicyError(match kind {
                Kind::Trust { .. } => format!(
                    "Policy has invalid action ({a:?}: a trust policy's actions are sts:* actions)"
                ),
                Kind::Identity => format!(
                    "Policy has invalid action ({a:?}: only s3:* and sts:* actions apply here)"
                ),
                Kind::Bucket { .. } => {
                    format!("Policy has invalid action ({a:?}: only s3:* actions apply to S3)")
                }
            }));
        }
    }
    let resources = match kind {
        Kind::Trust { .. } => Patterns {
            negated: false,
            patterns: vec!["*".to_string()],
        },
        _ => patterns(s, "Resource", "NotResource")?,
    };
    for r in &resources.patterns {
        let valid = match kind {
            Kind::Trust { .. } => true,
            Kind::Identity => {
                r == "*" || r.starts_with("arn:aws:s3:::") || r.starts_with("arn:aws:iam::")
            }
            // This bucket or its objects only: another bucket, or `*`, is refused
            // (aws-samples/aws-serverless-appsync-app#4; noobaa#10058).
            Kind::Bucket { bucket, .. } => r
                .strip_prefix("arn:aws:s3:::")
                .and_then(|rest| rest.strip_prefix(*bucket))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/')),
        };
        if !valid {
            return Err(PolicyError(format!(
                "Policy has invalid resource ({r:?}: S3 resources are arn:aws:s3:::bucket or arn:aws:s3:::bucket/key{})",
                match kind {
                    Kind::Bucket { bucket, .. } =>
                        format!(", and a bucket policy names only {bucket} and its objects"),
                    _ => String::new(),
                }
            )));
        }
    }
    if let Kind::Bucket { bucket, .. } = kind
        && !actions.negated
        && !resources.negated
    {
        let rest = |r: &String| r["arn:aws:s3:::".len() + bucket.len()..].to_string();
        let on_bucket = resources.patterns.iter().any(|r| rest(r).is_empty());
        let on_object = resources.patterns.iter().any(|r| !rest(r).is_empty());
        if !resource_types::applies(&actions.patterns, on_bucket, on_object) {
            return Err(PolicyError(format!(
                "Action does not apply to any resource(s) in statement ({}: {} applies to none of {})",
                match s.get("Sid").and_then(Value::as_str) {
                    Some(sid) => format!("statement {sid:?}"),
                    None => format!("statement {position}"),
                },
                actions.patterns.join(", "),
                resources.patterns.join(", "),
            )));
        }
    }
    let conditions = match s.get("Condition") {
        Some(block) => condition::parse_block(block)?,
        None => Vec::new(),
    };
    Ok(Statement {
        sid: s.get("Sid").and_then(Value::as_str).map(str::to_string),
        position,
        effect,
        principals,
        actions,
        resources,
        conditions,
    })
}

/// `Action` or `NotAction` (exactly one), a string or a list of strings.
fn patterns(
    s: &serde_json::Map<String, Value>,
    name: &str,
    not_name: &str,
) -> Result<Patterns, PolicyError> {
    let (negated, value) = match (s.get(name), s.get(not_name)) {
        (Some(v), None) => (false, v),
        (None, Some(v)) => (true, v),
        (Some(_), Some(_)) => {
            return Err(PolicyError(format!(
                "a statement may have {name} or {not_name}, not both"
            )));
        }
        (None, None) => {
            return Err(PolicyError(format!(
                "Missing required field {name} (or {not_name})"
            )));
        }
    };
    let list = match value {
        Value::String(one) => vec![one.clone()],
        Value::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| PolicyError(format!("{name} must be a string or a list of strings")))?,
        _ => {
            return Err(PolicyError(format!(
                "{name} must be a string or a list of strings"
            )));
        }
    };
    if list.is_empty() {
        return Err(PolicyError(format!("{name} must not be empty")));
    }
    Ok(Patterns {
        negated,
        patterns: list,
    })
}
