//! The exported C functions, called as C would: NULLs, invalid UTF-8, ownership, the per-thread
//! last error and HTTP status.

mod support;

use std::ffi::{c_char, CStr, CString};
use std::ptr;

use icdapi::ffi::*;
use support::c_abi::{c, client_for, last_message, take};
use support::{StandIn, CLIENT_ID};

#[test]
fn requests_return_owned_json_and_clear_the_last_error() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        // A failure first, so that the success visibly clears it.
        assert!(take(icd_codeinfo(client, c("NOPE").as_ptr())).is_none());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_HTTP);
        assert_eq!(icd_last_http_status(), 404);
        assert!(!last_message().is_empty());
        let body = take(icd_search(client, c("cholera").as_ptr())).unwrap();
        assert!(body.contains("1A00"));
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        assert_eq!(icd_last_http_status(), 200);
        assert_eq!(last_message(), "");
        assert!(take(icd_codeinfo(client, c("1A00").as_ptr())).unwrap().contains("stemId"));
        assert!(take(icd_autocode(client, c("cholera").as_ptr())).unwrap().contains("1A00"));
        let lookup = c("http://id.who.int/icd/entity/257068234");
        assert!(take(icd_lookup(client, lookup.as_ptr())).unwrap().contains("1A00"));
        assert!(take(icd_get(client, c("/icd/release/11/2026-01/mms/257068234").as_ptr()))
            .unwrap()
            .contains("Cholera"));
        let posted = icd_post(client, c("/icd/release/11/2026-01/codedit").as_ptr(), c(r#"{"code":"1A00"}"#).as_ptr());
        assert!(take(posted).unwrap().contains("Codes found: 1A00"));
        icd_client_free(client);
    }
}

#[test]
fn null_arguments_are_invalid_arguments_naming_the_argument() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        type Call = Box<dyn Fn() -> *mut c_char>;
        let calls: Vec<(&str, Call)> = vec![
            ("client", Box::new(|| icd_get(ptr::null_mut(), c("/icd/entity").as_ptr()))),
            ("path_or_uri", Box::new(move || icd_get(client, ptr::null()))),
            ("json_body", Box::new(move || icd_post(client, c("/icd/entity/search").as_ptr(), ptr::null()))),
            ("query", Box::new(move || icd_search(client, ptr::null()))),
            ("code", Box::new(move || icd_codeinfo(client, ptr::null()))),
            ("text", Box::new(move || icd_autocode(client, ptr::null()))),
            ("foundation_uri", Box::new(move || icd_lookup(client, ptr::null()))),
        ];
        for (name, call) in calls {
            assert!(call().is_null(), "{name}");
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{name}");
            assert_eq!(last_message(), format!("{name} is NULL"));
            assert_eq!(icd_last_http_status(), 0);
        }
        assert_eq!(
            icd_client_set_option(ptr::null_mut(), c("language").as_ptr(), c("fr").as_ptr()),
            IcdStatus::ICD_ERR_INVALID_ARGUMENT
        );
        assert_eq!(icd_client_set_option(client, ptr::null(), c("fr").as_ptr()), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert_eq!(
            icd_client_set_option(client, c("language").as_ptr(), ptr::null()),
            IcdStatus::ICD_ERR_INVALID_ARGUMENT
        );
        assert!(icd_client_new(c("id").as_ptr(), ptr::null()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert_eq!(standin.requests().len(), 0);
        icd_client_free(client);
    }
}

#[test]
fn invalid_utf8_is_an_invalid_argument() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let bad = CString::new(vec![b'/', b'i', 0xff, 0xfe]).unwrap();
    unsafe {
        assert!(icd_get(client, bad.as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert!(last_message().contains("path_or_uri is not valid UTF-8"), "{}", last_message());
        assert!(icd_search(client, bad.as_ptr()).is_null());
        assert_eq!(
            icd_client_set_option(client, c("language").as_ptr(), bad.as_ptr()),
            IcdStatus::ICD_ERR_INVALID_ARGUMENT
        );
        assert!(icd_client_new(bad.as_ptr(), bad.as_ptr()).is_null());
        assert!(icd_client_new_local(bad.as_ptr()).is_null());
        icd_client_free(client);
    }
}

#[test]
fn set_option_reports_unknown_names_and_bad_values() {
    unsafe {
        let client = icd_client_new(c("id").as_ptr(), c("secret").as_ptr());
        assert_eq!(
            icd_client_set_option(client, c("colour").as_ptr(), c("blue").as_ptr()),
            IcdStatus::ICD_ERR_INVALID_ARGUMENT
        );
        assert!(last_message().contains("unknown option \"colour\""), "{}", last_message());
        assert_eq!(
            icd_client_set_option(client, c("timeout_ms").as_ptr(), c("-1").as_ptr()),
            IcdStatus::ICD_ERR_INVALID_ARGUMENT
        );
        assert!(last_message().contains("timeout_ms"));
        assert_eq!(icd_client_set_option(client, c("timeout_ms").as_ptr(), c("1000").as_ptr()), IcdStatus::ICD_OK);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        icd_client_free(client);
    }
}

#[test]
fn free_functions_leave_the_last_error_untouched() {
    unsafe {
        icd_client_free(ptr::null_mut());
        icd_free_string(ptr::null_mut());
        assert!(icd_client_new_local(c("not a url").as_ptr()).is_null());
        let message = last_message();
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        let client = icd_client_new_local(ptr::null());
        // ICD_API_BASE is not set in this test binary: NULL base is then an error too.
        assert!(client.is_null());
        let ok = icd_client_new_local(c("http://localhost:8080").as_ptr());
        assert!(!ok.is_null());
        assert!(icd_get(ok, c("ftp://x").as_ptr()).is_null());
        let message_before = last_message();
        icd_client_free(ok);
        icd_free_string(ptr::null_mut());
        let _ = icd_version();
        assert_eq!(last_message(), message_before);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        assert!(!message.is_empty());
    }
}

#[test]
fn the_last_error_is_per_thread() {
    unsafe {
        assert!(icd_client_new_local(c("nope").as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        let other =
            std::thread::spawn(|| (icd_last_error_code(), last_message(), icd_last_http_status())).join().unwrap();
        assert_eq!(other, (IcdStatus::ICD_OK, String::new(), 0));
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
    }
}

#[test]
fn error_messages_never_hold_the_secret() {
    let standin = StandIn::start();
    let secret = "very-secret-do-not-print";
    unsafe {
        let client = icd_client_new(c(CLIENT_ID).as_ptr(), c(secret).as_ptr());
        icd_client_set_option(client, c("api_base").as_ptr(), c(&standin.url).as_ptr());
        icd_client_set_option(client, c("token_endpoint").as_ptr(), c(&standin.token_endpoint()).as_ptr());
        assert!(icd_search(client, c("cholera").as_ptr()).is_null());
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_AUTH);
        assert_eq!(icd_last_http_status(), 400);
        assert!(!last_message().contains(secret));
        icd_client_free(client);
    }
}

#[test]
fn version_is_the_crate_version() {
    let version = unsafe { CStr::from_ptr(icd_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
}
