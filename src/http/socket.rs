//! Our own TCP connections: opened within the connection's deadline, with timeouts set only
//! when they change, reads retried after a signal, and a liveness check of one system call.
//!
//! ureq's `TcpConnector` would do, but TLS over it costs a second set of buffers and a copy of
//! every byte, and its check of a kept connection makes three system calls where a
//! `MSG_PEEK | MSG_DONTWAIT` look makes one. Through a proxy, ureq's CONNECT tunnel is used as it
//! is (`Socket::Tunnel`).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use ureq::unversioned::transport::{Buffers, ConnectionDetails, LazyBuffers, NextTimeout, Transport, TransportAdapter};

/// Sizes of the (plaintext) buffers of a connection, plain or TLS. ureq's default is 128 KiB
/// each, zeroed when a connection is opened; a response head is at most
/// `tls::MAX_RESPONSE_HEAD` (the input buffer must be larger, so that a head too large is
/// reported as such), and the request line must fit in the output buffer (see
/// `transport::MAX_URL_BYTES`).
pub const INPUT_BUFFER: usize = 72 * 1024;
pub const OUTPUT_BUFFER: usize = 16 * 1024;

/// Opens a TCP connection to one of the request's addresses, the connection's time shared evenly
/// between those not yet tried. Returns it with the time left.
pub fn connect(details: &ConnectionDetails) -> Result<(TcpStream, Duration), ureq::Error> {
    let started = Instant::now();
    let budget = *details.timeout.after;
    let left = || budget.saturating_sub(started.elapsed());
    let count = details.addrs.len();
    let mut last_error = None;
    for (index, address) in details.addrs.iter().enumerate() {
        let share = (left() / (count - index) as u32).max(Duration::from_millis(10)).min(left());
        if share.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(address, share) {
            Ok(tcp) => {
                tcp.set_nodelay(details.config.no_delay())?;
                return Ok((tcp, left()));
            }
            Err(e) => last_error = Some(e),
        }
    }
    Err(match last_error {
        Some(e) if !matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => e.into(),
        Some(_) => ureq::Error::Timeout(details.timeout.reason),
        None if left().is_zero() => ureq::Error::Timeout(details.timeout.reason),
        None => ureq::Error::HostNotFound,
    })
}

/// A socket's timeouts as ureq's timeout error, other errors as they are.
pub fn timed_out(error: io::Error, reason: ureq::Timeout) -> ureq::Error {
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ureq::Error::Timeout(reason),
        _ => ureq::Error::Io(error),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Read,
    Write,
    Both,
}

/// A TCP connection of our own, or a tunnel through a proxy (ureq's).
pub enum Socket {
    Direct { tcp: TcpStream, read_timeout: Option<Duration>, write_timeout: Option<Duration> },
    Tunnel(TransportAdapter),
}

impl Socket {
    pub fn direct(tcp: TcpStream) -> Socket {
        Socket::Direct { tcp, read_timeout: None, write_timeout: None }
    }

    /// Sets the time the next reads or writes may take. In whole milliseconds (the deadline's
    /// unit), so that the calls of one request, microseconds apart, set it once.
    pub fn set_timeout(&mut self, timeout: NextTimeout, direction: Direction) -> Result<(), ureq::Error> {
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        let (tcp, read_timeout, write_timeout) = match self {
            Socket::Direct { tcp, read_timeout, write_timeout } => (tcp, read_timeout, write_timeout),
            Socket::Tunnel(tunnel) => {
                tunnel.set_timeout(timeout);
                return Ok(());
            }
        };
        let wanted = (!timeout.after.is_not_happening())
            .then(|| Duration::from_millis(timeout.after.as_millis() as u64).max(Duration::from_millis(1)));
        if direction != Direction::Write && *read_timeout != wanted {
            tcp.set_read_timeout(wanted)?;
            *read_timeout = wanted;
        }
        if direction != Direction::Read && *write_timeout != wanted {
            tcp.set_write_timeout(wanted)?;
            *write_timeout = wanted;
        }
        Ok(())
    }

    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Socket::Direct { tcp, .. } => tcp.set_nonblocking(nonblocking),
            Socket::Tunnel(_) => Ok(()),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            // A signal interrupts a read with a timeout (Linux does not restart those): retry.
            Socket::Direct { tcp, read_timeout, .. } => {
                if crate::calls::in_call() {
                    wait_readable_unless_cancelled(tcp, *read_timeout)?;
                }
                loop {
                    match tcp.read(buffer) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        result => return result,
                    }
                }
            }
            Socket::Tunnel(tunnel) => tunnel.read(buffer),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Direct { tcp, .. } => loop {
                match tcp.write(bytes) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    result => return result,
                }
            },
            Socket::Tunnel(tunnel) => tunnel.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Socket::Direct { tcp, .. } => tcp.flush(),
            Socket::Tunnel(tunnel) => tunnel.flush(),
        }
    }
}

/// On a thread of icd_start's pool: waits until the socket has something to read, looking every
/// few milliseconds whether the call was cancelled, so that a cancelled call's thread is free
/// soon rather than at the read's timeout. An error when it was cancelled; a timeout error when
/// `timeout` passed first, as the read itself would have given. (Elsewhere, and on Windows, the
/// read waits by itself: the cancelled call's callback has come already; only the thread waits.)
#[cfg(unix)]
fn wait_readable_unless_cancelled(tcp: &TcpStream, timeout: Option<Duration>) -> io::Result<()> {
    let started = std::time::Instant::now();
    loop {
        if crate::calls::cancelled() {
            return Err(io::Error::other("the call was cancelled"));
        }
        let slice = match timeout {
            Some(timeout) => {
                let left = timeout.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(io::ErrorKind::TimedOut.into());
                }
                left.min(crate::calls::CANCEL_CHECK)
            }
            None => crate::calls::CANCEL_CHECK,
        };
        match crate::sys::wait_readable(tcp, slice) {
            Ok(false) => continue,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
            Ok(true) => return Ok(()), // readable, closed or in error: the read tells which
        }
    }
}

#[cfg(not(unix))]
fn wait_readable_unless_cancelled(_: &TcpStream, _: Option<Duration>) -> io::Result<()> {
    Ok(())
}

/// Looks at the socket without taking anything and without waiting: one system call
/// (`MSG_PEEK | MSG_DONTWAIT`) where ureq's own probe makes three. (One function with both
/// platforms' bodies, so that what tests hold on Unix holds the one function there is.)
pub fn peek_without_waiting(tcp: &TcpStream) -> io::Result<usize> {
    #[cfg(unix)]
    {
        crate::sys::peek_without_waiting(tcp)
    }
    #[cfg(not(unix))]
    {
        tcp.set_nonblocking(true)?;
        let peeked = tcp.peek(&mut [0u8]);
        tcp.set_nonblocking(false)?;
        peeked
    }
}

/// A plain-HTTP connection as ureq sees it, on a socket of our own.
pub struct PlainTransport {
    buffers: LazyBuffers,
    tcp: Socket,
    /// Bytes went either way since `is_open` last looked: see `is_open`.
    used_since_look: bool,
}

impl PlainTransport {
    pub fn connect(details: &ConnectionDetails) -> Result<PlainTransport, ureq::Error> {
        let (tcp, _) = connect(details)?;
        Ok(PlainTransport::on(Socket::direct(tcp)))
    }

    fn on(tcp: Socket) -> PlainTransport {
        PlainTransport { buffers: LazyBuffers::new(INPUT_BUFFER, OUTPUT_BUFFER), tcp, used_since_look: false }
    }
}

impl Transport for PlainTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        self.tcp.set_timeout(timeout, Direction::Write)?;
        self.used_since_look = true;
        self.tcp.write_all(&self.buffers.output()[..amount]).map_err(|e| timed_out(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        self.tcp.set_timeout(timeout, Direction::Read)?;
        self.used_since_look = true;
        let amount = self.tcp.read(self.buffers.input_append_buf()).map_err(|e| timed_out(e, timeout.reason))?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    /// Open when nothing came since the last answer: neither the server's close nor unasked bytes.
    ///
    /// ureq asks twice per kept-alive request: when an answer has been read and the connection
    /// goes back to the pool, and when the pool hands it out for the next request. Only the
    /// second look matters — whatever the first could see (a close or stray bytes right after
    /// the answer) is still there for the second to see, and a connection that fails it is
    /// dropped and another taken, as before — so the first look after an exchange answers
    /// "open" without a system call: one `recv` per request saved, a quarter of them.
    fn is_open(&mut self) -> bool {
        if std::mem::take(&mut self.used_since_look) {
            return matches!(self.tcp, Socket::Direct { .. });
        }
        let Socket::Direct { tcp, .. } = &self.tcp else { return false };
        matches!(peek_without_waiting(tcp), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

impl std::fmt::Debug for PlainTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainTransport")
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use crate::http::testing::{unanswered_address, with_details, within};
    use crate::sys::testing as sys;
    use std::net::{SocketAddr, TcpListener};
    use std::sync::mpsc;

    use ureq::unversioned::transport::time;

    /// Calls `connect` for `addresses` within `budget`, as ureq would for a URL at them.
    fn connect_to(addresses: &[SocketAddr], budget: Duration) -> Result<(TcpStream, Duration), ureq::Error> {
        with_details("http://icd.test/icd/entity", addresses, budget, connect)
    }

    #[test]
    fn an_address_that_does_not_answer_leaves_time_for_the_next() {
        within(20, || {
            let (silent, _listener, _queued) = unanswered_address();
            let server = TcpListener::bind("127.0.0.1:0").unwrap();
            let budget = Duration::from_millis(1600);
            let started = Instant::now();
            let (tcp, left) = connect_to(&[silent, server.local_addr().unwrap()], budget).unwrap();
            let elapsed = started.elapsed();
            assert_eq!(tcp.peer_addr().unwrap(), server.local_addr().unwrap());
            // The silent address had its half of the time, not more: the rest is left.
            assert!(elapsed >= budget / 2, "the first address was given up after {elapsed:?}");
            assert!(left <= budget - elapsed + Duration::from_millis(50), "{left:?} left after {elapsed:?}");
            assert!(left > Duration::ZERO);
        });
    }

    #[test]
    fn addresses_that_do_not_answer_share_the_time_and_end_in_a_timeout() {
        within(20, || {
            let (silent, _listener, _queued) = unanswered_address();
            let budget = Duration::from_millis(1200);
            let started = Instant::now();
            let error = connect_to(&[silent, silent, silent], budget).unwrap_err();
            let elapsed = started.elapsed();
            assert!(matches!(error, ureq::Error::Timeout(ureq::Timeout::Connect)), "{error:?}");
            // Each address had its share of the whole time: the last one what was left.
            assert!(elapsed >= budget - Duration::from_millis(30), "gave up after {elapsed:?}");
        });
    }

    #[test]
    fn no_time_left_to_connect_is_a_timeout_and_no_address_a_host_not_found() {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let error = connect_to(&[server.local_addr().unwrap()], Duration::ZERO).unwrap_err();
        assert!(matches!(error, ureq::Error::Timeout(ureq::Timeout::Connect)), "{error:?}");
        let error = connect_to(&[], Duration::from_secs(5)).unwrap_err();
        assert!(matches!(error, ureq::Error::HostNotFound), "{error:?}");
    }

    #[test]
    fn a_refused_connection_is_reported_as_such() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap(); // closed again
        let error = connect_to(&[port], Duration::from_secs(5)).unwrap_err();
        assert!(matches!(&error, ureq::Error::Io(e) if e.kind() == io::ErrorKind::ConnectionRefused), "{error:?}");
    }

    /// A plain-HTTP transport connected to a server that accepts and then neither reads nor
    /// writes anything.
    fn transport_to_a_silent_server() -> (PlainTransport, TcpStream) {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let tcp = TcpStream::connect(server.local_addr().unwrap()).unwrap();
        let (accepted, _) = server.accept().unwrap();
        (PlainTransport::on(Socket::direct(tcp)), accepted)
    }

    fn in_ms(ms: u64, reason: ureq::Timeout) -> NextTimeout {
        NextTimeout { after: time::Duration::Exact(Duration::from_millis(ms)), reason, ..NextTimeout::default() }
    }

    #[test]
    fn a_server_that_stops_reading_makes_a_write_time_out() {
        let error = within(20, || {
            let (mut transport, _server) = transport_to_a_silent_server();
            // Writes succeed until the socket buffers on both sides are full; then the write
            // waits, and gives up when its time is up.
            loop {
                let amount = transport.buffers().output().len();
                if let Err(error) = transport.transmit_output(amount, in_ms(300, ureq::Timeout::SendBody)) {
                    return error;
                }
            }
        });
        assert!(matches!(error, ureq::Error::Timeout(ureq::Timeout::SendBody)), "{error:?}");
    }

    #[test]
    fn a_server_that_does_not_answer_makes_a_read_time_out() {
        let error = within(20, || {
            let (mut transport, _server) = transport_to_a_silent_server();
            transport.await_input(in_ms(200, ureq::Timeout::RecvResponse)).unwrap_err()
        });
        assert!(matches!(error, ureq::Error::Timeout(ureq::Timeout::RecvResponse)), "{error:?}");
    }

    #[test]
    fn a_timeout_is_set_on_its_direction_only() {
        let (mut transport, _server) = transport_to_a_silent_server();
        let Socket::Direct { tcp, .. } = &transport.tcp else { unreachable!() };
        let tcp = tcp.try_clone().unwrap();
        transport.tcp.set_timeout(in_ms(700, ureq::Timeout::SendRequest), Direction::Write).unwrap();
        assert_eq!(tcp.write_timeout().unwrap(), Some(Duration::from_millis(700)));
        assert_eq!(tcp.read_timeout().unwrap(), None, "a write's timeout was set on reads");
        transport.tcp.set_timeout(in_ms(300, ureq::Timeout::RecvResponse), Direction::Read).unwrap();
        assert_eq!(tcp.read_timeout().unwrap(), Some(Duration::from_millis(300)));
        assert_eq!(
            tcp.write_timeout().unwrap(),
            Some(Duration::from_millis(700)),
            "a read's timeout was set on writes"
        );
        transport.tcp.set_timeout(in_ms(100, ureq::Timeout::Global), Direction::Both).unwrap();
        assert_eq!(tcp.read_timeout().unwrap(), Some(Duration::from_millis(100)));
        assert_eq!(tcp.write_timeout().unwrap(), Some(Duration::from_millis(100)));
        let error = transport.tcp.set_timeout(in_ms(0, ureq::Timeout::Global), Direction::Both).unwrap_err();
        assert!(matches!(error, ureq::Error::Timeout(ureq::Timeout::Global)), "{error:?}");
    }

    #[test]
    fn a_kept_connection_is_open_until_the_server_closes_it_or_sends_unasked_bytes() {
        within(20, || {
            let (mut transport, server) = transport_to_a_silent_server();
            assert_eq!(format!("{transport:?}"), "PlainTransport", "what ureq's debug log shows of it");
            assert!(transport.is_open(), "a connection on which nothing came is open");
            assert!(transport.is_open(), "and stays so when asked again");
            drop(server); // the server closes its side: a FIN arrives
            wait_for_input(&transport);
            assert!(!transport.is_open(), "a connection the server closed was taken for open");

            let (mut transport, mut server) = transport_to_a_silent_server();
            assert!(transport.is_open());
            server.write_all(b"HTTP/1.1 408 Request Timeout\r\n\r\n").unwrap();
            wait_for_input(&transport);
            assert!(!transport.is_open(), "a connection with unasked bytes waiting was taken for open");
            assert!(!transport.is_open(), "the look took nothing away");
        });
    }

    #[test]
    fn the_look_after_an_exchange_is_left_to_the_next_take() {
        within(20, || {
            let (mut transport, mut server) = transport_to_a_silent_server();
            server.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
            assert!(transport.await_input(in_ms(2000, ureq::Timeout::RecvResponse)).unwrap());
            let answer = transport.buffers().input().len();
            transport.buffers().input_consume(answer);
            drop(server); // closed right after its answer
            wait_for_input(&transport);
            // Going back to the pool: not looked at (the pool's take looks, next).
            assert!(transport.is_open(), "the first look after an exchange made a system call");
            // Taken from the pool: looked at, and the close is seen.
            assert!(!transport.is_open(), "a connection the server closed was handed out");
            assert!(!transport.is_open());
        });
    }

    /// Waits (up to 5 s) until something, data or the end, can be read from the transport's socket.
    fn wait_for_input(transport: &PlainTransport) {
        let Socket::Direct { tcp, .. } = &transport.tcp else { unreachable!() };
        assert!(sys::wait_readable(tcp, Duration::from_secs(5)), "nothing came within 5 s");
    }

    /// Interrupts the thread `target` with a signal whose handler does nothing and is installed
    /// without SA_RESTART, a few times over 300 ms (as a program's own timers or a debugger do).
    fn interrupt(target: libc::pthread_t) {
        sys::interrupt(target, 6, Duration::from_millis(50));
    }

    #[test]
    fn a_read_interrupted_by_a_signal_goes_on_waiting() {
        within(20, || {
            let (mut transport, mut server) = transport_to_a_silent_server();
            transport.tcp.set_timeout(in_ms(10_000, ureq::Timeout::RecvResponse), Direction::Read).unwrap();
            let (started, reader_thread) = mpsc::channel();
            let reader = std::thread::spawn(move || {
                started.send(sys::this_thread()).unwrap();
                let mut buffer = [0u8; 64];
                transport.tcp.read(&mut buffer).map(|n| buffer[..n].to_vec())
            });
            interrupt(reader_thread.recv().unwrap());
            server.write_all(b"HTTP/1.1 200 OK\r\n").unwrap();
            let read = reader.join().unwrap();
            assert_eq!(read.unwrap(), b"HTTP/1.1 200 OK\r\n".to_vec(), "the signal ended the read");
        });
    }

    /// Sets a socket's buffer (`SO_SNDBUF` or `SO_RCVBUF`) to a small fixed size.
    fn fix_buffer(tcp: &TcpStream, which: libc::c_int) {
        assert!(sys::set_buffer(tcp, which, 16 * 1024), "setsockopt: {}", io::Error::last_os_error());
    }

    #[test]
    fn a_write_interrupted_by_a_signal_goes_on_waiting() {
        within(20, || {
            let (mut transport, mut server) = transport_to_a_silent_server();
            // Fill the socket buffers (until they stay full: the kernel may grow them at
            // first) so that the next write waits for the server to read.
            let Socket::Direct { tcp, .. } = &transport.tcp else { unreachable!() };
            // Buffers of a fixed size: the kernel grows neither while the write waits.
            fix_buffer(tcp, libc::SO_SNDBUF);
            fix_buffer(&server, libc::SO_RCVBUF);
            tcp.set_nonblocking(true).unwrap();
            let chunk = vec![b'x'; 64 * 1024];
            let mut full_in_a_row = 0;
            while full_in_a_row < 3 {
                match transport.tcp.write(&chunk) {
                    Ok(_) => full_in_a_row = 0,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        full_in_a_row += 1;
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            let Socket::Direct { tcp, .. } = &transport.tcp else { unreachable!() };
            tcp.set_nonblocking(false).unwrap();
            transport.tcp.set_timeout(in_ms(10_000, ureq::Timeout::SendBody), Direction::Write).unwrap();
            let (started, writer_thread) = mpsc::channel();
            let writer = std::thread::spawn(move || {
                started.send(sys::this_thread()).unwrap();
                transport.tcp.write(&chunk)
            });
            interrupt(writer_thread.recv().unwrap());
            let waited = !writer.is_finished();
            // Now the server reads: the write can go on, and must.
            let mut buffer = vec![0u8; 64 * 1024];
            server.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
            while !writer.is_finished() {
                let _ = server.read(&mut buffer);
            }
            let written = writer.join().unwrap();
            assert!(written.as_ref().is_ok_and(|n| *n > 0), "the signal ended the write: {written:?}");
            assert!(waited, "the write did not wait for the server (the test's premise)");
        });
    }
}
