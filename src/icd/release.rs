//! A release the API does not serve: a helper's 404 explained. A local deployment often holds
//! one release only (`include=2024-01_en`), and then answers every helper built for the default
//! release with a bare 404; the API's list of releases (`GET /icd/release/11/{linearization}`)
//! tells whether that is why.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;

use crate::client::State;
use crate::error::{Error, ErrorKind, Result};
use crate::http::transport::Method;
use crate::Client;

/// (the asking client's id, api_base, linearization, release): what one question is about. Each
/// client asks for itself (another client may talk to a changed API), once.
type Question = (u64, String, String, String);
/// When it was asked, and the releases the API listed (None when asking failed). Filled once.
type Answer = Arc<OnceLock<(Instant, Option<Vec<String>>)>>;

/// How long an answer (or a failure to get one) stands before the question is asked again: a
/// long-running process sees a release added, or an API that came back, within this time.
const ANSWER_LIFETIME: Duration = Duration::from_secs(600);

/// The releases served, per question: asked at most once each (kept here, not in `Client`; a
/// dropped client's answers go when they expire).
static ASKED: LazyLock<Mutex<HashMap<Question, Answer>>> = LazyLock::new(Default::default);

impl Client {
    /// A helper's 404 as it was, or — when the API's list of releases does not hold the
    /// configured one — an error that says so and names the releases it serves.
    pub(crate) fn explain_unserved_release(&self, state: &Arc<State>, error: Error) -> Error {
        if error.kind() != ErrorKind::Http || error.http_status() != 404 {
            return error;
        }
        let config = &state.config;
        let base = config.api_base.as_url();
        let key = (self.id(), base.clone(), config.linearization.clone(), config.release.clone());
        let cell = {
            let mut asked = ASKED.lock();
            let now = Instant::now();
            asked.retain(|_, answer| answer.get().is_none_or(|(at, _)| now.duration_since(*at) < ANSWER_LIFETIME));
            asked.entry(key).or_default().clone()
        };
        // One thread asks; others arriving meanwhile wait for its answer rather than ask again.
        // The answer is kept for every call that asks after: not cancelled with the call of
        // icd_start that happens to ask (crate::calls::shared_work).
        let (_, served) =
            cell.get_or_init(|| (Instant::now(), crate::calls::shared_work(|| self.releases_served(state)).ok()));
        match served {
            Some(served) if !served.contains(&config.release) => Error::new(
                ErrorKind::Http,
                format!(
                    "release \"{}\" is not served by {base} (it serves {}): set the release option",
                    config.release,
                    if served.is_empty() { "none".to_owned() } else { served.join(", ") }
                ),
            )
            .with_http_status(404),
            _ => error,
        }
    }

    /// The release ids in the `release` URIs of `GET /icd/release/11/{linearization}`.
    fn releases_served(&self, state: &Arc<State>) -> Result<Vec<String>> {
        let config = &state.config;
        let url = config.api_base.resolve(&format!("/icd/release/11/{}", config.linearization))?;
        let reply = self.execute(state, Method::Get, url, None)?;
        let list: Value = serde_json::from_str(&reply.body).map_err(|e| Error::new(ErrorKind::Parse, e.to_string()))?;
        let uris = list
            .get("release")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::new(ErrorKind::Parse, "the list of releases has no \"release\" array"))?;
        Ok(uris.iter().filter_map(Value::as_str).filter_map(release_of).map(str::to_owned).collect())
    }
}

/// "2024-01" of "http://id.who.int/icd/release/11/2024-01/mms".
pub(crate) fn release_of(uri: &str) -> Option<&str> {
    let (_, after) = uri.split_once("/release/11/")?;
    after.split(['/', '?']).next().filter(|release| !release.is_empty())
}

#[cfg(test)]
mod tests {
    #[test]
    fn release_ids_come_from_the_uris() {
        assert_eq!(super::release_of("http://id.who.int/icd/release/11/2024-01/mms"), Some("2024-01"));
        assert_eq!(super::release_of("http://id.who.int/icd/release/11/2018"), Some("2018"));
        assert_eq!(super::release_of("http://id.who.int/icd/release/10/2019"), None);
    }
}
