#!/usr/bin/env bash
# Builds the native library (if needed) and runs the PHP demo. The demo reads ICD_CLIENT_ID and
# ICD_CLIENT_SECRET (and ICD_API_BASE, ICD_TOKEN_ENDPOINT when set).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# cargo decides whether anything changed; this is a no-op when the library is up to date.
(cd "$root" && cargo build --release --quiet)

export ICDAPI_LIB="$root/target/release/libicdapi.so"
exec php -d ffi.enable=1 "$here/examples/demo.php"
