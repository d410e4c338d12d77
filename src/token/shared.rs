//! Tokens shared by every client of the process that has the same credentials, token endpoint
//! and API. A PHP application that creates and frees a client per web request then fetches a
//! token once per token lifetime, not once per request.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;
use zeroize::Zeroizing;

use crate::digest::sha256_hex;
use crate::token::{Credentials, TokenCache};

/// A SHA-256 of what a token is valid for: the same in every process, so that it can also name
/// the token in a `token_cache_file`. The secret is hashed, never stored.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenKey(String);

impl TokenKey {
    pub fn new(token_endpoint: &str, api_base: &str, credentials: &Credentials) -> TokenKey {
        // The joined text holds the secret: wiped once hashed, like every copy of it.
        let material =
            Zeroizing::new([token_endpoint, api_base, &credentials.client_id, &credentials.client_secret].join("\n"));
        TokenKey(sha256_hex(material.as_bytes()))
    }

    /// The key of a local client, which has no token.
    pub fn local() -> TokenKey {
        TokenKey(String::new())
    }

    /// The text stored in the token file (which exists on Unix only).
    #[cfg_attr(not(unix), allow(dead_code))]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Caches outlive their clients (that is the point), so the map keeps them; caches that no client
/// uses and whose token is no longer fresh are dropped whenever a cache is looked up.
static CACHES: LazyLock<Mutex<HashMap<TokenKey, Arc<TokenCache>>>> = LazyLock::new(Default::default);

/// The process-wide token cache for `key`.
pub fn cache_for(key: &TokenKey) -> Arc<TokenCache> {
    let mut caches = CACHES.lock();
    caches.retain(|k, cache| k == key || Arc::strong_count(cache) > 1 || cache.has_fresh_token());
    caches.entry(key.clone()).or_default().clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Weak;
    use std::time::{Duration, Instant};

    fn key(name: &str) -> TokenKey {
        let credentials = Credentials { client_id: name.into(), client_secret: Zeroizing::new("secret".into()) };
        TokenKey::new("https://tokens.test/connect/token", "https://api.test", &credentials)
    }

    /// The cache of `key`, holding a token of `lifetime`, no longer used by anyone.
    fn unused_cache_with_token(key: &TokenKey, lifetime: Duration) -> Weak<TokenCache> {
        let cache = cache_for(key);
        let deadline = Instant::now() + Duration::from_secs(10);
        cache.get(deadline, |_| Ok(("token".into(), lifetime))).unwrap();
        Arc::downgrade(&cache)
    }

    #[test]
    fn unused_caches_are_kept_while_their_token_is_fresh_and_dropped_after() {
        let (stale_key, fresh_key, used_key) = (key("shared-stale"), key("shared-fresh"), key("shared-used"));
        let stale = unused_cache_with_token(&stale_key, Duration::ZERO);
        let fresh = unused_cache_with_token(&fresh_key, Duration::from_secs(3600));
        let in_use = cache_for(&used_key);
        // Any lookup sweeps the map (other tests' lookups too: the outcome is the same).
        let other = cache_for(&key("shared-other"));
        assert!(stale.upgrade().is_none(), "an expired token nobody uses is dropped with its cache");
        let kept = fresh.upgrade().expect("a fresh token outlives its clients");
        assert!(Arc::ptr_eq(&kept, &cache_for(&fresh_key)), "and is found again by its key");
        assert!(Arc::ptr_eq(&in_use, &cache_for(&used_key)), "a cache in use is kept, token or not");
        assert!(Arc::ptr_eq(&other, &cache_for(&key("shared-other"))));
        assert!(!Arc::ptr_eq(&kept, &other), "other credentials, another cache");
    }

    #[test]
    fn keys_tell_credentials_endpoints_and_apis_apart() {
        let credentials = Credentials { client_id: "id".into(), client_secret: Zeroizing::new("secret".into()) };
        let key = TokenKey::new("https://t", "https://a", &credentials);
        assert_eq!(key.as_str().len(), 64, "a SHA-256 in hex");
        assert!(!key.as_str().contains("secret"));
        assert_ne!(key, TokenKey::new("https://t", "https://b", &credentials));
        assert_ne!(key, TokenKey::new("https://u", "https://a", &credentials));
        assert_eq!(TokenKey::local().as_str(), "");
    }
}
