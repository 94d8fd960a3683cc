//! STS's XML, laid out as real STS sends it: no XML declaration, two-space indents,
//! a final newline, `Content-Type: text/xml` (boto/boto3#4268, the 2024 AssumeRole
//! capture; docs/sts-regions-evidence.md §1c).

use quick_xml::escape::escape;

use super::error::StsError;

pub const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// An indented XML document under construction.
pub struct Doc {
    out: String,
    depth: usize,
}

impl Doc {
    /// `<{root} xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`.
    pub fn new(root: &str) -> Doc {
        let mut out = String::with_capacity(1024);
        out.push_str(&format!("<{root} xmlns=\"{NAMESPACE}\">\n"));
        Doc { out, depth: 1 }
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    pub fn open(&mut self, name: &str) -> &mut Self {
        self.indent();
        self.out.push_str(&format!("<{name}>\n"));
        self.depth += 1;
        self
    }

    pub fn close(&mut self, name: &str) -> &mut Self {
        self.depth -= 1;
        self.indent();
        self.out.push_str(&format!("</{name}>\n"));
        self
    }

    pub fn elem(&mut self, name: &str, text: &str) -> &mut Self {
        self.indent();
        self.out
            .push_str(&format!("<{name}>{}</{name}>\n", escape(text)));
        self
    }

    pub fn finish(mut self, root: &str) -> String {
        self.out.push_str(&format!("</{root}>\n"));
        self.out
    }
}

/// `<{Action}Response><{Action}Result>…</{Action}Result><ResponseMetadata>…`.
pub fn result_document(action: &str, request_id: &str, body: impl FnOnce(&mut Doc)) -> String {
    let root = format!("{action}Response");
    let mut doc = Doc::new(&root);
    let result = format!("{action}Result");
    doc.open(&result);
    body(&mut doc);
    doc.close(&result);
    doc.open("ResponseMetadata")
        .elem("RequestId", request_id)
        .close("ResponseMetadata");
    doc.finish(&root)
}

/// STS's error envelope, RequestId outside `<Error>` (Netflix/security_monkey#77). With
/// `explain`, strict-s3's reason as `<Explanation>` (SDKs ignore unknown elements).
pub fn error_document(err: &StsError, request_id: &str, explain: bool) -> String {
    let mut doc = Doc::new("ErrorResponse");
    doc.open("Error")
        .elem("Type", "Sender")
        .elem("Code", err.code)
        .elem("Message", &err.message);
    if let (true, Some(reason)) = (explain, &err.reason) {
        doc.elem("Explanation", reason);
    }
    doc.close("Error");
    doc.elem("RequestId", request_id);
    doc.finish("ErrorResponse")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_are_laid_out_as_sts_sends_them() {
        let xml = result_document("GetCallerIdentity", "0f1e-uuid", |d| {
            d.elem("Arn", "arn:aws:iam::123456789012:user/a&b");
        });
        assert_eq!(
            xml,
            "<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <GetCallerIdentityResult>\n    <Arn>arn:aws:iam::123456789012:user/a&amp;b</Arn>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>0f1e-uuid</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n"
        );
        let err = StsError::validation("bad").reason("why");
        let xml = error_document(&err, "id", false);
        assert_eq!(
            xml,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>ValidationError</Code>\n    <Message>bad</Message>\n  </Error>\n  <RequestId>id</RequestId>\n</ErrorResponse>\n"
        );
        assert!(error_document(&err, "id", true).contains("<Explanation>why</Explanation>"));
    }
}
