//! The hierarchy with titles in one call: an entity's parents, children and ancestors as one JSON
//! array of `{"uri", "code", "title", "classKind"}` that the library builds, in the client's
//! language. The entities' details come through `get_many` (concurrently, and cached like any
//! answer); ancestors are walked level by level — one batch per level — because ICD-11 is a DAG:
//! an entity may have several parents, and an ancestor reached twice is listed once, at its
//! nearest level.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::http::url::shorten;
use crate::json::text_of;
use crate::{Client, Reply};

/// More levels than any classification has: a guard against a server that answers a cycle
/// with ever new URIs.
const MAX_LEVELS: usize = 64;

/// What the hierarchy functions read of an entity.
struct Entity {
    uri: String,
    code: String,
    title: String,
    class_kind: String,
    parents: Vec<String>,
    children: Vec<String>,
}

impl Entity {
    fn parse(body: &str, fetched: &str) -> Result<Entity> {
        let value: Value = serde_json::from_str(body)
            .map_err(|e| Error::new(ErrorKind::Parse, format!("the entity at {fetched} is not JSON: {e}")))?;
        let text = |name: &str| value.get(name).and_then(text_of).unwrap_or_default().to_owned();
        let uris = |name: &str| -> Vec<String> {
            let listed = value.get(name).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            listed.iter().filter_map(Value::as_str).filter(|uri| !is_top_level(uri)).map(str::to_owned).collect()
        };
        let uri = value.get("@id").and_then(Value::as_str).map_or_else(|| fetched.to_owned(), str::to_owned);
        Ok(Entity {
            uri,
            code: text("code"),
            title: text("title"),
            class_kind: text("classKind"),
            parents: uris("parent"),
            children: uris("child"),
        })
    }

    /// `{"uri", "code", "title", "classKind"}`, in that order (the contract's), onto `out`.
    fn write_summary(&self, out: &mut Vec<u8>) {
        let members =
            [("uri", &self.uri), ("code", &self.code), ("title", &self.title), ("classKind", &self.class_kind)];
        for (at, (name, value)) in members.into_iter().enumerate() {
            out.extend_from_slice(if at == 0 { b"{" } else { b"," });
            // Writing into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, name);
            out.push(b':');
            let _ = serde_json::to_writer(&mut *out, value);
        }
        out.push(b'}');
    }
}

/// The top of a classification — `/icd/entity` (the Foundation) or
/// `/icd/release/11/{release}/{linearization}` — which is the parent of the chapters but no
/// entity itself: never listed.
fn is_top_level(uri: &str) -> bool {
    let path = uri.split_once("://").map_or(uri, |(_, rest)| rest.find('/').map_or("", |at| &rest[at..]));
    let segments: Vec<&str> = path.split('?').next().unwrap_or_default().trim_end_matches('/').split('/').collect();
    matches!(segments.as_slice(), ["", "icd", "entity"] | ["", "icd", "release", "11", _, _])
}

impl Client {
    /// The parents of an entity (a code, or a URI as `get` takes it), with their titles.
    pub fn parents(&self, code_or_uri: &str) -> Result<Reply> {
        let entity = self.hierarchy_entity(code_or_uri)?;
        summaries(&self.entities(&entity.parents)?)
    }

    /// The children of an entity, in the API's order, with their titles.
    pub fn children(&self, code_or_uri: &str) -> Result<Reply> {
        let entity = self.hierarchy_entity(code_or_uri)?;
        summaries(&self.entities(&entity.children)?)
    }

    /// The parents of an entity, their parents, and so on up to the chapter: nearest first,
    /// each once. One batch of requests per level.
    pub fn ancestors(&self, code_or_uri: &str) -> Result<Reply> {
        let entity = self.hierarchy_entity(code_or_uri)?;
        let mut seen: HashSet<String> = HashSet::from([entity.uri.clone()]);
        let mut level = unseen(&entity.parents, &mut seen);
        let mut found = Vec::new();
        for _ in 0..MAX_LEVELS {
            if level.is_empty() {
                break;
            }
            let entities = self.entities(&level)?;
            let mut next = Vec::new();
            for ancestor in entities.iter().filter(|e| e.class_kind != "chapter") {
                next.extend(unseen(&ancestor.parents, &mut seen));
            }
            found.extend(entities);
            level = next;
        }
        summaries(&found)
    }

    /// The entity a hierarchy function starts from: a URI or path fetched as it is, or a code
    /// through its code info (a postcoordinated code gives its stem).
    fn hierarchy_entity(&self, code_or_uri: &str) -> Result<Entity> {
        let argument = code_or_uri.trim();
        if argument.is_empty() {
            return Err(Error::invalid_argument("code_or_uri is empty"));
        }
        let lower = argument.get(..8).unwrap_or(argument).to_ascii_lowercase();
        let reply = if argument.starts_with('/') || lower.starts_with("http://") || lower.starts_with("https://") {
            self.get(argument)?
        } else {
            self.entity_by_code(argument)?
        };
        Entity::parse(&reply.body, argument)
    }

    /// The entities at these URIs, fetched concurrently, in the same order.
    fn entities(&self, uris: &[String]) -> Result<Vec<Entity>> {
        let targets: Vec<&str> = uris.iter().map(String::as_str).collect();
        let replies = self.get_many(&targets);
        uris.iter()
            .zip(replies)
            .map(|(uri, reply)| match reply {
                Ok(reply) => Entity::parse(&reply.body, uri),
                Err(error) => Err(error.with_note(&format!(" (while fetching {})", shorten(uri, 200)))),
            })
            .collect()
    }
}

/// The URIs not seen yet, in order, each once; they are marked seen.
fn unseen(uris: &[String], seen: &mut HashSet<String>) -> Vec<String> {
    uris.iter().filter(|uri| seen.insert((*uri).clone())).cloned().collect()
}

fn summaries(entities: &[Entity]) -> Result<Reply> {
    let mut out = b"[".to_vec();
    for (at, entity) in entities.iter().enumerate() {
        if at > 0 {
            out.push(b',');
        }
        entity.write_summary(&mut out);
    }
    out.push(b']');
    let body = String::from_utf8(out).map_err(|_| Error::new(ErrorKind::Internal, "a summary is not UTF-8"))?;
    Ok(Reply { body: body.into(), http_status: 200, reports_error: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_of_a_classification_is_no_entity() {
        for top in [
            "http://id.who.int/icd/release/11/2026-01/mms",
            "http://id.who.int/icd/release/11/2026-01/mms/",
            "http://id.who.int/icd/entity",
            "/icd/release/11/2024-01/icf",
        ] {
            assert!(is_top_level(top), "{top}");
        }
        for entity in [
            "http://id.who.int/icd/release/11/2026-01/mms/1435254666",
            "http://id.who.int/icd/entity/1435254666",
            "http://id.who.int/icd/release/11/2026-01/mms/1435254666/other",
            "http://id.who.int/icd/release/11/mms",
        ] {
            assert!(!is_top_level(entity), "{entity}");
        }
    }

    #[test]
    fn an_entity_is_read_with_its_language_tagged_title() {
        let body = r#"{"@id":"http://id.who.int/icd/release/11/2026-01/mms/1","code":"1A00",
            "title":{"@language":"fr","@value":"Choléra"},"classKind":"category",
            "parent":["http://id.who.int/icd/release/11/2026-01/mms/2","http://id.who.int/icd/release/11/2026-01/mms"]}"#;
        let entity = Entity::parse(body, "x").unwrap();
        let summary = summaries(std::slice::from_ref(&entity)).unwrap();
        assert_eq!(
            &*summary.body,
            r#"[{"uri":"http://id.who.int/icd/release/11/2026-01/mms/1","code":"1A00","title":"Choléra","classKind":"category"}]"#,
            "the members in the contract's order"
        );
        assert_eq!(entity.parents, ["http://id.who.int/icd/release/11/2026-01/mms/2"]);
        assert!(entity.children.is_empty());
        assert_eq!(Entity::parse("<html>", "/x").err().unwrap().kind(), ErrorKind::Parse);
    }
}
