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
use std::sync::{Arc, LazyLock};

use parking_lot::Mutex;
use rustls::client::danger::ServerCertVerifier;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ureq::unversioned::transport::{
    time, Buffers, ConnectionDetails, LazyBuffers, NextTimeout, Transport, TransportAdapter,
};

use crate::error::{Error, Result};
use crate::http::socket::{self, timed_out, Direction, Socket, INPUT_BUFFER, OUTPUT_BUFFER};

/// The largest response head (status line and headers) accepted: ureq's default.
pub const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// Where the certificates that vouch for servers come from.
#[derive(Clone)]
pub enum TrustRoots {
    /// The platform's store (on Linux the system's CA bundle; `SSL_CERT_FILE`/`SSL_CERT_DIR`).
    System,
    /// The certificates of a `ca_file`.
    Bundle(Arc<Vec<CertificateDer<'static>>>),
}

impl TrustRoots {
    /// Checks and decodes the content of a `ca_file` (`path` names it in messages). The
    /// certificates become a trust store only when a connection first needs them.
    pub fn from_pem(pem: &[u8], path: &std::path::Path) -> Result<TrustRoots> {
        use ureq::tls::PemItem;
        let bad = |why: String| Error::invalid_argument(format!("ca_file {}: {why}", path.display()));
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(pem) {
            if let PemItem::Certificate(cert) = item.map_err(|e| bad(format!("not a PEM bundle ({e})")))? {
                certs.push(CertificateDer::from(cert.der().to_vec()));
            }
        }
        if certs.is_empty() {
            return Err(bad("holds no PEM certificate".into()));
        }
        Ok(TrustRoots::Bundle(Arc::new(certs)))
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
    let verifier: Arc<dyn ServerCertVerifier> =
        Arc::new(rustls_platform_verifier::Verifier::new(provider.clone()).map_err(|e| {
            tls_setup_error(format!(
                "the system's certificate store cannot be used ({e}): install the system's CA \
                     certificates (Debian: ca-certificates), or set the option ca_file to a PEM bundle"
            ))
        })?);
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
            TrustRoots::Bundle(certs) => {
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

/// Opens a TCP connection to one of the request's addresses and does the TLS handshake on it,
/// all within the connection's deadline.
pub fn connect(
    config: Arc<ClientConfig>,
    details: &ConnectionDetails,
) -> std::result::Result<TlsTransport, ureq::Error> {
    let (tcp, left) = socket::connect(details)?;
    let mut socket = Socket::direct(tcp);
    socket.set_timeout(NextTimeout { after: time::Duration::Exact(left), ..details.timeout }, Direction::Both)?;
    handshake(config, details, socket)
}

/// Does the TLS handshake over a tunnel through a proxy, within the connection's deadline.
pub fn connect_tunnel(
    config: Arc<ClientConfig>,
    details: &ConnectionDetails,
    tunnel: Box<dyn Transport>,
) -> std::result::Result<TlsTransport, ureq::Error> {
    let mut socket = Socket::Tunnel(TransportAdapter::new(tunnel, details.current_time.clone()));
    socket.set_timeout(details.timeout, Direction::Both)?;
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
            Socket::Direct { tcp, .. } => match socket::peek_without_waiting(tcp) {
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

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> std::result::Result<(), ureq::Error> {
        self.stream.sock.set_timeout(timeout.for_write(), Direction::Write)?;
        let output = &self.buffers.output()[..amount];
        self.stream.write_all(output).map_err(|e| timed_out(e, timeout.reason))
    }

    fn await_input(&mut self, timeout: NextTimeout) -> std::result::Result<bool, ureq::Error> {
        let timeout = timeout.for_read();
        self.stream.sock.set_timeout(timeout, Direction::Read)?;
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

/// The HTTPS server of the connection tests (tests/connections.rs), for the tests below
/// (compiled in `sys`, since it makes a system call of its own).
#[cfg(test)]
#[cfg(unix)]
use crate::sys::tls_server;

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use crate::http::testing::{unanswered_address, with_details, within};
    use std::net::{SocketAddr, TcpListener};
    use std::time::{Duration, Instant};

    /// `connect` to `url` at `addresses`, within `budget`, as the pool's connector would.
    fn connect_to(
        config: Arc<ClientConfig>,
        url: &str,
        addresses: &[SocketAddr],
        budget: Duration,
    ) -> std::result::Result<TlsTransport, ureq::Error> {
        with_details(url, addresses, budget, |details| connect(config, details))
    }

    #[test]
    fn a_second_connection_resumes_the_first_ones_session_and_says_so() {
        within(30, || {
            let ca = tls_server::TestCa::new("unit-resume");
            let server = tls_server::TlsServer::start(&ca, tls_server::Behaviour::default());
            let roots = TrustRoots::from_pem(ca.ca_pem.as_bytes(), std::path::Path::new("ca.pem")).unwrap();
            let shared = SharedTlsConfig::new(roots);
            let address: SocketAddr = ([127, 0, 0, 1], server.port()).into();
            let budget = Duration::from_secs(5);
            let mut first = connect_to(shared.get().unwrap(), &server.url, &[address], budget).unwrap();
            assert_eq!(format!("{first:?}"), "TlsTransport { resumed: false }");
            // The server's session tickets follow the handshake: the liveness check reads them.
            std::thread::sleep(Duration::from_millis(100));
            assert!(first.is_open());
            let second = connect_to(shared.get().unwrap(), &server.url, &[address], budget).unwrap();
            assert_eq!(format!("{second:?}"), "TlsTransport { resumed: true }");
            while server.seen().handshakes < 2 {
                std::thread::sleep(Duration::from_millis(5)); // the server's side ends a moment later
            }
            assert_eq!(server.seen().resumed, 1, "{:?}", server.seen());
        });
    }

    #[test]
    fn the_handshake_has_only_the_time_that_connecting_left() {
        within(30, || {
            // The first address does not answer (it takes half the time); the second accepts
            // (the kernel does) and never answers the TLS handshake.
            let (silent, _listener, _queued) = unanswered_address();
            let stalled = TcpListener::bind("127.0.0.1:0").unwrap();
            let config = ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(RootCertStore::empty())
                .with_no_client_auth();
            let budget = Duration::from_secs(2);
            let started = Instant::now();
            let addresses = [silent, stalled.local_addr().unwrap()];
            let error = connect_to(Arc::new(config), "https://icd.test/", &addresses, budget).unwrap_err();
            let elapsed = started.elapsed();
            assert!(matches!(error, ureq::Error::Timeout(ureq::Timeout::Connect)), "{error:?}");
            assert!(elapsed >= budget - Duration::from_millis(50), "gave up after {elapsed:?}");
            assert!(
                // (had the handshake been given the whole budget again, 3 s)
                elapsed < budget + Duration::from_millis(800),
                "the connection's deadline was overrun: {elapsed:?}"
            );
        });
    }
}
