//! Calls that do not block a thread: icd_start, icd_cancel. The pool is `crate::calls`; this
//! skin checks and copies the arguments, and turns the outcome into the C callback's arguments.

use std::ffi::{c_char, c_int, c_void};
use std::ptr;
use std::sync::Arc;

use super::requests::copy_to_c;
use super::{boundary, client_arg, last_error, params_arg, str_arg, IcdClient, IcdStatus};
use crate::error::{Error, Result};
use crate::icd::params::Param;
use crate::{Client, Reply};

/// What icd_start starts: the call that the synchronous function of that name makes.
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IcdCall {
    /// icd_get_with: arg is the path or URI, params the query parameters (or NULL).
    ICD_CALL_GET = 0,
    /// icd_search_with: arg is the query, params more query parameters (or NULL).
    ICD_CALL_SEARCH = 1,
    /// icd_autocode_with: arg is the text, params more query parameters (or NULL).
    ICD_CALL_AUTOCODE = 2,
    /// icd_codeinfo_with: arg is the code, params query parameters (or NULL).
    ICD_CALL_CODEINFO = 3,
    /// icd_lookup: arg is the Foundation URI; params NULL.
    ICD_CALL_LOOKUP = 4,
    /// icd_entity_by_code: arg is the code; params NULL.
    ICD_CALL_ENTITY_BY_CODE = 5,
    /// icd_icd10: arg is the ICD-10 code; params NULL.
    ICD_CALL_ICD10 = 6,
    /// icd_describe: arg is the code or URI, params its query parameters (or NULL).
    ICD_CALL_DESCRIBE = 7,
    /// icd_doris: arg NULL, params the certificate.
    ICD_CALL_DORIS = 8,
    /// icd_codedit: arg NULL, params the certificate.
    ICD_CALL_CODEDIT = 9,
}

/// The IcdCall that C passes, taken as the int it is: a value this build does not know (a
/// program compiled with a newer header) must be an error, not undefined behaviour. The header
/// calls it IcdCall (cbindgen.toml renames it).
#[repr(transparent)]
pub struct IcdCallNumber(c_int);

/// Called exactly once per started call, on a thread of the library's (never on the caller's
/// thread inside icd_start). On success status is ICD_OK, body the answer, owned by the callee
/// (free it with icd_free_string), http_status its status and message "". On failure body is
/// NULL and status, http_status and message say why, as icd_last_error_* would after the
/// synchronous call; ICD_ERR_CANCELLED after icd_cancel or icd_client_free. message is borrowed
/// for the duration of the callback. The callback may call any icd_ function, start new calls
/// and free its own client; it must not wait for another call's callback (with async_threads
/// 1, that callback could be waiting for this very thread).
pub type IcdCallback = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        status: IcdStatus,
        body: *mut c_char,
        http_status: c_int,
        message: *const c_char,
    ),
>;

/// What `params` of a call is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Params {
    /// Query parameters, as the call's _with function takes (NULL: none).
    Query,
    /// A death certificate, name/value pairs (required).
    Certificate,
    /// Nothing: params must be NULL.
    Null,
}

type Run = fn(&Client, &str, &[Param<'_>]) -> Result<Reply>;
type Check = fn(&str, &[Param<'_>]) -> Result<()>;

/// How icd_start makes one kind of call.
struct Kind {
    /// The argument's name in messages; None when arg must be NULL (DORIS, CoDEdit).
    argument: Option<&'static str>,
    params: Params,
    run: Run,
    /// What icd_start checks beyond NULLs, UTF-8, emptiness and the params' shape, so that a bad
    /// argument fails icd_start itself rather than the callback (e.g. a certificate's fields).
    check: Check,
}

fn no_more_checks(_: &str, _: &[Param<'_>]) -> Result<()> {
    Ok(())
}

fn certificate(_: &str, fields: &[Param<'_>]) -> Result<()> {
    crate::icd::certificate::check(fields)
}

/// The table of calls: one line each, the synchronous function each makes.
fn kind_of(call: c_int) -> Result<Kind> {
    let kind = |argument, params, run: Run| Ok(Kind { argument: Some(argument), params, run, check: no_more_checks });
    match call {
        0 => kind("path_or_uri", Params::Query, |c, a, p| c.get_with(a, p)),
        1 => kind("query", Params::Query, |c, a, p| c.search_with(a, p)),
        2 => kind("text", Params::Query, |c, a, p| c.autocode_with(a, p)),
        3 => kind("code", Params::Query, |c, a, p| c.codeinfo_with(a, p)),
        4 => kind("foundation_uri", Params::Null, |c, a, _| c.lookup(a)),
        5 => kind("code", Params::Null, |c, a, _| c.entity_by_code(a)),
        6 => kind("code", Params::Null, |c, a, _| c.icd10(a)),
        7 => kind("code_or_uri", Params::Query, |c, a, p| c.describe_with(a, p)),
        // A misspelt field or no cause fails icd_start itself, as the synchronous call would.
        8 => Ok(Kind { argument: None, params: Params::Certificate, run: |c, _, p| c.doris(p), check: certificate }),
        9 => Ok(Kind { argument: None, params: Params::Certificate, run: |c, _, p| c.codedit(p), check: certificate }),
        _ => Err(Error::invalid_argument(format!(
            "call {call} is not an IcdCall this library knows (ICD_CALL_GET 0 to ICD_CALL_CODEDIT 9): \
             was the program compiled with a newer icdapi.h than the library it runs with?"
        ))),
    }
}

/// The caller's user_data, carried to the callback's thread untouched.
struct UserData(*mut c_void);
// SAFETY: the library never dereferences it; it only hands it back to the caller's callback,
// which the caller wrote to be called from the library's threads (icd_start's contract).
unsafe impl Send for UserData {}

impl UserData {
    fn get(&self) -> *mut c_void {
        self.0
    }
}

/// Starts, without waiting, the call that the synchronous function named by `call` makes, on a
/// thread of the library's own pool, and returns its id (> 0) at once. `callback` gets the
/// outcome exactly once, with `user_data`, on a thread of the library's — never inside
/// icd_start itself, even when the call fails at once.
///
/// `arg`: the function's path, query, text, code or URI (see IcdCall; NULL for DORIS and
/// CoDEdit). `params`: what the call's _with function takes (GET, SEARCH, AUTOCODE, CODEINFO,
/// DESCRIBE: query parameters or NULL), the certificate (DORIS, CODEDIT), or NULL (LOOKUP,
/// ENTITY_BY_CODE, ICD10: anything else is ICD_ERR_INVALID_ARGUMENT). Both are checked and
/// copied before icd_start returns: the caller may free them at once.
///
/// Returns the call id, or 0 with the last error set when the call cannot start — the callback
/// is then never called: ICD_ERR_INVALID_ARGUMENT (NULL client or callback, a NULL, empty or
/// non-UTF-8 arg, malformed params, a URI outside api_base for GET, a certificate icd_doris
/// would refuse, a call number this library does not know), ICD_ERR_CANCELLED (the client is being freed), ICD_ERR_INTERNAL (no thread could be
/// started at all).
///
/// At most async_threads calls run at once in the process (option, default 16); more are
/// queued, never refused. The call uses the client's options as they are when it starts
/// running. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn icd_start(
    client: *mut IcdClient,
    call: IcdCallNumber,
    arg: *const c_char,
    params: *const *const c_char,
    callback: IcdCallback,
    user_data: *mut c_void,
) -> u64 {
    boundary(0, || {
        let handle = client.as_ref().ok_or_else(|| Error::invalid_argument("client is NULL"))?;
        let kind = kind_of(call.0)?;
        let callback = callback.ok_or_else(|| Error::invalid_argument("callback is NULL"))?;
        let argument = match kind.argument {
            Some(name) => {
                let text = str_arg(arg, name)?;
                if text.trim().is_empty() {
                    return Err(Error::invalid_argument(format!("{name} is empty")));
                }
                if call.0 == IcdCall::ICD_CALL_GET as c_int {
                    // A URI on another host fails here, not in the callback.
                    client_arg(client)?.config().api_base.resolve(text)?;
                }
                text.to_owned()
            }
            None if arg.is_null() => String::new(),
            None => {
                return Err(Error::invalid_argument("arg must be NULL for this call: the certificate goes in params"))
            }
        };
        if kind.params == Params::Null && !params.is_null() {
            return Err(Error::invalid_argument(format!(
                "params must be NULL for this call: {} takes no query parameters",
                kind.argument.unwrap_or("it")
            )));
        }
        if kind.params == Params::Certificate && params.is_null() {
            return Err(Error::invalid_argument(
                "params is NULL: give the certificate's fields, name, value, ..., NULL",
            ));
        }
        let params = params_arg(params)?;
        (kind.check)(&argument, &params)?;
        let params: Vec<(String, String)> =
            params.into_iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();

        let client: Arc<Client> = handle.inner.clone();
        let run = kind.run;
        let work = Box::new(move || {
            let params: Vec<Param<'_>> = params.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
            run(&client, &argument, &params)
        });
        let user_data = UserData(user_data);
        let done = Box::new(move |outcome: Result<Reply>| {
            let user_data = user_data.get();
            let failure = match outcome {
                Ok(reply) => match copy_to_c(&reply.body) {
                    Ok(body) => {
                        let status = c_int::from(reply.http_status);
                        return callback(user_data, IcdStatus::ICD_OK, body, status, c"".as_ptr());
                    }
                    Err(error) => error,
                },
                Err(error) => error,
            };
            let message = last_error::c_message(&failure);
            let status = c_int::from(failure.http_status());
            callback(user_data, IcdStatus::from(failure.kind()), ptr::null_mut(), status, message.as_ptr());
        });
        Ok((handle.calls.start(work, done)?, 0))
    })
}

/// Cancels a call that icd_start started on this client. Returns 1 if the call was still
/// running: it ends with ICD_ERR_CANCELLED, its callback still called once (soon, on a thread of
/// the library's; the request under way stops at its next read or attempt). Returns 0 if it had
/// already finished (or its callback is under way), or if no call of this client has that id; 0
/// with ICD_ERR_INVALID_ARGUMENT for a NULL client. Thread-safe; may be called from a callback.
#[no_mangle]
pub unsafe extern "C" fn icd_cancel(client: *mut IcdClient, call_id: u64) -> c_int {
    boundary(0, || {
        let handle = client.as_ref().ok_or_else(|| Error::invalid_argument("client is NULL"))?;
        Ok((c_int::from(handle.calls.cancel(call_id)), 0))
    })
}
