//! Property-based tests of the 0.2 layer: JSON Pointer parsing and lookup (RFC 6901), and query
//! parameter encoding round trips. Failures are not persisted to files: a run writes nothing.

use std::ffi::CString;

use icdapi::ffi::*;
use icdapi::fuzzing::encode_query;
use icdapi::json::{lookup, Document, Pointer};
use icdapi::ErrorKind;
use percent_encoding::percent_decode_str;
use proptest::prelude::*;
use serde_json::{json, Value};

fn config() -> ProptestConfig {
    ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() }
}

/// One step of a path into a document: a member name (any text, '/' and '~' included) or an
/// array index with the array's length.
#[derive(Debug, Clone)]
enum Step {
    Member(String),
    Index(usize, usize),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    let member = prop_oneof![any::<String>(), "[a~/0-1]{0,6}"].prop_map(Step::Member);
    let index = (1usize..5).prop_flat_map(|len| (0..len, Just(len))).prop_map(|(i, len)| Step::Index(i, len));
    prop::collection::vec(prop_oneof![member, index], 0..6)
}

/// The document that holds `leaf` at the end of `steps`, and the pointer to it.
fn document_and_pointer(steps: &[Step], leaf: Value) -> (Value, String) {
    let mut value = leaf;
    for step in steps.iter().rev() {
        value = match step {
            Step::Member(name) => {
                let mut members = serde_json::Map::new();
                members.insert("\u{1}sibling".into(), json!(1));
                members.insert(name.clone(), value);
                Value::Object(members)
            }
            Step::Index(i, len) => {
                let mut elements = vec![Value::Null; *len];
                elements[*i] = value;
                Value::Array(elements)
            }
        };
    }
    let pointer = steps
        .iter()
        .map(|step| match step {
            Step::Member(name) => format!("/{}", name.replace('~', "~0").replace('/', "~1")),
            Step::Index(i, _) => format!("/{i}"),
        })
        .collect();
    (value, pointer)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn escaped_pointers_find_what_they_name(steps in steps(), leaf in any::<String>()) {
        let (document, pointer) = document_and_pointer(&steps, json!(leaf));
        let parsed = Pointer::parse(&pointer).unwrap();
        prop_assert_eq!(lookup(&document, parsed), Some(&json!(leaf)), "{}", pointer);
        // Through a parsed text too, and through the C functions.
        let doc = Document::parse(&document.to_string()).unwrap();
        prop_assert_eq!(doc.text(&pointer).unwrap(), Some(leaf.as_str()));
        if !leaf.contains('\0') {
            let text = CString::new(document.to_string()).unwrap();
            let c_pointer = CString::new(pointer.clone()).unwrap();
            unsafe {
                let handle = icd_json_parse(text.as_ptr());
                prop_assert!(!handle.is_null());
                let found = icd_json_string(handle, c_pointer.as_ptr());
                prop_assert!(!found.is_null(), "{}", pointer);
                prop_assert_eq!(std::ffi::CStr::from_ptr(found).to_str().unwrap(), leaf.as_str());
                icd_json_free(handle);
            }
        }
    }

    #[test]
    fn pointers_are_valid_exactly_when_rfc_6901_says(text in prop_oneof![any::<String>(), "[/~01a-]{0,12}"]) {
        let well_formed = (text.is_empty() || text.starts_with('/'))
            && text.match_indices('~').all(|(at, _)| matches!(text.as_bytes().get(at + 1), Some(b'0' | b'1')));
        match Pointer::parse(&text) {
            Ok(pointer) => {
                prop_assert!(well_formed, "{:?} accepted", text);
                let document = json!({"a": [1, {"b": "c"}], "~": {"/": true}});
                let _ = lookup(&document, pointer); // never panics, whatever it names
            }
            Err(error) => {
                prop_assert!(!well_formed, "{:?} refused", text);
                prop_assert_eq!(error.kind(), ErrorKind::InvalidArgument);
            }
        }
    }

    #[test]
    fn indices_with_a_leading_zero_or_a_sign_name_nothing(i in 0usize..4, zeros in 1usize..3, sign in "[+-]?") {
        let document = json!([0, 1, 2, 3]);
        let plain = format!("/{i}");
        prop_assert_eq!(lookup(&document, Pointer::parse(&plain).unwrap()), Some(&json!(i)));
        let padded = format!("/{}{}{i}", sign, "0".repeat(zeros));
        prop_assert_eq!(lookup(&document, Pointer::parse(&padded).unwrap()), None, "{}", padded);
    }

    #[test]
    fn parameters_round_trip_through_their_encoding(
        params in prop::collection::vec((any::<String>().prop_filter("a name", |n| !n.is_empty()), any::<String>()), 0..6)
    ) {
        let pairs: Vec<(&str, &str)> = params.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let query = encode_query(&pairs);
        // Only RFC 3986 unreserved characters and %XX with upper-case hex, besides '=' and '&'.
        let bytes = query.as_bytes();
        for (at, byte) in bytes.iter().enumerate() {
            let unreserved = byte.is_ascii_alphanumeric() || b"-._~=&".contains(byte);
            let escape = *byte == b'%'
                && bytes.get(at + 1..at + 3).is_some_and(|hex| hex.iter().all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)));
            let in_escape = at >= 1 && bytes[at - 1] == b'%' || at >= 2 && bytes[at - 2] == b'%';
            prop_assert!(unreserved || escape || in_escape, "{:?} at {}", query, at);
        }
        let decoded: Vec<(String, String)> = if query.is_empty() {
            Vec::new()
        } else {
            query.split('&').map(|pair| {
                let (name, value) = pair.split_once('=').expect("every pair has '='");
                (percent_decode_str(name).decode_utf8().unwrap().into_owned(),
                 percent_decode_str(value).decode_utf8().unwrap().into_owned())
            }).collect()
        };
        prop_assert_eq!(decoded, params);
    }

    #[test]
    fn arbitrary_pointer_bytes_through_the_c_api_never_panic(bytes in prop::collection::vec(1u8..=255, 0..40)) {
        let pointer = CString::new(bytes).unwrap();
        unsafe {
            let doc = icd_json_parse(c"{\"a\":[{\"@value\":\"x\"}],\"~\":1}".as_ptr());
            let _ = icd_json_string(doc, pointer.as_ptr());
            let code = icd_last_error_code();
            prop_assert!(matches!(code, IcdStatus::ICD_OK | IcdStatus::ICD_ERR_INVALID_ARGUMENT), "{:?}", code);
            let _ = icd_json_at(doc, pointer.as_ptr());
            let _ = icd_json_count(doc, pointer.as_ptr());
            let _ = icd_json_number(doc, pointer.as_ptr(), std::ptr::null_mut());
            let _ = icd_json_bool(doc, pointer.as_ptr(), std::ptr::null_mut());
            let _ = icd_json_type(doc, pointer.as_ptr());
            prop_assert_eq!(icd_last_error_code(), code, "every function judges a pointer alike");
            icd_json_free(doc);
        }
    }
}
