#!/usr/bin/env bash
# The Python suite: a venv in target/python-tests, the package installed into it the way users do
# (`pip install ./bindings/python`: maturin builds the native library into the wheel), the wheel
# of `maturin build --release`, then pytest against the local stand-in (bindings/python/tests/:
# the client, the command line, the Dask example, the wheel in a fresh venv, the types).
# Usage: run-tests.sh [more pytest arguments]
set -euo pipefail

venv="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/target/python-tests/venv"
source "$(dirname "${BASH_SOURCE[0]}")/install-venv.sh"
work=$(dirname "$venv")
echo "== Python: test tools into $venv (pytest, mypy, maturin, dask[distributed])"
"${pip[@]}" install --upgrade -r "$here/tests/requirements.txt"

install_package

# ICDAPI_TEST_WHEEL may name a wheel made elsewhere: scripts/test.sh passes make dist's
# manylinux2014_x86_64 wheel (bindings/python/make_wheel.py), which then installs in the fresh venv.
if [[ -z ${ICDAPI_TEST_WHEEL:-} ]]; then
    echo "== Python: maturin build --release (the wheel the suite installs into a fresh venv)"
    rm -rf "$work/wheels"
    if ! (cd "$here" && "$venv/bin/maturin" build --release --quiet --interpreter "$venv/bin/python" \
        --out "$work/wheels") >"$work/maturin.log" 2>&1; then
        cat "$work/maturin.log" >&2
        exit 1
    fi
    ICDAPI_TEST_WHEEL=$(ls "$work"/wheels/icdapi-*.whl)
fi
echo "== Python: the wheel installed into a fresh venv: $ICDAPI_TEST_WHEEL"
export ICDAPI_TEST_WHEEL

# The tests start their own stand-in and set every URL themselves: nothing from the caller's
# environment may redirect them, nor load another library.
unset ICD_CLIENT_ID ICD_CLIENT_SECRET ICD_API_BASE ICD_TOKEN_ENDPOINT ICDAPI_LOG ICDAPI_LIB LD_LIBRARY_PATH \
      HTTPS_PROXY https_proxy ALL_PROXY all_proxy HTTP_PROXY http_proxy
export PYTHONDONTWRITEBYTECODE=1  # nothing written into the checkout
# pytest's tmp_path directories (it keeps the last three runs') and Dask's scratch space go to a
# directory of this run, removed at the end: nothing is left behind in /tmp.
scratch=$(mktemp -d "${TMPDIR:-/tmp}/icdapi-python-tests.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch
cd "$work"
"$venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests" "$@"
