//! Host name resolution without a thread per request.
//!
//! ureq's default resolver, when a request has a deadline (ours always do), looks the host up on
//! a new thread for every request — even on a kept-alive connection, and even for an IP
//! literal. That thread cost more than everything else in a request (see
//! docs/performance.md). This resolver answers IP literals at once and keeps what the system
//! resolver said about a name for a minute, so a busy client looks `id.who.int` up once a minute.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a name's addresses are reused. Short enough to follow a DNS change within a minute.
const NAME_TTL: Duration = Duration::from_secs(60);

/// `System` asks the system's resolver (tests give it one that counts what it is asked).
#[derive(Debug, Default)]
pub struct CachingResolver<System = DefaultResolver> {
    system: System,
    names: Mutex<HashMap<String, (ResolvedSocketAddrs, Instant)>>,
}

impl<System: Resolver> Resolver for CachingResolver<System> {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let Some((host, port)) = host_and_port(uri) else {
            return self.system.resolve(uri, config, timeout); // let ureq explain what is wrong
        };
        if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            let mut addresses = self.empty();
            addresses.push(SocketAddr::new(ip, port));
            return Ok(addresses);
        }
        let key = format!("{host}:{port}");
        if let Some((addresses, resolved_at)) = self.names.lock().get(&key) {
            if resolved_at.elapsed() < NAME_TTL {
                return Ok(addresses.clone());
            }
        }
        let addresses = self.system.resolve(uri, config, timeout)?;
        self.names.lock().insert(key, (addresses.clone(), Instant::now()));
        Ok(addresses)
    }
}

fn host_and_port(uri: &Uri) -> Option<(&str, u16)> {
    let authority = uri.authority()?;
    let default_port = match uri.scheme_str()? {
        "https" => 443,
        "http" => 80,
        _ => return None,
    };
    Some((authority.host(), authority.port_u16().unwrap_or(default_port)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A system resolver that knows one name (`icd.test`, at 192.0.2.7) and counts its lookups.
    #[derive(Debug, Default)]
    struct CountingSystem {
        lookups: AtomicUsize,
    }

    impl Resolver for CountingSystem {
        fn resolve(&self, uri: &Uri, _: &Config, _: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            let authority = uri.authority().unwrap();
            if authority.host() != "icd.test" {
                return Err(ureq::Error::HostNotFound);
            }
            let mut addresses = self.empty();
            addresses.push(SocketAddr::new(Ipv4Addr::new(192, 0, 2, 7).into(), authority.port_u16().unwrap_or(1)));
            Ok(addresses)
        }
    }

    fn resolve(resolver: &CachingResolver<CountingSystem>, url: &str) -> Result<Vec<SocketAddr>, ureq::Error> {
        let uri: Uri = url.parse().unwrap();
        resolver.resolve(&uri, &Config::default(), NextTimeout::default()).map(|found| found.to_vec())
    }

    fn lookups(resolver: &CachingResolver<CountingSystem>) -> usize {
        resolver.system.lookups.load(Ordering::SeqCst)
    }

    #[test]
    fn ip_literals_are_answered_without_asking_the_system_with_the_schemes_default_port() {
        let resolver = CachingResolver::<CountingSystem>::default();
        for (url, address) in [
            ("https://127.0.0.1/icd/entity", "127.0.0.1:443"),
            ("http://127.0.0.1/icd/entity", "127.0.0.1:80"),
            ("http://127.0.0.1:8382/icd/entity", "127.0.0.1:8382"),
            ("https://[::1]/icd/entity", "[::1]:443"),
            ("http://[::1]:8080/", "[::1]:8080"),
        ] {
            assert_eq!(resolve(&resolver, url).unwrap(), vec![address.parse::<SocketAddr>().unwrap()], "{url}");
        }
        assert_eq!(lookups(&resolver), 0, "the system resolver was asked about an IP literal");
    }

    #[test]
    fn a_name_is_looked_up_once_and_reused_until_its_time_is_up() {
        for scheme in ["https", "http"] {
            let resolver = CachingResolver::<CountingSystem>::default();
            let url = format!("{scheme}://icd.test:8443/icd/entity");
            let first = resolve(&resolver, &url).unwrap();
            assert_eq!(first, vec!["192.0.2.7:8443".parse::<SocketAddr>().unwrap()]);
            for _ in 0..3 {
                assert_eq!(resolve(&resolver, &url).unwrap(), first);
            }
            assert_eq!(lookups(&resolver), 1, "{scheme}: the name was looked up again within its minute");
            // Another port is another entry (its addresses carry that port).
            let other = resolve(&resolver, &format!("{scheme}://icd.test:9443/")).unwrap();
            assert_eq!(other, vec!["192.0.2.7:9443".parse::<SocketAddr>().unwrap()]);
            assert_eq!(lookups(&resolver), 2);

            // A minute later the name is asked again: a DNS change is followed.
            for (_, resolved_at) in resolver.names.lock().values_mut() {
                *resolved_at = Instant::now() - NAME_TTL;
            }
            resolve(&resolver, &url).unwrap();
            assert_eq!(lookups(&resolver), 3, "{scheme}: a name past its minute was not looked up again");
            resolve(&resolver, &url).unwrap();
            assert_eq!(lookups(&resolver), 3);
        }
    }

    #[test]
    fn a_name_that_does_not_resolve_is_asked_again_next_time() {
        let resolver = CachingResolver::<CountingSystem>::default();
        for attempt in 1..=2 {
            let error = resolve(&resolver, "https://no-such-host.test/").unwrap_err();
            assert!(matches!(error, ureq::Error::HostNotFound), "{error:?}");
            assert_eq!(lookups(&resolver), attempt, "a failed lookup was remembered");
        }
    }
}
