//! The client: configuration, token, cache and transport put together. Safe Rust, no C here.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use ureq::http::{header, HeaderValue};
use zeroize::Zeroizing;

use crate::cache::disk::{is_fixed_release, DiskCache};
use crate::cache::memory::{cache_key, freshness_lifetime, ResponseCache};
use crate::error::{quote_body, Error, ErrorKind, Result};
use crate::http::pool::Connections;
use crate::http::transport::{self, Answer, Body, Method, Request, ACCEPT_JSON, API_VERSION};
use crate::http::url::BaseUrl;
use crate::icd::params::{self, Param};
use crate::options::{Config, Effect, DEFAULT_API_BASE, DEFAULT_TOKEN_ENDPOINT};
use crate::text::{redact, shorten};
use crate::token::endpoint::fetch_token;
use crate::token::file as token_file;
use crate::token::shared::{self as shared_tokens, TokenKey};
use crate::token::{Credentials, Token, TokenCache};

/// Redirects followed within the API before giving up.
const MAX_REDIRECTS: u32 = 5;
/// How long an answer read from the disk cache stays in the memory cache (what the API's
/// `max-age` says for every answer).
const DISK_HIT_LIFETIME: Duration = Duration::from_secs(36000);

/// A successful answer: the JSON text and the HTTP status it came with.
#[derive(Debug, Clone)]
pub struct Reply {
    pub body: Arc<str>,
    pub http_status: u16,
    /// The body is an object with `"error": true`: the API says it could not do the job. Such
    /// a body is never cached; the search and autocode helpers turn it into `ErrorKind::Api`.
    pub reports_error: bool,
}

impl Reply {
    fn cached(body: Arc<str>) -> Reply {
        // Bodies that report an error never enter a cache.
        Reply { body, http_status: 200, reports_error: false }
    }
}

/// A client of the ICD API, shared freely between threads (`Client: Send + Sync`).
pub struct Client {
    /// None for a local deployment, which needs no token.
    credentials: Option<Credentials>,
    /// Everything a call depends on that an option can change, swapped whole by `set_option`:
    /// a call takes one snapshot at its start and works on it to the end.
    state: RwLock<Arc<State>>,
    cache: ResponseCache,
    /// The newest release per base and linearization, for `release=latest` (`icd::latest`):
    /// asked once per client, as the contract says.
    pub(crate) latest_releases: crate::icd::latest::LatestReleases,
    /// Unique in the process, never reused: what per-client memories kept elsewhere are keyed
    /// by (`icd::release`).
    id: u64,
}

/// The settings and what follows from them, consistent with each other: the connections of the
/// transport settings, the token slot of the (token endpoint, API) pair, the disk cache of
/// `cache_dir`. Never changed in place; `set_option` builds the next one.
#[derive(Clone)]
pub(crate) struct State {
    pub config: Arc<Config>,
    /// The process-wide connection pool of these transport settings.
    connections: Arc<Connections>,
    /// The process-wide token cache for these credentials, endpoint and API.
    tokens: TokenSlot,
    disk: Option<Arc<DiskCache>>,
}

impl State {
    /// The same state with other settings of the request path only (the release `latest`
    /// resolved): connections, token slot and disk cache stay those of the snapshot.
    pub(crate) fn with_config(&self, config: Arc<Config>) -> State {
        State { config, ..self.clone() }
    }
}

/// One call in progress: the state it started with, its deadline, and the token it last sent
/// (for scrubbing its errors).
struct Call {
    state: Arc<State>,
    deadline: Instant,
    token: Option<Arc<Token>>,
}

#[derive(Clone)]
struct TokenSlot {
    key: TokenKey,
    cache: Arc<TokenCache>,
}

impl TokenSlot {
    fn for_config(config: &Config, credentials: Option<&Credentials>) -> TokenSlot {
        // A local client has no credentials and never asks for a token: a private, empty cache.
        let key = match (credentials, &config.token_endpoint) {
            (Some(credentials), Some(endpoint)) => {
                TokenKey::new(&endpoint.as_url(), &config.api_base.as_url(), credentials)
            }
            _ => return TokenSlot { key: TokenKey::local(), cache: Arc::default() },
        };
        TokenSlot { cache: shared_tokens::cache_for(&key), key }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("credentials", &self.credentials).field("config", &self.config()).finish()
    }
}

impl Client {
    /// A client of the WHO cloud API. With both arguments None, the credentials come from
    /// `ICD_CLIENT_ID` and `ICD_CLIENT_SECRET`. Does no network I/O.
    pub fn cloud(client_id: Option<&str>, client_secret: Option<&str>) -> Result<Client> {
        let (client_id, client_secret) = match (client_id, client_secret) {
            (Some(id), Some(secret)) => (id.to_owned(), Zeroizing::new(secret.to_owned())),
            (None, None) => {
                let id = env_var("ICD_CLIENT_ID").map_err(with_credentials_hint)?;
                let secret = Zeroizing::new(env_var("ICD_CLIENT_SECRET").map_err(with_credentials_hint)?);
                (id, secret)
            }
            _ => {
                return Err(Error::invalid_argument(
                    "give both client_id and client_secret, or neither to read ICD_CLIENT_ID and ICD_CLIENT_SECRET",
                ))
            }
        };
        if client_id.trim().is_empty() || client_secret.trim().is_empty() {
            return Err(Error::invalid_argument("client_id and client_secret must not be empty"));
        }
        let api_base = base_from_env("ICD_API_BASE", DEFAULT_API_BASE)?.require_secure("api_base")?;
        let token_endpoint =
            base_from_env("ICD_TOKEN_ENDPOINT", DEFAULT_TOKEN_ENDPOINT)?.require_secure("token_endpoint")?;
        let credentials = Credentials { client_id, client_secret };
        Client::with_config(Some(credentials), Config::new(api_base, Some(token_endpoint)))
    }

    /// A client of WHO's local deployment (the `whoicd/icd-api` container): no token, and plain
    /// http is allowed since there is no secret to protect. None reads `ICD_API_BASE`.
    pub fn local(base_url: Option<&str>) -> Result<Client> {
        let base = match base_url {
            Some(url) => BaseUrl::parse(url, "base_url")?,
            None => BaseUrl::parse(&env_var("ICD_API_BASE")?, "ICD_API_BASE")?,
        };
        Client::with_config(None, Config::new(base, None))
    }

    fn with_config(credentials: Option<Credentials>, mut config: Config) -> Result<Client> {
        config.log = crate::log::enabled_by_env();
        let connections = config.connections()?;
        let tokens = TokenSlot::for_config(&config, credentials.as_ref());
        let cache = ResponseCache::new(config.cache_entries);
        let state = State { config: Arc::new(config), connections, tokens, disk: None };
        static IDS: AtomicU64 = AtomicU64::new(0);
        let id = IDS.fetch_add(1, Ordering::Relaxed);
        Ok(Client { credentials, cache, state: RwLock::new(Arc::new(state)), id, latest_releases: Default::default() })
    }

    /// A snapshot of the current settings.
    pub fn config(&self) -> Arc<Config> {
        self.state.read().config.clone()
    }

    /// The client's id, unique in the process.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// A snapshot of everything a call depends on: a call takes one, at its start.
    pub(crate) fn snapshot(&self) -> Arc<State> {
        self.state.read().clone()
    }

    /// Sets one option (see the table in docs/reference.md). Safe while other threads make calls: they see
    /// the change from their next call on.
    pub fn set_option(&self, name: &str, value: &str) -> Result<()> {
        let mut current = self.state.write();
        let mut changed = Config::clone(&current.config);
        let effect = changed.set(name, value)?;
        let mut next = State::clone(&current);
        match effect {
            Effect::Transport => next.connections = changed.connections()?,
            // Another endpoint or API: another token slot, never the one of the old pair.
            Effect::Endpoint => next.tokens = TokenSlot::for_config(&changed, self.credentials.as_ref()),
            Effect::CacheSize => self.cache.resize(changed.cache_entries),
            Effect::DiskCache => {
                next.disk = match &changed.cache_dir {
                    Some(dir) => Some(DiskCache::open(dir, changed.cache_dir_max_bytes)?),
                    None => None,
                }
            }
            Effect::None => {}
        }
        next.config = Arc::new(changed);
        *current = Arc::new(next);
        Ok(())
    }

    /// The current value of an option as text (see `Config::get`); never the credentials.
    pub fn option(&self, name: &str) -> Result<String> {
        self.config().get(name)
    }

    /// GET a path (`/icd/...`, with or without a query), an `http://id.who.int/...` URI, or a URI
    /// under `api_base`.
    pub fn get(&self, path_or_uri: &str) -> Result<Reply> {
        self.get_with(path_or_uri, &[])
    }

    /// `get` with query parameters appended (percent-encoded) to the query the target may
    /// already have. The body comes back as it came, even one with `"error": true`.
    pub fn get_with(&self, path_or_uri: &str, params: &[Param<'_>]) -> Result<Reply> {
        params::validate(params)?;
        let state = self.snapshot();
        let mut url = state.config.api_base.resolve(path_or_uri)?;
        params::append_to_url(&mut url, params);
        self.execute(&state, Method::Get, url, None)
    }

    /// POST a JSON body (the mortality-coding endpoints, `codedit` and `doris`, take one).
    pub fn post(&self, path_or_uri: &str, json_body: &str) -> Result<Reply> {
        serde_json::from_str::<serde::de::IgnoredAny>(json_body)
            .map_err(|e| Error::invalid_argument(format!("json_body is not valid JSON: {e}")))?;
        let state = self.snapshot();
        let url = state.config.api_base.resolve(path_or_uri)?;
        self.execute(&state, Method::Post, url, Some(json_body))
    }

    /// GETs many paths or URIs at once, at most `concurrency` in flight, sharing the token,
    /// connections and caches. One result per target, in order; one failure fails only its item.
    pub fn get_many(&self, targets: &[&str]) -> Vec<Result<Reply>> {
        let workers = self.config().concurrency.min(targets.len()).max(1);
        let results: Vec<OnceLock<Result<Reply>>> = targets.iter().map(|_| OnceLock::new()).collect();
        let next = AtomicUsize::new(0);
        let work = || loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(target) = targets.get(index) else { break };
            let _ = results[index].set(self.get(target));
        };
        std::thread::scope(|scope| {
            for _ in 1..workers {
                // A thread that cannot be had (a process at its limit) only means fewer workers.
                if std::thread::Builder::new().name("icdapi-batch".into()).spawn_scoped(scope, work).is_err() {
                    break;
                }
            }
            work();
        });
        results.into_iter().map(|result| result.into_inner().expect("every index was taken")).collect()
    }

    /// The cached answer, or the exchange with the API; errors leave here scrubbed of secrets.
    /// Everything is done with `state`, the snapshot the call took at its start.
    pub(crate) fn execute(&self, state: &Arc<State>, method: Method, url: String, body: Option<&str>) -> Result<Reply> {
        let config = &state.config;
        let disk = match method {
            // Only when a disk cache is set is the URL looked at: no work on the hot path otherwise.
            Method::Get => state.disk.clone().filter(|_| is_fixed_release(&url)),
            Method::Post => None,
        };
        let key = (method == Method::Get && (config.cache_entries > 0 || disk.is_some()))
            .then(|| cache_key(&url, &config.language, &config.api_version));
        if let Some(body) = key.as_deref().and_then(|key| self.cache.get(key)) {
            if config.log {
                crate::log::line(format_args!("GET {url} -> 200 from the response cache"));
            }
            return Ok(Reply::cached(body));
        }
        if let (Some(disk), Some(key)) = (&disk, &key) {
            if let Some(body) = disk.get(key) {
                if config.log {
                    crate::log::line(format_args!("GET {url} -> 200 from the disk cache"));
                }
                let body: Arc<str> = Arc::from(body);
                self.cache.insert(key.clone(), body.clone(), DISK_HIT_LIFETIME);
                return Ok(Reply::cached(body));
            }
        }
        let deadline = Instant::now() + config.timeout;
        let mut call = Call { state: self.fresh_connections(state)?, deadline, token: None };
        let result = self.exchange(&mut call, method, url, body);
        let (reply, lifetime) = result.map_err(|error| self.scrub(error, call.token.as_deref()))?;
        if let (Some(key), Some(lifetime)) = (key, lifetime) {
            if let Some(disk) = &disk {
                disk.put(&key, &reply.body);
            }
            self.cache.insert(key, reply.body.clone(), lifetime);
        }
        Ok(reply)
    }

    /// `state`, or — when the process forked since its connections were opened — `state` with
    /// connections of this process's own (never share the parent's), also put in the client.
    fn fresh_connections(&self, state: &Arc<State>) -> Result<Arc<State>> {
        if !state.connections.is_inherited() {
            return Ok(state.clone());
        }
        let fresh = state.config.connections()?;
        let mut current = self.state.write();
        if Arc::ptr_eq(&current.connections, &state.connections) {
            *current = Arc::new(State { connections: fresh.clone(), ..State::clone(&current) });
        }
        Ok(Arc::new(State { connections: fresh, ..State::clone(state) }))
    }

    /// Sends the request with a valid token, refreshing it once on 401 and following redirects
    /// that stay on the API. Returns the reply and how long it may be cached. The token, its
    /// refresh and the redirects' targets all come from the call's own state.
    fn exchange(
        &self,
        call: &mut Call,
        method: Method,
        mut url: String,
        body: Option<&str>,
    ) -> Result<(Reply, Option<Duration>)> {
        let state = call.state.clone();
        let config = &state.config;
        let mut refreshed_after_401 = false;
        let mut redirects = 0;
        loop {
            let token = match &self.credentials {
                Some(credentials) => Some(self.token(call, credentials)?),
                None => None,
            };
            call.token = token.clone();
            let authorization = match &token {
                Some(token) => Some(HeaderValue::from_str(token.authorization()).map(sensitive).map_err(|_| {
                    Error::new(ErrorKind::Parse, "the token endpoint issued a token that cannot stand in a header")
                })?),
                None => None,
            };
            let fixed = &config.headers;
            let all = [
                (&header::ACCEPT, &ACCEPT_JSON),
                (&header::ACCEPT_LANGUAGE, &fixed.accept_language),
                (&API_VERSION, &fixed.api_version),
                (&header::USER_AGENT, &fixed.user_agent),
            ];
            let mut headers = Vec::with_capacity(5);
            headers.extend_from_slice(&all);
            if let Some(authorization) = &authorization {
                headers.push((&header::AUTHORIZATION, authorization));
            }
            let request = Request {
                method,
                url: &url,
                headers: &headers,
                body: body.map_or(Body::None, Body::Json),
                host_option: "api_base",
            };
            let answer = transport::send(state.connections.agent(), config.policy(), &request, call.deadline)?;
            let secrets = [self.secret(), token.as_deref().map_or("", Token::value)];
            match answer.status {
                200..=299 => {
                    let lifetime = freshness_lifetime(answer.cache_control.as_deref());
                    let reply = json_reply(method, &url, answer)?;
                    // A body saying the API could not do the job is never kept, in memory or on disk.
                    let lifetime = lifetime.filter(|_| !reply.reports_error);
                    return Ok((reply, lifetime));
                }
                401 if token.is_some() && !refreshed_after_401 => {
                    // The token was revoked or expired early: drop it from the slot it came
                    // from, fetch a new one there, once.
                    state.tokens.cache.invalidate(token.as_ref().expect("checked above"));
                    refreshed_after_401 = true;
                }
                401 if token.is_some() => {
                    return Err(Error::new(
                        ErrorKind::Auth,
                        format!(
                            "{} {url}: the API answered 401 even with a freshly issued token: {}",
                            method.as_str(),
                            quote_body(&answer.body, &secrets)
                        ),
                    )
                    .with_http_status(401))
                }
                301 | 302 | 303 | 307 | 308 if method == Method::Get && redirects < MAX_REDIRECTS => {
                    url = redirect_target(config, &url, &answer, &secrets)?;
                    redirects += 1;
                }
                status => return Err(http_error(method, &url, status, &answer, &secrets)),
            }
        }
    }

    /// The shared token, fetched if there is none or it is about to expire — from the
    /// `token_cache_file` when another process left a good one there, else from the endpoint.
    fn token(&self, call: &Call, credentials: &Credentials) -> Result<Arc<Token>> {
        let (config, connections, slot, deadline) =
            (&call.state.config, &call.state.connections, &call.state.tokens, call.deadline);
        // While the token is fetched, the connection to the API is opened (when the API is on
        // another host than the token endpoint, as WHO's is): the first call then costs the token
        // exchange plus one request.
        let fetch = || {
            let api = &config.api_base;
            if config.token_endpoint.as_ref().is_some_and(|endpoint| endpoint.origin() != api.origin()) {
                if config.log {
                    crate::log::line(format_args!(
                        "opening a connection to {} while the token is fetched",
                        api.origin()
                    ));
                }
                connections.preconnect(api.origin(), deadline, config.log);
            }
            let endpoint = config
                .token_endpoint
                .as_ref()
                .ok_or_else(|| Error::new(ErrorKind::Internal, "a cloud client without a token endpoint"))?;
            let user_agent = &config.headers.user_agent;
            fetch_token(connections.agent(), endpoint, user_agent, credentials, config.policy(), deadline)
        };
        // The fetch is shared by every call waiting for the token: not cancelled with the call
        // that makes it (crate::calls::shared_work).
        let fetch = || crate::calls::shared_work(fetch);
        slot.cache.get(deadline, |rejected| {
            let Some(path) = &config.token_cache_file else {
                return fetch();
            };
            let complain = |message: String| {
                if config.log {
                    crate::log::line(format_args!("{message}"));
                }
            };
            token_file::with_lock(path, deadline, complain, || {
                if let Some(found) = token_file::load(path, &slot.key, rejected, complain) {
                    if config.log {
                        crate::log::line(format_args!("token read from {}", path.display()));
                    }
                    return Ok(found);
                }
                let (token, lifetime) = fetch()?;
                if let Err(error) = token_file::store(path, &slot.key, &token, lifetime) {
                    complain(error.message().to_owned());
                }
                Ok((token, lifetime))
            })
        })
    }

    pub(crate) fn secret(&self) -> &str {
        self.credentials.as_ref().map_or("", |c| c.client_secret.as_str())
    }

    /// A last line of defence: no message leaves the client with the secret or the token in it.
    fn scrub(&self, error: Error, token: Option<&Token>) -> Error {
        error.scrub(&[self.secret(), token.map_or("", Token::value)])
    }
}

fn env_var(name: &str) -> Result<String> {
    std::env::var(name)
        .map_err(|_| Error::invalid_argument(format!("{name} is not set (or is not valid UTF-8) in the environment")))
}

/// Where a new user gets credentials, or how to go on without them.
const CREDENTIALS_HINT: &str = "register at https://icd.who.int/icdapi for a client id and secret \
     (View API access key(s)), or start offline: scripts/standin.sh runs a local stand-in of the \
     API and prints the ICD_CLIENT_ID, ICD_CLIENT_SECRET, ICD_API_BASE and ICD_TOKEN_ENDPOINT to export";

fn with_credentials_hint(error: Error) -> Error {
    Error::invalid_argument(format!("{}: {CREDENTIALS_HINT}", error.message()))
}

fn base_from_env(variable: &str, default: &str) -> Result<BaseUrl> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => BaseUrl::parse(&url, variable),
        _ => BaseUrl::parse(default, variable),
    }
}

/// Where a redirect points, if it stays on the API; an error otherwise, so that the token
/// never follows a redirect to another host.
fn redirect_target(config: &Config, from: &str, answer: &Answer, secrets: &[&str]) -> Result<String> {
    let refused = |why: &str| {
        Error::new(ErrorKind::Http, format!("GET {from}: the API answered {} with a redirect {why}", answer.status))
            .with_http_status(answer.status)
    };
    let location = answer.location.as_deref().ok_or_else(|| refused("without a Location"))?;
    config.api_base.resolve(location).map_err(|_| {
        refused(&format!(
            "to {}, outside the configured API: not followed, so that the token stays with the API",
            shorten(&redact(location, secrets), 120)
        ))
    })
}

/// A 2xx answer as a reply: UTF-8 JSON, or `ErrorKind::Parse`.
fn json_reply(method: Method, url: &str, answer: Answer) -> Result<Reply> {
    let status = answer.status;
    let not_json = |why: String| {
        Error::new(
            ErrorKind::Parse,
            format!("{} {url}: the API answered {status} with a body that is not JSON ({why})", method.as_str()),
        )
        .with_http_status(status)
    };
    let text = String::from_utf8(answer.body).map_err(|_| not_json("not UTF-8".into()))?;
    let shape = crate::json::inspect(&text).map_err(|e| {
        if e.to_string().starts_with("recursion limit exceeded") {
            return Error::new(
                ErrorKind::Parse,
                format!(
                    "{} {url}: the API answered {status} with JSON nested more than {} levels deep, \
                     the most the library reads ({e})",
                    method.as_str(),
                    crate::json::MAX_DEPTH
                ),
            )
            .with_http_status(status);
        }
        let kind = answer.content_type.as_deref().unwrap_or("no Content-Type");
        not_json(format!("{kind}: {e}"))
    })?;
    Ok(Reply { body: Arc::from(text), http_status: status, reports_error: shape.reports_error })
}

fn http_error(method: Method, url: &str, status: u16, answer: &Answer, secrets: &[&str]) -> Error {
    let reason = ureq::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
    Error::new(
        ErrorKind::Http,
        format!(
            "{} {url}: the API answered {status} {reason}{}: {}",
            method.as_str(),
            answer.attempts_note(),
            quote_body(&answer.body, secrets)
        ),
    )
    .with_http_status(status)
}

/// Marks a header value as a secret, for the HTTP stack's own debug output.
fn sensitive(mut value: HeaderValue) -> HeaderValue {
    value.set_sensitive(true);
    value
}
