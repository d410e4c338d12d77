//! HTTP: request targets and percent-encoding (`url`), host name resolution (`resolver`), the
//! process-wide connection pools (`pool`) and their shared TLS configurations (`tls`), and one
//! exchange with retries over ureq (`transport`). Knows nothing of tokens or of ICD.

pub mod pool;
pub mod resolver;
pub mod socket;
pub mod tls;
pub mod transport;
pub mod url;

/// What the tests of these modules share.
#[cfg(test)]
pub(crate) mod testing {
    use std::io;
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::time::Duration;

    use ureq::http::Uri;
    use ureq::unversioned::resolver::{DefaultResolver, Resolver};
    use ureq::unversioned::transport::{time, ConnectionDetails, NextTimeout};

    /// Runs `test` on a thread and fails if it has not finished within `seconds`: a test of code
    /// that waits must fail, not hang, when the code waits too long.
    pub fn within<T: Send + 'static>(seconds: u64, test: impl FnOnce() -> T + Send + 'static) -> T {
        use std::sync::mpsc;
        let (done, finished) = mpsc::channel();
        let runner = std::thread::spawn(move || {
            let _ = done.send(test());
        });
        match finished.recv_timeout(Duration::from_secs(seconds)) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Disconnected) => std::panic::resume_unwind(runner.join().unwrap_err()),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish within {seconds} s"),
        }
    }

    /// A loopback address whose connections never complete: its listener's queue is full (one
    /// connection made and never accepted), so the kernel drops new SYNs, as a firewall does.
    /// Keep the returned values alive as long as the address is used.
    #[cfg(unix)]
    pub fn unanswered_address() -> (SocketAddr, TcpListener, TcpStream) {
        let listener = crate::sys::testing::listener_with_a_queue_of_one();
        let address = listener.local_addr().unwrap();
        let queued = TcpStream::connect(address).unwrap();
        // The queue is full now: check that a connection is indeed left unanswered.
        let probe = TcpStream::connect_timeout(&address, Duration::from_millis(100));
        assert_eq!(probe.unwrap_err().kind(), io::ErrorKind::TimedOut, "the listener still answers");
        (address, listener, queued)
    }

    /// Calls `connect` with what ureq tells a connector for `url` at `addresses`, with `budget`
    /// to connect (a `Duration`, or `time::Duration::NotHappening` for no deadline at all).
    pub fn with_details<T>(
        url: &str,
        addresses: &[SocketAddr],
        budget: impl Into<time::Duration>,
        connect: impl FnOnce(&ConnectionDetails) -> T,
    ) -> T {
        let uri: Uri = url.parse().unwrap();
        let config = ureq::Agent::config_builder().build();
        let resolver = DefaultResolver::default();
        let mut addrs = resolver.empty();
        for address in addresses {
            addrs.push(*address);
        }
        let timeout = NextTimeout { after: budget.into(), reason: ureq::Timeout::Connect, ..NextTimeout::default() };
        connect(&crate::http::pool::connection_details(&uri, addrs, &config, &resolver, timeout))
    }
}
