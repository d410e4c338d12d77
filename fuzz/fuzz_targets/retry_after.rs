//! `Retry-After` (`parse_retry_after`) as the server sends it — delay-seconds, an HTTP date, or
//! anything — at any current time. Input: 8 bytes of "now" (seconds since 1970), then the value.
//!
//! Proves: nothing panics; whole seconds are taken as they are; a date gives the time left until
//! it, never more, and zero for a date in the past.
#![no_main]

use std::time::{Duration, UNIX_EPOCH};

use icdapi::fuzzing::parse_retry_after;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((now, value)) = data.split_first_chunk::<8>() else { return };
    let Ok(value) = std::str::from_utf8(value) else { return };
    // Any time up to the year 2^40 s: far past the dates HTTP can write.
    let Some(now) = UNIX_EPOCH.checked_add(Duration::from_secs(u64::from_le_bytes(*now) >> 24)) else { return };
    let wait = parse_retry_after(value, now);
    if let Ok(seconds) = value.trim().parse::<u64>() {
        assert_eq!(wait, Some(Duration::from_secs(seconds)), "{value:?}");
    } else if let (Some(wait), Ok(date)) = (wait, httpdate::parse_http_date(value.trim())) {
        assert_eq!(wait, date.duration_since(now).unwrap_or(Duration::ZERO), "{value:?}");
    }
});
