//! Base URLs, request targets and percent-encoding.
//!
//! Every request the client makes is built here, so this is where "the bearer token goes nowhere
//! but the configured API" is enforced: a target is either a path under `api_base`, an
//! `id.who.int` URI (rewritten to `api_base`), or an absolute URI already under `api_base`.

use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS, NON_ALPHANUMERIC};

use crate::error::{Error, Result};

/// The host of the JSON-LD `@id` URIs in every response (`http://id.who.int/icd/...`).
const WHO_ID_HOST: &str = "id.who.int";

/// Characters that may not stand raw in a request path or query (RFC 3986), beyond which
/// non-ASCII bytes are always encoded. `%` is handled apart: a valid `%XX` escape is kept as the
/// caller wrote it, a lone `%` is encoded.
const RAW_TARGET_UNSAFE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Everything but RFC 3986's unreserved characters: the set for one path segment or one query
/// value built from a caller's argument, so that `&`, `/`, `#`, `%`, `+` and spaces arrive as data.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes one path segment or query value completely.
pub fn encode_component(value: &str) -> String {
    utf8_percent_encode(value, COMPONENT).to_string()
}

/// A validated `http(s)://host[:port][/prefix]` URL with no query, fragment or user info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// `scheme://host[:port]`, lower-cased scheme and host.
    origin: String,
    /// Path prefix without a trailing slash ("" or "/something").
    prefix: String,
    https: bool,
    loopback: bool,
}

impl BaseUrl {
    /// Parses `text`; `what` names the setting in error messages.
    pub fn parse(text: &str, what: &str) -> Result<BaseUrl> {
        let bad = |why: &str| Error::invalid_argument(format!("{what} \"{text}\" is not usable: {why}"));
        let (scheme, rest) = split_scheme(text).ok_or_else(|| bad("it must start with https:// or http://"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(bad("it has no host"));
        }
        if authority.contains('@') {
            return Err(bad("user names and passwords do not belong in the URL"));
        }
        if path.contains(['?', '#']) {
            return Err(bad("it must not carry a query or fragment"));
        }
        let host = host_of(authority);
        if host.is_empty() {
            return Err(bad("it has no host"));
        }
        // A name or IPv4 address, or a bracketed IPv6 address: nothing an HTTP client would
        // parse differently (`[::8080`, `host:80x:8080` were once taken, and failed on every call).
        let host_is_valid = match host.strip_prefix('[') {
            Some(v6) => v6.strip_suffix(']').is_some_and(|v6| v6.parse::<std::net::Ipv6Addr>().is_ok()),
            None => host.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)),
        };
        if !host_is_valid {
            return Err(bad("the host has characters a host name cannot have"));
        }
        if let Some(port) = authority.strip_prefix(host).and_then(|p| p.strip_prefix(':')) {
            if port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(bad("the port is not a number from 1 to 65535"));
            }
        } else if authority.len() != host.len() {
            return Err(bad("the host is malformed"));
        }
        let prefix = path.trim_end_matches('/');
        let loopback = is_loopback_host(host);
        Ok(BaseUrl {
            origin: format!("{scheme}://{}", authority.to_ascii_lowercase()),
            prefix: normalize_raw(prefix),
            https: scheme == "https",
            loopback,
        })
    }

    /// Refuses clear-text URLs for anything that carries a secret or a token, loopback excepted.
    pub fn require_secure(self, what: &str) -> Result<BaseUrl> {
        if self.https || self.loopback {
            Ok(self)
        } else {
            Err(Error::invalid_argument(format!(
                "{what} must use https:// (plain http:// is allowed only for a loopback host): \
                 credentials and tokens never travel in clear text"
            )))
        }
    }

    pub fn is_https(&self) -> bool {
        self.https
    }

    /// `scheme://host[:port]`: URLs with the same origin can share a connection.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The URL as text, e.g. for the token endpoint.
    pub fn as_url(&self) -> String {
        format!("{}{}", self.origin, self.prefix)
    }

    /// The base followed by `path`, normalized: one allocation, sized up front.
    fn join(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.origin.len() + self.prefix.len() + path.len() + 16);
        url.push_str(&self.origin);
        url.push_str(&self.prefix);
        push_normalized(&mut url, path);
        url
    }

    /// Resolves what a caller passed as `path_or_uri` to the full URL to request.
    pub fn resolve(&self, path_or_uri: &str) -> Result<String> {
        if path_or_uri.starts_with("//") {
            // A network-path reference (RFC 3986, 4.2): `//host/path` names a host, in the
            // base's scheme; it is resolved (and refused, on another host) as that URI is.
            let scheme = if self.https { "https:" } else { "http:" };
            return self.resolve(&format!("{scheme}{path_or_uri}"));
        }
        if path_or_uri.starts_with('/') {
            return Ok(self.join(path_or_uri));
        }
        let refuse = || {
            Error::invalid_argument(format!(
                "\"{}\" is neither a path starting with '/' nor a URI on {WHO_ID_HOST} or under \
                 the configured api_base ({}): requests go nowhere else",
                shorten(path_or_uri, 200),
                self.as_url()
            ))
        };
        let (scheme, rest) = split_scheme(path_or_uri).ok_or_else(refuse)?;
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let path = if path.is_empty() || !path.starts_with('/') { format!("/{path}") } else { path.to_owned() };
        if authority.eq_ignore_ascii_case(WHO_ID_HOST) {
            return Ok(self.join(&path));
        }
        let same_origin = format!("{scheme}://{}", authority.to_ascii_lowercase()) == self.origin;
        let under_prefix = self.prefix.is_empty()
            || path == self.prefix
            || path.strip_prefix(self.prefix.as_str()).is_some_and(|p| p.starts_with(['/', '?']));
        if same_origin && under_prefix {
            return Ok(format!("{}{}", self.origin, normalize_raw(&path)));
        }
        Err(refuse())
    }
}

/// Splits "https://rest" into ("https", "rest"), case-insensitively; None for other schemes.
fn split_scheme(text: &str) -> Option<(&'static str, &str)> {
    ["https", "http"].into_iter().find_map(|scheme| {
        // `get` rather than indexing: the text may hold multi-byte characters anywhere.
        let head = text.get(..scheme.len() + 3)?;
        let rest = &text[head.len()..];
        (head.as_bytes()[..scheme.len()].eq_ignore_ascii_case(scheme.as_bytes())
            && head.ends_with("://")
            && !rest.is_empty())
        .then_some((scheme, rest))
    })
}

/// The host part of `host[:port]` or `[v6]:port`.
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        authority.find(']').map_or(authority, |end| &authority[..=end])
    } else {
        authority.rsplit_once(':').map_or(authority, |(host, _)| host)
    }
}

/// Loopback as the contract defines it: 127.0.0.0/8, ::1 and localhost.
fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") || host == "[::1]" {
        return true;
    }
    host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

/// Percent-encodes what may not stand raw in a path or query while keeping valid `%XX` escapes,
/// so that callers may pass paths either already encoded or not.
pub fn normalize_raw(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    push_normalized(&mut out, raw);
    out
}

/// `normalize_raw`, appending to `out` (URLs are built in one buffer).
fn push_normalized(out: &mut String, raw: &str) {
    let bytes = raw.as_bytes();
    let mut unwritten = 0;
    for (i, _) in raw.match_indices('%') {
        out.extend(utf8_percent_encode(&raw[unwritten..i], RAW_TARGET_UNSAFE));
        let escape_follows = bytes.get(i + 1..i + 3).is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
        out.push_str(if escape_follows { "%" } else { "%25" });
        unwritten = i + 1;
    }
    out.extend(utf8_percent_encode(&raw[unwritten..], RAW_TARGET_UNSAFE));
}

pub use crate::text::shorten;

#[cfg(test)]
mod tests {
    use super::*;

    fn base(text: &str) -> BaseUrl {
        BaseUrl::parse(text, "api_base").unwrap()
    }

    #[test]
    fn a_network_path_reference_names_a_host() {
        let cloud = base("https://id.who.int");
        assert_eq!(cloud.resolve("//id.who.int/icd/entity/1").unwrap(), "https://id.who.int/icd/entity/1");
        assert!(cloud.resolve("//evil.example/icd/entity/1").is_err(), "another host");
        assert!(cloud.resolve("//evil.example").is_err());
        let local = base("http://127.0.0.1:8080");
        assert_eq!(local.resolve("//127.0.0.1:8080/icd/x").unwrap(), "http://127.0.0.1:8080/icd/x");
        assert!(local.resolve("//127.0.0.1:8081/icd/x").is_err(), "another port");
        assert_eq!(local.resolve("/icd//x").unwrap(), "http://127.0.0.1:8080/icd//x", "a path is still a path");
    }

    #[test]
    fn paths_and_who_uris_resolve_to_the_base() {
        let cloud = base("https://id.who.int");
        assert_eq!(cloud.resolve("/icd/entity").unwrap(), "https://id.who.int/icd/entity");
        assert_eq!(cloud.resolve("http://id.who.int/icd/entity/1").unwrap(), "https://id.who.int/icd/entity/1");
        let local = base("http://localhost:8080/api/");
        assert_eq!(
            local.resolve("http://ID.WHO.INT/icd/entity?x=1").unwrap(),
            "http://localhost:8080/api/icd/entity?x=1"
        );
        assert_eq!(
            local.resolve("http://localhost:8080/api/icd/entity").unwrap(),
            "http://localhost:8080/api/icd/entity"
        );
    }

    #[test]
    fn other_hosts_and_tricks_are_refused() {
        let local = base("http://localhost:8080/api");
        for target in [
            "http://localhost:8080/other/icd",
            "http://localhost:8081/api/icd",
            "https://localhost:8080/api/icd",
            "http://localhost:8080/apix",
            "http://id.who.int@evil.example/icd",
            "http://evil.example/http://id.who.int/",
            "//evil.example/icd",
            "javascript:alert(1)",
        ] {
            // "//evil.example/icd" too: a network-path reference to another host.
            assert!(local.resolve(target).is_err(), "{target}");
        }
    }

    #[test]
    fn raw_targets_are_normalized() {
        assert_eq!(normalize_raw("/a b/é?q=x y#z"), "/a%20b/%C3%A9?q=x%20y%23z");
        assert_eq!(normalize_raw("/50%25/100%/%zz/%4"), "/50%25/100%25/%25zz/%254");
        assert_eq!(normalize_raw("/ok?a=1&b=2"), "/ok?a=1&b=2");
    }

    #[test]
    fn components_are_fully_encoded() {
        assert_eq!(encode_component("a&b/c#d%e+f g~h.i-j_k"), "a%26b%2Fc%23d%25e%2Bf%20g~h.i-j_k");
        assert_eq!(encode_component("é"), "%C3%A9");
    }

    #[test]
    fn base_urls_are_validated() {
        for bad in [
            "id.who.int",
            "https://",
            "https://a b",
            "https://u@h",
            "https://h:0",
            "https://h:x",
            "https://h/?q",
            // Found by the url_resolve fuzz target: hosts an HTTP client cannot parse.
            "http://[::8080",
            "http://localhost:80htt:8080/a80/api",
            "http://[::1]x:80",
            "http://[nope]:80",
        ] {
            assert!(BaseUrl::parse(bad, "api_base").is_err(), "{bad}");
        }
        assert!(base("http://example.org").require_secure("api_base").is_err());
        assert!(base("http://127.0.0.1:1").require_secure("api_base").is_ok());
        assert!(base("http://[::1]:1").require_secure("api_base").is_ok());
        assert!(base("http://localhost").require_secure("api_base").is_ok());
    }

    #[test]
    fn a_scheme_needs_both_slashes() {
        // "https:/host" once came out as "https://ost": a typo must be refused, not mangled.
        for typo in ["https:/id.who.int", "http:/localhost:8080", "https:id.who.int", "https//id.who.int"] {
            assert!(BaseUrl::parse(typo, "api_base").is_err(), "{typo}");
            assert!(split_scheme(typo).is_none(), "{typo}");
        }
        assert_eq!(split_scheme("HTTPS://h/x"), Some(("https", "h/x")));
        assert_eq!(split_scheme("http://h"), Some(("http", "h")));
        assert_eq!(split_scheme("https://"), None, "nothing after the scheme");
        let local = base("http://localhost:8080/api");
        assert!(local.resolve("http:/localhost:8080/api/icd").is_err());
    }

    #[test]
    fn the_api_base_itself_is_under_its_prefix() {
        let local = base("http://localhost:8080/api");
        assert_eq!(local.resolve("http://localhost:8080/api").unwrap(), "http://localhost:8080/api");
        assert_eq!(local.resolve("http://localhost:8080/api?x=1").unwrap(), "http://localhost:8080/api?x=1");
        assert_eq!(local.resolve("http://LOCALHOST:8080/api/icd").unwrap(), "http://localhost:8080/api/icd");
        assert!(local.resolve("http://localhost:8080/ap").is_err());
        assert!(local.resolve("http://localhost:8080").is_err(), "the origin alone is not under /api");
    }
}
