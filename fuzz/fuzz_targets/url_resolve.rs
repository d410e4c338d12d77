//! Base URLs and request targets: `BaseUrl::parse`, `BaseUrl::resolve`, `normalize_raw` and
//! `is_fixed_release` with any text. Input: a base URL, a newline, a path or URI.
//!
//! Proves: nothing panics; a base that parses is a URL an HTTP client accepts, and parses back
//! to itself; a resolved target is always on the base's scheme, host and port, under its path
//! prefix, ASCII, with no space or fragment (the token goes nowhere else); `normalize_raw` is
//! idempotent and, without '%' in its input, decodes back to its input.
#![no_main]

use icdapi::fuzzing::{is_fixed_release, normalize_raw};
use icdapi::BaseUrl;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;

/// Bases of the three shapes users configure: the cloud, a local deployment, one with a prefix.
const BASES: &[&str] = &["https://id.who.int", "http://127.0.0.1:8080", "http://localhost:9/api/v2"];

/// Scheme and authority as an HTTP client parses them: where a request really goes.
fn destination(url: &str) -> (String, String) {
    let uri: ureq::http::Uri = url.parse().unwrap_or_else(|e| panic!("{url:?} is not a valid URI: {e}"));
    let scheme = uri.scheme_str().unwrap_or_else(|| panic!("{url:?} has no scheme")).to_owned();
    let authority = uri.authority().unwrap_or_else(|| panic!("{url:?} has no authority")).as_str().to_owned();
    (scheme, authority.to_ascii_lowercase())
}

fn check_resolve(base: &BaseUrl, target: &str) {
    let Ok(url) = base.resolve(target) else { return };
    let base_url = base.as_url();
    assert_eq!(destination(&url), destination(&base_url), "{target:?} -> {url:?} left {base_url:?}");
    let rest =
        url.strip_prefix(base_url.as_str()).unwrap_or_else(|| panic!("{target:?} -> {url:?} not under {base_url:?}"));
    assert!(rest.is_empty() || rest.starts_with(['/', '?']), "{target:?} -> {url:?} not under {base_url:?}");
    assert!(url.bytes().all(|b| b.is_ascii_graphic()), "{target:?} -> {url:?}: not printable ASCII");
    assert!(!url.contains('#'), "{target:?} -> {url:?}: a fragment");
    let _ = is_fixed_release(&url);
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (base_text, target) = text.split_once('\n').unwrap_or((text, ""));
    if let Ok(base) = BaseUrl::parse(base_text, "api_base") {
        let url = base.as_url();
        destination(&url);
        assert_eq!(BaseUrl::parse(&url, "api_base").as_ref(), Ok(&base), "{base_text:?} -> {url:?}");
        check_resolve(&base, target);
        let _ = base.require_secure("api_base");
    }
    for base in BASES {
        check_resolve(&BaseUrl::parse(base, "api_base").unwrap(), text);
    }
    let normalized = normalize_raw(text);
    assert!(!normalized.contains([' ', '#', '"', '<', '>']) && normalized.is_ascii(), "{text:?} -> {normalized:?}");
    assert_eq!(normalize_raw(&normalized), normalized, "normalize_raw is not idempotent on {text:?}");
    if !text.contains('%') {
        let decoded = percent_decode_str(&normalized).collect::<Vec<u8>>();
        assert_eq!(decoded, text.as_bytes(), "{text:?} -> {normalized:?} does not decode back");
    }
    let _ = is_fixed_release(text);
});
