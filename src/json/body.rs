//! The check of every 2xx body: it must be JSON, and it may say that the API could not do the
//! job (`"error": true`, as searches and autocodes answer with 200).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// What the check found out about a valid JSON body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BodyShape {
    /// The body is an object whose member "error" is `true`.
    pub reports_error: bool,
}

/// Validates `text` as JSON in one pass (as fast as skipping it) and tells its shape. Arrays and
/// objects nested deeper than `MAX_DEPTH` are refused, as `Document::parse` refuses them.
pub fn inspect(text: &str) -> serde_json::Result<BodyShape> {
    serde_json::from_str::<Shape>(text).map(|shape| BodyShape { reports_error: shape.0 })
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
                map.next_value::<Skip>()?;
            }
        }
        Ok(Shape(reports_error))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
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

/// Any JSON value, skipped. Unlike serde's `IgnoredAny` (which serde_json skips with a loop of
/// its own, at any depth), it goes through `deserialize_any`, where serde_json counts the
/// nesting against its limit (`MAX_DEPTH`).
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Skip, D::Error> {
        deserializer.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skip;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        while map.next_entry::<Skip, Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
        Ok(Skip)
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
}
