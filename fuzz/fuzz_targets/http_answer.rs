//! Whatever a server answers: a loopback server that replies to each connection with the next
//! fuzzed answer (raw bytes, or a status with chosen headers and body), to a cloud client
//! (token endpoint and API on that server) or a local one, for GET, search, POST and a cached
//! second GET, after any options.
//!
//! Proves: nothing panics or crashes and no call returns ICD_ERR_INTERNAL, whatever the token
//! endpoint or the API answer (any status, Retry-After, Cache-Control, Location, Content-Length,
//! Content-Encoding, body); a body handed to the caller is JSON with a 2xx status; every failure
//! has a message without the secret; the secret is sent only in the token request, and no
//! request goes anywhere but the configured API (a redirect elsewhere is not followed).
#![no_main]

mod common;

use std::collections::VecDeque;
use std::ffi::{c_char, CStr, CString};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use common::*;
use icdapi::ffi::*;
use icdapi::OPTION_NAMES;
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Header {
    RetryAfter(String),
    CacheControl(String),
    Location(String),
    ContentType(String),
    ContentLength(String),
    ContentEncoding(String),
    TransferEncoding(String),
    Connection(String),
    Any(Vec<u8>, Vec<u8>),
}

#[derive(Arbitrary, Debug)]
enum Answer {
    Raw(Vec<u8>),
    /// A status line, headers, a Content-Length (unless one is among the headers), the body.
    Parts {
        status: u16,
        headers: Vec<Header>,
        body: Vec<u8>,
    },
    /// A 200 with JSON (a token response, an entity, a redirect target's answer...).
    Json {
        status: u16,
        json: String,
        cache_control: Option<String>,
    },
}

#[derive(Arbitrary, Debug)]
enum Call {
    Get(String),
    Search(Vec<u8>),
    Post(String, Vec<u8>),
    /// The same GET twice: the second may come from the response cache or the disk cache.
    GetTwice(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    cloud: bool,
    options: Vec<(u8, Vec<u8>)>,
    answers: Vec<Answer>,
    call: Call,
}

impl Answer {
    fn bytes(&self) -> Vec<u8> {
        let (status, headers, body): (u16, Vec<(Vec<u8>, Vec<u8>)>, &[u8]) = match self {
            Answer::Raw(bytes) => return bytes.clone(),
            Answer::Parts { status, headers, body } => {
                let headers = headers.iter().map(Header::pair).collect();
                (*status, headers, body)
            }
            Answer::Json { status, json, cache_control } => {
                let mut headers = vec![(b"Content-Type".to_vec(), b"application/json".to_vec())];
                headers.extend(cache_control.iter().map(|c| (b"Cache-Control".to_vec(), c.clone().into_bytes())));
                (200 + status % 100, headers, json.as_bytes())
            }
        };
        let mut out = format!("HTTP/1.1 {status} X\r\n").into_bytes();
        let has_length = headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(b"content-length"));
        for (name, value) in &headers {
            out.extend_from_slice(name);
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
        if !has_length {
            out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(body);
        out
    }
}

impl Header {
    fn pair(&self) -> (Vec<u8>, Vec<u8>) {
        let named = |name: &str, value: &String| (name.as_bytes().to_vec(), value.clone().into_bytes());
        match self {
            Header::RetryAfter(v) => named("Retry-After", v),
            Header::CacheControl(v) => named("Cache-Control", v),
            Header::Location(v) => named("Location", v),
            Header::ContentType(v) => named("Content-Type", v),
            Header::ContentLength(v) => named("Content-Length", v),
            Header::ContentEncoding(v) => named("Content-Encoding", v),
            Header::TransferEncoding(v) => named("Transfer-Encoding", v),
            Header::Connection(v) => named("Connection", v),
            Header::Any(n, v) => (n.clone(), v.clone()),
        }
    }
}

/// The loopback server: answers each connection with the next queued answer (or closes it when
/// none is left) and records each request.
struct Server {
    url: String,
    answers: Mutex<VecDeque<Vec<u8>>>,
    requests: Mutex<Vec<Vec<u8>>>,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<&'static Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server: &'static Server =
            Box::leak(Box::new(Server { url, answers: Mutex::default(), requests: Mutex::default() }));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let request = read_request(&mut stream);
                server.requests.lock().unwrap().push(request);
                if let Some(answer) = server.answers.lock().unwrap().pop_front() {
                    let _ = stream.write_all(&answer);
                }
                let _ = stream.shutdown(Shutdown::Both);
            }
        });
        server
    })
}

/// The request head and its Content-Length body (read whole, so that closing does not reset).
fn read_request(stream: &mut std::net::TcpStream) -> Vec<u8> {
    let mut reader = BufReader::new(stream);
    let mut request = Vec::new();
    let mut length = 0usize;
    loop {
        let mut line = Vec::new();
        if reader.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return request;
        }
        let text = String::from_utf8_lossy(&line).to_ascii_lowercase();
        if let Some(value) = text.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
        request.extend_from_slice(&line);
        if line == b"\r\n" {
            break;
        }
    }
    let mut body = vec![0; length.min(1 << 20)];
    let _ = reader.read_exact(&mut body);
    request.extend_from_slice(&body);
    request
}

/// A request's result: a JSON body with a 2xx status, or a failure the answers explain.
unsafe fn check(body: *mut c_char) {
    let (code, message) = last_error();
    if body.is_null() {
        assert_ne!(code, IcdStatus::ICD_OK, "NULL without an error");
        return;
    }
    assert_eq!(code, IcdStatus::ICD_OK, "{message}");
    let status = icd_last_http_status();
    assert!((200..300).contains(&status), "a body with HTTP status {status}");
    let text = CStr::from_ptr(body).to_str().expect("a UTF-8 body");
    assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "not JSON: {text:?}");
    free(body);
}

fuzz_target!(|input: Input| unsafe {
    let server = server();
    static CLIENTS: AtomicU64 = AtomicU64::new(0);
    // Each input its own credentials: no token of an earlier input is reused.
    let id = CString::new(format!("fuzz-client-{}", CLIENTS.fetch_add(1, Ordering::Relaxed))).unwrap();
    let client = if input.cloud {
        icd_client_new(id.as_ptr(), CString::new(SECRET).unwrap().as_ptr())
    } else {
        icd_client_new_local(CString::new(server.url.as_str()).unwrap().as_ptr())
    };
    assert!(!client.is_null());
    let mut touched_disk = false;
    for (name, value) in input.options.iter().take(4) {
        let name = OPTION_NAMES[usize::from(*name) % OPTION_NAMES.len()];
        let value = confine(name.as_bytes(), value);
        touched_disk |= value.as_bytes().starts_with(scratch_dir().as_os_str().as_encoded_bytes());
        icd_client_set_option(client, CString::new(name).unwrap().as_ptr(), value.as_ptr());
        last_error();
    }
    sandbox(client, &server.url);
    server.requests.lock().unwrap().clear();
    *server.answers.lock().unwrap() = input.answers.iter().take(6).map(Answer::bytes).collect();
    match &input.call {
        Call::Get(path) => check(icd_get(client, c_string(path.as_bytes()).as_ptr())),
        Call::Search(query) => check(icd_search(client, c_string(query).as_ptr())),
        Call::Post(path, body) => check(icd_post(client, c_string(path.as_bytes()).as_ptr(), c_string(body).as_ptr())),
        Call::GetTwice(path) => {
            let path = c_string(path.as_bytes());
            check(icd_get(client, path.as_ptr()));
            check(icd_get(client, path.as_ptr()));
        }
    }
    for request in server.requests.lock().unwrap().iter() {
        let text = String::from_utf8_lossy(request);
        assert!(
            text.starts_with("POST /connect/token ") || !text.contains(SECRET),
            "the secret in a request that is not the token request: {text}"
        );
    }
    if input.cloud {
        // Drop this input's token (a 401 makes the client refetch, and the refetch is refused),
        // so that tokens of finished inputs do not pile up in the process-wide token map.
        *server.answers.lock().unwrap() = [
            &b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"[..],
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 26\r\n\r\n{\"error\":\"invalid_client\"}",
        ]
        .map(<[u8]>::to_vec)
        .into();
        set(client, "cache_entries", "0");
        set(client, "cache_dir", "");
        set(client, "token_cache_file", "");
        assert!(icd_get(client, c"/drop-the-token".as_ptr()).is_null());
    }
    server.answers.lock().unwrap().clear();
    icd_client_free(client);
    if touched_disk {
        let _ = std::fs::remove_dir_all(scratch_dir());
        let _ = std::fs::create_dir_all(scratch_dir());
    }
});
