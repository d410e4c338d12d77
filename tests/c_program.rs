//! Compiles tests/c/test_icdapi.c against include/icdapi.h and the built library — as C99 and as
//! C++, with -Wall -Wextra -Werror — and runs both against the stand-in.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::{repo_path, StandIn, CLIENT_ID, CLIENT_SECRET};

/// The directory holding libicdapi.so: `ICDAPI_LIB_DIR` when the caller built it (`make test`
/// does), else the one this test was built in: cargo builds the library's every crate type (the
/// cdylib too) beside the test binaries, from the same source and with the same profile, so the
/// program tests exactly the code the Rust tests do (and a mutant of it, under cargo-mutants).
fn library_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("ICDAPI_LIB_DIR") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let deps = exe.parent().expect("the test binary's directory").to_path_buf();
    assert!(
        deps.join("libicdapi.so").is_file(),
        "no libicdapi.so beside {}: build the library (cargo build) or set ICDAPI_LIB_DIR to its directory",
        exe.display()
    );
    deps
}

fn compile(compiler: &str, language_flags: &[&str], output: &Path, lib_dir: &Path) {
    let status = Command::new(compiler)
        .args(language_flags)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-I", &repo_path("include")])
        .arg(repo_path("tests/c/test_icdapi.c"))
        .arg("-o")
        .arg(output)
        .arg(format!("-L{}", lib_dir.display()))
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .args(["-licdapi", "-lpthread"])
        .status()
        .unwrap_or_else(|e| panic!("{compiler} runs: {e}"));
    assert!(status.success(), "{compiler} {language_flags:?} failed to compile tests/c/test_icdapi.c");
}

fn run_against_standin(program: &Path) {
    // Non-ASCII as \u escapes: the program proves icd_json_string unescapes them.
    let standin = StandIn::start_with(&["--escape-non-ascii"]);
    let output = Command::new(program)
        // cargo test puts target/debug on LD_LIBRARY_PATH, which outranks the program's RUNPATH:
        // a libicdapi.so left there by an older `cargo build` would be loaded instead.
        .env_remove("LD_LIBRARY_PATH")
        .env("ICD_CLIENT_ID", CLIENT_ID)
        .env("ICD_CLIENT_SECRET", CLIENT_SECRET)
        .env("ICD_API_BASE", &standin.url)
        .env("ICD_TOKEN_ENDPOINT", standin.token_endpoint())
        .env("ICDAPI_LOG", "debug")
        .output()
        .expect("the C test program runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{} failed:\n{stdout}\n{}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(" passed, 0 failed"));
    // 16 threads shared the one token of the first client; the second client's secret was wrong.
    assert_eq!(standin.tokens_issued(), 1);
    // The diagnostics name requests and token fetches, never the secret or a token.
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("icdapi: GET ") && log.contains("icdapi: token fetched"), "{log}");
    assert!(!log.contains(CLIENT_SECRET) && !log.contains("not-the-secret-xyz"));
    for request in standin.requests() {
        if let Some(authorization) = request["headers"]["authorization"].as_str() {
            assert!(!log.contains(authorization.trim_start_matches("Bearer ")), "a token in the log");
        }
    }
}

#[test]
fn c_and_cpp_programs_pass_against_the_standin() {
    let lib_dir = library_dir();
    let out_dir = PathBuf::from(repo_path("target/c-tests"));
    std::fs::create_dir_all(&out_dir).unwrap();
    let c_program = out_dir.join("test_icdapi_c");
    compile("cc", &["-std=c99", "-D_POSIX_C_SOURCE=200809L"], &c_program, &lib_dir);
    run_against_standin(&c_program);
    let cpp_program = out_dir.join("test_icdapi_cpp");
    compile("c++", &["-x", "c++", "-std=c++11"], &cpp_program, &lib_dir);
    run_against_standin(&cpp_program);
}

/// PHP's FFI dlcloses the library at the end of every PHP-FPM request: it must stay loaded, or the
/// process-wide token and connection pools would be lost (and a thread of ours could lose its code).
#[cfg(target_os = "linux")]
#[test]
fn dlclose_leaves_the_library_loaded() {
    use std::ffi::{CStr, CString};

    let library = library_dir().join("libicdapi.so");
    let path = CString::new(library.to_str().expect("a UTF-8 path")).expect("no NUL in the path");
    let mapped =
        || std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps").contains(library.to_str().unwrap());
    unsafe {
        let handle = libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL);
        assert!(!handle.is_null(), "dlopen {}", library.display());
        let version = libc::dlsym(handle, c"icd_version".as_ptr());
        assert!(!version.is_null());
        let version: extern "C" fn() -> *const std::os::raw::c_char = std::mem::transmute(version);
        assert_eq!(CStr::from_ptr(version()).to_str().unwrap(), env!("CARGO_PKG_VERSION"));
        assert!(mapped());
        assert_eq!(libc::dlclose(handle), 0);
        assert!(mapped(), "dlclose unloaded the library: it must be linked with -z nodelete (build.rs)");
    }
}
