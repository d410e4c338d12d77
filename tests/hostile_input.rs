//! Property-based tests over every string argument: arbitrary bytes as paths, URIs, queries,
//! codes, option names and values. Nothing panics, nothing is sent to a host other than the
//! configured API, and percent-encoding always round-trips.

use std::ffi::{c_char, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use icdapi::ffi::*;
use icdapi::fuzzing::{encode_component, normalize_raw};
use icdapi::{BaseUrl, OPTION_NAMES};
use percent_encoding::percent_decode_str;
use proptest::prelude::*;

/// Arbitrary C strings: any bytes but NUL, valid UTF-8 or not.
fn c_bytes() -> impl Strategy<Value = CString> {
    prop::collection::vec(1u8..=255, 0..160).prop_map(|bytes| CString::new(bytes).unwrap())
}

/// Strings that look like what callers pass, with the characters that cause trouble.
fn tricky_text() -> impl Strategy<Value = String> {
    prop::string::string_regex("[a-zA-Z0-9/:@?#&=%+ .~é北\\-\\\\\\[\\]]{0,60}").unwrap()
}

const BASES: &[&str] = &["https://id.who.int", "http://127.0.0.1:8080", "http://localhost:9/api/v2"];

/// Where a resolved URL goes: scheme and authority as an HTTP client would parse them.
fn destination(url: &str) -> (String, String) {
    let uri: ureq::http::Uri = url.parse().unwrap_or_else(|e| panic!("{url} is not a valid URI: {e}"));
    (uri.scheme_str().unwrap().to_owned(), uri.authority().unwrap().as_str().to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn resolved_urls_never_leave_the_api(target in prop_oneof![
        tricky_text(),
        tricky_text().prop_map(|t| format!("http://id.who.int/{t}")),
        tricky_text().prop_map(|t| format!("http://{t}")),
        tricky_text().prop_map(|t| format!("https://id.who.int{t}")),
        tricky_text().prop_map(|t| format!("/{t}")),
        any::<String>(),
    ], base_index in 0..BASES.len()) {
        let base_text = BASES[base_index];
        let base = BaseUrl::parse(base_text, "api_base").unwrap();
        if let Ok(url) = base.resolve(&target) {
            prop_assert_eq!(destination(&url), destination(base_text), "{} -> {}", target, url);
            let prefix = base_text.trim_end_matches('/');
            prop_assert!(url.starts_with(prefix), "{} -> {}", target, url);
            prop_assert!(!url.contains(' ') && !url.contains('#') && url.is_ascii(), "{}", url);
        }
    }

    #[test]
    fn components_round_trip(text in any::<String>()) {
        let encoded = encode_component(&text);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)), "{}", encoded);
        prop_assert_eq!(percent_decode_str(&encoded).decode_utf8().unwrap(), text.as_str());
    }

    #[test]
    fn raw_paths_round_trip(text in any::<String>()) {
        // Without '%' in the input, decoding the normalized form gives the input back.
        let text = text.replace('%', "");
        let normalized = normalize_raw(&text);
        prop_assert!(normalized.is_ascii() && !normalized.contains([' ', '#', '"', '<', '>']), "{}", normalized);
        prop_assert_eq!(percent_decode_str(&normalized).decode_utf8().unwrap(), text.as_str());
    }

    #[test]
    fn arbitrary_bytes_through_the_c_api_never_panic(arg in c_bytes(), second in c_bytes()) {
        // Port 9 on loopback is closed: a request that is sent fails fast with ICD_ERR_NETWORK.
        unsafe {
            let client = icd_client_new_local(c"http://127.0.0.1:9".as_ptr());
            prop_assert!(!client.is_null());
            icd_client_set_option(client, c"max_retries".as_ptr(), c"0".as_ptr());
            let calls: [unsafe extern "C" fn(*mut IcdClient, *const c_char) -> *mut c_char; 6] =
                [icd_get, icd_search, icd_codeinfo, icd_autocode, icd_lookup, icd_get];
            for call in calls {
                let body = call(client, arg.as_ptr());
                prop_assert!(body.is_null());
                assert_expected_failure()?;
            }
            prop_assert!(icd_post(client, arg.as_ptr(), second.as_ptr()).is_null());
            assert_expected_failure()?;
            for call in [icd_entity_by_code, icd_icd10] {
                prop_assert!(call(client, arg.as_ptr()).is_null());
                assert_expected_failure()?;
            }
            // The 0.2 functions with query parameters: the bytes as a name, a value and a target.
            let params = [arg.as_ptr(), second.as_ptr(), std::ptr::null()];
            let with_calls: [unsafe extern "C" fn(*mut IcdClient, *const c_char, *const *const c_char) -> *mut c_char; 4] =
                [icd_get_with, icd_search_with, icd_autocode_with, icd_codeinfo_with];
            for call in with_calls {
                prop_assert!(call(client, arg.as_ptr(), params.as_ptr()).is_null());
                assert_expected_failure()?;
            }
            let value = icd_client_get_option(client, arg.as_ptr());
            prop_assert!(value.is_null() || icd_last_error_code() == IcdStatus::ICD_OK);
            icd_free_string(value);
            let status = icd_client_set_option(client, arg.as_ptr(), second.as_ptr());
            prop_assert_eq!(status, IcdStatus::ICD_ERR_INVALID_ARGUMENT);
            let scratch = Scratch::new();
            for name in OPTION_NAMES {
                let value = scratch.confine(name, &arg);
                let name = CString::new(*name).unwrap();
                let status = icd_client_set_option(client, name.as_ptr(), value.as_ptr());
                prop_assert!(matches!(status, IcdStatus::ICD_OK | IcdStatus::ICD_ERR_INVALID_ARGUMENT));
            }
            let cloud = icd_client_new(arg.as_ptr(), second.as_ptr());
            prop_assert!(cloud.is_null() || icd_last_error_code() == IcdStatus::ICD_OK);
            icd_client_free(cloud);
            icd_client_free(client);
        }
    }
}

/// A directory of one test case for the options whose value is a path (cache_dir creates the
/// directory it is given): arbitrary bytes land in it, never in the working directory or at the
/// root. Removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static CASES: AtomicUsize = AtomicUsize::new(0);
        let case = CASES.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("icdapi-hostile-{}-{case}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// `value` for option `name`: a path option gets it as one file name inside the directory.
    fn confine(&self, name: &str, value: &CStr) -> CString {
        if !["cache_dir", "token_cache_file", "ca_file"].contains(&name) || value.is_empty() {
            return value.to_owned();
        }
        let mut path = self.0.as_os_str().as_bytes().to_vec();
        path.push(b'/');
        path.extend(value.to_bytes().iter().map(|&b| if b == b'/' { b'_' } else { b }));
        CString::new(path).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A failed call on the closed port: a clear argument error, or the network/timeout failure of
/// a request that was sent to the configured (loopback) API — never a panic.
fn assert_expected_failure() -> Result<(), TestCaseError> {
    let code = icd_last_error_code();
    let message = unsafe { CStr::from_ptr(icd_last_error_message()) }.to_string_lossy().into_owned();
    prop_assert!(
        matches!(code, IcdStatus::ICD_ERR_INVALID_ARGUMENT | IcdStatus::ICD_ERR_NETWORK | IcdStatus::ICD_ERR_TIMEOUT),
        "{:?}: {}",
        code,
        message
    );
    prop_assert!(!message.is_empty());
    if code == IcdStatus::ICD_ERR_NETWORK {
        prop_assert!(message.contains("127.0.0.1:9"), "{}", message);
    }
    Ok(())
}
