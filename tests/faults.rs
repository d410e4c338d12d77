//! Each fault of the issue list against the stand-in: the documented error code, a message that
//! explains it, no secret in it, and a client that keeps working afterwards.

mod support;

use std::time::Duration;

use icdapi::{Client, ErrorKind};
use serde_json::{json, Value};
use support::{StandIn, CLIENT_SECRET};

struct Case {
    name: &'static str,
    /// Faults to queue (matched against the request target).
    faults: Vec<Value>,
    /// Client options for this case (restored afterwards).
    options: Vec<(&'static str, String)>,
    expected: Result<(), (ErrorKind, &'static str)>,
}

fn fault(kind: &str, extra: Value) -> Value {
    let mut fault = json!({"match": "/codeinfo/", "kind": kind});
    fault.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    fault
}

fn token_fault(kind: &str, extra: Value) -> Value {
    let mut fault = fault(kind, extra);
    fault["match"] = json!("/connect/token");
    fault
}

#[test]
fn every_fault_has_its_code_and_the_client_recovers() {
    let standin = StandIn::start();
    let elsewhere = StandIn::start();
    let client = standin.client();
    client.set_option("cache_entries", "0").unwrap();
    client.set_option("timeout_ms", "1500").unwrap();
    let closed_port = "http://127.0.0.1:9/connect/token".to_string();
    let cases = vec![
        Case {
            name: "token endpoint down",
            faults: vec![],
            options: vec![("token_endpoint", closed_port)],
            expected: Err((ErrorKind::Network, "connection refused")),
        },
        Case {
            name: "token endpoint slow",
            faults: vec![token_fault("hang", json!({"seconds": 5}))],
            options: vec![],
            expected: Err((ErrorKind::Timeout, "deadline")),
        },
        Case {
            name: "token endpoint 500",
            faults: vec![token_fault("status", json!({"status": 500, "count": 3}))],
            options: vec![],
            expected: Err((ErrorKind::Http, "token endpoint answered 500")),
        },
        Case {
            name: "token endpoint non-JSON",
            faults: vec![token_fault("non_json", json!({}))],
            options: vec![],
            expected: Err((ErrorKind::Parse, "not a token response")),
        },
        Case {
            name: "token without expires_in",
            faults: vec![token_fault("token_no_expiry", json!({}))],
            options: vec![],
            expected: Ok(()),
        },
        Case {
            name: "reset before answering",
            faults: vec![fault("reset", json!({"count": 3}))],
            options: vec![],
            expected: Err((ErrorKind::Network, "connection was cut")),
        },
        Case {
            name: "body cut mid-way",
            faults: vec![fault("truncate", json!({"count": 3}))],
            options: vec![],
            expected: Err((ErrorKind::Network, "connection was cut")),
        },
        Case {
            name: "connection dropped",
            faults: vec![fault("drop", json!({"count": 3}))],
            options: vec![],
            expected: Err((ErrorKind::Network, "connection was cut")),
        },
        Case {
            name: "gigantic header",
            faults: vec![fault("huge_header", json!({"bytes": 1_000_000}))],
            options: vec![],
            expected: Err((ErrorKind::Network, "headers are too large")),
        },
        Case {
            // WHO's answers carry a few hundred bytes of headers; a server may send far more
            // (cookies, CSP, tracing): up to the 64 KiB limit they are read.
            name: "large headers within the limit",
            faults: vec![fault("huge_header", json!({"bytes": 48_000}))],
            options: vec![],
            expected: Ok(()),
        },
        Case {
            name: "gigantic body",
            faults: vec![fault("large", json!({"bytes": 40_000_000}))],
            options: vec![],
            expected: Err((ErrorKind::Network, "larger than max_response_bytes")),
        },
        Case {
            name: "Retry-After in seconds",
            options: vec![],
            faults: vec![fault("status", json!({"status": 503, "retry_after": "1"}))],
            expected: Ok(()),
        },
        Case {
            name: "Retry-After as an HTTP date",
            options: vec![],
            faults: vec![fault(
                "status",
                json!({"status": 429,
                   "retry_after": httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(1))}),
            )],
            expected: Ok(()),
        },
        Case {
            name: "redirect to another host",
            options: vec![],
            faults: vec![fault(
                "redirect",
                json!({"location": format!("{}/icd/release/11/2026-01/mms/codeinfo/1A00", elsewhere.url)}),
            )],
            expected: Err((ErrorKind::Http, "not followed")),
        },
        Case {
            name: "hang past the deadline",
            faults: vec![fault("hang", json!({"seconds": 5}))],
            options: vec![],
            expected: Err((ErrorKind::Timeout, "timeout_ms = 1500")),
        },
        Case {
            name: "non-JSON 200",
            faults: vec![fault("non_json", json!({}))],
            options: vec![],
            expected: Err((ErrorKind::Parse, "not JSON")),
        },
    ];
    for case in cases {
        standin.admin_post("reset", json!({}));
        client.set_option("token_endpoint", &standin.token_endpoint()).unwrap();
        if case.faults.iter().any(|f| f["match"] == "/connect/token") {
            // The client holds a token (shared by every client with these credentials): revoked,
            // its next request meets a 401 and must fetch a new one from the faulty endpoint.
            client.codeinfo("1A00").unwrap();
            standin.revoke_tokens();
        }
        for fault in &case.faults {
            standin.fault(fault.clone());
        }
        for (name, value) in &case.options {
            client.set_option(name, value).unwrap();
        }
        let outcome = client.codeinfo("1A00");
        match (&case.expected, &outcome) {
            (Ok(()), Ok(reply)) => assert_eq!(reply.http_status, 200, "{}", case.name),
            (Err((kind, words)), Err(error)) => {
                assert_eq!(error.kind(), *kind, "{}: {}", case.name, error.message());
                assert!(error.message().contains(words), "{}: {}", case.name, error.message());
                assert!(!error.message().contains(CLIENT_SECRET), "{}", case.name);
            }
            _ => panic!("{}: expected {:?}, got {:?}", case.name, case.expected, outcome),
        }
        // Afterwards, with the faults used up and the options back, the same client works.
        standin.admin_post("reset", json!({}));
        client.set_option("token_endpoint", &standin.token_endpoint()).unwrap();
        let after = client.codeinfo("1A00").unwrap_or_else(|e| panic!("{}: client broken after: {e}", case.name));
        assert_eq!(after.http_status, 200);
    }
    assert!(elsewhere.requests().is_empty(), "nothing, and no token, ever reached the other host");
}

#[test]
fn absurd_lifetimes_from_the_server_are_survived() {
    // A token said to live 2^64 - 1 seconds and answers cacheable for as long: no overflow, no
    // panic, and the client works.
    let standin = StandIn::start();
    standin.configure(json!({"expires_in": u64::MAX, "cache_control": format!("public,max-age={}", u64::MAX)}));
    let client = standin.client();
    client.codeinfo("1A00").unwrap();
    client.codeinfo("1A00").unwrap();
    assert_eq!(standin.api_requests().len(), 1, "cached");
}

#[test]
fn a_client_with_an_unreachable_api_keeps_working_when_it_comes_back() {
    let standin = StandIn::start();
    let client: Client = standin.client();
    client.set_option("api_base", "http://127.0.0.1:9").unwrap();
    assert_eq!(client.codeinfo("1A00").unwrap_err().kind(), ErrorKind::Network);
    client.set_option("api_base", &standin.url).unwrap();
    assert_eq!(client.codeinfo("1A00").unwrap().http_status, 200);
}
