//! Generates the C header from the exported functions of src/ffi/ with cbindgen (a pinned version, so that the
//! output is stable) into OUT_DIR; tests/header.rs compares it with include/icdapi.h.

use std::path::PathBuf;

/// The files that export C functions and types, in the order the header presents them.
const FFI_SOURCES: &[&str] = &[
    "src/ffi/client.rs",
    "src/ffi/options.rs",
    "src/ffi/requests.rs",
    "src/ffi/batch.rs",
    "src/ffi/json.rs",
    "src/ffi/status.rs",
];

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    for file in FFI_SOURCES {
        println!("cargo:rerun-if-changed={file}");
    }
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    let version = |part: &str| std::env::var(format!("CARGO_PKG_VERSION_{part}")).expect("set by cargo");
    let version_macros = format!(
        "\n/* The version of this header; icd_version() tells the version of the library linked. */\n\
         #define ICDAPI_VERSION_MAJOR {}\n#define ICDAPI_VERSION_MINOR {}\n#define ICDAPI_VERSION_PATCH {}\n\
         #define ICDAPI_VERSION \"{}\"",
        version("MAJOR"),
        version("MINOR"),
        version("PATCH"),
        std::env::var("CARGO_PKG_VERSION").expect("set by cargo")
    );
    let mut builder = cbindgen::Builder::new().with_config(config).with_after_include(version_macros);
    for file in FFI_SOURCES {
        builder = builder.with_src(crate_dir.join(file));
    }
    let header = builder.generate().expect("cbindgen reads the sources of src/ffi/");
    header.write_to_file(out_dir.join("icdapi.h"));
    // Where tests/header.rs finds it.
    println!("cargo:rustc-env=ICDAPI_GENERATED_HEADER={}", out_dir.join("icdapi.h").display());

    // PHP's FFI dlcloses the library when its FFI object goes — at the end of every PHP-FPM
    // request — which would take the process-wide token and connection pools (and any thread of
    // ours still running) with it. NODELETE makes dlclose leave the shared library loaded.
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if ["linux", "android", "freebsd", "netbsd", "openbsd", "dragonfly"].contains(&target_os.as_str()) {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
    }
}
