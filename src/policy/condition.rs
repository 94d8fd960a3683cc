//! A statement's `Condition` block: operators, their `IfExists` forms and the
//! `ForAnyValue:` / `ForAllValues:` qualifiers, evaluated against the request's
//! [`Context`].
//!
//! Semantics (IAM "Condition operators" and "Single-valued vs. multivalued context keys"):
//! every operator of a block and every key under it must hold (AND); several values
//! for one key match if any does (OR), and a negated operator holds when none does. A
//! key absent from the request fails a positive operator and satisfies a negated one
//! ("If the policy condition requires that the key is not matched, such as StringNotLike
//! or ArnNotLike, and the right key is not present, the condition is true"); `…IfExists`
//! holds when the key is absent; `Null` tests presence. `ForAnyValue` needs one request
//! value to match and fails on an absent key; `ForAllValues` needs every request value to
//! match and holds on an absent key.

use std::net::IpAddr;

use serde_json::Value;
use time::OffsetDateTime;

use super::{PolicyError, substitute, wildcard};

/// The request's condition keys and their values. Keys compare case-insensitively.
#[derive(Debug, Clone, Default)]
pub struct Context {
    entries: Vec<(String, Vec<String>)>,
}

impl Context {
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.set_all(key, vec![value.into()]);
    }

    pub fn set_all(&mut self, key: &str, values: Vec<String>) {
        let key = key.to_ascii_lowercase();
        self.entries.retain(|(k, _)| *k != key);
        self.entries.push((key, values));
    }

    /// Makes `key` absent.
    pub fn remove(&mut self, key: &str) {
        self.entries.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_slice())
    }

    /// One value of a single-valued key.
    pub fn value(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.first()).map(String::as_str)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Qualifier {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Test {
    StringEquals { ignore_case: bool },
    StringLike,
    Numeric(std::cmp::Ordering, bool),
    Date(std::cmp::Ordering, bool),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// One `operator: { key: values }` entry.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The operator as written, for explanations.
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
    qualifier: Qualifier,
    test: Test,
    negated: bool,
    if_exists: bool,
}

/// The operator names IAM knows, as (name, test, negated).
fn base_operator(name: &str) -> Option<(Test, bool)> {
    use std::cmp::Ordering::*;
    Some(match name {
        "StringEquals" => (Test::StringEquals { ignore_case: false }, false),
        "StringNotEquals" => (Test::StringEquals { ignore_case: false }, true),
        "StringEqualsIgnoreCase" => (Test::StringEquals { ignore_case: true }, false),
        "StringNotEqualsIgnoreCase" => (Test::StringEquals { ignore_case: true }, true),
        "StringLike" => (Test::StringLike, false),
        "StringNotLike" => (Test::StringLike, true),
        "NumericEquals" => (Test::Numeric(Equal, false), false),
        "NumericNotEquals" => (Test::Numeric(Equal, false), true),
        "NumericLessThan" => (Test::Numeric(Less, false), false),
        "NumericLessThanEquals" => (Test::Numeric(Less, true), false),
        "NumericGreaterThan" => (Test::Numeric(Greater, false), false),
        "NumericGreaterThanEquals" => (Test::Numeric(Greater, true), false),
        "DateEquals" => (Test::Date(Equal, false), false),
        "DateNotEquals" => (Test::Date(Equal, false), true),
        "DateLessThan" => (Test::Date(Less, false), false),
        "DateLessThanEquals" => (Test::Date(Less, true), false),
        "DateGreaterThan" => (Test::Date(Greater, false), false),
        "DateGreaterThanEquals" => (Test::Date(Greater, true), false),
        "Bool" => (Test::Bool, false),
        "BinaryEquals" => (Test::Binary, false),
        "IpAddress" => (Test::Ip, false),
        "NotIpAddress" => (Test::Ip, true),
        "ArnEquals" | "ArnLike" => (Test::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Test::Arn, true),
        "Null" => (Test::Null, false),
        _ => return None,
    })
}

/// Parses a `Condition` block into its entries.
pub fn parse_block(block: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(ops) = block else {
        return Err(PolicyError::syntax("Condition must be an object"));
    };
    let mut out = Vec::new();
    for (operator, keys) in ops {
        let (qualifier, rest) = match operator.split_once(':') {
            Some(("ForAnyValue", rest)) => (Qualifier::ForAnyValue, rest),
            Some(("ForAllValues", rest)) => (Qualifier::ForAllValues, rest),
            Some(_) => return Err(PolicyError::unknown_operator(operator)),
            None => (Qualifier::Single, operator.as_str()),
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) if base != "Null" => (base, true),
            _ => (rest, false),
        };
        let (test, negated) =
            base_operator(base).ok_or_else(|| PolicyError::unknown_operator(operator))?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError::syntax(format!(
                "the {operator} condition must map keys to values"
            )));
        };
        for (key, values) in keys {
            let values = scalar_list(values).ok_or_else(|| {
                PolicyError::syntax(format!("the values of {operator} {key} must be strings"))
            })?;
            out.push(Condition {
                operator: operator.clone(),
                key: key.clone(),
                values,
                qualifier,
                test,
                negated,
                if_exists,
            });
        }
    }
    Ok(out)
}

/// A string, number or boolean, or a list of them, as text.
fn scalar_list(v: &Value) -> Option<Vec<String>> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

impl Condition {
    /// Whether the condition holds; when it does not, the words that say why.
    pub fn check(&self, ctx: &Context) -> Result<(), String> {
        let present = ctx.get(&self.key).filter(|v| !v.is_empty());
        if self.test == Test::Null {
            let want_absent = self.values.iter().any(|v| v.eq_ignore_ascii_case("true"));
            return if present.is_none() == want_absent {
                Ok(())
            } else {
                Err(format!(
                    "{} is {}, and the condition Null {:?} wants it {}",
                    self.key,
                    if present.is_some() {
                        "present"
                    } else {
                        "absent"
                    },
                    self.values.join(","),
                    if want_absent { "absent" } else { "present" }
                ))
            };
        }
        let Some(actual) = present else {
            let holds = match self.qualifier {
                Qualifier::ForAllValues => true,
                Qualifier::ForAnyValue => false,
                Qualifier::Single => self.if_exists || self.negated,
            };
            return if holds {
                Ok(())
            } else {
                Err(format!(
                    "the request has no {} for the condition {}",
                    self.key, self.operator
                ))
            };
        };
        let values: Vec<String> = self
            .values
            .iter()
            .map(|v| substitute(v, ctx).map_or_else(|| v.clone(), |s| s.into_owned()))
            .collect();
        // One request value against the policy's values: positive operators need one
        // match, negated ones need none.
        let holds_for = |a: &str| {
            let any = values.iter().any(|v| self.test_one(a, v));
            any != self.negated
        };
        let holds = match self.qualifier {
            Qualifier::ForAllValues => actual.iter().all(|a| holds_for(a)),
            Qualifier::ForAnyValue | Qualifier::Single => actual.iter().any(|a| holds_for(a)),
        };
        if holds {
            Ok(())
        } else {
            Err(format!(
                "{} is {} and the condition is {} {}",
                self.key,
                quoted(actual),
                self.operator,
                quoted(&values)
            ))
        }
    }

    fn test_one(&self, actual: &str, wanted: &str) -> bool {
        use std::cmp::Ordering;
        let compare = |ord: Option<Ordering>, want: Ordering, or_equal: bool| {
            ord.is_some_and(|o| o == want || (or_equal && o == Ordering::Equal))
        };
        match self.test {
            Test::StringEquals { ignore_case: false } | Test::Binary => actual == wanted,
            Test::StringEquals { ignore_case: true } => actual.eq_ignore_ascii_case(wanted),
            Test::StringLike | Test::Arn => wildcard::matches(wanted, actual, false),
            Test::Numeric(want, or_equal) => {
                let ord = actual
                    .parse::<f64>()
                    .ok()
                    .zip(wanted.parse::<f64>().ok())
                    .and_then(|(a, w)| a.partial_cmp(&w));
                compare(ord, want, or_equal)
            }
            Test::Date(want, or_equal) => {
                let ord = parse_date(actual)
                    .zip(parse_date(wanted))
                    .map(|(a, w)| a.cmp(&w));
                compare(ord, want, or_equal)
            }
            Test::Bool => actual.eq_ignore_ascii_case(wanted),
            Test::Ip => ip_in(actual, wanted),
            Test::Null => false,
        }
    }
}

fn quoted(values: &[String]) -> String {
    match values {
        [one] => format!("{one:?}"),
        many => format!("{many:?}"),
    }
}

/// A date as IAM reads one: ISO 8601 (RFC 3339), or seconds since the epoch.
pub fn parse_date(s: &str) -> Option<OffsetDateTime> {
    use time::format_description::well_known::{Iso8601, Rfc3339};
    if let Ok(secs) = s.parse::<i64>() {
        return OffsetDateTime::from_unix_timestamp(secs).ok();
    }
    OffsetDateTime::parse(s, &Rfc3339)
        .or_else(|_| OffsetDateTime::parse(s, &Iso8601::DEFAULT))
        .ok()
}

/// Whether the address `ip` is in `cidr` (`203.0.113.0/24`, `2001:db8::/32`, or one
/// address).
pub fn ip_in(ip: &str, cidr: &str) -> bool {
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let (net, bits) = match cidr.split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr, None),
    };
    let Ok(net) = net.parse::<IpAddr>() else {
        return false;
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(block: Value) -> Condition {
        let mut c = parse_block(&block).unwrap();
        assert_eq!(c.len(), 1);
        c.remove(0)
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::default();
        for (k, v) in pairs {
            c.set_all(k, v.iter().map(|s| s.to_string()).collect());
        }
        c
    }

    #[test]
    fn strings_and_absent_keys() {
        let c = one(json!({"StringEquals": {"s3:prefix": ["home/", "docs/"]}}));
        assert!(c.check(&ctx(&[("s3:prefix", &["docs/"])])).is_ok());
        let why = c.check(&ctx(&[("s3:prefix", &["tmp/"])])).unwrap_err();
        assert!(why.contains("s3:prefix is \"tmp/\""), "{why}");
        assert!(
            c.check(&ctx(&[])).is_err(),
            "absent key fails a positive operator"
        );
        let not = one(json!({"StringNotEquals": {"s3:prefix": ["home/", "docs/"]}}));
        assert!(not.check(&ctx(&[("s3:prefix", &["tmp/"])])).is_ok());
        assert!(not.check(&ctx(&[("s3:prefix", &["home/"])])).is_err());
        assert!(
            not.check(&ctx(&[])).is_ok(),
            "absent key satisfies a negated one"
        );
        let if_exists = one(json!({"StringEqualsIfExists": {"s3:prefix": "home/"}}));
        assert!(if_exists.check(&ctx(&[])).is_ok());
        assert!(if_exists.check(&ctx(&[("s3:prefix", &["x"])])).is_err());
        let like = one(json!({"StringLike": {"aws:Referer": "https://*.example.com/*"}}));
        assert!(
            like.check(&ctx(&[("aws:referer", &["https://www.example.com/a"])]))
                .is_ok()
        );
        let ic = one(json!({"StringEqualsIgnoreCase": {"s3:x-amz-acl": "PRIVATE"}}));
        assert!(ic.check(&ctx(&[("s3:x-amz-acl", &["private"])])).is_ok());
    }

    #[test]
    fn numbers_dates_bools_ips_and_null() {
        let age = one(json!({"NumericLessThan": {"s3:signatureAge": "600000"}}));
        assert!(age.check(&ctx(&[("s3:signatureAge", &["599999"])])).is_ok());
        let why = age
            .check(&ctx(&[("s3:signatureAge", &["700000"])]))
            .unwrap_err();
        assert!(
            why.contains("700000") && why.contains("NumericLessThan"),
            "{why}"
        );
        let le = one(json!({"NumericLessThanEquals": {"s3:max-keys": 10}}));
        assert!(le.check(&ctx(&[("s3:max-keys", &["10"])])).is_ok());
        assert!(le.check(&ctx(&[("s3:max-keys", &["11"])])).is_err());
        let date = one(json!({"DateLessThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}));
        assert!(
            date.check(&ctx(&[("aws:CurrentTime", &["2025-12-31T23:59:59Z"])]))
                .is_ok()
        );
        assert!(
            date.check(&ctx(&[("aws:CurrentTime", &["2026-01-01T00:00:00Z"])]))
                .is_err()
        );
        let epoch = one(json!({"DateGreaterThan": {"aws:EpochTime": "1700000000"}}));
        assert!(
            epoch
                .check(&ctx(&[("aws:EpochTime", &["1700000001"])]))
                .is_ok()
        );
        let tls = one(json!({"Bool": {"aws:SecureTransport": "false"}}));
        assert!(
            tls.check(&ctx(&[("aws:SecureTransport", &["false"])]))
                .is_ok()
        );
        assert!(
            tls.check(&ctx(&[("aws:SecureTransport", &["true"])]))
                .is_err()
        );
        let ip = one(json!({"IpAddress": {"aws:SourceIp": ["127.0.0.0/8", "::1/128"]}}));
        assert!(ip.check(&ctx(&[("aws:SourceIp", &["127.0.0.1"])])).is_ok());
        assert!(ip.check(&ctx(&[("aws:SourceIp", &["::1"])])).is_ok());
        assert!(ip.check(&ctx(&[("aws:SourceIp", &["10.0.0.1"])])).is_err());
        let not_ip = one(json!({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}));
        assert!(
            not_ip
                .check(&ctx(&[("aws:SourceIp", &["127.0.0.1"])]))
                .is_ok()
        );
        let null = one(json!({"Null": {"s3:x-amz-acl": "true"}}));
        assert!(null.check(&ctx(&[])).is_ok());
        assert!(null.check(&ctx(&[("s3:x-amz-acl", &["private"])])).is_err());
        let arn = one(json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:user/ci-*"}}));
        assert!(
            arn.check(&ctx(&[(
                "aws:PrincipalArn",
                &["arn:aws:iam::123456789012:user/ci-1"]
            )]))
            .is_ok()
        );
    }

    #[test]
    fn qualifiers_over_multivalued_keys() {
        let any = one(json!({"ForAnyValue:StringEquals": {"s3:RequestObjectTagKeys": ["a", "b"]}}));
        assert!(
            any.check(&ctx(&[("s3:RequestObjectTagKeys", &["x", "b"])]))
                .is_ok()
        );
        assert!(
            any.check(&ctx(&[("s3:RequestObjectTagKeys", &["x"])]))
                .is_err()
        );
        assert!(
            any.check(&ctx(&[])).is_err(),
            "ForAnyValue fails on an absent key"
        );
        let all =
            one(json!({"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["a", "b"]}}));
        assert!(
            all.check(&ctx(&[("s3:RequestObjectTagKeys", &["a", "b"])]))
                .is_ok()
        );
        assert!(
            all.check(&ctx(&[("s3:RequestObjectTagKeys", &["a", "c"])]))
                .is_err()
        );
        assert!(
            all.check(&ctx(&[])).is_ok(),
            "ForAllValues holds on an absent key"
        );
    }

    #[test]
    fn unknown_operators_are_refused() {
        assert!(parse_block(&json!({"StringEqualz": {"a": "b"}})).is_err());
        assert!(parse_block(&json!({"ForSomeValues:StringEquals": {"a": "b"}})).is_err());
        assert!(parse_block(&json!({"StringEquals": {"a": {"b": 1}}})).is_err());
        assert!(parse_block(&json!({"NullIfExists": {"a": "true"}})).is_err());
    }
}
