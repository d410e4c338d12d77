//! The request functions: one call, one answer as a string the caller owns.

use std::ffi::c_char;
use std::ptr;

use super::{boundary, client_arg, str_arg, IcdClient};
use crate::error::{Error, ErrorKind, Result};
use crate::{Client, Reply};

/// Returns a body to C as a string the caller owns: a malloc'd copy, NUL-terminated, that
/// icd_free_string hands back to free(). Bodies are validated JSON, which holds no raw NUL byte,
/// so no scan for one is needed (CString::new would make one on every call).
pub(crate) fn into_c_string(reply: Reply) -> Result<(*mut c_char, u16)> {
    let bytes = reply.body.as_bytes();
    // SAFETY: malloc of len + 1 bytes, checked for NULL; we write exactly len + 1 bytes into it.
    unsafe {
        let copy = libc::malloc(bytes.len() + 1).cast::<u8>();
        if copy.is_null() {
            return Err(Error::new(ErrorKind::Internal, format!("out of memory for a {} byte body", bytes.len())));
        }
        ptr::copy_nonoverlapping(bytes.as_ptr(), copy, bytes.len());
        *copy.add(bytes.len()) = 0;
        Ok((copy.cast(), reply.http_status))
    }
}

/// Runs one request function: checks the client and argument, calls the core, returns its body.
unsafe fn request(
    client: *mut IcdClient,
    argument: *const c_char,
    argument_name: &str,
    call: impl FnOnce(&Client, &str) -> Result<Reply>,
) -> *mut c_char {
    boundary(ptr::null_mut(), || {
        let client = client_arg(client)?;
        into_c_string(call(client, str_arg(argument, argument_name)?)?)
    })
}

/// GET a path or URI and return the response body.
///
/// `path_or_uri`: a path starting with '/' (with or without a query string), resolved against
/// api_base, e.g. "/icd/release/11/2026-01/mms/257068234"; an absolute URI on id.who.int (the
/// "@id" values of the JSON-LD answers, "http://id.who.int/..."), rewritten to api_base; or an
/// absolute URI under api_base. Any other host is refused with ICD_ERR_INVALID_ARGUMENT: the
/// token goes nowhere else. Spaces and non-ASCII characters are percent-encoded; valid %XX
/// escapes are kept.
///
/// Every request carries Authorization (cloud), Accept: application/json, Accept-Language,
/// API-Version and User-Agent. Successful GET answers are cached as long as their Cache-Control
/// allows. A 401 drops the token and retries once with a new one.
///
/// Returns a NUL-terminated UTF-8 JSON document that the caller owns and frees with
/// icd_free_string, or NULL with the last error set: ICD_ERR_INVALID_ARGUMENT, ICD_ERR_AUTH,
/// ICD_ERR_HTTP (icd_last_http_status tells the status), ICD_ERR_NETWORK, ICD_ERR_TIMEOUT,
/// ICD_ERR_PARSE (a 2xx body that is not JSON), ICD_ERR_INTERNAL. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_get(client: *mut IcdClient, path_or_uri: *const c_char) -> *mut c_char {
    request(client, path_or_uri, "path_or_uri", Client::get)
}

/// POST a JSON body (`json_body`, which must be valid JSON) to a path or URI, resolved as for
/// icd_get: e.g. a death certificate to /icd/release/11/{release}/codedit or .../doris. (A search
/// by POST takes its parameters in the query, as the API's OpenAPI file says; its body is
/// ignored.) Answers of POST are never cached. Returns as icd_get does (a body the caller frees with icd_free_string, or NULL and the last error; thread-safe); ICD_ERR_INVALID_ARGUMENT
/// also when json_body is NULL or not JSON.
#[no_mangle]
pub unsafe extern "C" fn icd_post(
    client: *mut IcdClient,
    path_or_uri: *const c_char,
    json_body: *const c_char,
) -> *mut c_char {
    boundary(ptr::null_mut(), || {
        let client = client_arg(client)?;
        let path_or_uri = str_arg(path_or_uri, "path_or_uri")?;
        into_c_string(client.post(path_or_uri, str_arg(json_body, "json_body")?)?)
    })
}

/// Searches the configured release and linearization:
/// GET /icd/release/11/{release}/{linearization}/search?q={query}, `query` percent-encoded
/// (a trailing '%' asks the API for a wildcard match). Note that the API answers 200 even for a
/// search it could not run: check "error" and "errorMessage" in the JSON. Returns as icd_get
/// does (a body the caller frees with icd_free_string, or NULL and the last error; thread-safe);
/// ICD_ERR_INVALID_ARGUMENT for a NULL or empty query.
#[no_mangle]
pub unsafe extern "C" fn icd_search(client: *mut IcdClient, query: *const c_char) -> *mut c_char {
    request(client, query, "query", Client::search)
}

/// Code information: GET /icd/release/11/{release}/{linearization}/codeinfo/{code}, `code`
/// percent-encoded, so postcoordinated codes with '&' and '/' arrive intact. Returns as icd_get
/// does (a body the caller frees with icd_free_string, or NULL and the last error; thread-safe):
/// ICD_ERR_HTTP with status 404 for an unknown code.
#[no_mangle]
pub unsafe extern "C" fn icd_codeinfo(client: *mut IcdClient, code: *const c_char) -> *mut c_char {
    request(client, code, "code", Client::codeinfo)
}

/// Automatic coding of a diagnostic text:
/// GET /icd/release/11/{release}/{linearization}/autocode?searchText={text}, `text`
/// percent-encoded. Returns as icd_get does (a body the caller frees with icd_free_string, or NULL and the last error; thread-safe).
#[no_mangle]
pub unsafe extern "C" fn icd_autocode(client: *mut IcdClient, text: *const c_char) -> *mut c_char {
    request(client, text, "text", Client::autocode)
}

/// The linearization entity of a Foundation entity:
/// GET /icd/release/11/{release}/{linearization}/lookup?foundationUri={foundation_uri},
/// percent-encoded. Returns as icd_get does (a body the caller frees with icd_free_string, or NULL and the last error; thread-safe).
#[no_mangle]
pub unsafe extern "C" fn icd_lookup(client: *mut IcdClient, foundation_uri: *const c_char) -> *mut c_char {
    request(client, foundation_uri, "foundation_uri", Client::lookup)
}
