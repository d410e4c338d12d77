#!/usr/bin/env bash
# Builds the native library (if needed) and the C# binding with Mono, then runs the binding's tests
# against the local stand-in of the ICD API. Usage: run-tests.sh [test-name-filter]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/bin"

# cargo decides whether anything changed; this is a no-op when the library is up to date.
(cd "$root" && cargo build --release --quiet)

mkdir -p "$out"
mcs -nologo -langversion:7 -target:library -warnaserror+ -doc:"$out/IcdApi.xml" \
    -out:"$out/IcdApi.dll" "$here"/src/*.cs
mcs -nologo -langversion:7 -target:exe -warnaserror+ -r:"$out/IcdApi.dll" -r:System.Core.dll \
    -out:"$out/IcdClientTests.exe" "$here"/tests/*.cs "$here/examples/MiniJson.cs"

# The tests start their own stand-in and set every URL themselves: nothing from the caller's
# environment may redirect them.
unset ICD_CLIENT_ID ICD_CLIENT_SECRET ICD_API_BASE ICD_TOKEN_ENDPOINT \
      HTTPS_PROXY https_proxy ALL_PROXY all_proxy HTTP_PROXY http_proxy
export ICDAPI_STANDIN="$root/tools/standin/icd_standin.py"
export ICDAPI_HEADER="$root/include/icdapi.h"
export LD_LIBRARY_PATH="$root/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec mono --debug "$out/IcdClientTests.exe" "$@"
