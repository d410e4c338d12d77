//! Rules of the house that the compiler alone does not hold.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// `unsafe` is denied at the crate root (lib.rs); only the C boundary (`src/ffi/`) and the
/// system calls (`src/sys.rs`) may allow it.
#[test]
fn unsafe_code_is_allowed_only_in_ffi_and_sys() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    assert!(lib.contains("#![deny(unsafe_code)]"), "lib.rs denies unsafe code");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let allowed: Vec<_> = files
        .iter()
        .filter(|path| std::fs::read_to_string(path).unwrap().contains("allow(unsafe_code)"))
        .map(|path| path.strip_prefix(&src).unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(allowed.contains(&"sys.rs".to_owned()), "{allowed:?}");
    for file in &allowed {
        assert!(file == "sys.rs" || file.starts_with("ffi/"), "{file} allows unsafe code");
    }
}
