//! JSON documents for C: parse an answer once, then read it with JSON Pointers — strings
//! unescaped and NUL-terminated, JSON-LD titles as their text — without a JSON library.
//!
//! An `IcdJson *` names one value of a document. The document (`Store`) owns the parsed value
//! and, for the values and strings lent out so far, the handles and C strings that C borrows:
//! both live until icd_json_free of the document, so every pointer handed out stays valid that
//! long, and asking again for the same value or string hands out the same pointer.

use std::collections::HashMap;
use std::ffi::{c_char, c_int, CString};
use std::ptr;

use parking_lot::Mutex;
use serde_json::Value;

use super::{boundary, str_arg};
use crate::error::{Error, Result};
use crate::json::{lookup, Document, Pointer};

/// A parsed JSON value: a whole document (from icd_json_parse) or a value inside one (from
/// icd_json_at). Opaque and immutable; safe to read from many threads at once.
pub struct IcdJson {
    value: *const Value,
    store: *const Store,
}

/// A document and what has been lent out of it.
struct Store {
    document: Document,
    /// The handle of the whole document: what icd_json_parse returns and icd_json_free takes.
    root: IcdJson,
    /// Handles of the values inside, by address (the document never changes, so neither do they).
    values: Mutex<HashMap<*const Value, Box<IcdJson>>>,
    /// The C copies of the strings read so far; None for a string holding U+0000.
    strings: Mutex<HashMap<*const String, Option<CString>>>,
}

/// The type of a JSON value, for icd_json_type.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcdJsonType {
    /// The pointer names no value.
    ICD_JSON_MISSING = 0,
    ICD_JSON_NULL = 1,
    ICD_JSON_BOOL = 2,
    ICD_JSON_NUMBER = 3,
    ICD_JSON_STRING = 4,
    ICD_JSON_ARRAY = 5,
    /// An object, JSON-LD language-tagged values ({"@language": ..., "@value": ...}) included.
    ICD_JSON_OBJECT = 6,
}

/// The document behind a handle and the value `pointer` names in it (None when it names nothing).
///
/// # Safety
/// `doc` is NULL or a handle from icd_json_parse / icd_json_at whose document is not freed;
/// `pointer` is NULL or a NUL-terminated string.
unsafe fn find<'a>(doc: *const IcdJson, pointer: *const c_char) -> Result<(&'a Store, Option<&'a Value>)> {
    let handle = doc.as_ref().ok_or_else(|| Error::invalid_argument("doc is NULL"))?;
    let pointer = Pointer::parse(str_arg(pointer, "pointer")?)?;
    Ok((&*handle.store, lookup(&*handle.value, pointer)))
}

/// Parses a JSON text — e.g. a body returned by icd_get or icd_search — into a document to
/// read with the icd_json_* functions. `json` is borrowed for the call only: the document keeps
/// its own copy of everything.
///
/// Returns a document that the caller owns and frees with icd_json_free, or NULL with the last
/// error: ICD_ERR_INVALID_ARGUMENT (json is NULL or not UTF-8), ICD_ERR_PARSE (not JSON, or
/// arrays and objects nested more than 127 levels deep, the one limit of every JSON the library
/// reads; the message says at which line and column). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_json_parse(json: *const c_char) -> *mut IcdJson {
    boundary(ptr::null_mut(), || {
        let document = Document::parse(str_arg(json, "json")?)?;
        let store = Box::into_raw(Box::new(Store {
            document,
            root: IcdJson { value: ptr::null(), store: ptr::null() },
            values: Mutex::default(),
            strings: Mutex::default(),
        }));
        // The value and the store live at fixed addresses in the heap from here on.
        (*store).root = IcdJson { value: (*store).document.root(), store };
        Ok((ptr::addr_of_mut!((*store).root), 0))
    })
}

/// Frees a document and everything borrowed from it (the values of icd_json_at, the strings of
/// icd_json_string). Only what icd_json_parse returned: a value from icd_json_at belongs to its
/// document, and passing one here does nothing. NULL is a no-op. No other thread may still be
/// reading the document. Leaves the last error untouched.
#[no_mangle]
pub unsafe extern "C" fn icd_json_free(doc: *mut IcdJson) {
    let Some(handle) = doc.as_ref() else { return };
    let store = handle.store.cast_mut();
    if !ptr::eq(doc, ptr::addr_of!((*store).root)) {
        return;
    }
    // A panic while dropping must not unwind into C; there is nothing to report it to.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(Box::from_raw(store))));
}

/// The value that `pointer` names, as a handle to pass to the other icd_json_* functions
/// (e.g. one search result, to read several members of it with short pointers).
///
/// `pointer` is an RFC 6901 JSON Pointer: "" is `doc` itself; "/destinationEntities/0/theCode"
/// walks members and array elements; "~1" stands for '/' and "~0" for '~' in a member name.
/// An array index with a leading zero ("01"), or "-", names no element.
///
/// Returns a value borrowed from the document, valid until icd_json_free of the document (never
/// free it yourself), or NULL: when the pointer names nothing — not an error, the last error is
/// ICD_OK — or with ICD_ERR_INVALID_ARGUMENT for a NULL doc or pointer, a pointer that neither
/// is "" nor starts with '/', or a '~' not followed by '0' or '1'. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_json_at(doc: *const IcdJson, pointer: *const c_char) -> *const IcdJson {
    boundary(ptr::null(), || {
        let (store, value) = find(doc, pointer)?;
        let Some(value) = value else { return Ok((ptr::null(), 0)) };
        if ptr::eq(value, store.root.value) {
            return Ok((&store.root as *const IcdJson, 0));
        }
        let mut values = store.values.lock();
        let handle = values.entry(value as *const Value).or_insert_with(|| Box::new(IcdJson { value, store }));
        Ok((&**handle as *const IcdJson, 0))
    })
}

/// The string that `pointer` names, unescaped, as NUL-terminated UTF-8 ("\u00e9" comes back
/// as "é"). A JSON-LD language-tagged value — an object whose "@value" is a string, as every
/// title and definition of the API is ({"@language": "en", "@value": "Cholera"}) — counts as
/// that string, so "/title" of an entity gives "Cholera".
///
/// Returns a string borrowed from the document, valid until icd_json_free of the document
/// (never free it yourself), or NULL when the value is missing, not a string, or a string
/// holding U+0000 (which cannot be a C string; icd_json_type tells it apart) — none of which is
/// an error: the last error is then ICD_OK. ICD_ERR_INVALID_ARGUMENT for a NULL doc or pointer or
/// a malformed pointer (see icd_json_at). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_json_string(doc: *const IcdJson, pointer: *const c_char) -> *const c_char {
    boundary(ptr::null(), || {
        let (store, value) = find(doc, pointer)?;
        // As crate::json::text_of, but the String itself: its address keys the C copy.
        let text = match value {
            Some(Value::String(text)) => Some(text),
            Some(Value::Object(members)) => match members.get("@value") {
                Some(Value::String(text)) => Some(text),
                _ => None,
            },
            _ => None,
        };
        let Some(text) = text else { return Ok((ptr::null(), 0)) };
        let mut strings = store.strings.lock();
        let copy = strings.entry(text as *const String).or_insert_with(|| CString::new(text.as_str()).ok());
        Ok((copy.as_ref().map_or(ptr::null(), |c| c.as_ptr()), 0))
    })
}

/// The number of elements of the array, or of members of the object, that `pointer` names;
/// 0 for anything else or nothing (not an error: the last error is then ICD_OK).
/// ICD_ERR_INVALID_ARGUMENT (and 0) for a NULL doc or pointer or a malformed pointer.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_json_count(doc: *const IcdJson, pointer: *const c_char) -> usize {
    boundary(0, || {
        let (_, value) = find(doc, pointer)?;
        let count = match value {
            Some(Value::Array(elements)) => elements.len(),
            Some(Value::Object(members)) => members.len(),
            _ => 0,
        };
        Ok((count, 0))
    })
}

/// Whether `pointer` names a number: then 1, and the number in `*out` (as a double: integers
/// beyond 2^53 lose precision) unless `out` is NULL. Otherwise 0 and `*out` untouched; a
/// missing value or one of another type is not an error (the last error is then ICD_OK).
/// ICD_ERR_INVALID_ARGUMENT (and 0) for a NULL doc or pointer or a malformed pointer.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_json_number(doc: *const IcdJson, pointer: *const c_char, out: *mut f64) -> c_int {
    boundary(0, || {
        let (_, value) = find(doc, pointer)?;
        let Some(number) = value.and_then(Value::as_f64) else { return Ok((0, 0)) };
        if !out.is_null() {
            *out = number;
        }
        Ok((1, 0))
    })
}

/// Whether `pointer` names true or false: then 1, and 1 or 0 in `*out` unless `out` is NULL.
/// Otherwise 0 and `*out` untouched; a missing value or one of another type is not an error
/// (the last error is then ICD_OK). ICD_ERR_INVALID_ARGUMENT (and 0) for a NULL doc or pointer
/// or a malformed pointer. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_json_bool(doc: *const IcdJson, pointer: *const c_char, out: *mut c_int) -> c_int {
    boundary(0, || {
        let (_, value) = find(doc, pointer)?;
        let Some(flag) = value.and_then(Value::as_bool) else { return Ok((0, 0)) };
        if !out.is_null() {
            *out = c_int::from(flag);
        }
        Ok((1, 0))
    })
}

/// The JSON type of the value `pointer` names, ICD_JSON_MISSING when it names nothing (not an
/// error: the last error is then ICD_OK). ICD_ERR_INVALID_ARGUMENT (and ICD_JSON_MISSING) for
/// a NULL doc or pointer or a malformed pointer. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_json_type(doc: *const IcdJson, pointer: *const c_char) -> IcdJsonType {
    boundary(IcdJsonType::ICD_JSON_MISSING, || {
        let (_, value) = find(doc, pointer)?;
        let kind = match value {
            None => IcdJsonType::ICD_JSON_MISSING,
            Some(Value::Null) => IcdJsonType::ICD_JSON_NULL,
            Some(Value::Bool(_)) => IcdJsonType::ICD_JSON_BOOL,
            Some(Value::Number(_)) => IcdJsonType::ICD_JSON_NUMBER,
            Some(Value::String(_)) => IcdJsonType::ICD_JSON_STRING,
            Some(Value::Array(_)) => IcdJsonType::ICD_JSON_ARRAY,
            Some(Value::Object(_)) => IcdJsonType::ICD_JSON_OBJECT,
        };
        Ok((kind, 0))
    })
}
