//! The helpers that build `/icd/release/11/{release}/{linearization}/...` from the client's
//! options: search, code info, autocoding, lookup — each also with caller's query parameters.

use crate::error::{Error, ErrorKind, Result};
use crate::http::transport::Method;
use crate::http::url::{encode_component, shorten};
use crate::icd::params::{self, Param};
use crate::{Client, Reply};

/// What a helper does, for its path and its messages.
struct Job<'a> {
    /// The argument's name in messages ("query", "code", ...).
    argument: &'a str,
    /// The request's name in messages ("search", "code info", ...).
    name: &'a str,
    /// A 2xx body with `"error": true` fails the call (`ErrorKind::Api`) rather than returning.
    reported_error_fails: bool,
}

impl Client {
    /// Searches the configured linearization and release (`.../search?q=`). A search the API
    /// could not run (200 with `"error": true`) is `ErrorKind::Api`, quoting its `errorMessage`.
    pub fn search(&self, query: &str) -> Result<Reply> {
        self.search_with(query, &[])
    }

    /// `search` with more query parameters after `q` (flatResults, highlightingEnabled, ...).
    pub fn search_with(&self, query: &str, params: &[Param<'_>]) -> Result<Reply> {
        let job = Job { argument: "query", name: "search", reported_error_fails: true };
        self.linearization_get(&job, query, |q| format!("search?q={q}"), params)
    }

    /// Code information (`.../codeinfo/{code}`); `&` and `/` of postcoordinated codes survive.
    pub fn codeinfo(&self, code: &str) -> Result<Reply> {
        self.codeinfo_with(code, &[])
    }

    /// `codeinfo` with query parameters (flexiblemode, convertToTerminalCodes, ...).
    pub fn codeinfo_with(&self, code: &str, params: &[Param<'_>]) -> Result<Reply> {
        let job = Job { argument: "code", name: "code info", reported_error_fails: false };
        self.linearization_get(&job, code, |c| format!("codeinfo/{c}"), params)
    }

    /// Automatic coding of a diagnostic text (`.../autocode?searchText=`); a body with
    /// `"error": true` is `ErrorKind::Api`.
    pub fn autocode(&self, text: &str) -> Result<Reply> {
        self.autocode_with(text, &[])
    }

    /// `autocode` with more query parameters after `searchText` (matchThreshold, ...).
    pub fn autocode_with(&self, text: &str, params: &[Param<'_>]) -> Result<Reply> {
        let job = Job { argument: "text", name: "autocode", reported_error_fails: true };
        self.linearization_get(&job, text, |t| format!("autocode?searchText={t}"), params)
    }

    /// The linearization entity of a Foundation URI (`.../lookup?foundationUri=`).
    pub fn lookup(&self, foundation_uri: &str) -> Result<Reply> {
        let job = Job { argument: "foundation_uri", name: "lookup", reported_error_fails: false };
        self.linearization_get(&job, foundation_uri, |u| format!("lookup?foundationUri={u}"), &[])
    }

    /// What the API knows of a code, a URI or a postcoordinated combination of them
    /// (`.../describe`): `uri=` for an argument starting with http:// or https://, else `code=`;
    /// `params` after it (simplify, flexiblemode, convertToTerminalCodes).
    pub fn describe_with(&self, code_or_uri: &str, params: &[Param<'_>]) -> Result<Reply> {
        let scheme = code_or_uri.trim_start().get(..8).unwrap_or_default().to_ascii_lowercase();
        let name = if scheme.starts_with("http://") || scheme == "https://" { "uri" } else { "code" };
        let job = Job { argument: "code_or_uri", name: "describe", reported_error_fails: false };
        self.linearization_get(&job, code_or_uri.trim(), |a| format!("describe?{name}={a}"), params)
    }

    /// GET `/icd/release/11/{release}/{linearization}/{tail}`, with `argument` percent-encoded
    /// and `params` appended. A 404 is explained when the API does not serve the release.
    fn linearization_get(
        &self,
        job: &Job<'_>,
        argument: &str,
        tail: impl FnOnce(&str) -> String,
        params: &[Param<'_>],
    ) -> Result<Reply> {
        if argument.trim().is_empty() {
            return Err(Error::invalid_argument(format!("{} is empty", job.argument)));
        }
        params::validate(params)?;
        let asked = self.snapshot();
        let state = self.release_resolved(&asked)?;
        let config = &state.config;
        let path = format!(
            "/icd/release/11/{}/{}/{}",
            config.release,
            config.linearization,
            tail(&encode_component(argument))
        );
        let mut url = config.api_base.resolve(&path)?;
        params::append_to_url(&mut url, params);
        let reply = self
            .execute(&state, Method::Get, url.clone(), None)
            .map_err(|error| self.explain_unserved_release(&state, error))
            .map_err(|error| crate::icd::latest::name_resolved_release(&asked.config, config, error))?;
        if job.reported_error_fails && reply.reports_error {
            return Err(reported_error(job.name, &url, &reply, self.secret()));
        }
        Ok(reply)
    }
}

/// `ErrorKind::Api` for a 2xx body with `"error": true`, quoting its `errorMessage`.
fn reported_error(job: &str, url: &str, reply: &Reply, secret: &str) -> Error {
    let said = crate::json::error_message(&reply.body).map_or_else(
        || "without an errorMessage".to_owned(),
        |m| format!("\"{}\"", shorten(&crate::text::redact(&m, &[secret]), 300)),
    );
    Error::new(
        ErrorKind::Api,
        format!(
            "GET {url}: the API answered {} but could not do the {job} (\"error\": true): {said}",
            reply.http_status
        ),
    )
    .with_http_status(reply.http_status)
}
