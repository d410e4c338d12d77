#!/usr/bin/env bash
# Builds the native library (if needed) and the C# binding with Mono's mcs, then runs the binding's
# tests against the local stand-in of the ICD API — on Mono, or with --coreclr on CoreCLR (the
# .NET Core runtime of PyPI's dotnetcore2, installed in a venv under target/ on first use), the
# same assemblies either way.
#   run-tests.sh [--coreclr] [test-name-filter]
set -euo pipefail

runtime=mono
if [[ ${1:-} == --coreclr ]]; then
    runtime=coreclr
    shift
fi

source "$(dirname "${BASH_SOURCE[0]}")/build-binding.sh"
mcs -nologo -langversion:7 -target:exe -warnaserror+ -r:"$out/IcdApi.dll" -r:System.Core.dll \
    -out:"$out/IcdClientTests.exe" "$here"/tests/*.cs

# The tests start their own stand-in and set every URL themselves: nothing from the caller's
# environment may redirect them.
unset ICD_CLIENT_ID ICD_CLIENT_SECRET ICD_API_BASE ICD_TOKEN_ENDPOINT \
      HTTPS_PROXY https_proxy ALL_PROXY all_proxy HTTP_PROXY http_proxy
export ICDAPI_STANDIN="$root/tools/standin/icd_standin.py"
export ICDAPI_HEADER="$root/include/icdapi.h"
# The test program checks that it runs where it was meant to.
export ICDAPI_TEST_RUNTIME=$runtime

if [[ $runtime == coreclr ]]; then
    source "$here/coreclr.sh"
    ensure_dotnet
    # Beside the program, so that the children it starts (`dotnet IcdClientTests.exe`) find it too.
    write_runtimeconfig "$out/IcdClientTests.runtimeconfig.json"
    exec "$DOTNET" exec --runtimeconfig "$out/IcdClientTests.runtimeconfig.json" "$out/IcdClientTests.exe" "$@"
fi
exec mono --debug "$out/IcdClientTests.exe" "$@"
