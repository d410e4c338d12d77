//! The request functions: one call, one answer as a string the caller owns.

use std::ffi::c_char;
use std::ptr;

use super::{boundary, client_arg, params_arg, str_arg, IcdClient};
use crate::error::{Error, ErrorKind, Result};
use crate::icd::params::Param;
use crate::{Client, Reply};

/// Returns a body to C as a string the caller owns (see `copy_to_c`), with its HTTP status.
pub(crate) fn into_c_string(reply: Reply) -> Result<(*mut c_char, u16)> {
    Ok((copy_to_c(&reply.body)?, reply.http_status))
}

/// A malloc'd, NUL-terminated copy of `text`, that icd_free_string hands back to free(). The
/// texts given are validated JSON bodies or option values that came in as C strings, neither
/// of which holds a NUL byte, so no scan for one is needed (CString::new would make one on
/// every call).
pub(crate) fn copy_to_c(text: &str) -> Result<*mut c_char> {
    let bytes = text.as_bytes();
    debug_assert!(!bytes.contains(&0), "a text for C holds a NUL byte");
    // SAFETY: malloc of len + 1 bytes, checked for NULL; we write exactly len + 1 bytes into it.
    unsafe {
        let copy = libc::malloc(bytes.len() + 1).cast::<u8>();
        if copy.is_null() {
            return Err(Error::new(ErrorKind::Internal, format!("out of memory for a {} byte text", bytes.len())));
        }
        ptr::copy_nonoverlapping(bytes.as_ptr(), copy, bytes.len());
        *copy.add(bytes.len()) = 0;
        Ok(copy.cast())
    }
}

/// Runs one request function: checks the client and argument, calls the core, returns its body.
pub(crate) unsafe fn request(
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

/// Runs one request function that takes query parameters too.
pub(crate) unsafe fn request_with(
    client: *mut IcdClient,
    argument: *const c_char,
    argument_name: &str,
    params: *const *const c_char,
    call: impl FnOnce(&Client, &str, &[Param<'_>]) -> Result<Reply>,
) -> *mut c_char {
    boundary(ptr::null_mut(), || {
        let client = client_arg(client)?;
        let argument = str_arg(argument, argument_name)?;
        into_c_string(call(client, argument, &params_arg(params)?)?)
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
/// allows. A 401 drops the token and retries once with a new one. A 2xx body with "error": true
/// (a search the API could not run) is returned as it came, and never cached.
///
/// Returns a NUL-terminated UTF-8 JSON document that the caller owns and frees with
/// icd_free_string, or NULL with the last error set: ICD_ERR_INVALID_ARGUMENT, ICD_ERR_AUTH,
/// ICD_ERR_HTTP (icd_last_http_status tells the status), ICD_ERR_NETWORK, ICD_ERR_TIMEOUT,
/// ICD_ERR_PARSE (a 2xx body that is not JSON, or nested more than 127 levels deep, as
/// icd_json_parse refuses it), ICD_ERR_INTERNAL. Thread-safe.
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

/// icd_get with query parameters: `params` is NULL, or name, value, name, value, ..., NULL — an
/// array of C strings ended by a NULL name, borrowed for the call only. Each name and value is
/// percent-encoded (every byte outside RFC 3986's unreserved set A-Z a-z 0-9 - . _ ~ becomes
/// %XX, upper-case hex; an empty value is sent as "name=") and appended in order to the query
/// that `path_or_uri` may already hold. Names are not checked against a list: every parameter
/// of the API can be passed (releaseId, include, ...).
///
/// A name without a value (the NULL comes where a value should be), an empty name or invalid
/// UTF-8 is ICD_ERR_INVALID_ARGUMENT, and nothing is sent. The response cache keys on the full
/// URL, so other parameters are another entry. Like icd_get, the body is returned as it came,
/// even one with "error": true (never cached). Returns as icd_get does (a body the caller frees
/// with icd_free_string, or NULL and the last error); thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_get_with(
    client: *mut IcdClient,
    path_or_uri: *const c_char,
    params: *const *const c_char,
) -> *mut c_char {
    request_with(client, path_or_uri, "path_or_uri", params, Client::get_with)
}

/// Searches the configured release and linearization:
/// GET /icd/release/11/{release}/{linearization}/search?q={query}, `query` percent-encoded
/// (a trailing '%' asks the API for a wildcard match). The API answers 200 even for a search it
/// could not run, with "error": true in the body: that is ICD_ERR_API, with a message quoting
/// its errorMessage and icd_last_http_status the 2xx status (such a body is never cached).
/// Returns a body the caller frees with icd_free_string, or NULL and the last error as icd_get
/// does; ICD_ERR_INVALID_ARGUMENT for a NULL or empty query. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_search(client: *mut IcdClient, query: *const c_char) -> *mut c_char {
    request(client, query, "query", Client::search)
}

/// icd_search with more query parameters, appended after q: e.g.
/// {"highlightingEnabled", "false", "flatResults", "true", "chapterFilter", "01;02", NULL}.
/// `params` as for icd_get_with (NULL, or pairs ended by a NULL name; encoded by the library;
/// a missing value, an empty name or invalid UTF-8 is ICD_ERR_INVALID_ARGUMENT before anything
/// is sent). Everything else as icd_search, ICD_ERR_API included. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_search_with(
    client: *mut IcdClient,
    query: *const c_char,
    params: *const *const c_char,
) -> *mut c_char {
    request_with(client, query, "query", params, Client::search_with)
}

/// Code information: GET /icd/release/11/{release}/{linearization}/codeinfo/{code}, `code`
/// percent-encoded, so postcoordinated codes with '&' and '/' arrive intact. Returns as icd_get
/// does (a body the caller frees with icd_free_string, or NULL and the last error; thread-safe):
/// ICD_ERR_HTTP with status 404 for an unknown code — or for a release the API does not serve,
/// which the message then says (see the option release of icd_client_set_option).
#[no_mangle]
pub unsafe extern "C" fn icd_codeinfo(client: *mut IcdClient, code: *const c_char) -> *mut c_char {
    request(client, code, "code", Client::codeinfo)
}

/// icd_codeinfo with query parameters after the code (flexiblemode, convertToTerminalCodes,
/// ...). `params` as for icd_get_with. Everything else as icd_codeinfo. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_codeinfo_with(
    client: *mut IcdClient,
    code: *const c_char,
    params: *const *const c_char,
) -> *mut c_char {
    request_with(client, code, "code", params, Client::codeinfo_with)
}

/// Automatic coding of a diagnostic text:
/// GET /icd/release/11/{release}/{linearization}/autocode?searchText={text}, `text`
/// percent-encoded. A 2xx answer with "error": true is ICD_ERR_API (as for icd_search). Returns
/// a body the caller frees with icd_free_string, or NULL and the last error as icd_get does;
/// ICD_ERR_INVALID_ARGUMENT for a NULL or empty text. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_autocode(client: *mut IcdClient, text: *const c_char) -> *mut c_char {
    request(client, text, "text", Client::autocode)
}

/// icd_autocode with more query parameters after searchText (matchThreshold, subtreesFilter,
/// ...). `params` as for icd_get_with. Everything else as icd_autocode, ICD_ERR_API included.
/// Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_autocode_with(
    client: *mut IcdClient,
    text: *const c_char,
    params: *const *const c_char,
) -> *mut c_char {
    request_with(client, text, "text", params, Client::autocode_with)
}

/// The linearization entity of a Foundation entity:
/// GET /icd/release/11/{release}/{linearization}/lookup?foundationUri={foundation_uri},
/// percent-encoded. Returns as icd_get does (a body the caller frees with icd_free_string, or NULL and the last error; thread-safe).
#[no_mangle]
pub unsafe extern "C" fn icd_lookup(client: *mut IcdClient, foundation_uri: *const c_char) -> *mut c_char {
    request(client, foundation_uri, "foundation_uri", Client::lookup)
}

/// The linearization entity of a code, in the client's language and release, in one call:
/// the code info (as icd_codeinfo), then its "stemId" URI followed (rewritten to api_base like
/// any @id). A postcoordinated code ("1A00&XN6Y3") gives the entity of its stem. Returns the
/// entity's JSON, which the caller frees with icd_free_string, or NULL and the last error:
/// ICD_ERR_HTTP with status 404 for an unknown code, ICD_ERR_PARSE when the code info has no
/// stemId, ICD_ERR_INVALID_ARGUMENT for a NULL or empty code, and otherwise as icd_get.
/// Makes up to two requests (both cached like any GET). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_entity_by_code(client: *mut IcdClient, code: *const c_char) -> *mut c_char {
    request(client, code, "code", Client::entity_by_code)
}

/// ICD-10: GET /icd/release/10/{icd10_release}/{code} — a category ("A00.0"), a block
/// ("A00-A09") or a chapter ("I"); `code` percent-encoded. The release is the option
/// icd10_release (default "2019"; also 2016, 2010, 2008). The API serves ICD-10 in English and
/// French only. Returns a body the caller frees with icd_free_string, or NULL and the last
/// error as icd_get does: ICD_ERR_HTTP 404 for an unknown code or release,
/// ICD_ERR_INVALID_ARGUMENT for a NULL or empty code. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_icd10(client: *mut IcdClient, code: *const c_char) -> *mut c_char {
    request(client, code, "code", Client::icd10)
}
