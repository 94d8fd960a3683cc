//! Bucket CORS: the configuration document, rule matching, preflight answers and the
//! headers added to actual requests.
//!
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/cors.html>: the first rule whose
//! origin, method and every requested header match wins; `AllowedOrigin` and
//! `AllowedHeader` may hold one `*` wildcard; methods are GET, PUT, POST, DELETE, HEAD.
//! A request without `Origin` gets no CORS headers. Preflights are answered before
//! authentication (browsers send no credentials with them).

use http::HeaderValue;

use crate::error::{S3Error, S3ErrorCode};
use crate::xml::{XmlWriter, malformed, parse_tree_limited};

/// S3's limit on rules per configuration.
pub const MAX_RULES: usize = 100;
const METHODS: &[&str] = &["GET", "PUT", "POST", "DELETE", "HEAD"];

/// One `<CORSRule>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CorsRule {
    pub id: Option<String>,
    pub allowed_origins: Vec<String>,
    pub allowed_methods: Vec<String>,
    pub allowed_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    pub max_age_seconds: Option<u64>,
}

/// A bucket's `<CORSConfiguration>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CorsConfiguration {
    pub rules: Vec<CorsRule>,
}

fn invalid(message: String) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidRequest, message)
}

/// `*` may appear once; the pattern otherwise matches literally (ASCII case-sensitively
/// for origins, insensitively for headers).
fn wildcard_match(pattern: &str, value: &str, case_insensitive: bool) -> bool {
    let eq = |a: &str, b: &str| {
        if case_insensitive {
            a.eq_ignore_ascii_case(b)
        } else {
            a == b
        }
    };
    match pattern.split_once('*') {
        None => eq(pattern, value),
        Some((pre, post)) => {
            value.len() >= pre.len() + post.len()
                && value.is_char_boundary(pre.len())
                && value.is_char_boundary(value.len() - post.len())
                && eq(&value[..pre.len()], pre)
                && eq(&value[value.len() - post.len()..], post)
        }
    }
}

impl CorsRule {
    fn origin_matches(&self, origin: &str) -> bool {
        self.allowed_origins
            .iter()
            .any(|o| wildcard_match(o, origin, false))
    }

    fn method_matches(&self, method: &str) -> bool {
        self.allowed_methods.iter().any(|m| m == method)
    }

    fn header_allowed(&self, header: &str) -> bool {
        self.allowed_headers
            .iter()
            .any(|h| wildcard_match(h, header, true))
    }

    /// `*` when the matched origin pattern is the bare wildcard (and then no
    /// credentials); otherwise the request's origin, with credentials allowed.
    fn allow_origin<'a>(&self, origin: &'a str) -> (&'a str, bool) {
        if self.allowed_origins.iter().any(|o| o == "*")
            && !self.allowed_origins.iter().any(|o| o == origin)
        {
            ("*", false)
        } else {
            (origin, true)
        }
    }
}

impl CorsConfiguration {
    /// Parses and validates a PutBucketCors document.
    pub fn parse(bytes: &[u8]) -> Result<CorsConfiguration, S3Error> {
        // S3 takes at most 100 rules in a configuration of at most 64 KB.
        let doc = parse_tree_limited(bytes, 8192)?;
        if doc.name != "CORSConfiguration" {
            return Err(malformed(format!(
                "expected <CORSConfiguration>, found <{}>",
                doc.name
            )));
        }
        doc.only(&["CORSRule"])?;
        let rules: Vec<CorsRule> = doc
            .all("CORSRule")
            .map(parse_rule)
            .collect::<Result<_, _>>()?;
        if rules.is_empty() {
            return Err(malformed("a CORSConfiguration needs at least one CORSRule"));
        }
        if rules.len() > MAX_RULES {
            return Err(malformed(format!(
                "{} rules; S3 allows at most {MAX_RULES}",
                rules.len()
            )));
        }
        Ok(CorsConfiguration { rules })
    }

    /// The document GetBucketCors returns.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open_ns("CORSConfiguration");
        for r in &self.rules {
            w.open("CORSRule");
            if let Some(id) = &r.id {
                w.elem("ID", id);
            }
            for h in &r.allowed_headers {
                w.elem("AllowedHeader", h);
            }
            for m in &r.allowed_methods {
                w.elem("AllowedMethod", m);
            }
            for o in &r.allowed_origins {
                w.elem("AllowedOrigin", o);
            }
            for h in &r.expose_headers {
                w.elem("ExposeHeader", h);
            }
            if let Some(age) = r.max_age_seconds {
                w.elem("MaxAgeSeconds", &age.to_string());
            }
            w.close("CORSRule");
        }
        w.close("CORSConfiguration");
        w.finish()
    }

    /// The rule for a preflight: origin, `Access-Control-Request-Method` and every header
    /// of `Access-Control-Request-Headers` must match; the first such rule wins.
    pub fn preflight_rule(
        &self,
        origin: &str,
        method: &str,
        headers: &[&str],
    ) -> Option<&CorsRule> {
        self.rules.iter().find(|r| {
            r.origin_matches(origin)
                && r.method_matches(method)
                && headers.iter().all(|h| r.header_allowed(h))
        })
    }

    /// The rule for an actual request: origin and method.
    pub fn actual_rule(&self, origin: &str, method: &str) -> Option<&CorsRule> {
        self.rules
            .iter()
            .find(|r| r.origin_matches(origin) && r.method_matches(method))
    }

    /// A permissive configuration for one origin (`--cors-allow-origin`, a local-dev
    /// shortcut AWS does not have).
    pub fn permissive(origins: &[String]) -> CorsConfiguration {
        CorsConfiguration {
            rules: vec![CorsRule {
                id: Some("strict-s3-cors-allow-origin".into()),
                allowed_origins: origins.to_vec(),
                allowed_methods: METHODS.iter().map(|m| m.to_string()).collect(),
                allowed_headers: vec!["*".into()],
                expose_headers: vec![
                    "ETag".into(),
                    "x-amz-request-id".into(),
                    "x-amz-version-id".into(),
                ],
                max_age_seconds: Some(3000),
            }],
        }
    }
}

fn parse_rule(el: &crate::xml::Element) -> Result<CorsRule, S3Error> {
    el.only(&[
        "ID",
        "AllowedOrigin",
        "AllowedMethod",
        "AllowedHeader",
        "ExposeHeader",
        "MaxAgeSeconds",
    ])?;
    let texts = |name: &str| {
        el.all(name)
            .map(|e| e.text.trim().to_string())
            .collect::<Vec<_>>()
    };
    let rule = CorsRule {
        id: el.one("ID")?.map(|e| e.text.trim().to_string()),
        allowed_origins: texts("AllowedOrigin"),
        allowed_methods: texts("AllowedMethod"),
        allowed_headers: texts("AllowedHeader"),
        expose_headers: texts("ExposeHeader"),
        max_age_seconds: match el.one("MaxAgeSeconds")? {
            None => None,
            Some(e) => Some(e.text.trim().parse::<u64>().map_err(|_| {
                malformed(format!(
                    "MaxAgeSeconds {:?} is not a non-negative integer",
                    e.text
                ))
            })?),
        },
    };
    if rule.allowed_origins.is_empty() || rule.allowed_methods.is_empty() {
        return Err(malformed(
            "a CORSRule needs at least one AllowedOrigin and one AllowedMethod",
        ));
    }
    if let Some(m) = rule
        .allowed_methods
        .iter()
        .find(|m| !METHODS.contains(&m.as_str()))
    {
        return Err(invalid(format!(
            "Found unsupported HTTP method in CORS config. Unsupported method is {m}"
        )));
    }
    for o in &rule.allowed_origins {
        if o.matches('*').count() > 1 {
            return Err(invalid(format!(
                "AllowedOrigin \"{o}\" can not have more than one wildcard."
            )));
        }
    }
    // An ExposeHeader is sent back as a header name list: one that is not an HTTP token
    // could never be sent. No S3 answer is recorded for it; it is refused like the other
    // invalid rule values rather than stored and silently dropped from responses.
    let is_token = |h: &str| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
    };
    if let Some(h) = rule.expose_headers.iter().find(|h| !is_token(h)) {
        return Err(invalid(format!("ExposeHeader {h:?} is not a header name.")));
    }
    for h in &rule.allowed_headers {
        if h.matches('*').count() > 1 {
            return Err(invalid(format!(
                "AllowedHeader \"{h}\" can not have more than one wildcard."
            )));
        }
    }
    Ok(rule)
}

/// What kind of resource a preflight addressed, for the error's `ResourceType`.
pub fn resource_type(has_key: bool) -> &'static str {
    if has_key { "OBJECT" } else { "BUCKET" }
}

/// The preflight refusals, with the `Method` and `ResourceType` elements AWS adds.
pub fn not_enabled(method: &str, resource: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessForbidden,
        "CORSResponse: CORS is not enabled for this bucket.",
    )
    .extra("Method", method)
    .extra("ResourceType", resource)
    .reason("the bucket has no CORS configuration (PutBucketCors, or --cors-allow-origin at start)")
}

pub fn not_allowed(method: &str, resource: &str, origin: &str, headers: &[&str]) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::AccessForbidden,
        "CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.",
    )
    .extra("Method", method)
    .extra("ResourceType", resource)
    .reason(format!(
        "no CORS rule allows origin {origin:?} with method {method} and headers {headers:?}"
    ))
}

/// The headers of a successful preflight.
pub fn preflight_headers(
    rule: &CorsRule,
    origin: &str,
    requested: &[&str],
) -> Vec<(&'static str, String)> {
    let (allow_origin, credentials) = rule.allow_origin(origin);
    let mut h = vec![
        ("access-control-allow-origin", allow_origin.to_string()),
        (
            "access-control-allow-methods",
            rule.allowed_methods.join(", "),
        ),
    ];
    if !requested.is_empty() {
        h.push(("access-control-allow-headers", requested.join(", ")));
    }
    common_headers(rule, credentials, &mut h);
    h
}

/// The headers added to an actual request's response (success or error alike).
pub fn actual_headers(rule: &CorsRule, origin: &str) -> Vec<(&'static str, String)> {
    let (allow_origin, credentials) = rule.allow_origin(origin);
    let mut h = vec![
        ("access-control-allow-origin", allow_origin.to_string()),
        (
            "access-control-allow-methods",
            rule.allowed_methods.join(", "),
        ),
    ];
    common_headers(rule, credentials, &mut h);
    h
}

fn common_headers(rule: &CorsRule, credentials: bool, h: &mut Vec<(&'static str, String)>) {
    if !rule.expose_headers.is_empty() {
        h.push((
            "access-control-expose-headers",
            rule.expose_headers.join(", "),
        ));
    }
    if let Some(age) = rule.max_age_seconds {
        h.push(("access-control-max-age", age.to_string()));
    }
    if credentials {
        h.push(("access-control-allow-credentials", "true".into()));
    }
    h.push((
        "vary",
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".into(),
    ));
}

/// Adds headers to a response; a value that cannot be a header (never expected: they
/// come from a validated document) is skipped.
pub fn apply(
    resp: &mut http::Response<crate::body::ResponseBody>,
    headers: Vec<(&'static str, String)>,
) {
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
}

/// The headers listed in `Access-Control-Request-Headers`, trimmed, lowercased.
pub fn requested_headers(raw: Option<&str>) -> Vec<String> {
    raw.map(|r| {
        r.split(',')
            .map(|h| h.trim().to_ascii_lowercase())
            .filter(|h| !h.is_empty())
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(xml: &str) -> CorsConfiguration {
        CorsConfiguration::parse(xml.as_bytes()).unwrap()
    }

    const DOC: &str = r#"<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
      <CORSRule><ID>app</ID><AllowedOrigin>http://*.example.com</AllowedOrigin>
        <AllowedMethod>PUT</AllowedMethod><AllowedMethod>POST</AllowedMethod>
        <AllowedHeader>content-type</AllowedHeader><AllowedHeader>x-amz-*</AllowedHeader>
        <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>
      <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
    </CORSConfiguration>"#;

    #[test]
    fn wildcard_origins_and_headers() {
        let c = config(DOC);
        assert!(
            c.preflight_rule("http://app.example.com", "PUT", &["content-type"])
                .is_some()
        );
        assert!(
            c.preflight_rule(
                "http://app.example.com",
                "PUT",
                &["Content-Type", "X-Amz-Meta-A"]
            )
            .is_some(),
            "headers match case-insensitively"
        );
        assert!(
            c.preflight_rule("https://app.example.com", "PUT", &[])
                .is_none(),
            "scheme is part of the origin"
        );
        assert!(c.preflight_rule("http://example.com", "PUT", &[]).is_none());
        assert!(
            c.preflight_rule("http://app.example.com", "put", &[])
                .is_none(),
            "methods are case-sensitive"
        );
        assert!(
            c.preflight_rule("http://app.example.com", "PUT", &["authorization"])
                .is_none(),
            "every header must match"
        );
        assert_eq!(
            c.preflight_rule("http://anything.test", "GET", &[])
                .unwrap()
                .allowed_origins,
            ["*"]
        );
        assert!(
            c.preflight_rule("http://anything.test", "DELETE", &[])
                .is_none()
        );
    }

    #[test]
    fn expose_headers_must_be_header_names() {
        let doc = |h: &str| {
            format!(
                "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>{h}</ExposeHeader></CORSRule></CORSConfiguration>"
            )
        };
        for bad in ["E T", "caf\u{e9}", "a\u{7f}", "x:y"] {
            let err = CorsConfiguration::parse(doc(bad).as_bytes()).unwrap_err();
            assert_eq!(err.code, S3ErrorCode::InvalidRequest, "{bad:?}");
        }
        // Twin: names S3 users expose are accepted.
        for good in ["ETag", "x-amz-version-id", "x-amz-meta-*"] {
            assert!(
                CorsConfiguration::parse(doc(good).as_bytes()).is_ok(),
                "{good}"
            );
        }
    }

    #[test]
    fn first_matching_rule_wins_and_headers_follow_it() {
        let c = config(
            r#"<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>
               <CORSRule><AllowedOrigin>http://a.test</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>ETag</ExposeHeader></CORSRule></CORSConfiguration>"#,
        );
        let rule = c.actual_rule("http://a.test", "GET").unwrap();
        assert!(rule.expose_headers.is_empty(), "the first rule matched");
        let h = actual_headers(rule, "http://a.test");
        assert!(h.contains(&("access-control-allow-origin", "*".into())));
        assert!(
            !h.iter()
                .any(|(n, _)| *n == "access-control-allow-credentials")
        );

        let c = config(DOC);
        let rule = c
            .preflight_rule("http://app.example.com", "PUT", &["content-type"])
            .unwrap();
        let h = preflight_headers(rule, "http://app.example.com", &["content-type"]);
        assert!(h.contains(&(
            "access-control-allow-origin",
            "http://app.example.com".into()
        )));
        assert!(h.contains(&("access-control-allow-methods", "PUT, POST".into())));
        assert!(h.contains(&("access-control-allow-headers", "content-type".into())));
        assert!(h.contains(&("access-control-expose-headers", "ETag".into())));
        assert!(h.contains(&("access-control-max-age", "600".into())));
        assert!(h.contains(&("access-control-allow-credentials", "true".into())));
    }

    #[test]
    fn invalid_documents() {
        let bad = |xml: &str| CorsConfiguration::parse(xml.as_bytes()).unwrap_err();
        let e = bad(
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>OPTIONS</AllowedMethod></CORSRule></CORSConfiguration>",
        );
        assert_eq!(e.code, S3ErrorCode::InvalidRequest);
        assert_eq!(
            e.message,
            "Found unsupported HTTP method in CORS config. Unsupported method is OPTIONS"
        );
        let e = bad(
            "<CORSConfiguration><CORSRule><AllowedOrigin>http://*.*.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
        );
        assert_eq!(e.code, S3ErrorCode::InvalidRequest);
        for xml in [
            "<CORSConfiguration/>",
            "<CORSConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Bogus/></CORSRule></CORSConfiguration>",
            "<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>-1</MaxAgeSeconds></CORSRule></CORSConfiguration>",
            "<Other/>",
        ] {
            assert_eq!(bad(xml).code, S3ErrorCode::MalformedXML, "{xml}");
        }
        let many = format!("<CORSConfiguration>{}</CORSConfiguration>", "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>".repeat(101));
        assert_eq!(bad(&many).code, S3ErrorCode::MalformedXML);
    }

    #[test]
    fn round_trips_through_xml() {
        let c = config(DOC);
        assert_eq!(CorsConfiguration::parse(c.to_xml().as_bytes()).unwrap(), c);
    }

    #[test]
    fn requested_headers_lists_with_spaces() {
        assert_eq!(
            requested_headers(Some(" Content-Type ,x-amz-date,, ")),
            ["content-type", "x-amz-date"]
        );
        assert!(requested_headers(None).is_empty());
    }
}
