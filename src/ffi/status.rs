//! Outcomes: the status codes, the thread's last error, freeing strings, the version.

use std::ffi::{c_char, c_int};

use super::last_error;
use crate::error::ErrorKind;

/// Outcome of a call, also kept per thread (icd_last_error_code).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcdStatus {
    /// Success.
    ICD_OK = 0,
    /// NULL where a value is needed, invalid UTF-8, an unknown option, a bad option value, or a
    /// URI outside the configured API.
    ICD_ERR_INVALID_ARGUMENT = 1,
    /// The token endpoint refused the credentials, or the API still answers 401 with a freshly
    /// issued token.
    ICD_ERR_AUTH = 2,
    /// The API answered a non-2xx status (see icd_last_http_status).
    ICD_ERR_HTTP = 3,
    /// DNS, connect, TLS, a reset or cut connection, a body over max_response_bytes.
    ICD_ERR_NETWORK = 4,
    /// The call's deadline (option timeout_ms, retries included) passed.
    ICD_ERR_TIMEOUT = 5,
    /// A 2xx body that is not JSON, or a malformed token response.
    ICD_ERR_PARSE = 6,
    /// A bug: a caught panic or a broken invariant. Please report it.
    ICD_ERR_INTERNAL = 7,
    /// The API answered 2xx but said in the body that it could not do the job (a search or
    /// autocode with "error": true): the message quotes its errorMessage, and
    /// icd_last_http_status is the 2xx status. Only the search and autocode functions report
    /// it; icd_get, icd_get_with and icd_get_many return such a body as it came.
    ICD_ERR_API = 8,
    /// The call was cancelled (icd_cancel, or its client freed) before it finished: only the
    /// callbacks of calls started with icd_start get it.
    ICD_ERR_CANCELLED = 9,
}

impl From<ErrorKind> for IcdStatus {
    fn from(kind: ErrorKind) -> IcdStatus {
        match kind {
            ErrorKind::InvalidArgument => IcdStatus::ICD_ERR_INVALID_ARGUMENT,
            ErrorKind::Auth => IcdStatus::ICD_ERR_AUTH,
            ErrorKind::Http => IcdStatus::ICD_ERR_HTTP,
            ErrorKind::Network => IcdStatus::ICD_ERR_NETWORK,
            ErrorKind::Timeout => IcdStatus::ICD_ERR_TIMEOUT,
            ErrorKind::Parse => IcdStatus::ICD_ERR_PARSE,
            ErrorKind::Internal => IcdStatus::ICD_ERR_INTERNAL,
            ErrorKind::Api => IcdStatus::ICD_ERR_API,
            ErrorKind::Cancelled => IcdStatus::ICD_ERR_CANCELLED,
        }
    }
}

/// Frees a string returned by this library. NULL is a no-op. Leaves the last error untouched.
#[no_mangle]
pub unsafe extern "C" fn icd_free_string(s: *mut c_char) {
    // free(NULL) is a no-op too.
    libc::free(s.cast());
}

/// The status of this thread's last call that can fail: like errno, set on failure and cleared
/// (ICD_OK) on success. icd_free_string, icd_client_free, icd_version and the three
/// icd_last_* functions leave it untouched. Read it straight after the failing call, on the
/// same thread.
#[no_mangle]
pub extern "C" fn icd_last_error_code() -> IcdStatus {
    last_error::code()
}

/// A message for this thread's last error, meant for people: what failed and why. Never NULL;
/// "" after a success. Owned by the library and valid until the next icd_ call on this thread
/// (copy it to keep it). Never holds the client secret or a token.
#[no_mangle]
pub extern "C" fn icd_last_error_message() -> *const c_char {
    last_error::message()
}

/// The HTTP status of this thread's last call (200 after a success, e.g. 404 after
/// ICD_ERR_HTTP); 0 if that call got no HTTP answer.
#[no_mangle]
pub extern "C" fn icd_last_http_status() -> c_int {
    last_error::http_status()
}

/// The library's version, e.g. "0.3.0": a static string, never freed. Equal to
/// ICDAPI_VERSION in the header the program was compiled with, unless it was linked against
/// another build.
#[no_mangle]
pub extern "C" fn icd_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
