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
    /// What this process believes the directory holds; measured at its first `put`. Other
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
        // Every write would fail silently later (the cache only costs when it fails): say it
        // now, while the option is set. A file of our own is made and removed.
        static PROBES: AtomicU64 = AtomicU64::new(0);
        let probe =
            dir.join(format!(".icdapi-probe-{}-{}", std::process::id(), PROBES.fetch_add(1, Ordering::Relaxed)));
        match OpenOptions::new().write(true).create_new(true).open(&probe).and_then(|mut file| file.write_all(b"x")) {
            Ok(()) => {
                let _ = fs::remove_file(&probe);
            }
            Err(e) => {
                let _ = fs::remove_file(&probe);
                return Err(Error::invalid_argument(format!(
                    "cache_dir {} is not a directory this process can write to ({}): choose another, \
                     or \"\" for no disk cache",
                    dir.display(),
                    e
                )));
            }
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
        // What the directory held before this entry, measured once per process (entries of earlier
        // runs and other processes count too); measured after the write, the entry would count twice.
        self.measured.call_once(|| self.approximate_bytes.store(self.measure(), Ordering::Relaxed));
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
        if self.count_written(entry.len() as u64) {
            self.evict();
        }
    }

    /// Adds a written entry to the running total; true when the total says the bound is passed,
    /// and the directory should be measured again (and trimmed if it really is over).
    fn count_written(&self, bytes: u64) -> bool {
        self.approximate_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes > self.max_bytes
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

    /// Called when the running total says the bound is passed: re-measures the directory and, if
    /// it really is over its bound, removes the least recently used entries until it holds at most
    /// 90% of it. The running total can be high (an entry stored again, entries removed by other
    /// processes): entries that fit are never removed for it.
    fn evict(&self) {
        let mut entries = self.entries();
        let mut total: u64 = entries.iter().map(|(_, size, _)| size).sum();
        if total > self.max_bytes {
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
    use crate::testing::Scratch;

    #[test]
    fn fixed_releases_are_recognised() {
        for fixed in [
            "https://id.who.int/icd/release/11/2026-01/mms/257068234",
            "http://localhost:8080/api/icd/release/11/2024-01/mms/codeinfo/1A00?x=1",
            "https://id.who.int/icd/release/11/2018/mms/search?q=x",
            "https://id.who.int/icd/release/10/2019/A00",
            // Local deployments reached by a short host name (a Docker service, say).
            "https://x/icd/release/11/2024-01/mms",
            "http://icd/icd/release/11/2024-01/mms/1435254666",
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
        let scratch = Scratch::new("disk-damaged");
        let cache = DiskCache::open(&scratch.0, 1 << 20).unwrap();
        cache.put("k", "{\"a\":1}");
        assert_eq!(cache.get("k").as_deref(), Some("{\"a\":1}"));
        let path = cache.entry_path("k");
        let text = fs::read_to_string(&path).unwrap().replace("\"a\":1", "\"a\":2");
        fs::write(&path, text).unwrap();
        assert_eq!(cache.get("k"), None);
        assert!(!path.exists());
    }

    #[test]
    fn the_directory_stays_under_its_bound() {
        let scratch = Scratch::new("disk-bound");
        let cache = DiskCache::open(&scratch.0, 20_000).unwrap();
        let body = format!("\"{}\"", "x".repeat(1000));
        for i in 0..100 {
            cache.put(&format!("key{i}"), &body);
        }
        assert!(cache.measure() <= 20_000, "{}", cache.measure());
        assert!(cache.get("key99").is_some(), "the newest entries stay");
        assert!(cache.get("key0").is_none(), "the oldest went");
    }

    const BODY: &str = r#"{"title":"Cholera","code":"1A00"}"#;

    fn key(i: usize) -> String {
        format!("https://id.who.int/icd/release/11/2024-01/mms/{i:04}\nen\nv2")
    }

    /// The size of one entry file for `key(i)` and `BODY` (the same for every i).
    fn entry_len() -> u64 {
        format_entry(&key(0), BODY).len() as u64
    }

    /// The bytes the directory's entry files hold, read apart from the cache's own accounting.
    fn bytes_on_disk(dir: &Path) -> u64 {
        let files = fs::read_dir(dir).unwrap().map(|entry| entry.unwrap());
        files
            .filter(|f| f.file_name().to_string_lossy().ends_with(ENTRY_SUFFIX))
            .map(|f| f.metadata().unwrap().len())
            .sum()
    }

    /// Sets a file's modification time (the time of its last use, for eviction) to `seconds` ago.
    fn last_used(path: &Path, seconds: u64) {
        let file = fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - std::time::Duration::from_secs(seconds)).unwrap();
    }

    /// Which of the first `n` keys have an entry file (looked at without `get`, which marks use).
    fn stored(cache: &DiskCache, n: usize) -> Vec<usize> {
        (0..n).filter(|&i| cache.entry_path(&key(i)).exists()).collect()
    }

    /// Stores `key(i)` for each i, used in that order (one second apart, the first longest ago).
    fn fill(cache: &DiskCache, keys: std::ops::Range<usize>) {
        for i in keys {
            cache.put(&key(i), BODY);
            last_used(&cache.entry_path(&key(i)), 1000 - i as u64);
        }
    }

    #[test]
    fn an_entry_as_large_as_the_bound_is_kept_and_a_larger_one_refused() {
        let scratch = Scratch::new("disk-one");
        let cache = DiskCache::open(&scratch.0, entry_len()).unwrap();
        cache.put(&key(0), BODY);
        assert_eq!(cache.get(&key(0)).as_deref(), Some(BODY));
        // One byte more than the bound: not stored, and what is stored stays.
        cache.put(&key(1), &format!("{BODY} "));
        assert_eq!(stored(&cache, 2), [0]);
        assert_eq!(bytes_on_disk(&scratch.0), entry_len());
    }

    #[test]
    fn entries_that_fit_stay_and_the_bound_holds_after_every_put() {
        let scratch = Scratch::new("disk-fill");
        let cache = DiskCache::open(&scratch.0, 10 * entry_len()).unwrap();
        for i in 0..10 {
            fill(&cache, i..i + 1);
            assert_eq!(stored(&cache, 10), (0..=i).collect::<Vec<_>>(), "after {} entries", i + 1);
        }
        assert_eq!(bytes_on_disk(&scratch.0), 10 * entry_len(), "exactly at the bound, nothing removed");
        // Stored again (two threads that missed it both store it): the directory holds no more.
        cache.put(&key(9), BODY);
        assert_eq!(stored(&cache, 10), (0..10).collect::<Vec<_>>());
        // One more passes the bound: the least recently used go until 90% of it is held.
        fill(&cache, 10..11);
        assert_eq!(stored(&cache, 11), (2..11).collect::<Vec<_>>());
        assert_eq!(bytes_on_disk(&scratch.0), 9 * entry_len());
        // The running total is right again: the next one fits without removing anything.
        fill(&cache, 11..12);
        assert_eq!(stored(&cache, 12), (2..12).collect::<Vec<_>>());
    }

    #[test]
    fn entries_of_earlier_runs_count_towards_the_bound() {
        let scratch = Scratch::new("disk-earlier");
        let max = 10 * entry_len();
        fill(&DiskCache::open(&scratch.0, max).unwrap(), 0..10);
        // A new process (a new cache on the same directory) finds it full.
        let cache = DiskCache::open(&scratch.0, max).unwrap();
        fill(&cache, 10..11);
        assert_eq!(bytes_on_disk(&scratch.0), 9 * entry_len());
        assert_eq!(stored(&cache, 11), (2..11).collect::<Vec<_>>());
    }

    #[test]
    fn stale_temporaries_are_removed_fresh_ones_and_strangers_left_alone() {
        let scratch = Scratch::new("disk-temporaries");
        let cache = DiskCache::open(&scratch.0, 1 << 20).unwrap();
        let file = |name: String, age: u64| {
            let path = scratch.0.join(name);
            fs::write(&path, "partial").unwrap();
            last_used(&path, age);
            path
        };
        let hash = |n: u8| sha256_hex(&[n]);
        // Another process is writing this one right now.
        let writing = file(format!("{}.tmp.41.0", hash(1)), 0);
        // A process died writing this one two hours ago.
        let dead = file(format!("{}.tmp.42.7", hash(2)), 7200);
        // Not ours, however old: never touched.
        let strangers = [file(format!("{}.lock", hash(3)), 7200), file("notes.txt".into(), 7200)];
        cache.put(&key(0), BODY); // the first put looks at the directory
        assert!(writing.exists(), "a temporary being written is left alone");
        assert!(!dead.exists(), "a temporary older than an hour is removed");
        assert!(strangers.iter().all(|path| path.exists()));
        assert_eq!(cache.get(&key(0)).as_deref(), Some(BODY));
    }

    #[test]
    fn an_entry_answers_only_for_its_own_key() {
        let scratch = Scratch::new("disk-key");
        let cache = DiskCache::open(&scratch.0, 1 << 20).unwrap();
        let (key, other) = (key(1), key(2));
        cache.put(&key, BODY);
        // The file records its key on one line after the header (other versions read it too).
        let text = fs::read_to_string(cache.entry_path(&key)).unwrap();
        let header = format!("{MAGIC} {} {}", sha256_hex(BODY.as_bytes()), BODY.len());
        assert_eq!(text, format!("{header}\n{}\n{BODY}", key.replace('\n', " ")));
        // An intact entry under another key's name (copied, or a hash collision) is not that key's.
        fs::copy(cache.entry_path(&key), cache.entry_path(&other)).unwrap();
        assert_eq!(cache.get(&other), None);
        assert!(!cache.entry_path(&other).exists(), "removed, to be refetched");
        assert_eq!(cache.get(&key).as_deref(), Some(BODY));
    }
}
