//! The proxy: the option `proxy`, else HTTPS_PROXY/ALL_PROXY from the environment; loopback goes
//! direct. A fake proxy on loopback records the request it is asked to make and refuses it, so
//! nothing ever leaves the machine. Every wait has a deadline: a proxy that is never asked fails
//! the test, it does not hang it.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use icdapi::{Client, ErrorKind};
use support::StandIn;

/// How long a test waits for the proxy to be asked (it is asked at once, or never).
const PROXY_ASKED_WITHIN: Duration = Duration::from_secs(10);

/// A client of `base` that gives up after 5 s and does not retry.
fn client_of(base: &str) -> Client {
    let client = Client::local(Some(base)).unwrap();
    client.set_option("max_retries", "0").unwrap();
    client.set_option("timeout_ms", "5000").unwrap();
    client
}

/// A proxy that answers one request with 403 and reports the request line it received.
fn refusing_proxy() -> (String, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            let _ = reader.read_line(&mut request_line);
            let _ = sender.send(request_line.trim().to_owned());
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        }
    });
    (url, receiver)
}

#[test]
fn the_proxy_option_tunnels_https_through_the_proxy() {
    let (proxy, seen) = refusing_proxy();
    let client = client_of("https://id.who.int");
    client.set_option("proxy", &proxy).unwrap();
    let error = client.get("/icd/entity").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
    assert_eq!(seen.recv_timeout(PROXY_ASKED_WITHIN).unwrap(), "CONNECT id.who.int:443 HTTP/1.1");
}

#[test]
fn https_proxy_from_the_environment_and_loopback_goes_direct() {
    // The only test of this binary that touches the environment.
    let (proxy, seen) = refusing_proxy();
    std::env::set_var("HTTPS_PROXY", &proxy);
    let client = client_of("https://id.who.int");
    assert_eq!(client.get("/icd/entity").unwrap_err().kind(), ErrorKind::Network);
    assert_eq!(seen.recv_timeout(PROXY_ASKED_WITHIN).unwrap(), "CONNECT id.who.int:443 HTTP/1.1");
    // The stand-in on loopback is reached directly, proxy or not.
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("timeout_ms", "5000").unwrap();
    assert!(client.search("cholera").unwrap().body.contains("1A00"));
    // All of 127.0.0.0/8 is loopback: 127.0.0.2 goes direct too (refused there: nothing listens).
    let (proxy, seen) = refusing_proxy();
    let client = client_of("http://127.0.0.2:9");
    client.set_option("proxy", &proxy).unwrap();
    let error = client.get("/icd/entity").unwrap_err();
    assert!(error.message().contains("127.0.0.2:9"), "{}", error.message());
    assert!(seen.recv_timeout(Duration::from_millis(200)).is_err(), "the proxy was not asked");
    std::env::remove_var("HTTPS_PROXY");
}
