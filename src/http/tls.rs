//! TLS with one rustls `ClientConfig` per trust configuration, built once and shared.
//!
//! Why not ureq's own rustls connector: it caches its `ClientConfig` only for agent-level
//! requests (`get_cached_config` in ureq's `tls/rustls.rs`). Every request of ours carries its
//! own deadline (`timeout_global`), which makes its configuration request-level, and ureq then
//! builds a fresh `ClientConfig` for every connection: the system trust store read again (the
//! platform verifier opens and decodes every root certificate, ~30 M instructions), and an empty
//! session cache, so no TLS session ever resumed. Here the `ClientConfig` is built once per
//! trust configuration, and its session cache (tickets, TLS 1.3 PSK) serves every connection
//! made with it. The rest of the connection — TCP, proxies, timeouts — stays ureq's.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ring::digest::{Context, SHA256};
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    time, Buffers, ConnectionDetails, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

use crate::error::{Error, Result};
use crate::http::transport::io_text;

/// Sizes of the plaintext buffers of a TLS connection. ureq's default is 128 KiB each, zeroed
/// when a connection is opened; a response head is at most `MAX_RESPONSE_HEAD` (the input
/// buffer must be larger, so that a head too large is reported as such), and the request line
/// must fit in the output buffer (see `transport::MAX_URL_BYTES`).
pub const INPUT_BUFFER: usize = 72 * 1024;
pub const OUTPUT_BUFFER: usize = 16 * 1024;
/// The largest response head (status line and headers) accepted: ureq's default.
pub const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// Where the certificates that vouch for servers come from.
#[derive(Clone)]
pub enum TrustRoots {
    /// The platform's store (on Linux the system's CA bundle; `SSL_CERT_FILE`/`SSL_CERT_DIR`).
    System,
    /// The certificates of a `ca_file`, with the SHA-256 of their DER bytes: two files with the
    /// same certificates are one trust configuration, one file whose content changed is another.
    Bundle { certs: Arc<Vec<CertificateDer<'static>>>, digest: [u8; 32] },
}

impl TrustRoots {
    /// Reads and checks a `ca_file` (one read; the certificates are decoded into a trust store
    /// only when a connection first needs them, once per content and process).
    pub fn from_ca_file(path: &std::path::Path) -> Result<TrustRoots> {
        use ureq::tls::PemItem;
        let bad = |why: String| Error::invalid_argument(format!("ca_file {}: {why}", path.display()));
        let pem = std::fs::read(path).map_err(|e| bad(io_text(&e)))?;
        let mut certs = Vec::new();
        let mut hash = Context::new(&SHA256);
        for item in ureq::tls::parse_pem(&pem) {
            if let PemItem::Certificate(cert) = item.map_err(|e| bad(format!("not a PEM bundle ({e})")))? {
                let der = cert.der().to_vec();
                hash.update(&(der.len() as u64).to_be_bytes());
                hash.update(&der);
                certs.push(CertificateDer::from(der));
            }
        }
        if certs.is_empty() {
            return Err(bad("holds no PEM certificate".into()));
        }
        let digest = hash.finish().as_ref().try_into().expect("SHA-256 is 32 bytes");
        Ok(TrustRoots::Bundle { certs: Arc::new(certs), digest })
    }

    /// What tells two trust configurations apart: None for the system's store.
    pub fn identity(&self) -> Option<[u8; 32]> {
        match self {
            TrustRoots::System => None,
            TrustRoots::Bundle { digest, .. } => Some(*digest),
        }
    }
}

/// The system store's verifier, shared by every trust configuration that uses it: the store is
/// read once per process (again only if reading it failed).
static SYSTEM_VERIFIER: LazyLock<Mutex<Option<Arc<dyn ServerCertVerifier>>>> = LazyLock::new(Default::default);

fn system_verifier(provider: &Arc<rustls::crypto::CryptoProvider>) -> Result<Arc<dyn ServerCertVerifier>> {
    let mut slot = SYSTEM_VERIFIER.lock();
    if let Some(verifier) = &*slot {
        return Ok(verifier.clone());
    }
    let verifier: Arc<dyn ServerCertVerifier> = Arc::new(
        rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|e| tls_setup_error(format!("the system's certificate store cannot be used: {e}")))?,
    );
    *slot = Some(verifier.clone());
    Ok(verifier)
}

fn tls_setup_error(message: String) -> Error {
    Error::new(crate::error::ErrorKind::Network, message)
}

/// The rustls configuration of one trust configuration, built on first use and then shared by
/// every connection made with it (and so is its cache of sessions to resume).
pub struct SharedTlsConfig {
    roots: TrustRoots,
    built: Mutex<Option<Arc<ClientConfig>>>,
}

impl SharedTlsConfig {
    pub fn new(roots: TrustRoots) -> SharedTlsConfig {
        SharedTlsConfig { roots, built: Mutex::new(None) }
    }

    pub fn get(&self) -> Result<Arc<ClientConfig>> {
        // Held while building, so that threads racing to the first connection build it once.
        let mut built = self.built.lock();
        if let Some(config) = &*built {
            return Ok(config.clone());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| tls_setup_error(format!("TLS cannot be set up: {e}")))?;
        let config = match &self.roots {
            TrustRoots::System => {
                // Not dangerous: the platform's own verifier, exactly what ureq uses for
                // RootCerts::PlatformVerifier.
                builder.dangerous().with_custom_certificate_verifier(system_verifier(&provider)?).with_no_client_auth()
            }
            TrustRoots::Bundle { certs, .. } => {
                let mut store = RootCertStore::empty();
                let (added, _) = store.add_parsable_certificates(certs.iter().cloned());
                if added == 0 {
                    return Err(Error::invalid_argument(
                        "ca_file: none of its certificates can serve as a trust anchor",
                    ));
                }
                builder.with_root_certificates(store).with_no_client_auth()
            }
        };
        // The default resumption store (in memory, 256 servers; tickets and TLS 1.3 PSK) is what
        // we want: it lives as long as this configuration, i.e. as long as the process.
        let config = Arc::new(config);
        *built = Some(config.clone());
        Ok(config)
    }
}

/// Opens a TCP connection to one of the request's addresses (the connection's time shared
/// between them) and does the TLS handshake on it, all within the connection's deadline.
pub fn connect(
    config: Arc<ClientConfig>,
    details: &ConnectionDetails,
) -> std::result::Result<TlsTransport, ureq::Error> {
    let started = Instant::now();
    let budget = *details.timeout.after;
    let left = || budget.saturating_sub(started.elapsed());
    let mut last_error = None;
    let count = details.addrs.len();
    let mut tcp = None;
    for (index, address) in details.addrs.iter().enumerate() {
        // The remaining time, split evenly between the addresses not yet tried.
        let share = (left() / (count - index) as u32).max(Duration::from_millis(10)).min(left());
        if share.is_zero() {
            return Err(ureq::Error::Timeout(details.timeout.reason));
        }
        match TcpStream::connect_timeout(address, share) {
            Ok(stream) => {
                tcp = Some(stream);
                break;
            }
            Err(e) => last_error = Some(e),
        }
    }
    let tcp = match (tcp, last_error) {
        (Some(tcp), _) => tcp,
        (None, Some(e)) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
            return Err(ureq::Error::Timeout(details.timeout.reason))
        }
        (None, Some(e)) => return Err(e.into()),
        (None, None) => return Err(ureq::Error::HostNotFound),
    };
    tcp.set_nodelay(details.config.no_delay())?;
    let mut socket = Socket::Direct { tcp, read_timeout: None, write_timeout: None };
    socket.set_timeout(NextTimeout { after: time::Duration::Exact(left()), ..details.timeout })?;
    handshake(config, details, socket)
}

/// Does the TLS handshake over a tunnel through a proxy, within the connection's deadline.
pub fn connect_tunnel(
    config: Arc<ClientConfig>,
    details: &ConnectionDetails,
    tunnel: Box<dyn Transport>,
) -> std::result::Result<TlsTransport, ureq::Error> {
    let mut socket = Socket::Tunnel(TransportAdapter::new(tunnel, details.current_time.clone()));
    socket.set_timeout(details.timeout)?;
    handshake(config, details, socket)
}

fn handshake(
    config: Arc<ClientConfig>,
    details: &ConnectionDetails,
    mut socket: Socket,
) -> std::result::Result<TlsTransport, ureq::Error> {
    let host = details.uri.host().ok_or(ureq::Error::Tls("a URL without a host"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let name = ServerName::try_from(host.to_owned()).map_err(|_| ureq::Error::Tls("not a valid TLS server name"))?;
    let mut connection = ClientConnection::new(config, name)?;
    connection.complete_io(&mut socket).map_err(|e| timed_out(e, details.timeout.reason))?;
    Ok(TlsTransport {
        buffers: LazyBuffers::new(INPUT_BUFFER, OUTPUT_BUFFER),
        stream: StreamOwned::new(connection, socket),
    })
}

/// A socket's timeouts as ureq's timeout error, other errors as they are.
fn timed_out(error: io::Error, reason: ureq::Timeout) -> ureq::Error {
    match error.kind() {
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => ureq::Error::Timeout(reason),
        _ => ureq::Error::Io(error),
    }
}

/// What TLS runs over: a TCP connection of our own, or a tunnel through a proxy (ureq's).
enum Socket {
    Direct { tcp: TcpStream, read_timeout: Option<Duration>, write_timeout: Option<Duration> },
    Tunnel(TransportAdapter),
}

impl Socket {
    /// Sets the time the next reads and writes may take (a system call only when it changed).
    fn set_timeout(&mut self, timeout: NextTimeout) -> std::result::Result<(), ureq::Error> {
        if timeout.after.is_zero() {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        match self {
            Socket::Direct { tcp, read_timeout, write_timeout } => {
                let wanted = (!timeout.after.is_not_happening()).then(|| *timeout.after);
                if *read_timeout != wanted {
                    tcp.set_read_timeout(wanted)?;
                    *read_timeout = wanted;
                }
                if *write_timeout != wanted {
                    tcp.set_write_timeout(wanted)?;
                    *write_timeout = wanted;
                }
            }
            Socket::Tunnel(tunnel) => tunnel.set_timeout(timeout),
        }
        Ok(())
    }
}

impl Socket {
    fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        match self {
            Socket::Direct { tcp, .. } => tcp.set_nonblocking(nonblocking),
            Socket::Tunnel(_) => Ok(()),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self {
            Socket::Direct { tcp, .. } => tcp.read(buffer),
            Socket::Tunnel(tunnel) => tunnel.read(buffer),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Direct { tcp, .. } => tcp.write(bytes),
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

/// A TLS connection as ureq sees it: plaintext buffers over a rustls stream. One set of buffers:
/// rustls reads from and writes to the socket itself.
pub struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, Socket>,
}

impl TlsTransport {
    /// Whether this connection resumed an earlier session (an abbreviated handshake).
    pub fn resumed(&self) -> bool {
        self.stream.conn.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
    }

    /// Whether a kept connection can carry another request: the server has not closed it and
    /// has sent nothing unasked. What did arrive is read through TLS first, for a server may
    /// send session tickets after the handshake (rustls and others do): those are no reason to
    /// drop a connection — a plain look at the socket would take them for unasked data.
    fn still_open(&mut self) -> bool {
        match &mut self.stream.sock {
            Socket::Tunnel(tunnel) => return tunnel.get_mut().is_open(),
            Socket::Direct { tcp, .. } => match peek_without_waiting(tcp) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return true, // nothing came: the usual case
                Ok(0) | Err(_) => return false,                                 // closed, or broken
                Ok(_) => {}
            },
        }
        if self.stream.sock.set_nonblocking(true).is_err() {
            return false;
        }
        let open = loop {
            match self.stream.conn.read_tls(&mut self.stream.sock) {
                Ok(0) => break false,
                Ok(_) => match self.stream.conn.process_new_packets() {
                    Ok(state) if state.plaintext_bytes_to_read() > 0 || state.peer_has_closed() => break false,
                    Ok(_) => continue,
                    Err(_) => break false,
                },
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break true,
                Err(_) => break false,
            }
        };
        open && self.stream.sock.set_nonblocking(false).is_ok()
    }
}

/// Looks at the socket without taking anything and without waiting: one system call
/// (`MSG_PEEK | MSG_DONTWAIT`) where ureq's own probe makes three.
#[cfg(unix)]
fn peek_without_waiting(tcp: &TcpStream) -> io::Result<usize> {
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
fn peek_without_waiting(tcp: &TcpStream) -> io::Result<usize> {
    tcp.set_nonblocking(true)?;
    let peeked = tcp.peek(&mut [0u8]);
    tcp.set_nonblocking(false)?;
    peeked
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> std::result::Result<(), ureq::Error> {
        self.stream.sock.set_timeout(timeout.for_write())?;
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output).map_err(|e| timed_out(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        self.stream.sock.set_timeout(timeout)?;
        let input = self.buffers.input_append_buf();
        let amount = self.stream.read(input).map_err(|e| timed_out(e, timeout.reason))?;
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.still_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").field("resumed", &self.resumed()).finish()
    }
}
