//! icdapi: a client for the WHO ICD-11/ICD-10 API, with a C ABI.
//!
//! The crate has two layers:
//! - a safe Rust core that knows nothing of C: [`Client`] (configuration, token, cache and
//!   transport), with [`Error`] for failures;
//! - [`ffi`], a thin skin that exports the C functions of `include/icdapi.h`: it checks
//!   arguments, calls the core, converts the result and records the thread's last error.

mod cache;
mod client;
mod digest;
mod error;
pub mod ffi;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod icd;
pub mod json;
mod log;
mod options;
#[cfg(test)]
mod testing;
mod token;

pub use client::{Client, Reply};
pub use error::{Error, ErrorKind, Result};
pub use http::transport::parse_retry_after;
pub use http::url::{encode_component, normalize_raw, BaseUrl};
pub use icd::certificate::CERTIFICATE_FIELDS;
pub use icd::params::{encode_query, Param};
pub use options::{Config, OPTION_NAMES};
