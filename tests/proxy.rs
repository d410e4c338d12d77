//! The proxy: the option `proxy`, else HTTPS_PROXY/ALL_PROXY from the environment; loopback goes
//! direct. A fake proxy on loopback records the request it is asked to make and refuses it, so
//! nothing ever leaves the machine.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::mpsc;

use icdapi::{Client, ErrorKind};
use support::StandIn;

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
    let client = Client::local(Some("https://id.who.int")).unwrap();
    client.set_option("proxy", &proxy).unwrap();
    client.set_option("max_retries", "0").unwrap();
    let error = client.get("/icd/entity").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
    assert_eq!(seen.recv().unwrap(), "CONNECT id.who.int:443 HTTP/1.1");
}

#[test]
fn https_proxy_from_the_environment_and_loopback_goes_direct() {
    // The only test of this binary that touches the environment.
    let (proxy, seen) = refusing_proxy();
    std::env::set_var("HTTPS_PROXY", &proxy);
    let client = Client::local(Some("https://id.who.int")).unwrap();
    client.set_option("max_retries", "0").unwrap();
    assert_eq!(client.get("/icd/entity").unwrap_err().kind(), ErrorKind::Network);
    assert_eq!(seen.recv().unwrap(), "CONNECT id.who.int:443 HTTP/1.1");
    // The stand-in on loopback is reached directly, proxy or not.
    let standin = StandIn::start();
    let client = standin.client();
    assert!(client.search("cholera").unwrap().body.contains("1A00"));
    // All of 127.0.0.0/8 is loopback: 127.0.0.2 goes direct too (refused there: nothing listens).
    let (proxy, seen) = refusing_proxy();
    let client = Client::local(Some("http://127.0.0.2:9")).unwrap();
    client.set_option("proxy", &proxy).unwrap();
    client.set_option("max_retries", "0").unwrap();
    let error = client.get("/icd/entity").unwrap_err();
    assert!(error.message().contains("127.0.0.2:9"), "{}", error.message());
    assert!(seen.recv_timeout(std::time::Duration::from_millis(200)).is_err(), "the proxy was not asked");
    std::env::remove_var("HTTPS_PROXY");
}
