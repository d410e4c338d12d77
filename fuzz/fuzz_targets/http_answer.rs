//! Whatever a server answers: a loopback server that replies to each connection with the next
//! fuzzed answer (raw bytes: status line, headers, body), to a cloud client (token endpoint and
//! API on that server) or a local one, for GET, search, POST and a cached second GET, after any
//! options. The input is text (see `Input`): the seeds are real answers, readable.
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
use libfuzzer_sys::fuzz_target;

/// What one input asks for, read from text so that seeds are readable and mutations fall on
/// the answers' bytes:
/// ```text
/// cloud                         (or local)
/// language=fr                   (any options, one per line)
/// GET /icd/entity/1             (or GET2: the same GET twice; POST <path> <body>; SEARCH <q>;
///                                GETWITH <path>\t<name>\t<value>...; ENTITY <code>; ICD10 <code>)
/// HTTP/1.1 200 OK\r\n...         (the answers, in the order connections come, separated by
/// =====                          a line "=====")
/// HTTP/1.1 503 ...
/// ```
struct Input<'a> {
    cloud: bool,
    options: Vec<(&'a [u8], &'a [u8])>,
    call: Call<'a>,
    answers: Vec<&'a [u8]>,
}

enum Call<'a> {
    Get(&'a [u8]),
    GetTwice(&'a [u8]),
    /// A path, then names and values, separated by tabs.
    GetWith(&'a [u8]),
    EntityByCode(&'a [u8]),
    Icd10(&'a [u8]),
    Post(&'a [u8], &'a [u8]),
    Search(&'a [u8]),
}

const SEPARATOR: &[u8] = b"\n=====\n";

impl<'a> Input<'a> {
    fn parse(data: &'a [u8]) -> Option<Input<'a>> {
        let mut rest = data;
        let cloud = next_line(&mut rest) == b"cloud";
        let mut options = Vec::new();
        let call = loop {
            let text = next_line(&mut rest);
            let (word, argument) = split_once(text, b' ');
            match word {
                b"GET" => break Call::Get(argument),
                b"GET2" => break Call::GetTwice(argument),
                b"GETWITH" => break Call::GetWith(argument),
                b"ENTITY" => break Call::EntityByCode(argument),
                b"ICD10" => break Call::Icd10(argument),
                b"SEARCH" => break Call::Search(argument),
                b"POST" => {
                    let (path, body) = split_once(argument, b' ');
                    break Call::Post(path, body);
                }
                _ if text.is_empty() && rest.is_empty() => return None,
                _ if options.len() < 6 => options.push(split_once(text, b'=')),
                _ => return None,
            }
        };
        let mut answers = Vec::new();
        while answers.len() < 6 && !rest.is_empty() {
            let end = rest.windows(SEPARATOR.len()).position(|w| w == SEPARATOR).unwrap_or(rest.len());
            answers.push(&rest[..end]);
            rest = rest.get(end + SEPARATOR.len()..).unwrap_or(&[]);
        }
        Some(Input { cloud, options, call, answers })
    }
}

/// The bytes up to the next newline, which `rest` then starts after.
fn next_line<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let (line, after) = split_once(rest, b'\n');
    *rest = after;
    line
}

fn split_once(bytes: &[u8], separator: u8) -> (&[u8], &[u8]) {
    match bytes.iter().position(|&b| b == separator) {
        Some(i) => (&bytes[..i], &bytes[i + 1..]),
        None => (bytes, &[]),
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
unsafe fn check(server: &Server, body: *mut c_char) {
    let (code, message) = last_error();
    if std::env::var_os("ICDAPI_FUZZ_TRACE").is_some() {
        // Replaying one input: what the call returned.
        eprintln!("{code:?} (HTTP {}) {message}", icd_last_http_status());
    }
    if body.is_null() {
        assert_ne!(code, IcdStatus::ICD_OK, "NULL without an error");
        // Nothing is sent anywhere but the API (a redirect or a stemId elsewhere is refused).
        let address = server.url.trim_start_matches("http://");
        assert!(code != IcdStatus::ICD_ERR_NETWORK || message.contains(address), "{message}");
        return;
    }
    assert_eq!(code, IcdStatus::ICD_OK, "{message}");
    let status = icd_last_http_status();
    assert!((200..300).contains(&status), "a body with HTTP status {status}");
    let text = CStr::from_ptr(body).to_str().expect("a UTF-8 body");
    assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "not JSON: {text:?}");
    free(body);
}

fuzz_target!(|data: &[u8]| unsafe {
    start_input(data);
    let Some(input) = Input::parse(data) else { return };
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
    for (name, value) in &input.options {
        let value = confine(name, value);
        touched_disk |= value.as_bytes().starts_with(scratch_dir().as_os_str().as_encoded_bytes());
        icd_client_set_option(client, c_string(name).as_ptr(), value.as_ptr());
        last_error();
    }
    sandbox(client, &server.url);
    server.requests.lock().unwrap().clear();
    *server.answers.lock().unwrap() = input.answers.iter().map(|a| a.to_vec()).collect();
    match input.call {
        Call::Get(path) => check(server, icd_get(client, c_string(path).as_ptr())),
        Call::Search(query) => check(server, icd_search(client, c_string(query).as_ptr())),
        Call::Post(path, body) => check(server, icd_post(client, c_string(path).as_ptr(), c_string(body).as_ptr())),
        Call::GetWith(argument) => {
            let fields: Vec<CString> = argument.split(|&b| b == b'\t').map(c_string).collect();
            let mut params: Vec<*const c_char> = fields[1..].iter().map(|f| f.as_ptr()).collect();
            params.push(std::ptr::null());
            check(server, icd_get_with(client, fields[0].as_ptr(), params.as_ptr()));
        }
        Call::EntityByCode(code) => check(server, icd_entity_by_code(client, c_string(code).as_ptr())),
        Call::Icd10(code) => check(server, icd_icd10(client, c_string(code).as_ptr())),
        Call::GetTwice(path) => {
            let path = c_string(path);
            check(server, icd_get(client, path.as_ptr()));
            check(server, icd_get(client, path.as_ptr()));
        }
    }
    for request in server.requests.lock().unwrap().iter() {
        let text = String::from_utf8_lossy(request);
        assert!(
            text.starts_with("POST /connect/token ") || !leaks_secret(&text),
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
        clear_scratch_dir();
    }
});
