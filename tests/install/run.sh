#!/usr/bin/env bash
# `make install PREFIX=...` into a temporary prefix, then the demo built only from what was
# installed, with `pkg-config --cflags --libs icdapi` (shared) and `--static` (static), run
# against the stand-in.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../../scripts/common.sh"

prefix=$(mktemp -d)
build=$(mktemp -d)
passed=0
failed=0
# check NAME COMMAND...: scripts/common.sh

make -s -C "$ROOT" install PREFIX="$prefix" >/dev/null
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
version=$(sed -n 's/^version = "\(.*\)"/\1/p' "$ROOT/Cargo.toml" | head -n 1)

check "pkg-config knows icdapi $version" test "$(pkg-config --modversion icdapi)" = "$version"
check "header installed" test -f "$prefix/include/icdapi.h"
check "soname is libicdapi.so.${version%%.*}" \
    bash -c "readelf -d '$prefix/lib/libicdapi.so.$version' | grep -q 'SONAME.*libicdapi.so.${version%%.*}\]'"
check "libicdapi.so links to the versioned file" test "$(readlink -f "$prefix/lib/libicdapi.so")" = "$prefix/lib/libicdapi.so.$version"

# shellcheck disable=SC2046
check "shared build with pkg-config" cc -std=c99 -Wall -Wextra -Werror "$ROOT/examples/c/demo.c" -o "$build/demo_shared" \
    $(pkg-config --cflags --libs icdapi) -Wl,-rpath,"$prefix/lib"
# shellcheck disable=SC2046
check "static build with pkg-config --static" cc -std=c99 -Wall -Wextra -Werror "$ROOT/examples/c/demo.c" -o "$build/demo_static" \
    $(pkg-config --cflags icdapi) "$prefix/lib/libicdapi.a" $(pkg-config --libs-only-l --static icdapi | sed 's/-licdapi//')
check "the static build needs no libicdapi.so" bash -c "! ldd '$build/demo_static' | grep -q libicdapi"
# The README's static line without installing, from a directory of the user's own.
check "static build from the checkout (README line)" bash -c "cd '$build' && ICDAPI='$ROOT' && \
    cc '$ROOT/examples/c/demo.c' -I\"\$ICDAPI/include\" \"\$ICDAPI/target/release/libicdapi.a\" \
       -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc -o demo_checkout_static && ! ldd demo_checkout_static | grep -q libicdapi"
check "the shared build loads the installed soname" bash -c "ldd '$build/demo_shared' | grep -q '$prefix/lib/libicdapi.so.${version%%.*}'"

start_standin
export ICD_CLIENT_ID=standin-client ICD_CLIENT_SECRET=standin-secret
export ICD_API_BASE=$STANDIN_URL ICD_TOKEN_ENDPOINT=$STANDIN_URL/connect/token
check "shared demo prints 1A00" bash -c "'$build/demo_shared' | grep -q 'search \"cholera\" -> 1A00'"
check "static demo prints the French title" bash -c "'$build/demo_static' | grep -q 'title fr: Choléra'"

rm -rf "$prefix" "$build"
echo "$passed passed, $failed failed"
((failed == 0))
