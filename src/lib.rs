//! icdapi: a client for the WHO ICD-11/ICD-10 API, with a C ABI.
//!
//! The crate has two layers:
//! - a safe Rust core that knows nothing of C: [`Client`] (configuration, token, cache and
//!   transport), with [`Error`] for failures;
//! - [`ffi`], a thin skin that exports the C functions of `include/icdapi.h`: it checks
//!   arguments, calls the core, converts the result and records the thread's last error.

#![deny(unsafe_code)]

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
#[cfg(unix)]
mod sys;
#[cfg(test)]
mod testing;
mod text;
mod token;

pub use client::{Client, Reply};
pub use error::{Error, ErrorKind, Result};
pub use http::url::BaseUrl;
pub use icd::params::Param;
pub use options::{Config, OptionSpec, OPTIONS, OPTION_NAMES};
