//! Calling the C ABI from the tests as C would: C strings, owned bodies, the last error.

use std::ffi::{c_char, CStr, CString};

use icdapi::ffi::*;

use super::{StandIn, CLIENT_ID, CLIENT_SECRET};

pub fn c(text: &str) -> CString {
    CString::new(text).unwrap()
}

pub fn last_message() -> String {
    unsafe { CStr::from_ptr(icd_last_error_message()) }.to_str().unwrap().to_owned()
}

/// A cloud client on the stand-in, through the C functions.
pub fn client_for(standin: &StandIn) -> *mut IcdClient {
    unsafe {
        let client = icd_client_new(c(CLIENT_ID).as_ptr(), c(CLIENT_SECRET).as_ptr());
        assert!(!client.is_null());
        assert_eq!(icd_client_set_option(client, c("api_base").as_ptr(), c(&standin.url).as_ptr()), IcdStatus::ICD_OK);
        let endpoint = c(&standin.token_endpoint());
        assert_eq!(icd_client_set_option(client, c("token_endpoint").as_ptr(), endpoint.as_ptr()), IcdStatus::ICD_OK);
        client
    }
}

/// Takes ownership of a returned body.
pub fn take(body: *mut c_char) -> Option<String> {
    if body.is_null() {
        return None;
    }
    let text = unsafe { CStr::from_ptr(body) }.to_str().unwrap().to_owned();
    unsafe { icd_free_string(body) };
    Some(text)
}
