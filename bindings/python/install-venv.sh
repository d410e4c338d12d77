# Sourced by run-tests.sh and run-demo.sh: a venv at $venv (kept between runs) with the package
# installed the way users install it, `pip install ./bindings/python` (maturin builds the native
# library into the wheel; cargo decides whether anything needs compiling). Sets here, pip.
# shellcheck shell=bash

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/../../scripts/common.sh"  # ROOT, ensure_commands

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install Rust (https://rustup.rs), then run this again" >&2
    exit 1
fi
ensure_commands python3:python3
# python3 -m venv needs ensurepip, which Debian ships apart (python3-venv).
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    ensure_commands __missing__:python3-venv
fi
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
# pip's downloads are kept under target/ too (and reused by the next run): nothing outside it.
export PIP_CACHE_DIR="$ROOT/target/pip-cache"
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)

install_package() {
    echo "== Python: pip install ./bindings/python into $venv (maturin builds the native library into the wheel)"
    "${pip[@]}" install --force-reinstall --no-deps "$here"
}
