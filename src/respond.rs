//! The only place an [`S3Error`] becomes bytes on the wire: AWS's status, the XML body
//! (none for HEAD), `Content-Type: application/xml`, extra headers and strict-s3's
//! reason. Kept apart from [`crate::error`] so the error type depends on nothing: the
//! XML writer and the body types depend on it, never the other way round.

use crate::body::{self, ResponseBody};
use crate::error::S3Error;
use crate::xml::XmlWriter;

/// The XML body AWS sends for this error: Code, Message, the extra elements, RequestId,
/// HostId. No `<Resource>`: the AWS docs' sample shows one, but the real S3 bodies
/// quoted in public threads (docs/aws-evidence.md, "Wire shape") never carry it.
///
/// With `explain`, an `<Explanation>` element (strict-s3's own) carries the reason;
/// SDKs ignore elements they do not know, and `--aws-exact-errors` leaves it out.
pub fn error_xml(err: &S3Error, request_id: &str, explain: bool) -> String {
    let mut w = XmlWriter::new();
    w.open("Error");
    w.elem("Code", err.code.as_str());
    w.elem("Message", &err.message);
    for (name, value) in &err.extra {
        w.elem(name, value);
    }
    if let (true, Some(reason)) = (explain, &err.reason) {
        w.elem("Explanation", reason);
    }
    w.elem("RequestId", request_id);
    w.elem("HostId", request_id);
    w.close("Error");
    w.finish()
}

/// The header that carries the reason of a refusal (also on HEAD, which has no body).
pub const REASON_HEADER: &str = "x-strict-s3-reason";

/// A reason as a header value: visible ASCII only (others become `?`), at most 2 KB.
pub fn reason_header_value(reason: &str) -> http::HeaderValue {
    let mut text: String = reason
        .chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect();
    text.truncate(2048);
    http::HeaderValue::from_str(&text).unwrap_or_else(|_| http::HeaderValue::from_static("?"))
}

/// The only place an error becomes an HTTP response: AWS's status, the XML body (none
/// for HEAD, as S3 sends none), `Content-Type: application/xml` and any extra headers.
/// With `explain` (the default; off with `--aws-exact-errors`) the reason goes out too,
/// as `x-strict-s3-reason` and `<Explanation>`. The request id headers are added by the
/// service, for every response alike.
pub fn to_response(
    err: &S3Error,
    request_id: &str,
    head: bool,
    explain: bool,
) -> http::Response<ResponseBody> {
    let mut builder = http::Response::builder()
        .status(err.status())
        .header(http::header::CONTENT_TYPE, "application/xml");
    for (name, value) in &err.headers {
        builder = builder.header(*name, value.as_str());
    }
    if let (true, Some(reason)) = (explain, &err.reason) {
        builder = builder.header(REASON_HEADER, reason_header_value(reason));
    }
    let body = if head {
        body::empty()
    } else {
        let xml = error_xml(err, request_id, explain);
        builder = builder.header(http::header::CONTENT_LENGTH, xml.len());
        body::full(xml)
    };
    builder.body(body).unwrap_or_else(|_| {
        // Only an invalid extra header value can fail; answer without it.
        let mut r = http::Response::new(body::empty());
        *r.status_mut() = err.status();
        r
    })
}

/// The same answer as [`to_response`], as the bytes of a whole HTTP/1.1 response that
/// closes the connection: for the one case hyper answers before the service runs (a head
/// too large to read, see [`crate::wire`]).
pub fn to_raw_response(err: &S3Error, request_id: &str, explain: bool) -> Vec<u8> {
    let status = err.status();
    let xml = error_xml(err, request_id, explain);
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nx-amz-request-id: {request_id}\r\nx-amz-id-2: {request_id}\r\nserver: strict-s3\r\nconnection: close\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        xml.len()
    );
    if let (true, Some(reason)) = (explain, &err.reason)
        && let Ok(v) = reason_header_value(reason).to_str()
    {
        out.push_str(&format!("{REASON_HEADER}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(xml.as_bytes());
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::S3ErrorCode;

    #[test]
    fn explanation_is_added_only_when_asked() {
        let e = S3Error::no_such_key("k").reason("because");
        assert!(
            error_xml(&e, "R", true)
                .contains("<Key>k</Key><Explanation>because</Explanation><RequestId>")
        );
        assert!(!error_xml(&e, "R", false).contains("Explanation"));
        assert_eq!(reason_header_value("a\nb \u{e9}"), "a?b ?");
        assert_eq!(S3ErrorCode::NoSuchKey.as_str(), "NoSuchKey");
    }

    #[test]
    fn xml_has_code_message_extras_and_request_id_in_order() {
        let e = S3Error::no_such_key("a&b");
        let xml = error_xml(&e, "REQ1", false);
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code>\
             <Message>The specified key does not exist.</Message><Key>a&amp;b</Key>\
             <RequestId>REQ1</RequestId><HostId>REQ1</HostId></Error>"
        );
    }
}
