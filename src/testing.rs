//! What the unit tests of several modules share (compiled for tests only).

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

/// A private directory (0700) of the test's own under the temporary directory, removed when it
/// ends, passed or failed.
pub struct Scratch(pub PathBuf);

impl Scratch {
    /// A new, empty directory whose name starts with `icdapi-{name}-`.
    pub fn new(name: &str) -> Scratch {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let n = SEQUENCE.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("icdapi-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        #[cfg(unix)]
        fs::set_permissions(&dir, <fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o700)).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
