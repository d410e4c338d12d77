//! The client's settings and `set_option`'s parsing and validation of them.

use std::path::PathBuf;
use std::time::Duration;

use ureq::http::HeaderValue;

use crate::error::{Error, Result};
use crate::http::transport::Policy;
use crate::http::url::{shorten, BaseUrl};

pub const DEFAULT_API_BASE: &str = "https://id.who.int";
pub const DEFAULT_TOKEN_ENDPOINT: &str = "https://icdaccessmanagement.who.int/connect/token";

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
        let option = find(name)?;
        let effect = (option.set)(self, value).map_err(|refused| match refused {
            Refused::Because(why) => {
                Error::invalid_argument(format!("bad value \"{}\" for option {name}: {why}", shorten(value, 100)))
            }
            Refused::Error(error) => error,
        })?;
        if matches!(name, "language" | "api_version" | "user_agent") {
            self.headers = FixedHeaders::new(&self.language, &self.api_version, &self.user_agent);
        }
        Ok(effect)
    }

    /// The current value of an option as text, in the form `set` takes: what is not set reads
    /// as "" (proxy, ca_file, token_cache_file, cache_dir, and token_endpoint of a local client).
    /// The credentials are not options: they can never be read back.
    pub fn get(&self, name: &str) -> Result<String> {
        Ok((find(name)?.get)(self))
    }
}

/// One option: its name, its default as `get` reads it back on a new cloud client, what it
/// means (one line, for documentation), and how it is set and read. `set` may change only
/// `Config` fields and says what else must follow (`Effect`); on a refusal it must leave the
/// configuration as it was.
pub struct OptionSpec {
    pub name: &'static str,
    pub default: &'static str,
    pub doc: &'static str,
    set: fn(&mut Config, &str) -> std::result::Result<Effect, Refused>,
    get: fn(&Config) -> String,
}

/// Why `set` refused a value: `Because` becomes "bad value "v" for option name: why".
enum Refused {
    Because(String),
    Error(Error),
}

impl From<Error> for Refused {
    fn from(error: Error) -> Refused {
        Refused::Error(error)
    }
}

fn because(why: &str) -> Refused {
    Refused::Because(why.to_owned())
}

const USER_AGENT: &str = concat!("icdapi/", env!("CARGO_PKG_VERSION"));

/// Every option, in the order of the documentation. To add one: a field in `Config` (and its
/// default in `Config::new`), and a row here; `set`, `get`, the list of names (`OPTION_NAMES`,
/// `icd_option_names`) and the bindings' checks follow from the row.
pub const OPTIONS: &[OptionSpec] = &[
    OptionSpec {
        name: "language",
        default: "en",
        doc: "Accept-Language of every request (ar, zh, en, fr, es, ru, ...)",
        // BCP 47 shape: letters, digits and '-' ("en", "zh", "pt-BR"); it goes into a header.
        set: |c, v| {
            c.language =
                word(v, 35, b'-').ok_or_else(|| because("expected a language tag such as en, fr, zh or pt-BR"))?;
            Ok(Effect::None)
        },
        get: |c| c.language.clone(),
    },
    OptionSpec {
        name: "release",
        default: "2026-01",
        doc: "the ICD-11 release of the helpers",
        // It goes into paths.
        set: |c, v| {
            c.release =
                word(v, 32, b'-').ok_or_else(|| because("expected an ICD-11 release id such as 2026-01 or 2024-01"))?;
            Ok(Effect::None)
        },
        get: |c| c.release.clone(),
    },
    OptionSpec {
        name: "linearization",
        default: "mms",
        doc: "mms or icf",
        set: |c, v| {
            if v != "mms" && v != "icf" {
                return Err(because("expected mms or icf"));
            }
            c.linearization = v.to_owned();
            Ok(Effect::None)
        },
        get: |c| c.linearization.clone(),
    },
    OptionSpec {
        name: "api_version",
        default: "v2",
        doc: "the API-Version header",
        set: |c, v| {
            c.api_version = word(v, 16, b'.').ok_or_else(|| because("expected a version such as v2"))?;
            Ok(Effect::None)
        },
        get: |c| c.api_version.clone(),
    },
    OptionSpec {
        name: "api_base",
        default: DEFAULT_API_BASE,
        doc: "where requests go (https only on a cloud client, unless loopback)",
        set: |c, v| {
            let base = BaseUrl::parse(v, "api_base")?;
            c.api_base = if c.is_cloud() { base.require_secure("api_base")? } else { base };
            Ok(Effect::Endpoint)
        },
        get: |c| c.api_base.as_url(),
    },
    OptionSpec {
        name: "token_endpoint",
        default: DEFAULT_TOKEN_ENDPOINT,
        doc: "where the token comes from (cloud clients only)",
        set: |c, v| {
            if !c.is_cloud() {
                return Err(Refused::Error(Error::invalid_argument(
                    "option token_endpoint applies only to a cloud client (icd_client_new): \
                     a local deployment needs no token",
                )));
            }
            c.token_endpoint = Some(BaseUrl::parse(v, "token_endpoint")?.require_secure("token_endpoint")?);
            Ok(Effect::Endpoint)
        },
        get: |c| c.token_endpoint.as_ref().map_or(String::new(), BaseUrl::as_url),
    },
    OptionSpec {
        name: "timeout_ms",
        default: "30000",
        doc: "deadline of one whole call, retries and token fetch included (1 to 86400000)",
        set: |c, v| {
            c.timeout = Duration::from_millis(number(v, 1, 24 * 3600 * 1000)?);
            Ok(Effect::None)
        },
        get: |c| c.timeout.as_millis().to_string(),
    },
    OptionSpec {
        name: "max_retries",
        default: "2",
        doc: "retries of 429, 500, 502, 503, 504 and cut connections (0 to 10)",
        set: |c, v| {
            c.max_retries = number(v, 0, 10)? as u32;
            Ok(Effect::None)
        },
        get: |c| c.max_retries.to_string(),
    },
    OptionSpec {
        name: "cache_entries",
        default: "1024",
        doc: "in-memory response cache size, 0 disables it",
        set: |c, v| {
            c.cache_entries = number(v, 0, 10_000_000)? as usize;
            Ok(Effect::CacheSize)
        },
        get: |c| c.cache_entries.to_string(),
    },
    OptionSpec {
        name: "max_response_bytes",
        default: "33554432",
        doc: "larger bodies fail with ICD_ERR_NETWORK (1024 to 2^40)",
        set: |c, v| {
            c.max_response_bytes = number(v, 1024, 1 << 40)?;
            Ok(Effect::None)
        },
        get: |c| c.max_response_bytes.to_string(),
    },
    OptionSpec {
        name: "user_agent",
        default: USER_AGENT,
        doc: "the User-Agent header (1 to 256 printable ASCII characters)",
        set: |c, v| {
            if v.is_empty() || v.len() > 256 || !v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                return Err(because("expected 1 to 256 printable ASCII characters"));
            }
            c.user_agent = v.to_owned();
            Ok(Effect::None)
        },
        get: |c| c.user_agent.clone(),
    },
    OptionSpec {
        name: "proxy",
        default: "",
        doc: "\"\": HTTPS_PROXY/ALL_PROXY when set; http://host:port; none: direct",
        set: |c, v| {
            c.proxy = match v {
                "" => ProxySetting::FromEnvironment,
                "none" => ProxySetting::Direct,
                _ => {
                    let url = BaseUrl::parse(v, "proxy")?;
                    if url.is_https() {
                        return Err(because("expected http://host:port (the proxy tunnels TLS with CONNECT)"));
                    }
                    ProxySetting::Via(url.as_url())
                }
            };
            Ok(Effect::Transport)
        },
        get: |c| match &c.proxy {
            ProxySetting::FromEnvironment => String::new(),
            ProxySetting::Direct => "none".to_owned(),
            ProxySetting::Via(url) => url.clone(),
        },
    },
    OptionSpec {
        name: "ca_file",
        default: "",
        doc: "a PEM bundle to trust instead of the system's certificate store",
        set: |c, v| {
            c.ca_file = (!v.is_empty()).then(|| PathBuf::from(v));
            Ok(Effect::Transport)
        },
        get: |c| path_text(&c.ca_file),
    },
    OptionSpec {
        name: "log",
        default: "off",
        doc: "debug: one line per request, retry and token fetch on stderr (no secrets); off",
        set: |c, v| {
            c.log = match v {
                "debug" | "1" | "on" | "true" => true,
                "off" | "0" | "false" | "" => false,
                _ => return Err(because("expected debug or off")),
            };
            Ok(Effect::None)
        },
        get: |c| (if c.log { "debug" } else { "off" }).to_owned(),
    },
    OptionSpec {
        name: "concurrency",
        default: "16",
        doc: "requests in flight at once in a batch (1 to 64)",
        set: |c, v| {
            c.concurrency = number(v, 1, 64)? as usize;
            Ok(Effect::None)
        },
        get: |c| c.concurrency.to_string(),
    },
    OptionSpec {
        name: "token_cache_file",
        default: "",
        doc: "a file where processes with the same credentials share the token (cloud clients only)",
        set: |c, v| {
            if !c.is_cloud() {
                return Err(Refused::Error(Error::invalid_argument(
                    "option token_cache_file applies only to a cloud client: a local deployment has no token",
                )));
            }
            c.token_cache_file = match v {
                "" => None,
                path => {
                    crate::token::file::validate(std::path::Path::new(path))?;
                    Some(PathBuf::from(path))
                }
            };
            Ok(Effect::None)
        },
        get: |c| path_text(&c.token_cache_file),
    },
    OptionSpec {
        name: "cache_dir",
        default: "",
        doc: "a directory where answers about fixed releases are kept across runs",
        set: |c, v| {
            c.cache_dir = (!v.is_empty()).then(|| PathBuf::from(v));
            Ok(Effect::DiskCache)
        },
        get: |c| path_text(&c.cache_dir),
    },
    OptionSpec {
        name: "cache_dir_max_bytes",
        default: "268435456",
        doc: "bound of cache_dir, least recently used entries go first (65536 to 2^50)",
        set: |c, v| {
            c.cache_dir_max_bytes = number(v, 65536, 1 << 50)?;
            Ok(Effect::DiskCache)
        },
        get: |c| c.cache_dir_max_bytes.to_string(),
    },
    OptionSpec {
        name: "icd10_release",
        default: "2019",
        doc: "the ICD-10 release of icd10 (2019, 2016, 2010, 2008, ...)",
        // Any release id is taken (WHO adds them); it is percent-encoded into the path.
        set: |c, v| {
            if v.trim().is_empty() || v.len() > 64 || v.chars().any(char::is_control) {
                return Err(because("expected an ICD-10 release id such as 2019, 2016, 2010 or 2008"));
            }
            c.icd10_release = v.to_owned();
            Ok(Effect::None)
        },
        get: |c| c.icd10_release.clone(),
    },
];

/// Every option name `set_option` accepts, in the table's order.
pub const OPTION_NAMES: &[&str] = &{
    let mut names = [""; OPTIONS.len()];
    let mut i = 0;
    while i < OPTIONS.len() {
        names[i] = OPTIONS[i].name;
        i += 1;
    }
    names
};

fn find(name: &str) -> Result<&'static OptionSpec> {
    OPTIONS.iter().find(|option| option.name == name).ok_or_else(|| unknown_option(name))
}

fn path_text(path: &Option<PathBuf>) -> String {
    path.as_ref().map_or(String::new(), |p| p.to_string_lossy().into_owned())
}

fn number(value: &str, min: u64, max: u64) -> std::result::Result<u64, Refused> {
    parse_number(value, min, max).map_err(Refused::Because)
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

    /// The table's defaults are what a new cloud client reads back, and every name is there once.
    #[test]
    fn the_tables_defaults_are_the_configs() {
        let config = config();
        for option in OPTIONS {
            assert_eq!(config.get(option.name).unwrap(), option.default, "{}", option.name);
            assert!(!option.doc.is_empty(), "{}", option.name);
        }
        let mut names = OPTION_NAMES.to_vec();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), OPTIONS.len(), "each name once");
        let error = config.get("no_such_option").unwrap_err();
        assert!(error.message().contains(&OPTION_NAMES.join(", ")), "{}", error.message());
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
