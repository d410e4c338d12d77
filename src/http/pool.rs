//! One connection pool per process for each set of transport settings.
//!
//! Every client with the same trust roots (the system's store, or the *content* of its
//! `ca_file`) and the same proxy shares one ureq agent — one pool of kept-alive connections, one
//! TLS configuration and its cache of sessions to resume — whether it lives for the whole
//! program or for one PHP page. Pools outlive their clients, as tokens do (`token::shared`): a
//! program that creates and frees a client per request reuses the connection of the one before.
//! A connection made under one trust configuration never serves a client with another: clients
//! with different settings have different agents, and agents never share connections.
//!
//! The user agent is not a transport setting here: the `user_agent` option travels in each
//! request's headers, and no connection depends on it.
//!
//! The pool also opens connections ahead of need (`Connections::preconnect`): while a token is
//! being fetched, the connection to the API host is opened and its TLS handshake done on a
//! helper thread, so that the first call costs the token exchange plus one request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};
use ureq::config::RedirectAuthHeaders;
use ureq::http::Uri;
use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{time, ConnectProxyConnector, ConnectionDetails, Connector, NextTimeout, Transport};
use ureq::{Agent, Proxy, ProxyProtocol};

use crate::error::{Error, Result};
use crate::http::resolver::CachingResolver;
use crate::http::socket::PlainTransport;
use crate::http::tls::{self, SharedTlsConfig, TrustRoots};
use crate::http::transport::io_text;
use crate::http::url::shorten;

/// Idle connections kept per host: enough for many threads sharing one client.
const IDLE_CONNECTIONS_PER_HOST: usize = 64;
/// Settings whose pool no client uses any more are kept up to this many (then dropped).
const KEPT_UNUSED_POOLS: usize = 16;
/// A connection opened ahead of need and not taken within this time is closed: servers close
/// idle connections, and ureq keeps pooled ones no longer than 15 s either.
const PRECONNECTED_LIFETIME: Duration = Duration::from_secs(10);

/// What makes one connection unfit for a client with other settings.
#[derive(Clone, PartialEq, Eq, Hash)]
struct Settings {
    /// None: the system's store; else the bytes of the `ca_file` (its content, not its path).
    roots: Option<Arc<[u8]>>,
    proxy: Option<Proxy>,
}

/// The shared pool of one set of transport settings.
pub struct Connections {
    agent: Agent,
    connector: Arc<ConnectorState>,
    resolver: Arc<CachingResolver>,
    /// `FORKS` when this pool was made: a process forked since must not use it.
    forks: usize,
}

/// How many times this process is a child of `fork()` (counted from the library's first pool
/// on). A child inherits its parent's sockets: two processes writing TLS records on one
/// connection would garble it, so a child makes pools of its own (Python's multiprocessing and
/// servers that fork workers after the parent made a call).
static FORKS: AtomicUsize = AtomicUsize::new(0);

fn count_forks() {
    #[cfg(unix)]
    {
        static REGISTERED: std::sync::Once = std::sync::Once::new();
        extern "C" fn in_child() {
            FORKS.fetch_add(1, Ordering::Relaxed);
        }
        // The handler only touches an atomic, as a fork handler must.
        REGISTERED.call_once(|| crate::sys::on_fork_in_child(in_child));
    }
}

static POOLS: LazyLock<Mutex<HashMap<Settings, Arc<Connections>>>> = LazyLock::new(Default::default);

/// Where requests go. The default follows the environment, as curl and every HTTP client do;
/// `none` is there for the machine whose HTTPS_PROXY is meant for other programs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// `HTTPS_PROXY`/`ALL_PROXY` when set, else direct (the option unset or set to "").
    #[default]
    FromEnvironment,
    /// Direct, whatever the environment says (the option set to "none").
    Direct,
    /// Through this `http://host:port` proxy.
    Via(String),
}

/// The process-wide pool for a client's transport settings (the options `ca_file` and `proxy`).
/// The `ca_file` is read here, once per call: its content, not its path, names the trust
/// setting; it is decoded only the first time that content is seen in the process.
pub fn for_settings(ca_file: Option<&std::path::Path>, proxy: &ProxySetting) -> Result<Arc<Connections>> {
    let pem = match ca_file {
        Some(path) => Some(Arc::<[u8]>::from(
            std::fs::read(path)
                .map_err(|e| Error::invalid_argument(format!("ca_file {}: {}", path.display(), io_text(&e))))?,
        )),
        None => None,
    };
    let settings = Settings { roots: pem, proxy: proxy_from(proxy, |name| std::env::var(name).ok())? };
    count_forks();
    let mut pools = POOLS.lock();
    if pools.values().any(|pool| pool.is_inherited()) {
        pools.clear(); // the parent's, all of them: this process forked since they were made
    }
    if let Some(found) = pools.get(&settings) {
        return Ok(found.clone());
    }
    let roots = match (&settings.roots, ca_file) {
        (Some(pem), Some(path)) => TrustRoots::from_pem(pem, path)?,
        _ => TrustRoots::System,
    };
    if pools.len() >= KEPT_UNUSED_POOLS {
        pools.retain(|_, pool| Arc::strong_count(pool) > 1);
    }
    let connections = Arc::new(Connections::new(roots, settings.proxy.clone()));
    pools.insert(settings, connections.clone());
    Ok(connections)
}

impl Connections {
    fn new(roots: TrustRoots, proxy: Option<Proxy>) -> Connections {
        // Redirects are never followed by ureq: the client decides itself, so that a token never
        // follows one off the API.
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .redirect_auth_headers(RedirectAuthHeaders::Never)
            .https_only(false)
            .max_idle_connections(IDLE_CONNECTIONS_PER_HOST * 4)
            .max_idle_connections_per_host(IDLE_CONNECTIONS_PER_HOST)
            // ureq zeroes 128 KiB for each of these per new connection by default.
            .input_buffer_size(crate::http::socket::INPUT_BUFFER)
            .output_buffer_size(crate::http::socket::OUTPUT_BUFFER)
            .max_response_header_size(tls::MAX_RESPONSE_HEAD)
            .proxy(proxy)
            .build();
        let connector = Arc::new(ConnectorState {
            tls: SharedTlsConfig::new(roots),
            tunnel: ConnectProxyConnector::default(),
            preconnected: Mutex::new(HashMap::new()),
            preconnect_done: Condvar::new(),
        });
        let resolver = Arc::new(CachingResolver::default());
        let agent = Agent::with_parts(config, PoolConnector(connector.clone()), SharedResolver(resolver.clone()));
        Connections { agent, connector, resolver, forks: FORKS.load(Ordering::Relaxed) }
    }

    pub fn agent(&self) -> &Agent {
        &self.agent
    }

    /// Whether this pool was made before this process forked (it is its parent's).
    pub fn is_inherited(&self) -> bool {
        self.forks != FORKS.load(Ordering::Relaxed)
    }

    /// Opens a connection to `url`'s host on a helper thread — TCP, and TLS for https — for the
    /// next request there to take, unless one is already open or being opened ahead. Gives up
    /// at `deadline`. Nothing is sent on it but the TLS handshake. With `log`, a failure is
    /// told on stderr (nobody else hears of it: the request opens its own connection).
    pub fn preconnect(self: &Arc<Self>, url: &str, deadline: Instant, log: bool) {
        let Ok(uri) = url.parse::<Uri>() else { return };
        let Some(target) = target_of(&uri) else { return };
        if self.agent.config().proxy().is_some_and(|proxy| !proxy.is_no_proxy(&uri)) {
            return; // Through a proxy: not worth the tunnel set-up done twice.
        }
        {
            let mut slots = self.connector.preconnected.lock();
            if slots.contains_key(&target) {
                return;
            }
            slots.insert(target.clone(), Preconnected::Opening);
        }
        let (connections, slot) = (self.clone(), target.clone());
        let spawned = std::thread::Builder::new().name("icdapi-connect".into()).spawn(move || {
            // Whatever happens (a panic included), the slot must not stay "opening": requests
            // to the host would wait for it until their time to connect ran out.
            let opened =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| connections.open_ahead(&uri, deadline)))
                    .unwrap_or(Err(ureq::Error::ConnectionFailed));
            if let (Err(error), true) = (&opened, log) {
                // Why the first call waited for nothing: a timeout names the step it ran out in.
                crate::log::line(format_args!("the connection opened ahead to {slot} failed ({error})"));
            }
            let mut slots = connections.connector.preconnected.lock();
            match opened {
                Ok(transport) => slots.insert(slot, Preconnected::Open(transport, Instant::now())),
                // The request opens its own, and says why if it cannot either.
                Err(_) => slots.remove(&slot),
            };
            connections.connector.preconnect_done.notify_all();
        });
        if spawned.is_err() {
            // A process at its thread limit: the request connects by itself, as without this.
            self.connector.preconnected.lock().remove(&target);
        }
    }

    fn open_ahead(&self, uri: &Uri, deadline: Instant) -> std::result::Result<Box<dyn Transport>, ureq::Error> {
        let config = self.agent.config();
        let remaining = deadline.saturating_duration_since(Instant::now());
        let timeout = NextTimeout {
            after: time::Duration::Exact(remaining),
            reason: ureq::Timeout::Connect,
            ..NextTimeout::default()
        };
        let addrs = self.resolver.resolve(uri, config, timeout)?;
        let details = connection_details(uri, addrs, config, &*self.resolver, timeout);
        self.connector.open(&details)
    }
}

/// What ureq tells a connector, for a connection we open ourselves (not for a request).
pub(crate) fn connection_details<'a>(
    uri: &'a Uri,
    addrs: ResolvedSocketAddrs,
    config: &'a ureq::config::Config,
    resolver: &'a dyn Resolver,
    timeout: NextTimeout,
) -> ConnectionDetails<'a> {
    ConnectionDetails {
        uri,
        addrs,
        config,
        request_level: false,
        resolver,
        now: time::Instant::now(),
        timeout,
        current_time: Arc::new(time::Instant::now),
        // Only a proxy tunnel needs these, and connections through a proxy are not opened
        // ahead; an agent's shutdown (which we never ask for) would not reach this one.
        run_connector: Arc::new(|_| Err(ureq::Error::ConnectionFailed)),
        register_shutdown: Arc::new(|_| Ok(())),
    }
}

/// A connection opened ahead of need, or being opened.
enum Preconnected {
    Opening,
    Open(Box<dyn Transport>, Instant),
}

/// "https://host:port": what a connection opened ahead is for.
fn target_of(uri: &Uri) -> Option<String> {
    let scheme = uri.scheme_str()?;
    let authority = uri.authority()?;
    let port = authority.port_u16().unwrap_or(if scheme == "https" { 443 } else { 80 });
    Some(format!("{scheme}://{}:{port}", authority.host()))
}

/// What the agent's connector holds, shared with the helper threads that open connections ahead.
struct ConnectorState {
    tls: SharedTlsConfig,
    tunnel: ConnectProxyConnector,
    preconnected: Mutex<HashMap<String, Preconnected>>,
    preconnect_done: Condvar,
}

impl ConnectorState {
    /// TCP (through the proxy's tunnel, if any), then TLS for https with the shared configuration.
    fn open(&self, details: &ConnectionDetails) -> std::result::Result<Box<dyn Transport>, ureq::Error> {
        // Through a proxy: ureq's CONNECT tunnel (its own connection to the proxy comes back here).
        let tunnel = self.tunnel.connect(details, None::<()>)?.map(|tunnel| tunnel.boxed());
        if !details.needs_tls() {
            return Ok(match tunnel {
                Some(tunnel) => tunnel,
                None => Box::new(PlainTransport::connect(details)?),
            });
        }
        let config = self.tls.get().map_err(|e| ureq::Error::Io(std::io::Error::other(e.message().to_owned())))?;
        Ok(match tunnel {
            Some(tunnel) => Box::new(tls::connect_tunnel(config, details, tunnel)?),
            None => Box::new(tls::connect(config, details)?),
        })
    }

    /// The connection opened ahead for this request's host, waiting for it if it is being opened
    /// (within the request's time to connect). None: open one as usual.
    fn take_preconnected(&self, details: &ConnectionDetails) -> Option<Box<dyn Transport>> {
        let target = target_of(details.uri)?;
        let mut slots = self.preconnected.lock();
        if slots.is_empty() {
            return None;
        }
        // A deadline beyond the clock's range (none at all) waits a day at most.
        let give_up = Instant::now()
            .checked_add(*details.timeout.after)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
        loop {
            match slots.remove(&target)? {
                Preconnected::Opening => {
                    slots.insert(target.clone(), Preconnected::Opening);
                    if self.preconnect_done.wait_until(&mut slots, give_up).timed_out() {
                        return None;
                    }
                }
                Preconnected::Open(mut transport, opened) => {
                    let fresh = opened.elapsed() < PRECONNECTED_LIFETIME && transport.is_open();
                    return fresh.then_some(transport);
                }
            }
        }
    }
}

#[derive(Clone)]
struct PoolConnector(Arc<ConnectorState>);

impl std::fmt::Debug for PoolConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PoolConnector")
    }
}

impl Connector<()> for PoolConnector {
    type Out = Box<dyn Transport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        _chained: Option<()>,
    ) -> std::result::Result<Option<Self::Out>, ureq::Error> {
        if let Some(transport) = self.0.take_preconnected(details) {
            return Ok(Some(transport));
        }
        self.0.open(details).map(Some)
    }
}

/// The pool's resolver, shared with the helper threads that open connections ahead.
#[derive(Debug)]
struct SharedResolver(Arc<CachingResolver>);

impl Resolver for SharedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        self.0.resolve(uri, config, timeout)
    }
}

/// The proxy from the `proxy` option, else from `HTTPS_PROXY`/`ALL_PROXY`; none when the option
/// says "none". Loopback hosts and the hosts in `NO_PROXY` always go direct. The environment
/// is passed in (`std::env::var`; tests give their own).
fn proxy_from(setting: &ProxySetting, env: impl Fn(&str) -> Option<String>) -> Result<Option<Proxy>> {
    let from_env = || {
        ["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .find_map(|name| env(name).filter(|v| !v.is_empty()))
    };
    let url = match setting {
        ProxySetting::Direct => return Ok(None),
        ProxySetting::Via(url) => url.clone(),
        ProxySetting::FromEnvironment => match from_env() {
            Some(url) => url,
            None => return Ok(None),
        },
    };
    let unusable =
        |why: String| Error::invalid_argument(format!("proxy \"{}\" is not usable: {why}", shorten(&url, 100)));
    let parsed = Proxy::new(&url).map_err(|e| unusable(e.to_string()))?;
    if !matches!(parsed.protocol(), ProxyProtocol::Http | ProxyProtocol::Https) {
        // SOCKS support is not built in: refuse it rather than silently connecting directly.
        return Err(unusable("only http:// proxies (HTTP CONNECT) are supported".into()));
    }
    let mut builder = Proxy::builder(parsed.protocol()).host(parsed.host()).port(parsed.port());
    if let (Some(user), Some(password)) = (parsed.username(), parsed.password()) {
        builder = builder.username(user).password(password);
    }
    let no_proxy = env("NO_PROXY").or_else(|| env("no_proxy")).unwrap_or_default();
    // Loopback goes direct: localhost, all of 127.0.0.0/8 ("127." is a prefix entry), ::1.
    for host in ["localhost", "127.", "::1", "[::1]"].into_iter().chain(no_proxy.split(',')) {
        if !host.trim().is_empty() {
            builder = builder.no_proxy(host.trim());
        }
    }
    builder.build().map(Some).map_err(|e| Error::invalid_argument(format!("proxy: {e}")))
}

#[cfg(test)]
mod proxy_tests {
    use super::*;

    /// An environment holding only `vars`.
    fn env_of<'a>(vars: &'a [(&str, &str)]) -> impl Fn(&str) -> Option<String> + 'a {
        |name: &str| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string())
    }

    /// The proxy chosen for a setting, with an environment holding only `vars`; None if direct.
    fn chosen(setting: ProxySetting, vars: &[(&str, &str)]) -> Option<String> {
        proxy_from(&setting, env_of(vars)).unwrap().map(|proxy| format!("{}:{}", proxy.host(), proxy.port()))
    }

    #[test]
    fn none_goes_direct_whatever_the_environment_says() {
        let env = [("HTTPS_PROXY", "http://envproxy:3128"), ("ALL_PROXY", "http://allproxy:8080")];
        assert_eq!(chosen(ProxySetting::Direct, &env), None);
        assert_eq!(chosen(ProxySetting::FromEnvironment, &env).as_deref(), Some("envproxy:3128"));
        assert_eq!(chosen(ProxySetting::FromEnvironment, &env[1..]).as_deref(), Some("allproxy:8080"));
        assert_eq!(chosen(ProxySetting::FromEnvironment, &[("HTTPS_PROXY", "")]), None, "set but empty");
        assert_eq!(chosen(ProxySetting::FromEnvironment, &[]), None);
        let option = ProxySetting::Via("http://option:3129".into());
        assert_eq!(chosen(option, &env).as_deref(), Some("option:3129"), "the option outranks the environment");
    }

    #[test]
    fn no_proxy_hosts_and_loopback_go_direct() {
        let env = [("HTTPS_PROXY", "http://envproxy:3128"), ("no_proxy", "icd.local, .hospital.example")];
        let proxy = proxy_from(&ProxySetting::FromEnvironment, env_of(&env)).unwrap().unwrap();
        for direct in
            ["https://icd.local/icd", "https://api.hospital.example/", "http://127.0.0.2:9/", "http://localhost/"]
        {
            assert!(proxy.is_no_proxy(&direct.parse().unwrap()), "{direct}");
        }
        assert!(!proxy.is_no_proxy(&"https://id.who.int/icd".parse().unwrap()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::{with_details, within};
    use std::net::{SocketAddr, TcpListener, TcpStream};

    /// A pool of its own (no proxy; only plain HTTP is used) and a server on loopback.
    fn pool_and_server() -> (Arc<Connections>, TcpListener, String) {
        let server = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.local_addr().unwrap());
        (Arc::new(Connections::new(TrustRoots::System, None)), server, url)
    }

    /// What a request to `url` (on loopback) asks of the pool's connector, with `after` to connect.
    fn take(connections: &Connections, url: &str, after: impl Into<time::Duration>) -> Option<Box<dyn Transport>> {
        with_details(url, &[address_of(url)], after, |details| connections.connector.take_preconnected(details))
    }

    /// The socket address of a `http://127.0.0.1:port` URL.
    fn address_of(url: &str) -> SocketAddr {
        url.trim_start_matches("http://").parse().unwrap()
    }

    /// Opens a connection ahead to `url`, and waits until it is open; returns the server's end.
    fn opened_ahead(connections: &Arc<Connections>, server: &TcpListener, url: &str) -> TcpStream {
        connections.preconnect(url, Instant::now() + Duration::from_secs(5), false);
        let (accepted, _) = server.accept().unwrap();
        let target = target_of(&url.parse().unwrap()).unwrap();
        while !matches!(connections.connector.preconnected.lock().get(&target), Some(Preconnected::Open(..))) {
            std::thread::sleep(Duration::from_millis(5));
        }
        accepted
    }

    #[test]
    fn a_connection_opened_ahead_is_taken_once_while_fresh_and_open() {
        within(20, || {
            let (connections, server, url) = pool_and_server();
            let _accepted = opened_ahead(&connections, &server, &url);
            assert!(
                take(&connections, &url, Duration::from_secs(5)).is_some(),
                "the connection opened ahead was not taken"
            );
            assert!(take(&connections, &url, Duration::from_secs(5)).is_none(), "it was taken twice");
        });
    }

    #[test]
    fn a_connection_opened_ahead_that_the_server_closed_is_not_taken() {
        within(20, || {
            let (connections, server, url) = pool_and_server();
            let accepted = opened_ahead(&connections, &server, &url);
            drop(accepted); // servers close idle connections
            std::thread::sleep(Duration::from_millis(100)); // for the FIN to arrive
            assert!(take(&connections, &url, Duration::from_secs(5)).is_none(), "a closed connection was taken");
            assert!(connections.connector.preconnected.lock().is_empty(), "and it was kept");
        });
    }

    #[test]
    fn a_connection_opened_ahead_too_long_ago_is_not_taken() {
        within(20, || {
            let (connections, server, url) = pool_and_server();
            let _accepted = opened_ahead(&connections, &server, &url);
            for slot in connections.connector.preconnected.lock().values_mut() {
                if let Preconnected::Open(_, opened) = slot {
                    *opened -= PRECONNECTED_LIFETIME;
                }
            }
            assert!(
                take(&connections, &url, Duration::from_secs(5)).is_none(),
                "a connection past its lifetime was taken"
            );
        });
    }

    #[test]
    fn a_request_without_a_deadline_waits_for_the_connection_being_opened() {
        within(20, || {
            let (connections, _server, url) = pool_and_server();
            let target = target_of(&url.parse().unwrap()).unwrap();
            connections.connector.preconnected.lock().insert(target.clone(), Preconnected::Opening);
            // The connection being opened ahead is ready in 300 ms (the listener's backlog
            // completes the TCP handshake).
            let (opener, to) = (connections.clone(), url.clone());
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(300));
                let transport = with_details(&to, &[address_of(&to)], Duration::from_secs(5), |details| {
                    opener.connector.open(details)
                });
                opener
                    .connector
                    .preconnected
                    .lock()
                    .insert(target, Preconnected::Open(transport.unwrap(), Instant::now()));
                opener.connector.preconnect_done.notify_all();
            });
            let started = Instant::now();
            let taken = take(&connections, &url, time::Duration::NotHappening);
            assert!(taken.is_some(), "gave up after {:?} instead of waiting", started.elapsed());
        });
    }

    #[test]
    fn an_agents_debug_output_names_our_connector() {
        let (connections, _server, _url) = pool_and_server();
        let shown = format!("{:?}", connections.agent());
        assert!(shown.contains("connector: ChainedConnector(PoolConnector, "), "{shown}");
    }
}
