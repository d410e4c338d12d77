#!/usr/bin/env bash
# Builds the native library (if needed) and runs the PHP binding's PHPUnit tests, which start
# their own local stand-in of the ICD API, and nginx with php-fpm for the PHP-FPM test.
# Usage: run-tests.sh [more phpunit arguments]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

# php-fpm, nginx and Composer, installed with apt-get when missing (scripts/test.sh does the same).
source "$root/scripts/common.sh"
ensure_php_deploy_tools

# cargo decides whether anything changed; this is a no-op when the library is up to date.
(cd "$root" && cargo build --release --quiet)

# The tests start their own stand-in and set every URL themselves: nothing from the caller's
# environment may redirect them.
unset ICD_CLIENT_ID ICD_CLIENT_SECRET ICD_API_BASE ICD_TOKEN_ENDPOINT ICDAPI_LOG \
      HTTPS_PROXY https_proxy ALL_PROXY all_proxy HTTP_PROXY http_proxy
export ICDAPI_LIB="$root/target/release/libicdapi.so"

cd "$root"
# ffi.enable=1 for PHP builds whose CLI does not allow FFI already (Debian's "preload" does).
exec php -d ffi.enable=1 "$(command -v phpunit)" --do-not-cache-result --bootstrap bindings/php/tests/bootstrap.php "$@" bindings/php/tests
