//! The in-memory response cache: successful GET answers, kept for as long as their
//! `Cache-Control: max-age` allows, at most `cache_entries` of them (least recently used go first).

use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;

struct Entry {
    body: Arc<str>,
    expires: Instant,
}

impl Entry {
    /// Fresh while its age is under its lifetime: at the instant it expires it is stale (RFC 9111,
    /// section 4.2: fresh when the freshness lifetime is greater than the age).
    fn is_fresh_at(&self, now: Instant) -> bool {
        self.expires > now
    }
}

pub struct ResponseCache {
    /// None when caching is disabled (`cache_entries` = 0).
    entries: Mutex<Option<LruCache<String, Entry>>>,
}

/// The cache key: the full URL plus the headers the API varies on (`Vary: Accept,
/// Accept-Language, API-Version`; Accept is always the same).
pub fn cache_key(url: &str, language: &str, api_version: &str) -> String {
    let mut key = String::with_capacity(url.len() + language.len() + api_version.len() + 2);
    key.push_str(url);
    key.push('\n');
    key.push_str(language);
    key.push('\n');
    key.push_str(api_version);
    key
}

/// The longest an answer is kept, whatever its `max-age` says: a max-age of 2^64 seconds must not
/// overflow the clock.
pub const MAX_FRESHNESS: Duration = Duration::from_secs(365 * 24 * 3600);

/// How long an answer with this `Cache-Control` header may be reused; None if it may not be kept.
pub fn freshness_lifetime(cache_control: Option<&str>) -> Option<Duration> {
    let mut max_age = None;
    for directive in cache_control?.split(',').map(str::trim) {
        let (name, value) = directive.split_once('=').map_or((directive, ""), |(n, v)| (n.trim(), v.trim()));
        if name.eq_ignore_ascii_case("no-store")
            || name.eq_ignore_ascii_case("no-cache")
            || name.eq_ignore_ascii_case("private")
        {
            return None;
        }
        if name.eq_ignore_ascii_case("max-age") {
            max_age = value.trim_matches('"').parse::<u64>().ok();
        }
    }
    max_age.filter(|&seconds| seconds > 0).map(|seconds| Duration::from_secs(seconds).min(MAX_FRESHNESS))
}

impl ResponseCache {
    pub fn new(capacity: usize) -> ResponseCache {
        ResponseCache { entries: Mutex::new(NonZeroUsize::new(capacity).map(LruCache::new)) }
    }

    pub fn get(&self, key: &str) -> Option<Arc<str>> {
        let mut guard = self.entries.lock();
        let entries = guard.as_mut()?;
        let entry = entries.get(key)?;
        if entry.is_fresh_at(Instant::now()) {
            return Some(entry.body.clone());
        }
        entries.pop(key);
        None
    }

    pub fn insert(&self, key: String, body: Arc<str>, lifetime: Duration) {
        if let Some(entries) = self.entries.lock().as_mut() {
            entries.put(key, Entry { body, expires: Instant::now() + lifetime });
        }
    }

    /// Changes the bound; 0 disables the cache and frees what it held.
    pub fn resize(&self, capacity: usize) {
        let mut guard = self.entries.lock();
        match (NonZeroUsize::new(capacity), guard.as_mut()) {
            (None, _) => *guard = None,
            (Some(capacity), Some(entries)) => entries.resize(capacity),
            (Some(capacity), None) => *guard = Some(LruCache::new(capacity)),
        }
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().as_ref().map_or(0, LruCache::len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetime_follows_cache_control() {
        assert_eq!(freshness_lifetime(Some("public,max-age=36000")), Some(Duration::from_secs(36000)));
        assert_eq!(freshness_lifetime(Some("public, max-age=5")), Some(Duration::from_secs(5)));
        assert_eq!(freshness_lifetime(Some("no-store, no-cache, max-age=0")), None);
        assert_eq!(freshness_lifetime(Some("private, max-age=60")), None);
        // Each of the three alone forbids keeping the answer, wherever it stands and however spelt.
        for forbidding in ["no-store", "no-cache", "private", "No-Store", "NO-CACHE"] {
            for header in [forbidding.to_owned(), format!("public, max-age=3600, {forbidding}")] {
                assert_eq!(freshness_lifetime(Some(&header)), None, "{header}");
            }
        }
        assert_eq!(freshness_lifetime(Some("max-age=0")), None);
        assert_eq!(freshness_lifetime(Some("public")), None);
        assert_eq!(freshness_lifetime(None), None);
        assert_eq!(
            freshness_lifetime(Some("max-age=18446744073709551615")),
            Some(Duration::from_secs(365 * 24 * 3600))
        );
    }

    #[test]
    fn bounded_and_expiring() {
        let cache = ResponseCache::new(2);
        for i in 0..5 {
            cache.insert(format!("k{i}"), Arc::from("{}"), Duration::from_secs(60));
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get("k4").is_some() && cache.get("k0").is_none());
        cache.insert("short".into(), Arc::from("{}"), Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        assert!(cache.get("short").is_none());
        cache.resize(0);
        assert_eq!(cache.len(), 0);
        cache.insert("k".into(), Arc::from("{}"), Duration::from_secs(60));
        assert!(cache.get("k").is_none());
    }

    #[test]
    fn an_entry_is_stale_from_the_instant_it_expires() {
        let expires = Instant::now() + Duration::from_secs(60);
        let entry = Entry { body: Arc::from("{}"), expires };
        assert!(entry.is_fresh_at(expires - Duration::from_nanos(1)));
        assert!(!entry.is_fresh_at(expires));
        assert!(!entry.is_fresh_at(expires + Duration::from_secs(1)));
    }
}
