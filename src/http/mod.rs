//! HTTP: request targets and percent-encoding (`url`), host name resolution (`resolver`), and
//! one exchange with retries over ureq (`transport`). Knows nothing of tokens or of ICD.

pub mod resolver;
pub mod transport;
pub mod url;
