//! `strict-s3 presign`: SigV4 presigned URLs and POST policies, path-style against
//! `--endpoint`, signed with the configured key and this crate's own signing code — the
//! same [`CanonicalRequest`] and [`StringToSign`] the server verifies with.

use std::process::ExitCode;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http::{HeaderMap, HeaderValue, Method};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use super::{Endpoint, S3Url, amz_date, iso, parse_duration, parse_size};
use crate::auth::params::{ALGORITHM_V4, TERMINATOR};
use crate::auth::sigv4::{
    self, CanonicalRequest, StringToSign, derive_signing_key, uri_encode, uri_encode_path,
};
use crate::clock::{Clock, SystemClock};
use crate::config::{Config, Credential};
use crate::request::S3Request;

#[derive(clap::Args, Debug)]
pub struct PresignArgs {
    #[command(subcommand)]
    pub what: PresignCommand,

    /// The S3 endpoint the URL or form points at (path-style: ENDPOINT/BUCKET/KEY).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        default_value = "http://127.0.0.1:9000"
    )]
    pub endpoint: String,
}

#[derive(clap::Subcommand, Debug)]
pub enum PresignCommand {
    /// A URL that downloads the object (GetObject).
    Get(ObjectArgs),
    /// A URL that uploads the object (PutObject): `curl -T FILE "$URL"`.
    Put(ObjectArgs),
    /// A URL that deletes the object (DeleteObject).
    Delete(ObjectArgs),
    /// A URL for the object's metadata (HeadObject).
    Head(ObjectArgs),
    /// A URL that uploads one part of a multipart upload (UploadPart, a PUT).
    UploadPart(UploadPartArgs),
    /// A signed browser POST form: key under a prefix, a size limit, a Content-Type prefix.
    ///
    /// The policy allows keys starting with the prefix (the form's key is
    /// PREFIX${filename}: the uploaded file's name), sizes 0..=--max-size, a Content-Type
    /// starting with --content-type (any when not given), and answers 201 with XML.
    Post(PostArgs),
}

#[derive(clap::Args, Debug)]
pub struct ObjectArgs {
    /// The object: s3://BUCKET/KEY (the key as stored, not URL-encoded).
    #[arg(value_name = "S3_URL")]
    pub target: String,

    /// How long the URL stays valid: seconds (900) or 90s, 15m, 2h, 7d; at most 7d.
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = parse_duration)]
    pub expires: u64,

    /// Sign this Content-Type: the request must then carry exactly this header.
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct UploadPartArgs {
    #[command(flatten)]
    pub object: ObjectArgs,

    /// The multipart upload's id (from CreateMultipartUpload).
    #[arg(long, value_name = "ID")]
    pub upload_id: String,

    /// The part number, 1 to 10000.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=10000))]
    pub part: u16,
}

/// How `presign post` prints the form.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostFormat {
    /// `{"url": …, "fields": {…}}`: post the fields, then the file as `file`, to url.
    Json,
    /// A complete HTML page with the upload form: save it and open it in a browser.
    Html,
    /// A curl command: replace FILE in `-F 'file=@FILE'` with the file's path.
    Curl,
}

#[derive(clap::Args, Debug)]
pub struct PostArgs {
    /// Where uploads go: s3://BUCKET/PREFIX (e.g. s3://uploads/avatars/).
    #[arg(value_name = "S3_URL")]
    pub target: String,

    /// The largest upload allowed: bytes, or KB, MB, GB (powers of 1024); at most 5GB.
    #[arg(long, value_name = "SIZE", default_value = "10MB", value_parser = parse_size)]
    pub max_size: u64,

    /// The Content-Type field must start with this (image/ allows any image type).
    #[arg(long, value_name = "PREFIX")]
    pub content_type: Option<String>,

    /// How long the policy stays valid: seconds or 90s, 15m, 2h, 7d; at most 7d.
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub expires: u64,

    /// Output: json ({url, fields}), html (a page with the form) or curl (a command).
    #[arg(long, value_enum, default_value = "json")]
    pub format: PostFormat,
}

pub fn run(args: PresignArgs, config: &Config) -> Result<ExitCode, String> {
    let endpoint = Endpoint::parse(&args.endpoint)?;
    let signer = Signer::from_config(config, SystemClock.now())?;
    let (method, object, extra) = match args.what {
        PresignCommand::Get(o) => (Method::GET, o, vec![]),
        PresignCommand::Put(o) => (Method::PUT, o, vec![]),
        PresignCommand::Delete(o) => (Method::DELETE, o, vec![]),
        PresignCommand::Head(o) => (Method::HEAD, o, vec![]),
        PresignCommand::UploadPart(u) => (
            Method::PUT,
            u.object,
            vec![
                ("partNumber".to_string(), u.part.to_string()),
                ("uploadId".to_string(), u.upload_id),
            ],
        ),
        PresignCommand::Post(p) => {
            let form = signer.post_form(&endpoint, &p)?;
            println!("{}", form.render(p.format));
            return Ok(ExitCode::SUCCESS);
        }
    };
    let target = S3Url::parse(&object.target)?;
    if target.key.is_empty() {
        return Err(format!(
            "{:?} names no object: write s3://BUCKET/KEY",
            object.target
        ));
    }
    let url = signer.presign_url(
        &endpoint,
        method,
        &target,
        &extra,
        object.content_type.as_deref(),
        object.expires,
    )?;
    println!("{url}");
    Ok(ExitCode::SUCCESS)
}

/// Who signs, where and when: the first configured credential, the region, the time.
pub struct Signer<'a> {
    pub credential: &'a Credential,
    pub region: &'a str,
    pub now: OffsetDateTime,
}

impl<'a> Signer<'a> {
    pub fn from_config(config: &'a Config, now: OffsetDateTime) -> Result<Signer<'a>, String> {
        let credential = config
            .credentials
            .first()
            .ok_or("no credential is configured")?;
        Ok(Signer {
            credential,
            region: &config.region,
            now: now.replace_nanosecond(0).unwrap_or(now),
        })
    }

    /// `AKID/yyyyMMdd/region/s3/aws4_request`.
    fn credential_scope(&self, date: &str) -> String {
        format!(
            "{}/{}/{}/s3/{TERMINATOR}",
            self.credential.access_key,
            &date[..8],
            self.region
        )
    }

    fn signing_key(&self, date: &str) -> [u8; 32] {
        derive_signing_key(
            self.credential.secret_key.expose(),
            &date[..8],
            self.region,
            "s3",
        )
    }

    /// A presigned URL: the `X-Amz-*` parameters, then `extra` (e.g. `partNumber`), signed
    /// over the request the server will rebuild from it (`host`, and `content-type` when
    /// given, are the signed headers; the payload is `UNSIGNED-PAYLOAD`).
    pub fn presign_url(
        &self,
        endpoint: &Endpoint,
        method: Method,
        target: &S3Url,
        extra: &[(String, String)],
        content_type: Option<&str>,
        expires: u64,
    ) -> Result<String, String> {
        let date = amz_date(self.now);
        let credential = self.credential_scope(&date);
        let signed_headers = if content_type.is_some() {
            "content-type;host"
        } else {
            "host"
        };
        let mut params: Vec<(String, String)> = vec![
            ("X-Amz-Algorithm".into(), ALGORITHM_V4.into()),
            ("X-Amz-Credential".into(), credential.clone()),
            ("X-Amz-Date".into(), date.clone()),
            ("X-Amz-Expires".into(), expires.to_string()),
        ];
        if let Some(token) = &self.credential.session_token {
            params.push(("X-Amz-Security-Token".into(), token.expose().to_string()));
        }
        params.push(("X-Amz-SignedHeaders".into(), signed_headers.into()));
        params.extend(extra.iter().cloned());
        let raw_query = params
            .iter()
            .map(|(k, v)| format!("{}={}", uri_encode(k), uri_encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let raw_path = format!(
            "/{}/{}",
            uri_encode(&target.bucket),
            uri_encode_path(&target.key)
        );
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::HOST,
            HeaderValue::from_str(&endpoint.authority)
                .map_err(|_| format!("{:?} is not a valid host", endpoint.authority))?,
        );
        if let Some(ct) = content_type {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_str(ct)
                    .map_err(|_| format!("--content-type {ct:?} is not a valid header value"))?,
            );
        }
        let req = S3Request::new(method, &raw_path, Some(&raw_query), headers, String::new())
            .map_err(|e| format!("cannot build the request: {}", e.message))?;
        let canonical = CanonicalRequest::from_request(
            &req,
            signed_headers,
            "UNSIGNED-PAYLOAD",
            Some("X-Amz-Signature"),
        );
        let sts = StringToSign::Request {
            amz_date: &date,
            scope: &credential[self.credential.access_key.len() + 1..],
            canonical_request_hash: canonical.sha256(),
        };
        let signature = sigv4::sign(&self.signing_key(&date), &sts);
        Ok(format!(
            "{}{raw_path}?{raw_query}&X-Amz-Signature={signature}",
            endpoint.base()
        ))
    }

    /// A SigV4 POST policy and its form fields.
    pub fn post_form(&self, endpoint: &Endpoint, args: &PostArgs) -> Result<PostForm, String> {
        let target = S3Url::parse(&args.target)?;
        let date = amz_date(self.now);
        let credential = self.credential_scope(&date);
        let expiration = self.now + time::Duration::seconds(args.expires as i64);
        let content_type = args.content_type.clone().unwrap_or_default();
        let mut conditions = vec![
            json!({ "bucket": target.bucket }),
            json!(["starts-with", "$key", target.key]),
            json!(["starts-with", "$Content-Type", content_type]),
            json!(["content-length-range", 0, args.max_size]),
            json!({ "success_action_status": "201" }),
            json!({ "x-amz-algorithm": ALGORITHM_V4 }),
            json!({ "x-amz-credential": credential }),
            json!({ "x-amz-date": date }),
        ];
        let token = self
            .credential
            .session_token
            .as_ref()
            .map(|t| t.expose().to_string());
        if let Some(t) = &token {
            conditions.push(json!({ "x-amz-security-token": t }));
        }
        let policy_json = json!({
            "expiration": format!("{}.000Z", iso(expiration).trim_end_matches('Z')),
            "conditions": conditions,
        });
        let policy = BASE64.encode(policy_json.to_string());
        let signature = sigv4::sign(&self.signing_key(&date), &StringToSign::Policy(&policy));
        let mut fields: Vec<(String, String)> =
            vec![("key".into(), format!("{}${{filename}}", target.key))];
        // The form always sends a Content-Type: S3 fails a condition on a field the form
        // leaves out, even `["starts-with", "$Content-Type", ""]` (s3_direct_upload#29).
        let sent_type = args
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_string());
        fields.push(("Content-Type".into(), sent_type));
        fields.extend([
            ("success_action_status".into(), "201".into()),
            ("x-amz-algorithm".into(), ALGORITHM_V4.into()),
            ("x-amz-credential".into(), credential),
            ("x-amz-date".into(), date),
        ]);
        if let Some(t) = token {
            fields.push(("x-amz-security-token".into(), t));
        }
        fields.extend([
            ("policy".into(), policy),
            ("x-amz-signature".into(), signature.to_string()),
        ]);
        Ok(PostForm {
            url: format!("{}/{}", endpoint.base(), target.bucket),
            fields,
            target,
            expiration,
            max_size: args.max_size,
            content_type: args.content_type.clone(),
        })
    }
}

/// A signed POST form: where to post it and its fields (in order; the file goes last).
#[derive(Debug, Clone)]
pub struct PostForm {
    pub url: String,
    pub fields: Vec<(String, String)>,
    pub target: S3Url,
    pub expiration: OffsetDateTime,
    pub max_size: u64,
    pub content_type: Option<String>,
}

/// Fields as a JSON object, keeping their order.
struct OrderedFields<'a>(&'a [(String, String)]);

impl Serialize for OrderedFields<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl PostForm {
    pub fn render(&self, format: PostFormat) -> String {
        match format {
            PostFormat::Json => self.json(),
            PostFormat::Html => self.html(),
            PostFormat::Curl => self.curl(),
        }
    }

    fn summary(&self) -> String {
        let ct = match &self.content_type {
            Some(ct) => format!("a Content-Type starting with {ct:?}"),
            None => "any Content-Type".to_string(),
        };
        format!(
            "keys under s3://{}/{}, at most {} bytes, {ct}; expires {}",
            self.target.bucket,
            self.target.key,
            self.max_size,
            iso(self.expiration)
        )
    }

    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            url: &'a str,
            fields: OrderedFields<'a>,
        }
        serde_json::to_string_pretty(&Out {
            url: &self.url,
            fields: OrderedFields(&self.fields),
        })
        .unwrap_or_default()
    }

    pub fn curl(&self) -> String {
        let mut out = format!(
            "# A signed POST upload: {}.\n\
             # Replace FILE with the path of the file to upload (keep the @): its name completes the key.\n",
            self.summary()
        );
        match self.content_type.as_deref() {
            Some(c) if c.ends_with('/') => out.push_str(
                "# Content-Type is sent as the allowed prefix; put the file's real type there.\n",
            ),
            None => out.push_str(
                "# Content-Type may be any type (the form must send one): put the file's real type there.\n",
            ),
            _ => {}
        }
        out.push_str("curl -sS --fail-with-body -w '\\n' \\\n");
        for (name, value) in &self.fields {
            out.push_str(&format!(
                "  --form-string {} \\\n",
                shell_quote(&format!("{name}={value}"))
            ));
        }
        out.push_str(&format!(
            "  -F 'file=@FILE' \\\n  {}",
            shell_quote(&self.url)
        ));
        out
    }

    pub fn html(&self) -> String {
        let e = html_escape;
        let default_type = self
            .content_type
            .clone()
            .unwrap_or_else(|| "application/octet-stream".to_string());
        let accept = match self.content_type.as_deref() {
            Some(ct) if ct.ends_with('/') => format!(" accept=\"{}*\"", e(ct)),
            Some(ct) if !ct.is_empty() => format!(" accept=\"{}\"", e(ct)),
            _ => String::new(),
        };
        let mut inputs = String::new();
        for (name, value) in &self.fields {
            if name == "Content-Type" {
                continue;
            }
            inputs.push_str(&format!(
                "    <input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
                e(name),
                e(value)
            ));
            if name == "key" {
                inputs.push_str(&format!(
                    "    <input type=\"hidden\" name=\"Content-Type\" value=\"{}\">\n",
                    e(&default_type)
                ));
            }
        }
        let title = format!("Upload to s3://{}/{}", self.target.bucket, self.target.key);
        format!(
            r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title}</title>
  <style>
    body {{ font-family: system-ui, sans-serif; max-width: 42rem; margin: 3rem auto; padding: 0 1rem; line-height: 1.5; }}
    code {{ background: #f2f2f2; padding: 0 .25em; }}
    form {{ display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; margin-top: 1.5rem; }}
    button {{ padding: .4rem 1.2rem; }}
  </style>
</head>
<body>
  <h1>{title}</h1>
  <p>A form signed by <code>strict-s3 presign post</code>: {summary}.
     The server answers <code>201 Created</code> with the new object's location.</p>
  <form id="upload" action="{action}" method="post" enctype="multipart/form-data">
{inputs}    <input type="file" name="file" id="file" required{accept}>
    <button type="submit">Upload</button>
  </form>
  <script>
    // S3 stores the Content-Type field, not the file part's type: copy the file's type in.
    (function () {{
      var form = document.getElementById("upload");
      var file = document.getElementById("file");
      var type = form.querySelector('input[name="Content-Type"]');
      function copyType() {{
        var f = file.files && file.files[0];
        if (f && f.type) {{ type.value = f.type; }}
      }}
      file.addEventListener("change", copyType);
      form.addEventListener("submit", copyType);
    }})();
  </script>
</body>
</html>"#,
            title = e(&title),
            summary = e(&self.summary()),
            action = e(&self.url),
        )
    }
}

/// Single-quotes a word for sh.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r#"'\''"#))
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
