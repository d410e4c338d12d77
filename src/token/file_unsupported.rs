//! `token_cache_file` where there is no Unix: the option is refused, so nothing else here is
//! ever called. (It relies on file ownership, modes, `O_NOFOLLOW` and `flock` to decide whether
//! a file may be trusted; without them no file is.)

use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::token::shared::TokenKey;

pub fn validate(path: &Path) -> Result<()> {
    Err(Error::invalid_argument(format!(
        "token_cache_file {}: supported on Unix only (Linux, macOS), where the file's owner and permission bits \
         decide whether it may be trusted and flock guards it; leave the option unset here: each process then \
         fetches its own token",
        path.display()
    )))
}

pub fn with_lock<T>(
    path: &Path,
    _deadline: Instant,
    _complain: impl Fn(String),
    _body: impl FnOnce() -> Result<T>,
) -> Result<T> {
    validate(path).map(|()| unreachable!("validate always refuses"))
}

pub fn load(
    _path: &Path,
    _key: &TokenKey,
    _rejected: Option<&str>,
    _complain: impl Fn(String),
) -> Option<(String, Duration)> {
    None
}

pub fn store(path: &Path, _key: &TokenKey, _token: &str, _lifetime: Duration) -> Result<()> {
    validate(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_is_refused_with_a_reason() {
        let error = validate(Path::new("/tmp/token.json")).unwrap_err();
        assert!(error.message().contains("Unix only"), "{}", error.message());
        let ran = std::cell::Cell::new(false);
        let body = || {
            ran.set(true);
            Ok(())
        };
        assert!(with_lock(Path::new("t"), Instant::now(), |_| {}, body).is_err());
        assert!(!ran.get(), "nothing runs under a lock that cannot be had");
    }

    #[test]
    fn no_token_is_ever_read_or_written() {
        let key = TokenKey::local();
        assert_eq!(load(Path::new("/tmp/token.json"), &key, None, |_| {}), None);
        let error = store(Path::new("/tmp/token.json"), &key, "token", Duration::from_secs(60)).unwrap_err();
        assert!(error.message().contains("Unix only"), "{}", error.message());
    }
}
