//! The helpers that build `/icd/release/11/{release}/{linearization}/...` from the client's
//! options: search, code info, autocoding, lookup.

use crate::error::{Error, Result};
use crate::http::transport::Method;
use crate::http::url::encode_component;
use crate::{Client, Reply};

impl Client {
    /// Searches the configured linearization and release (`.../search?q=`). A search that the
    /// API could not run still answers 200, with `"error": true` and `errorMessage` in the JSON.
    pub fn search(&self, query: &str) -> Result<Reply> {
        self.linearization_get("query", query, |q| format!("search?q={q}"))
    }

    /// Code information (`.../codeinfo/{code}`); `&` and `/` of postcoordinated codes survive.
    pub fn codeinfo(&self, code: &str) -> Result<Reply> {
        self.linearization_get("code", code, |c| format!("codeinfo/{c}"))
    }

    /// Automatic coding of a diagnostic text (`.../autocode?searchText=`).
    pub fn autocode(&self, text: &str) -> Result<Reply> {
        self.linearization_get("text", text, |t| format!("autocode?searchText={t}"))
    }

    /// The linearization entity of a Foundation URI (`.../lookup?foundationUri=`).
    pub fn lookup(&self, foundation_uri: &str) -> Result<Reply> {
        self.linearization_get("foundation_uri", foundation_uri, |u| format!("lookup?foundationUri={u}"))
    }

    /// GET `/icd/release/11/{release}/{linearization}/{tail}`, with `argument` percent-encoded.
    fn linearization_get(&self, name: &str, argument: &str, tail: impl FnOnce(&str) -> String) -> Result<Reply> {
        if argument.trim().is_empty() {
            return Err(Error::invalid_argument(format!("{name} is empty")));
        }
        let config = self.config();
        let path = format!(
            "/icd/release/11/{}/{}/{}",
            config.release,
            config.linearization,
            tail(&encode_component(argument))
        );
        let url = config.api_base.resolve(&path)?;
        self.execute(&config, Method::Get, url, None)
    }
}
