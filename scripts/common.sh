# Shared by demo.sh and test.sh: the repository root, package installation, the stand-in.
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export ROOT

# One named check of a shell suite (tests/install, tests/platforms/dist-check, the NuGet package
# test): `check NAME COMMAND...` runs the command, prints "ok   NAME" or "FAIL NAME" with the last
# 40 lines of its output, and counts into the caller's `passed` and `failed`.
check() {
    local output
    if output=$("${@:2}" 2>&1); then
        echo "ok   $1"
        passed=$((passed + 1))
    else
        echo "FAIL $1"
        sed 's/^/    /' <<<"$output" | tail -n 40
        failed=$((failed + 1))
    fi
}

# Installs the Debian packages that provide any missing command (command:package pairs).
ensure_commands() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    ((${#missing[@]})) || return 0
    echo "== installing Debian packages: ${missing[*]}"
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    # A registry hiccup should not fail the run: three tries, a pause between them. Recommends
    # are installed: the suites were developed against them (php-cli's FFI, Mono's assemblies).
    local try
    for try in 1 2 3; do
        if "${sudo[@]}" apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null; then
            return 0
        fi
        echo "apt-get failed (try $try of 3)" >&2
        sleep $((try * 10))
    done
    return 1
}

# What the demo needs beyond a Rust toolchain, and no more: a C compiler (the C demo), Python
# (the stand-in, and the Python demo: install-venv.sh adds python3-venv where it is missing),
# PHP's command line with FFI (php-cli), Mono (the C# demo), patchelf (maturin, building the
# Python wheel). Extra command:package pairs are installed with them.
ensure_demo_prerequisites() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo is missing: install Rust (https://rustup.rs), then run this again" >&2
        exit 1
    fi
    ensure_commands cc:gcc python3:python3 php:php-cli mcs:mono-mcs mono:mono-runtime patchelf:patchelf "$@"
    # Assemblies the C# code references, which mono-runtime alone lacks.
    if [[ ! -e /usr/lib/mono/4.5/System.Core.dll ]]; then
        ensure_commands __missing__:libmono-system-core4.0-cil
    fi
}

# What the whole test command needs: the demo's, plus the C++ compiler and make (the C/C++ test
# program, the install test), pkg-config, php-cgi and PHPUnit, openssl (TLS tests), valgrind,
# and the PHP deployment tools.
ensure_prerequisites() {
    ensure_demo_prerequisites c++:g++ make:make pkg-config:pkg-config php-cgi:php-cgi phpunit:phpunit \
        openssl:openssl valgrind:valgrind "$@"
    ensure_php_deploy_tools
}

# What the PHP suite needs beyond php-cli and phpunit: Debian's php-fpm and nginx (the PHP-FPM
# test starts them on loopback) and Composer (composer validate, installs from a path repository).
ensure_php_deploy_tools() {
    case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac # nginx, php-fpm
    local fpm
    fpm=php-fpm$(php -r 'echo PHP_MAJOR_VERSION, ".", PHP_MINOR_VERSION;') # Debian's name: php-fpm8.2
    ensure_commands "$fpm:php-fpm" nginx:nginx composer:composer
}

build_release_library() {
    echo "== building libicdapi (release)"
    cargo build --release --manifest-path "$ROOT/Cargo.toml" --quiet
    export ICDAPI_LIB_DIR="$ROOT/target/release"
    export ICDAPI_LIB="$ROOT/target/release/libicdapi.so"
}

# Starts the local stand-in of the WHO API on a free loopback port: sets STANDIN_URL and
# STANDIN_PID, and stops it when the script exits.
start_standin() {
    local out
    out=$(mktemp)
    python3 "$ROOT/tools/standin/icd_standin.py" --port 0 --quiet "$@" >"$out" &
    STANDIN_PID=$!
    trap 'kill "$STANDIN_PID" 2>/dev/null || true' EXIT
    local line=""
    for _ in $(seq 200); do
        line=$(head -n 1 "$out")
        [[ $line == LISTENING* ]] && break
        sleep 0.05
    done
    rm -f "$out"
    if [[ $line != LISTENING* ]]; then
        echo "the stand-in did not start" >&2
        exit 1
    fi
    STANDIN_URL=${line#LISTENING }
    export STANDIN_URL STANDIN_PID
}
