# Sourced by run-demo.sh and run-tests.sh: builds the native library (cargo decides whether
# anything changed; a no-op when it is up to date) and IcdApi.dll with Mono, and sets
# here, root, out and LD_LIBRARY_PATH for what follows.
# shellcheck shell=bash

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out="$here/bin"

(cd "$root" && cargo build --release --quiet)

mkdir -p "$out"
mcs -nologo -langversion:7 -target:library -warnaserror+ -doc:"$out/IcdApi.xml" \
    -out:"$out/IcdApi.dll" "$here"/src/*.cs
export LD_LIBRARY_PATH="$root/target/release${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
