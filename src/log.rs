//! Diagnostics: one line per request, retry and token fetch on stderr when `ICDAPI_LOG=debug` is
//! set or the `log` option is on. Lines name the method, URL, status and time, never a secret or
//! a token (URLs never carry them: credentials travel in the token request's body).

use std::io::Write;

/// True when `ICDAPI_LOG` asks for diagnostics; read when a client is created.
pub fn enabled_by_env() -> bool {
    std::env::var("ICDAPI_LOG").is_ok_and(|v| matches!(v.as_str(), "debug" | "1" | "on" | "true"))
}

pub fn line(message: std::fmt::Arguments) {
    // One write of a whole line, so that lines of several threads do not interleave.
    let text = format!("icdapi: {message}\n");
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}
