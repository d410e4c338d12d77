//! RFC 6901 JSON Pointers: `""` is the whole document, `/a/0/b` walks members and array
//! elements, `~1` stands for `/` and `~0` for `~` inside a token.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::http::url::shorten;

/// A checked pointer: it starts with '/' (or is empty) and every '~' is followed by '0' or '1'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pointer<'a>(&'a str);

impl<'a> Pointer<'a> {
    /// Checks `text`; a malformed pointer is `ErrorKind::InvalidArgument` saying what is wrong.
    pub fn parse(text: &'a str) -> Result<Pointer<'a>> {
        let bad = |why: &str| {
            Error::invalid_argument(format!("JSON Pointer \"{}\" is malformed: {why} (RFC 6901)", shorten(text, 80)))
        };
        if !text.is_empty() && !text.starts_with('/') {
            return Err(bad("it must be empty (the whole document) or start with '/'"));
        }
        let bytes = text.as_bytes();
        for (at, _) in text.match_indices('~') {
            if !matches!(bytes.get(at + 1), Some(b'0' | b'1')) {
                return Err(bad("'~' must be followed by 0 or 1 (~0 is '~', ~1 is '/')"));
            }
        }
        Ok(Pointer(text))
    }

    /// The reference tokens, unescaped (`~1` → `/`, then `~0` → `~`).
    pub fn tokens(self) -> impl Iterator<Item = Cow<'a, str>> {
        let tail = self.0.strip_prefix('/');
        tail.into_iter().flat_map(|tail| tail.split('/')).map(|token| {
            if token.contains('~') {
                Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
            } else {
                Cow::Borrowed(token)
            }
        })
    }
}

/// An array index as RFC 6901 writes it: "0", or digits without a leading zero. "-" (the element
/// after the last) and anything else name no element.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// The value `pointer` names in `root`, or None when it names nothing.
pub fn lookup<'v>(root: &'v Value, pointer: Pointer<'_>) -> Option<&'v Value> {
    pointer.tokens().try_fold(root, |value, token| match value {
        Value::Object(members) => members.get(token.as_ref()),
        Value::Array(elements) => array_index(&token).and_then(|i| elements.get(i)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at<'v>(root: &'v Value, pointer: &str) -> Option<&'v Value> {
        lookup(root, Pointer::parse(pointer).unwrap())
    }

    #[test]
    fn rfc_6901_examples() {
        // The document and the expectations of RFC 6901, section 5.
        let doc = json!({"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4,
                         "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8});
        assert_eq!(at(&doc, ""), Some(&doc));
        assert_eq!(at(&doc, "/foo"), Some(&json!(["bar", "baz"])));
        assert_eq!(at(&doc, "/foo/0"), Some(&json!("bar")));
        for (pointer, expected) in [
            ("/", 0),
            ("/a~1b", 1),
            ("/c%d", 2),
            ("/e^f", 3),
            ("/g|h", 4),
            ("/i\\j", 5),
            ("/k\"l", 6),
            ("/ ", 7),
            ("/m~0n", 8),
        ] {
            assert_eq!(at(&doc, pointer), Some(&json!(expected)), "{pointer}");
        }
    }

    #[test]
    fn what_names_nothing() {
        let doc = json!({"a": [10, 20], "~1": "tilde-one"});
        for missing in ["/a/01", "/a/-", "/a/2", "/a/+1", "/a/ 1", "/a/1/x", "/b", "/a/99999999999999999999999"] {
            assert_eq!(at(&doc, missing), None, "{missing}");
        }
        assert_eq!(at(&doc, "/~01"), Some(&json!("tilde-one")), "~01 is ~1, not /");
    }

    #[test]
    fn malformed_pointers_are_refused() {
        for bad in ["a", "#/a", "/a~", "/a~2", "/~x", "~0"] {
            let error = Pointer::parse(bad).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::InvalidArgument, "{bad}");
        }
    }
}
