//! IAM policy documents, parsed and checked once (when configured), evaluated per
//! request against a typed [`Context`].
//!
//! Evaluation as IAM documents it ("Policy evaluation logic"): an applicable `Deny`
//! statement wins; otherwise an applicable `Allow` allows; otherwise the request is
//! implicitly denied. A statement applies when its `Action` (or `NotAction`) and
//! `Resource` (or `NotResource`) match and every condition holds.
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>

pub mod condition;
mod parse;
mod resource_types;
mod wildcard;

use serde_json::Value;

use condition::Condition;
pub use condition::Context;
use parse::{Kind, parse_statement};

/// Allow or Deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// A list of patterns, or (`NotAction`, `NotResource`) everything but them.
#[derive(Debug, Clone)]
struct Patterns {
    negated: bool,
    patterns: Vec<String>,
}

/// A statement's `Principal` (or, negated, `NotPrincipal`).
#[derive(Debug, Clone)]
struct Principals {
    negated: bool,
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
    everyone: bool,
    /// IAM ARNs, account roots as `arn:aws:iam::<id>:root`.
    arns: Vec<String>,
    canonical: Vec<String>,
}

/// Who is asking, for a bucket policy's `Principal`.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// `None` for an anonymous request.
    pub arn: Option<&'a str>,
    /// A role session's role ARN: a statement naming the role applies to its sessions.
    pub role: Option<&'a str>,
    pub account_root: Option<&'a str>,
    pub canonical_id: Option<&'a str>,
    /// The account's root user: a statement naming the account applies to it directly;
    /// for the account's IAM users only a Deny does (an Allow must come from their own
    /// identity policy).
    pub is_root: bool,
    /// The caller belongs to another account than the bucket's: an Allow naming its
    /// account delegates to that account, whose own policies then decide (so it applies
    /// to its IAM users too).
    pub delegated: bool,
}

impl Principals {
    fn names(&self, caller: &Caller<'_>, effect: Effect) -> bool {
        let hit = self.everyone
            || caller.arn.is_some_and(|a| self.arns.iter().any(|p| p == a))
            || caller
                .role
                .is_some_and(|a| self.arns.iter().any(|p| p == a))
            || caller.account_root.is_some_and(|root| {
                (caller.is_root || caller.delegated || effect == Effect::Deny)
                    && self.arns.iter().any(|p| p == root)
            })
            || caller.canonical_id.is_some_and(|id| {
                (caller.is_root || caller.delegated || effect == Effect::Deny)
                    && self.canonical.iter().any(|c| c == id)
            });
        hit != self.negated
    }
}

/// One statement of a policy.
#[derive(Debug, Clone)]
pub struct Statement {
    pub sid: Option<String>,
    /// Its position in the policy (from 1), for explanations when it has no Sid.
    pub position: usize,
    pub effect: Effect,
    /// Whom a bucket policy's statement is about (`None` in an identity policy).
    principals: Option<Principals>,
    actions: Patterns,
    resources: Patterns,
    conditions: Vec<Condition>,
}

impl Statement {
    /// Whether it allows everyone (`"*"` as the principal) without a condition that
    /// limits who (the S3 "meaning of public": a fixed source IP, account or ARN makes a
    /// statement non-public).
    pub fn is_public(&self) -> bool {
        const LIMITING: &[&str] = &[
            "aws:sourceip",
            "aws:sourcearn",
            "aws:sourcevpc",
            "aws:sourcevpce",
            "aws:sourceaccount",
            "aws:sourceowner",
            "aws:principalarn",
            "aws:principalaccount",
            "aws:principalorgid",
            "aws:userid",
            "s3:dataaccesspointarn",
            "s3:dataaccesspointaccount",
        ];
        self.effect == Effect::Allow
            && self
                .principals
                .as_ref()
                .is_some_and(|p| p.everyone && !p.negated)
            && !self
                .conditions
                .iter()
                .any(|c| LIMITING.contains(&c.key.to_ascii_lowercase().as_str()))
    }

    /// How an explanation names the statement: its Sid, else its position.
    pub fn label(&self) -> String {
        match &self.sid {
            Some(sid) => format!("statement {sid:?}"),
            None => format!("statement {}", self.position),
        }
    }
}

/// A parsed, checked policy.
#[derive(Debug, Clone)]
pub struct Policy {
    pub statements: Vec<Statement>,
    /// The condition keys its conditions and variables read (lower case): a request's
    /// context is built with these only.
    pub keys: Vec<String>,
    /// `2012-10-17`: policy variables (`${aws:username}`) are substituted. Under the
    /// older `2008-10-17` they are literal text.
    variables: bool,
}

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl PolicyError {
    pub fn syntax(message: impl Into<String>) -> Self {
        PolicyError(message.into())
    }

    fn unknown_operator(op: &str) -> Self {
        PolicyError(format!("Invalid Condition type : {op}"))
    }
}

impl std::fmt::Display for PolicyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

/// What evaluating a policy concluded.
#[derive(Debug, Clone, Copy)]
pub enum Verdict<'p> {
    Deny(&'p Statement),
    Allow(&'p Statement),
    /// No statement applies (see [`Miss`] for the closest one).
    NotApplicable,
}

/// What a request asks, for evaluation.
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

/// Why no Allow applied: the closest statement and the condition it failed.
#[derive(Debug, Clone)]
pub struct Miss {
    pub statement: String,
    pub why: String,
}

impl Policy {
    /// An identity policy (an IAM user's): no `Principal`, and every statement names its
    /// actions and resources.
    pub fn parse_identity(text: &str) -> Result<Policy, PolicyError> {
        Self::parse(text, &Kind::Identity)
    }

    /// A bucket policy of `bucket`: every statement names its principals (each one
    /// `known` to this server), and its resources are the bucket or its objects.
    pub fn parse_bucket(
        text: &str,
        bucket: &str,
        known: &dyn Fn(&str) -> bool,
    ) -> Result<Policy, PolicyError> {
        Self::parse(text, &Kind::Bucket { bucket, known })
    }

    /// A role's trust policy: who may assume the role (each principal `known`).
    pub fn parse_trust(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Policy, PolicyError> {
        Self::parse(text, &Kind::Trust { known })
    }

    fn parse(text: &str, kind: &Kind<'_>) -> Result<Policy, PolicyError> {
        // S3's MalformedPolicy messages where captures exist (docs/permissions-evidence.md §6).
        if !text.trim_start().starts_with('{') {
            return Err(PolicyError::syntax(
                "Policies must be valid JSON and the first byte must be '{'",
            ));
        }
        let doc: Value = serde_json::from_str(text)
            .map_err(|e| PolicyError(format!("This policy contains invalid Json ({e})")))?;
        let Value::Object(doc) = &doc else {
            return Err(PolicyError::syntax(
                "Policies must be valid JSON and the first byte must be '{'",
            ));
        };
        let variables = match doc.get("Version") {
            Some(v) if v == "2012-10-17" => true,
            // 2008-10-17 is also the default when Version is left out.
            Some(v) if v == "2008-10-17" => false,
            None => false,
            Some(_) => {
                return Err(PolicyError::syntax(
                    "The policy must contain a valid version string",
                ));
            }
        };
        for key in doc.keys() {
            if !matches!(key.as_str(), "Version" | "Id" | "Statement") {
                return Err(PolicyError(format!("Unknown field {key}")));
            }
        }
        let statements = match doc.get("Statement") {
            Some(Value::Array(items)) if items.is_empty() => {
                return Err(PolicyError::syntax(
                    "Could not parse the policy: Statement is empty!",
                ));
            }
            Some(Value::Array(items)) => items.iter().collect(),
            Some(one @ Value::Object(_)) => vec![one],
            Some(_) => return Err(PolicyError::syntax("Statement must be an object or a list")),
            None => return Err(PolicyError::syntax("Missing required field Statement")),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| parse_statement(s, i + 1, kind))
            .collect::<Result<Vec<_>, _>>()?;
        let mut keys: Vec<String> = Vec::new();
        for s in &statements {
            let texts = s.resources.patterns.iter().map(String::as_str);
            let cond_values = s
                .conditions
                .iter()
                .flat_map(|c| c.values.iter().map(String::as_str));
            for text in texts.chain(cond_values) {
                keys.extend(variables_in(text).map(str::to_ascii_lowercase));
            }
            keys.extend(s.conditions.iter().map(|c| c.key.to_ascii_lowercase()));
        }
        keys.sort();
        keys.dedup();
        Ok(Policy {
            statements,
            keys,
            variables,
        })
    }

    /// Whether any statement makes the policy public (GetBucketPolicyStatus).
    pub fn is_public(&self) -> bool {
        self.statements.iter().any(Statement::is_public)
    }

    /// Evaluates the policy; on no Allow, also says which statement came closest.
    pub fn evaluate(&self, req: &Request<'_>) -> (Verdict<'_>, Option<Miss>) {
        self.evaluate_for(req, None)
    }

    /// [`Policy::evaluate`] for a bucket policy, whose statements apply to `caller` only
    /// when their `Principal` names it.
    pub fn evaluate_for(
        &self,
        req: &Request<'_>,
        caller: Option<&Caller<'_>>,
    ) -> (Verdict<'_>, Option<Miss>) {
        let mut allow = None;
        let mut miss = None;
        for s in &self.statements {
            if let (Some(p), Some(caller)) = (&s.principals, caller)
                && !p.names(caller, s.effect)
            {
                continue;
            }
            if !self.matches_target(s, req) {
                continue;
            }
            match s.conditions.iter().try_for_each(|c| c.check(req.context)) {
                Ok(()) if s.effect == Effect::Deny => return (Verdict::Deny(s), None),
                Ok(()) => allow = allow.or(Some(s)),
                Err(why) if s.effect == Effect::Allow && miss.is_none() => {
                    miss = Some(Miss {
                        statement: s.label(),
                        why,
                    });
                }
                Err(_) => {}
            }
        }
        match allow {
            Some(s) => (Verdict::Allow(s), None),
            None => (Verdict::NotApplicable, miss),
        }
    }

    fn matches_target(&self, s: &Statement, req: &Request<'_>) -> bool {
        let action = s
            .actions
            .patterns
            .iter()
            .any(|p| wildcard::matches(p, req.action, true));
        let resource = s.resources.patterns.iter().any(|p| {
            let p = if self.variables {
                match substitute(p, req.context) {
                    Some(p) => p,
                    // A variable the request has no value for matches nothing.
                    None => return false,
                }
            } else {
                std::borrow::Cow::Borrowed(p.as_str())
            };
            wildcard::matches(&p, req.resource, false)
        });
        action != s.actions.negated && resource != s.resources.negated
    }
}

/// The variable names in a text (`${aws:username}` → `aws:username`).
fn variables_in(text: &str) -> impl Iterator<Item = &str> {
    text.split("${")
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name))
        .filter(|name| !matches!(*name, "*" | "?" | "$"))
}

/// Replaces policy variables (`${aws:username}`; `${*}`, `${?}` and `${$}` for the
/// literal characters) with the request's values. `None` when a variable has no value.
pub fn substitute<'t>(text: &'t str, ctx: &Context) -> Option<std::borrow::Cow<'t, str>> {
    if !text.contains("${") {
        return Some(std::borrow::Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let name = &after[..end];
        match name {
            "*" | "?" | "$" => out.push_str(name),
            key => out.push_str(ctx.value(key)?),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(std::borrow::Cow::Owned(out))
}

#[cfg(test)]
mod tests;
