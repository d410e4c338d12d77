//! What the targets that go through the C ABI share: C strings from fuzz bytes, the loopback
//! sandbox every client is kept in (no request ever leaves this machine, none waits long, no
//! file is written outside a scratch directory), and the checks every call's outcome must pass.
#![allow(dead_code)] // each target uses its part

use std::ffi::{c_char, CStr, CString};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use icdapi::ffi::*;

/// Nothing listens on the discard port of loopback: a request there fails at once.
pub const CLOSED_PORT: &str = "http://127.0.0.1:9";
/// The secret of the cloud clients whose secret is not fuzzed: no message may ever show it —
/// unless the input itself holds it elsewhere (libFuzzer learns it from the checks' own
/// comparisons), as an option name or a path that a message rightly quotes back.
pub const SECRET: &str = "fuzz-secret-7Hq2Zx9pLw";

static SECRET_IN_INPUT: AtomicBool = AtomicBool::new(false);

/// Starts an input: notes whether its bytes hold the secret (then it may be quoted back).
pub fn start_input(data: &[u8]) {
    let holds = data.windows(SECRET.len()).any(|w| w == SECRET.as_bytes());
    SECRET_IN_INPUT.store(holds, Ordering::Relaxed);
}

/// Whether `text` shows the secret where the input did not put it.
pub fn leaks_secret(text: &str) -> bool {
    !SECRET_IN_INPUT.load(Ordering::Relaxed) && text.contains(SECRET)
}
/// Options whose value is a path: confined to the scratch directory.
const PATH_OPTIONS: &[&[u8]] = &[b"cache_dir", b"token_cache_file", b"ca_file", b"mapping_tables"];

/// The bytes up to the first NUL, as C sees them.
pub fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).expect("no NUL before the end")
}

/// A directory of this process under $TMPDIR, for the options whose value is a path. Created
/// when an input needs it and removed after that input (`clear_scratch_dir`), so that nothing is
/// left behind however the process ends.
pub fn scratch_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| std::env::temp_dir().join(format!("icdapi-fuzz-{}", std::process::id())))
}

/// Removes the scratch directory, if an input made it.
pub fn clear_scratch_dir() {
    let _ = std::fs::remove_dir_all(scratch_dir());
}

/// The value to pass for option `name`: as fuzzed, except that a path lands in the scratch
/// directory (one component, whatever the bytes), so that no test writes anywhere else.
pub fn confine(name: &[u8], value: &[u8]) -> CString {
    let value = c_string(value);
    let name = &name[..name.iter().position(|&b| b == 0).unwrap_or(name.len())];
    if !PATH_OPTIONS.contains(&name) || value.as_bytes().is_empty() {
        return value;
    }
    std::fs::create_dir_all(scratch_dir()).expect("the scratch directory is created");
    let mut path = scratch_dir().as_os_str().as_encoded_bytes().to_vec();
    path.push(b'/');
    path.extend(value.as_bytes().iter().map(|&b| if b == b'/' { b'_' } else { b }));
    CString::new(path).expect("no NUL")
}

pub unsafe fn set(client: *mut IcdClient, name: &str, value: &str) -> IcdStatus {
    let (name, value) = (CString::new(name).unwrap(), CString::new(value).unwrap());
    icd_client_set_option(client, name.as_ptr(), value.as_ptr())
}

/// Keeps `client` in the sandbox: requests and token fetches go to `api` on loopback, with no
/// proxy and no retry, and end within a second (a shorter timeout the input set is kept). Applied
/// after every fuzzed option, so that the option parsers see any bytes but the requests stay here.
pub unsafe fn sandbox(client: *mut IcdClient, api: &str) {
    let timeout_ms = icd_client_get_option(client, c"timeout_ms".as_ptr());
    let current = CStr::from_ptr(timeout_ms).to_str().ok().and_then(|t| t.parse::<u64>().ok());
    icd_free_string(timeout_ms);
    let timeout_ms = current.unwrap_or(1000).min(1000).to_string();
    for (name, value) in
        [("api_base", api), ("proxy", "none"), ("max_retries", "0"), ("timeout_ms", &timeout_ms), ("log", "off")]
    {
        assert_eq!(set(client, name, value), IcdStatus::ICD_OK, "{name}={value}: {:?}", last_error());
    }
    // A local client refuses the option (it has no token): that is fine.
    set(client, "token_endpoint", &format!("{api}/connect/token"));
}

/// The thread's last error, checked: a message for every failure, UTF-8, without the secret,
/// and never ICD_ERR_INTERNAL (a panic or a broken invariant).
pub fn last_error() -> (IcdStatus, String) {
    let code = icd_last_error_code();
    let message = unsafe { CStr::from_ptr(icd_last_error_message()) };
    let message = message.to_str().unwrap_or_else(|e| panic!("the last error message is not UTF-8: {e}")).to_owned();
    assert_ne!(code, IcdStatus::ICD_ERR_INTERNAL, "{message}");
    assert!(code == IcdStatus::ICD_OK || !message.is_empty(), "{code:?} without a message");
    assert!(!leaks_secret(&message), "the secret in a message: {message}");
    (code, message)
}

/// Frees a body returned by a request function (NULL is fine).
pub unsafe fn free(body: *mut c_char) {
    icd_free_string(body);
}
