//! Creating, configuring and freeing a client.

use std::ffi::c_char;
use std::ptr;

use super::requests::copy_to_c;
use super::{boundary, client_arg, last_error, str_arg, IcdStatus};
use crate::error::Result;
use crate::Client;

/// A client of the ICD API. Opaque.
///
/// Thread-safety: one client may be used by any number of threads at once, for requests and for
/// icd_client_set_option alike; it shares one token, one connection pool and one response cache
/// among them. Only icd_client_free must not run while another thread still uses the client.
pub struct IcdClient {
    pub(crate) inner: Client,
}

fn new_handle(client: Result<Client>) -> Result<(*mut IcdClient, u16)> {
    Ok((Box::into_raw(Box::new(IcdClient { inner: client? })), 0))
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
/// Options (name: default; meaning; icd_option_names lists the names):
/// - language: "en"; Accept-Language of every request (ar, zh, en, fr, es, ru, ...)
/// - release: "2026-01"; ICD-11 release used by the helpers (icd_search, icd_codeinfo,
///   icd_autocode, icd_lookup, their _with forms, icd_entity_by_code). When a helper gets a 404
///   and the API's list of releases (GET /icd/release/11/{linearization}, asked at most once per
///   client, api_base, linearization and release, again after ten minutes) does not hold this one, the error, still
///   ICD_ERR_HTTP 404, says so and names the releases served: `release "2026-01" is not served
///   by http://localhost:8080 (it serves 2024-01): set the release option`. If the list cannot
///   be had, the 404 is reported as it was.
/// - linearization: "mms"; "mms" or "icf"
/// - api_version: "v2"; the API-Version header
/// - api_base: "https://id.who.int"; where requests go (https only on a cloud client unless loopback)
/// - token_endpoint: "https://icdaccessmanagement.who.int/connect/token" (cloud clients only)
/// - timeout_ms: "30000"; deadline of one whole call, retries and token fetch included
/// - max_retries: "2"; retries of 429, 500, 502, 503, 504 and cut connections (0 to 10)
/// - cache_entries: "1024"; in-memory response cache size, 0 disables it
/// - max_response_bytes: "33554432"; larger bodies fail with ICD_ERR_NETWORK
/// - user_agent: "icdapi/<version>"
/// - proxy: "" (from HTTPS_PROXY/ALL_PROXY when set); "http://host:port"; or "none": direct,
///   whatever the environment says
/// - ca_file: none; a PEM bundle to trust instead of the system's certificate store
/// - log: "off"; "debug" prints one line per request, retry and token fetch to stderr (no
///   secrets, no tokens); ICDAPI_LOG=debug in the environment turns it on at client creation
/// - concurrency: "16"; requests in flight at once in icd_get_many (1 to 64)
/// - token_cache_file: none; a file where processes with the same credentials share the token
///   (cloud clients only): created 0600, replaced atomically under a lock; refused if it exists
///   and is another user's, readable by others, or a symlink; "" turns it off
/// - cache_dir: none; a directory (created 0700) where answers about fixed releases
///   (/icd/release/11/{release}/..., /icd/release/10/{release}/...) are kept across runs,
///   so that they are answered without the network; refused (ICD_ERR_INVALID_ARGUMENT) unless
///   it is a directory this process can write to; "" turns it off
/// - cache_dir_max_bytes: "268435456"; bound of cache_dir (least recently used entries go first)
/// - icd10_release: "2019"; ICD-10 release used by icd_icd10 (2019, 2016, 2010, 2008; any
///   non-empty release id is taken and percent-encoded into the path)
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

/// The current value of an option, as text in the form icd_client_set_option takes (so that it
/// can be set back): e.g. "2026-01" for "release", "30000" for "timeout_ms", "off" or "debug"
/// for "log". An option that is not set reads as "" (proxy, ca_file, token_cache_file,
/// cache_dir; token_endpoint on a local client); proxy "" means the environment's HTTPS_PROXY /
/// ALL_PROXY apply, "none" that requests go direct.
///
/// Returns a string the caller owns and frees with icd_free_string, or NULL with the last error
/// ICD_ERR_INVALID_ARGUMENT (NULL client or name, unknown name). The credentials are not
/// options and can never be read back. Thread-safe, also while other threads set options (the
/// value is the one in force at the moment of the call).
#[no_mangle]
pub unsafe extern "C" fn icd_client_get_option(client: *mut IcdClient, name: *const c_char) -> *mut c_char {
    boundary(ptr::null_mut(), || {
        let client = client_arg(client)?;
        let value = client.option(str_arg(name, "name")?)?;
        Ok((copy_to_c(&value)?, 0))
    })
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
