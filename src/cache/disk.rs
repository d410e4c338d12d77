//! `cache_dir`: answers about fixed releases (`/icd/release/11/{release}/...`,
//! `/icd/release/10/{release}/...`), whose content never changes, kept on disk so that repeated
//! runs answer without the network. One file per answer, named by the SHA-256 of its key and
//! written atomically, so several processes can share the directory; each file carries the hash
//! of its body, so a damaged entry is noticed, ignored and refetched. The directory is kept under
//! `cache_dir_max_bytes` by removing the entries used least recently.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use crate::digest::sha256_hex;

use crate::error::{Error, Result};

const MAGIC: &str = "icdapi-cache-v1";
/// Entry files are named `<sha256>.json`; the temporaries `<sha256>.tmp.<pid>.<n>`.
const ENTRY_SUFFIX: &str = ".json";
/// How old a temporary must be before it is taken for the leftover of a dead writer.
const STALE_TEMPORARY: std::time::Duration = std::time::Duration::from_secs(3600);

pub struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    /// What this process believes the directory holds; None until first measured. Other
    /// processes write too, so it is re-measured whenever it says the bound is passed.
    approximate_bytes: AtomicU64,
    measured: std::sync::Once,
}

/// Whether a URL names content of a fixed release, which may be kept without expiry.
pub fn is_fixed_release(url: &str) -> bool {
    let path = url.find("://").and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..])).unwrap_or("");
    let path = path.split('?').next().unwrap_or("");
    let release_id = |segment: &str, with_month: bool| {
        let (year, month) = segment.split_once('-').map_or((segment, None), |(y, m)| (y, Some(m)));
        year.len() == 4
            && year.bytes().all(|b| b.is_ascii_digit())
            && month.is_none_or(|m| with_month && m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()))
    };
    let mut segments = path.split('/').skip_while(|s| *s != "icd");
    match (segments.next(), segments.next(), segments.next(), segments.next(), segments.next()) {
        (Some("icd"), Some("release"), Some("11"), Some(release), Some(_)) => release_id(release, true),
        (Some("icd"), Some("release"), Some("10"), Some(release), Some(_)) => release_id(release, false),
        _ => false,
    }
}

impl DiskCache {
    pub fn open(dir: &Path, max_bytes: u64) -> Result<Arc<DiskCache>> {
        let mut builder = fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|e| Error::invalid_argument(format!("cache_dir {}: {e}", dir.display())))?;
        if !dir.is_dir() {
            return Err(Error::invalid_argument(format!("cache_dir {} is not a directory", dir.display())));
        }
        Ok(Arc::new(DiskCache {
            dir: dir.to_owned(),
            max_bytes,
            approximate_bytes: AtomicU64::new(0),
            measured: std::sync::Once::new(),
        }))
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{}{ENTRY_SUFFIX}", sha256_hex(key.as_bytes())))
    }

    /// The stored body for `key`, if there is one and it is intact.
    pub fn get(&self, key: &str) -> Option<String> {
        let path = self.entry_path(key);
        let bytes = fs::read(&path).ok()?;
        let text = String::from_utf8(bytes).ok();
        let body = text.as_deref().and_then(|text| parse_entry(text, key));
        match body {
            Some(body) => {
                // Mark it recently used, for eviction; failing to is harmless.
                let _ = fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(SystemTime::now()));
                Some(body.to_owned())
            }
            None => {
                let _ = fs::remove_file(&path); // damaged: refetched and rewritten
                None
            }
        }
    }

    /// Stores a body; errors (a full disk, a read-only directory) only cost the cache.
    pub fn put(&self, key: &str, body: &str) {
        let entry = format_entry(key, body);
        if entry.len() as u64 > self.max_bytes {
            return;
        }
        let path = self.entry_path(key);
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let temporary =
            path.with_extension(format!("tmp.{}.{}", std::process::id(), SEQUENCE.fetch_add(1, Ordering::Relaxed)));
        let written = (|| -> std::io::Result<()> {
            let mut options = OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(&temporary)?;
            file.write_all(entry.as_bytes())?;
            fs::rename(&temporary, &path)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
            return;
        }
        self.measured.call_once(|| self.approximate_bytes.store(self.measure(), Ordering::Relaxed));
        let total = self.approximate_bytes.fetch_add(entry.len() as u64, Ordering::Relaxed) + entry.len() as u64;
        if total > self.max_bytes {
            self.evict();
        }
    }

    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let Ok(listing) = fs::read_dir(&self.dir) else { return Vec::new() };
        listing
            .filter_map(|entry| {
                let entry = entry.ok()?;
                let meta = entry.metadata().ok()?;
                let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                // Ours are named by a SHA-256: files that are not ours are never counted or touched.
                let name = entry.file_name().to_string_lossy().into_owned();
                let (hash, rest) = name.split_at_checked(64)?;
                if !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                if rest != ENTRY_SUFFIX {
                    // A temporary left by a process that died mid-write: gone after an hour.
                    if rest.starts_with(".tmp.") && modified.elapsed().is_ok_and(|age| age > STALE_TEMPORARY) {
                        let _ = fs::remove_file(entry.path());
                    }
                    return None;
                }
                Some((entry.path(), meta.len(), modified))
            })
            .collect()
    }

    fn measure(&self) -> u64 {
        self.entries().iter().map(|(_, size, _)| size).sum()
    }

    /// Removes the least recently used entries until the directory holds at most 90% of the bound.
    fn evict(&self) {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        entries.sort_by_key(|(_, _, used)| *used);
        let target = self.max_bytes / 10 * 9;
        for (path, size, _) in entries {
            if total <= target {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total -= size;
            }
        }
        self.approximate_bytes.store(total, Ordering::Relaxed);
    }
}

/// The key as one line of the entry file (keys join URL, language and API version with '\n').
fn key_line(key: &str) -> String {
    key.replace('\n', " ")
}

/// The text of the entry file for `key`: a header (magic, SHA-256 and length of the body), the
/// key, the body.
pub fn format_entry(key: &str, body: &str) -> String {
    let hash = sha256_hex(body.as_bytes());
    format!("{MAGIC} {hash} {}\n{}\n{body}", body.len(), key_line(key))
}

/// The body of an entry file, if its header, key and hash all agree. The text is outside input:
/// other processes share the directory, and disks damage files.
pub fn parse_entry<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let (header, rest) = text.split_once('\n')?;
    let (stored_key, body) = rest.split_once('\n')?;
    let mut fields = header.split(' ');
    let (magic, hash, length) = (fields.next()?, fields.next()?, fields.next()?);
    let intact = magic == MAGIC
        && stored_key == key_line(key)
        && length.parse::<usize>().ok() == Some(body.len())
        && hash == sha256_hex(body.as_bytes());
    intact.then_some(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_releases_are_recognised() {
        for fixed in [
            "https://id.who.int/icd/release/11/2026-01/mms/257068234",
            "http://localhost:8080/api/icd/release/11/2024-01/mms/codeinfo/1A00?x=1",
            "https://id.who.int/icd/release/11/2018/mms/search?q=x",
            "https://id.who.int/icd/release/10/2019/A00",
        ] {
            assert!(is_fixed_release(fixed), "{fixed}");
        }
        for moving in [
            "https://id.who.int/icd/entity/257068234",
            "https://id.who.int/icd/release/11/mms",
            "https://id.who.int/icd/release/11/mms/257068234",
            "https://id.who.int/icd/release/10/A00",
            "https://id.who.int/icd/release/11/2026-01",
            "https://id.who.int/icd/release/10/2019-01/A00",
        ] {
            assert!(!is_fixed_release(moving), "{moving}");
        }
    }

    #[test]
    fn damaged_entries_are_ignored_and_removed() {
        let dir = std::env::temp_dir().join(format!("icdapi-disk-unit-{}", std::process::id()));
        let cache = DiskCache::open(&dir, 1 << 20).unwrap();
        cache.put("k", "{\"a\":1}");
        assert_eq!(cache.get("k").as_deref(), Some("{\"a\":1}"));
        let path = cache.entry_path("k");
        let text = fs::read_to_string(&path).unwrap().replace("\"a\":1", "\"a\":2");
        fs::write(&path, text).unwrap();
        assert_eq!(cache.get("k"), None);
        assert!(!path.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_directory_stays_under_its_bound() {
        let dir = std::env::temp_dir().join(format!("icdapi-disk-bound-{}", std::process::id()));
        let cache = DiskCache::open(&dir, 20_000).unwrap();
        let body = format!("\"{}\"", "x".repeat(1000));
        for i in 0..100 {
            cache.put(&format!("key{i}"), &body);
        }
        assert!(cache.measure() <= 20_000, "{}", cache.measure());
        assert!(cache.get("key99").is_some(), "the newest entries stay");
        assert!(cache.get("key0").is_none(), "the oldest went");
        fs::remove_dir_all(&dir).unwrap();
    }
}
