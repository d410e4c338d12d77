<?php
/*
 * For opcache.preload: loads the icdapi declarations once per server start into the FFI scope
 * "ICDAPI", which IcdApi\FFI then takes with FFI::scope() instead of parsing the header on every
 * request. Where ffi.enable=preload (the default outside the CLI), this is the only way FFI can be
 * used at all. In php.ini (php-fpm):
 *
 *     opcache.enable=1
 *     opcache.preload=/path/to/vendor/icdapi/icdapi/preload.php
 *     opcache.preload_user=www-data
 *
 * The library is found as at run time: ICDAPI_LIB (set in the environment of the server that
 * preloads), lib/ of this package, the source tree's target/release/, or the loader's search path.
 */

declare(strict_types=1);

// The classes are preloaded too: they are then compiled once, and calls they make count as
// calls from preloaded code.
require_once __DIR__ . '/src/IcdException.php';
require_once __DIR__ . '/src/FFI.php';
require_once __DIR__ . '/src/Client.php';

try {
    \IcdApi\FFI::preload();
} catch (\RuntimeException $e) {
    if ((string) ini_get('opcache.preload_user') === '') {
        throw $e;
    }
    // A server started as root must name opcache.preload_user, and PHP then refuses FFI::load().
    // The classes above are preloaded all the same, and preloaded code may use FFI: each worker
    // then parses the declarations itself (FFI::cdef) on its first call instead of taking the
    // preloaded scope. Slower by one header parse per request, but it works.
}
