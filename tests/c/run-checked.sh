#!/usr/bin/env bash
# Runs the C test program (tests/c/test_icdapi.c) against the stand-in under a memory checker:
#   run-checked.sh asan       AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer)
#   run-checked.sh valgrind   valgrind memcheck: no errors, no definitely or indirectly lost bytes
# Uses the release library in target/release (scripts/test.sh builds it first).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/common.sh"

mode=${1:?usage: run-checked.sh asan|valgrind}
lib_dir=${ICDAPI_LIB_DIR:-$ROOT/target/release}
out=$ROOT/target/c-tests
mkdir -p "$out"

start_standin --escape-non-ascii
export ICD_CLIENT_ID=standin-client ICD_CLIENT_SECRET=standin-secret
export ICD_API_BASE=$STANDIN_URL ICD_TOKEN_ENDPOINT=$STANDIN_URL/connect/token

case $mode in
asan)
    cc -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 -fno-omit-frame-pointer \
        -fsanitize=address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror \
        -I"$ROOT/include" "$ROOT/tests/c/test_icdapi.c" -o "$out/test_icdapi_asan" \
        -L"$lib_dir" -Wl,-rpath,"$lib_dir" -licdapi -lpthread
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:exitcode=23 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$out/test_icdapi_asan"
    ;;
valgrind)
    cc -std=c99 -D_POSIX_C_SOURCE=200809L -g -O1 -Wall -Wextra -Werror \
        -I"$ROOT/include" "$ROOT/tests/c/test_icdapi.c" -o "$out/test_icdapi_valgrind" \
        -L"$lib_dir" -Wl,-rpath,"$lib_dir" -licdapi -lpthread
    valgrind --quiet --error-exitcode=23 --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --track-origins=yes \
        "$out/test_icdapi_valgrind"
    ;;
*)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac
