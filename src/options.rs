//! The client's settings and `set_option`'s parsing and validation of them.

use std::path::PathBuf;
use std::time::Duration;

use ureq::http::HeaderValue;

use crate::error::{Error, Result};
use crate::http::transport::Policy;
use crate::http::url::{shorten, BaseUrl};

pub const DEFAULT_API_BASE: &str = "https://id.who.int";
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://icdaccessmanagement.who.int/connect/token";

/// Every option name `set_option` accepts, for error messages and documentation.
pub const OPTION_NAMES: &[&str] = &[
    "language",
    "release",
    "linearization",
    "api_version",
    "api_base",
    "token_endpoint",
    "timeout_ms",
    "max_retries",
    "cache_entries",
    "max_response_bytes",
    "user_agent",
    "proxy",
    "ca_file",
    "log",
    "concurrency",
    "token_cache_file",
    "cache_dir",
    "cache_dir_max_bytes",
    "icd10_release",
];

/// The request headers that only change with an option, parsed once per change rather than once
/// per request.
#[derive(Debug, Clone)]
pub struct FixedHeaders {
    pub accept_language: HeaderValue,
    pub api_version: HeaderValue,
    pub user_agent: HeaderValue,
}

impl FixedHeaders {
    fn new(language: &str, api_version: &str, user_agent: &str) -> FixedHeaders {
        // The three values passed validation (printable ASCII): they are valid header values.
        let value = |text: &str| HeaderValue::from_str(text).expect("validated option values are header-safe");
        FixedHeaders {
            accept_language: value(language),
            api_version: value(api_version),
            user_agent: value(user_agent),
        }
    }
}

pub use crate::http::pool::ProxySetting;

/// A client's settings. Requests take a snapshot (an `Arc<Config>`) at their start, so an option
/// changed by another thread applies from the next call on, never half-way through one.
#[derive(Debug, Clone)]
pub struct Config {
    pub language: String,
    pub release: String,
    pub linearization: String,
    pub api_version: String,
    pub api_base: BaseUrl,
    /// None for a local-deployment client, which has no token.
    pub token_endpoint: Option<BaseUrl>,
    pub timeout: Duration,
    pub max_retries: u32,
    pub cache_entries: usize,
    pub max_response_bytes: u64,
    pub user_agent: String,
    pub proxy: ProxySetting,
    pub ca_file: Option<PathBuf>,
    pub log: bool,
    pub headers: FixedHeaders,
    /// Requests in flight at once in a batch (`get_many`).
    pub concurrency: usize,
    /// Where the token is shared with other processes (cloud clients only).
    pub token_cache_file: Option<PathBuf>,
    /// Where answers about fixed releases are kept across runs.
    pub cache_dir: Option<PathBuf>,
    pub cache_dir_max_bytes: u64,
    /// The ICD-10 release used by `icd10` (2019, 2016, 2010, 2008, ...).
    pub icd10_release: String,
}

/// What else must change when an option changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    None,
    /// The HTTP agent must be rebuilt (proxy, CA bundle).
    Transport,
    /// The cached token was issued for another endpoint or API and must not be sent on.
    Endpoint,
    /// The response cache must be resized.
    CacheSize,
    /// The disk cache must be opened, reopened or closed.
    DiskCache,
}

impl Config {
    pub fn new(api_base: BaseUrl, token_endpoint: Option<BaseUrl>) -> Config {
        const USER_AGENT: &str = concat!("icdapi/", env!("CARGO_PKG_VERSION"));
        Config {
            language: "en".into(),
            release: "2026-01".into(),
            linearization: "mms".into(),
            api_version: "v2".into(),
            api_base,
            token_endpoint,
            timeout: Duration::from_millis(30_000),
            max_retries: 2,
            cache_entries: 1024,
            max_response_bytes: 32 * 1024 * 1024,
            user_agent: USER_AGENT.into(),
            proxy: ProxySetting::FromEnvironment,
            ca_file: None,
            log: false,
            headers: FixedHeaders::new("en", "v2", USER_AGENT),
            concurrency: 16,
            token_cache_file: None,
            cache_dir: None,
            cache_dir_max_bytes: 256 * 1024 * 1024,
            icd10_release: "2019".into(),
        }
    }

    pub fn is_cloud(&self) -> bool {
        self.token_endpoint.is_some()
    }

    /// What the options allow each exchange with a server, for `http::transport`.
    pub fn policy(&self) -> Policy {
        Policy {
            max_retries: self.max_retries,
            max_response_bytes: self.max_response_bytes,
            timeout: self.timeout,
            log: self.log,
        }
    }

    /// The process-wide connections of these transport settings (`ca_file`, `proxy`).
    pub fn connections(&self) -> Result<std::sync::Arc<crate::http::pool::Connections>> {
        crate::http::pool::for_settings(self.ca_file.as_deref(), &self.proxy)
    }

    /// Applies one option; on error `self` is unchanged.
    pub fn set(&mut self, name: &str, value: &str) -> Result<Effect> {
        let effect = self.set_field(name, value)?;
        if matches!(name, "language" | "api_version" | "user_agent") {
            self.headers = FixedHeaders::new(&self.language, &self.api_version, &self.user_agent);
        }
        Ok(effect)
    }

    fn set_field(&mut self, name: &str, value: &str) -> Result<Effect> {
        let bad = |why: &str| {
            Error::invalid_argument(format!("bad value \"{}\" for option {name}: {why}", shorten(value, 100)))
        };
        match name {
            // BCP 47 shape: letters, digits and '-' ("en", "zh", "pt-BR"); it goes into a header.
            "language" => {
                self.language =
                    word(value, 35, b'-').ok_or_else(|| bad("expected a language tag such as en, fr, zh or pt-BR"))?
            }
            // It goes into paths.
            "release" => {
                self.release = word(value, 32, b'-')
                    .ok_or_else(|| bad("expected an ICD-11 release id such as 2026-01 or 2024-01"))?
            }
            "linearization" => {
                if value != "mms" && value != "icf" {
                    return Err(bad("expected mms or icf"));
                }
                self.linearization = value.to_owned();
            }
            "api_version" => {
                self.api_version = word(value, 16, b'.').ok_or_else(|| bad("expected a version such as v2"))?
            }
            "api_base" => {
                let base = BaseUrl::parse(value, "api_base")?;
                self.api_base = if self.is_cloud() { base.require_secure("api_base")? } else { base };
                return Ok(Effect::Endpoint);
            }
            "token_endpoint" => {
                if !self.is_cloud() {
                    return Err(Error::invalid_argument(
                        "option token_endpoint applies only to a cloud client (icd_client_new): \
                         a local deployment needs no token",
                    ));
                }
                self.token_endpoint = Some(BaseUrl::parse(value, "token_endpoint")?.require_secure("token_endpoint")?);
                return Ok(Effect::Endpoint);
            }
            "timeout_ms" => {
                let ms = parse_number(value, 1, 24 * 3600 * 1000).map_err(|why| bad(&why))?;
                self.timeout = Duration::from_millis(ms);
            }
            "max_retries" => self.max_retries = parse_number(value, 0, 10).map_err(|why| bad(&why))? as u32,
            "cache_entries" => {
                self.cache_entries = parse_number(value, 0, 10_000_000).map_err(|why| bad(&why))? as usize;
                return Ok(Effect::CacheSize);
            }
            "max_response_bytes" => {
                self.max_response_bytes = parse_number(value, 1024, 1 << 40).map_err(|why| bad(&why))?;
            }
            "user_agent" => {
                if value.is_empty() || value.len() > 256 || !value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                    return Err(bad("expected 1 to 256 printable ASCII characters"));
                }
                self.user_agent = value.to_owned();
            }
            "proxy" => {
                self.proxy = match value {
                    "" => ProxySetting::FromEnvironment,
                    "none" => ProxySetting::Direct,
                    _ => {
                        let url = BaseUrl::parse(value, "proxy")?;
                        if url.is_https() {
                            return Err(bad("expected http://host:port (the proxy tunnels TLS with CONNECT)"));
                        }
                        ProxySetting::Via(url.as_url())
                    }
                };
                return Ok(Effect::Transport);
            }
            "ca_file" => {
                self.ca_file = match value {
                    "" => None,
                    path => Some(PathBuf::from(path)),
                };
                return Ok(Effect::Transport);
            }
            "log" => {
                self.log = match value {
                    "debug" | "1" | "on" | "true" => true,
                    "off" | "0" | "false" | "" => false,
                    _ => return Err(bad("expected debug or off")),
                };
            }
            "concurrency" => self.concurrency = parse_number(value, 1, 64).map_err(|why| bad(&why))? as usize,
            "token_cache_file" => {
                if !self.is_cloud() {
                    return Err(Error::invalid_argument(
                        "option token_cache_file applies only to a cloud client: a local deployment has no token",
                    ));
                }
                self.token_cache_file = match value {
                    "" => None,
                    path => {
                        crate::token::file::validate(std::path::Path::new(path))?;
                        Some(PathBuf::from(path))
                    }
                };
            }
            "cache_dir" => {
                self.cache_dir = (!value.is_empty()).then(|| PathBuf::from(value));
                return Ok(Effect::DiskCache);
            }
            "cache_dir_max_bytes" => {
                self.cache_dir_max_bytes = parse_number(value, 65536, 1 << 50).map_err(|why| bad(&why))?;
                return Ok(Effect::DiskCache);
            }
            // Any release id is taken (WHO adds them); it is percent-encoded into the path.
            "icd10_release" => {
                if value.trim().is_empty() || value.len() > 64 || value.chars().any(char::is_control) {
                    return Err(bad("expected an ICD-10 release id such as 2019, 2016, 2010 or 2008"));
                }
                self.icd10_release = value.to_owned();
            }
            _ => return Err(unknown_option(name)),
        }
        Ok(Effect::None)
    }

    /// The current value of an option as text, in the form `set` takes: what is not set reads
    /// as "" (proxy, ca_file, token_cache_file, cache_dir, and token_endpoint of a local client).
    /// The credentials are not options: they can never be read back.
    pub fn get(&self, name: &str) -> Result<String> {
        let path = |path: &Option<PathBuf>| path.as_ref().map_or(String::new(), |p| p.to_string_lossy().into_owned());
        Ok(match name {
            "language" => self.language.clone(),
            "release" => self.release.clone(),
            "linearization" => self.linearization.clone(),
            "api_version" => self.api_version.clone(),
            "api_base" => self.api_base.as_url(),
            "token_endpoint" => self.token_endpoint.as_ref().map_or(String::new(), BaseUrl::as_url),
            "timeout_ms" => self.timeout.as_millis().to_string(),
            "max_retries" => self.max_retries.to_string(),
            "cache_entries" => self.cache_entries.to_string(),
            "max_response_bytes" => self.max_response_bytes.to_string(),
            "user_agent" => self.user_agent.clone(),
            "proxy" => match &self.proxy {
                ProxySetting::FromEnvironment => String::new(),
                ProxySetting::Direct => "none".to_owned(),
                ProxySetting::Via(url) => url.clone(),
            },
            "ca_file" => path(&self.ca_file),
            "log" => (if self.log { "debug" } else { "off" }).to_owned(),
            "concurrency" => self.concurrency.to_string(),
            "token_cache_file" => path(&self.token_cache_file),
            "cache_dir" => path(&self.cache_dir),
            "cache_dir_max_bytes" => self.cache_dir_max_bytes.to_string(),
            "icd10_release" => self.icd10_release.clone(),
            _ => return Err(unknown_option(name)),
        })
    }
}

fn unknown_option(name: &str) -> Error {
    Error::invalid_argument(format!(
        "unknown option \"{}\"; known options: {}",
        shorten(name, 60),
        OPTION_NAMES.join(", ")
    ))
}

/// `value` when it is 1 to `max_len` ASCII letters, digits and `extra`: safe in a header or path.
fn word(value: &str, max_len: usize, extra: u8) -> Option<String> {
    let fits = !value.is_empty() && value.len() <= max_len;
    (fits && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == extra)).then(|| value.to_owned())
}

fn parse_number(value: &str, min: u64, max: u64) -> std::result::Result<u64, String> {
    match value.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        let base = |url: &str| BaseUrl::parse(url, "test").unwrap();
        Config::new(base("https://id.who.int"), Some(base("https://icdaccessmanagement.who.int/connect/token")))
    }

    /// Each (option, value) is taken or refused exactly at the edges the header documents.
    #[test]
    fn option_values_are_checked_at_their_edges() {
        let cases: &[(&str, &str, bool)] = &[
            ("timeout_ms", "1", true),
            ("timeout_ms", "86400000", true), // a day
            ("timeout_ms", "86400001", false),
            ("timeout_ms", "0", false),
            ("user_agent", "a", true),
            ("user_agent", &"u".repeat(256), true),
            ("user_agent", &"u".repeat(257), false),
            ("user_agent", "", false),
            ("user_agent", "tab\there", false),
            ("user_agent", "del\u{7f}", false),
            ("user_agent", "caf\u{e9}", false),
            ("user_agent", "space and ~tilde", true),
            ("icd10_release", "2019", true),
            ("icd10_release", &"9".repeat(64), true),
            ("icd10_release", &"9".repeat(65), false),
            ("icd10_release", "", false),
            ("icd10_release", "   ", false),
            ("icd10_release", "20\n19", false),
        ];
        for &(name, value, taken) in cases {
            let mut config = config();
            let before = config.get(name).unwrap();
            let outcome = config.set(name, value);
            assert_eq!(outcome.is_ok(), taken, "{name} = {value:?}: {outcome:?}");
            let now = config.get(name).unwrap();
            assert_eq!(now == value, taken, "{name} reads back {now:?} after {value:?}");
            if !taken {
                assert_eq!(now, before, "a refused {name} leaves the option as it was");
            }
        }
    }

    #[test]
    fn log_takes_every_spelling_of_on_and_off() {
        for (value, on) in [("debug", true), ("1", true), ("on", true), ("true", true), ("off", false), ("0", false)] {
            let mut config = config();
            config.log = !on;
            config.set("log", value).unwrap_or_else(|e| panic!("log = {value}: {e}"));
            assert_eq!(config.log, on, "log = {value}");
            assert_eq!(config.get("log").unwrap(), if on { "debug" } else { "off" });
        }
        assert!(config().set("log", "verbose").is_err());
    }
}
