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

use crate::http::tls::{INPUT_BUFFER, OUTPUT_BUFFER};

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
            Socket::Direct { tcp, .. } => loop {
                match tcp.read(buffer) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    result => return result,
                }
            },
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

/// Looks at the socket without taking anything and without waiting: one system call
/// (`MSG_PEEK | MSG_DONTWAIT`) where ureq's own probe makes three.
#[cfg(unix)]
pub fn peek_without_waiting(tcp: &TcpStream) -> io::Result<usize> {
    use std::os::fd::AsRawFd;
    let mut byte = 0u8;
    // SAFETY: a one-byte buffer that lives across the call, on a socket we own.
    let read =
        unsafe { libc::recv(tcp.as_raw_fd(), (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    if read < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(read as usize)
    }
}

#[cfg(not(unix))]
pub fn peek_without_waiting(tcp: &TcpStream) -> io::Result<usize> {
    tcp.set_nonblocking(true)?;
    let peeked = tcp.peek(&mut [0u8]);
    tcp.set_nonblocking(false)?;
    peeked
}

/// A plain-HTTP connection as ureq sees it, on a socket of our own.
pub struct PlainTransport {
    buffers: LazyBuffers,
    tcp: Socket,
}

impl PlainTransport {
    pub fn connect(details: &ConnectionDetails) -> Result<PlainTransport, ureq::Error> {
        let (tcp, _) = connect(details)?;
        Ok(PlainTransport { buffers: LazyBuffers::new(INPUT_BUFFER, OUTPUT_BUFFER), tcp: Socket::direct(tcp) })
    }
}

impl Transport for PlainTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        let timeout = timeout.for_write();
        self.tcp.set_timeout(timeout, Direction::Write)?;
        self.tcp.write_all(&self.buffers.output()[..amount]).map_err(|e| timed_out(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        self.tcp.set_timeout(timeout, Direction::Read)?;
        let amount = self.tcp.read(self.buffers.input_append_buf()).map_err(|e| timed_out(e, timeout.reason))?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    /// Open when nothing came since the last answer: neither the server's close nor unasked bytes.
    fn is_open(&mut self) -> bool {
        let Socket::Direct { tcp, .. } = &self.tcp else { return false };
        matches!(peek_without_waiting(tcp), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

impl std::fmt::Debug for PlainTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlainTransport")
    }
}
