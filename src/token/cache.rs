//! Credentials and the shared OAuth2 token.
//!
//! Reading the token is a read-lock and an `Arc` clone. Fetching it is single-flight: one thread
//! fetches while the others that need a token wait on `fetch_lock` and then share what it got —
//! its token, or its error, so that bad credentials cost one request, not one per waiting thread.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};

/// OAuth2 client credentials. The secret lives in memory that is wiped when it is dropped.
pub struct Credentials {
    pub client_id: String,
    pub client_secret: Zeroizing<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials").field("client_id", &self.client_id).field("client_secret", &"[redacted]").finish()
    }
}

const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A bearer token and when to stop using it.
pub struct Token {
    /// "Bearer <token>", built once: every request sends it as it is.
    authorization: Zeroizing<String>,
    refresh_at: Instant,
}

impl Token {
    /// `lifetime` is the token endpoint's `expires_in`. The token is refreshed a margin before it
    /// expires — 60 s or a tenth of its lifetime, whichever is smaller — so that no request
    /// carries a token that is about to die in flight.
    pub fn new(value: String, lifetime: Duration) -> Token {
        // An endpoint claiming a lifetime of centuries is not believed (nor allowed to overflow
        // the clock): a day at most, and a 401 still replaces a token that dies sooner.
        let lifetime = lifetime.min(MAX_TOKEN_LIFETIME);
        let margin = Duration::from_secs(60).min(lifetime / 10);
        let value = Zeroizing::new(value);
        let authorization = Zeroizing::new(format!("Bearer {}", value.as_str()));
        Token { authorization, refresh_at: Instant::now() + lifetime - margin }
    }

    pub fn value(&self) -> &str {
        &self.authorization["Bearer ".len()..]
    }

    /// The value of the Authorization header.
    pub fn authorization(&self) -> &str {
        &self.authorization
    }

    fn is_fresh(&self, now: Instant) -> bool {
        now < self.refresh_at
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token").field("value", &"[redacted]").field("refresh_at", &self.refresh_at).finish()
    }
}

#[derive(Default)]
pub struct TokenCache {
    current: RwLock<Option<Arc<Token>>>,
    /// The last token the API refused: a token store shared between processes must not hand it
    /// out again.
    rejected: Mutex<Option<Zeroizing<String>>>,
    fetch_lock: Mutex<LastFetch>,
    /// Fetches completed so far; lets a waiter tell whether a fetch finished while it waited.
    fetches_completed: AtomicU64,
}

#[derive(Default)]
struct LastFetch {
    error: Option<Error>,
}

impl TokenCache {
    /// Returns a fresh token, fetching one with `fetch` if there is none. `fetch` is given the
    /// last token the API refused (if any) and returns the token text and its lifetime. Waiting
    /// for another thread's fetch honours `deadline`.
    pub fn get(
        &self,
        deadline: Instant,
        fetch: impl FnOnce(Option<&str>) -> Result<(String, Duration)>,
    ) -> Result<Arc<Token>> {
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        let completed_before_waiting = self.fetches_completed.load(Ordering::Acquire);
        let mut last = self.fetch_lock.try_lock_until(deadline).ok_or_else(|| {
            Error::new(ErrorKind::Timeout, "the call's deadline passed while another thread was fetching a token")
        })?;
        if let Some(token) = self.fresh() {
            return Ok(token);
        }
        if self.fetches_completed.load(Ordering::Acquire) != completed_before_waiting {
            if let Some(error) = &last.error {
                return Err(error.clone());
            }
        }
        let rejected = self.rejected.lock().clone();
        let outcome = fetch(rejected.as_deref().map(String::as_str));
        self.fetches_completed.fetch_add(1, Ordering::AcqRel);
        match outcome {
            Ok((value, lifetime)) => {
                let token = Arc::new(Token::new(value, lifetime));
                *self.current.write() = Some(token.clone());
                last.error = None;
                Ok(token)
            }
            Err(error) => {
                last.error = Some(error.clone());
                Err(error)
            }
        }
    }

    /// Drops `stale` after the API refused it, unless another thread already replaced it: many
    /// threads seeing 401 for one token cause one new fetch, not many.
    pub fn invalidate(&self, stale: &Arc<Token>) {
        let mut current = self.current.write();
        if current.as_ref().is_some_and(|token| Arc::ptr_eq(token, stale)) {
            *current = None;
            *self.rejected.lock() = Some(Zeroizing::new(stale.value().to_owned()));
        }
    }

    pub fn has_fresh_token(&self) -> bool {
        self.fresh().is_some()
    }

    fn fresh(&self) -> Option<Arc<Token>> {
        let current = self.current.read();
        current.as_ref().filter(|token| token.is_fresh(Instant::now())).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    #[test]
    fn refresh_margin_is_the_smaller_of_60s_and_a_tenth() {
        let hour = Token::new("t".into(), Duration::from_secs(3600));
        let left = hour.refresh_at - Instant::now();
        assert!(left <= Duration::from_secs(3540) && left > Duration::from_secs(3530), "{left:?}");
        let short = Token::new("t".into(), Duration::from_secs(100));
        let left = short.refresh_at - Instant::now();
        assert!(left <= Duration::from_secs(90) && left > Duration::from_secs(85), "{left:?}");
    }

    #[test]
    fn an_endpoints_lifetime_is_believed_for_a_day_at_most() {
        let day = Duration::from_secs(24 * 3600);
        let two_days = Token::new("t".into(), 2 * day);
        let left = two_days.refresh_at - Instant::now();
        // A day, less the 60 s margin.
        assert!(left <= day - Duration::from_secs(60) && left > day - Duration::from_secs(70), "{left:?}");
        let centuries = Token::new("t".into(), Duration::MAX);
        let beyond = centuries.refresh_at - two_days.refresh_at;
        assert!(beyond < Duration::from_secs(5), "centuries are a day too: {beyond:?} more than two days");
        let just_under = Token::new("t".into(), day - Duration::from_secs(600));
        let left = just_under.refresh_at - Instant::now();
        assert!(left <= day - Duration::from_secs(660) && left > day - Duration::from_secs(670), "{left:?}");
    }

    #[test]
    fn one_fetch_for_many_threads() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..16)
            .map(|_| {
                let (cache, fetches) = (cache.clone(), fetches.clone());
                std::thread::spawn(move || {
                    cache
                        .get(far(), |_| {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                            Ok(("tok".into(), Duration::from_secs(3600)))
                        })
                        .unwrap()
                        .value()
                        .to_owned()
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap(), "tok");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn waiters_share_a_failed_fetch() {
        let cache = Arc::new(TokenCache::default());
        let fetches = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (cache, fetches) = (cache.clone(), fetches.clone());
                std::thread::spawn(move || {
                    cache.get(far(), |_| {
                        fetches.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(100));
                        Err(Error::new(ErrorKind::Auth, "refused"))
                    })
                })
            })
            .collect();
        for thread in threads {
            assert_eq!(thread.join().unwrap().unwrap_err().kind(), ErrorKind::Auth);
        }
        // The first fetch fails; every thread that was already waiting shares that failure.
        assert!(fetches.load(Ordering::SeqCst) <= 2, "{} fetches", fetches.load(Ordering::SeqCst));
    }

    #[test]
    fn a_failed_fetch_is_shared_with_waiters_but_not_remembered_for_later_calls() {
        let cache = TokenCache::default();
        let refused = cache.get(far(), |_| Err(Error::new(ErrorKind::Http, "the endpoint answered 500")));
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::Http);
        // A later call (nobody fetched while it waited) asks again, and the endpoint is back.
        let token = cache.get(far(), |_| Ok(("back".into(), Duration::from_secs(3600)))).unwrap();
        assert_eq!(token.value(), "back");
    }

    #[test]
    fn the_refused_token_is_given_to_the_next_fetch() {
        let cache = TokenCache::default();
        let first = cache.get(far(), |rejected| {
            assert_eq!(rejected, None);
            Ok(("one".into(), Duration::from_secs(3600)))
        });
        cache.invalidate(&first.unwrap());
        let second = cache.get(far(), |rejected| {
            assert_eq!(rejected, Some("one"), "a token file must not hand it out again");
            Ok(("two".into(), Duration::from_secs(3600)))
        });
        assert_eq!(second.unwrap().value(), "two");
    }

    #[test]
    fn invalidate_only_drops_the_stale_token() {
        let cache = TokenCache::default();
        let first = cache.get(far(), |_| Ok(("one".into(), Duration::from_secs(3600)))).unwrap();
        cache.invalidate(&first);
        let second = cache.get(far(), |_| Ok(("two".into(), Duration::from_secs(3600)))).unwrap();
        assert_eq!(second.value(), "two");
        cache.invalidate(&first); // a late 401 for the old token must not drop the new one
        let third = cache.get(far(), |_| Ok(("three".into(), Duration::from_secs(3600)))).unwrap();
        assert_eq!(third.value(), "two");
    }

    #[test]
    fn debug_output_redacts_secrets() {
        let credentials = Credentials { client_id: "id".into(), client_secret: Zeroizing::new("s3cr3t-value".into()) };
        let token = Token::new("tok3n-value".into(), Duration::from_secs(10));
        let text = format!("{credentials:?} {token:?}");
        assert!(!text.contains("s3cr3t-value") && !text.contains("tok3n-value"), "{text}");
        // Redacted, not blank: what is there to see is shown.
        assert!(text.starts_with(r#"Credentials { client_id: "id", client_secret: "[redacted]" }"#), "{text}");
        assert!(text.contains(r#"Token { value: "[redacted]", refresh_at: "#), "{text}");
    }

    #[test]
    fn a_token_is_stale_from_its_refresh_time_on() {
        let token = Token::new("t".into(), Duration::from_secs(100));
        assert!(token.is_fresh(token.refresh_at - Duration::from_millis(1)));
        assert!(!token.is_fresh(token.refresh_at), "at its refresh time a token is no longer handed out");
        assert!(!token.is_fresh(token.refresh_at + Duration::from_millis(1)));
        assert_eq!(token.value(), "t");
        assert_eq!(token.authorization(), "Bearer t");
    }

    #[test]
    fn an_expired_token_is_not_fresh_and_is_fetched_again() {
        let cache = TokenCache::default();
        // A lifetime of zero: stale as soon as it is made.
        let first = cache.get(far(), |_| Ok(("short".into(), Duration::ZERO))).unwrap();
        assert_eq!(first.value(), "short");
        assert!(!cache.has_fresh_token());
        let second = cache.get(far(), |_| Ok(("long".into(), Duration::from_secs(3600)))).unwrap();
        assert_eq!(second.value(), "long");
        assert!(cache.has_fresh_token());
    }
}
