#!/usr/bin/env bash
# The main job: build the library and run the same job from C, PHP, C# and Python — search
# "cholera", take the first code, print its code info and its title in English and French.
# Offline against the local stand-in, or against the live WHO API when ICD_CLIENT_ID and
# ICD_CLIENT_SECRET are set.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ensure_demo_prerequisites # not what only the tests need (php-fpm, nginx, composer, phpunit, ...)
build_release_library

if [[ -n ${ICD_CLIENT_ID:-} && -n ${ICD_CLIENT_SECRET:-} ]]; then
    echo "== LIVE: the WHO ICD API at ${ICD_API_BASE:-https://id.who.int} (credentials from the environment)"
else
    start_standin
    echo "== OFFLINE: no ICD_CLIENT_ID/ICD_CLIENT_SECRET set, so this runs against the local stand-in"
    echo "   of the WHO API at $STANDIN_URL, serving data shaped like recorded WHO answers."
    echo "   Set ICD_CLIENT_ID and ICD_CLIENT_SECRET (https://icd.who.int/icdapi) to use the live API."
    export ICD_CLIENT_ID=standin-client ICD_CLIENT_SECRET=standin-secret
    export ICD_API_BASE=$STANDIN_URL ICD_TOKEN_ENDPOINT=$STANDIN_URL/connect/token
fi

echo "== C"
mkdir -p "$ROOT/target/demo"
cc -std=c99 -Wall -Wextra -I"$ROOT/include" "$ROOT/examples/c/demo.c" -o "$ROOT/target/demo/demo_c" \
    -L"$ICDAPI_LIB_DIR" -Wl,-rpath,"$ICDAPI_LIB_DIR" -licdapi
"$ROOT/target/demo/demo_c"

echo "== PHP"
bash "$ROOT/bindings/php/run-demo.sh"

echo "== C#"
bash "$ROOT/bindings/csharp/run-demo.sh"

echo "== Python"
bash "$ROOT/bindings/python/run-demo.sh"
