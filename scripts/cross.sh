#!/usr/bin/env bash
# Builds the release library for other platforms, each once, into the one target directory
# (target/<rust-target>/release/), for the platform tests (tests/platforms/run.sh) and
# `make dist` (scripts/dist.sh) to share. Installs what it needs (Rust targets, Debian's
# cross compilers, and cargo-zigbuild with PyPI's zig in a venv under target/).
#
#   scripts/cross.sh [RID...]     RIDs: linux-x64 linux-arm64 linux-musl-x64 win-x64 (default: all)
#
# How each is built (see docs/platforms.md for why):
#   linux-x64, linux-arm64  cargo-zigbuild, target <triple>.2.17: zig links against glibc 2.17's
#                           symbol versions, so the library loads on any glibc >= 2.17 (manylinux2014).
#                           Debian's own glibc (2.36) would pull in fstat64@GLIBC_2.33 and others.
#   linux-musl-x64          cargo-zigbuild with -C target-feature=-crt-static (else Rust's musl target
#                           makes no cdylib): zig links musl's libc.so and its own libunwind, statically
#                           (musl-gcc as the linker would want glibc's libgcc_s.so.1). zig names the C
#                           library "libc.so", which Alpine has only with musl-dev: patchelf renames the
#                           dependency to Alpine's libc.musl-x86_64.so.1, what Alpine's own programs need.
#   win-x64                 cargo with Debian's mingw-w64 as the linker; Rust links libgcc and
#                           winpthread statically, so icdapi.dll needs Windows' own DLLs only.
#   osx-arm64, osx-x64      cargo-zigbuild too, but only with a macOS SDK (SDKROOT): the library links
#                           Apple's Security and CoreFoundation frameworks. Not built here (docs/platforms.md).
# Prints, last, one line per RID: "<rid> <directory holding its libraries>".
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ALL_RIDS=(linux-x64 linux-arm64 linux-musl-x64 win-x64)

rust_target() {
    case $1 in
        linux-x64) echo x86_64-unknown-linux-gnu ;;
        linux-arm64) echo aarch64-unknown-linux-gnu ;;
        linux-musl-x64) echo x86_64-unknown-linux-musl ;;
        win-x64) echo x86_64-pc-windows-gnu ;;
        osx-arm64) echo aarch64-apple-darwin ;;
        osx-x64) echo x86_64-apple-darwin ;;
        *) echo "cross.sh: unknown RID '$1' (known: ${ALL_RIDS[*]})" >&2; return 1 ;;
    esac
}

# cargo-zigbuild and zig (PyPI's ziglang) in a venv of their own under target/, on the PATH.
ensure_zig_tools() {
    local venv=$ROOT/target/platform-tools/venv
    if ! "$venv/bin/cargo-zigbuild" --version >/dev/null 2>&1 || ! "$venv/bin/python" -m ziglang version >/dev/null 2>&1; then
        echo "== installing cargo-zigbuild and ziglang (PyPI) into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        PIP_CACHE_DIR=$ROOT/target/pip-cache "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            'cargo-zigbuild>=0.19' 'ziglang>=0.13'
    fi
    # cargo-zigbuild runs `python3 -m ziglang` when no `zig` is on the PATH: the venv's python.
    export PATH="$venv/bin:$PATH"
}

ensure_rust_target() {
    if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$1"; then
        rustup target add "$1"
    fi
}

build_rid() {
    local rid=$1 target
    target=$(rust_target "$rid")
    ensure_rust_target "$target"
    echo "== cross build: $rid ($target)" >&2
    # Debian's mingw-w64 gcc leaves an empty ccXXXXXX file in TMPDIR for each C file that build
    # scripts (ring's) compile: builds keep theirs under target/, not in the caller's TMPDIR.
    mkdir -p "$ROOT/target/build-tmp"
    local -x TMPDIR=$ROOT/target/build-tmp
    case $rid in
        linux-x64 | linux-arm64)
            ensure_zig_tools
            cargo zigbuild --release --quiet --manifest-path "$ROOT/Cargo.toml" --lib --target "$target.2.17" >&2
            ;;
        linux-musl-x64)
            ensure_zig_tools
            ensure_commands patchelf:patchelf
            CARGO_TARGET_X86_64_UNKNOWN_LINUX_MUSL_RUSTFLAGS="-C target-feature=-crt-static" \
                cargo zigbuild --release --quiet --manifest-path "$ROOT/Cargo.toml" --lib --target "$target" >&2
            local so=$ROOT/target/$target/release/libicdapi.so
            if patchelf --print-needed "$so" | grep -qx libc.so; then
                patchelf --replace-needed libc.so libc.musl-x86_64.so.1 "$so"
            fi
            ;;
        win-x64)
            ensure_commands x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64
            CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
                cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml" --lib --target "$target" >&2
            ;;
        osx-*)
            ensure_zig_tools
            cargo zigbuild --release --quiet --manifest-path "$ROOT/Cargo.toml" --lib --target "$target" >&2
            ;;
    esac
}

main() {
    local rids=("$@") rid
    ((${#rids[@]})) || rids=("${ALL_RIDS[@]}")
    for rid in "${rids[@]}"; do
        build_rid "$rid"
    done
    for rid in "${rids[@]}"; do
        echo "$rid $ROOT/target/$(rust_target "$rid")/release"
    done
}

# Sourced (by dist.sh, tests/platforms/run.sh) for rust_target and build_rid; run, it builds.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
