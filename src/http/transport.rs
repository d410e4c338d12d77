//! One HTTP exchange with retries: the layer between the client's logic and ureq.
//!
//! Retries cover 429, 500, 502, 503, 504 and connections that were reset or cut short, with
//! exponential backoff that honours `Retry-After`; every attempt and every wait fits inside the
//! one deadline of the call.

use std::hash::{BuildHasher, Hasher};
use std::io;
use std::time::{Duration, Instant, SystemTime};

use ureq::http::{HeaderName, HeaderValue};
use ureq::Agent;

use crate::error::{Error, ErrorKind, Result};

/// Longest single backoff when the server gives no `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(8);
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
/// Longest request URL: the request line must fit in a connection's output buffer (servers
/// refuse far shorter ones anyway: 8 KiB is a common limit).
pub const MAX_URL_BYTES: usize = crate::http::socket::OUTPUT_BUFFER - 64;

pub static ACCEPT_JSON: HeaderValue = HeaderValue::from_static("application/json");
pub static API_VERSION: HeaderName = HeaderName::from_static("api-version");

/// What the client's options allow one exchange (`Config::policy`): the few values this layer
/// needs, rather than the whole configuration.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub max_retries: u32,
    pub max_response_bytes: u64,
    /// The option `timeout_ms`, named when the deadline passes (the deadline itself is the call's).
    pub timeout: Duration,
    /// The `log` option: a line per attempt on stderr.
    pub log: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

pub enum Body<'a> {
    None,
    Json(&'a str),
    Form(&'a [(&'a str, &'a str)]),
}

pub struct Request<'a> {
    pub method: Method,
    pub url: &'a str,
    /// Typed names and values, built once (see `options::FixedHeaders`): ureq then copies them
    /// instead of parsing strings on every request.
    pub headers: &'a [(&'a HeaderName, &'a HeaderValue)],
    pub body: Body<'a>,
    /// The option the URL's host comes from (`api_base`, `token_endpoint`), for messages about
    /// the host.
    pub host_option: &'static str,
}

/// An answer with its body read (up to `max_response_bytes`).
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
    pub cache_control: Option<String>,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub retry_after: Option<String>,
    /// How many attempts were made: more than 1 when it came back after retries.
    pub attempts: u32,
}

impl Answer {
    /// " after 3 attempts" when the answer came after retries, for the caller's message.
    pub fn attempts_note(&self) -> String {
        attempts_note(self.attempts)
    }
}

fn attempts_note(attempts: u32) -> String {
    if attempts > 1 {
        format!(" after {attempts} attempts")
    } else {
        String::new()
    }
}

enum Failure {
    /// Worth another attempt: a reset or cut connection.
    Retryable(Error),
    Final(Error),
}

/// Sends `request`, retrying as the configuration allows. A retryable status whose retries are
/// used up (or that asks to wait past the deadline) comes back as the `Answer`, for the caller
/// to report with its status.
pub fn send(agent: &Agent, policy: Policy, request: &Request, deadline: Instant) -> Result<Answer> {
    let mut attempt = 0;
    loop {
        // A call of icd_start that was cancelled makes no further attempt (its callback has had
        // ICD_ERR_CANCELLED already; this outcome is dropped).
        if crate::calls::cancelled() {
            return Err(Error::new(ErrorKind::Cancelled, "the call was cancelled"));
        }
        let started = Instant::now();
        let outcome = send_once(agent, policy, request, deadline);
        if policy.log {
            let result = match &outcome {
                Ok(answer) => answer.status.to_string(),
                Err(Failure::Retryable(e) | Failure::Final(e)) => format!("error: {e}"),
            };
            crate::log::line(format_args!(
                "{} {} -> {result} in {} ms (attempt {})",
                request.method.as_str(),
                request.url,
                started.elapsed().as_millis(),
                attempt + 1
            ));
        }
        // What comes back says how many attempts it took, when there were retries.
        let give_up = |outcome: std::result::Result<Answer, Failure>| match outcome {
            Ok(answer) => Ok(Answer { attempts: attempt + 1, ..answer }),
            Err(Failure::Retryable(e) | Failure::Final(e)) => Err(e.with_note(&attempts_note(attempt + 1))),
        };
        let retry_after = match &outcome {
            Ok(answer) if is_retryable_status(answer.status) => answer_retry_after(answer),
            Err(Failure::Retryable(_)) => None,
            _ => return give_up(outcome),
        };
        let wait = wait_before_retry(retry_after, attempt);
        // checked_add: a hostile Retry-After of 2^64 seconds must not overflow the clock.
        let may_retry =
            attempt < policy.max_retries && Instant::now().checked_add(wait).is_some_and(|then| deadline > then);
        if !may_retry {
            return give_up(outcome);
        }
        if !crate::calls::sleep_unless_cancelled(wait) {
            return give_up(outcome);
        }
        attempt += 1;
    }
}

fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// 200 ms, 400 ms, 800 ms ... capped, with up to 25% jitter so that threads that failed together
/// do not retry in lockstep.
fn backoff(attempt: u32) -> Duration {
    let base = FIRST_BACKOFF.saturating_mul(1 << attempt.min(16)).min(MAX_BACKOFF);
    // RandomState's keys are random per instance: a cheap random number without a crate.
    let random = std::collections::hash_map::RandomState::new().build_hasher().finish();
    base + base.mul_f64((random % 1000) as f64 / 4000.0)
}

/// How long to wait before retry `attempt + 1`: the backoff, or longer when the server's
/// `Retry-After` asks for longer. Never shorter: a `Retry-After` of 0 or a date in the past
/// (a clock behind ours) must not turn the retries into a burst against a struggling server.
fn wait_before_retry(retry_after: Option<Duration>, attempt: u32) -> Duration {
    let backoff = backoff(attempt);
    retry_after.map_or(backoff, |asked| asked.max(backoff))
}

/// `Retry-After` as delay-seconds or as an HTTP date (zero when the date has passed).
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

fn answer_retry_after(answer: &Answer) -> Option<Duration> {
    answer.retry_after.as_deref().and_then(|v| parse_retry_after(v, SystemTime::now()))
}

fn send_once(
    agent: &Agent,
    policy: Policy,
    request: &Request,
    deadline: Instant,
) -> std::result::Result<Answer, Failure> {
    let describe = || format!("{} {}", request.method.as_str(), request.url);
    let remaining = deadline.saturating_duration_since(Instant::now());
    if remaining.is_zero() {
        return Err(Failure::Final(timeout_error(policy, &describe())));
    }
    if request.url.len() > MAX_URL_BYTES {
        return Err(Failure::Final(Error::invalid_argument(format!(
            "{} {}: the URL is {} bytes long, more than the {MAX_URL_BYTES} that a request line may take \
             (servers refuse far shorter ones; shorten the query)",
            request.method.as_str(),
            crate::http::url::shorten(request.url, 100),
            request.url.len()
        ))));
    }
    let sent = match request.method {
        Method::Get => get(agent, request, remaining),
        Method::Post => {
            let mut builder = agent.post(request.url);
            for (name, value) in request.headers {
                builder = builder.header(*name, *value);
            }
            let builder = builder.config().timeout_global(Some(remaining)).build();
            match request.body {
                Body::None => builder.send_empty(),
                Body::Json(json) => builder.content_type("application/json").send(json),
                Body::Form(fields) => builder.send_form(fields.iter().copied()),
            }
        }
    };
    let mut response = sent.map_err(|e| classify(e, policy, request))?;
    // By typed name: a name given as text would be parsed again on every lookup.
    use ureq::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, RETRY_AFTER};
    let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (cache_control, location, content_type) = (header(CACHE_CONTROL), header(LOCATION), header(CONTENT_TYPE));
    let retry_after = header(RETRY_AFTER);
    let status = response.status().as_u16();
    let body = read_body(response.body_mut(), policy.max_response_bytes)
        .map_err(|e| classify(e, policy, request).with_status(status))?;
    Ok(Answer { status, body, cache_control, location, content_type, retry_after, attempts: 1 })
}

/// A GET as ureq's `agent.get(url).header(..)...call()` makes it, with the request put together
/// in place: the builder moves the whole request through a closure for every header (a tenth of
/// ureq's instructions per kept-alive request went to that).
fn get(
    agent: &Agent,
    request: &Request,
    remaining: Duration,
) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    use ureq::RequestExt;
    let uri = request.url.parse::<ureq::http::Uri>().map_err(|e| ureq::Error::Http(e.into()))?;
    let mut headers = ureq::http::HeaderMap::with_capacity(request.headers.len());
    for (name, value) in request.headers {
        headers.append((*name).clone(), (*value).clone());
    }
    let mut get = ureq::http::Request::new(());
    *get.uri_mut() = uri;
    *get.headers_mut() = headers;
    get.with_agent(agent).configure().timeout_global(Some(remaining)).build().run()
}

/// Reads a whole body into a buffer sized from Content-Length up front (ureq's `read_to_vec`
/// grows it step by step), refusing more than `limit` bytes.
fn read_body(body: &mut ureq::Body, limit: u64) -> std::result::Result<Vec<u8>, ureq::Error> {
    use std::io::Read;
    if body.content_length().is_some_and(|length| length > limit) {
        return Err(ureq::Error::BodyExceedsLimit(limit));
    }
    // Sized up front from what the server announces, but never more than 16 MiB before the
    // bytes actually arrive: a lying Content-Length must not make us allocate it.
    let expected = body.content_length().unwrap_or(8 * 1024).min(limit).min(16 << 20) as usize;
    let mut buffer = Vec::with_capacity(expected);
    let mut reader = body.with_config().limit(limit).reader();
    reader.read_to_end(&mut buffer).map_err(|e| {
        // ureq reports its own errors (a timeout, the limit) through io::Error: unwrap them.
        match e.get_ref().and_then(|inner| inner.downcast_ref::<ureq::Error>()) {
            Some(_) => *e.into_inner().and_then(|inner| inner.downcast::<ureq::Error>().ok()).expect("checked"),
            None => ureq::Error::Io(e),
        }
    })?;
    Ok(buffer)
}

impl Failure {
    fn with_status(self, status: u16) -> Failure {
        match self {
            Failure::Retryable(e) => Failure::Retryable(e.with_http_status(status)),
            Failure::Final(e) => Failure::Final(e.with_http_status(status)),
        }
    }
}

fn timeout_error(policy: Policy, what: &str) -> Error {
    Error::new(
        ErrorKind::Timeout,
        format!("{what}: no complete answer within the call's deadline (timeout_ms = {})", policy.timeout.as_millis()),
    )
}

/// Sorts ureq's errors into the library's codes, with messages that say what happened.
fn classify(error: ureq::Error, policy: Policy, request: &Request) -> Failure {
    let what = &format!("{} {}", request.method.as_str(), request.url);
    let network = |detail: String| Error::new(ErrorKind::Network, format!("{what}: {detail}"));
    let cut = |how: &str| format!("the connection was cut: {how}");
    let unknown_host = || {
        let host = host_of(request.url);
        network(format!(
            "the host {host} (from the option {}) could not be found: check its spelling in {0}, \
             and that this machine can resolve names (DNS) and reach the network, or set the \
             option proxy if it must go through one",
            request.host_option
        ))
    };
    match error {
        ureq::Error::Timeout(_) => Failure::Final(timeout_error(policy, what)),
        ureq::Error::Io(e) if e.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => {
            Failure::Final(network(tls_failure(&e.to_string())))
        }
        ureq::Error::Io(e) => match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Failure::Final(timeout_error(policy, what)),
            io::ErrorKind::ConnectionReset => Failure::Retryable(network(cut("the server reset it"))),
            io::ErrorKind::ConnectionAborted => Failure::Retryable(network(cut("aborted on this side"))),
            io::ErrorKind::BrokenPipe => Failure::Retryable(network(cut("closed while the request was sent"))),
            io::ErrorKind::UnexpectedEof => Failure::Retryable(network(cut("closed before the answer was complete"))),
            io::ErrorKind::ConnectionRefused => Failure::Final(network(
                "connection refused: nothing accepts connections at that address and port \
                 (is the server up, and the URL right?)"
                    .into(),
            )),
            // The system resolver's failure, as std reports it (getaddrinfo: no such name).
            _ if io_text(&e).starts_with("failed to lookup address information") => Failure::Final(unknown_host()),
            _ => Failure::Final(network(io_text(&e))),
        },
        ureq::Error::HostNotFound => Failure::Final(unknown_host()),
        ureq::Error::BodyExceedsLimit(limit) => {
            Failure::Final(network(format!("the response body is larger than max_response_bytes ({limit} bytes)")))
        }
        ureq::Error::LargeResponseHeader(size, limit) => {
            Failure::Final(network(format!("the response headers are too large ({size} bytes, limit {limit})")))
        }
        ureq::Error::Rustls(e) => Failure::Final(network(tls_failure(&e.to_string()))),
        ureq::Error::Tls(e) => Failure::Final(network(tls_failure(e))),
        ureq::Error::Protocol(e) => Failure::Retryable(network(format!("the server broke the HTTP protocol: {e}"))),
        other => Failure::Final(network(other.to_string())),
    }
}

/// The host of an absolute URL ("host" of "https://host:443/path").
fn host_of(url: &str) -> &str {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = after_scheme.split(['/', '?', '#']).next().unwrap_or(after_scheme);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    }
}

/// An I/O error's text without the "(os error N)" that adds nothing to the OS's description.
pub(crate) fn io_text(error: &io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// A TLS failure, with what to do when it is the certificate that is not trusted.
fn tls_failure(detail: &str) -> String {
    if detail.contains("certificate") {
        format!(
            "TLS handshake failed: {detail} (the server's certificate is not trusted: add its CA to \
             the system's certificate store, or set the option ca_file to a PEM bundle holding it)"
        )
    } else {
        format!("TLS handshake failed: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_as_seconds_and_as_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(5));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(5)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(5));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    fn policy() -> Policy {
        Policy { max_retries: 2, max_response_bytes: 1 << 20, timeout: Duration::from_secs(30), log: false }
    }

    const REQUEST: Request =
        Request { method: Method::Get, url: "http://h/x", headers: &[], body: Body::None, host_option: "api_base" };

    /// What `classify` makes of `error`: retryable or not, and the error.
    fn classified_error(error: ureq::Error) -> (bool, Error) {
        match classify(error, policy(), &REQUEST) {
            Failure::Retryable(e) => (true, e),
            Failure::Final(e) => (false, e),
        }
    }

    /// What `classify` makes of an I/O error of `kind`.
    fn classified(kind: io::ErrorKind) -> (bool, Error) {
        classified_error(ureq::Error::Io(io::Error::from(kind)))
    }

    #[test]
    fn an_unknown_host_is_named_with_its_option_and_what_to_check() {
        let lookup = io::Error::other("failed to lookup address information: Name or service not known");
        for error in [ureq::Error::HostNotFound, ureq::Error::Io(lookup)] {
            let (retryable, error) = classified_error(error);
            assert!(!retryable);
            assert_eq!(error.kind(), ErrorKind::Network);
            assert!(
                error.message().starts_with("GET http://h/x: the host h (from the option api_base) could not be found: check its spelling in api_base"),
                "{}",
                error.message()
            );
        }
        assert_eq!(host_of("https://Id.who.int:443/icd?x"), "Id.who.int");
        assert_eq!(host_of("http://[::1]:8080/x"), "::1");
        assert_eq!(host_of("http://h"), "h");
    }

    #[test]
    fn operating_system_timeouts_are_timeouts_not_network_errors() {
        // Our sockets turn their timeouts into ureq's Timeout; one that arrives as a raw I/O error
        // (from a layer that does not) must still be a timeout, and final.
        for kind in [io::ErrorKind::TimedOut, io::ErrorKind::WouldBlock] {
            let (retryable, error) = classified(kind);
            assert!(!retryable, "{kind:?}");
            assert_eq!(error.kind(), ErrorKind::Timeout, "{kind:?}: {}", error.message());
            assert!(error.message().starts_with("GET http://h/x: no complete answer"), "{}", error.message());
        }
    }

    #[test]
    fn cut_connections_are_retried_and_say_how_they_were_cut() {
        for (kind, how) in [
            (io::ErrorKind::ConnectionReset, "the server reset it"),
            (io::ErrorKind::ConnectionAborted, "aborted on this side"),
            (io::ErrorKind::BrokenPipe, "closed while the request was sent"),
            (io::ErrorKind::UnexpectedEof, "closed before the answer was complete"),
        ] {
            let (retryable, error) = classified(kind);
            assert!(retryable, "{kind:?}");
            assert_eq!(error.kind(), ErrorKind::Network);
            assert_eq!(error.message(), format!("GET http://h/x: the connection was cut: {how}"));
        }
        let (retryable, error) = classified(io::ErrorKind::ConnectionRefused);
        assert!(!retryable, "nothing listens: not worth another attempt");
        assert!(
            error.message().starts_with("GET http://h/x: connection refused: nothing accepts"),
            "{}",
            error.message()
        );
        let (retryable, error) = classified(io::ErrorKind::PermissionDenied);
        assert!(!retryable && error.kind() == ErrorKind::Network, "{}", error.message());
    }

    #[test]
    fn tls_errors_inside_io_errors_are_tls_failures() {
        let inner = io::Error::other(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer));
        match classify(ureq::Error::Io(inner), policy(), &REQUEST) {
            Failure::Final(e) => {
                assert_eq!(e.kind(), ErrorKind::Network);
                assert!(
                    e.message().contains("TLS handshake failed") && e.message().contains("ca_file"),
                    "{}",
                    e.message()
                );
            }
            Failure::Retryable(e) => panic!("a bad certificate is not retried: {e}"),
        }
        assert_eq!(tls_failure("bad record"), "TLS handshake failed: bad record");
        assert!(tls_failure("invalid peer certificate").contains("set the option ca_file"));
    }

    #[test]
    fn notes_and_texts() {
        assert_eq!(attempts_note(1), "");
        assert_eq!(attempts_note(2), " after 2 attempts");
        assert_eq!(io_text(&io::Error::other("Connection refused (os error 111)")), "Connection refused");
        assert_eq!(io_text(&io::Error::other("plain")), "plain");
        assert_eq!((Method::Get.as_str(), Method::Post.as_str()), ("GET", "POST"));
    }

    #[test]
    fn retry_after_lengthens_the_backoff_but_never_shortens_it() {
        for attempt in [0, 1, 4] {
            let floor = FIRST_BACKOFF.saturating_mul(1 << attempt);
            for asked in [None, Some(Duration::ZERO), Some(Duration::from_millis(1))] {
                let wait = wait_before_retry(asked, attempt);
                assert!(wait >= floor && wait <= floor + floor / 4, "{asked:?}, attempt {attempt}: {wait:?}");
            }
            assert_eq!(wait_before_retry(Some(Duration::from_secs(30)), attempt), Duration::from_secs(30));
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(0) >= FIRST_BACKOFF && backoff(0) < FIRST_BACKOFF * 2);
        assert!(backoff(2) >= FIRST_BACKOFF * 4);
        assert!(backoff(30) <= MAX_BACKOFF + MAX_BACKOFF / 4);
    }
}
