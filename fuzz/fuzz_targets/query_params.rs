//! Query parameters (`encode_query`, `append_to_url`, the check before sending) as the
//! icd_*_with functions take them. Input: NUL-separated fields — a URL, then names and values.
//!
//! Proves: nothing panics; an empty name is refused and anything else accepted; the query holds
//! only unreserved characters, '%XX', '=' and '&', and splits back into exactly the parameters
//! given, in order; appended to a URL, it follows the URL's own query with one '?' or '&'.
#![no_main]

use icdapi::fuzzing::{append_to_url, encode_query, validate_params};
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let mut fields = input.split('\0');
    let url = fields.next().unwrap_or("");
    let fields: Vec<&str> = fields.collect();
    let params: Vec<(&str, &str)> =
        fields.chunks(2).map(|pair| (pair[0], pair.get(1).copied().unwrap_or(""))).collect();

    assert_eq!(validate_params(&params).is_ok(), params.iter().all(|(name, _)| !name.is_empty()));
    let query = encode_query(&params);
    assert!(query.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%=&".contains(&b)), "{query:?}");
    let decode = |text: &str| percent_decode_str(text).decode_utf8().expect("UTF-8 in, UTF-8 out").into_owned();
    let decoded: Vec<(String, String)> = if query.is_empty() {
        Vec::new()
    } else {
        query
            .split('&')
            .map(|pair| pair.split_once('=').expect("name=value"))
            .map(|(n, v)| (decode(n), decode(v)))
            .collect()
    };
    let given: Vec<(String, String)> = params.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    assert_eq!(decoded, given, "{query:?}");

    let mut full = url.to_owned();
    append_to_url(&mut full, &params);
    let added = full.strip_prefix(url).expect("the URL is kept as it was");
    if params.is_empty() {
        assert!(added.is_empty());
    } else if !url.contains('?') {
        assert_eq!(added, format!("?{query}"));
    } else if url.split_once('?').is_some_and(|(_, own)| own.is_empty() || own.ends_with('&')) {
        // The URL's own query is empty or ends with '&': the parameters follow it directly.
        assert_eq!(added, query);
    } else {
        assert_eq!(added, format!("&{query}"));
    }
});
