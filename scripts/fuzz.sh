#!/usr/bin/env bash
# The fuzz targets of fuzz/ (cargo-fuzz, libFuzzer, AddressSanitizer), each for a bounded time.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# scripts/test.sh runs every target for a few seconds from the committed seeds (fuzz/seeds/) in
# a scratch corpus; `make fuzz` runs them longer and keeps what they find in fuzz/corpus/
# (ignored by git), with ICDAPI_FUZZ_CORPUS=keep. Fails on any crash, panic or broken property,
# printing the input (saved under fuzz/artifacts/) and how to replay it.
# libFuzzer needs a nightly toolchain; without one the stable toolchain is used with
# RUSTC_BOOTSTRAP=1, and where neither can build the targets this says so loudly and exits 3
# (scripts/test.sh then counts the suite as skipped, never as passed). ICDAPI_SKIP_FUZZ=1 in
# scripts/test.sh skips the targets knowingly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

seconds=${1:-5}
shift || true
cd "$ROOT/fuzz"
targets=("$@")
if ((${#targets[@]} == 0)); then
    mapfile -t targets < <(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^icdapi-fuzz$')
fi

# The toolchain: nightly, as cargo-fuzz expects; else the stable one with RUSTC_BOOTSTRAP=1 (its
# unstable flags unlocked: it ships the same sanitizer runtimes), said loudly. Exit status 3 means
# "could not fuzz here" (no toolchain can build the targets): scripts/test.sh counts it as skipped.
cannot_fuzz() {
    cat >&2 <<MESSAGE
########################################################################################
##  FUZZING NOT RUN: $1
##  cargo-fuzz and libFuzzer need a nightly toolchain (rustup toolchain install nightly).
##  The parsers were NOT fuzzed in this run.
########################################################################################
MESSAGE
    exit 3
}
if rustup run nightly rustc --version >/dev/null 2>&1; then
    toolchain=(rustup run nightly)
    toolchain_name="nightly"
else
    toolchain=(env RUSTC_BOOTSTRAP=1 rustup run stable)
    toolchain_name="stable with RUSTC_BOOTSTRAP=1"
    cat >&2 <<'MESSAGE'
########################################################################################
##  No nightly toolchain (`rustup run nightly rustc` fails): the fuzz targets are      ##
##  built with the stable toolchain and RUSTC_BOOTSTRAP=1 instead.                     ##
########################################################################################
MESSAGE
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked --version 0.13.2 --quiet
fi

echo "== building the fuzz targets ($toolchain_name, AddressSanitizer, debug assertions)"
# The library is fuzzed with the dependency versions it ships with: fuzz/Cargo.lock (not
# committed) starts as a copy of the library's, and cargo adds the fuzzer's own crates to it.
cp "$ROOT/Cargo.lock" "$ROOT/fuzz/Cargo.lock"
build_log=$(mktemp)
if ! nice "${toolchain[@]}" cargo fuzz build >"$build_log" 2>&1; then
    cat "$build_log"
    rm -f "$build_log"
    # Under nightly a failed build is ours to fix; under the fallback it may be the toolchain's.
    [[ $toolchain_name == nightly ]] || cannot_fuzz "the fuzz targets did not build with $toolchain_name."
    echo "the fuzz targets did not build" >&2
    exit 1
fi
rm -f "$build_log"
bin_dir=$ROOT/fuzz/target/x86_64-unknown-linux-gnu/release

# The targets talk to loopback only and write only under their own TMPDIR, removed at the end.
unset ICD_CLIENT_ID ICD_CLIENT_SECRET ICD_API_BASE ICD_TOKEN_ENDPOINT ICDAPI_LOG \
      HTTPS_PROXY https_proxy ALL_PROXY all_proxy HTTP_PROXY http_proxy
scratch=$(mktemp -d "${TMPDIR:-/tmp}/icdapi-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export TMPDIR=$scratch

failed=()
for target in "${targets[@]}"; do
    if [[ ${ICDAPI_FUZZ_CORPUS:-} == keep ]]; then
        corpus=$ROOT/fuzz/corpus/$target
    else
        corpus=$scratch/corpus/$target
    fi
    mkdir -p "$corpus" "$ROOT/fuzz/artifacts/$target"
    log=$scratch/$target.log
    # -timeout: one input taking 10 s is a hang; -rss_limit_mb: a leak or a runaway allocation.
    if nice "$bin_dir/$target" "$corpus" "$ROOT/fuzz/seeds/$target" -max_total_time="$seconds" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$ROOT/fuzz/artifacts/$target/" >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        coverage=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
        echo "ok   $target: ${runs:-?} inputs in ${seconds} s, ${coverage:-cov: ?}, no crash"
    else
        failed+=("$target")
        echo "FAIL $target:"
        # The panic message or the sanitizer's report, without the stack traces.
        grep -A3 -E 'panicked at|==[0-9]+==ERROR|^SUMMARY|ERROR: libFuzzer' "$log" | grep -v -E '^ +#?[0-9]+[: ]' | head -n 30
        artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        [[ -n $artifact ]] && echo "     replay: fuzz/target/x86_64-unknown-linux-gnu/release/$target -artifact_prefix=fuzz/artifacts/$target/ $artifact"
    fi
done
echo "fuzz targets: $((${#targets[@]} - ${#failed[@]})) passed, ${#failed[@]} failed"
((${#failed[@]} == 0))
