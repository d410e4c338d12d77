//! The parsers of outside input that are otherwise private, for the fuzz targets (`fuzz/`) and
//! their regression tests. Not part of the API: hidden from the documentation, and free to change
//! in any release. (`BaseUrl`, the type of `Config`'s URLs, is fuzzed through the crate's export.)

pub use crate::cache::disk::{format_entry as disk_entry_text, is_fixed_release, parse_entry as parse_disk_entry};
pub use crate::cache::memory::{freshness_lifetime, MAX_FRESHNESS};
pub use crate::http::transport::parse_retry_after;
pub use crate::http::url::{encode_component, normalize_raw};
pub use crate::icd::params::encode_query;
pub use crate::icd::params::{append_to_url, validate as validate_params};
pub use crate::token::endpoint::{oauth_error_code, parse_token_response};
#[cfg(unix)]
pub use crate::token::file::{parse as parse_token_file, serialize as token_file_text, Contents as TokenFileContents};
