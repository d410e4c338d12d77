#!/usr/bin/env bash
# Builds the native library (if needed) and the C# demo with Mono, and runs it. The demo reads
# ICD_CLIENT_ID and ICD_CLIENT_SECRET (and ICD_API_BASE, ICD_TOKEN_ENDPOINT when set).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/bin"

(cd "$root" && cargo build --release --quiet)

mkdir -p "$out"
mcs -nologo -langversion:7 -target:library -warnaserror+ -doc:"$out/IcdApi.xml" \
    -out:"$out/IcdApi.dll" "$here"/src/*.cs
mcs -nologo -langversion:7 -target:exe -warnaserror+ -r:"$out/IcdApi.dll" \
    -out:"$out/Demo.exe" "$here/examples/Demo.cs" "$here/examples/MiniJson.cs"

export LD_LIBRARY_PATH="$root/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
exec mono "$out/Demo.exe"
