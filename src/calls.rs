//! Calls that do not block their caller: the library's own bounded pool of threads.
//!
//! A call is a piece of work (`Work`: a request made with `Client`'s public methods) and a
//! completion (`Done`) that gets the outcome exactly once. `Calls` is one client's set of calls
//! in flight; the pool behind it is the process's, at most `thread_limit()` threads running
//! calls at once (option `async_threads`), with every further call queued, never refused.
//!
//! Exactly once: whoever takes a call's completion out of its slot delivers it — the worker when
//! the work ends, or `cancel`, which hands it with `ErrorKind::Cancelled` to a thread of the
//! pool at once. A cancelled call that was already under way is thereby detached: its callback
//! does not wait for the exchange, and the exchange itself stops soon, because the transport asks
//! `cancelled()` between attempts and (on Unix, direct connections) while it waits to read.
//!
//! Why the pool never deadlocks on callbacks that start calls: starting only queues. And a
//! callback that frees its own client (`Calls::close` on a pool thread) does not wait for
//! itself, and delivers its client's cancelled callbacks itself rather than waiting for a thread
//! that may be the one it occupies.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::error::{Error, ErrorKind, Result};
use crate::Reply;

/// The request a call makes, run on a thread of the pool.
pub type Work = Box<dyn FnOnce() -> Result<Reply> + Send>;
/// What gets the call's outcome, exactly once, on a thread of the pool.
pub type Done = Box<dyn FnOnce(Result<Reply>) + Send>;

pub const DEFAULT_THREADS: usize = 16;
pub const MAX_THREADS: usize = 256;
/// An idle thread of the pool ends after this long, so that a process that stopped making
/// calls does not keep them. Short, because Mono's exit waits for every thread that has called
/// into it (a callback of the C# binding) to end; starting a thread again costs some tens of
/// microseconds.
const IDLE_LIFETIME: Duration = Duration::from_secs(2);
/// How often a cancelled call's exchange looks at its flag while it waits.
pub(crate) const CANCEL_CHECK: Duration = Duration::from_millis(20);

static THREAD_LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_THREADS);
/// Call ids are unique in the process, so that an id of one client never cancels another's call.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The most calls running at once in the process (option `async_threads`).
pub fn thread_limit() -> usize {
    THREAD_LIMIT.load(Ordering::Relaxed)
}

/// Sets the process's bound; threads above a lowered bound end when their call is done.
pub fn set_thread_limit(limit: usize) {
    THREAD_LIMIT.store(limit.clamp(1, MAX_THREADS), Ordering::Relaxed);
}

struct Call {
    id: u64,
    cancelled: AtomicBool,
    work: Mutex<Option<Work>>,
    done: Mutex<Option<Done>>,
    owner: Arc<Registry>,
}

/// One client's calls in flight.
pub struct Calls {
    registry: Arc<Registry>,
}

struct Registry {
    state: Mutex<RegistryState>,
    /// Signalled whenever a call's callback has returned.
    settled: Condvar,
}

struct RegistryState {
    /// Calls whose callback has not returned yet.
    open: HashMap<u64, Arc<Call>>,
    closed: bool,
}

thread_local! {
    /// The call whose work runs on this thread (the transport asks it whether to go on).
    static RUNNING: RefCell<Option<Arc<Call>>> = const { RefCell::new(None) };
    /// The id of the call whose callback runs on this thread (0: none).
    static DELIVERING: Cell<u64> = const { Cell::new(0) };
}

/// True when the call running on this thread was cancelled: its exchange should stop.
pub(crate) fn cancelled() -> bool {
    RUNNING
        .try_with(|running| running.borrow().as_ref().is_some_and(|call| call.cancelled.load(Ordering::Relaxed)))
        .unwrap_or(false)
}

/// True on a thread of the pool while it runs a call's work.
pub(crate) fn in_call() -> bool {
    RUNNING.try_with(|running| running.borrow().is_some()).unwrap_or(false)
}

/// Runs `work` that other calls share — the token fetch every call of the client waits for — as
/// if no call ran on this thread: cancelling the call that happens to make it must not fail the
/// others (they would get its "cancelled" as a network error). The cancelled call's callback has
/// come already; only this thread goes on until the shared work ends (within its deadline).
pub(crate) fn shared_work<T>(work: impl FnOnce() -> T) -> T {
    struct Restore(Option<Arc<Call>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(call) = self.0.take() {
                let _ = RUNNING.try_with(|running| *running.borrow_mut() = Some(call));
            }
        }
    }
    let _restore = Restore(RUNNING.try_with(|running| running.borrow_mut().take()).ok().flatten());
    work()
}

/// Sleeps `wait`, waking early when the call running on this thread is cancelled; false then.
pub(crate) fn sleep_unless_cancelled(wait: Duration) -> bool {
    if !in_call() {
        std::thread::sleep(wait);
        return true;
    }
    let until = Instant::now() + wait;
    loop {
        if cancelled() {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(CANCEL_CHECK));
    }
}

fn cancelled_error(why: &str) -> Error {
    Error::new(ErrorKind::Cancelled, format!("the call was cancelled ({why})"))
}

impl Default for Calls {
    fn default() -> Self {
        Calls::new()
    }
}

impl Calls {
    pub fn new() -> Calls {
        let state = RegistryState { open: HashMap::new(), closed: false };
        Calls { registry: Arc::new(Registry { state: Mutex::new(state), settled: Condvar::new() }) }
    }

    /// Queues a call and returns its id (> 0). `done` is called exactly once, on a thread of the
    /// pool, never on this one. Fails only when the client is being closed, or when the pool has
    /// no thread at all and cannot start one; `done` is then dropped uncalled.
    pub fn start(&self, work: Work, done: Done) -> Result<u64> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let call = Arc::new(Call {
            id,
            cancelled: AtomicBool::new(false),
            work: Mutex::new(Some(work)),
            done: Mutex::new(Some(done)),
            owner: self.registry.clone(),
        });
        {
            let mut state = self.registry.state.lock();
            if state.closed {
                return Err(cancelled_error("its client is being freed: no call can start on it"));
            }
            state.open.insert(id, call.clone());
        }
        if let Err(error) = POOL.submit(call) {
            self.registry.state.lock().open.remove(&id);
            return Err(error);
        }
        Ok(id)
    }

    /// Cancels a call of this client: true when it was still running (its callback then gets
    /// `ErrorKind::Cancelled`, soon, on a thread of the pool); false when it had finished, its
    /// callback was already under way, or there is no such call.
    pub fn cancel(&self, id: u64) -> bool {
        let call = self.registry.state.lock().open.get(&id).cloned();
        call.is_some_and(|call| cancel(&call, "icd_cancel"))
    }

    /// Cancels every call of the client and returns when all their callbacks have returned —
    /// except the one running on this thread, if this is one of the client's callbacks. Calls
    /// started afterwards are refused.
    pub fn close(&self) {
        let calls: Vec<Arc<Call>> = {
            let mut state = self.registry.state.lock();
            state.closed = true;
            state.open.values().cloned().collect()
        };
        for call in &calls {
            cancel(call, "its client was freed");
        }
        let here = DELIVERING.try_with(Cell::get).unwrap_or(0);
        let mut state = self.registry.state.lock();
        loop {
            let waiting = state.open.len() - usize::from(state.open.contains_key(&here));
            if waiting == 0 {
                return;
            }
            if here != 0 {
                // A callback frees a client: the threads that would deliver the others'
                // cancellations may all be busy (this one among them), so deliver them here.
                MutexGuard::unlocked(&mut state, || {
                    while let Some((call, done, error)) = POOL.take_delivery_of(&self.registry) {
                        deliver(&call, done, Err(error));
                    }
                });
            }
            self.registry.settled.wait_for(&mut state, CANCEL_CHECK);
        }
    }
}

impl Drop for Calls {
    fn drop(&mut self) {
        self.close();
    }
}

/// Marks the call cancelled and, if its callback was not yet taken, hands it to the pool to be
/// called with `ErrorKind::Cancelled`. True when this took the callback.
fn cancel(call: &Arc<Call>, why: &str) -> bool {
    call.cancelled.store(true, Ordering::Relaxed);
    let Some(done) = call.done.lock().take() else { return false };
    POOL.deliver_later(call.clone(), done, cancelled_error(why));
    true
}

/// Calls `done` with the outcome (a panic in it stays here), then marks the call settled.
fn deliver(call: &Call, done: Done, outcome: Result<Reply>) {
    let _ = DELIVERING.try_with(|id| id.set(call.id));
    let _ = catch_unwind(AssertUnwindSafe(|| done(outcome)));
    let _ = DELIVERING.try_with(|id| id.set(0));
    let mut state = call.owner.state.lock();
    state.open.remove(&call.id);
    call.owner.settled.notify_all();
}

/// Runs a call's work on this thread (unless it was cancelled first) and delivers the outcome
/// if a cancellation did not take the callback meanwhile.
fn run(call: Arc<Call>) {
    let Some(work) = call.work.lock().take() else { return };
    if call.cancelled.load(Ordering::Relaxed) {
        return; // cancel() took the callback and delivers it.
    }
    let _ = RUNNING.try_with(|running| *running.borrow_mut() = Some(call.clone()));
    let outcome = catch_unwind(AssertUnwindSafe(work)).unwrap_or_else(|panic| Err(internal_error(&*panic)));
    let _ = RUNNING.try_with(|running| *running.borrow_mut() = None);
    let done = call.done.lock().take();
    if let Some(done) = done {
        deliver(&call, done, outcome);
    }
}

fn internal_error(panic: &(dyn std::any::Any + Send)) -> Error {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Error::new(
        ErrorKind::Internal,
        format!("internal error (a bug in icdapi {}; please report it): {what}", env!("CARGO_PKG_VERSION")),
    )
}

/// The process's threads for calls.
struct Pool {
    state: Mutex<PoolState>,
    wake: Condvar,
}

struct PoolState {
    /// The process the threads below belong to: a forked child has none of them.
    pid: u32,
    queue: VecDeque<Arc<Call>>,
    /// Cancelled calls whose callbacks are due; they go before any queued work.
    deliveries: VecDeque<(Arc<Call>, Done, Error)>,
    workers: usize,
    idle: usize,
    /// A thread that only delivers cancellations, for when every worker is busy.
    courier: bool,
}

static POOL: Pool = Pool {
    state: Mutex::new(PoolState {
        pid: 0,
        queue: VecDeque::new(),
        deliveries: VecDeque::new(),
        workers: 0,
        idle: 0,
        courier: false,
    }),
    wake: Condvar::new(),
};

impl Pool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        let mut state = self.state.lock();
        let pid = std::process::id();
        if state.pid != pid {
            // First use, or a child after fork(): the parent's threads are not here.
            state.pid = pid;
            state.workers = 0;
            state.idle = 0;
            state.courier = false;
        }
        state
    }

    fn submit(&'static self, call: Arc<Call>) -> Result<()> {
        let mut state = self.lock();
        state.queue.push_back(call);
        if state.queue.len() <= state.idle {
            self.wake.notify_one();
        } else if state.workers < thread_limit() {
            match spawn("icdapi-call", || worker(false)) {
                Ok(()) => state.workers += 1,
                Err(error) if state.workers == 0 => {
                    state.queue.pop_back();
                    return Err(error);
                }
                Err(_) => {} // queued: a thread that exists takes it
            }
        }
        Ok(())
    }

    fn deliver_later(&'static self, call: Arc<Call>, done: Done, error: Error) {
        let mut state = self.lock();
        state.deliveries.push_back((call, done, error));
        if state.deliveries.len() <= state.idle {
            self.wake.notify_one();
        } else if !state.courier {
            match spawn("icdapi-cancel", || worker(true)) {
                Ok(()) => state.courier = true,
                Err(_) if state.workers == 0 => {
                    // No thread at all can be had: deliver here rather than never.
                    let (call, done, error) = state.deliveries.pop_back().expect("just pushed");
                    drop(state);
                    deliver(&call, done, Err(error));
                }
                Err(_) => {}
            }
        }
    }

    /// A cancelled callback of this registry's calls waiting for a thread, if any.
    fn take_delivery_of(&self, registry: &Arc<Registry>) -> Option<(Arc<Call>, Done, Error)> {
        let mut state = self.lock();
        let at = state.deliveries.iter().position(|(call, _, _)| Arc::ptr_eq(&call.owner, registry))?;
        state.deliveries.remove(at)
    }
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map(drop)
        .map_err(|error| Error::new(ErrorKind::Internal, format!("could not start a thread for the call: {error}")))
}

/// A thread of the pool: cancellations first, then queued calls; a worker ends when idle for
/// `IDLE_LIFETIME` or above a lowered bound, the courier when no cancellation is left.
fn worker(courier: bool) {
    let mut state = POOL.lock();
    loop {
        if let Some((call, done, error)) = state.deliveries.pop_front() {
            MutexGuard::unlocked(&mut state, || deliver(&call, done, Err(error)));
            continue;
        }
        if courier || state.workers > thread_limit() {
            break;
        }
        if let Some(call) = state.queue.pop_front() {
            MutexGuard::unlocked(&mut state, || run(call));
            continue;
        }
        state.idle += 1;
        let timed_out = POOL.wake.wait_for(&mut state, IDLE_LIFETIME).timed_out();
        state.idle -= 1;
        if timed_out && state.queue.is_empty() && state.deliveries.is_empty() {
            break;
        }
    }
    if courier {
        state.courier = false;
    } else {
        state.workers -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn reply() -> Result<Reply> {
        Ok(Reply { body: Arc::from("{}"), http_status: 200, reports_error: false })
    }

    #[test]
    fn a_panic_in_the_work_reaches_the_callback_as_an_internal_error_and_the_pool_lives_on() {
        let calls = Calls::new();
        let (sent, got) = mpsc::channel();
        let to = sent.clone();
        calls
            .start(Box::new(|| panic!("forced by a test")), Box::new(move |outcome| to.send(outcome).unwrap()))
            .unwrap();
        let error = got.recv_timeout(Duration::from_secs(10)).unwrap().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Internal);
        assert!(error.message().contains("forced by a test") && error.message().contains("bug"), "{error}");
        // A callback that panics stays in the pool too; the next call still completes.
        calls.start(Box::new(reply), Box::new(|_| panic!("a callback's panic"))).unwrap();
        calls.start(Box::new(reply), Box::new(move |outcome| sent.send(outcome).unwrap())).unwrap();
        assert_eq!(got.recv_timeout(Duration::from_secs(10)).unwrap().unwrap().http_status, 200);
    }

    #[test]
    fn a_closed_set_of_calls_refuses_new_ones_and_cancels_before_running() {
        let calls = Calls::new();
        calls.close();
        let error = calls.start(Box::new(reply), Box::new(|_| unreachable!("never called"))).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Cancelled);
        assert!(error.message().contains("being freed"), "{error}");
    }
}
