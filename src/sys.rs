//! The system calls the core makes itself (Unix only): the one place outside `ffi/` where
//! `unsafe` is allowed (`#![deny(unsafe_code)]` at the crate root). Each function is a safe
//! wrapper whose arguments cannot make the call unsound; each `unsafe` block says why it is sound.
//! The tests' own system calls are here too (`testing`), so that no other module needs `unsafe`.
#![allow(unsafe_code)]
#![cfg(unix)]

use std::fs::File;
use std::io;
use std::net::TcpStream;
use std::os::fd::AsRawFd;

/// Looks at the socket without taking anything and without waiting: `recv(MSG_PEEK |
/// MSG_DONTWAIT)` of one byte. The bytes available (0 at the end of the stream), or the error
/// (`WouldBlock` when nothing has come).
pub fn peek_without_waiting(tcp: &TcpStream) -> io::Result<usize> {
    let mut byte = 0u8;
    // SAFETY: a one-byte buffer that lives across the call, with its true length, on a
    // descriptor that `tcp` owns and keeps open for the call.
    let read =
        unsafe { libc::recv(tcp.as_raw_fd(), (&mut byte as *mut u8).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    if read < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(read as usize)
    }
}

/// Takes the exclusive `flock` of `file` without waiting: true when it is ours (released when
/// the file is closed), false when another open file description holds it.
pub fn try_lock_exclusive(file: &File) -> bool {
    // SAFETY: flock takes a descriptor and flags, no memory; `file` owns the descriptor and keeps
    // it open for the call.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}

/// The effective user id of the process.
pub fn effective_uid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Registers `handler` to run in the child after every `fork()`. The handler runs in a process
/// where only async-signal-safe work is allowed: it must only touch atomics.
pub fn on_fork_in_child(handler: extern "C" fn()) {
    // SAFETY: registers a function pointer that lives for the whole program (a plain `fn`);
    // no prepare or parent handler. The caller promises the handler only touches atomics.
    unsafe {
        libc::pthread_atfork(None, None, Some(handler));
    }
}

/// The HTTPS server of the connection tests (tests/connections.rs), also used by `http::tls`'s
/// unit tests; it sets SO_LINGER itself (a reset on close).
#[cfg(test)]
#[path = "../tests/tls_server/mod.rs"]
pub mod tls_server;

/// The system calls of the unit tests.
#[cfg(test)]
pub mod testing {
    use std::io;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::time::Duration;

    /// A loopback listener on a free port whose accept queue holds one connection.
    pub fn listener_with_a_queue_of_one() -> TcpListener {
        // SAFETY: a new socket that the listener owns from here on.
        let listener = unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
            assert!(fd >= 0, "socket: {}", io::Error::last_os_error());
            TcpListener::from_raw_fd(fd)
        };
        let any_port = libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: 0,
            sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes([127, 0, 0, 1]) },
            sin_zero: [0; 8],
        };
        // SAFETY: a sockaddr_in that lives across the calls, with its true size, on the
        // listener's own descriptor.
        unsafe {
            let size = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let fd = listener.as_raw_fd();
            assert_eq!(libc::bind(fd, (&any_port as *const libc::sockaddr_in).cast(), size), 0);
            assert_eq!(libc::listen(fd, 0), 0); // a queue of one
        }
        listener
    }

    /// Waits up to `within` until something, data or the end, can be read from `tcp`.
    pub fn wait_readable(tcp: &TcpStream, within: Duration) -> bool {
        let mut poll = libc::pollfd { fd: tcp.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd that lives across the call.
        unsafe { libc::poll(&mut poll, 1, within.as_millis() as libc::c_int) == 1 }
    }

    /// The calling thread, for `interrupt`.
    pub fn this_thread() -> libc::pthread_t {
        // SAFETY: pthread_self has no preconditions.
        unsafe { libc::pthread_self() }
    }

    /// Interrupts the thread `target` with a signal whose handler does nothing and is installed
    /// without SA_RESTART, `times` times `every` apart (as a program's own timers or a debugger
    /// do). `target` must stay alive until then.
    pub fn interrupt(target: libc::pthread_t, times: u32, every: Duration) {
        extern "C" fn ignore(_: libc::c_int) {}
        // SAFETY: a handler that does nothing, installed for a signal nothing else in the tests
        // uses; pthread_kill on a thread the caller keeps alive until it has seen the signals.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = ignore as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = 0; // no SA_RESTART: a blocked read or write returns EINTR
            libc::sigemptyset(&mut action.sa_mask);
            assert_eq!(libc::sigaction(libc::SIGUSR2, &action, std::ptr::null_mut()), 0);
            for _ in 0..times {
                std::thread::sleep(every);
                libc::pthread_kill(target, libc::SIGUSR2);
            }
        }
    }

    /// Sets a socket's buffer (`libc::SO_SNDBUF` or `libc::SO_RCVBUF`) to `size` bytes.
    pub fn set_buffer(tcp: &TcpStream, which: libc::c_int, size: libc::c_int) -> bool {
        // SAFETY: an int option that lives across the call, with its true size, on a descriptor
        // `tcp` owns.
        unsafe {
            libc::setsockopt(
                tcp.as_raw_fd(),
                libc::SOL_SOCKET,
                which,
                (&size as *const libc::c_int).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            ) == 0
        }
    }
}
