#!/usr/bin/env bash
# `make dist` (scripts/dist.sh) and what it writes under target/dist/, as users take it:
#   - exactly the artefacts of docs/platforms.md, and SHA256SUMS verifying them;
#   - each C archive's layout; the linux-x64 one unpacked elsewhere, the C test program built
#     with its pkg-config file alone and run against the stand-in;
#   - the Python wheels' tags checked by auditwheel show (PyPI's auditwheel, in a venv under
#     target/), each wheel holding its platform's library; the linux-x64 one installed in a
#     fresh venv and used (scripts/test.sh then runs the Python suite with it);
#   - the NuGet package: every RID's library, consumed on CoreCLR and Mono (test-package.sh);
#   - the Composer zip: lib/<rid>/ for every RID, and a real load on linux-x64 from the unpacked
#     package with ICDAPI_LIB unset.
# Cost: the cross builds are shared with tests/platforms/run.sh; the rest is about a minute.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../scripts/common.sh"

rids=(linux-x64 linux-arm64 linux-musl-x64 win-x64)
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)
dist=$ROOT/target/dist
bash "$ROOT/scripts/dist.sh" "${rids[@]}" >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/icdapi-dist-check.XXXXXX")
start_standin --escape-non-ascii # as tests/c/test_icdapi.c expects
trap 'kill "$STANDIN_PID" 2>/dev/null || true; rm -rf "$work"' EXIT
export ICD_CLIENT_ID=standin-client ICD_CLIENT_SECRET=standin-secret
export ICD_API_BASE=$STANDIN_URL ICD_TOKEN_ENDPOINT=$STANDIN_URL/connect/token
unset ICDAPI_LIB ICDAPI_LOG

passed=0
failed=0

expected_files() {
    local rid
    for rid in "${rids[@]}"; do
        case $rid in win-*) echo "icdapi-$version-$rid.zip" ;; *) echo "icdapi-$version-$rid.tar.gz" ;; esac
    done
    echo "IcdApi.$version.nupkg"
    for tag in manylinux2014_x86_64 manylinux2014_aarch64 musllinux_1_2_x86_64 win_amd64; do
        echo "icdapi-$version-py3-none-$tag.whl"
    done
    echo "icdapi-php-$version.zip"
    echo SHA256SUMS
}
check "target/dist holds exactly the artefacts of docs/platforms.md" \
    diff <(expected_files | sort) <(ls "$dist" | sort)
check "SHA256SUMS covers every artefact and verifies" bash -c '
    cd "$1" && sha256sum --quiet -c SHA256SUMS && [[ $(wc -l <SHA256SUMS) == $(($(ls | wc -l) - 1)) ]]' _ "$dist"

# --- the C archives ------------------------------------------------------------------------
archive_layout() {
    local rid=$1 top=icdapi-$version-$1 listing expected
    case $rid in
    win-*)
        listing=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$dist/$top.zip")
        expected="$top/LICENSE $top/README $top/bin/icdapi.dll $top/include/icdapi.h $top/lib/icdapi.dll.a $top/lib/icdapi.lib"
        ;;
    *)
        listing=$(tar -tzf "$dist/$top.tar.gz" | grep -v '/$')
        expected="$top/LICENSE $top/README $top/include/icdapi.h $top/lib/libicdapi.a $top/lib/libicdapi.so $top/lib/pkgconfig/icdapi.pc"
        ;;
    esac
    diff <(tr ' ' '\n' <<<"$expected" | sort) <(sort <<<"$listing")
}
for rid in "${rids[@]}"; do
    check "C archive of $rid: header, libraries, pkg-config (Linux), LICENSE, README" archive_layout "$rid"
done
windows_libraries() {
    local tree=$work/win
    mkdir -p "$tree"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$dist/icdapi-$version-win-x64.zip" "$tree"
    tree=$tree/icdapi-$version-win-x64
    # The MSVC import library names the DLL and every function of the header.
    objdump -a "$tree/lib/icdapi.lib" >/dev/null
    local function exports
    exports=$(objdump -p "$tree/bin/icdapi.dll")
    for function in $(grep -o '\bicd_[a-z0-9_]*(' "$ROOT/include/icdapi.h" | tr -d '(' | sort -u); do
        grep -aq "$function" "$tree/lib/icdapi.lib" || { echo "icdapi.lib lacks $function"; return 1; }
        grep -qw "$function" <<<"$exports" || { echo "icdapi.dll does not export $function"; return 1; }
    done
    grep -aq 'icdapi.dll' "$tree/lib/icdapi.lib"
    # A MinGW program links with the archive's import library alone.
    x86_64-w64-mingw32-gcc -std=c99 -I"$tree/include" "$ROOT/tests/c/test_icdapi.c" -o "$work/win/test.exe" \
        -L"$tree/lib" -licdapi -static -lpthread -lws2_32
    # (objdump's whole output first: grep -q stopping early would fail the pipe under pipefail)
    exports=$(objdump -p "$work/win/test.exe")
    grep -q 'DLL Name: icdapi.dll' <<<"$exports"
}
check "win-x64 archive: icdapi.lib and icdapi.dll.a import every function of the header" windows_libraries
pkg_config_program() {
    mkdir -p "$work/c"
    tar -xzf "$dist/icdapi-$version-linux-x64.tar.gz" -C "$work/c"
    local tree=$work/c/icdapi-$version-linux-x64
    # shellcheck disable=SC2046
    cc -std=c99 -D_POSIX_C_SOURCE=200809L "$ROOT/tests/c/test_icdapi.c" -o "$work/c/test_icdapi" \
        $(PKG_CONFIG_PATH=$tree/lib/pkgconfig pkg-config --cflags --libs icdapi) -Wl,-rpath,"$tree/lib" -lpthread
    env -u LD_LIBRARY_PATH "$work/c/test_icdapi" >"$work/c/out.txt" || { cat "$work/c/out.txt"; return 1; }
    grep -qE '^[0-9]+ passed, 0 failed$' "$work/c/out.txt"
    ldd "$work/c/test_icdapi" | grep -q "$tree/lib/libicdapi.so"
}
check "linux-x64 archive unpacked elsewhere: the C test program built with its pkg-config file passes" pkg_config_program

# --- Python wheels -------------------------------------------------------------------------
tools=$ROOT/target/platform-tools/venv
if ! "$tools/bin/auditwheel" --version >/dev/null 2>&1; then
    [[ -x $tools/bin/python ]] || python3 -m venv "$tools"
    PIP_CACHE_DIR=$ROOT/target/pip-cache "$tools/bin/python" -m pip install --quiet --disable-pip-version-check 'auditwheel>=6'
fi
auditwheel_agrees() {
    local tag=$1 wheel=$dist/icdapi-$version-py3-none-$1.whl output
    output=$("$tools/bin/auditwheel" show "$wheel" 2>&1) || { echo "$output"; return 1; }
    echo "$output"
    # manylinux2014 is manylinux_2_17 (PEP 600 names it so)
    local policy=${tag/manylinux2014/manylinux_2_17}
    grep -q "\"$policy\"" <<<"$output"
}
for tag in manylinux2014_x86_64 manylinux2014_aarch64 musllinux_1_2_x86_64; do
    check "wheel $tag: auditwheel show agrees with its tag" auditwheel_agrees "$tag"
done
wheel_library() {
    python3 - "$dist/icdapi-$version-py3-none-$1.whl" "$2" "$3" <<'PY'
import sys, zipfile
wheel, member, magic = sys.argv[1:]
z = zipfile.ZipFile(wheel)
names = z.namelist()
assert member in names, names
assert z.read(member).startswith(magic.encode("latin-1").decode("unicode_escape").encode("latin-1")), member
assert "icdapi/_ffi.py" in names and "icdapi/py.typed" in names, names
assert z.testzip() is None
PY
}
check "wheel win_amd64 holds the Windows DLL as icdapi/_native/_native.dll" wheel_library win_amd64 icdapi/_native/_native.dll 'MZ'
check "wheel manylinux2014_aarch64 holds the ARM64 library" wheel_library manylinux2014_aarch64 icdapi/_native/lib_native.so '\x7fELF'
fresh_venv_wheel() {
    python3 -m venv "$work/venv"
    "$work/venv/bin/python" -m pip install --quiet --no-index --disable-pip-version-check \
        "$dist/icdapi-$version-py3-none-manylinux2014_x86_64.whl"
    (cd "$work" && env -u LD_LIBRARY_PATH "$work/venv/bin/python" -c '
import sys, icdapi
assert icdapi._ffi._library_path().startswith(sys.prefix), icdapi._ffi._library_path()
with icdapi.Client() as client:
    print(client.search("cholera", highlightingEnabled=False)["destinationEntities"][0]["theCode"], icdapi.__version__)
' | grep -qx "1A00 $version")
    # And no other platform's wheel installs here.
    ! "$work/venv/bin/python" -m pip install --quiet --no-index --disable-pip-version-check \
        "$dist/icdapi-$version-py3-none-win_amd64.whl" 2>/dev/null
}
check "wheel manylinux2014_x86_64 installs in a fresh venv and calls the stand-in (win_amd64 refused there)" fresh_venv_wheel

# --- NuGet -------------------------------------------------------------------------------
check "NuGet package: every RID's library; restored and run on CoreCLR and Mono (test-package.sh)" \
    env ICDAPI_NUPKG="$dist/IcdApi.$version.nupkg" ICDAPI_NUPKG_RIDS="${rids[*]}" \
    bash "$ROOT/bindings/csharp/nuget/test-package.sh"

# --- PHP -------------------------------------------------------------------------------------
php_package() {
    local tree=$work/php rid file
    mkdir -p "$tree"
    python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$dist/icdapi-php-$version.zip" "$tree"
    for rid in "${rids[@]}"; do
        case $rid in win-*) file=icdapi.dll ;; *) file=libicdapi.so ;; esac
        [[ -s $tree/lib/$rid/$file ]] || { echo "missing lib/$rid/$file"; return 1; }
    done
    python3 -c 'import json, sys; c = json.load(open(sys.argv[1])); assert c["type"] == "library" and c["version"] == sys.argv[2], c' \
        "$tree/composer.json" "$version"
    composer validate --no-check-publish --quiet "$tree/composer.json"
    # With ICDAPI_LIB unset, from another directory: lib/linux-x64/libicdapi.so is found and loaded.
    (cd "$work" && env -u ICDAPI_LIB php -d ffi.enable=1 -r '
        $package = $argv[1];
        spl_autoload_register(function ($c) use ($package) { $f = "$package/src/" . substr($c, 7) . ".php"; if (is_file($f)) require $f; });
        echo IcdApi\FFI::libraryPath(), "\n", IcdApi\Client::version(), "\n";
        echo str_contains(file_get_contents("/proc/self/maps"), "/lib/linux-x64/libicdapi.so") ? "mapped" : "not mapped", "\n";
    ' "$tree") >"$work/php.out" || { cat "$work/php.out"; return 1; }
    diff <(printf '%s\n' "$tree/lib/linux-x64/libicdapi.so" "$version" mapped) "$work/php.out"
}
check "Composer zip: lib/<rid>/ for every RID; loaded on linux-x64 without ICDAPI_LIB" php_package

echo "dist: $passed passed, $failed failed"
((failed == 0))
