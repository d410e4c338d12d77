//! Host name resolution without a thread per request.
//!
//! ureq's default resolver, when a request has a deadline (ours always do), looks the host up on
//! a new thread for every request — even on a kept-alive connection, and even for an IP
//! literal. That thread cost more than everything else in a request (see the README's
//! benchmark). This resolver answers IP literals at once and keeps what the system resolver
//! said about a name for a minute, so a busy client looks `id.who.int` up once a minute.

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

#[derive(Debug, Default)]
pub struct CachingResolver {
    system: DefaultResolver,
    names: Mutex<HashMap<String, (ResolvedSocketAddrs, Instant)>>,
}

impl Resolver for CachingResolver {
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
