//! The OAuth2 token: credentials and the single-flight cache of one token (`cache`), the
//! exchange with the token endpoint (`endpoint`), the process-wide sharing of tokens between
//! clients (`shared`) and between processes through a file (`file`).

mod cache;
pub mod endpoint;
#[cfg(unix)]
pub mod file;
#[cfg(not(unix))]
#[path = "file_unsupported.rs"]
pub mod file;
// Compiled and tested on Unix too, so that it stays in step with the real one.
#[cfg(all(unix, test))]
#[allow(dead_code)]
mod file_unsupported;
pub mod shared;

pub use cache::{Credentials, Token, TokenCache};
