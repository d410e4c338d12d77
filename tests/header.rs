//! The committed include/icdapi.h must be exactly what cbindgen generates from the source, so
//! that C users never compile against a header that disagrees with the library.
//! `ICDAPI_UPDATE_HEADER=1 cargo test --test header` (or `make header`) rewrites it.

#[test]
fn committed_header_matches_the_generated_one() {
    let generated = std::fs::read_to_string(env!("ICDAPI_GENERATED_HEADER")).expect("build.rs wrote it");
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/icdapi.h");
    if std::env::var_os("ICDAPI_UPDATE_HEADER").is_some() {
        std::fs::write(committed_path, &generated).expect("include/icdapi.h is writable");
    }
    let committed = std::fs::read_to_string(committed_path).expect("include/icdapi.h exists");
    assert!(
        committed == generated,
        "include/icdapi.h is stale: run `make header` (ICDAPI_UPDATE_HEADER=1 cargo test --test header) and commit it"
    );
}

#[test]
fn header_version_macros_match_the_crate() {
    // The generated header (the other test proves the committed one equal to it, and may be
    // rewriting the committed one while this test runs).
    let header = std::fs::read_to_string(env!("ICDAPI_GENERATED_HEADER")).unwrap();
    for (name, value) in [
        ("ICDAPI_VERSION_MAJOR", env!("CARGO_PKG_VERSION_MAJOR")),
        ("ICDAPI_VERSION_MINOR", env!("CARGO_PKG_VERSION_MINOR")),
        ("ICDAPI_VERSION_PATCH", env!("CARGO_PKG_VERSION_PATCH")),
    ] {
        assert!(header.contains(&format!("#define {name} {value}\n")), "{name} is not {value}");
    }
    let version = unsafe { std::ffi::CStr::from_ptr(icdapi::ffi::icd_version()) };
    assert_eq!(version.to_str().unwrap(), env!("CARGO_PKG_VERSION"));
    assert!(header.contains(&format!("#define ICDAPI_VERSION \"{}\"", env!("CARGO_PKG_VERSION"))));
}
