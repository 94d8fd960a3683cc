//! `[[roles]]`: IAM roles that STS's AssumeRole hands out sessions of, each with its
//! trust policy (who may assume it), its permission policy (what its sessions may do)
//! and its MaxSessionDuration, checked when the file is loaded as IAM checks them.

use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::ConfigFile;
use super::ConfigFileError;
use crate::config::Config;
use crate::identity::{ROLE_SESSION_SECS, Role};
use crate::policy::Policy;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRole {
    name: Spanned<String>,
    /// The role's account (12 digits); the default account when absent.
    account: Option<Spanned<String>>,
    /// `/` by default; `/ci/` gives `arn:aws:iam::…:role/ci/NAME`.
    path: Option<Spanned<String>>,
    trust_policy: Option<Spanned<toml::Value>>,
    trust_policy_file: Option<Spanned<String>>,
    policy: Option<Spanned<toml::Value>>,
    policy_file: Option<Spanned<String>>,
    max_session_duration: Option<Spanned<i64>>,
}

impl ConfigFile {
    /// Adds the file's roles. Trust policies may name any configured principal and any
    /// role of the file (a role that trusts another for role chaining).
    pub(super) fn roles(&self, config: &mut Config) -> Result<(), ConfigFileError> {
        let mut roles = Vec::new();
        for (i, r) in self.raw.roles.iter().enumerate() {
            let field = |f: &str| format!("roles[{i}].{f}");
            self.nonempty(&r.name, &field("name"))?;
            let name = r.name.get_ref();
            // IAM: 1–64 characters of `[\w+=,.@-]`.
            if name.len() > 64
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
            {
                return Err(self.error(
                    r.name.span(),
                    field("name"),
                    "a role name is 1 to 64 characters of letters, digits and _+=,.@-",
                ));
            }
            let account = match &r.account {
                None => config.default_account(),
                Some(id) => config.account_by_id(id.get_ref()).ok_or_else(|| {
                    self.error(
                        id.span(),
                        field("account"),
                        format!(
                            "no account {} is configured (add it under [[accounts]])",
                            id.get_ref()
                        ),
                    )
                })?,
            };
            let path = match &r.path {
                None => "/".to_string(),
                Some(p) => {
                    let v = p.get_ref();
                    if !(v.starts_with('/') && v.ends_with('/')) || v.len() > 512 {
                        return Err(self.error(
                            p.span(),
                            field("path"),
                            "a role path begins and ends with / (for example /ci/)",
                        ));
                    }
                    v.clone()
                }
            };
            let max_session_secs = match &r.max_session_duration {
                None => *ROLE_SESSION_SECS.start(),
                Some(d) => u32::try_from(*d.get_ref())
                    .ok()
                    .filter(|v| ROLE_SESSION_SECS.contains(v))
                    .ok_or_else(|| {
                        self.error(
                            d.span(),
                            field("max_session_duration"),
                            "MaxSessionDuration is 3600 to 43200 seconds (1 to 12 hours)",
                        )
                    })?,
            };
            let arn = format!("arn:aws:iam::{}:role{path}{name}", account.id);
            let taken = roles.iter().any(|(.., a): &(_, _, _, _, String)| *a == arn)
                || config.roles.iter().any(|r| r.arn() == arn);
            if taken {
                return Err(self.error(
                    r.name.span(),
                    field("name"),
                    format!("{arn} is configured twice"),
                ));
            }
            roles.push((i, account, path, max_session_secs, arn));
        }
        let file_arns: Vec<String> = roles.iter().map(|(.., arn)| arn.clone()).collect();
        for (r, (i, account, path, max_session_secs, _)) in self.raw.roles.iter().zip(roles) {
            let field = |f: &str| format!("roles[{i}].{f}");
            let known = |p: &str| {
                crate::access::known_principal(config, p) || file_arns.iter().any(|a| a == p)
            };
            let trust = match self.policy_text_named(
                &r.trust_policy,
                &r.trust_policy_file,
                &field,
                "trust_policy",
            )? {
                None => {
                    return Err(self.error(
                        r.name.span(),
                        field("trust_policy"),
                        "a role needs a trust policy (trust_policy or trust_policy_file): who may assume it",
                    ));
                }
                Some((text, span, at)) => Policy::parse_trust(&text, &known).map_err(|e| {
                    self.error(span, at, format!("the trust policy is refused: {e}"))
                })?,
            };
            let policy = match self.policy_text(&r.policy, &r.policy_file, &field)? {
                None => None,
                Some((text, span, at)) => Some(
                    Policy::parse_identity(&text)
                        .map_err(|e| self.error(span, at, format!("the policy is refused: {e}")))?,
                ),
            };
            config.roles.push(Arc::new(Role {
                account,
                name: r.name.get_ref().clone(),
                path,
                trust: Arc::new(trust),
                policy: policy.map(Arc::new),
                max_session_secs,
            }));
        }
        Ok(())
    }
}
