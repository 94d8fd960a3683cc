//! The temporary credentials STS has issued: access key → credential, kept for the
//! server's life (sessions do not survive a restart, as nothing of them is stored).
//!
//! An ended session stays known, so a request signed with it is AWS's ExpiredToken
//! and not an unknown key; past [`MAX_SESSIONS`] the ended ones are forgotten first.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use time::OffsetDateTime;

use crate::config::{Credential, Lifetime, Secret};
use crate::identity::Identity;

/// How many sessions are remembered; issuing more forgets the ended ones first, then
/// the oldest (a test suite that issues this many has other problems).
pub const MAX_SESSIONS: usize = 100_000;

#[derive(Default)]
pub struct Sessions {
    by_key: RwLock<HashMap<Arc<str>, Arc<Credential>>>,
}

impl Sessions {
    /// The session whose access key this is, ended or not.
    pub fn get(&self, access_key: &str) -> Option<Arc<Credential>> {
        self.by_key
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(access_key)
            .cloned()
    }

    /// Issues new temporary credentials for `identity`, valid from `now` for `secs`.
    pub fn issue(
        &self,
        identity: Arc<Identity>,
        now: OffsetDateTime,
        secs: u32,
        from_session_token: bool,
    ) -> Arc<Credential> {
        let cred = Arc::new(Credential {
            access_key: Arc::from(access_key()),
            secret_key: Secret::new(secret_key()),
            session_token: Some(Secret::new(session_token())),
            identity,
            lifetime: Some(Lifetime {
                issued_at: now,
                expires_at: now + time::Duration::seconds(i64::from(secs)),
                from_session_token,
            }),
        });
        let mut map = self.by_key.write().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, c| c.lifetime.is_some_and(|l| l.expires_at > now));
            if map.len() >= MAX_SESSIONS
                && let Some(oldest) = map
                    .iter()
                    .min_by_key(|(_, c)| c.lifetime.map(|l| l.issued_at))
                    .map(|(k, _)| k.clone())
            {
                map.remove(&oldest);
            }
        }
        map.insert(cred.access_key.clone(), cred.clone());
        cred
    }

    pub fn len(&self) -> usize {
        self.by_key.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    // The OS generator failing is not something a request can recover from.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    bytes
}

/// `ASIA` and 16 base-32 characters, as AWS's temporary key ids look.
fn access_key() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let tail: String = random::<16>()
        .iter()
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    format!("ASIA{tail}")
}

/// 40 characters of base64, as AWS's secret keys look.
fn secret_key() -> String {
    base64::engine::general_purpose::STANDARD.encode(random::<30>())
}

/// An opaque token: 192 random bytes in base64 (AWS's are a few hundred characters too).
fn session_token() -> String {
    base64::engine::general_purpose::STANDARD.encode(random::<192>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Account;
    use time::macros::datetime;

    #[test]
    fn issued_credentials_look_like_aws_and_are_found_by_key() {
        let sessions = Sessions::default();
        let now = datetime!(2026-01-15 12:00:00 UTC);
        let who = Arc::new(Identity::Root(Account::default_account()));
        let a = sessions.issue(who.clone(), now, 900, true);
        let b = sessions.issue(who, now, 3600, true);
        assert_ne!(a.access_key, b.access_key);
        assert!(a.access_key.starts_with("ASIA") && a.access_key.len() == 20);
        assert_eq!(a.secret_key.expose().len(), 40);
        assert!(a.session_token.as_ref().unwrap().expose().len() > 200);
        let found = sessions.get(&a.access_key).unwrap();
        assert_eq!(
            found.lifetime.unwrap().expires_at,
            datetime!(2026-01-15 12:15:00 UTC)
        );
        assert!(sessions.get("ASIANOSUCHKEY").is_none());
        assert_eq!(sessions.len(), 2);
    }
}
