//! JSON documents: answers parsed with serde_json and read with RFC 6901 JSON Pointers, and the
//! check every 2xx body goes through (valid JSON, and whether it reports its own failure).

mod body;
mod document;
mod pointer;

pub use body::{error_message, inspect, BodyShape};

/// How many levels of arrays and objects may nest in any JSON the library reads — a 2xx body of
/// `icd_get`/`icd_post`/the helpers (else `ErrorKind::Parse`) or a text given to
/// `icd_json_parse`: serde_json's recursion limit (128 containers open is one too many), which keeps a hostile body from exhausting
/// the stack. WHO's answers nest less than ten deep.
pub const MAX_DEPTH: usize = 127;
pub use document::{text_of, Document};
pub use pointer::{lookup, Pointer};
