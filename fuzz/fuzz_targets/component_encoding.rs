//! Percent-encoding of one path segment or query value (`encode_component`), which every
//! argument of icd_search, icd_codeinfo, icd_autocode and icd_lookup goes through.
//!
//! Proves: nothing panics; the output holds only unreserved characters and %XX escapes (so '&',
//! '/', '#', '%', '+' and spaces arrive as data), and decodes back to the input.
#![no_main]

use icdapi::fuzzing::encode_component;
use libfuzzer_sys::fuzz_target;
use percent_encoding::percent_decode_str;

fuzz_target!(|text: &str| {
    let encoded = encode_component(text);
    assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)), "{text:?} -> {encoded:?}");
    assert_eq!(percent_decode_str(&encoded).collect::<Vec<u8>>(), text.as_bytes(), "{text:?} -> {encoded:?}");
});
