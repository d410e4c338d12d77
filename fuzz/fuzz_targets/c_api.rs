//! The C entry points with arbitrary bytes: clients created from any base URL or credentials,
//! every option set to any value (and any option name), every request function and batches with
//! any argument, on clients whose API is a closed port on loopback.
//!
//! Proves: nothing panics or crashes (ASan) across the C boundary and no call returns
//! ICD_ERR_INTERNAL; an option is accepted or refused with ICD_ERR_INVALID_ARGUMENT and a
//! message; a request fails with a clear argument error or with the network error of the
//! configured loopback API (never another host); every failure has a UTF-8 message, none shows
//! the secret; every string the library returns can be freed.
#![no_main]

mod common;

use std::ffi::{c_char, CString};
use std::ptr;

use common::*;
use icdapi::ffi::*;
use icdapi::OPTION_NAMES;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Name {
    Known(u8),
    Any(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Call {
    SetOption(Name, Vec<u8>),
    Get(Vec<u8>),
    Search(Vec<u8>),
    Codeinfo(Vec<u8>),
    Autocode(Vec<u8>),
    Lookup(Vec<u8>),
    Post(Vec<u8>, Vec<u8>),
    /// A batch; None is a NULL item.
    GetMany(Vec<Option<Vec<u8>>>),
    /// Every function with NULL arguments.
    Nulls,
}

#[derive(Arbitrary, Debug)]
enum Kind {
    Local(Option<Vec<u8>>),
    /// Fuzzed client id, the fixed secret.
    Cloud(Vec<u8>),
    /// Fuzzed client id and secret.
    AnyCloud(Vec<u8>, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    kind: Kind,
    calls: Vec<Call>,
}

/// A request function's result: NULL with a request error (nothing can succeed on a closed port).
unsafe fn check_request(body: *mut c_char) {
    assert!(body.is_null(), "an answer from a closed port");
    let (code, message) = last_error();
    assert!(
        matches!(code, IcdStatus::ICD_ERR_INVALID_ARGUMENT | IcdStatus::ICD_ERR_NETWORK | IcdStatus::ICD_ERR_TIMEOUT),
        "{code:?}: {message}"
    );
    if code == IcdStatus::ICD_ERR_NETWORK {
        assert!(message.contains("127.0.0.1:9"), "a network error elsewhere than the API: {message}");
    }
}

unsafe fn new_client(kind: &Kind) -> *mut IcdClient {
    let client = match kind {
        Kind::Local(None) => icd_client_new_local(ptr::null()),
        Kind::Local(Some(base)) => icd_client_new_local(c_string(base).as_ptr()),
        Kind::Cloud(id) => icd_client_new(c_string(id).as_ptr(), CString::new(SECRET).unwrap().as_ptr()),
        Kind::AnyCloud(id, secret) => icd_client_new(c_string(id).as_ptr(), c_string(secret).as_ptr()),
    };
    if client.is_null() {
        let (code, message) = last_error();
        assert_eq!(code, IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{message}");
        return icd_client_new_local(CString::new(CLOSED_PORT).unwrap().as_ptr());
    }
    client
}

fuzz_target!(|input: Input| unsafe {
    let client = new_client(&input.kind);
    assert!(!client.is_null());
    sandbox(client, CLOSED_PORT);
    let mut touched_disk = false;
    for call in input.calls.iter().take(16) {
        match call {
            Call::SetOption(name, value) => {
                let name = match name {
                    Name::Known(i) => OPTION_NAMES[usize::from(*i) % OPTION_NAMES.len()].as_bytes().to_vec(),
                    Name::Any(bytes) => bytes.clone(),
                };
                let value = confine(&name, value);
                touched_disk |= value.as_bytes().starts_with(scratch_dir().as_os_str().as_encoded_bytes());
                let status = icd_client_set_option(client, c_string(&name).as_ptr(), value.as_ptr());
                let (code, message) = last_error();
                assert_eq!(status, code);
                assert!(
                    matches!(status, IcdStatus::ICD_OK | IcdStatus::ICD_ERR_INVALID_ARGUMENT),
                    "{status:?}: {message}"
                );
                sandbox(client, CLOSED_PORT);
            }
            Call::Get(path) => check_request(icd_get(client, c_string(path).as_ptr())),
            Call::Search(query) => check_request(icd_search(client, c_string(query).as_ptr())),
            Call::Codeinfo(code) => check_request(icd_codeinfo(client, c_string(code).as_ptr())),
            Call::Autocode(text) => check_request(icd_autocode(client, c_string(text).as_ptr())),
            Call::Lookup(uri) => check_request(icd_lookup(client, c_string(uri).as_ptr())),
            Call::Post(path, body) => check_request(icd_post(client, c_string(path).as_ptr(), c_string(body).as_ptr())),
            Call::GetMany(items) => {
                let items: Vec<Option<CString>> = items.iter().take(8).map(|i| i.as_deref().map(c_string)).collect();
                let pointers: Vec<*const c_char> =
                    items.iter().map(|i| i.as_ref().map_or(ptr::null(), |s| s.as_ptr())).collect();
                let mut bodies = vec![ptr::dangling_mut::<c_char>(); pointers.len()];
                let mut statuses = vec![IcdStatus::ICD_ERR_INTERNAL; pointers.len()];
                let mut http = vec![-1; pointers.len()];
                let succeeded = icd_get_many_detailed(
                    client,
                    pointers.as_ptr(),
                    pointers.len(),
                    bodies.as_mut_ptr(),
                    statuses.as_mut_ptr(),
                    http.as_mut_ptr(),
                );
                let (code, message) = last_error();
                assert_eq!(succeeded, 0, "{message}");
                assert!(pointers.is_empty() || code != IcdStatus::ICD_OK, "a failed batch with no error");
                for i in 0..pointers.len() {
                    assert!(bodies[i].is_null(), "item {i}");
                    assert!(
                        matches!(
                            statuses[i],
                            IcdStatus::ICD_ERR_INVALID_ARGUMENT
                                | IcdStatus::ICD_ERR_NETWORK
                                | IcdStatus::ICD_ERR_TIMEOUT
                        ),
                        "item {i}: {:?}",
                        statuses[i]
                    );
                    assert_eq!(http[i], 0, "item {i}");
                }
            }
            Call::Nulls => {
                let text = c"x".as_ptr();
                check_request(icd_get(ptr::null_mut(), text));
                check_request(icd_get(client, ptr::null()));
                check_request(icd_post(client, text, ptr::null()));
                assert_eq!(icd_client_set_option(client, ptr::null(), text), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
                assert_eq!(icd_client_set_option(client, text, ptr::null()), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
                let mut body = ptr::null_mut();
                assert_eq!(icd_get_many(client, ptr::null(), 1, &mut body, ptr::null_mut()), 0);
                assert_eq!(last_error().0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
                free(ptr::null_mut());
            }
        }
    }
    icd_client_free(client);
    if touched_disk {
        // A fresh scratch directory for the next input: cache directories do not pile up.
        let _ = std::fs::remove_dir_all(scratch_dir());
        let _ = std::fs::create_dir_all(scratch_dir());
    }
});
