#!/usr/bin/env bash
# Every test, offline: the Rust suites (core, C ABI, the C/C++ program), the stand-in's own
# self-test, the C#, PHP and Python suites, the other platforms (Windows under Wine, ARM64 under
# qemu, musl) and make dist's packages, the installed-library check, the fuzz targets for a
# few seconds each, and at the end a check that the run left nothing behind. Each suite runs even
# if an earlier one failed; the last line counts the suites that passed and failed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# The work tree as git sees it: modifications, untracked files and untracked directories (empty
# ones too, which `git status` does not show), and the content of what was already modified.
tree_state() {
    git -C "$ROOT" status --porcelain --untracked-files=all
    git -C "$ROOT" clean -n -d
    git -C "$ROOT" diff HEAD --binary | sha256sum
}
tree_before=""
if command -v git >/dev/null 2>&1 && git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    tree_before=$(tree_state)
fi
# Every suite's temporary files go to a directory of this run, which must be empty at the end.
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/icdapi-test.XXXXXX")
# Shared like /tmp: the PHP suite runs PHP as another user (nobody), as php-fpm's workers are.
chmod 1777 "$run_tmp"
trap 'rm -rf "$run_tmp"' EXIT
export TMPDIR=$run_tmp

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
# Every other platform (docs/platforms.md): each target built once (scripts/cross.sh), the C test
# program run on each, then make dist's artefacts as users take them.
run_suite "Platforms: the C test program on linux-x64 (glibc 2.17 build), linux-arm64 (qemu-aarch64), linux-musl-x64 (musl-gcc, static and shared) and win-x64 (Wine)" \
    bash tests/platforms/run.sh
run_suite "make dist: C archives (pkg-config), NuGet package (CoreCLR, Mono), wheels (auditwheel), Composer zip, SHA256SUMS" \
    bash tests/platforms/dist-check.sh
# The wheel the Python suite installs into a fresh venv: make dist's linux-x64 one when it was made.
python_env=()
for wheel in "$ROOT"/target/dist/icdapi-*-py3-none-manylinux2014_x86_64.whl; do
    [[ -e $wheel ]] && python_env=(ICDAPI_TEST_WHEEL="$wheel")
done
run_suite "Python: the icdapi package, its command line and the Dask example under pytest" \
    env "${python_env[@]}" bash bindings/python/run-tests.sh
run_suite "C: make install and pkg-config" bash tests/install/run.sh
run_suite "README quick starts, offline, from a directory of the user's own" python3 tests/quickstart/run_quickstarts.py
# libFuzzer needs a nightly toolchain (or the stable one with RUSTC_BOOTSTRAP=1): where no
# toolchain can build the targets, scripts/fuzz.sh says so loudly and exits 3, and the suite is
# counted as skipped, never as passed; ICDAPI_SKIP_FUZZ=1 skips it knowingly. A crash fails it.
skipped=()
fuzz_suite="fuzz targets, ${ICDAPI_FUZZ_SECONDS:-5} s each (scripts/fuzz.sh)"
if [[ ${ICDAPI_SKIP_FUZZ:-} == 1 ]]; then
    echo
    echo "== fuzz targets: SKIPPED (ICDAPI_SKIP_FUZZ=1): the parsers were not fuzzed in this run"
    skipped+=("fuzz targets")
else
    echo
    echo "== $fuzz_suite"
    fuzz_status=0
    bash scripts/fuzz.sh "${ICDAPI_FUZZ_SECONDS:-5}" || fuzz_status=$?
    case $fuzz_status in
        0) passed=$((passed + 1)) ;;
        3) skipped+=("fuzz targets (no toolchain could build them)") ;;
        *) failed=$((failed + 1)); failures+=("$fuzz_suite") ;;
    esac
fi

# Last: nothing written where it does not belong.
left_nothing_behind() {
    local clean=0 stray
    if [[ -z $tree_before ]]; then
        echo "not a git work tree (or no git): the work tree was not checked"
    elif [[ $(tree_state) != "$tree_before" ]]; then
        echo "the suites changed the work tree (new untracked files or directories, or modifications):"
        diff <(echo "$tree_before") <(tree_state) | grep '^[<>]' | head -n 40
        clean=1
    fi
    stray=$(find "$run_tmp" -mindepth 1 -maxdepth 2 | head -n 40)
    if [[ -n $stray ]]; then
        echo "the suites left files in their temporary directory (TMPDIR):"
        echo "$stray"
        clean=1
    fi
    ((clean == 0)) && echo "ok: the work tree is as it was and the temporary directory is empty"
    return "$clean"
}
run_suite "clean run: nothing left in the work tree or in TMPDIR" left_nothing_behind

echo
((failed == 0)) || echo "failed suites: ${failures[*]}"
((${#skipped[@]} == 0)) || echo "SKIPPED suites: ${skipped[*]}"
echo "suites: $passed passed, $failed failed${skipped[*]:+, ${#skipped[@]} skipped}"
((failed == 0))
