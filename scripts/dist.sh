#!/usr/bin/env bash
# `make dist`: what a user downloads, for every platform, under target/dist/ (docs/platforms.md):
#   icdapi-<version>-<rid>.tar.gz (.zip for win-x64)  include/icdapi.h, the libraries (stripped),
#       lib/pkgconfig/icdapi.pc (Linux, relocatable: ${pcfiledir}), LICENSE, README
#   IcdApi.<version>.nupkg          the C# binding with runtimes/<rid>/native/ for every RID
#   icdapi-<version>-py3-none-<tag>.whl   one Python wheel per platform (bindings/python/make_wheel.py)
#   icdapi-php-<version>.zip        the Composer package with lib/<rid>/ for every RID
#   SHA256SUMS
#
#   scripts/dist.sh [RID...]   (default: linux-x64 linux-arm64 linux-musl-x64 win-x64)
#
# The libraries come from scripts/cross.sh (each target built once, in target/<triple>/release).
# tests/platforms/dist-check.sh checks what this writes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/cross.sh" # ROOT, rust_target, build_rid, ensure_commands

rids=("$@")
((${#rids[@]})) || rids=("${ALL_RIDS[@]}")
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)
dist=$ROOT/target/dist
stage=$ROOT/target/dist-stage
rm -rf "$dist" "$stage"
mkdir -p "$dist" "$stage"

ensure_commands mcs:mono-mcs python3:python3 pkg-config:pkg-config
for rid in "${rids[@]}"; do
    case $rid in
        linux-arm64) ensure_commands aarch64-linux-gnu-strip:binutils-aarch64-linux-gnu ;;
        win-x64) ensure_commands x86_64-w64-mingw32-strip:binutils-mingw-w64-x86-64 ;;
    esac
    build_rid "$rid"
done

strip_tool() {
    case $1 in
        linux-arm64) echo aarch64-linux-gnu-strip ;;
        win-x64) echo x86_64-w64-mingw32-strip ;;
        *) echo strip ;;
    esac
}

# The shared library of a RID, stripped, in $stage/native/<rid>/ (what every package ships).
native_library() {
    local rid=$1 lib name
    lib=$ROOT/target/$(rust_target "$rid")/release
    case $rid in win-*) name=icdapi.dll ;; osx-*) name=libicdapi.dylib ;; *) name=libicdapi.so ;; esac
    mkdir -p "$stage/native/$rid"
    if [[ ! -e $stage/native/$rid/$name ]]; then
        "$(strip_tool "$rid")" --strip-unneeded -o "$stage/native/$rid/$name" "$lib/$name"
    fi
    echo "$stage/native/$rid/$name"
}

# LICENSE: the crate is "MIT OR Apache-2.0"; both texts are in the repository.
{
    echo "icdapi is licensed under either of the MIT license or the Apache License, Version 2.0, at your option."
    echo
    echo "=== MIT license (LICENSE-MIT) ==="
    cat "$ROOT/LICENSE-MIT"
    echo
    echo "=== Apache License, Version 2.0 (LICENSE-APACHE) ==="
    cat "$ROOT/LICENSE-APACHE"
} >"$stage/LICENSE"

# --- the C archives ------------------------------------------------------------------------
archive_readme() {
    local rid=$1
    cat <<EOF
icdapi $version for $rid: the C library of icdapi, a thread-safe client for the WHO ICD-11 /
ICD-10 API. One header for every platform: include/icdapi.h (its comments are the reference).

EOF
    case $rid in
    win-*)
        cat <<'EOF'
bin/icdapi.dll        the library; ship it beside your program. It needs Windows' own DLLs only.
lib/icdapi.lib        import library for MSVC (cl app.c /I include lib\icdapi.lib)
lib/icdapi.dll.a      import library for MinGW (gcc app.c -Iinclude -Llib -licdapi)

token_cache_file is refused on Windows (ICD_ERR_INVALID_ARGUMENT, saying why): each process
fetches its own token. The system's certificate store is Windows' own; ca_file takes a PEM file.
EOF
        ;;
    linux-musl-*)
        cat <<'EOF'
lib/libicdapi.so      for Alpine and other musl systems (needs libc.musl-x86_64.so.1 only)
lib/libicdapi.a       static library
lib/pkgconfig/        pkg-config file, relocatable: wherever this folder is unpacked,
    PKG_CONFIG_PATH=$PWD/lib/pkgconfig cc app.c $(pkg-config --cflags --libs icdapi)
EOF
        ;;
    linux-*)
        cat <<'EOF'
lib/libicdapi.so      shared library; needs glibc 2.17 or later (manylinux2014)
lib/libicdapi.a       static library
lib/pkgconfig/        pkg-config file, relocatable: wherever this folder is unpacked,
    PKG_CONFIG_PATH=$PWD/lib/pkgconfig cc app.c $(pkg-config --cflags --libs icdapi) -Wl,-rpath,$PWD/lib
EOF
        ;;
    esac
    echo
    echo "Licensed MIT OR Apache-2.0 (LICENSE)."
}

for rid in "${rids[@]}"; do
    name=icdapi-$version-$rid
    tree=$stage/archives/$name
    lib=$ROOT/target/$(rust_target "$rid")/release
    mkdir -p "$tree/include" "$tree/lib"
    cp "$ROOT/include/icdapi.h" "$tree/include/"
    cp "$stage/LICENSE" "$tree/LICENSE"
    archive_readme "$rid" >"$tree/README"
    case $rid in
    win-*)
        mkdir -p "$tree/bin"
        cp "$(native_library "$rid")" "$tree/bin/icdapi.dll"
        cp "$lib/libicdapi.dll.a" "$tree/lib/icdapi.dll.a"
        # MSVC's import library, from the DLL's exports (llvm-dlltool, as zig ships it).
        ensure_zig_tools
        objdump -p "$lib/icdapi.dll" | awk '/^\[Ordinal\/Name Pointer\] Table/ {on = 1; next} on && /^[ \t]*\[/ {print $NF} on && /^$/ {on = 0}' \
            >"$stage/icdapi.exports"
        { echo "LIBRARY icdapi.dll"; echo "EXPORTS"; sed 's/^/    /' "$stage/icdapi.exports"; } >"$stage/icdapi.def"
        python3 -m ziglang dlltool -m i386:x86-64 -D icdapi.dll -d "$stage/icdapi.def" -l "$tree/lib/icdapi.lib"
        (cd "$stage/archives" && python3 - "$name" "$dist/$name.zip" <<'PY'
import os, sys, zipfile
top, out = sys.argv[1:]
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
    for folder, dirs, files in sorted(os.walk(top)):
        dirs.sort()
        for f in sorted(files):
            path = os.path.join(folder, f)
            info = zipfile.ZipInfo(path, (2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if f.endswith(".dll") else 0o100644) << 16
            with open(path, "rb") as fh:
                z.writestr(info, fh.read())
PY
        )
        ;;
    *)
        mkdir -p "$tree/lib/pkgconfig"
        cp "$(native_library "$rid")" "$tree/lib/libicdapi.so"
        "$(strip_tool "$rid")" --strip-debug -o "$tree/lib/libicdapi.a" "$lib/libicdapi.a"
        # Relocatable: pkg-config sets ${pcfiledir} to the folder of the .pc file.
        sed -e 's|@PREFIX@|${pcfiledir}/../..|' -e 's|@LIBDIR@|${prefix}/lib|' -e 's|@INCLUDEDIR@|${prefix}/include|' \
            -e "s|@VERSION@|$version|" "$ROOT/icdapi.pc.in" >"$tree/lib/pkgconfig/icdapi.pc"
        tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@946684800 \
            -C "$stage/archives" -czf "$dist/$name.tar.gz" "$name"
        ;;
    esac
done

# --- NuGet: one package, every RID ---------------------------------------------------------
natives=()
for rid in "${rids[@]}"; do
    natives+=("$rid=$(native_library "$rid")")
done
ICDAPI_NUGET_NATIVES="${natives[*]}" ICDAPI_NUGET_OUT="$dist/IcdApi.$version.nupkg" \
    bash "$ROOT/bindings/csharp/nuget/pack.sh" >/dev/null

# --- Python: one wheel per platform tag ----------------------------------------------------
wheel_tag() {
    case $1 in
        linux-x64) echo manylinux2014_x86_64 ;;
        linux-arm64) echo manylinux2014_aarch64 ;;
        linux-musl-x64) echo musllinux_1_2_x86_64 ;;
        win-x64) echo win_amd64 ;;
        osx-arm64) echo macosx_11_0_arm64 ;;
        osx-x64) echo macosx_10_12_x86_64 ;;
    esac
}
for rid in "${rids[@]}"; do
    python3 "$ROOT/bindings/python/make_wheel.py" --library "$(native_library "$rid")" --tag "$(wheel_tag "$rid")" \
        --out "$dist" >/dev/null
done

# --- PHP: the Composer package with lib/<rid>/ ---------------------------------------------
php_tree=$stage/php
mkdir -p "$php_tree"
(cd "$ROOT/bindings/php" && cp -r README.md icdapi.php.h preload.php src tools examples deploy "$php_tree/")
cp "$stage/LICENSE" "$php_tree/LICENSE"
# A versioned composer.json, as Composer's artifact and path repositories want it; no dev parts.
python3 - "$ROOT/bindings/php/composer.json" "$php_tree/composer.json" "$version" <<'PY'
import json, sys
source, target, version = sys.argv[1:]
with open(source) as f:
    composer = json.load(f)
composer["version"] = version
for key in ("require-dev", "autoload-dev", "scripts"):
    composer.pop(key, None)
with open(target, "w") as f:
    json.dump(composer, f, indent=4)
    f.write("\n")
PY
for rid in "${rids[@]}"; do
    mkdir -p "$php_tree/lib/$rid"
    cp "$(native_library "$rid")" "$php_tree/lib/$rid/"
done
(cd "$php_tree" && python3 - "$dist/icdapi-php-$version.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for folder, dirs, files in sorted(os.walk(".")):
        dirs.sort()
        for f in sorted(files):
            path = os.path.normpath(os.path.join(folder, f))
            info = zipfile.ZipInfo(path, (2000, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            with open(path, "rb") as fh:
                z.writestr(info, fh.read())
PY
)

(cd "$dist" && sha256sum -- * >SHA256SUMS)
rm -rf "$stage"
ls -l "$dist"
