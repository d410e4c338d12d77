//! The token endpoint's answers: the JSON of a 200 (`parse_token_response`) and the OAuth2 error
//! code of a 400/401 (`oauth_error_code`), with any bytes.
//!
//! Proves: nothing panics; a token is accepted only if it can stand in an Authorization header
//! as it is (non-empty printable ASCII) and only if it is a bearer token; any lifetime the
//! endpoint claims is taken without overflow; a refusal is always described.
#![no_main]

use icdapi::fuzzing::{oauth_error_code, parse_token_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    match parse_token_response(body) {
        Ok((token, lifetime)) => {
            assert!(!token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic()), "{:?}", token.as_str());
            let header = format!("Bearer {}", token.as_str());
            assert!(ureq::http::HeaderValue::from_str(&header).is_ok(), "{header:?}");
            let _ = std::time::Instant::now().checked_add(lifetime);
        }
        Err(why) => assert!(!why.is_empty()),
    }
    let _ = oauth_error_code(body);
});
