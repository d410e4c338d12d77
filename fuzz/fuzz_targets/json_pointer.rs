//! JSON documents read with JSON Pointers (RFC 6901), in Rust (`icdapi::json`) and through the
//! C functions icd_json_parse, _at, _string, _count, _number, _bool, _type and _free. Input: a
//! pointer, a newline, a JSON text.
//!
//! Proves: nothing panics or crashes (ASan) and no call returns ICD_ERR_INTERNAL, whatever the
//! text (deep nesting included) and the pointer; a pointer is accepted exactly when RFC 6901
//! allows it; every value of a document is found by the pointer built from its path (escaping
//! '~' and '/'); the C functions agree with each other and with the Rust lookup (types, counts,
//! numbers, booleans, strings and JSON-LD titles), hand out the same pointer when asked twice,
//! and keep every string valid until the document is freed.
#![no_main]

mod common;

use std::ffi::{c_int, CStr, CString};

use common::last_error;
use icdapi::ffi::*;
use icdapi::json::{lookup, text_of, Document, Pointer};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// RFC 6901's grammar, written out: "" or '/'-led, every '~' followed by '0' or '1'.
fn well_formed(pointer: &str) -> bool {
    let bytes = pointer.as_bytes();
    (pointer.is_empty() || pointer.starts_with('/'))
        && bytes.iter().enumerate().all(|(i, &b)| b != b'~' || matches!(bytes.get(i + 1), Some(b'0' | b'1')))
}

fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Every value of `value` (at most `budget` of them) is found again by its pointer.
fn check_every_path(root: &Value, value: &Value, pointer: &str, budget: &mut usize) {
    if *budget == 0 {
        return;
    }
    *budget -= 1;
    let found = lookup(root, Pointer::parse(pointer).expect("a built pointer is well formed"));
    assert!(found.is_some_and(|found| std::ptr::eq(found, value)), "{pointer:?} does not find its value");
    match value {
        Value::Array(elements) => {
            for (i, element) in elements.iter().enumerate() {
                check_every_path(root, element, &format!("{pointer}/{i}"), budget);
            }
        }
        Value::Object(members) => {
            for (name, member) in members {
                check_every_path(root, member, &format!("{pointer}/{}", escape(name)), budget);
            }
        }
        _ => {}
    }
}

/// The C functions on one document and pointer, checked against the Rust lookup.
unsafe fn check_c(text: &str, pointer: &str, expected: Option<&Value>) {
    let (Ok(c_text), Ok(c_pointer)) = (CString::new(text), CString::new(pointer)) else { return };
    let doc = icd_json_parse(c_text.as_ptr());
    if doc.is_null() {
        let (code, message) = last_error();
        assert_eq!(code, IcdStatus::ICD_ERR_PARSE, "{message}");
        return;
    }
    let p = c_pointer.as_ptr();
    let valid = well_formed(pointer);
    let kind = icd_json_type(doc, p);
    assert_eq!(last_error().0, if valid { IcdStatus::ICD_OK } else { IcdStatus::ICD_ERR_INVALID_ARGUMENT });
    let at = icd_json_at(doc, p);
    assert_eq!(at.is_null(), expected.is_none(), "{pointer:?}");
    assert_eq!(at, icd_json_at(doc, p), "the same value, another handle");
    assert_eq!(icd_json_at(doc, c"".as_ptr()), doc.cast_const(), "\"\" is the document itself");
    if !at.is_null() {
        assert_eq!(icd_json_type(at, c"".as_ptr()), kind, "the value's type through its handle");
    }
    let count = icd_json_count(doc, p);
    let mut number = f64::NAN;
    let is_number = icd_json_number(doc, p, &mut number);
    let mut flag: c_int = -1;
    let is_bool = icd_json_bool(doc, p, &mut flag);
    let string = icd_json_string(doc, p);
    assert_eq!(string, icd_json_string(doc, p), "the same string, another pointer");
    let owned = (!string.is_null()).then(|| CStr::from_ptr(string).to_str().expect("UTF-8").to_owned());
    match expected {
        None => {
            assert_eq!(kind, IcdJsonType::ICD_JSON_MISSING);
            assert!(count == 0 && is_number == 0 && is_bool == 0 && string.is_null());
        }
        Some(value) => {
            let expected_kind = match value {
                Value::Null => IcdJsonType::ICD_JSON_NULL,
                Value::Bool(_) => IcdJsonType::ICD_JSON_BOOL,
                Value::Number(_) => IcdJsonType::ICD_JSON_NUMBER,
                Value::String(_) => IcdJsonType::ICD_JSON_STRING,
                Value::Array(_) => IcdJsonType::ICD_JSON_ARRAY,
                Value::Object(_) => IcdJsonType::ICD_JSON_OBJECT,
            };
            assert_eq!(kind, expected_kind);
            let expected_count = value.as_array().map(Vec::len).or(value.as_object().map(|o| o.len()));
            assert_eq!(count, expected_count.unwrap_or(0));
            assert_eq!(is_number == 1, value.is_number());
            if let Some(n) = value.as_f64() {
                assert!(number == n || (number.is_nan() && n.is_nan()), "{number} != {n}");
            }
            assert_eq!(is_bool == 1, value.is_boolean());
            if let Some(b) = value.as_bool() {
                assert_eq!(flag, c_int::from(b));
            }
            let expected_text = text_of(value).filter(|t| !t.contains('\0'));
            assert_eq!(owned.as_deref(), expected_text, "{pointer:?}");
        }
    }
    // Strings lent out stay valid while the document lives, whatever else is read meanwhile.
    icd_json_string(doc, c"/".as_ptr());
    if let Some(owned) = owned {
        assert_eq!(CStr::from_ptr(string).to_str().unwrap(), owned);
    }
    icd_json_free(doc);
}

fuzz_target!(|data: &[u8]| unsafe {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let (pointer, text) = input.split_once('\n').unwrap_or((input, ""));
    assert_eq!(Pointer::parse(pointer).is_ok(), well_formed(pointer), "{pointer:?}");
    let Ok(document) = Document::parse(text) else {
        check_c(text, pointer, None);
        return;
    };
    let expected = document.at(pointer).ok().flatten();
    check_every_path(document.root(), document.root(), "", &mut 256);
    check_c(text, pointer, expected);
    // NULLs are refused, not followed.
    assert!(icd_json_at(std::ptr::null(), c"".as_ptr()).is_null());
    assert_eq!(last_error().0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    assert!(icd_json_parse(std::ptr::null()).is_null());
    icd_json_free(std::ptr::null_mut());
});
