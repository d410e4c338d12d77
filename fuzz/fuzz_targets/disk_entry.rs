//! Entries of the disk cache (`cache_dir`), which other processes write and disks damage: the
//! parser with any text, and what the writer produces read back. Input, as lines: the URL, the
//! language and the API version of the key, a byte offset, then the entry file's text (also the
//! body written for the round trip).
//!
//! Proves: nothing panics; an entry is believed only for its own key; what is written is read
//! back exactly; a body changed in one bit is refused (the SHA-256 in the header); any URL may
//! be asked whether it names a fixed release.
#![no_main]

use icdapi::fuzzing::{disk_entry_text, is_fixed_release, parse_disk_entry};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else { return };
    let mut lines = input.splitn(5, '\n');
    let mut next = || lines.next().unwrap_or("");
    let (url, language, version, offset, text) = (next(), next(), next(), next(), next());
    // The key as the client builds it: URL, Accept-Language and API-Version, one per line.
    let key = format!("{url}\n{language}\n{version}");
    let offset = offset.parse::<usize>().unwrap_or(0);

    if let Some(found) = parse_disk_entry(text, &key) {
        assert!(text.ends_with(found), "{text:?}: the body is not the file's end");
    }
    let body = text;
    let written = disk_entry_text(&key, body);
    assert_eq!(parse_disk_entry(&written, &key), Some(body), "{written:?}");
    let other = format!("{url}/other\n{language}\n{version}");
    assert_eq!(parse_disk_entry(&written, &other), None, "{written:?} read for {other:?}");
    if !body.is_empty() {
        let mut damaged = written.clone().into_bytes();
        let at = damaged.len() - body.len() + offset % body.len();
        damaged[at] ^= 0x01;
        if let Ok(damaged) = String::from_utf8(damaged) {
            assert_eq!(parse_disk_entry(&damaged, &key), None, "a damaged body was believed: {damaged:?}");
        }
    }
    let _ = is_fixed_release(url);
});
