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
    let uid = unsafe { libc::geteuid() };
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
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&lock_path);
    let lock = match opened {
        Ok(lock) => lock,
        Err(e) => {
            complain(format!("token_cache_file lock {} unusable ({e}): going without it", lock_path.display()));
            return body();
        }
    };
    loop {
        // SAFETY: flock on a descriptor we own; it is released when `lock` is closed.
        if unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&lock), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
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
    let mut file = match OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(path) {
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
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
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
