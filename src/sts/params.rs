//! An STS request's parameters (the query protocol: `Action=…&Version=…&…`, in a form
//! body or the query string) and their validation, with STS's ValidationError texts
//! ("1 validation error detected: Value '600' at 'durationSeconds' failed to satisfy
//! constraint: Member must have value greater than or equal to 900"; real bodies in
//! docs/sts-regions-evidence.md §2).

use percent_encoding::percent_decode_str;

use super::error::StsError;

/// The request's parameters, in order, decoded.
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// The query string's pairs and the form body's (`application/x-www-form-urlencoded`).
    pub fn new(query: &[(String, String)], body: &[u8]) -> Params {
        let mut pairs = query.to_vec();
        pairs.extend(decode_form(&String::from_utf8_lossy(body)));
        Params { pairs }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first parameter named `name` or starting `name.` (a list: `Tags.member.1.Key`).
    pub fn any_of(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name || k.strip_prefix(name).is_some_and(|r| r.starts_with('.')))
            .map(|(k, _)| k.as_str())
    }
}

/// `a=1&b=x+y%21` → `[("a","1"),("b","x y!")]`.
fn decode_form(text: &str) -> impl Iterator<Item = (String, String)> + '_ {
    text.split('&').filter(|p| !p.is_empty()).map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        (decode(k), decode(v))
    })
}

/// Collects constraint violations, reported together as STS reports them.
#[derive(Default)]
pub struct Validation {
    errors: Vec<String>,
}

impl Validation {
    fn fail(&mut self, value: Option<&str>, field: &str, constraint: &str) {
        let value = match value {
            // "Value null at 'roleSessionName'" (no quotes: aws/aws-sdk-cpp#1252).
            None => "null".to_string(),
            Some(v) => format!("'{v}'"),
        };
        self.errors.push(format!(
            "Value {value} at '{field}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A required member.
    pub fn required<'a>(&mut self, value: Option<&'a str>, field: &str) -> Option<&'a str> {
        if value.is_none() {
            self.fail(None, field, "Member must not be null");
        }
        value
    }

    pub fn length(&mut self, value: Option<&str>, field: &str, min: usize, max: usize) {
        let Some(v) = value else { return };
        let n = v.chars().count();
        if n < min {
            self.fail(
                value,
                field,
                &format!("Member must have length greater than or equal to {min}"),
            );
        } else if n > max {
            self.fail(
                value,
                field,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }

    /// `pattern` is the model's regular expression, shown as STS shows it; `allowed`
    /// says which characters it admits (the patterns here are all `[…]*`).
    pub fn pattern(
        &mut self,
        value: Option<&str>,
        field: &str,
        pattern: &str,
        allowed: fn(char) -> bool,
    ) {
        if let Some(v) = value
            && !v.chars().all(allowed)
        {
            self.fail(
                value,
                field,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// An integer member within `min..=max`. A value that is no integer is refused in
    /// the same form (no STS capture shows that case).
    pub fn integer(&mut self, value: Option<&str>, field: &str, min: i64, max: i64) -> Option<i64> {
        let v = value?;
        let Ok(n) = v.trim().parse::<i64>() else {
            self.fail(value, field, "Member must be an integer");
            return None;
        };
        if n < min {
            self.fail(
                value,
                field,
                &format!("Member must have value greater than or equal to {min}"),
            );
            None
        } else if n > max {
            self.fail(
                value,
                field,
                &format!("Member must have value less than or equal to {max}"),
            );
            None
        } else {
            Some(n)
        }
    }

    pub fn finish(self) -> Result<(), StsError> {
        match self.errors.len() {
            0 => Ok(()),
            1 => Err(StsError::validation(format!(
                "1 validation error detected: {}",
                self.errors[0]
            ))),
            n => Err(StsError::validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

/// `[\w+=,.@-]*`: role session names.
pub fn session_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)
}

/// `[\w+=,.@:\/-]*`: external ids.
pub fn external_id_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_decode_as_browsers_and_sdks_encode_them() {
        let p = Params::new(
            &[("Version".into(), "2011-06-15".into())],
            b"Action=AssumeRole&RoleSessionName=a+b%40c&Policy=%7B%22x%22%3A1%7D&Tags.member.1.Key=k",
        );
        assert_eq!(p.get("Action"), Some("AssumeRole"));
        assert_eq!(p.get("Version"), Some("2011-06-15"));
        assert_eq!(p.get("RoleSessionName"), Some("a b@c"));
        assert_eq!(p.get("Policy"), Some(r#"{"x":1}"#));
        assert_eq!(p.any_of("Tags"), Some("Tags.member.1.Key"));
        assert_eq!(p.any_of("Tag"), None);
    }

    #[test]
    fn violations_are_reported_together_in_stss_words() {
        let mut v = Validation::default();
        let name = "x".repeat(65) + "/";
        v.length(Some(&name), "roleSessionName", 2, 64);
        v.pattern(
            Some(&name),
            "roleSessionName",
            r"[\w+=,.@-]*",
            session_name_char,
        );
        let err = v.finish().unwrap_err();
        assert_eq!(err.code, "ValidationError");
        assert_eq!(err.status, 400);
        assert!(
            err.message
                .starts_with("2 validation errors detected: Value '"),
            "{}",
            err.message
        );
        assert!(err.message.contains(
            "at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64; Value '"
        ));
        assert!(
            err.message
                .ends_with(r"Member must satisfy regular expression pattern: [\w+=,.@-]*")
        );

        let mut v = Validation::default();
        v.integer(Some("600"), "durationSeconds", 900, 129_600);
        assert_eq!(
            v.finish().unwrap_err().message,
            "1 validation error detected: Value '600' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900"
        );
        let mut v = Validation::default();
        v.required(None, "roleSessionName");
        assert_eq!(
            v.finish().unwrap_err().message,
            "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"
        );
    }
}
