//! The option names, for bindings and tools that check they know every option.

use std::ffi::{c_char, CString};
use std::sync::LazyLock;

/// The names of every option icd_client_set_option takes, separated by commas, in the order of
/// the documentation: "language,release,linearization,...". Bindings read it to check that they
/// know every option (their tests fail when the library has one they lack a setter for); tools
/// may list them. A static string owned by the library, never NULL, never freed. Thread-safe;
/// leaves the last error untouched.
#[no_mangle]
pub extern "C" fn icd_option_names() -> *const c_char {
    static NAMES: LazyLock<CString> =
        LazyLock::new(|| CString::new(crate::OPTION_NAMES.join(",")).expect("option names hold no NUL"));
    // No panic crosses the boundary (none can happen here: the names are constants).
    std::panic::catch_unwind(|| NAMES.as_ptr()).unwrap_or(c"".as_ptr())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_names_are_the_tables() {
        // SAFETY: a static NUL-terminated string.
        let names = unsafe { std::ffi::CStr::from_ptr(super::icd_option_names()) }.to_str().unwrap();
        assert_eq!(names.split(',').collect::<Vec<_>>(), crate::OPTION_NAMES);
        assert!(names.starts_with("language,release,"), "{names}");
        assert_eq!(super::icd_option_names(), super::icd_option_names(), "one static string");
    }
}
