//! JSON documents: answers parsed with serde_json and read with RFC 6901 JSON Pointers, and the
//! check every 2xx body goes through (valid JSON, and whether it reports its own failure).

mod body;
mod document;
mod pointer;

pub use body::{error_message, inspect, BodyShape};
pub use document::{text_of, Document};
pub use pointer::{lookup, Pointer};
