#!/usr/bin/env bash
# Builds the native library (if needed) and the C# demo with Mono, and runs it. The demo reads
# ICD_CLIENT_ID and ICD_CLIENT_SECRET (and ICD_API_BASE, ICD_TOKEN_ENDPOINT when set).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/build-binding.sh"
mcs -nologo -langversion:7 -target:exe -warnaserror+ -r:"$out/IcdApi.dll" \
    -out:"$out/Demo.exe" "$here/examples/Demo.cs"
exec mono "$out/Demo.exe"
