//! `token_cache_file`: a token kept in a file so that many processes — PHP-FPM workers, CLI runs —
//! share one. The file is created 0600, replaced atomically (write a temporary file, rename it),
//! and read and written under an exclusive lock on a companion `.lock` file. A file that is not
//! ours (another owner, readable by others, a symlink) or that does not parse is never trusted.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{Error, ErrorKind, Result};
use crate::token::endpoint::can_stand_in_a_header;
use crate::token::shared::TokenKey;

// Every file here is opened with O_NOFOLLOW: a symlink planted in its place is never followed.
// (std opens every file close-on-exec already: no O_CLOEXEC to add.)

/// A token with less left than this is not worth handing out.
const MIN_REMAINING: Duration = Duration::from_secs(10);
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Stored {
    icdapi_token_cache: u32,
    /// Which credentials, endpoint and API the token is for (a hash: no secret in the file).
    key: String,
    access_token: String,
    /// Seconds since the Unix epoch.
    expires_at: u64,
}

/// Checks a path given to the option: its directory must exist, and an existing file must be
/// ours and private.
pub fn validate(path: &Path) -> Result<()> {
    let bad = |why: String| Error::invalid_argument(format!("token_cache_file {}: {why}", path.display()));
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(bad("its directory does not exist".into()));
    }
    match fs::symlink_metadata(path) {
        Ok(meta) => trustworthy(&meta).map_err(bad),
        Err(_) => Ok(()), // created on first use
    }
}

/// Why a file may not be trusted, if it may not.
fn trustworthy(meta: &fs::Metadata) -> std::result::Result<(), String> {
    let uid = crate::sys::effective_uid();
    if !meta.file_type().is_file() {
        return Err("is not a regular file (a symlink or a directory is never followed)".into());
    }
    if meta.uid() != uid {
        return Err(format!("is owned by user {} and this process runs as user {uid}: not trusted", meta.uid()));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "is accessible to other users (mode {:o}): not trusted; chmod 600 it",
            meta.mode() & 0o777
        ));
    }
    Ok(())
}

/// Runs `body` holding the exclusive lock of `path`'s lock file, waiting for it until `deadline`.
/// A lock file that cannot be used (a symlink, a read-only directory) is reported through
/// `complain` and gone without: the file is a convenience, the call must not fail for it.
pub fn with_lock<T>(
    path: &Path,
    deadline: Instant,
    complain: impl Fn(String),
    body: impl FnOnce() -> Result<T>,
) -> Result<T> {
    let lock_path = sibling(path, ".lock");
    let opened = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&lock_path);
    let lock = match opened {
        Ok(lock) => lock,
        Err(e) => {
            complain(format!("token_cache_file lock {} unusable ({e}): going without it", lock_path.display()));
            return body();
        }
    };
    loop {
        // Released when `lock` is closed.
        if crate::sys::try_lock_exclusive(&lock) {
            break;
        }
        if Instant::now() >= deadline {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!("the call's deadline passed waiting for the lock of {}", path.display()),
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let result = body();
    drop(lock);
    result
}

/// The token stored for `key`, unless it is missing, expiring, the one the API just refused, or
/// the file cannot be trusted. Problems are reported through `complain` and otherwise ignored:
/// the caller then fetches a new token.
pub fn load(
    path: &Path,
    key: &TokenKey,
    rejected: Option<&str>,
    complain: impl Fn(String),
) -> Option<(String, Duration)> {
    let mut file = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            complain(format!("token_cache_file {} ignored: {e}", path.display()));
            return None;
        }
    };
    if let Err(why) = file.metadata().map_err(|e| e.to_string()).and_then(|m| trustworthy(&m)) {
        complain(format!("token_cache_file {} ignored: {why}", path.display()));
        return None;
    }
    let mut text = Zeroizing::new(String::new());
    if file.read_to_string(&mut text).is_err() {
        complain(format!("token_cache_file {} ignored: not UTF-8 text", path.display()));
        return None;
    }
    match parse(&text, key.as_str(), rejected, unix_now()) {
        Contents::Usable(token, left) => Some((token, left)),
        Contents::NotUsable => None,
        Contents::Damaged => {
            complain(format!("token_cache_file {} ignored: damaged (it will be rewritten)", path.display()));
            None
        }
    }
}

/// What a token file holds for one key.
#[derive(Debug, PartialEq, Eq)]
pub enum Contents {
    /// The token and how long it has left.
    Usable(String, Duration),
    /// A token for other credentials, of another format version, the one the API just refused,
    /// or expiring.
    NotUsable,
    /// Not a token file, or a token that cannot be sent (it would fail every call until it
    /// expired).
    Damaged,
}

/// What a token file's text holds for `key` at `now` (seconds since the Unix epoch). The text is
/// outside input: another process, or anyone who can write the file, wrote it.
pub fn parse(text: &str, key: &str, rejected: Option<&str>, now: u64) -> Contents {
    let Ok(stored) = serde_json::from_str::<Stored>(text) else { return Contents::Damaged };
    let access_token = Zeroizing::new(stored.access_token);
    if !can_stand_in_a_header(&access_token) {
        return Contents::Damaged;
    }
    if stored.icdapi_token_cache != FORMAT_VERSION || stored.key != key || rejected == Some(access_token.as_str()) {
        return Contents::NotUsable;
    }
    let left = Duration::from_secs(stored.expires_at.saturating_sub(now));
    if left < MIN_REMAINING {
        return Contents::NotUsable;
    }
    Contents::Usable(access_token.to_string(), left)
}

/// The text of a token file holding `token` for `key`, valid `lifetime` from `now`.
pub fn serialize(key: &str, token: &str, lifetime: Duration, now: u64) -> Zeroizing<String> {
    let stored = Stored {
        icdapi_token_cache: FORMAT_VERSION,
        key: key.to_owned(),
        access_token: token.to_owned(),
        expires_at: now.saturating_add(lifetime.as_secs()),
    };
    let text = Zeroizing::new(serde_json::to_string(&stored).expect("a plain struct serializes"));
    let _wipe = Zeroizing::new(stored.access_token);
    text
}

/// Replaces the file with this token, atomically: readers see the old file or the new one.
pub fn store(path: &Path, key: &TokenKey, token: &str, lifetime: Duration) -> Result<()> {
    if let Ok(meta) = fs::symlink_metadata(path) {
        trustworthy(&meta).map_err(|why| {
            Error::invalid_argument(format!("token_cache_file {} not written: {why}", path.display()))
        })?;
    }
    let text = serialize(key.as_str(), token, lifetime, unix_now());
    let temporary = sibling(path, &format!(".tmp.{}", std::process::id()));
    let written = (|| -> std::io::Result<()> {
        let mut file: File = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&temporary)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temporary, path)
    })();
    written.map_err(|e| {
        let _ = fs::remove_file(&temporary);
        Error::invalid_argument(format!("token_cache_file {} not written: {e}", path.display()))
    })
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Scratch;
    use crate::token::Credentials;
    use std::cell::RefCell;
    use std::os::unix::fs::PermissionsExt;

    /// A fixed "now" for `parse` (seconds since the Unix epoch).
    const NOW: u64 = 1_800_000_000;
    const HOUR: Duration = Duration::from_secs(3600);

    fn key(client_id: &str) -> TokenKey {
        let credentials = Credentials { client_id: client_id.into(), client_secret: Zeroizing::new("secret".into()) };
        TokenKey::new("https://tokens.test/connect/token", "https://api.test", &credentials)
    }

    /// The time by the system clock, read apart from `unix_now`.
    fn clock_now() -> u64 {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
    }

    /// Writes a private token file as another process would have.
    fn write_private(path: &Path, text: &str) {
        fs::write(path, text).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// A scratch directory whose token.json holds the token "tok" for `key("id")`, good for an hour.
    fn stored_token(name: &str) -> (Scratch, PathBuf, TokenKey) {
        let scratch = Scratch::new(&format!("token-{name}"));
        let path = scratch.0.join("token.json");
        let key = key("id");
        store(&path, &key, "tok", HOUR).unwrap();
        (scratch, path, key)
    }

    /// `load`, with the complaints it made.
    fn load_noting(path: &Path, key: &TokenKey) -> (Option<(String, Duration)>, Vec<String>) {
        let complaints = RefCell::new(Vec::new());
        let found = load(path, key, None, |message| complaints.borrow_mut().push(message));
        (found, complaints.into_inner())
    }

    #[test]
    fn a_token_is_handed_out_while_at_least_ten_seconds_are_left() {
        let text = serialize("key", "tok", Duration::from_secs(10), NOW);
        assert_eq!(parse(&text, "key", None, NOW), Contents::Usable("tok".into(), Duration::from_secs(10)));
        assert_eq!(parse(&text, "key", None, NOW + 1), Contents::NotUsable, "9 s left");
        assert_eq!(parse(&text, "key", None, NOW + 60), Contents::NotUsable, "expired");
        let hour = serialize("key", "tok", HOUR, NOW);
        assert_eq!(parse(&hour, "key", None, NOW + 1800), Contents::Usable("tok".into(), HOUR / 2));
    }

    #[test]
    fn only_the_keys_own_token_is_handed_out_and_never_the_refused_one() {
        let text = serialize("key-a", "tok", HOUR, NOW);
        assert_eq!(parse(&text, "key-a", Some("an-older-token"), NOW), Contents::Usable("tok".into(), HOUR));
        assert_eq!(parse(&text, "key-b", None, NOW), Contents::NotUsable, "another key's token");
        assert_eq!(parse(&text, "key-b", Some("an-older-token"), NOW), Contents::NotUsable);
        assert_eq!(parse(&text, "key-a", Some("tok"), NOW), Contents::NotUsable, "the token the API refused");
        let next_version = text.replace("\"icdapi_token_cache\":1,", "\"icdapi_token_cache\":2,");
        assert_ne!(next_version, *text);
        assert_eq!(parse(&next_version, "key-a", None, NOW), Contents::NotUsable, "another format");
    }

    #[test]
    fn files_that_are_not_token_files_or_hold_unsendable_tokens_are_damaged() {
        assert_eq!(parse("{not json", "key", None, NOW), Contents::Damaged);
        assert_eq!(parse("{}", "key", None, NOW), Contents::Damaged);
        for token in ["", "two words", "tab\there", "del\u{7f}"] {
            let text = serialize("key", token, HOUR, NOW);
            assert_eq!(parse(&text, "key", None, NOW), Contents::Damaged, "{token:?}");
        }
    }

    #[test]
    fn stored_tokens_expire_at_an_absolute_time_and_are_read_back() {
        let (_scratch, path, key) = stored_token("store");
        let meta = fs::symlink_metadata(&path).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        let stored: serde_json::Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let expires_at = stored["expires_at"].as_u64().unwrap();
        let expected = clock_now() + 3600;
        assert!(expires_at <= expected && expires_at + 30 >= expected, "{expires_at} for {expected}");
        let (found, complaints) = load_noting(&path, &key);
        let (token, left) = found.unwrap();
        assert_eq!(token, "tok");
        assert!(left <= HOUR && left >= HOUR - Duration::from_secs(30), "{left:?}");
        assert!(complaints.is_empty(), "{complaints:?}");
        assert_eq!(load_noting(&path, &self::key("other")).0, None, "another key's token is never handed out");
    }

    #[test]
    fn a_token_that_expired_in_the_file_is_not_handed_out() {
        let scratch = Scratch::new("token-expired");
        let path = scratch.0.join("token.json");
        let key = key("id");
        let hour_ago = clock_now() - 3600;
        write_private(&path, &serialize(key.as_str(), "tok", Duration::from_secs(1800), hour_ago));
        assert_eq!(load_noting(&path, &key), (None, vec![]));
        write_private(&path, &serialize(key.as_str(), "tok", HOUR + Duration::from_secs(60), hour_ago));
        assert!(load_noting(&path, &key).0.is_some(), "a minute left");
    }

    #[test]
    fn a_missing_file_is_not_a_complaint() {
        let scratch = Scratch::new("token-missing");
        assert_eq!(load_noting(&scratch.0.join("token.json"), &key("id")), (None, vec![]));
    }

    #[test]
    fn a_token_file_turned_into_a_symlink_is_not_followed() {
        let scratch = Scratch::new("token-symlink");
        let (real, link) = (scratch.0.join("elsewhere.json"), scratch.0.join("token.json"));
        let key = key("id");
        store(&real, &key, "tok", HOUR).unwrap();
        assert!(load_noting(&real, &key).0.is_some());
        // Accepted as a path while missing, then planted as a link to a good file.
        validate(&link).unwrap();
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let (found, complaints) = load_noting(&link, &key);
        assert_eq!(found, None);
        assert_eq!(complaints.len(), 1, "{complaints:?}");
        assert!(complaints[0].starts_with(&format!("token_cache_file {} ignored: ", link.display())), "{complaints:?}");
        assert!(store(&link, &key, "new", HOUR).is_err(), "nor written through");
        assert_eq!(load_noting(&real, &key).0.unwrap().0, "tok");
    }

    #[test]
    fn files_others_can_read_or_that_do_not_parse_are_ignored_with_a_complaint() {
        let (_scratch, path, key) = stored_token("untrusted");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let (found, complaints) = load_noting(&path, &key);
        assert_eq!(found, None);
        assert!(complaints.len() == 1 && complaints[0].contains("mode 640"), "{complaints:?}");
        write_private(&path, "{not json");
        let (found, complaints) = load_noting(&path, &key);
        assert_eq!(found, None);
        assert!(complaints.len() == 1 && complaints[0].contains("damaged"), "{complaints:?}");
        // Only root can give a file away to test the owner check.
        if crate::sys::effective_uid() == 0 {
            store(&path, &key, "tok", HOUR).unwrap();
            std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
            let (found, complaints) = load_noting(&path, &key);
            assert_eq!(found, None);
            assert!(complaints.len() == 1 && complaints[0].contains("owned by user 65534"), "{complaints:?}");
            assert!(store(&path, &key, "tok", HOUR).is_err(), "another user's file is not replaced");
        }
    }

    #[test]
    fn a_planted_temporary_symlink_is_not_followed() {
        let scratch = Scratch::new("token-temporary");
        let path = scratch.0.join("token.json");
        let victim = scratch.0.join("victim");
        std::os::unix::fs::symlink(&victim, sibling(&path, &format!(".tmp.{}", std::process::id()))).unwrap();
        let error = store(&path, &key("id"), "tok", HOUR).unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidArgument);
        assert!(error.message().contains("not written"), "{}", error.message());
        assert!(!victim.exists(), "the symlink was followed");
        assert!(!path.exists(), "a symlink took the token file's place");
    }

    /// Holds the lock of `path` as another process would (a lock of its own open file description).
    fn hold_lock(path: &Path) -> File {
        let lock = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(sibling(path, ".lock"));
        let lock = lock.unwrap();
        assert!(crate::sys::try_lock_exclusive(&lock));
        lock
    }

    #[test]
    fn the_lock_is_waited_for_until_its_holder_lets_go() {
        let scratch = Scratch::new("token-lock-wait");
        let path = scratch.0.join("token.json");
        let far = Instant::now() + Duration::from_secs(10);
        assert_eq!(with_lock(&path, far, |m| panic!("{m}"), || Ok(1)).unwrap(), 1);
        let meta = fs::symlink_metadata(sibling(&path, ".lock")).unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600, "the lock file is private too");
        let held = hold_lock(&path);
        let release = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(held);
        });
        let started = Instant::now();
        let result = with_lock(&path, started + Duration::from_secs(10), |m| panic!("{m}"), || Ok(42));
        assert_eq!(result.unwrap(), 42);
        assert!(started.elapsed() >= Duration::from_millis(100), "{:?}", started.elapsed());
        release.join().unwrap();
    }

    #[test]
    fn waiting_for_the_lock_ends_at_the_deadline() {
        let scratch = Scratch::new("token-lock-deadline");
        let path = scratch.0.join("token.json");
        let _held = hold_lock(&path);
        let started = Instant::now();
        let ran = std::cell::Cell::new(false);
        let result = with_lock(
            &path,
            started + Duration::from_millis(200),
            |m| panic!("{m}"),
            || {
                ran.set(true);
                Ok(())
            },
        );
        let error = result.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::Timeout);
        assert!(error.message().contains("waiting for the lock"), "{}", error.message());
        assert!(!ran.get());
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(200) && waited < Duration::from_secs(5), "{waited:?}");
    }

    #[test]
    fn a_lock_file_planted_as_a_symlink_is_not_followed_and_the_body_runs_without_it() {
        let scratch = Scratch::new("token-lock-symlink");
        let path = scratch.0.join("token.json");
        let victim = scratch.0.join("victim");
        std::os::unix::fs::symlink(&victim, sibling(&path, ".lock")).unwrap();
        let complaints = RefCell::new(Vec::new());
        let far = Instant::now() + Duration::from_secs(10);
        let result = with_lock(&path, far, |message| complaints.borrow_mut().push(message), || Ok(7));
        assert_eq!(result.unwrap(), 7);
        assert!(!victim.exists(), "the symlink was followed");
        let complaints = complaints.into_inner();
        assert!(complaints.len() == 1 && complaints[0].ends_with("going without it"), "{complaints:?}");
    }
}
