//! The token file (`token_cache_file`), which other processes write: its parser with any text,
//! and what the writer produces read back. Input, as lines: the key, the token the API refused
//! ("" for none), now (seconds since 1970), a lifetime in seconds, then the file's text (also
//! the token written for the round trip).
//!
//! Proves: nothing panics; a token is handed out only if the file is for this key, not the token
//! the API just refused, has at least 10 s left, and can stand in an Authorization header; any
//! token the endpoint issued is read back exactly as written, with its lifetime, and only by the
//! same key.
#![no_main]

use std::time::Duration;

use icdapi::fuzzing::{parse_token_file, token_file_text, TokenFileContents::*};
use libfuzzer_sys::fuzz_target;

fn usable(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let mut lines = input.splitn(5, '\n');
    let mut next = || lines.next().unwrap_or("");
    let (key, rejected, now, lifetime, text) = (next(), next(), next(), next(), next());
    let rejected = (!rejected.is_empty()).then_some(rejected);
    let now = now.parse::<u64>().unwrap_or(0);
    let lifetime = Duration::from_secs(lifetime.parse::<u32>().unwrap_or(0).into());

    if let Usable(token, left) = parse_token_file(text, key, rejected, now) {
        assert!(left >= Duration::from_secs(10), "{text:?}: {left:?} left");
        assert!(usable(&token), "{text:?}: the token {token:?} cannot stand in a header");
        assert_ne!(Some(token.as_str()), rejected, "{text:?}: the refused token came back");
    }
    // What this library writes, it reads back (a token as the endpoint's parser accepts it).
    if usable(text) {
        let written = token_file_text(key, text, lifetime, now);
        let read = parse_token_file(&written, key, None, now);
        if lifetime < Duration::from_secs(10) {
            assert_eq!(read, NotUsable, "{written:?}: a token about to expire was handed out");
        } else if now.checked_add(lifetime.as_secs()).is_some() {
            assert_eq!(read, Usable(text.to_owned(), lifetime), "{written:?}");
        } else {
            assert_ne!(read, Damaged, "{written:?}: our own file does not parse");
        }
        let other_key = format!("{key}x");
        assert_eq!(parse_token_file(&written, &other_key, None, now), NotUsable, "another key's token");
        assert_eq!(parse_token_file(&written, key, Some(text), now), NotUsable, "the refused token");
    }
});
