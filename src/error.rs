//! The error type of the safe core. Each kind maps one-to-one onto a C `IcdStatus` code.

use std::fmt;

use crate::text::{redact, shorten};

/// What went wrong, in the categories a caller can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A NULL/empty/invalid argument, an unknown option or bad option value, or a URI outside the
    /// configured API. Retrying the same call cannot help.
    InvalidArgument,
    /// The token endpoint refused the credentials, or the API still answered 401 with a new token.
    Auth,
    /// The API answered a status outside 2xx (see [`Error::http_status`]).
    Http,
    /// DNS, connect, TLS, a reset or truncated connection, or a body over the size limit.
    Network,
    /// The call's deadline (`timeout_ms`) passed, retries included.
    Timeout,
    /// A 2xx body that is not JSON, or a malformed token response.
    Parse,
    /// A bug: a caught panic or a broken invariant.
    Internal,
    /// The API answered 2xx but said in the body that it could not do the job (a search or
    /// autocode with `"error": true`); the message quotes its `errorMessage`.
    Api,
    /// The call was cancelled before it finished (`calls::Calls::cancel`, or its client freed).
    Cancelled,
}

/// An error with a message meant for people. Messages never contain the client secret or a token:
/// the client scrubs them before an error leaves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    http_status: u16,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), http_status: 0 }
    }

    /// Records the HTTP status of the answer that caused the error (0 when there was none).
    pub fn with_http_status(mut self, status: u16) -> Self {
        self.http_status = status;
        self
    }

    /// Adds to the message (e.g. " after 3 attempts").
    pub(crate) fn with_note(mut self, note: &str) -> Self {
        self.message.push_str(note);
        self
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// HTTP status of the last answer received while making the call; 0 if none arrived.
    pub fn http_status(&self) -> u16 {
        self.http_status
    }

    /// Replaces every occurrence of each secret in the message, in every form it may take
    /// (`text::redact`), so that no server echoing a token or the secret back (in a body we
    /// quote, say) can make us disclose it.
    pub(crate) fn scrub(mut self, secrets: &[&str]) -> Self {
        self.message = redact(&self.message, secrets);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// How much of a body is quoted in a message.
const QUOTED_BODY_CHARS: usize = 300;

/// The start of a body as one line, for an error message. The secrets are blanked out before
/// the body is cut short, so that not even the start of one can show.
pub(crate) fn quote_body(body: &[u8], secrets: &[&str]) -> String {
    let text = redact(&String::from_utf8_lossy(body), secrets);
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.is_empty() {
        "(empty body)".into()
    } else {
        format!("\"{}\"", shorten(&line, QUOTED_BODY_CHARS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_displays_as_its_message_and_hides_secrets_when_scrubbed() {
        let error =
            Error::new(ErrorKind::Http, "GET /x: the API answered 404 with token abcd1234").with_http_status(404);
        assert_eq!(error.to_string(), error.message());
        let scrubbed = error.scrub(&["abcd1234", "ab"]);
        assert_eq!(scrubbed.to_string(), "GET /x: the API answered 404 with token [redacted]");
        assert_eq!((scrubbed.kind(), scrubbed.http_status()), (ErrorKind::Http, 404));
    }

    #[test]
    fn a_quoted_body_is_one_line_without_secrets() {
        assert_eq!(quote_body(b"  \n ", &[]), "(empty body)");
        assert_eq!(quote_body(b"bad\n  token s3cret!", &["s3cret!"]), "\"bad token [redacted]\"");
        let long = "x".repeat(1000);
        assert!(quote_body(long.as_bytes(), &[]).chars().count() < QUOTED_BODY_CHARS + 10);
    }
}
