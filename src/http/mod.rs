//! HTTP: request targets and percent-encoding (`url`), host name resolution (`resolver`), the
//! process-wide connection pools (`pool`) and their shared TLS configurations (`tls`), and one
//! exchange with retries over ureq (`transport`). Knows nothing of tokens or of ICD.

pub mod pool;
pub mod resolver;
pub mod socket;
pub mod tls;
pub mod transport;
pub mod url;
