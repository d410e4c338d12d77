//! The C entry points with arbitrary bytes: clients created from any base URL or credentials,
//! every option set to any value (and any option name) and read back, every request function
//! (query parameters of the `_with` calls included) and batches with any argument, on clients
//! whose API is a closed port on loopback.
//!
//! Proves: nothing panics or crashes (ASan) across the C boundary and no call returns
//! ICD_ERR_INTERNAL; an option is accepted or refused with ICD_ERR_INVALID_ARGUMENT and a
//! message; a request fails with a clear argument error or with the network error of the
//! configured loopback API (never another host); every failure has a UTF-8 message, none shows
//! the secret; every string the library returns can be freed.
#![no_main]

mod common;

use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use icdapi::ffi::*;
use libfuzzer_sys::fuzz_target;

/// The input: NUL-separated fields (C strings hold no NUL, so no byte a caller could pass is
/// lost), read as calls — a call's name, then its arguments:
/// ```text
/// local <base> | cloud <client id> | cloud2 <client id> <secret>   (first field only; else a
///                                                                   local client on the port)
/// set <name> <value>   get_option <name>   get <path>   search <q>   codeinfo <code>
/// autocode <text>   lookup <uri>   entity_by_code <code>   icd10 <code>   post <path> <body>
/// get_with <path> <count> <name> <value>...   (and search_with, codeinfo_with, autocode_with)
/// many <count> <item>...   nulls
/// describe <code or uri> <count> <name> <value>...   releases   parents <code or uri>
/// children <code or uri>   ancestors <code or uri>   map10 <code>   map11 <code>
/// start <call number: one byte, signed> <arg, "NULL" for none> <count> <name> <value>...
///   (icd_start; calls of even numbers are cancelled at once; all must call back once before
///   icd_client_free returns)
/// ```
/// In `many` and the parameters of `*_with`, an item "NULL" is a NULL pointer. Unknown names
/// are skipped.
struct Fields<'a>(std::slice::Split<'a, u8, fn(&u8) -> bool>);

impl<'a> Fields<'a> {
    fn new(data: &'a [u8]) -> Fields<'a> {
        Fields(data.split(|&b| b == 0))
    }

    fn next(&mut self) -> Option<&'a [u8]> {
        self.0.next()
    }

    /// `<count> <item>...`: at most 8 items, "NULL" standing for a NULL pointer.
    fn list(&mut self) -> Vec<Option<CString>> {
        let count = std::str::from_utf8(self.next().unwrap_or_default()).ok().and_then(|c| c.parse().ok());
        (0..count.unwrap_or(0).min(8)).map(|_| Some(self.string()).filter(|item| item.as_bytes() != b"NULL")).collect()
    }

    /// The next field as a C string ("" when the input has ended).
    fn string(&mut self) -> CString {
        CString::new(self.0.next().unwrap_or_default()).expect("fields hold no NUL")
    }
}

/// The `params` array of the icd_*_with functions: `<count> <name> <value> ...` fields, an item
/// "NULL" a NULL pointer (which ends the array early, or leaves a name without its value).
struct Params {
    _strings: Vec<Option<CString>>,
    pointers: Vec<*const c_char>,
}

fn params(fields: &mut Fields) -> Params {
    let strings = fields.list();
    let mut pointers: Vec<*const c_char> =
        strings.iter().map(|s| s.as_ref().map_or(ptr::null(), |s| s.as_ptr())).collect();
    pointers.push(ptr::null());
    Params { _strings: strings, pointers }
}

/// A batch's result: every item NULL with a request error, the last error set.
unsafe fn check_batch(client: *mut IcdClient, items: &[Option<CString>]) {
    let pointers: Vec<*const c_char> = items.iter().map(|i| i.as_ref().map_or(ptr::null(), |s| s.as_ptr())).collect();
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
                IcdStatus::ICD_ERR_INVALID_ARGUMENT | IcdStatus::ICD_ERR_NETWORK | IcdStatus::ICD_ERR_TIMEOUT
            ),
            "item {i}: {:?}",
            statuses[i]
        );
        assert_eq!(http[i], 0, "item {i}");
    }
}

/// Every function with NULL where a pointer is expected: ICD_ERR_INVALID_ARGUMENT, no crash.
unsafe fn check_nulls(client: *mut IcdClient) {
    let text = c"x".as_ptr();
    check_request(icd_get(ptr::null_mut(), text));
    check_request(icd_get(client, ptr::null()));
    check_request(icd_post(client, text, ptr::null()));
    check_request(icd_describe(client, ptr::null(), ptr::null()));
    check_request(icd_releases(ptr::null_mut()));
    check_request(icd_ancestors(client, ptr::null()));
    check_map(icd_map_icd10_to_icd11(client, ptr::null()));
    assert_eq!(icd_client_set_option(client, ptr::null(), text), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    assert_eq!(icd_client_set_option(client, text, ptr::null()), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    let mut body = ptr::null_mut();
    assert_eq!(icd_get_many(client, ptr::null(), 1, &mut body, ptr::null_mut()), 0);
    assert_eq!(last_error().0, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    free(ptr::null_mut());
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

/// A map's result: no request is made, so either a JSON array of rows (tables the input wrote
/// into the scratch directory) or a clear error: no option, a bad code, tables that cannot be read.
unsafe fn check_map(body: *mut c_char) {
    let (code, message) = last_error();
    if body.is_null() {
        assert!(
            matches!(code, IcdStatus::ICD_ERR_INVALID_ARGUMENT | IcdStatus::ICD_ERR_PARSE),
            "{code:?}: {message}"
        );
        return;
    }
    assert_eq!(code, IcdStatus::ICD_OK, "{message}");
    let text = std::ffi::CStr::from_ptr(body).to_str().expect("rows are UTF-8");
    assert!(serde_json::from_str::<Vec<serde_json::Value>>(text).is_ok(), "not a JSON array: {text}");
    free(body);
}

/// The client the first field asks for, or a local one on the closed port.
unsafe fn new_client(fields: &mut Fields) -> *mut IcdClient {
    let mut peek = Fields(fields.0.clone());
    let client = match peek.next() {
        Some(b"local") => icd_client_new_local(peek.string().as_ptr()),
        Some(b"cloud") => icd_client_new(peek.string().as_ptr(), CString::new(SECRET).unwrap().as_ptr()),
        Some(b"cloud2") => icd_client_new(peek.string().as_ptr(), peek.string().as_ptr()),
        _ => return icd_client_new_local(CString::new(CLOSED_PORT).unwrap().as_ptr()),
    };
    *fields = peek;
    if client.is_null() {
        let (code, message) = last_error();
        assert_eq!(code, IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{message}");
        return icd_client_new_local(CString::new(CLOSED_PORT).unwrap().as_ptr());
    }
    client
}

/// Callbacks of icd_start received: each started call must call back exactly once before
/// icd_client_free returns.
static CALLED_BACK: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn called_back(_: *mut c_void, status: IcdStatus, body: *mut c_char, _: c_int, message: *const c_char) {
    assert_eq!(body.is_null(), status != IcdStatus::ICD_OK);
    assert!(!message.is_null());
    free(body);
    CALLED_BACK.fetch_add(1, Ordering::SeqCst);
}

fuzz_target!(|data: &[u8]| unsafe {
    start_input(data);
    let mut fields = Fields::new(data);
    let client = new_client(&mut fields);
    assert!(!client.is_null());
    sandbox(client, CLOSED_PORT);
    let mut touched_disk = false;
    let mut calls = 0;
    let mut started = 0;
    CALLED_BACK.store(0, Ordering::SeqCst);
    while let Some(call) = fields.next() {
        calls += 1;
        if calls > 32 {
            break;
        }
        match call {
            b"set" => {
                let name = fields.string();
                let value = confine(name.as_bytes(), fields.next().unwrap_or_default());
                touched_disk |= value.as_bytes().starts_with(scratch_dir().as_os_str().as_encoded_bytes());
                let status = icd_client_set_option(client, name.as_ptr(), value.as_ptr());
                let (code, message) = last_error();
                assert_eq!(status, code);
                assert!(
                    matches!(status, IcdStatus::ICD_OK | IcdStatus::ICD_ERR_INVALID_ARGUMENT),
                    "{status:?}: {message}"
                );
                sandbox(client, CLOSED_PORT);
            }
            b"get" => check_request(icd_get(client, fields.string().as_ptr())),
            b"search" => check_request(icd_search(client, fields.string().as_ptr())),
            b"codeinfo" => check_request(icd_codeinfo(client, fields.string().as_ptr())),
            b"autocode" => check_request(icd_autocode(client, fields.string().as_ptr())),
            b"lookup" => check_request(icd_lookup(client, fields.string().as_ptr())),
            b"post" => check_request(icd_post(client, fields.string().as_ptr(), fields.string().as_ptr())),
            b"many" => {
                let items = fields.list();
                check_batch(client, &items);
            }
            b"get_with" => {
                let (path, params) = (fields.string(), params(&mut fields));
                check_request(icd_get_with(client, path.as_ptr(), params.pointers.as_ptr()));
            }
            b"search_with" => {
                let (query, params) = (fields.string(), params(&mut fields));
                check_request(icd_search_with(client, query.as_ptr(), params.pointers.as_ptr()));
            }
            b"codeinfo_with" => {
                let (code, params) = (fields.string(), params(&mut fields));
                check_request(icd_codeinfo_with(client, code.as_ptr(), params.pointers.as_ptr()));
            }
            b"autocode_with" => {
                let (text, params) = (fields.string(), params(&mut fields));
                check_request(icd_autocode_with(client, text.as_ptr(), params.pointers.as_ptr()));
            }
            b"entity_by_code" => check_request(icd_entity_by_code(client, fields.string().as_ptr())),
            b"icd10" => check_request(icd_icd10(client, fields.string().as_ptr())),
            b"doris" | b"codedit" => {
                let certificate = params(&mut fields);
                let request = if call == b"doris" { icd_doris } else { icd_codedit };
                check_request(request(client, certificate.pointers.as_ptr()));
                let status = icd_certificate_check(certificate.pointers.as_ptr());
                assert!(matches!(status, IcdStatus::ICD_OK | IcdStatus::ICD_ERR_INVALID_ARGUMENT), "{status:?}");
            }
            b"describe" => {
                let (code, params) = (fields.string(), params(&mut fields));
                check_request(icd_describe(client, code.as_ptr(), params.pointers.as_ptr()));
            }
            b"releases" => check_request(icd_releases(client)),
            b"parents" => check_request(icd_parents(client, fields.string().as_ptr())),
            b"children" => check_request(icd_children(client, fields.string().as_ptr())),
            b"ancestors" => check_request(icd_ancestors(client, fields.string().as_ptr())),
            b"map10" => check_map(icd_map_icd10_to_icd11(client, fields.string().as_ptr())),
            b"map11" => check_map(icd_map_icd11_to_icd10(client, fields.string().as_ptr())),
            b"get_option" => {
                let value = icd_client_get_option(client, fields.string().as_ptr());
                let (code, message) = last_error();
                if value.is_null() {
                    assert_eq!(code, IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{message}");
                } else {
                    assert_eq!(code, IcdStatus::ICD_OK, "{message}");
                    let text = std::ffi::CStr::from_ptr(value).to_str().expect("an option reads as UTF-8");
                    assert!(!leaks_secret(text), "the secret read back as an option");
                    free(value);
                }
            }
            b"nulls" => check_nulls(client),
            b"start" => {
                // Any call number (an unknown one must be refused, not undefined), arg, params.
                let number = fields.next().and_then(|f| f.first().copied()).unwrap_or(0) as i8 as c_int;
                let (arg, params) = (fields.string(), params(&mut fields));
                let arg_ptr = if arg.as_bytes() == b"NULL" { ptr::null() } else { arg.as_ptr() };
                let call = std::mem::transmute::<c_int, IcdCallNumber>(number);
                let id = icd_start(client, call, arg_ptr, params.pointers.as_ptr(), Some(called_back), ptr::null_mut());
                let (code, message) = last_error();
                if id == 0 {
                    assert!(matches!(code, IcdStatus::ICD_ERR_INVALID_ARGUMENT | IcdStatus::ICD_ERR_CANCELLED), "{code:?}: {message}");
                } else {
                    assert_eq!(code, IcdStatus::ICD_OK, "{message}");
                    started += 1;
                    if number % 2 == 0 {
                        assert!(icd_cancel(client, id) <= 1);
                    }
                }
            }
            _ => {}
        }
    }
    icd_client_free(client);
    assert_eq!(CALLED_BACK.load(Ordering::SeqCst), started, "every started call called back once, before the free returned");
    if touched_disk {
        clear_scratch_dir();
    }
});
