//! `Cache-Control` freshness (`freshness_lifetime`): how long an answer may be reused, with any
//! header value the API (or something between it and us) sends.
//!
//! Proves: nothing panics; an answer marked no-store, no-cache or private is never kept, whatever
//! else the header says; a kept answer has a positive max-age and is kept a year at most (a
//! max-age of 2^64 seconds does not overflow the clock).
#![no_main]

use std::time::{Duration, Instant};

use icdapi::fuzzing::{freshness_lifetime, MAX_FRESHNESS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: &str| {
    let lifetime = freshness_lifetime(Some(value));
    let lower = value.to_ascii_lowercase();
    let directives: Vec<&str> = lower.split(',').map(|d| d.split('=').next().unwrap_or("").trim()).collect();
    if directives.iter().any(|d| matches!(*d, "no-store" | "no-cache" | "private")) {
        assert_eq!(lifetime, None, "{value:?} must not be cached");
    }
    if let Some(lifetime) = lifetime {
        assert!(lifetime > Duration::ZERO && lifetime <= MAX_FRESHNESS, "{value:?} -> {lifetime:?}");
        assert!(directives.contains(&"max-age"), "{value:?} -> {lifetime:?} without a max-age");
        assert!(Instant::now().checked_add(lifetime).is_some());
    }
    assert_eq!(freshness_lifetime(None), None);
});
