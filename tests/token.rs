//! The token: fetched lazily, once for many calls and many threads, refreshed before expiry,
//! dropped and refetched once on 401; credentials sent as the token endpoint expects.

mod support;

use std::sync::Arc;
use std::time::Duration;

use icdapi::{Client, ErrorKind};
use support::{StandIn, CLIENT_ID, CLIENT_SECRET};

#[test]
fn creating_a_client_does_no_network_io() {
    let standin = StandIn::start();
    let _client = standin.client();
    assert_eq!(standin.requests().len(), 0);
}

#[test]
fn one_token_serves_many_calls() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("cache_entries", "0").unwrap();
    for _ in 0..20 {
        client.codeinfo("1A00").unwrap();
    }
    assert_eq!(standin.tokens_issued(), 1);
    assert_eq!(standin.api_requests().len(), 20);
}

#[test]
fn token_request_is_a_form_with_client_credentials() {
    let standin = StandIn::start();
    standin.client().search("cholera").unwrap();
    let token_request = standin.requests().into_iter().find(|r| r["path"] == "/connect/token").unwrap();
    assert_eq!(token_request["method"], "POST");
    assert!(token_request["headers"]["content-type"]
        .as_str()
        .unwrap()
        .starts_with("application/x-www-form-urlencoded"));
    let body = token_request["body"].as_str().unwrap();
    for field in ["grant_type=client_credentials", "scope=icdapi_access", &format!("client_id={CLIENT_ID}")] {
        assert!(body.contains(field), "{field} missing from {body}");
    }
    assert!(body.contains(&format!("client_secret={CLIENT_SECRET}")));
}

#[test]
fn sixteen_threads_share_one_token_fetch() {
    let standin = StandIn::start();
    // A slow token endpoint makes every thread arrive while the first fetch is under way.
    standin.configure(serde_json::json!({"token_delay_ms": 300}));
    let client = Arc::new(standin.client());
    client.set_option("cache_entries", "0").unwrap();
    let threads: Vec<_> = (0..16)
        .map(|i| {
            let client = client.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let code = ["1A00", "1F4Z", "FB32.5"][i % 3];
                    client.codeinfo(code).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(standin.tokens_issued(), 1);
    assert_eq!(standin.stat("token_requests"), 1);
    assert_eq!(standin.api_requests().len(), 80);
}

#[test]
fn token_is_refreshed_before_it_expires_without_a_401() {
    let standin = StandIn::start_with(&["--expires-in", "2"]);
    let client = standin.client();
    client.set_option("cache_entries", "0").unwrap();
    // A 2 s token is refreshed 0.2 s before it expires: calls over 3 s need exactly two tokens,
    // and the API never sees an expired one.
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(3000) {
        client.codeinfo("1A00").unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(standin.stat("api_401"), 0);
    assert_eq!(standin.tokens_issued(), 2);
}

#[test]
fn a_401_drops_the_token_and_retries_once() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("cache_entries", "0").unwrap();
    client.codeinfo("1A00").unwrap();
    standin.revoke_tokens();
    let reply = client.codeinfo("1A00").unwrap();
    assert_eq!(reply.http_status, 200);
    assert_eq!(standin.tokens_issued(), 2);
    assert_eq!(standin.stat("api_401"), 1);
    let tokens: Vec<_> = standin.api_requests().iter().map(|r| r["headers"]["authorization"].clone()).collect();
    assert_eq!(tokens.len(), 3);
    assert_eq!(tokens[0], tokens[1], "the revoked token was tried first");
    assert_ne!(tokens[1], tokens[2], "the retry carried a new token");
}

#[test]
fn a_401_with_a_fresh_token_is_an_auth_error() {
    let standin = StandIn::start();
    let client = standin.client();
    standin.fault(serde_json::json!({"match": "/codeinfo/", "kind": "status", "status": 401, "count": 2,
        "body": "Authentication failed."}));
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Auth);
    assert_eq!(error.http_status(), 401);
    assert!(error.message().contains("401"), "{}", error.message());
    assert_eq!(standin.tokens_issued(), 2, "one refetch, then give up");
}

#[test]
fn wrong_credentials_are_an_auth_error_without_the_secret() {
    let standin = StandIn::start();
    let secret = "wrong-secret-value-42";
    let client = standin.client_with_secret(secret);
    let error = client.search("cholera").unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Auth);
    assert_eq!(error.http_status(), 400);
    assert!(error.message().contains("invalid_client"), "{}", error.message());
    assert!(!error.message().contains(secret));
    assert_eq!(standin.api_requests().len(), 0, "no API request without a token");
}

#[test]
fn a_refusal_says_to_check_the_credentials_only_when_they_are_at_fault() {
    let standin = StandIn::start();
    let error = standin.client_with_secret("wrong").codeinfo("1A00").unwrap_err();
    assert!(error.message().ends_with("(invalid_client): check the client id and secret"), "{}", error.message());
    // Right credentials, refused for another reason: checking them would not help.
    standin.fault(serde_json::json!({"match": "/connect/token", "kind": "status", "status": 400,
        "body": r#"{"error":"invalid_scope"}"#, "content_type": "application/json"}));
    let error = standin.client().codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Auth, 400));
    assert!(error.message().ends_with("refused the credentials (invalid_scope)"), "{}", error.message());
}

#[test]
fn a_token_endpoint_error_body_is_quoted_without_the_secret() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("max_retries", "0").unwrap();
    standin.fault(serde_json::json!({"match": "/connect/token", "kind": "status", "status": 503,
        "body": format!("overloaded; you sent client_secret={CLIENT_SECRET}")}));
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 503));
    assert!(
        error
            .message()
            .ends_with(r#"the token endpoint answered 503: "overloaded; you sent client_secret=[redacted]""#),
        "{}",
        error.message()
    );
}

#[test]
fn threads_waiting_for_a_refused_token_share_the_refusal() {
    let standin = StandIn::start();
    standin.configure(serde_json::json!({"token_delay_ms": 300}));
    let client = Arc::new(standin.client_with_secret("wrong"));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let client = client.clone();
            std::thread::spawn(move || client.codeinfo("1A00").unwrap_err().kind())
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().unwrap(), ErrorKind::Auth);
    }
    assert_eq!(standin.stat("token_requests"), 1);
}

#[test]
fn a_token_response_without_expires_in_is_accepted() {
    let standin = StandIn::start();
    standin.fault(serde_json::json!({"match": "/connect/token", "kind": "token_no_expiry"}));
    let client = standin.client();
    client.codeinfo("1A00").unwrap();
    client.codeinfo("1F4Z").unwrap();
    assert_eq!(standin.tokens_issued(), 1);
}

#[test]
fn token_endpoint_faults_have_their_codes() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("max_retries", "0").unwrap();
    standin.fault(serde_json::json!({"match": "/connect/token", "kind": "non_json"}));
    assert_eq!(client.codeinfo("1A00").unwrap_err().kind(), ErrorKind::Parse);
    standin.fault(serde_json::json!({"match": "/connect/token", "kind": "status", "status": 500}));
    let error = client.codeinfo("1A00").unwrap_err();
    assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 500));
    // And the client works again once the endpoint does.
    assert_eq!(client.codeinfo("1A00").unwrap().http_status, 200);
}

#[test]
fn changing_the_token_endpoint_drops_the_token() {
    let standin = StandIn::start();
    let other = StandIn::start();
    let client = standin.client();
    client.codeinfo("1A00").unwrap();
    client.set_option("token_endpoint", &other.token_endpoint()).unwrap();
    client.set_option("api_base", &other.url).unwrap();
    client.codeinfo("1F4Z").unwrap();
    assert_eq!(other.tokens_issued(), 1);
    let sent = other.last_api_request()["headers"]["authorization"].as_str().unwrap().to_owned();
    let first = standin.last_api_request()["headers"]["authorization"].as_str().unwrap().to_owned();
    assert_ne!(sent, first, "the first endpoint's token never goes to the second API");
}

#[test]
fn credentials_come_from_the_environment_when_both_are_null() {
    // The only test in this binary that touches these variables (ICD_CLIENT_*, ICD_API_BASE,
    // ICD_TOKEN_ENDPOINT).
    std::env::set_var("ICD_CLIENT_ID", CLIENT_ID);
    std::env::set_var("ICD_CLIENT_SECRET", CLIENT_SECRET);
    // Set but empty, the URL variables mean "not set": the defaults, not an error.
    std::env::set_var("ICD_API_BASE", "");
    std::env::set_var("ICD_TOKEN_ENDPOINT", "");
    let defaults = Client::cloud(None, None).unwrap().config();
    assert_eq!(defaults.get("api_base").unwrap(), "https://id.who.int");
    assert_eq!(defaults.get("token_endpoint").unwrap(), "https://icdaccessmanagement.who.int/connect/token");
    let standin = StandIn::start();
    std::env::set_var("ICD_API_BASE", &standin.url);
    std::env::set_var("ICD_TOKEN_ENDPOINT", standin.token_endpoint());
    let client = Client::cloud(None, None).unwrap();
    std::env::remove_var("ICD_API_BASE");
    std::env::remove_var("ICD_TOKEN_ENDPOINT");
    client.codeinfo("1A00").unwrap();
    std::env::remove_var("ICD_CLIENT_SECRET");
    let error = Client::cloud(None, None).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::InvalidArgument);
    assert!(error.message().contains("ICD_CLIENT_SECRET"), "{}", error.message());
    // A new user is told where to register and how to start without credentials.
    for hint in ["https://icd.who.int/icdapi", "scripts/standin.sh"] {
        assert!(error.message().contains(hint), "{hint}: {}", error.message());
    }
    std::env::remove_var("ICD_CLIENT_ID");
    let error = Client::cloud(None, None).unwrap_err();
    assert!(error.message().starts_with("ICD_CLIENT_ID is not set"), "{}", error.message());
    assert!(error.message().contains("scripts/standin.sh"), "{}", error.message());
    assert_eq!(Client::cloud(Some("id"), None).unwrap_err().kind(), ErrorKind::InvalidArgument);
    assert_eq!(Client::cloud(Some(""), Some("x")).unwrap_err().kind(), ErrorKind::InvalidArgument);
}

/// Secrets with every character that encodings change, and a long one (74 characters).
fn awkward_secrets() -> Vec<String> {
    let long: String = "Lo+ng/Se=cr&et%é! ".chars().cycle().take(74).collect();
    assert_eq!(long.chars().count(), 74);
    vec!["Pa55 +w/0rd=&%é!".to_owned(), long]
}

/// The forms a secret takes in a request body or a URL: as it is, a form's encoding (space as
/// `+`), RFC 3986 percent-encoding, both with lower-case hex.
fn forms_of(secret: &str) -> Vec<String> {
    use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
    let percent = utf8_percent_encode(secret, NON_ALPHANUMERIC).to_string();
    let form = percent.replace("%20", "+");
    let lower = |text: &str| {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '%' {
                out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
            }
        }
        out
    };
    vec![secret.to_owned(), lower(&form), lower(&percent), form, percent]
}

/// No form of `secret`, not even a stretch of 8 characters of one, shows in `message`.
fn assert_no_trace_of(secret: &str, message: &str) {
    for form in forms_of(secret) {
        let chars: Vec<char> = form.chars().collect();
        for window in chars.windows(8.min(chars.len())) {
            let piece: String = window.iter().collect();
            assert!(!message.contains(&piece), "{piece:?} of {form:?} shows in: {message}");
        }
    }
}

#[test]
fn a_token_endpoint_echoing_the_request_never_shows_the_secret_in_any_form() {
    let standin = StandIn::start();
    for secret in awkward_secrets() {
        let client = standin.client_with_secret(&secret);
        client.set_option("max_retries", "0").unwrap();
        // A misconfigured proxy answers 502 with the request it got, body included.
        standin.fault(serde_json::json!({"match": "/connect/token", "kind": "echo", "status": 502}));
        let error = client.codeinfo("1A00").unwrap_err();
        assert_eq!((error.kind(), error.http_status()), (ErrorKind::Http, 502));
        assert!(error.message().contains("client_secret=[redacted]"), "{}", error.message());
        assert_no_trace_of(&secret, error.message());
    }
}

#[test]
fn an_oauth_error_code_holding_the_secret_is_redacted_before_it_is_cut_short() {
    let standin = StandIn::start();
    for secret in awkward_secrets() {
        let client = standin.client_with_secret(&secret);
        for code in [secret.clone(), forms_of(&secret)[3].clone(), format!("bad client {secret} refused")] {
            let body = serde_json::json!({ "error": code }).to_string();
            standin.fault(serde_json::json!({"match": "/connect/token", "kind": "status", "status": 400,
                                              "body": body, "content_type": "application/json"}));
            let error = client.codeinfo("1A00").unwrap_err();
            assert_eq!(error.kind(), ErrorKind::Auth, "{}", error.message());
            assert!(error.message().contains("[redacted]"), "{}", error.message());
            assert_no_trace_of(&secret, error.message());
        }
    }
}

#[test]
fn an_api_echoing_the_request_never_shows_the_token() {
    let standin = StandIn::start();
    let client = standin.client();
    client.set_option("max_retries", "0").unwrap();
    standin.fault(serde_json::json!({"match": "codeinfo", "kind": "echo", "status": 500}));
    let error = client.codeinfo("1A00").unwrap_err();
    assert!(error.message().contains("Bearer [redacted]"), "{}", error.message());
    let token = standin.requests().iter().find_map(|r| r["headers"]["authorization"].as_str().map(str::to_owned));
    let token = token.expect("the API got a token");
    assert_no_trace_of(token.trim_start_matches("Bearer "), error.message());
}

#[test]
fn an_expires_in_written_as_a_decimal_or_beyond_u64_gives_a_usable_token() {
    for expires_in in [serde_json::json!(3600.0), serde_json::json!(1e20)] {
        let standin = StandIn::start();
        standin.configure(serde_json::json!({ "expires_in": expires_in }));
        let client = standin.client();
        client.set_option("cache_entries", "0").unwrap();
        for _ in 0..3 {
            client.codeinfo("1A00").unwrap_or_else(|e| panic!("expires_in {expires_in}: {e}"));
        }
        assert_eq!(standin.tokens_issued(), 1, "expires_in {expires_in}: one token for the three calls");
    }
}
