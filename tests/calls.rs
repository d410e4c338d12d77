//! icd_start and icd_cancel through the C ABI: completion, errors, cancellation, freeing a
//! client with calls in flight, callbacks that start calls. (The bound on threads, which sets
//! the process-wide async_threads, is in tests/calls_threads.rs, a process of its own.)

#[path = "support/calls.rs"]
mod calls_support;
mod support;

use std::ffi::{c_char, CString};
use std::ptr;
use std::time::{Duration, Instant};

use calls_support::{record, Outcomes};
use icdapi::ffi::*;
use serde_json::json;
use support::c_abi::{c, client_for, last_message, take};
use support::StandIn;

const WAIT: Duration = Duration::from_secs(20);

/// A NULL-terminated name/value array, kept alive with its strings.
struct Params {
    _strings: Vec<CString>,
    pointers: Vec<*const c_char>,
}

fn params(pairs: &[&str]) -> Params {
    let strings: Vec<CString> = pairs.iter().map(|s| c(s)).collect();
    let mut pointers: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
    pointers.push(ptr::null());
    Params { _strings: strings, pointers }
}

fn call_number(call: IcdCall) -> IcdCallNumber {
    // SAFETY: IcdCallNumber is a transparent int, as C passes IcdCall.
    unsafe { std::mem::transmute::<i32, IcdCallNumber>(call as i32) }
}

unsafe fn start(
    client: *mut IcdClient,
    call: IcdCall,
    arg: &str,
    outcomes: &std::sync::Arc<Outcomes>,
    tag: usize,
) -> u64 {
    let arg = c(arg);
    icd_start(client, call_number(call), arg.as_ptr(), ptr::null(), Some(record), outcomes.slot(tag))
}

#[test]
fn every_call_completes_with_the_body_of_its_synchronous_function_on_a_library_thread() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let outcomes = Outcomes::new();
    let cases: &[(IcdCall, &str, Option<&[&str]>)] = &[
        (IcdCall::ICD_CALL_GET, "/icd/release/11/2026-01/mms/257068234", None),
        (IcdCall::ICD_CALL_GET, "/icd/entity/search", Some(&["q", "cholera"])),
        (IcdCall::ICD_CALL_SEARCH, "cholera", Some(&["flatResults", "true"])),
        (IcdCall::ICD_CALL_AUTOCODE, "cholera", None),
        (IcdCall::ICD_CALL_CODEINFO, "1A00", None),
        (IcdCall::ICD_CALL_LOOKUP, "http://id.who.int/icd/entity/257068234", None),
        (IcdCall::ICD_CALL_ENTITY_BY_CODE, "1A00", None),
        (IcdCall::ICD_CALL_ICD10, "A00.0", None),
        (IcdCall::ICD_CALL_DESCRIBE, "1A00", None),
        // DORIS and CoDEdit take no arg (NULL, written "" here) and the certificate as params.
        (IcdCall::ICD_CALL_DORIS, "", Some(&["causeOfDeathCodeA", "1A00", "sex", "1"])),
        (IcdCall::ICD_CALL_CODEDIT, "", Some(&["causeOfDeathCodeA", "1A00"])),
    ];
    let arg_ptr = |arg: &CString| if arg.as_bytes().is_empty() { ptr::null() } else { arg.as_ptr() };
    unsafe {
        let mut ids = Vec::new();
        for (tag, (call, arg, pairs)) in cases.iter().enumerate() {
            let list = pairs.map(params);
            let params_ptr = list.as_ref().map_or(ptr::null(), |p| p.pointers.as_ptr());
            let arg = c(arg);
            let id = icd_start(client, call_number(*call), arg_ptr(&arg), params_ptr, Some(record), outcomes.slot(tag));
            assert!(id > 0, "{call:?}: {}", last_message());
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
            ids.push(id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), cases.len(), "call ids are distinct");
        outcomes.wait_for(cases.len(), WAIT);
        for (tag, (call, arg, pairs)) in cases.iter().enumerate() {
            let got = outcomes.of(tag);
            assert_eq!(got.len(), 1, "{call:?}: exactly one callback");
            let got = &got[0];
            assert_eq!((got.status, got.http_status, got.message.as_str()), (IcdStatus::ICD_OK, 200, ""), "{call:?}");
            assert_ne!(got.thread, std::thread::current().id());
            assert_eq!(got.thread_name.as_deref(), Some("icdapi-call"));
            // The same answer as the synchronous function's.
            let arg = c(arg);
            let list = pairs.map(params);
            let p = list.as_ref().map_or(ptr::null(), |p| p.pointers.as_ptr());
            let expected = match call {
                IcdCall::ICD_CALL_GET => take(icd_get_with(client, arg.as_ptr(), p)),
                IcdCall::ICD_CALL_SEARCH => take(icd_search_with(client, arg.as_ptr(), p)),
                IcdCall::ICD_CALL_AUTOCODE => take(icd_autocode(client, arg.as_ptr())),
                IcdCall::ICD_CALL_CODEINFO => take(icd_codeinfo(client, arg.as_ptr())),
                IcdCall::ICD_CALL_LOOKUP => take(icd_lookup(client, arg.as_ptr())),
                IcdCall::ICD_CALL_ENTITY_BY_CODE => take(icd_entity_by_code(client, arg.as_ptr())),
                IcdCall::ICD_CALL_ICD10 => take(icd_icd10(client, arg.as_ptr())),
                IcdCall::ICD_CALL_DESCRIBE => take(icd_describe(client, arg.as_ptr(), p)),
                IcdCall::ICD_CALL_DORIS => take(icd_doris(client, p)),
                IcdCall::ICD_CALL_CODEDIT => take(icd_codedit(client, p)),
            };
            assert_eq!(got.body, expected, "{call:?}");
        }
        // The search's parameter reached the API.
        assert!(standin.api_requests().iter().any(|r| r["target"].as_str().unwrap().contains("flatResults=true")));
        icd_client_free(client);
    }
}

#[test]
fn failures_reach_the_callback_with_status_http_status_and_message() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let outcomes = Outcomes::new();
    standin.fault(json!({"match": "autocode", "kind": "json_error_200", "message": "no can do"}));
    unsafe {
        assert!(start(client, IcdCall::ICD_CALL_CODEINFO, "NOPE", &outcomes, 0) > 0);
        assert!(start(client, IcdCall::ICD_CALL_AUTOCODE, "cholera", &outcomes, 1) > 0);
        outcomes.wait_for(2, WAIT);
        let unknown = &outcomes.of(0)[0];
        assert_eq!((unknown.status, unknown.http_status, unknown.body.is_none()), (IcdStatus::ICD_ERR_HTTP, 404, true));
        assert!(unknown.message.contains("404"), "{}", unknown.message);
        assert_ne!(unknown.thread, std::thread::current().id(), "never on the caller's thread, even at once");
        let refused = &outcomes.of(1)[0];
        assert_eq!((refused.status, refused.http_status), (IcdStatus::ICD_ERR_API, 200));
        assert!(refused.message.contains("no can do"), "{}", refused.message);
        icd_client_free(client);
    }
}

#[test]
fn a_bad_start_returns_0_with_the_last_error_and_never_calls_back() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let outcomes = Outcomes::new();
    let no_value = params(&["flatResults"]);
    let mut no_value_ptrs = no_value.pointers.clone();
    no_value_ptrs.push(ptr::null()); // name, NULL value, NULL end
    let some = params(&["a", "b"]);
    let path = c("/icd/entity");
    let other_host = c("https://example.org/icd/entity");
    let empty = c(" ");
    let bad_utf8 = CString::new(vec![b'c', 0xff]).unwrap();
    unsafe {
        let n = |call: i32| std::mem::transmute::<i32, IcdCallNumber>(call);
        let get = || call_number(IcdCall::ICD_CALL_GET);
        type Start<'a> = Box<dyn Fn() -> u64 + 'a>;
        let cases: Vec<(&str, Start<'_>)> = vec![
            (
                "client is NULL",
                Box::new(|| {
                    icd_start(ptr::null_mut(), get(), path.as_ptr(), ptr::null(), Some(record), ptr::null_mut())
                }),
            ),
            (
                "callback is NULL",
                Box::new(|| icd_start(client, get(), path.as_ptr(), ptr::null(), None, ptr::null_mut())),
            ),
            (
                "path_or_uri is NULL",
                Box::new(|| icd_start(client, get(), ptr::null(), ptr::null(), Some(record), ptr::null_mut())),
            ),
            (
                "query is empty",
                Box::new(|| icd_start(client, n(1), empty.as_ptr(), ptr::null(), Some(record), ptr::null_mut())),
            ),
            (
                "not valid UTF-8",
                Box::new(|| icd_start(client, n(3), bad_utf8.as_ptr(), ptr::null(), Some(record), ptr::null_mut())),
            ),
            (
                "has no value",
                Box::new(|| {
                    icd_start(client, n(1), path.as_ptr(), no_value_ptrs.as_ptr(), Some(record), ptr::null_mut())
                }),
            ),
            (
                "params must be NULL",
                Box::new(|| {
                    icd_start(client, n(4), path.as_ptr(), some.pointers.as_ptr(), Some(record), ptr::null_mut())
                }),
            ),
            (
                "example.org",
                Box::new(|| icd_start(client, get(), other_host.as_ptr(), ptr::null(), Some(record), ptr::null_mut())),
            ),
            (
                "\"a\" is not a death certificate field",
                Box::new(|| {
                    icd_start(client, n(8), ptr::null(), some.pointers.as_ptr(), Some(record), ptr::null_mut())
                }),
            ),
            (
                "arg must be NULL for this call",
                Box::new(|| {
                    icd_start(client, n(9), path.as_ptr(), some.pointers.as_ptr(), Some(record), ptr::null_mut())
                }),
            ),
            (
                "params is NULL: give the certificate's fields",
                Box::new(|| icd_start(client, n(9), ptr::null(), ptr::null(), Some(record), ptr::null_mut())),
            ),
            (
                "code_or_uri is empty",
                Box::new(|| icd_start(client, n(7), empty.as_ptr(), ptr::null(), Some(record), ptr::null_mut())),
            ),
            (
                "call 10 is not an IcdCall",
                Box::new(|| icd_start(client, n(10), path.as_ptr(), ptr::null(), Some(record), ptr::null_mut())),
            ),
            (
                "call -1 is not an IcdCall",
                Box::new(|| icd_start(client, n(-1), path.as_ptr(), ptr::null(), Some(record), ptr::null_mut())),
            ),
        ];
        for (expected, call) in cases {
            assert_eq!(call(), 0, "{expected}");
            assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{expected}");
            assert!(last_message().contains(expected), "{expected}: {}", last_message());
        }
        // A good start clears the last error; cancelling with a NULL client is refused.
        assert!(start(client, IcdCall::ICD_CALL_CODEINFO, "1A00", &outcomes, 0) > 0);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        assert_eq!(icd_cancel(ptr::null_mut(), 1), 0);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_ERR_INVALID_ARGUMENT);
        outcomes.wait_for(1, WAIT);
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(outcomes.count(), 1, "only the call that started called back");
        assert!(standin.api_requests().iter().all(|r| !r["target"].as_str().unwrap().contains("example.org")));
        icd_client_free(client);
    }
}

#[test]
fn a_cancelled_call_calls_back_at_once_with_cancelled_and_its_exchange_stops() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let outcomes = Outcomes::new();
    unsafe {
        // A token first, so that the hang below is the API's.
        assert!(take(icd_codeinfo(client, c("1A00").as_ptr())).is_some());
        standin.fault(json!({"match": "/codeinfo/1A01", "kind": "hang", "seconds": 10}));
        let id = start(client, IcdCall::ICD_CALL_CODEINFO, "1A01", &outcomes, 0);
        assert!(id > 0);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(outcomes.count(), 0, "the call hangs at the server");
        let cancelled_at = Instant::now();
        assert_eq!(icd_cancel(client, id), 1);
        assert_eq!(icd_last_error_code(), IcdStatus::ICD_OK);
        let got = outcomes.wait_for(1, WAIT).remove(0);
        assert!(cancelled_at.elapsed() < Duration::from_secs(2), "took {:?}", cancelled_at.elapsed());
        assert_eq!((got.status, got.body, got.http_status), (IcdStatus::ICD_ERR_CANCELLED, None, 0));
        assert!(got.message.contains("cancelled"), "{}", got.message);
        assert_eq!(icd_cancel(client, id), 0, "already finished");
        assert_eq!(icd_cancel(client, 0), 0);
        assert_eq!(icd_cancel(client, u64::MAX), 0, "no such call");

        // A finished call cannot be cancelled, and another client cannot cancel this one's.
        let done = start(client, IcdCall::ICD_CALL_CODEINFO, "1A00", &outcomes, 1);
        let other = client_for(&standin);
        assert_eq!(icd_cancel(other, done), 0);
        outcomes.wait_for(2, WAIT);
        assert_eq!(outcomes.of(1)[0].status, IcdStatus::ICD_OK);
        assert_eq!(icd_cancel(client, done), 0);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(outcomes.count(), 2, "each callback exactly once");
        icd_client_free(other);
        icd_client_free(client);
    }
}

#[test]
fn freeing_a_client_cancels_its_calls_and_returns_after_their_callbacks() {
    let standin = StandIn::start();
    let client = client_for(&standin);
    let outcomes = Outcomes::new();
    unsafe {
        assert!(take(icd_codeinfo(client, c("1A00").as_ptr())).is_some());
        standin.fault(json!({"match": "/codeinfo/1A01", "kind": "hang", "seconds": 10, "count": 0}));
        for tag in 0..5 {
            assert!(start(client, IcdCall::ICD_CALL_CODEINFO, "1A01", &outcomes, tag) > 0);
        }
        std::thread::sleep(Duration::from_millis(300));
        let freeing = Instant::now();
        icd_client_free(client);
        assert!(freeing.elapsed() < Duration::from_secs(3), "took {:?}", freeing.elapsed());
        let all = outcomes.all();
        assert_eq!(all.len(), 5, "every callback ran before icd_client_free returned");
        for got in all {
            assert_eq!(got.status, IcdStatus::ICD_ERR_CANCELLED);
            assert!(got.message.contains("freed"), "{}", got.message);
        }
    }
}

#[test]
fn callbacks_may_start_calls_cancel_and_free_their_own_client() {
    let standin = StandIn::start();
    let client = client_for(&standin) as usize;
    let outcomes = Outcomes::new();
    unsafe {
        // A chain: each callback starts the next call, five deep.
        fn chain(client: usize, outcomes: std::sync::Arc<Outcomes>, depth: usize) -> *mut std::ffi::c_void {
            let next = outcomes.clone();
            outcomes.slot_then(depth, move |got| {
                assert_eq!(got.status, IcdStatus::ICD_OK);
                if depth < 5 {
                    let arg = c("1A00");
                    let id = unsafe {
                        icd_start(
                            client as *mut IcdClient,
                            call_number(IcdCall::ICD_CALL_CODEINFO),
                            arg.as_ptr(),
                            ptr::null(),
                            Some(record),
                            chain(client, next, depth + 1),
                        )
                    };
                    assert!(id > 0);
                }
            })
        }
        let arg = c("1A00");
        let first = chain(client, outcomes.clone(), 1);
        assert!(
            icd_start(
                client as *mut IcdClient,
                call_number(IcdCall::ICD_CALL_CODEINFO),
                arg.as_ptr(),
                ptr::null(),
                Some(record),
                first
            ) > 0
        );
        let got = outcomes.wait_for(5, WAIT);
        assert_eq!(got.iter().map(|o| o.tag).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);

        // A callback frees its own client while another of its calls hangs: no deadlock, and the
        // other call is cancelled.
        let freed = Outcomes::new();
        standin.fault(json!({"match": "/codeinfo/1A01", "kind": "hang", "seconds": 10}));
        let hanging = c("1A01");
        assert!(
            icd_start(
                client as *mut IcdClient,
                call_number(IcdCall::ICD_CALL_CODEINFO),
                hanging.as_ptr(),
                ptr::null(),
                Some(record),
                freed.slot(0)
            ) > 0
        );
        std::thread::sleep(Duration::from_millis(200));
        let freeing = freed.slot_then(1, move |_| icd_client_free(client as *mut IcdClient));
        assert!(
            icd_start(
                client as *mut IcdClient,
                call_number(IcdCall::ICD_CALL_CODEINFO),
                arg.as_ptr(),
                ptr::null(),
                Some(record),
                freeing
            ) > 0
        );
        let got = freed.wait_for(2, WAIT);
        assert_eq!(freed.of(0)[0].status, IcdStatus::ICD_ERR_CANCELLED, "{got:?}");
        assert_eq!(freed.of(1)[0].status, IcdStatus::ICD_OK);
    }
}

#[test]
fn under_a_storm_of_starts_cancels_and_a_free_every_callback_comes_exactly_once() {
    let standin = StandIn::start();
    let client = client_for(&standin) as usize;
    let outcomes = Outcomes::new();
    standin.configure(json!({"delay_ms": 20}));
    unsafe {
        let ids: Vec<u64> = (0..200)
            .map(|tag| {
                let code = c(&format!("1A0{}", tag % 10));
                let id = icd_start(
                    client as *mut IcdClient,
                    call_number(IcdCall::ICD_CALL_CODEINFO),
                    code.as_ptr(),
                    ptr::null(),
                    Some(record),
                    outcomes.slot(tag),
                );
                assert!(id > 0);
                id
            })
            .collect();
        // Two threads cancel every third call while the pool runs them; then the client goes.
        let cancellers: Vec<_> = (0..2)
            .map(|which| {
                let ids = ids.clone();
                std::thread::spawn(move || {
                    ids.iter().skip(which).step_by(3).map(|&id| icd_cancel(client as *mut IcdClient, id)).sum::<i32>()
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(100));
        let cancelled: i32 = cancellers.into_iter().map(|t| t.join().unwrap()).sum();
        icd_client_free(client as *mut IcdClient);
        let all = outcomes.all();
        assert_eq!(all.len(), 200, "every callback ran before icd_client_free returned");
        for tag in 0..200 {
            assert_eq!(outcomes.of(tag).len(), 1, "call {tag}: exactly one callback");
        }
        let reported = all.iter().filter(|o| o.status == IcdStatus::ICD_ERR_CANCELLED).count();
        assert!(reported >= cancelled as usize, "{reported} cancelled callbacks, {cancelled} cancels took");
        let unexpected: Vec<_> = all
            .iter()
            .filter(|o| !matches!(o.status, IcdStatus::ICD_OK | IcdStatus::ICD_ERR_HTTP | IcdStatus::ICD_ERR_CANCELLED))
            .map(|o| format!("{:?} (HTTP {}): {}", o.status, o.http_status, o.message))
            .collect();
        assert!(unexpected.is_empty(), "answers, HTTP errors or cancellations only: {unexpected:?}");
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(outcomes.count(), 200, "and none after");
    }
}

#[test]
fn cancelling_the_call_that_fetches_the_token_fails_no_other_call() {
    // The first call fetches the token for every call waiting for it (one fetch, shared):
    // cancelling that call must end only it, not the fetch the others wait for.
    let standin = StandIn::start();
    let client = client_for(&standin);
    let outcomes = Outcomes::new();
    standin.configure(json!({"token_delay_ms": 600}));
    unsafe {
        let fetching = start(client, IcdCall::ICD_CALL_CODEINFO, "1A00", &outcomes, 0);
        std::thread::sleep(Duration::from_millis(150)); // its token request is under way
        let waiting = start(client, IcdCall::ICD_CALL_CODEINFO, "1A01", &outcomes, 1);
        assert!(fetching > 0 && waiting > 0);
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(icd_cancel(client, fetching), 1, "the first call was still running");
        outcomes.wait_for(2, WAIT);
        let first = &outcomes.of(0)[0];
        assert_eq!(first.status, IcdStatus::ICD_ERR_CANCELLED, "{}", first.message);
        let second = &outcomes.of(1)[0];
        assert_eq!(
            (second.status, second.http_status),
            (IcdStatus::ICD_OK, 200),
            "the call waiting for the same token: {}",
            second.message
        );
        assert_eq!(standin.tokens_issued(), 1, "one token fetch, finished for the call that waited");
        icd_client_free(client);
    }
}
