//! HTTP: request targets and percent-encoding (`url`), host name resolution (`resolver`), the
//! process-wide connection pools (`pool`) and their shared TLS configurations (`tls`), and one
//! exchange with retries over ureq (`transport`). Knows nothing of tokens or of ICD.

pub mod pool;
pub mod resolver;
pub mod socket;
pub mod tls;
pub mod transport;
pub mod url;

/// Runs `test` on a thread and fails if it has not finished within `seconds`: a test of code
/// that waits must fail, not hang, when the code waits too long.
#[cfg(test)]
pub(crate) fn within<T: Send + 'static>(seconds: u64, test: impl FnOnce() -> T + Send + 'static) -> T {
    use std::sync::mpsc;
    let (done, finished) = mpsc::channel();
    let runner = std::thread::spawn(move || {
        let _ = done.send(test());
    });
    match finished.recv_timeout(std::time::Duration::from_secs(seconds)) {
        Ok(result) => result,
        Err(mpsc::RecvTimeoutError::Disconnected) => std::panic::resume_unwind(runner.join().unwrap_err()),
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish within {seconds} s"),
    }
}
