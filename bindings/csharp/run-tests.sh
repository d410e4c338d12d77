#!/usr/bin/env bash
# Builds the native library (if needed) and the C# binding with Mono, then runs the binding's tests
# against the local stand-in of the ICD API. Usage: run-tests.sh [test-name-filter]
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/build-binding.sh"
mcs -nologo -langversion:7 -target:exe -warnaserror+ -r:"$out/IcdApi.dll" -r:System.Core.dll \
    -out:"$out/IcdClientTests.exe" "$here"/tests/*.cs

# The tests start their own stand-in and set every URL themselves: nothing from the caller's
# environment may redirect them.
unset ICD_CLIENT_ID ICD_CLIENT_SECRET ICD_API_BASE ICD_TOKEN_ENDPOINT \
      HTTPS_PROXY https_proxy ALL_PROXY all_proxy HTTP_PROXY http_proxy
export ICDAPI_STANDIN="$root/tools/standin/icd_standin.py"
export ICDAPI_HEADER="$root/include/icdapi.h"
exec mono --debug "$out/IcdClientTests.exe" "$@"
