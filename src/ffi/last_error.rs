//! The per-thread last error, like `errno` or libgit2's `git_error_last`.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};

use super::IcdStatus;
use crate::error::Error;

struct LastError {
    code: IcdStatus,
    message: CString,
    http_status: c_int,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> =
        RefCell::new(LastError { code: IcdStatus::ICD_OK, message: CString::default(), http_status: 0 });
}

// `try_with` throughout: during a thread's exit the thread-local may already be gone, and a C
// destructor calling in then must get an answer, not a panic.

pub fn clear(http_status: u16) {
    let _ = LAST_ERROR.try_with(|cell| {
        let mut last = cell.borrow_mut();
        last.code = IcdStatus::ICD_OK;
        if !last.message.is_empty() {
            last.message = CString::default();
        }
        last.http_status = c_int::from(http_status);
    });
}

/// An error's message as a C string: one line of text, no NUL (C strings end there) and no
/// control characters.
pub fn c_message(error: &Error) -> CString {
    let text: String = error.message().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    CString::new(text).unwrap_or_default()
}

pub fn set(error: &Error) {
    let message = c_message(error);
    let _ = LAST_ERROR.try_with(|cell| {
        let mut last = cell.borrow_mut();
        last.code = IcdStatus::from(error.kind());
        last.message = message;
        last.http_status = c_int::from(error.http_status());
    });
}

pub fn code() -> IcdStatus {
    LAST_ERROR.try_with(|cell| cell.borrow().code).unwrap_or(IcdStatus::ICD_OK)
}

/// Points into thread-local storage: valid until this thread's next call that sets or clears it.
pub fn message() -> *const c_char {
    LAST_ERROR.try_with(|cell| cell.borrow().message.as_ptr()).unwrap_or(c"".as_ptr())
}

pub fn http_status() -> c_int {
    LAST_ERROR.try_with(|cell| cell.borrow().http_status).unwrap_or(0)
}
