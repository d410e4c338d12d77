//! icdapi: a client for the WHO ICD-11/ICD-10 API, with a C ABI.
//!
//! The crate has two layers:
//! - a safe Rust core that knows nothing of C: [`Client`] (configuration, token, cache and
//!   transport), with [`Error`] for failures;
//! - [`ffi`], a thin skin that exports the C functions of `include/icdapi.h`: it checks
//!   arguments, calls the core, converts the result and records the thread's last error.

mod cache;
mod client;
mod disk_cache;
mod error;
pub mod ffi;
mod log;
mod options;
mod resolver;
mod shared_tokens;
mod token;
mod token_endpoint;
#[cfg(unix)]
mod token_file;
#[cfg(not(unix))]
#[path = "token_file_unsupported.rs"]
mod token_file;
// Compiled and tested on Unix too, so that it stays in step with the real one.
#[cfg(all(unix, test))]
#[path = "token_file_unsupported.rs"]
#[allow(dead_code)]
mod token_file_unsupported;
mod transport;
mod url;

pub use client::{Client, Reply};
pub use error::{Error, ErrorKind, Result};
pub use options::{Config, OPTION_NAMES};
pub use transport::parse_retry_after;
pub use url::{encode_component, normalize_raw, BaseUrl};
