//! The API's list of releases (`icd_releases`), and the option `release=latest`: the newest
//! release the API serves for the linearization, asked once per client, api_base and
//! linearization, then used by every helper as if it had been set by its id.

use std::collections::HashMap;
use std::sync::Arc;

use parking_lot::Mutex;
use serde_json::Value;

use crate::client::State;
use crate::error::{Error, ErrorKind, Result};
use crate::http::transport::Method;
use crate::icd::release::release_of;
use crate::options::Config;
use crate::{Client, Reply};

/// The value of the option `release` that asks for the newest release served.
pub const LATEST: &str = "latest";

/// (api_base, linearization): what one question is about.
type Place = (String, String);
/// The newest release found there, once found.
type Found = Arc<Mutex<Option<String>>>;

/// (api_base, linearization) → the newest release found there. A failed question leaves its
/// slot empty, so the next call asks again; the slot's lock makes threads that arrive while one
/// asks wait for its answer instead of asking too.
#[derive(Default)]
pub struct LatestReleases {
    found: Mutex<HashMap<Place, Found>>,
}

impl Client {
    /// `GET /icd/release/11/{linearization}`: the releases the API serves for the client's
    /// linearization, as it answers (`release`, `latestRelease`, `title`).
    pub fn releases(&self) -> Result<Reply> {
        self.release_list(&self.snapshot())
    }

    fn release_list(&self, state: &Arc<State>) -> Result<Reply> {
        let config = &state.config;
        let url = config.api_base.resolve(&format!("/icd/release/11/{}", config.linearization))?;
        self.execute(state, Method::Get, url, None)
    }

    /// The state a helper builds its path from: the call's snapshot itself, or — when its
    /// release is `latest` — the same state with a copy of its settings naming the release the
    /// API lists as its newest.
    pub(crate) fn release_resolved(&self, state: &Arc<State>) -> Result<Arc<State>> {
        let config = &state.config;
        if config.release != LATEST {
            return Ok(state.clone());
        }
        let key = (config.api_base.as_url(), config.linearization.clone());
        let slot = self.latest_releases.found.lock().entry(key).or_default().clone();
        let mut found = slot.lock();
        if found.is_none() {
            *found = Some(self.ask_latest_release(state)?);
        }
        let mut resolved = Config::clone(config);
        resolved.release = found.clone().unwrap_or_default();
        Ok(Arc::new(state.with_config(Arc::new(resolved))))
    }

    fn ask_latest_release(&self, state: &Arc<State>) -> Result<String> {
        let config = &state.config;
        let failed = |why: String| {
            format!(
                "release \"latest\" could not be resolved: the list of releases of {} at {} {why}; \
                 set the release option to a release id such as 2026-01",
                config.linearization,
                config.api_base.as_url()
            )
        };
        let reply = self.release_list(state).map_err(|e| {
            Error::new(e.kind(), failed(format!("failed: {}", e.message()))).with_http_status(e.http_status())
        })?;
        let list: Value = serde_json::from_str(&reply.body).unwrap_or(Value::Null);
        newest_release(&list).ok_or_else(|| {
            Error::new(ErrorKind::Parse, failed("names no release".to_owned())).with_http_status(reply.http_status)
        })
    }
}

/// The release id of `latestRelease`, or else the greatest id among the `release` URIs
/// (ids are dates, "2026-01", so the greatest in text order is the newest).
fn newest_release(list: &Value) -> Option<String> {
    if let Some(latest) = list.get("latestRelease").and_then(Value::as_str).and_then(release_of) {
        return Some(latest.to_owned());
    }
    let listed = list.get("release")?.as_array()?;
    listed.iter().filter_map(Value::as_str).filter_map(release_of).max().map(str::to_owned)
}

/// A helper's error with the release it used named, when that release came from `latest`:
/// a 404 or 500 then says which release was asked.
pub(crate) fn name_resolved_release(asked: &Config, used: &Config, error: Error) -> Error {
    if asked.release == LATEST && error.kind() == ErrorKind::Http {
        let note = format!(" (release \"latest\" is {} at {})", used.release, used.api_base.as_url());
        return error.with_note(&note);
    }
    error
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::newest_release;

    #[test]
    fn latest_release_first_else_the_greatest_listed() {
        let base = "http://id.who.int/icd/release/11";
        let both = json!({"release": [format!("{base}/2024-01/mms")], "latestRelease": format!("{base}/2023-01/mms")});
        assert_eq!(newest_release(&both).as_deref(), Some("2023-01"));
        let listed = json!({"release": [format!("{base}/2019-04/mms"), format!("{base}/2025-01/mms"), format!("{base}/2018/mms")]});
        assert_eq!(newest_release(&listed).as_deref(), Some("2025-01"));
        let unreadable = json!({"release": [format!("{base}/2019-04/mms")], "latestRelease": "nowhere"});
        assert_eq!(newest_release(&unreadable).as_deref(), Some("2019-04"));
        assert_eq!(newest_release(&json!({"release": []})), None);
        assert_eq!(newest_release(&json!([1])), None);
    }
}
