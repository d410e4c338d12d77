#![allow(dead_code)]
//! Collecting the callbacks of icd_start in the tests: each call's user_data is a `Slot` that
//! the callback takes back and records in its `Outcomes`.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use icdapi::ffi::*;

#[derive(Debug, Clone)]
pub struct Outcome {
    pub tag: usize,
    pub status: IcdStatus,
    pub body: Option<String>,
    pub http_status: c_int,
    pub message: String,
    pub thread: ThreadId,
    pub thread_name: Option<String>,
}

#[derive(Default)]
pub struct Outcomes {
    seen: Mutex<Vec<Outcome>>,
    arrived: Condvar,
}

/// What a callback does after recording its outcome.
pub type Then = Box<dyn FnOnce(&Outcome) + Send>;

pub struct Slot {
    pub outcomes: Arc<Outcomes>,
    pub tag: usize,
    /// Run inside the callback (after recording), e.g. to start another call.
    pub then: Option<Then>,
}

impl Outcomes {
    pub fn new() -> Arc<Outcomes> {
        Arc::default()
    }

    /// A user_data for one call.
    pub fn slot(self: &Arc<Self>, tag: usize) -> *mut c_void {
        Box::into_raw(Box::new(Slot { outcomes: self.clone(), tag, then: None })).cast()
    }

    pub fn slot_then(self: &Arc<Self>, tag: usize, then: impl FnOnce(&Outcome) + Send + 'static) -> *mut c_void {
        Box::into_raw(Box::new(Slot { outcomes: self.clone(), tag, then: Some(Box::new(then)) })).cast()
    }

    pub fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }

    pub fn all(&self) -> Vec<Outcome> {
        self.seen.lock().unwrap().clone()
    }

    /// Waits until `n` callbacks have come (fails the test after `limit`).
    pub fn wait_for(&self, n: usize, limit: Duration) -> Vec<Outcome> {
        let until = Instant::now() + limit;
        let mut seen = self.seen.lock().unwrap();
        while seen.len() < n {
            let left = until.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "{} of {n} callbacks came within {limit:?}: {seen:?}", seen.len());
            seen = self.arrived.wait_timeout(seen, left).unwrap().0;
        }
        seen.clone()
    }

    pub fn of(&self, tag: usize) -> Vec<Outcome> {
        self.all().into_iter().filter(|o| o.tag == tag).collect()
    }
}

/// The IcdCallback of the tests.
pub unsafe extern "C" fn record(
    user_data: *mut c_void,
    status: IcdStatus,
    body: *mut c_char,
    http_status: c_int,
    message: *const c_char,
) {
    let slot = Box::from_raw(user_data.cast::<Slot>());
    let body = (!body.is_null()).then(|| {
        let text = CStr::from_ptr(body).to_str().unwrap().to_owned();
        icd_free_string(body);
        text
    });
    let outcome = Outcome {
        tag: slot.tag,
        status,
        body,
        http_status,
        message: CStr::from_ptr(message).to_str().unwrap().to_owned(),
        thread: std::thread::current().id(),
        thread_name: std::thread::current().name().map(str::to_owned),
    };
    slot.outcomes.seen.lock().unwrap().push(outcome.clone());
    slot.outcomes.arrived.notify_all();
    if let Some(then) = slot.then {
        then(&outcome);
    }
}

/// The threads of the process whose name starts with `prefix` (Linux: /proc/self/task).
pub fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end().starts_with(prefix))
        .count()
}
