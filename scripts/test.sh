#!/usr/bin/env bash
# Every test, offline: the Rust suites (core, C ABI, the C/C++ program), the stand-in's own
# self-test, the C#, PHP and Python suites, and the installed-library check. Each suite runs even
# if an earlier one failed; the last line counts the suites that passed and failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_prerequisites
build_release_library
# The suites run against the local stand-in only: nothing from the caller's environment may
# point them elsewhere or change what they expect.
unset ICD_CLIENT_ID ICD_CLIENT_SECRET ICD_API_BASE ICD_TOKEN_ENDPOINT ICDAPI_LOG

passed=0
failed=0
failures=()
run_suite() {
    local name=$1
    shift
    echo
    echo "== $name"
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        failures+=("$name")
    fi
}

cd "$ROOT"
run_suite "Rust: unit, integration, C ABI and C/C++ program tests" cargo test --quiet
run_suite "C: test program under AddressSanitizer + UBSan" bash tests/c/run-checked.sh asan
run_suite "C: test program under valgrind memcheck" bash tests/c/run-checked.sh valgrind
run_suite "stand-in self-test" python3 -m unittest tools/standin/test_standin.py
run_suite "C#: bindings under Mono" bash bindings/csharp/run-tests.sh
run_suite "C#: bindings under CoreCLR (.NET Core 3.1 of PyPI's dotnetcore2)" bash bindings/csharp/run-tests.sh --coreclr
run_suite "C#: NuGet package, restored and run on CoreCLR and Mono" bash bindings/csharp/nuget/test-package.sh
run_suite "PHP: bindings under PHPUnit" bash bindings/php/run-tests.sh
run_suite "Python: the icdapi package, its command line and the Dask example under pytest" bash bindings/python/run-tests.sh
run_suite "C: make install and pkg-config" bash tests/install/run.sh
run_suite "README quick starts, offline, from a directory of the user's own" python3 tests/quickstart/run_quickstarts.py

echo
((failed == 0)) || echo "failed suites: ${failures[*]}"
echo "suites: $passed passed, $failed failed"
((failed == 0))
