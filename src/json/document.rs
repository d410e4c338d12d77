//! A parsed JSON document, read with JSON Pointers.

use serde_json::Value;

use super::pointer::{lookup, Pointer};
use crate::error::{Error, ErrorKind, Result};

/// An immutable parsed JSON value.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    root: Value,
}

impl Document {
    /// Parses `text`; not JSON is `ErrorKind::Parse`, with the line and column where it fails.
    pub fn parse(text: &str) -> Result<Document> {
        serde_json::from_str(text)
            .map(|root| Document { root })
            .map_err(|e| Error::new(ErrorKind::Parse, format!("the text is not valid JSON: {e}")))
    }

    pub fn root(&self) -> &Value {
        &self.root
    }

    /// The value at `pointer`: Ok(None) when it names nothing, an error when it is malformed.
    pub fn at(&self, pointer: &str) -> Result<Option<&Value>> {
        Ok(lookup(&self.root, Pointer::parse(pointer)?))
    }

    /// The text at `pointer` (a string, or a JSON-LD `{"@value": "..."}`), see [`text_of`].
    pub fn text(&self, pointer: &str) -> Result<Option<&str>> {
        Ok(self.at(pointer)?.and_then(text_of))
    }
}

/// A string, or a JSON-LD language-tagged value (an object whose "@value" is a string, as every
/// title of the API is: `{"@language": "en", "@value": "Cholera"}`), as text.
pub fn text_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(text) => Some(text),
        Value::Object(members) => members.get("@value").and_then(Value::as_str),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_text_and_escapes_are_undone() {
        let doc =
            Document::parse(r#"{"title":{"@language":"fr","@value":"Chol\u00e9ra"},"n":[1.5,true,null]}"#).unwrap();
        assert_eq!(doc.text("/title").unwrap(), Some("Choléra"));
        assert_eq!(doc.text("/title/@value").unwrap(), Some("Choléra"));
        assert_eq!(doc.text("/n/0").unwrap(), None);
        assert_eq!(doc.at("/n/0").unwrap().and_then(Value::as_f64), Some(1.5));
        assert!(doc.at("n").is_err());
        let error = Document::parse("{\"a\":\n  tru}").unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Parse);
        assert!(error.message().contains("line 2"), "{}", error.message());
    }
}
