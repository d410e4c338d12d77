//! The exported C functions and types. cbindgen reads this file to write `include/icdapi.h`, so
//! the doc comments here are the header's documentation.
//!
//! Safety, for every function here: each pointer argument is NULL or valid for the call (a
//! NUL-terminated string, or a live client from `icd_client_new*`); strings returned as `char *`
//! go back through `icd_free_string` exactly once. That is C's contract, written once in the
//! header's preamble rather than as a `# Safety` section on each function.
#![allow(clippy::missing_safety_doc)]
// The doc comments are written for the C header (cbindgen copies them as they are): C's
// `array[i]`, bare URLs and `<version>` are text there, not rustdoc links or HTML.
#![allow(rustdoc::broken_intra_doc_links, rustdoc::bare_urls, rustdoc::invalid_html_tags)]

use std::ffi::{c_char, c_int};
use std::ptr;

use super::{boundary, client_arg, last_error, str_arg};
use crate::error::{Error, ErrorKind, Result};
use crate::{Client, Reply};

/// A client of the ICD API. Opaque.
///
/// Thread-safety: one client may be used by any number of threads at once, for requests and for
/// icd_client_set_option alike; it shares one token, one connection pool and one response cache
/// among them. Only icd_client_free must not run while another thread still uses the client.
pub struct IcdClient {
    pub(crate) inner: Client,
}

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
        }
    }
}

fn new_handle(client: Result<Client>) -> Result<(*mut IcdClient, u16)> {
    Ok((Box::into_raw(Box::new(IcdClient { inner: client? })), 0))
}

/// Returns a body to C as a string the caller owns: a malloc'd copy, NUL-terminated, that
/// icd_free_string hands back to free(). Bodies are validated JSON, which holds no raw NUL byte,
/// so no scan for one is needed (CString::new would make one on every call).
fn into_c_string(reply: Reply) -> Result<(*mut c_char, u16)> {
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

/// Creates a client for the WHO cloud API (OAuth2 client credentials, from
/// https://icd.who.int/icdapi). Does no network I/O: the token is fetched on the first request.
///
/// `client_id` and `client_secret`: UTF-8, both given, or both NULL to read the environment
/// variables ICD_CLIENT_ID and ICD_CLIENT_SECRET. The library copies them; the secret is kept in
/// memory that is wiped when the client is freed, and is never logged or put in a message.
/// The environment variables ICD_API_BASE and ICD_TOKEN_ENDPOINT, when set, replace the default
/// api_base and token_endpoint; http:// is refused for both unless the host is loopback.
///
/// Returns a client to free with icd_client_free, or NULL with the last error set:
/// ICD_ERR_INVALID_ARGUMENT (one of the two NULL, an empty value, a variable not set, a bad URL).
#[no_mangle]
pub unsafe extern "C" fn icd_client_new(client_id: *const c_char, client_secret: *const c_char) -> *mut IcdClient {
    boundary(ptr::null_mut(), || {
        let client = match (client_id.is_null(), client_secret.is_null()) {
            (true, true) => Client::cloud(None, None),
            _ => Client::cloud(Some(str_arg(client_id, "client_id")?), Some(str_arg(client_secret, "client_secret")?)),
        };
        new_handle(client)
    })
}

/// Creates a client for WHO's ICD-API local deployment (the whoicd/icd-api container), which
/// needs no token and no credentials. `base_url` such as "http://localhost:8080" (plain http is
/// allowed: there is no secret to protect); NULL reads ICD_API_BASE. Does no network I/O.
///
/// Returns a client to free with icd_client_free, or NULL with the last error set
/// (ICD_ERR_INVALID_ARGUMENT for a URL that is not http(s)://host[:port][/prefix]).
#[no_mangle]
pub unsafe extern "C" fn icd_client_new_local(base_url: *const c_char) -> *mut IcdClient {
    boundary(ptr::null_mut(), || {
        let base_url = if base_url.is_null() { None } else { Some(str_arg(base_url, "base_url")?) };
        new_handle(Client::local(base_url))
    })
}

/// Sets one option. Thread-safe, also while other threads use the client: calls already under
/// way finish with the settings they started with.
///
/// Options (name: default; meaning):
/// - language: "en"; Accept-Language of every request (ar, zh, en, fr, es, ru, ...)
/// - release: "2026-01"; ICD-11 release used by icd_search, icd_codeinfo, icd_autocode, icd_lookup
/// - linearization: "mms"; "mms" or "icf"
/// - api_version: "v2"; the API-Version header
/// - api_base: "https://id.who.int"; where requests go (https only on a cloud client unless loopback)
/// - token_endpoint: "https://icdaccessmanagement.who.int/connect/token" (cloud clients only)
/// - timeout_ms: "30000"; deadline of one whole call, retries and token fetch included
/// - max_retries: "2"; retries of 429, 500, 502, 503, 504 and cut connections (0 to 10)
/// - cache_entries: "1024"; in-memory response cache size, 0 disables it
/// - max_response_bytes: "33554432"; larger bodies fail with ICD_ERR_NETWORK
/// - user_agent: "icdapi/<version>"
/// - proxy: none; "http://host:port", or "none"; default from HTTPS_PROXY/ALL_PROXY
/// - ca_file: none; a PEM bundle to trust instead of the system's certificate store
/// - log: "off"; "debug" prints one line per request, retry and token fetch to stderr (no
///   secrets, no tokens); ICDAPI_LOG=debug in the environment turns it on at client creation
/// - concurrency: "8"; requests in flight at once in icd_get_many (1 to 64)
/// - token_cache_file: none; a file where processes with the same credentials share the token
///   (cloud clients only): created 0600, replaced atomically under a lock; refused if it exists
///   and is another user's, readable by others, or a symlink; "" turns it off
/// - cache_dir: none; a directory (created 0700) where answers about fixed releases
///   (/icd/release/11/{release}/..., /icd/release/10/{release}/...) are kept across runs,
///   so that they are answered without the network; "" turns it off
/// - cache_dir_max_bytes: "268435456"; bound of cache_dir (least recently used entries go first)
///
/// Changing api_base or token_endpoint switches to the token of that pair: a token is never sent
/// to another API or endpoint than the one it was issued for.
/// Returns ICD_OK, or ICD_ERR_INVALID_ARGUMENT (NULL, unknown name, bad value: the last error
/// message says which and what is expected); the option is then unchanged.
#[no_mangle]
pub unsafe extern "C" fn icd_client_set_option(
    client: *mut IcdClient,
    name: *const c_char,
    value: *const c_char,
) -> IcdStatus {
    let applied = boundary(false, || {
        let client = client_arg(client)?;
        let name = str_arg(name, "name")?;
        #[cfg(test)]
        if name == "__panic_for_tests" {
            panic!("forced by a test");
        }
        client.set_option(name, str_arg(value, "value")?)?;
        Ok((true, 0))
    });
    if applied {
        IcdStatus::ICD_OK
    } else {
        last_error::code()
    }
}

/// Frees a client and wipes its secret from memory. NULL is a no-op. No other thread may still
/// be using the client. Leaves the last error untouched.
///
/// The token is not the client's alone: clients of the process with the same credentials, token
/// endpoint and API share it, and it stays (in memory that is wiped when it is dropped) for the
/// next such client until it expires — so that a client per request costs one token per hour.
#[no_mangle]
pub unsafe extern "C" fn icd_client_free(client: *mut IcdClient) {
    if client.is_null() {
        return;
    }
    // A panic while dropping must not unwind into C; there is nothing to report it to.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(Box::from_raw(client))));
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

/// Fetches `count` paths or URIs concurrently — at most the option `concurrency` in flight
/// (default 8) — sharing one token, the connection pool and the caches. Each item is resolved
/// as for icd_get, and fails or succeeds on its own.
///
/// `paths_or_uris`: `count` strings (a NULL entry fails that item with
/// ICD_ERR_INVALID_ARGUMENT). `out_bodies`: room for `count` pointers; out_bodies[i] receives the
/// body of item i, which the caller frees with icd_free_string, or NULL. `out_statuses` (may be
/// NULL): out_statuses[i] receives the IcdStatus of item i.
///
/// Returns the number of items that succeeded. The last error is cleared when all succeeded;
/// otherwise it describes the first item that failed ("item 3: ..."). With a NULL client,
/// `paths_or_uris` or `out_bodies` (and `count` > 0) nothing is fetched, 0 is returned and the
/// last error is ICD_ERR_INVALID_ARGUMENT. Thread-safe; blocks until every item is done.
#[no_mangle]
pub unsafe extern "C" fn icd_get_many(
    client: *mut IcdClient,
    paths_or_uris: *const *const c_char,
    count: usize,
    out_bodies: *mut *mut c_char,
    out_statuses: *mut IcdStatus,
) -> usize {
    icd_get_many_detailed(client, paths_or_uris, count, out_bodies, out_statuses, ptr::null_mut())
}

/// icd_get_many, telling also the HTTP status of every item: `out_http_statuses` (may be NULL)
/// receives, for item i, the status of its last answer (200 for a success, e.g. 404 for an
/// unknown code, 0 when no answer came), so that a batch can tell "no such code" from "try
/// again later" for each item. Everything else as icd_get_many.
#[no_mangle]
pub unsafe extern "C" fn icd_get_many_detailed(
    client: *mut IcdClient,
    paths_or_uris: *const *const c_char,
    count: usize,
    out_bodies: *mut *mut c_char,
    out_statuses: *mut IcdStatus,
    out_http_statuses: *mut c_int,
) -> usize {
    // Every output slot has a defined value, whatever happens below.
    for i in 0..count {
        if !out_bodies.is_null() {
            *out_bodies.add(i) = ptr::null_mut();
        }
        if !out_http_statuses.is_null() {
            *out_http_statuses.add(i) = 0;
        }
    }
    // The boundary clears the last error on success; an item's failure is recorded after it.
    let (succeeded, first_failure) = boundary((0, None), || {
        let client = client_arg(client)?;
        if count == 0 {
            return Ok(((0, None), 0));
        }
        if paths_or_uris.is_null() || out_bodies.is_null() {
            return Err(Error::invalid_argument(if paths_or_uris.is_null() {
                "paths_or_uris is NULL"
            } else {
                "out_bodies is NULL"
            }));
        }
        let arguments: Vec<Result<&str>> =
            (0..count).map(|i| str_arg(*paths_or_uris.add(i), &format!("paths_or_uris[{i}]"))).collect();
        let valid: Vec<&str> = arguments.iter().filter_map(|a| a.as_ref().ok().copied()).collect();
        let mut fetched = client.get_many(&valid).into_iter();
        let mut succeeded = 0;
        let mut first_failure: Option<Error> = None;
        for (i, argument) in arguments.into_iter().enumerate() {
            let outcome = argument.and_then(|_| fetched.next().expect("one result per valid item"));
            let outcome = outcome.and_then(into_c_string);
            let (status, http_status) = match outcome {
                Ok((body, http_status)) => {
                    *out_bodies.add(i) = body;
                    succeeded += 1;
                    (IcdStatus::ICD_OK, http_status)
                }
                Err(error) => {
                    let status = IcdStatus::from(error.kind());
                    if first_failure.is_none() {
                        let message = format!("item {i}: {}", error.message());
                        first_failure = Some(Error::new(error.kind(), message).with_http_status(error.http_status()));
                    }
                    (status, error.http_status())
                }
            };
            if !out_statuses.is_null() {
                *out_statuses.add(i) = status;
            }
            if !out_http_statuses.is_null() {
                *out_http_statuses.add(i) = c_int::from(http_status);
            }
        }
        Ok(((succeeded, first_failure), 200))
    });
    if let Some(error) = first_failure {
        last_error::set(&error);
    }
    succeeded
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

/// The library's version, e.g. "0.1.0": a static string, never freed. Equal to
/// ICDAPI_VERSION in the header the program was compiled with, unless it was linked against
/// another build.
#[no_mangle]
pub extern "C" fn icd_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
