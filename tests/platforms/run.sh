#!/usr/bin/env bash
# The platform proofs: the C test program (tests/c/test_icdapi.c, the one Linux x86-64 runs) built
# for each platform against that platform's library and run against the stand-in on loopback,
# every check passing, and the same number of checks everywhere:
#   linux-x64       the glibc-2.17 build (cargo-zigbuild) with gcc, run natively
#   linux-arm64     built with Debian's aarch64-linux-gnu-gcc, run under qemu-aarch64
#   linux-musl-x64  linked with musl-gcc twice: statically (libicdapi.a) and against libicdapi.so
#   win-x64         built with mingw-w64, run under Wine (wine64) with Windows paths
# and the rules of docs/platforms.md: nothing newer than glibc 2.17 (objdump -T), system DLLs
# only for icdapi.dll (objdump -p), musl's C library alone for the musl build (readelf -d).
# Each platform also runs the platform checks of test_platform(): cache_dir in the platform's
# form, token_cache_file (refused on Windows, saying why), TLS with ca_file and with the
# system's certificate store (the test certificate put in it: SSL_CERT_FILE on Linux; on Windows
# refused before it is put into Wine's registry store, and found there after).
#
#   tests/platforms/run.sh [RID...]     (default: every RID; libraries built by scripts/cross.sh)
#
# Cost: the cross builds (about 3 minutes each on 2 cores, once; cargo reuses them after), then
# well under a minute for the runs (Wine's first start in a fresh prefix under target/ included).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../scripts/cross.sh" # ROOT, ensure_commands, rust_target, build_rid, start_standin

rids=("$@")
((${#rids[@]})) || rids=("${ALL_RIDS[@]}")
out=$ROOT/target/platforms
mkdir -p "$out"
# Generous: Wine's first start in a fresh prefix takes a while on a loaded machine.
TIMEOUT=${ICDAPI_PLATFORM_TIMEOUT:-600}

ensure_commands openssl:openssl objdump:binutils readelf:binutils timeout:coreutils
for rid in "${rids[@]}"; do
    case $rid in
        linux-arm64)
            ensure_commands aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu qemu-aarch64:qemu-user
            [[ -e /usr/aarch64-linux-gnu/lib/libc.so.6 ]] || ensure_commands __missing__:libc6-dev-arm64-cross
            ;;
        linux-musl-x64) ensure_commands musl-gcc:musl-tools ;;
        win-x64)
            ensure_commands x86_64-w64-mingw32-gcc:gcc-mingw-w64-x86-64 wine:wine
            [[ -e /usr/lib/wine/wine64 ]] || ensure_commands __missing__:wine64
            ;;
    esac
done

for rid in "${rids[@]}"; do
    build_rid "$rid"
done

failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}

# --- the stand-ins: plain HTTP, and HTTPS with a self-signed certificate -------------------
# Self-signed (the certificate is its own trust anchor, given as ca_file or put in the system's
# store): Wine's chain policy ignores CERT_CHAIN_POLICY_IGNORE_ALL_REV_UNKNOWN_FLAGS, so a server
# certificate issued by a CA, with no revocation information, fails there with
# CERT_E_REVOCATION_FAILURE where Windows accepts it; a root's own revocation is never checked.
tls=$out/tls
rm -rf "$tls"
mkdir -p "$tls"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=icdapi platform test" \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost -addext basicConstraints=critical,CA:FALSE \
    -addext extendedKeyUsage=serverAuth -keyout "$tls/server.key" -out "$tls/server.pem" 2>/dev/null
cp "$tls/server.pem" "$tls/ca.pem"

start_standin --tls-cert "$tls/server.pem" --tls-key "$tls/server.key"
TLS_URL=$STANDIN_URL
TLS_PID=$STANDIN_PID
start_standin --escape-non-ascii
trap 'kill "$STANDIN_PID" "$TLS_PID" 2>/dev/null || true' EXIT
[[ $TLS_URL == https://* ]] || { echo "the TLS stand-in did not serve https: $TLS_URL" >&2; exit 1; }

export ICD_CLIENT_ID=standin-client ICD_CLIENT_SECRET=standin-secret
export ICD_API_BASE=$STANDIN_URL ICD_TOKEN_ENDPOINT=$STANDIN_URL/connect/token ICDAPI_TEST_TLS_BASE=$TLS_URL
unset ICDAPI_LOG ICDAPI_TEST_CACHE_DIR ICDAPI_TEST_TOKEN_FILE ICDAPI_TEST_CA_FILE ICDAPI_TEST_SYSTEM_TRUSTS_CA

expected_checks=""
# run_program LABEL COMMAND...: the program's output in $out/LABEL.log; passes when it exits 0
# with "N passed, 0 failed", N the same for every platform (the first run sets it).
run_program() {
    local label=$1 status=0 summary count
    shift
    timeout "$TIMEOUT" "$@" >"$out/$label.log" 2>"$out/$label.stderr" || status=$?
    # (Wine's console writes CRLF.)
    summary=$(tr -d '\r' <"$out/$label.log" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -n 1 || true)
    if ((status != 0)) || [[ $summary != *" passed, 0 failed" ]]; then
        grep '^FAIL' "$out/$label.log" || true
        tail -n 20 "$out/$label.stderr"
        fail "$label: exit status $status, '${summary:-no summary line}' (output in $out/$label.log)"
        return
    fi
    count=${summary%% passed*}
    expected_checks=${expected_checks:-$count}
    if [[ $count != "$expected_checks" ]]; then
        fail "$label: $count checks passed where the first platform passed $expected_checks"
        return
    fi
    echo "ok   $label: $summary"
}

# The newest glibc symbol version a library needs must be at most 2.17.
check_glibc_floor() {
    local label=$1 library=$2 newest
    newest=$(objdump -T "$library" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)
    if [[ -z $newest ]]; then
        fail "$label: objdump -T shows no glibc symbol version in $library"
    elif [[ $(printf '%s\n2.17\n' "$newest" | sort -V | tail -n 1) != 2.17 ]]; then
        fail "$label: $library needs GLIBC_$newest, newer than the 2.17 floor:"
        objdump -T "$library" | grep -E "GLIBC_$newest" | head -n 5
    else
        echo "ok   $label: needs nothing newer than GLIBC_$newest (objdump -T)"
    fi
}

# The DLLs every Windows 10 and later has (no mingw runtime: libgcc_s_seh-1, libwinpthread-1, libstdc++-6).
SYSTEM_DLLS='^(api-ms-win-[a-z0-9-]+|kernel32|advapi32|bcrypt|bcryptprimitives|crypt32|ntdll|userenv|ws2_32|msvcrt|secur32|ole32|oleaut32|shell32|user32|ncrypt)\.dll$'
check_system_dlls_only() {
    local label=$1 dll=$2 imports others
    imports=$(objdump -p "$dll" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z' | sort -u)
    others=$(grep -Ev "$SYSTEM_DLLS" <<<"$imports" || true)
    if [[ -z $imports ]]; then
        fail "$label: objdump -p shows no imports in $dll"
    elif [[ -n $others ]]; then
        fail "$label: $dll imports DLLs that are not Windows' own: $others"
    else
        echo "ok   $label: $(basename "$dll") imports system DLLs only: $(echo $imports) (objdump -p)"
    fi
}

# (-D_POSIX_C_SOURCE first: the Windows build leaves it out, ${cflags[@]:1}.)
cflags=(-D_POSIX_C_SOURCE=200809L -std=c99 -O1 -Wall -Wextra -Werror -pedantic -I"$ROOT/include")

# Per-run scratch: the cache directory and the token file's path.
scratch=$out/scratch
unix_platform_env() {
    rm -rf "$scratch"
    mkdir -p "$scratch"
    printf '%s\n' env ICDAPI_TEST_CACHE_DIR="$scratch/cache dir/icdapi" ICDAPI_TEST_TOKEN_FILE="$scratch/token.json" \
        ICDAPI_TEST_CA_FILE="$tls/ca.pem" SSL_CERT_FILE="$tls/ca.pem" ICDAPI_TEST_SYSTEM_TRUSTS_CA=1
}

for rid in "${rids[@]}"; do
    lib=$ROOT/target/$(rust_target "$rid")/release
    dir=$out/$rid
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "== $rid"
    case $rid in
    linux-x64)
        check_glibc_floor "$rid" "$lib/libicdapi.so"
        cc "${cflags[@]}" "$ROOT/tests/c/test_icdapi.c" -o "$dir/test_icdapi" -L"$lib" -Wl,-rpath,"$lib" -licdapi -lpthread
        mapfile -t env_args < <(unix_platform_env)
        run_program "$rid" "${env_args[@]}" "$dir/test_icdapi"
        ;;
    linux-arm64)
        check_glibc_floor "$rid" "$lib/libicdapi.so"
        aarch64-linux-gnu-gcc "${cflags[@]}" "$ROOT/tests/c/test_icdapi.c" -o "$dir/test_icdapi" \
            -L"$lib" -Wl,-rpath,"$lib" -licdapi -lpthread
        mapfile -t env_args < <(unix_platform_env)
        run_program "$rid" "${env_args[@]}" qemu-aarch64 -L /usr/aarch64-linux-gnu "$dir/test_icdapi"
        ;;
    linux-musl-x64)
        # Only musl's C library, under the name Alpine gives it (see scripts/cross.sh).
        needed=$(readelf -d "$lib/libicdapi.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
        if [[ $needed == "libc.musl-x86_64.so.1 " ]]; then
            echo "ok   $rid: libicdapi.so needs $needed(readelf -d)"
        else
            fail "$rid: libicdapi.so needs '$needed', not musl's C library alone"
        fi
        # musl's loader takes any libc.* dependency for itself, as on Alpine; only the linker, which
        # checks the library's dependencies, needs a file of that name: Debian's musl, linked.
        ln -sf "$(readlink -f /lib/ld-musl-x86_64.so.1)" "$dir/libc.musl-x86_64.so.1"
        musl-gcc "${cflags[@]}" "$ROOT/tests/c/test_icdapi.c" -o "$dir/test_icdapi_shared" \
            -L"$lib" -Wl,-rpath,"$lib" -Wl,-rpath-link,"$dir" -licdapi -lpthread
        mapfile -t env_args < <(unix_platform_env)
        run_program "$rid-shared" "${env_args[@]}" "$dir/test_icdapi_shared"
        # Static: Debian's musl-gcc would bring glibc's libgcc_eh; Rust's own musl libunwind.a
        # (self-contained, in the target's sysroot) unwinds instead, as Alpine's gcc needs nothing.
        unwind=$(rustc --print sysroot)/lib/rustlib/x86_64-unknown-linux-musl/lib/self-contained/libunwind.a
        musl-gcc -static "${cflags[@]}" "$ROOT/tests/c/test_icdapi.c" -o "$dir/test_icdapi_static" \
            "$lib/libicdapi.a" "$unwind" -lpthread
        if readelf -l "$dir/test_icdapi_static" | grep -q INTERP; then
            fail "$rid: the static program has a dynamic loader"
        fi
        mapfile -t env_args < <(unix_platform_env)
        run_program "$rid-static" "${env_args[@]}" "$dir/test_icdapi_static"
        ;;
    win-x64)
        check_system_dlls_only "$rid" "$lib/icdapi.dll"
        cp "$lib/icdapi.dll" "$dir/"
        # The program links winpthread and libgcc statically: it needs icdapi.dll and system DLLs.
        x86_64-w64-mingw32-gcc "${cflags[@]:1}" "$ROOT/tests/c/test_icdapi.c" \
            -o "$dir/test_icdapi.exe" "$lib/libicdapi.dll.a" -static -lpthread -lws2_32
        # Test only: Wine 8 lacks bcryptprimitives.dll (see the shim's source); never shipped.
        x86_64-w64-mingw32-gcc -O2 -shared -Wall -Wextra -Werror -static-libgcc \
            "$here/bcryptprimitives_shim.c" -o "$dir/bcryptprimitives.dll" -lbcrypt
        export WINEPREFIX=$out/wineprefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" WINEARCH=win64
        # wineserver keeps its socket under TMPDIR, and leaves it there: under target/ instead.
        mkdir -p "$out/wine-tmp"
        export TMPDIR=$out/wine-tmp
        if [[ ! -e $WINEPREFIX/system.reg ]]; then
            echo "   (first start of Wine in $WINEPREFIX)"
            timeout "$TIMEOUT" wine wineboot --init >/dev/null 2>&1 || fail "$rid: wineboot failed or timed out"
        fi
        rm -rf "$WINEPREFIX/drive_c/icdapi test"
        windows_env=(env ICDAPI_TEST_CACHE_DIR='C:\icdapi test\cache dir' ICDAPI_TEST_TOKEN_FILE='C:\icdapi test\token.json'
            ICDAPI_TEST_CA_FILE="$(winepath -w "$tls/ca.pem")")
        # First with the test certificate unknown to Windows' store: refused as an unknown issuer.
        run_program "$rid" "${windows_env[@]}" wine "$dir/test_icdapi.exe"
        # Then with it in the machine-wide root store (the registry), as an administrator puts it
        # there: the chain now reaches it. Wine 8's policy then fails it for its unknown
        # revocation status, which Windows ignores (see test_icdapi.c): the closest to success
        # Wine allows, and it proves the store is the one consulted.
        python3 "$here/wine_root_cert.py" "$tls/ca.pem" >"$dir/root-ca.reg"
        timeout "$TIMEOUT" wine regedit /S "$(winepath -w "$dir/root-ca.reg")" >/dev/null 2>&1 ||
            fail "$rid: regedit could not import the test certificate"
        run_program "$rid-system-store" "${windows_env[@]}" ICDAPI_TEST_SYSTEM_TRUSTS_CA=revocation-unknown \
            wine "$dir/test_icdapi.exe"
        if ! compgen -G "$WINEPREFIX/drive_c/icdapi test/cache dir/*.json" >/dev/null; then
            fail "$rid: no cache entry in C:\\icdapi test\\cache dir"
        fi
        if [[ -e "$WINEPREFIX/drive_c/icdapi test/token.json" ]]; then
            fail "$rid: the refused token_cache_file was written"
        fi
        # Wine's server leaves a few seconds after its last program: wait for it, kill nothing.
        timeout 60 wineserver -w || true
        ;;
    *)
        fail "$rid: no platform test for it"
        ;;
    esac
done
rm -rf "$scratch"

echo
if ((failures == 0)); then
    echo "platforms: ${rids[*]}: every check passed"
else
    echo "platforms: $failures failure(s)"
    exit 1
fi
