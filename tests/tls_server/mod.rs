//! A small HTTPS server for the connection tests (rustls, a CA made by rcgen for the test): it
//! answers the token endpoint and any API GET, and counts what only a server sees — TCP
//! connections, TLS handshakes, resumed sessions — with the time of each event.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

pub const ACCESS_TOKEN: &str = "tls-test-token";

/// A CA made for the test and a certificate for 127.0.0.1, localhost and icd.test signed by it; the CA's
/// PEM is written to a file of its own in a temporary directory, for `ca_file`.
pub struct TestCa {
    pub dir: std::path::PathBuf,
    pub ca_pem: String,
    cert: CertificateDer<'static>,
    key: Vec<u8>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let dir = std::env::temp_dir().join(format!("icdapi-conn-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.distinguished_name.push(rcgen::DnType::CommonName, format!("icdapi test CA {name}"));
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(ca_params, ca_key);
        let server_key = KeyPair::generate().unwrap();
        // icd.test: a name that is not loopback, for a test through a proxy (which resolves it).
        let names = vec!["127.0.0.1".to_string(), "localhost".to_string(), "icd.test".to_string()];
        let params = CertificateParams::new(names).unwrap();
        let cert = params.signed_by(&server_key, &issuer).unwrap();
        let ca = TestCa { dir, ca_pem: ca_cert.pem(), cert: cert.der().clone(), key: server_key.serialize_der() };
        std::fs::write(ca.path("ca.pem"), &ca.ca_pem).unwrap();
        ca
    }

    pub fn path(&self, file: &str) -> String {
        self.dir.join(file).display().to_string()
    }

    /// Writes `contents` to a file of the directory and returns its path.
    pub fn write(&self, file: &str, contents: &str) -> String {
        std::fs::write(self.path(file), contents).unwrap();
        self.path(file)
    }

    fn server_config(&self) -> Arc<ServerConfig> {
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()));
        let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .unwrap();
        // Stateful resumption (the default session cache): TLS 1.3 tickets name cached sessions.
        Arc::new(config)
    }
}

impl Drop for TestCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// What the server saw, with when.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub connections: usize,
    pub handshakes: usize,
    pub resumed: usize,
    pub requests: usize,
    pub token_requests: usize,
    /// When each TLS handshake completed.
    pub handshakes_at: Vec<Instant>,
    /// When each token response was sent.
    pub tokens_sent_at: Vec<Instant>,
    /// When each API request arrived.
    pub api_requests_at: Vec<Instant>,
}

#[derive(Clone, Copy)]
pub struct Behaviour {
    /// Close the connection after every response (`Connection: close`).
    pub close_every_connection: bool,
    /// Wait this long before answering a token request.
    pub token_delay: Duration,
    /// The first this many connections are accepted and never answered (no TLS handshake):
    /// they are read until the client gives up, or for 30 s.
    pub stalled_connections: usize,
    /// What the server does with a kept-alive connection 50 ms after each answer.
    pub when_idle: WhenIdle,
    /// The first this many API requests get no answer: the server ends the TLS session cleanly
    /// (close_notify) and closes the connection.
    pub closed_instead_of_answered: usize,
    /// Answers go out in pieces 30 ms apart (the status line, the rest of the head, the body).
    pub answers_in_pieces: bool,
}

/// How a server lets go of an idle kept-alive connection (the client must not send on it again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenIdle {
    /// Keeps it open for the next request.
    Keep,
    /// Closes the TCP connection without a TLS close_notify.
    Close,
    /// Resets it (RST).
    Reset,
    /// Sends a TLS close_notify, and closes the TCP connection only 2 s later.
    CloseNotify,
    /// Sends an unasked answer (`408 Request Timeout`, as some servers do), closes 2 s later.
    Unasked408,
    /// Updates its TLS keys (a KeyUpdate message: no data, no close), then resets it.
    KeyUpdateThenReset,
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            close_every_connection: false,
            token_delay: Duration::ZERO,
            stalled_connections: 0,
            when_idle: WhenIdle::Keep,
            closed_instead_of_answered: 0,
            answers_in_pieces: false,
        }
    }
}

pub struct TlsServer {
    pub url: String,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
    port: u16,
}

impl TlsServer {
    pub fn start(ca: &TestCa, behaviour: Behaviour) -> TlsServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (seen, stop) = (Arc::new(Mutex::new(Seen::default())), Arc::new(AtomicBool::new(false)));
        let config = ca.server_config();
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let connections = {
                        let mut seen = seen.lock().unwrap();
                        seen.connections += 1;
                        seen.connections
                    };
                    if connections <= behaviour.stalled_connections {
                        std::thread::spawn(move || stall(stream));
                        continue;
                    }
                    let (seen, config) = (seen.clone(), config.clone());
                    std::thread::spawn(move || serve(stream, config, behaviour, seen));
                }
            });
        }
        TlsServer { url: format!("https://127.0.0.1:{port}"), seen, stop, port }
    }

    pub fn token_endpoint(&self) -> String {
        format!("{}/connect/token", self.url)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for TlsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port)); // wakes the accept loop
    }
}

/// Takes what the client sends and answers nothing, until the client closes or 30 s pass.
fn stall(mut tcp: TcpStream) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let mut buffer = [0u8; 4096];
    while matches!(tcp.read(&mut buffer), Ok(n) if n > 0) {}
}

fn serve(tcp: TcpStream, config: Arc<ServerConfig>, behaviour: Behaviour, seen: Arc<Mutex<Seen>>) {
    // No connection outlives a test by much, whatever the client does.
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = tcp.set_nodelay(true);
    let mut connection = ServerConnection::new(config).unwrap();
    let mut tcp = tcp;
    while connection.is_handshaking() {
        if connection.complete_io(&mut tcp).is_err() {
            return;
        }
    }
    {
        let mut seen = seen.lock().unwrap();
        seen.handshakes += 1;
        seen.handshakes_at.push(Instant::now());
        if connection.handshake_kind() == Some(rustls::HandshakeKind::Resumed) {
            seen.resumed += 1;
        }
    }
    let mut reader = BufReader::new(StreamOwned::new(connection, tcp));
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut content_length = 0;
        let mut authorization = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap_or((line, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => content_length = value.trim().parse().unwrap_or(0),
                "authorization" => authorization = value.trim().to_owned(),
                _ => {}
            }
        }
        let mut body = vec![0; content_length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_owned();
        let (status, answer) = if path == "/connect/token" {
            std::thread::sleep(behaviour.token_delay);
            (200, format!(r#"{{"access_token":"{ACCESS_TOKEN}","expires_in":3600,"token_type":"Bearer"}}"#))
        } else if authorization != format!("Bearer {ACCESS_TOKEN}") {
            (401, r#"{"error":"no token"}"#.to_owned())
        } else {
            (200, format!(r#"{{"@id":"http://id.who.int{path}","title":{{"@language":"en","@value":"Cholera"}}}}"#))
        };
        let unanswered = {
            let mut seen = seen.lock().unwrap();
            seen.requests += 1;
            if path == "/connect/token" {
                seen.token_requests += 1;
                seen.tokens_sent_at.push(Instant::now());
                false
            } else {
                seen.api_requests_at.push(Instant::now());
                seen.api_requests_at.len() <= behaviour.closed_instead_of_answered
            }
        };
        if unanswered {
            let stream = reader.get_mut();
            stream.conn.send_close_notify();
            let _ = stream.flush();
            return;
        }
        let close = if behaviour.close_every_connection { "Connection: close\r\n" } else { "" };
        let head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n{close}\r\n",
            if status == 200 { "OK" } else { "Unauthorized" },
            answer.len()
        );
        let stream = reader.get_mut();
        let (status_line, rest_of_head) = head.split_at(head.find("\r\n").unwrap() + 2);
        for piece in [status_line, rest_of_head, &answer] {
            if stream.write_all(piece.as_bytes()).and_then(|_| stream.flush()).is_err() {
                return;
            }
            if behaviour.answers_in_pieces {
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        if behaviour.close_every_connection {
            stream.conn.send_close_notify();
            let _ = stream.flush();
            return;
        }
        if behaviour.when_idle != WhenIdle::Keep {
            std::thread::sleep(Duration::from_millis(50));
            let_go(stream, behaviour.when_idle);
            return;
        }
    }
}

/// Lets go of an idle connection as `how` says.
fn let_go(stream: &mut StreamOwned<ServerConnection, TcpStream>, how: WhenIdle) {
    match how {
        WhenIdle::Keep | WhenIdle::Close => {}
        WhenIdle::Reset => reset_on_close(&stream.sock),
        WhenIdle::CloseNotify => {
            stream.conn.send_close_notify();
            let _ = stream.flush();
            std::thread::sleep(Duration::from_secs(2));
        }
        WhenIdle::Unasked408 => {
            let _ = stream.write_all(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.flush();
            std::thread::sleep(Duration::from_secs(2));
        }
        WhenIdle::KeyUpdateThenReset => {
            stream.conn.refresh_traffic_keys().unwrap();
            let _ = stream.flush();
            std::thread::sleep(Duration::from_millis(20));
            reset_on_close(&stream.sock);
        }
    }
}

/// Makes closing the socket send a RST (SO_LINGER with a zero timeout).
fn reset_on_close(tcp: &TcpStream) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: a linger struct that lives across the call, with its true size.
    let set = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(tcp),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(set, 0);
}

/// An HTTP CONNECT proxy on loopback that tunnels every CONNECT, whatever host it names, to one
/// local port, and counts the tunnels it opened.
pub struct TunnelProxy {
    pub url: String,
    tunnels: Arc<Mutex<Vec<String>>>,
}

impl TunnelProxy {
    pub fn start(target_port: u16) -> TunnelProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let seen = tunnels.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let seen = seen.clone();
                std::thread::spawn(move || tunnel(client, target_port, seen));
            }
        });
        TunnelProxy { url, tunnels }
    }

    /// The request line of every CONNECT, in order.
    pub fn tunnels(&self) -> Vec<String> {
        self.tunnels.lock().unwrap().clone()
    }
}

fn tunnel(client: TcpStream, target_port: u16, seen: Arc<Mutex<Vec<String>>>) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
    }
    seen.lock().unwrap().push(request_line.trim().to_owned());
    let Ok(server) = TcpStream::connect(("127.0.0.1", target_port)) else { return };
    let mut client_writer = client.try_clone().unwrap();
    if client_writer.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").is_err() {
        return;
    }
    let _ = server.set_read_timeout(Some(Duration::from_secs(5)));
    let (mut server_reader, mut server_writer) = (server.try_clone().unwrap(), server);
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut server_reader, &mut client_writer);
    });
    // What the reader already buffered belongs to the tunnel too.
    let buffered = reader.buffer().to_vec();
    let _ = server_writer.write_all(&buffered);
    let mut rest = reader.into_inner();
    let _ = std::io::copy(&mut rest, &mut server_writer);
}
