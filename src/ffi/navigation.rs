//! Navigation and maps: describe, the release list, the hierarchy with titles, and WHO's
//! ICD-10 ↔ ICD-11 mapping tables.

use std::ffi::c_char;
use std::ptr;

use super::requests::{into_c_string, request, request_with};
use super::{boundary, client_arg, IcdClient};
use crate::Client;

/// What the API knows of a code, a URI, or a postcoordinated combination of them:
/// GET /icd/release/11/{release}/{linearization}/describe?code={code_or_uri}, or ?uri= when
/// `code_or_uri` starts with http:// or https:// (Foundation or linearization URIs, as the API
/// names them: they are sent as they are, not rewritten). `params` as for icd_get_with, appended
/// after code/uri (simplify, flexiblemode, convertToTerminalCodes). The answer as the API gives
/// it (code, linearizationUri, foundationUri, label, stemCode, postcoordinationValues, ...).
/// Returns a body the caller frees with icd_free_string, or NULL and the last error as
/// icd_codeinfo does (ICD_ERR_HTTP 404 for an unknown code; ICD_ERR_INVALID_ARGUMENT for a NULL
/// or empty argument or a malformed params array). Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_describe(
    client: *mut IcdClient,
    code_or_uri: *const c_char,
    params: *const *const c_char,
) -> *mut c_char {
    request_with(client, code_or_uri, "code_or_uri", params, Client::describe_with)
}

/// The releases the API serves for the client's linearization: GET
/// /icd/release/11/{linearization}, as the API answers it ("release": the release URIs,
/// "latestRelease": the newest). Returns a body the caller frees with icd_free_string, or NULL
/// and the last error as icd_get does. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_releases(client: *mut IcdClient) -> *mut c_char {
    boundary(ptr::null_mut(), || into_c_string(client_arg(client)?.releases()?))
}

/// The parents of an entity, with their titles, in one call. `code_or_uri`: a code ("1A00", or
/// a postcoordinated "1A00&XN8P1", which stands for its stem), an entity URI ("http://id.who.int/
/// icd/release/11/2026-01/mms/257068234") or a path, as icd_get takes it. Returns a JSON array
/// the library builds, one object per parent:
///   {"uri": "http://id.who.int/...", "code": "1A0" or "", "title": "...", "classKind": "block"}
/// with titles in the client's language. The top of the classification (the parent of a
/// chapter) is not an entity and is not listed: a chapter has no parents. The parents' details
/// are fetched concurrently, as icd_get_many does, and cached like any answer.
/// Returns the array, which the caller frees with icd_free_string, or NULL and the last error:
/// ICD_ERR_HTTP 404 for an unknown code or URI; otherwise as icd_get. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_parents(client: *mut IcdClient, code_or_uri: *const c_char) -> *mut c_char {
    request(client, code_or_uri, "code_or_uri", Client::parents)
}

/// The children of an entity, in the API's order, with their titles: the same objects and
/// arguments as icd_parents; "[]" for an entity without children. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_children(client: *mut IcdClient, code_or_uri: *const c_char) -> *mut c_char {
    request(client, code_or_uri, "code_or_uri", Client::children)
}

/// The ancestors of an entity: its parents, their parents, and so on up to the chapter —
/// nearest first, each once (an ICD-11 entity may have several parents; an ancestor reached by
/// two paths is listed at the nearer). The same objects and arguments as icd_parents; "[]" for
/// a chapter. One concurrent batch of requests per level, cached like any answer. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_ancestors(client: *mut IcdClient, code_or_uri: *const c_char) -> *mut c_char {
    request(client, code_or_uri, "code_or_uri", Client::ancestors)
}

/// ICD-10 → ICD-11 through WHO's mapping tables (no network): the option mapping_tables names
/// WHO's mapping.zip of a release (https://icdcdn.who.int/static/releasefiles/{release}/
/// mapping.zip) or the directory it was unpacked into; each table is read once per path and
/// process, on first use. Returns a JSON array, one object per row of 10To11MapToOneCategory.txt
/// ("table": "one") and then of 10To11MapToMultipleCategories.txt ("table": "multiple") that
/// maps `icd10_code`, with the row's fields under the table's header names, plus "icd11Uri" (the
/// linearization URI) and "foundationUri":
///   {"table": "one", "icd10Code": "A00.0", "icd10Title": "...", "icd11Code": "1A00",
///    "icd11Title": "Cholera", ..., "icd11Uri": "http://id.who.int/icd/release/11/...",
///    "foundationUri": "http://id.who.int/icd/entity/..."}
/// and "[]" for a code the tables do not hold. Codes match as written in the tables, ignoring
/// case and surrounding blanks. Errors: ICD_ERR_INVALID_ARGUMENT when mapping_tables is not set
/// (the message says where WHO publishes the file) or the code is NULL or empty; ICD_ERR_PARSE
/// when the zip or directory cannot be read, lacks a table, or a table lacks a column (the
/// message names the file and the column). The caller frees the array with icd_free_string.
/// Thread-safe; icd_last_http_status is 0 (no request is made).
#[no_mangle]
pub unsafe extern "C" fn icd_map_icd10_to_icd11(client: *mut IcdClient, icd10_code: *const c_char) -> *mut c_char {
    request(client, icd10_code, "icd10_code", Client::map_icd10_to_icd11)
}

/// ICD-11 → ICD-10 through WHO's 11To10MapToOneCategory.txt: one object per row that maps
/// `icd11_code` ("table": "one", the row's fields under its header names, "icd11Uri"), "[]" for
/// a code the table does not hold. Everything else as icd_map_icd10_to_icd11. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_map_icd11_to_icd10(client: *mut IcdClient, icd11_code: *const c_char) -> *mut c_char {
    request(client, icd11_code, "icd11_code", Client::map_icd11_to_icd10)
}
