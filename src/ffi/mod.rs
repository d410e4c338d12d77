//! The C ABI: a thin skin over [`crate::Client`].
//!
//! Every exported function goes through `boundary`: it catches panics, so none crosses into C,
//! and records the outcome as the thread's last error. The files are split by concern, in the
//! order the header presents them (build.rs lists them for cbindgen, whose doc comments are the
//! header's documentation): clients (`client`), requests (`requests`), batches (`batch`),
//! death certificates (`certificates`),
//! JSON documents (`json`), outcomes (`status`).
//!
//! Safety, for every exported function: each pointer argument is NULL or valid for the call (a
//! NUL-terminated string, or a live client from `icd_client_new*`); strings returned as `char *`
//! go back through `icd_free_string` exactly once. That is C's contract, written once in the
//! header's preamble rather than as a `# Safety` section on each function.
//! The doc comments are written for the C header (cbindgen copies them as they are): C's
//! `array[i]`, bare URLs and `<version>` are text there, not rustdoc links or HTML.
#![allow(unsafe_code)] // the C boundary: every exported function takes raw pointers
#![allow(clippy::missing_safety_doc)]
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls, rustdoc::invalid_html_tags)]

mod batch;
mod calls;
mod certificates;
mod client;
mod json;
mod last_error;
mod navigation;
mod options;
mod requests;
mod status;

pub use batch::*;
pub use calls::*;
pub use certificates::*;
pub use client::*;
pub use json::*;
pub use navigation::*;
pub use options::*;
pub use requests::*;
pub use status::*;

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, ErrorKind, Result};

/// Runs one exported call: on success records "no error" with the HTTP status, on failure the
/// error, and on a panic `ICD_ERR_INTERNAL`; returns `fallback` for the last two.
pub(crate) fn boundary<T>(fallback: T, call: impl FnOnce() -> Result<(T, u16)>) -> T {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(Ok((value, http_status))) => {
            last_error::clear(http_status);
            value
        }
        Ok(Err(error)) => {
            last_error::set(&error);
            fallback
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            last_error::set(&Error::new(
                ErrorKind::Internal,
                format!("internal error (a bug in icdapi {}; please report it): {what}", env!("CARGO_PKG_VERSION")),
            ));
            fallback
        }
    }
}

/// Borrows a C string argument as UTF-8, or says which argument is NULL or not UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str> {
    if ptr.is_null() {
        return Err(Error::invalid_argument(format!("{name} is NULL")));
    }
    CStr::from_ptr(ptr).to_str().map_err(|e| {
        Error::invalid_argument(format!("{name} is not valid UTF-8 (invalid byte at offset {})", e.valid_up_to()))
    })
}

/// Borrows a query-parameter array: NULL (none), or name, value, name, value, ..., NULL — ended
/// by a NULL name. A NULL where a value should be, invalid UTF-8 or an empty name is refused.
///
/// # Safety
/// `params` is NULL or points to an array of C strings ended by a NULL name, as described.
pub(crate) unsafe fn params_arg<'a>(params: *const *const c_char) -> Result<Vec<(&'a str, &'a str)>> {
    let pairs = pairs_arg(params, "params", "parameter")?;
    crate::icd::params::validate(&pairs)?;
    Ok(pairs)
}

/// Borrows an array of name, value, ..., NULL pairs (`array_name` and `item` name it and its
/// entries in messages): NULL is no pair; a NULL where a value should be, or invalid UTF-8, is
/// refused.
///
/// # Safety
/// `array` is NULL or points to an array of C strings ended by a NULL name, as described.
pub(crate) unsafe fn pairs_arg<'a>(
    array: *const *const c_char,
    array_name: &str,
    item: &str,
) -> Result<Vec<(&'a str, &'a str)>> {
    let mut pairs = Vec::new();
    if array.is_null() {
        return Ok(pairs);
    }
    let mut at = array;
    while !(*at).is_null() {
        let index = pairs.len();
        let name = str_arg(*at, &format!("{array_name}: the name of {item} {index}"))?;
        let value = *at.add(1);
        if value.is_null() {
            return Err(Error::invalid_argument(format!(
                "{array_name}: {item} {index} (\"{}\") has no value: a NULL stands where its value should \
                 be (end the array with a NULL name, after the last value); nothing was sent",
                crate::http::url::shorten(name, 60)
            )));
        }
        pairs.push((name, str_arg(value, &format!("{array_name}: the value of {item} {index} (\"{name}\")"))?));
        at = at.add(2);
    }
    Ok(pairs)
}

/// Borrows the client behind a handle, or says it is NULL.
///
/// # Safety
/// `ptr` is NULL or a live handle from `icd_client_new*`.
pub(crate) unsafe fn client_arg<'a>(ptr: *const IcdClient) -> Result<&'a crate::Client> {
    ptr.as_ref().map(|handle| &*handle.inner).ok_or_else(|| Error::invalid_argument("client is NULL"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    #[test]
    fn a_panic_inside_an_exported_function_is_an_internal_error() {
        let client = unsafe { icd_client_new_local(c"http://127.0.0.1:9".as_ptr()) };
        assert!(!client.is_null());
        let name = CString::new("__panic_for_tests").unwrap();
        let status = unsafe { icd_client_set_option(client, name.as_ptr(), c"1".as_ptr()) };
        assert_eq!(status, IcdStatus::ICD_ERR_INTERNAL);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INTERNAL);
        let message = unsafe { CStr::from_ptr(icd_last_error_message()) }.to_str().unwrap();
        assert!(message.contains("forced by a test") && message.contains("bug"), "{message}");
        // The process and the client live on.
        let status = unsafe { icd_client_set_option(client, c"language".as_ptr(), c"fr".as_ptr()) };
        assert_eq!(status, IcdStatus::ICD_OK);
        unsafe { icd_client_free(client) };
    }
}
