#!/usr/bin/env bash
# The Python suite: a venv in target/python-tests, the package installed into it the way users do
# (`pip install ./bindings/python`: maturin builds the native library into the wheel), the wheel
# of `maturin build --release`, then pytest against the local stand-in (bindings/python/tests/:
# the client, the command line, the Dask example, the wheel in a fresh venv, the types).
# Usage: run-tests.sh [more pytest arguments]
set -euo pipefail

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

work="$ROOT/target/python-tests"
venv="$work/venv"
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    rm -rf "$venv"
    python3 -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check --quiet)
echo "== Python: test tools into $venv (pytest, mypy, maturin, dask[distributed])"
"${pip[@]}" install --upgrade -r "$here/tests/requirements.txt"

echo "== Python: pip install ./bindings/python (maturin builds the native library into the wheel)"
"${pip[@]}" install --force-reinstall --no-deps "$here"

echo "== Python: maturin build --release (the wheel the suite installs into a fresh venv)"
rm -rf "$work/wheels"
if ! (cd "$here" && "$venv/bin/maturin" build --release --quiet --interpreter "$venv/bin/python" \
    --out "$work/wheels") >"$work/maturin.log" 2>&1; then
    cat "$work/maturin.log" >&2
    exit 1
fi
ICDAPI_TEST_WHEEL=$(ls "$work"/wheels/icdapi-*.whl)
export ICDAPI_TEST_WHEEL

# The tests start their own stand-in and set every URL themselves: nothing from the caller's
# environment may redirect them, nor load another library.
unset ICD_CLIENT_ID ICD_CLIENT_SECRET ICD_API_BASE ICD_TOKEN_ENDPOINT ICDAPI_LOG ICDAPI_LIB LD_LIBRARY_PATH \
      HTTPS_PROXY https_proxy ALL_PROXY all_proxy HTTP_PROXY http_proxy
export PYTHONDONTWRITEBYTECODE=1  # nothing written into the checkout
cd "$work"
exec "$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests" "$@"
