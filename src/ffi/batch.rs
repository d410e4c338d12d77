//! Batches: many GETs in parallel, one result per item.

use std::ffi::{c_char, c_int};
use std::ptr;

use super::requests::into_c_string;
use super::{boundary, client_arg, last_error, str_arg, IcdClient, IcdStatus};
use crate::error::{Error, Result};

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
