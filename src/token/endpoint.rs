//! The OAuth2 token endpoint: asking it for a token and reading its answer.

use std::time::{Duration, Instant};

use serde::Deserialize;
use ureq::http::{header, HeaderValue};
use zeroize::Zeroizing;

use crate::error::{quote_body, Error, ErrorKind, Result};
use crate::http::transport::{self, Body, Method, Policy, Request, ACCEPT_JSON};
use crate::http::url::BaseUrl;
use crate::text::{redact, shorten};
use crate::token::Credentials;

/// Lifetime assumed when a token response omits `expires_in` (WHO's tokens live an hour; a
/// shorter real lifetime still works, because a 401 makes the client fetch a new token).
const ASSUMED_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    /// Any JSON number: 3600, 3600.0 and 1e30 are all seen in the wild (read as f64, which
    /// serde_json also gives integers beyond u64).
    expires_in: Option<f64>,
    token_type: Option<String>,
}

#[derive(Deserialize)]
struct TokenError {
    error: String,
}

/// Asks the token endpoint for a token (client credentials as form fields, as WHO expects).
pub fn fetch_token(
    agent: &ureq::Agent,
    endpoint: &BaseUrl,
    user_agent: &HeaderValue,
    credentials: &Credentials,
    policy: Policy,
    deadline: Instant,
) -> Result<(String, Duration)> {
    let url = endpoint.as_url();
    let fields = [
        ("grant_type", "client_credentials"),
        ("scope", "icdapi_access"),
        ("client_id", credentials.client_id.as_str()),
        ("client_secret", credentials.client_secret.as_str()),
    ];
    let headers = [(&header::ACCEPT, &ACCEPT_JSON), (&header::USER_AGENT, user_agent)];
    let request = Request {
        method: Method::Post,
        url: &url,
        headers: &headers,
        body: Body::Form(&fields),
        host_option: "token_endpoint",
    };
    let answer = transport::send(agent, policy, &request, deadline)?;
    let answer_attempts = answer.attempts_note();
    let body = Zeroizing::new(answer.body);
    let status = answer.status;
    match status {
        200 => {
            let (access_token, lifetime) = parse_token_response(&body).map_err(|why| {
                Error::new(ErrorKind::Parse, format!("POST {url}: the token endpoint answered 200 with {why}"))
                    .with_http_status(status)
            })?;
            if policy.log {
                crate::log::line(format_args!("token fetched from {url}, valid {} s", lifetime.as_secs()));
            }
            Ok((access_token.to_string(), lifetime))
        }
        400 | 401 => {
            let code = oauth_error_code(&body);
            let hint = if code == "invalid_client" { ": check the client id and secret" } else { "" };
            // The code is outside text: it may hold the secret (an endpoint echoing the request),
            // blanked out before the code is cut short.
            let code = shorten(&redact(&code, &[credentials.client_secret.as_str()]), 60);
            Err(Error::new(
                ErrorKind::Auth,
                format!("POST {url}: the token endpoint refused the credentials ({code}){hint}"),
            )
            .with_http_status(status))
        }
        _ => Err(Error::new(
            ErrorKind::Http,
            format!(
                "POST {url}: the token endpoint answered {status}{}: {}",
                answer_attempts,
                quote_body(&body, &[credentials.client_secret.as_str()])
            ),
        )
        .with_http_status(status)),
    }
}

/// The token and its lifetime from a 200 answer of the token endpoint, or what is wrong with it
/// (for the message: "answered 200 with ..."). The body is outside input: any bytes may come.
pub fn parse_token_response(body: &[u8]) -> std::result::Result<(Zeroizing<String>, Duration), &'static str> {
    let parsed: TokenResponse = serde_json::from_slice(body).map_err(|_| "a body that is not a token response")?;
    let access_token = Zeroizing::new(parsed.access_token);
    if !can_stand_in_a_header(&access_token) {
        return Err("an empty or malformed access_token");
    }
    if parsed.token_type.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("bearer")) {
        return Err("a token that is not a bearer token");
    }
    let lifetime = match parsed.expires_in {
        None => ASSUMED_TOKEN_LIFETIME,
        Some(seconds) if seconds.is_nan() || seconds < 0.0 => return Err("a body that is not a token response"),
        // Clamped: `Token` believes a day at most anyway, and a huge value must not overflow.
        Some(seconds) => Duration::from_secs_f64(seconds.min(MAX_BELIEVED_LIFETIME.as_secs_f64())),
    };
    Ok((access_token, lifetime))
}

/// The longest `expires_in` read as it is (a token is used a day at most, see `Token::new`).
const MAX_BELIEVED_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// The OAuth2 `error` code of a 400/401 answer of the token endpoint, for the message.
pub fn oauth_error_code(body: &[u8]) -> String {
    serde_json::from_slice::<TokenError>(body).map_or_else(|_| "no OAuth2 error code".into(), |e| e.error)
}

/// Whether a token can be sent as it is in `Authorization: Bearer <token>`: printable ASCII.
pub fn can_stand_in_a_header(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(body: &str) -> std::result::Result<(String, Duration), &'static str> {
        parse_token_response(body.as_bytes()).map(|(token, lifetime)| (token.to_string(), lifetime))
    }

    #[test]
    fn a_bearer_token_is_read_whatever_the_case_of_its_type() {
        for token_type in ["Bearer", "bearer", "BEARER"] {
            let body = format!(r#"{{"access_token":"eyJ.a-b_c","expires_in":3600,"token_type":"{token_type}"}}"#);
            assert_eq!(parsed(&body), Ok(("eyJ.a-b_c".into(), Duration::from_secs(3600))), "{token_type}");
        }
        assert_eq!(parsed(r#"{"access_token":"t","expires_in":0}"#), Ok(("t".into(), Duration::ZERO)));
        assert_eq!(parsed(r#"{"access_token":"t"}"#), Ok(("t".into(), ASSUMED_TOKEN_LIFETIME)), "no expires_in");
    }

    #[test]
    fn expires_in_may_be_any_non_negative_number_and_is_clamped() {
        let lifetime = |expires_in: &str| parsed(&format!(r#"{{"access_token":"t","expires_in":{expires_in}}}"#));
        assert_eq!(lifetime("3600.0"), Ok(("t".into(), Duration::from_secs(3600))));
        assert_eq!(lifetime("1.5"), Ok(("t".into(), Duration::from_millis(1500))));
        for huge in ["18446744073709551616", "1e30", "1.7976931348623157e308"] {
            assert_eq!(lifetime(huge), Ok(("t".into(), MAX_BELIEVED_LIFETIME)), "{huge}");
        }
        assert_eq!(lifetime("-0.5"), Err("a body that is not a token response"));
    }

    #[test]
    fn answers_that_hold_no_usable_token_say_why() {
        let not_bearer = r#"{"access_token":"t","expires_in":3600,"token_type":"mac"}"#;
        assert_eq!(parsed(not_bearer), Err("a token that is not a bearer token"));
        for body in [r#"{"access_token":""}"#, r#"{"access_token":"a b"}"#, r#"{"access_token":"é"}"#] {
            assert_eq!(parsed(body), Err("an empty or malformed access_token"), "{body}");
        }
        for body in ["", "<html>", r#"{"expires_in":3600}"#, r#"{"access_token":"t","expires_in":-1}"#] {
            assert_eq!(parsed(body), Err("a body that is not a token response"), "{body}");
        }
    }

    #[test]
    fn the_oauth2_error_code_is_read_when_there_is_one() {
        assert_eq!(oauth_error_code(br#"{"error":"invalid_scope"}"#), "invalid_scope");
        assert_eq!(oauth_error_code(b"Bad Request"), "no OAuth2 error code");
    }
}
