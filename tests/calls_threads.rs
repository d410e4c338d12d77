//! icd_start's bound on threads (option async_threads, one per process): a process of its own,
//! and one test at a time, since the option is the process's.

#[path = "support/calls.rs"]
mod calls_support;
mod support;

use std::ptr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use calls_support::{record, threads_named, Outcomes};
use icdapi::ffi::*;
use serde_json::json;
use support::c_abi::{c, client_for, last_message, take};
use support::StandIn;

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
const WAIT: Duration = Duration::from_secs(30);

fn codeinfo() -> IcdCallNumber {
    // SAFETY: IcdCallNumber is a transparent int, as C passes IcdCall.
    unsafe { std::mem::transmute::<i32, IcdCallNumber>(IcdCall::ICD_CALL_CODEINFO as i32) }
}

unsafe fn set(client: *mut IcdClient, name: &str, value: &str) -> IcdStatus {
    icd_client_set_option(client, c(name).as_ptr(), c(value).as_ptr())
}

#[test]
fn no_more_than_async_threads_calls_run_at_once_and_the_rest_wait_their_turn() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let standin = StandIn::start();
    let client = client_for(&standin);
    let other = client_for(&standin);
    unsafe {
        for bad in ["0", "257", "x", ""] {
            assert_eq!(set(client, "async_threads", bad), IcdStatus::ICD_ERR_INVALID_ARGUMENT, "{bad}");
            assert!(last_message().contains("1 to 256"), "{}", last_message());
        }
        assert_eq!(take(icd_client_get_option(client, c("async_threads").as_ptr())).unwrap(), "16");
        assert_eq!(set(client, "async_threads", "3"), IcdStatus::ICD_OK);
        // The process's: another client reads it too.
        assert_eq!(take(icd_client_get_option(other, c("async_threads").as_ptr())).unwrap(), "3");
        assert!(take(icd_codeinfo(client, c("1A00").as_ptr())).is_some()); // the token, first
                                                                           // Every call goes to the server (the response cache would answer repeats at once).
        assert_eq!(set(client, "cache_entries", "0"), IcdStatus::ICD_OK);
        standin.configure(json!({"delay_ms": 300}));
        let outcomes = Outcomes::new();
        let started = Instant::now();
        for tag in 0..12 {
            let code = c(&format!("1A0{}", tag % 4));
            assert!(icd_start(client, codeinfo(), code.as_ptr(), ptr::null(), Some(record), outcomes.slot(tag)) > 0);
        }
        let mut most = 0;
        while outcomes.count() < 12 {
            most = most.max(threads_named("icdapi-call"));
            assert!(started.elapsed() < WAIT, "{} of 12 came", outcomes.count());
            std::thread::sleep(Duration::from_millis(10));
        }
        let took = started.elapsed();
        assert!((1..=3).contains(&most), "{most} threads ran calls at once (async_threads 3)");
        // Twelve calls of 300 ms, three at a time: four rounds, not one and not twelve.
        assert!(took >= Duration::from_millis(1150), "took {took:?}: more than 3 at once");
        assert!(took < Duration::from_millis(3500), "took {took:?}: fewer than 3 at once");
        assert!(outcomes.all().iter().all(|o| o.status == IcdStatus::ICD_OK || o.http_status == 404));
        assert_eq!(set(client, "async_threads", "16"), IcdStatus::ICD_OK);
        icd_client_free(other);
        icd_client_free(client);
    }
}

#[test]
fn with_one_thread_a_cancelled_call_frees_it_and_callbacks_start_calls_without_deadlock() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let standin = StandIn::start();
    let client = client_for(&standin);
    unsafe {
        assert_eq!(set(client, "async_threads", "1"), IcdStatus::ICD_OK);
        assert!(take(icd_codeinfo(client, c("1A00").as_ptr())).is_some());
        standin.fault(json!({"match": "/codeinfo/1A01", "kind": "hang", "seconds": 20}));
        let outcomes = Outcomes::new();
        let hanging = c("1A01");
        let id = icd_start(client, codeinfo(), hanging.as_ptr(), ptr::null(), Some(record), outcomes.slot(0));
        std::thread::sleep(Duration::from_millis(300));
        // The one thread hangs at the server; a second call waits behind it.
        let code = c("1A00");
        assert!(icd_start(client, codeinfo(), code.as_ptr(), ptr::null(), Some(record), outcomes.slot(1)) > 0);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(outcomes.count(), 0);
        let cancelled_at = Instant::now();
        assert_eq!(icd_cancel(client, id), 1);
        // The hanging exchange stops, so the one thread takes the second call long before the
        // server's 20 s are up.
        outcomes.wait_for(2, WAIT);
        assert!(cancelled_at.elapsed() < Duration::from_secs(3), "took {:?}", cancelled_at.elapsed());
        assert_eq!(outcomes.of(0)[0].status, IcdStatus::ICD_ERR_CANCELLED);
        assert_eq!(outcomes.of(1)[0].status, IcdStatus::ICD_OK);

        // Callbacks that start calls, on a pool of one thread that is busy running them.
        let chained = Outcomes::new();
        let client_address = client as usize;
        fn next(client: usize, outcomes: &std::sync::Arc<Outcomes>, depth: usize, tag: usize) -> *mut std::ffi::c_void {
            let more = outcomes.clone();
            outcomes.slot_then(tag, move |_| {
                if depth < 3 {
                    for branch in 0..2 {
                        let code = c("1A00");
                        let data = next(client, &more, depth + 1, tag * 10 + branch);
                        let id = unsafe {
                            icd_start(
                                client as *mut IcdClient,
                                codeinfo(),
                                code.as_ptr(),
                                ptr::null(),
                                Some(record),
                                data,
                            )
                        };
                        assert!(id > 0);
                    }
                }
            })
        }
        assert!(
            icd_start(
                client,
                codeinfo(),
                code.as_ptr(),
                ptr::null(),
                Some(record),
                next(client_address, &chained, 1, 1)
            ) > 0
        );
        // 1 -> 10, 11 -> 100, 101, 110, 111 (three deep): 7 calls.
        let got = chained.wait_for(7, WAIT);
        assert!(got.iter().all(|o| o.status == IcdStatus::ICD_OK));
        std::thread::sleep(Duration::from_millis(200));
        assert_eq!(chained.count(), 7);
        assert_eq!(set(client, "async_threads", "16"), IcdStatus::ICD_OK);
        icd_client_free(client);
    }
}
