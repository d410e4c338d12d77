//! Every error code with its HTTP status and message; retries; deadlines; secrets never shown.

mod support;

use std::time::{Duration, Instant};

use icdapi::{Client, Error, ErrorKind};
use serde_json::json;
use support::{StandIn, CLIENT_SECRET};

/// No message may quote the secret or a token the stand-in issued.
fn assert_no_secrets(standin: &StandIn, error: &Error) {
    assert!(!error.message().contains(CLIENT_SECRET), "secret in: {}", error.message());
    for request in standin.requests() {
        if let Some(auth) = request["headers"]["authorization"].as_str() {
            let token = auth.trim_start_matches("Bearer ");
            assert!(!error.message().contains(token), "token in: {}", error.message());
        }
    }
}

#[test]
fn unknown_code_is_http_404_with_the_servers_words() {
    let standin = StandIn::start();
    let error = standin.client().codeinfo("ZZ99.9").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 404));
    assert!(error.message().contains("404") && error.message().contains("codeinfo/ZZ99.9"), "{}", error.message());
    assert_no_secrets(&standin, &error);
}

#[test]
fn a_missing_api_version_is_refused_by_the_api() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("api_version", "v1").unwrap();
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 400));
}

#[test]
fn non_json_success_is_a_parse_error() {
    let standin = StandIn::start();
    standin.fault(json!({"match": "/codeinfo/", "kind": "non_json"}));
    let error = standin.client().codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Parse, 200));
    assert!(error.message().contains("not JSON"), "{}", error.message());
}

#[test]
fn retryable_statuses_are_retried_honouring_retry_after() {
    let standin = StandIn::start();
    let client = standin.client();
    standin.fault(json!({"match": "/codeinfo/", "kind": "status", "status": 503, "retry_after": "1", "count": 1}));
    let started = Instant::now();
    assert_eq!(client.codeinfo("1A00").unwrap().http_status, 200);
    assert!(started.elapsed() >= Duration::from_millis(950), "waited {:?}", started.elapsed());
    assert_eq!(standin.api_requests().len(), 2);
    for status in [429, 500, 502, 504] {
        standin.fault(
            json!({"match": "/codeinfo/1F4Z", "kind": "status", "status": status, "retry_after": "0", "count": 2}),
        );
        client.set_option("cache_entries", "0").unwrap();
        assert_eq!(client.codeinfo("1F4Z").unwrap().http_status, 200, "{status} retried twice");
    }
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let standin = StandIn::start();
    let when = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
    standin.fault(json!({"match": "/codeinfo/", "kind": "status", "status": 429, "retry_after": when}));
    let started = Instant::now();
    standin.client().codeinfo("1A00").unwrap();
    assert!(started.elapsed() >= Duration::from_millis(900), "waited {:?}", started.elapsed());
}

#[test]
fn a_retry_after_date_in_the_past_keeps_the_backoff() {
    let standin = StandIn::start();
    let client = standin.client();
    client.codeinfo("1F4Z").unwrap(); // the token is in hand
    client.set_option("max_retries", "3").unwrap();
    let past = httpdate::fmt_http_date(std::time::SystemTime::now() - Duration::from_secs(3600));
    standin.fault(json!({"match": "/codeinfo/1A00", "kind": "status", "status": 503, "retry_after": past, "count": 3}));
    let started = Instant::now();
    assert_eq!(client.codeinfo("1A00").unwrap().http_status, 200);
    // Three retries after 200, 400 and 800 ms of backoff, not a burst.
    assert!(started.elapsed() >= Duration::from_millis(1400), "retried after {:?}", started.elapsed());
    assert_eq!(standin.api_requests().iter().filter(|r| r["path"].as_str().unwrap().ends_with("1A00")).count(), 4);
}

#[test]
fn a_body_nested_deeper_than_the_json_limit_is_a_parse_error_as_in_icd_json_parse() {
    let standin = StandIn::start();
    let client = standin.client();
    let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for (depth, taken) in [(127, true), (128, false), (100_000, false)] {
        standin.fault(json!({"match": "/deep", "kind": "status", "status": 200, "body": nested(depth),
                             "content_type": "application/json"}));
        let outcome = client.get(&format!("/icd/deep/{depth}"));
        assert_eq!(outcome.is_ok(), taken, "depth {depth}: {outcome:?}");
        assert_eq!(icdapi::json::Document::parse(&nested(depth)).is_ok(), taken, "the same limit for documents");
        if let Err(error) = outcome {
            assert_eq!(error.kind(), ErrorKind::Parse);
            assert!(error.message().contains("nested more than 127 levels deep"), "{}", error.message());
        }
    }
}

#[test]
fn retries_are_bounded_by_max_retries() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("max_retries", "1").unwrap();
    standin.fault(json!({"match": "/codeinfo/", "kind": "status", "status": 503, "retry_after": "0", "count": 5}));
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 503));
    assert_eq!(standin.api_requests().len(), 2);
    // Statuses that retrying cannot fix are not retried.
    standin.admin_post("reset", json!({}));
    client.set_option("max_retries", "3").unwrap();
    let _ = client.codeinfo("ZZ99").unwrap_err();
    assert_eq!(standin.api_requests_but_release_lists().len(), 1);
}

#[test]
fn a_retry_after_beyond_the_deadline_fails_at_once() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("timeout_ms", "2000").unwrap();
    standin.fault(json!({"match": "/codeinfo/", "kind": "status", "status": 503, "retry_after": "60"}));
    let started = Instant::now();
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 503));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_hanging_api_times_out_at_the_deadline_and_the_client_recovers() {
    let standin = StandIn::start();
    let client = standin.client();
    client.codeinfo("1F4Z").unwrap(); // the token is in hand
    client.set_option("timeout_ms", "500").unwrap();
    standin.fault(json!({"match": "/codeinfo/1A00", "kind": "hang", "seconds": 5}));
    let started = Instant::now();
    let error = client.codeinfo("1A00").unwrap_err();
    let took = started.elapsed();
    assert_eq!(error.kind(), ErrorKind::Timeout, "{}", error.message());
    assert!(took >= Duration::from_millis(450) && took < Duration::from_millis(1500), "took {took:?}");
    assert!(error.message().contains("500"), "{}", error.message());
    assert_eq!(client.codeinfo("1A00").unwrap().http_status, 200);
}

#[test]
fn the_deadline_covers_retries() {
    let standin = StandIn::start();
    let client = standin.client();
    client.codeinfo("1F4Z").unwrap();
    client.set_option("timeout_ms", "2500").unwrap();
    client.set_option("max_retries", "10").unwrap();
    standin.fault(json!({"match": "/codeinfo/1A00", "kind": "status", "status": 503, "retry_after": "1", "count": 20}));
    let started = Instant::now();
    let error = client.codeinfo("1A00").unwrap_err();
    // Attempts at 0 s, 1 s and 2 s; a fourth would start past the deadline, so the call ends
    // with the last answer long before ten retries.
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 503));
    assert!(started.elapsed() < Duration::from_millis(2500), "took {:?}", started.elapsed());
    assert_eq!(standin.api_requests().iter().filter(|r| r["path"].as_str().unwrap().ends_with("1A00")).count(), 3);
}

#[test]
fn a_slow_token_endpoint_counts_against_the_deadline() {
    let standin = StandIn::start();
    standin.configure(json!({"token_delay_ms": 3000}));
    let client = standin.client();
    client.set_option("timeout_ms", "400").unwrap();
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Timeout);
}

#[test]
fn dropped_and_reset_connections_are_network_errors_or_retried() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("cache_entries", "0").unwrap();
    client.codeinfo("1A00").unwrap();
    for kind in ["drop", "reset", "truncate"] {
        client.set_option("max_retries", "0").unwrap();
        standin.fault(json!({"match": "/codeinfo/", "kind": kind}));
        let error = client.codeinfo("1A00").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Network, "{kind}: {}", error.message());
        assert_no_secrets(&standin, &error);
        // With retries the same one-off fault is invisible.
        client.set_option("max_retries", "2").unwrap();
        standin.fault(json!({"match": "/codeinfo/", "kind": kind}));
        assert_eq!(client.codeinfo("1A00").unwrap().http_status, 200, "{kind} retried");
    }
}

#[test]
fn bodies_over_the_limit_are_network_errors() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("max_response_bytes", "100000").unwrap();
    standin.fault(json!({"match": "/codeinfo/", "kind": "large", "bytes": 200000}));
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Network);
    assert!(error.message().contains("max_response_bytes"), "{}", error.message());
    standin.fault(json!({"match": "/codeinfo/", "kind": "large", "bytes": 50000}));
    assert_eq!(client.codeinfo("1A00").unwrap().body.len(), 50000);
}

#[test]
fn a_body_of_exactly_max_response_bytes_is_accepted() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("timeout_ms", "10000").unwrap();
    client.set_option("max_response_bytes", "100000").unwrap();
    standin.fault(json!({"match": "/codeinfo/", "kind": "large", "bytes": 100000}));
    assert_eq!(client.codeinfo("1A00").unwrap().body.len(), 100000, "the limit itself is allowed");
    standin.fault(json!({"match": "/codeinfo/", "kind": "large", "bytes": 100001}));
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
    assert!(error.message().contains("larger than max_response_bytes (100000 bytes)"), "{}", error.message());
}

#[test]
fn transport_errors_name_the_method_and_the_url() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("timeout_ms", "10000").unwrap();
    client.set_option("token_endpoint", "http://127.0.0.1:9/connect/token").unwrap();
    let error = client.codeinfo("1A00").unwrap_err();
    assert!(
        error.message().starts_with("POST http://127.0.0.1:9/connect/token: connection refused"),
        "{}",
        error.message()
    );
    let local = Client::local(Some("http://127.0.0.1:9")).unwrap();
    local.set_option("timeout_ms", "10000").unwrap();
    let error = local.get("/icd/entity").unwrap_err();
    assert!(
        error.message().starts_with("GET http://127.0.0.1:9/icd/entity: connection refused"),
        "{}",
        error.message()
    );
}

#[test]
fn a_gigantic_header_is_a_network_error() {
    let standin = StandIn::start();
    let client = standin.client();
    standin.fault(json!({"match": "/codeinfo/", "kind": "huge_header", "bytes": 200000}));
    assert_eq!(client.codeinfo("1A00").unwrap_err().kind(), ErrorKind::Network);
    assert_eq!(client.codeinfo("1A00").unwrap().http_status, 200);
}

#[test]
fn nothing_listening_is_a_network_error() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("api_base", "http://127.0.0.1:9").unwrap();
    client.set_option("token_endpoint", "http://127.0.0.1:9/connect/token").unwrap();
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Network, 0));
}

#[test]
fn clear_text_endpoints_are_refused_for_cloud_clients() {
    let client = Client::cloud(Some("id"), Some("secret")).unwrap();
    for (name, value) in [
        ("api_base", "http://id.who.int"),
        ("token_endpoint", "http://icdaccessmanagement.who.int/connect/token"),
        ("api_base", "http://10.0.0.5:8080"),
    ] {
        let error = client.set_option(name, value).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(error.message().contains("https"), "{}", error.message());
    }
    for loopback in ["http://127.0.0.1:8080", "http://localhost:1234", "http://[::1]:80", "http://127.1.2.3"] {
        client.set_option("api_base", loopback).unwrap();
    }
    assert_eq!(client.config().api_base.as_url(), "http://127.1.2.3");
}

#[test]
fn bad_option_values_are_refused_and_leave_the_option_unchanged() {
    let client = Client::cloud(Some("id"), Some("secret")).unwrap();
    for (name, value) in [
        ("language", ""),
        ("language", "en\r\nX-Evil: 1"),
        ("release", "2026/01"),
        ("linearization", "foundation"),
        ("api_version", "v2 x"),
        ("api_base", "id.who.int"),
        ("api_base", "https://user:pw@id.who.int"),
        ("api_base", "https://id.who.int/?q=1"),
        ("timeout_ms", "0"),
        ("timeout_ms", "-5"),
        ("timeout_ms", "soon"),
        ("max_retries", "11"),
        ("cache_entries", "x"),
        ("max_response_bytes", "10"),
        ("user_agent", "bad\nagent"),
        ("proxy", "https://proxy:3128"),
        ("proxy", "not a url"),
        ("ca_file", "/nonexistent/ca.pem"),
        ("log", "loud"),
        ("no_such_option", "1"),
    ] {
        let error = client.set_option(name, value).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument, "{name}={value}");
        assert!(error.message().contains(name), "{name}: {}", error.message());
    }
    let config = client.config();
    assert_eq!((config.language.as_str(), config.release.as_str()), ("en", "2026-01"));
    assert_eq!(config.timeout, Duration::from_secs(30));
    assert_eq!(config.api_base.as_url(), "https://id.who.int");
}

#[test]
fn every_option_in_the_contract_is_accepted() {
    let client = Client::cloud(Some("id"), Some("secret")).unwrap();
    for (name, value) in [
        ("language", "zh"),
        ("release", "2024-01"),
        ("linearization", "icf"),
        ("api_version", "v2"),
        ("api_base", "https://id.who.int"),
        ("token_endpoint", "https://icdaccessmanagement.who.int/connect/token"),
        ("timeout_ms", "5000"),
        ("max_retries", "0"),
        ("cache_entries", "10"),
        ("max_response_bytes", "1048576"),
        ("user_agent", "my-ehr/2.1"),
        ("proxy", "http://proxy.hospital.example:3128"),
        ("proxy", "none"),
        ("log", "off"),
    ] {
        client.set_option(name, value).unwrap_or_else(|e| panic!("{name}={value}: {e}"));
    }
}

#[test]
fn errors_quoting_a_body_never_quote_the_token_or_secret() {
    let standin = StandIn::start();
    let client = standin.client();
    client.codeinfo("1A00").unwrap();
    let token = standin.last_api_request()["headers"]["authorization"].as_str().unwrap().replace("Bearer ", "");
    // A hostile or buggy server echoing the token and the secret back in an error body.
    standin.fault(json!({"match": "/codeinfo/", "kind": "status", "status": 418,
        "body": format!("you sent {token} and {CLIENT_SECRET}")}));
    let error = client.codeinfo("1F4Z").unwrap_err();
    assert_eq!(error.http_status(), 418);
    assert!(error.message().contains("[redacted]"), "{}", error.message());
    assert_no_secrets(&standin, &error);
    assert!(!format!("{client:?}").contains(CLIENT_SECRET));
}

/// How many times `words` occurs in `text`, ignoring case.
fn occurrences(text: &str, words: &str) -> usize {
    text.to_lowercase().matches(&words.to_lowercase()).count()
}

#[test]
fn messages_say_nothing_twice() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("timeout_ms", "10000").unwrap();
    client.set_option("api_base", "http://127.0.0.1:9").unwrap();
    client.set_option("token_endpoint", "http://127.0.0.1:9/connect/token").unwrap();
    let message = client.codeinfo("1A00").unwrap_err().message().to_owned();
    assert_eq!(occurrences(&message, "refused"), 1, "{message}");
    assert!(!message.contains("os error"), "the OS's error number adds nothing: {message}");

    let client = standin.client();
    client.set_option("timeout_ms", "10000").unwrap();
    client.set_option("max_retries", "0").unwrap();
    standin.fault(json!({"match": "/codeinfo/", "kind": "reset", "count": 1}));
    let message = client.codeinfo("1A00").unwrap_err().message().to_owned();
    assert_eq!(occurrences(&message, "connection"), 1, "{message}");
    assert!(!message.contains("os error") && !message.contains("attempts"), "one attempt, nothing to count: {message}");
}

#[test]
fn a_failure_after_retries_says_how_many_attempts_were_made() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("timeout_ms", "10000").unwrap();
    client.codeinfo("1A00").unwrap(); // the token, fetched

    // Cut connections, retried twice (max_retries = 2, the default).
    standin.fault(json!({"match": "/codeinfo/", "kind": "reset", "count": 3}));
    let error = client.codeinfo("1A01").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Network);
    assert!(error.message().ends_with("after 3 attempts"), "{}", error.message());

    // A status that stays 503.
    standin.fault(json!({"match": "/codeinfo/", "kind": "status", "status": 503, "retry_after": "0", "count": 2}));
    client.set_option("max_retries", "1").unwrap();
    let error = client.codeinfo("1A02").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 503));
    assert!(error.message().contains("503 Service Unavailable after 2 attempts:"), "{}", error.message());

    // The token endpoint too.
    let fresh = standin.client_with_secret(CLIENT_SECRET);
    fresh.set_option("timeout_ms", "10000").unwrap();
    standin.revoke_tokens();
    standin.fault(json!({"match": "/connect/token", "kind": "status", "status": 500, "count": 3}));
    let error = fresh.codeinfo("1A03").unwrap_err();
    assert!(error.message().contains("token endpoint answered 500 after 3 attempts"), "{}", error.message());
}

#[test]
fn an_unknown_host_is_named_with_the_option_it_comes_from() {
    let standin = StandIn::start();
    // `.invalid` never resolves (RFC 6761).
    for (option, value) in [
        ("api_base", "https://no-such-host.invalid".to_owned()),
        ("token_endpoint", "https://no-such-host.invalid/connect/token".to_owned()),
    ] {
        let client = standin.client();
        client.set_option("proxy", "none").unwrap();
        client.set_option(option, &value).unwrap();
        let error = client.codeinfo("1A00").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Network, "{}", error.message());
        let expected = format!(
            "the host no-such-host.invalid (from the option {option}) could not be found: check its spelling in {option}"
        );
        assert!(error.message().contains(&expected), "{}", error.message());
    }
}
