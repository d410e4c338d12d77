//! From a code to its entity, and ICD-10.

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::http::transport::Method;
use crate::http::url::{encode_component, shorten};
use crate::{Client, Reply};

impl Client {
    /// The linearization entity of a code, in the client's language and release: its code info,
    /// then the `stemId` given there followed (rewritten to `api_base` like any `@id`). A
    /// postcoordinated code ("1A00&XN6Y3") gives the entity of its stem. An unknown code is
    /// `ErrorKind::Http` 404; a code info without a `stemId` is `ErrorKind::Parse`.
    pub fn entity_by_code(&self, code: &str) -> Result<Reply> {
        let info = self.codeinfo(code)?;
        let stem = match serde_json::from_str::<Value>(&info.body) {
            Ok(Value::Object(mut members)) => match members.remove("stemId") {
                Some(Value::String(stem)) if !stem.is_empty() => Some(stem),
                _ => None,
            },
            _ => None,
        };
        let stem = stem.ok_or_else(|| {
            Error::new(
                ErrorKind::Parse,
                format!(
                    "the code info of \"{}\" has no stemId to follow: {}",
                    shorten(code, 60),
                    crate::error::quote_body(info.body.as_bytes(), &[self.secret()])
                ),
            )
            .with_http_status(info.http_status)
        })?;
        self.get(&stem)
    }

    /// ICD-10: `/icd/release/10/{icd10_release}/{code}`, a category ("A00.0"), a block
    /// ("A00-A09") or a chapter ("I"), `code` percent-encoded.
    pub fn icd10(&self, code: &str) -> Result<Reply> {
        if code.trim().is_empty() {
            return Err(Error::invalid_argument("code is empty"));
        }
        let state = self.snapshot();
        let config = &state.config;
        let path = format!("/icd/release/10/{}/{}", encode_component(&config.icd10_release), encode_component(code));
        let url = config.api_base.resolve(&path)?;
        self.execute(&state, Method::Get, url, None)
    }
}
