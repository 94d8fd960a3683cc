//! XML in and out, the S3 way.
//!
//! Writing: [`XmlWriter`] builds the small response documents S3 returns (always with the
//! `<?xml …?>` declaration, escaped text, elements in AWS's order).
//! Reading: [`parse_tree`] turns a request body into a small element tree with quick-xml,
//! rejecting what is not well formed with `MalformedXML`, as AWS does; operation parsers
//! then walk the tree and reject unknown or duplicate elements where AWS does.

use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::error::{S3Error, S3ErrorCode};

/// The S3 namespace every response document carries.
pub const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// Largest XML request body accepted (DeleteObjects with 1000 keys of 1024 bytes fits).
pub const MAX_XML_BODY: usize = 2 * 1024 * 1024;

/// A minimal, allocation-friendly XML writer for S3 responses.
pub struct XmlWriter {
    out: String,
}

impl Default for XmlWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl XmlWriter {
    pub fn new() -> Self {
        let mut out = String::with_capacity(256);
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        XmlWriter { out }
    }

    /// Opens an element; `open_ns` adds the S3 namespace (top-level response elements).
    pub fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    pub fn open_ns(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push_str(" xmlns=\"");
        self.out.push_str(S3_NS);
        self.out.push_str("\">");
    }

    /// Opens an element with attributes (ACL grantees carry `xsi:type`).
    pub fn open_with(&mut self, name: &str, attrs: &[(&str, &str)]) {
        self.out.push('<');
        self.out.push_str(name);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            self.out.push_str(&quick_xml::escape::escape(*v));
            self.out.push('"');
        }
        self.out.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
    }

    /// `<name>escaped text</name>`.
    pub fn elem(&mut self, name: &str, text: &str) {
        self.open(name);
        self.out.push_str(&quick_xml::escape::escape(text));
        self.close(name);
    }

    /// Escaped text inside the current element.
    pub fn elem_text(&mut self, text: &str) {
        self.out.push_str(&quick_xml::escape::escape(text));
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// A parsed XML element: its local name (namespace prefix dropped), text and children.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub text: String,
    pub children: Vec<Element>,
    /// The `xsi:type` attribute, the one attribute an S3 request document carries
    /// (an ACL's `<Grantee>`); other attributes are not kept.
    pub xsi_type: Option<String>,
}

impl Element {
    /// Children named `name`.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The single child named `name`; more than one is `MalformedXML`.
    pub fn one<'a>(&'a self, name: &'a str) -> Result<Option<&'a Element>, S3Error> {
        let mut it = self.all(name);
        let first = it.next();
        if it.next().is_some() {
            return Err(malformed(format!(
                "element <{name}> appears more than once"
            )));
        }
        Ok(first)
    }

    /// Fails with `MalformedXML` if a child is not one of `allowed`.
    pub fn only(&self, allowed: &[&str]) -> Result<(), S3Error> {
        match self
            .children
            .iter()
            .find(|c| !allowed.contains(&c.name.as_str()))
        {
            Some(c) => Err(malformed(format!(
                "unexpected element <{}> inside <{}>",
                c.name, self.name
            ))),
            None => Ok(()),
        }
    }
}

fn local_name(raw: &str) -> String {
    raw.to_string()
}

/// `MalformedXML` with our reason.
pub fn malformed(reason: impl Into<String>) -> S3Error {
    S3Error::new(S3ErrorCode::MalformedXML).reason(reason)
}

/// The most elements a document whose parser names no tighter bound may have.
pub const DEFAULT_MAX_ELEMENTS: usize = 65_536;

/// Parses a whole request document; see [`parse_tree_limited`].
pub fn parse_tree(body: &[u8]) -> Result<Element, S3Error> {
    parse_tree_limited(body, DEFAULT_MAX_ELEMENTS)
}

/// The value of an element's `xsi:type` attribute (any prefix bound to the schema
/// instance namespace is written `xsi` by every SDK; the local name is what is read).
fn xsi_type(e: &quick_xml::events::BytesStart<'_>) -> Result<Option<String>, S3Error> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| malformed(err.to_string()))?;
        if attr.key.local_name().into_inner() == "type" && attr.key.prefix().is_some() {
            let value = attr
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| malformed(err.to_string()))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

/// Deepest nesting accepted: S3's documents need a handful of levels, and the bound keeps
/// hostile input from exhausting the stack.
const MAX_DEPTH: usize = 32;

/// Parses a whole request document. Depth is bounded by `MAX_DEPTH` (hostile input cannot
/// exhaust the stack) and the element count by `max_elements`, which each document sets
/// from S3's own limit (1000 keys in a Delete, 10,000 parts, 100 CORS rules): a 2 MiB body
/// of half a million empty elements is refused as it is read, before it becomes a tree of
/// half a million nodes (61 MiB for one such request before this bound).
pub fn parse_tree_limited(body: &[u8], max_elements: usize) -> Result<Element, S3Error> {
    let text = std::str::from_utf8(body).map_err(|_| malformed("body is not UTF-8"))?;
    let mut reader = Reader::from_str(text);
    // No trimming: a <Key> may begin or end with spaces, and text around an entity
    // (`a &amp; b`) arrives in pieces that must be joined verbatim. Fields whose schema
    // allows surrounding space (`Quiet`, `PartNumber`) are trimmed where they are read.
    let mut tree = TreeBuilder {
        stack: Vec::new(),
        root: None,
        elements: 0,
        max_elements,
    };
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                tree.start(local_name(e.local_name().into_inner()), xsi_type(&e)?)?
            }
            Ok(Event::Empty(e)) => {
                tree.empty(local_name(e.local_name().into_inner()), xsi_type(&e)?)?
            }
            Ok(Event::Text(t)) => tree.text(&t.xml10_content())?,
            Ok(Event::GeneralRef(r)) => {
                let ch = resolve_reference(&r)?;
                tree.append(ch.encode_utf8(&mut [0; 4]), "text outside the root element")?;
            }
            Ok(Event::CData(c)) => tree.append(&c, "CDATA outside the root element")?,
            Ok(Event::End(_)) => tree.end()?,
            Ok(Event::Eof) => break,
            Ok(Event::DocType(_)) => return Err(malformed("DOCTYPE is not allowed")),
            Ok(_) => {}
            Err(e) => return Err(malformed(e.to_string())),
        }
    }
    tree.finish()
}

/// The tree as reader events build it: the open elements on a stack (each joins its
/// parent when it ends), the root once it has ended, and the running element count that
/// enforces the document's bound while reading rather than after.
struct TreeBuilder {
    stack: Vec<Element>,
    root: Option<Element>,
    elements: usize,
    max_elements: usize,
}

impl TreeBuilder {
    fn count(&mut self) -> Result<(), S3Error> {
        self.elements += 1;
        if self.elements > self.max_elements {
            Err(malformed(format!(
                "the document has more than {} elements, more than S3's limits allow it",
                self.max_elements
            )))
        } else {
            Ok(())
        }
    }

    /// `<name>`: the count is checked first, so an oversized document fails the same way
    /// wherever it is too big.
    fn start(&mut self, name: String, xsi_type: Option<String>) -> Result<(), S3Error> {
        self.count()?;
        if self.root.is_some() {
            return Err(malformed("content after the root element"));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(malformed("nesting too deep"));
        }
        self.stack.push(Element {
            name,
            xsi_type,
            ..Element::default()
        });
        Ok(())
    }

    /// `<name/>`: a complete child of the open element, or the whole document.
    fn empty(&mut self, name: String, xsi_type: Option<String>) -> Result<(), S3Error> {
        self.count()?;
        let el = Element {
            name,
            xsi_type,
            ..Element::default()
        };
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(el),
            None if self.root.is_none() => self.root = Some(el),
            None => return Err(malformed("content after the root element")),
        }
        Ok(())
    }

    /// Character data; whitespace around the root element is allowed, other text is not.
    fn text(&mut self, s: &str) -> Result<(), S3Error> {
        if self.stack.is_empty() && s.trim().is_empty() {
            return Ok(());
        }
        self.append(s, "text outside the root element")
    }

    /// Text (a resolved reference, CDATA) joined verbatim to the open element's text;
    /// outside every element it is refused with `outside`.
    fn append(&mut self, s: &str, outside: &'static str) -> Result<(), S3Error> {
        // XML 1.0's Char production: no control characters but tab, newline and carriage
        // return, no U+FFFE or U+FFFF (literal or as a character reference). S3's parser
        // refuses them; accepting one would store a value no response header can carry.
        if let Some(c) = s.chars().find(|&c| {
            (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
        }) {
            return Err(malformed(format!(
                "the document contains the character U+{:04X}, which XML 1.0 does not allow",
                u32::from(c)
            )));
        }
        match self.stack.last_mut() {
            Some(top) => {
                top.text.push_str(s);
                Ok(())
            }
            None => Err(malformed(outside)),
        }
    }

    /// `</name>`: the element joins its parent, or becomes the root. quick-xml has
    /// already checked that the end tag's name matches.
    fn end(&mut self) -> Result<(), S3Error> {
        let el = self
            .stack
            .pop()
            .ok_or_else(|| malformed("unbalanced end tag"))?;
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(el),
            None => self.root = Some(el),
        }
        Ok(())
    }

    fn finish(self) -> Result<Element, S3Error> {
        if !self.stack.is_empty() {
            return Err(malformed("document ended inside an element"));
        }
        self.root.ok_or_else(|| malformed("empty document"))
    }
}

/// The character an entity or character reference (`&amp;`, `&#233;`, `&#xE9;`) stands
/// for. quick-xml reports references as events of their own; only XML's five predefined
/// entities exist here, since no DTD may define others.
fn resolve_reference(name: &str) -> Result<char, S3Error> {
    let code = match name {
        "amp" => return Ok('&'),
        "lt" => return Ok('<'),
        "gt" => return Ok('>'),
        "quot" => return Ok('"'),
        "apos" => return Ok('\''),
        n if n.starts_with("#x") => u32::from_str_radix(&n[2..], 16).ok(),
        n if n.starts_with('#') => n[1..].parse::<u32>().ok(),
        n => return Err(malformed(format!("unknown entity &{n};"))),
    };
    code.and_then(char::from_u32)
        .ok_or_else(|| malformed(format!("bad character reference &{name};")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writer_escapes_text() {
        let mut w = XmlWriter::new();
        w.open_ns("R");
        w.elem("K", "a<b>&\"c'");
        w.close("R");
        assert!(
            w.finish()
                .ends_with("<R xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><K>a&lt;b&gt;&amp;&quot;c&apos;</K></R>")
        );
    }

    #[test]
    fn parses_nested_elements_with_namespace_and_entities() {
        let t = parse_tree(
            b"<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Quiet>true</Quiet>\
              <Object><Key>a&amp;b</Key></Object><Object><Key>c</Key></Object></Delete>",
        )
        .unwrap();
        assert_eq!(t.name, "Delete");
        assert_eq!(t.one("Quiet").unwrap().unwrap().text, "true");
        let keys: Vec<_> = t
            .all("Object")
            .map(|o| o.one("Key").unwrap().unwrap().text.clone())
            .collect();
        assert_eq!(keys, ["a&b", "c"]);
    }

    #[test]
    fn characters_xml_does_not_allow_are_refused() {
        for doc in [
            &b"<Delete><Object><Key>a\x0bb</Key></Object></Delete>"[..],
            b"<Delete><Object><Key>a&#11;b</Key></Object></Delete>",
            b"<Delete><Object><Key>a&#xFFFF;</Key></Object></Delete>",
        ] {
            let err = parse_tree(doc).unwrap_err();
            assert_eq!(err.code, S3ErrorCode::MalformedXML, "{doc:?}");
            assert!(err.reason.unwrap().contains("XML 1.0 does not allow"));
        }
        // Twin: tab, newline and carriage return are characters XML allows.
        assert!(parse_tree(b"<Delete><Object><Key>a\tb\r\nc</Key></Object></Delete>").is_ok());
    }

    #[test]
    fn text_is_kept_verbatim_around_entities_and_spaces() {
        let t =
            parse_tree(b"<Delete>\n  <Object><Key> x &amp; y </Key></Object>\n</Delete>").unwrap();
        let key = &t
            .one("Object")
            .unwrap()
            .unwrap()
            .one("Key")
            .unwrap()
            .unwrap()
            .text;
        assert_eq!(key, " x & y ");
    }

    #[test]
    fn rejects_malformed_documents() {
        for bad in [
            &b""[..],
            b"<a>",
            b"<a></b>",
            b"<a/><b/>",
            b"text",
            b"<a>&bogus;</a>",
            b"\xff\xfe",
            b"<!DOCTYPE x [<!ENTITY y \"z\">]><a/>",
        ] {
            let e = parse_tree(bad).unwrap_err();
            assert_eq!(e.code, S3ErrorCode::MalformedXML, "{:?}", bad);
        }
    }

    #[test]
    fn rejects_duplicates_and_unknown_children() {
        let t = parse_tree(b"<a><b>1</b><b>2</b><c/></a>").unwrap();
        assert_eq!(t.one("b").unwrap_err().code, S3ErrorCode::MalformedXML);
        assert_eq!(t.only(&["b"]).unwrap_err().code, S3ErrorCode::MalformedXML);
        assert!(t.only(&["b", "c"]).is_ok());
    }

    #[test]
    fn deep_nesting_is_rejected_not_overflowed() {
        let doc = "<a>".repeat(1000) + &"</a>".repeat(1000);
        assert_eq!(
            parse_tree(doc.as_bytes()).unwrap_err().code,
            S3ErrorCode::MalformedXML
        );
    }
}
