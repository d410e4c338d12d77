//! The check of every 2xx body: it must be JSON, and it may say that the API could not do the
//! job (`"error": true`, as searches and autocodes answer with 200).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::MAX_DEPTH;

/// What the check found out about a valid JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BodyShape {
    /// The body is an object whose member "error" is `true`.
    pub reports_error: bool,
}

/// Validates `text` as JSON and tells its shape. Arrays and objects nested deeper than
/// `MAX_DEPTH` are refused, as `Document::parse` refuses them.
///
/// Every 2xx body goes through here, so it is built for speed (about a quarter of a kept-alive
/// request's instructions went to it): serde_json validates the text with its own skipping loop
/// (`IgnoredAny`, which also has no recursion to overflow the stack), and the nesting is measured
/// only when it could exceed the limit at all — a text with at most `MAX_DEPTH` brackets cannot,
/// and WHO's answers have a few dozen. Going through `deserialize_any` for every value instead,
/// so that serde_json counts the nesting itself, cost 18% more instructions per body.
pub fn inspect(text: &str) -> serde_json::Result<BodyShape> {
    let shape = serde_json::from_str::<Shape>(text)?;
    if may_nest_beyond(text.as_bytes(), MAX_DEPTH) {
        if let Some(offset) = beyond_depth(text.as_bytes(), MAX_DEPTH) {
            return Err(de::Error::custom(format_args!(
                "recursion limit exceeded at byte {offset}: arrays and objects nested more than {MAX_DEPTH} deep"
            )));
        }
    }
    Ok(BodyShape { reports_error: shape.0 })
}

/// Whether the text holds more than `limit` of `[` and `{`, strings included: else it cannot
/// nest deeper than `limit`. (memchr finds them 16 or 32 bytes at a time.)
fn may_nest_beyond(text: &[u8], limit: usize) -> bool {
    memchr::memchr2_iter(b'[', b'{', text).nth(limit).is_some()
}

/// Where a text that serde_json has found to be JSON opens its `limit + 1`th nested array or
/// object, if it does. Valid JSON makes this simple: a string starts and ends at an unescaped
/// `"`, and brackets outside strings nest properly.
fn beyond_depth(json: &[u8], limit: usize) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for (offset, &byte) in json.iter().enumerate() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > limit {
                    return Some(offset);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// The `errorMessage` of a body that reports an error, if it has a string one.
pub fn error_message(text: &str) -> Option<String> {
    match serde_json::from_str::<Value>(text).ok()? {
        Value::Object(mut members) => match members.remove("errorMessage")? {
            Value::String(message) => Some(message),
            _ => None,
        },
        _ => None,
    }
}

/// Any JSON value; true when it is an object with `"error": true`.
struct Shape(bool);

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Shape, D::Error> {
        deserializer.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut reports_error = false;
        while let Some(key) = map.next_key::<Key>()? {
            if key.0 {
                reports_error = map.next_value::<Value>()? == Value::Bool(true);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Shape(reports_error))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Shape(false))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape(false))
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape(false))
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape(false))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape(false))
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape(false))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Shape, E> {
        Ok(Shape(false))
    }
}

/// A member name; true when it is "error" (escaped or not), without allocating.
struct Key(bool);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
                Ok(Key(name == "error"))
            }
        }
        deserializer.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_that_report_an_error() {
        let reports = |text: &str| inspect(text).unwrap().reports_error;
        assert!(reports(r#"{"destinationEntities":null,"error":true,"errorMessage":"boom"}"#));
        assert!(reports(r#"{"\u0065rror" : true}"#));
        for fine in [
            r#"{"error":false}"#,
            r#"{"error":"true"}"#,
            r#"{"error":null,"x":[{"error":true}]}"#,
            r#"[{"error":true}]"#,
            r#""error""#,
            "1.5",
            "null",
            r#"{"errors":true}"#,
        ] {
            assert!(!reports(fine), "{fine}");
        }
        for bad in ["", "{", "{\"error\":true", "[1,]", "nul", "{\"a\":1}x"] {
            assert!(inspect(bad).is_err(), "{bad}");
        }
        assert_eq!(
            error_message(r#"{"error":true,"errorMessage":"The search text (q) is empty."}"#).as_deref(),
            Some("The search text (q) is empty.")
        );
        assert_eq!(error_message(r#"{"error":true,"errorMessage":null}"#), None);
    }

    /// Arrays and objects `depth` deep, around a member "error": true.
    fn nested(depth: usize) -> String {
        let inner = r#"{"error":true}"#;
        let (open, close): (String, String) =
            (0..depth - 1).map(|i| if i % 2 == 0 { ("[", "]") } else { (r#"{"a":"#, "}") }).unzip();
        format!("{open}{inner}{}", close.chars().rev().collect::<String>())
    }

    #[test]
    fn one_nesting_limit_for_bodies_and_documents() {
        let at_limit = nested(crate::json::MAX_DEPTH);
        assert!(inspect(&at_limit).is_ok());
        assert!(crate::json::Document::parse(&at_limit).is_ok());
        let beyond = nested(crate::json::MAX_DEPTH + 1);
        let error = inspect(&beyond).unwrap_err();
        assert!(error.to_string().contains("recursion limit"), "{error}");
        assert!(crate::json::Document::parse(&beyond).is_err());
        // Deep and flat members are skipped alike; the top level is still read.
        assert!(inspect(&format!(r#"{{"x":{},"error":true}}"#, nested(100))).unwrap().reports_error);
    }

    #[test]
    fn brackets_in_strings_do_not_count_as_nesting() {
        // More brackets than the limit, all inside strings (escaped quotes and backslashes
        // around them): shallow, so accepted, and the top level is still read.
        let many = "[{".repeat(MAX_DEPTH);
        let text = format!(r#"{{"a":"{many}\"{many}\\","b":["\\\"{many}"],"error":true}}"#);
        assert!(inspect(&text).unwrap().reports_error, "{text}");
        // The same brackets around a value that nests too deep: refused where it goes too deep.
        let deep = format!(r#"{{"a":"{many}","b":{}}}"#, nested(MAX_DEPTH));
        let error = inspect(&deep).unwrap_err().to_string();
        assert!(error.starts_with("recursion limit exceeded at byte "), "{error}");
        assert!(inspect(&format!(r#"{{"a":"{many}","b":{}}}"#, nested(MAX_DEPTH - 1))).is_ok());
        // Invalid JSON is refused as such, however deep.
        assert!(!inspect(&"[".repeat(1000)).unwrap_err().to_string().contains("recursion"));
    }

    proptest::proptest! {
        /// The nesting of a body is judged as serde_json judges a document's (`Document::parse`):
        /// arrays and objects nested around strings full of brackets, quotes and backslashes.
        #[test]
        fn the_nesting_limit_agrees_with_serde_json(
            levels in proptest::collection::vec((proptest::bool::ANY, "[\\[\\]{}\"\\\\a]{0,6}"), 90..170),
        ) {
            let (mut open, mut close) = (String::new(), String::new());
            for (array, filler) in &levels {
                let string = serde_json::to_string(filler).unwrap();
                if *array {
                    open += &format!("[{string},");
                    close.insert(0, ']');
                } else {
                    open += &format!("{{{string}:");
                    close.insert(0, '}');
                }
            }
            let text = format!("{open}1{close}");
            let as_document = crate::json::Document::parse(&text).is_ok();
            proptest::prop_assert_eq!(as_document, levels.len() <= MAX_DEPTH);
            proptest::prop_assert_eq!(inspect(&text).is_ok(), as_document, "{}", text);
        }
    }
}
