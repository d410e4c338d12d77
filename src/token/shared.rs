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
