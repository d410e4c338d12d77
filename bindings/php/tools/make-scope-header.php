<?php
/*
 * Prints the icdapi declarations with the FFI_SCOPE "ICDAPI" and FFI_LIB lines, for the php.ini
 * setting ffi.preload, which loads them at server start (also where opcache.preload cannot, e.g.
 * a PHP-FPM master started as root with opcache.preload_user):
 *
 *     php tools/make-scope-header.php [/path/to/libicdapi.so] > /etc/php/icdapi.h
 *     ffi.preload=/etc/php/icdapi.h
 *
 * Without a path, FFI_LIB is the library this package would load now (ICDAPI_LIB, lib/, the source
 * tree, or the bare name for the loader to search). Regenerate the file after upgrading the package.
 */

declare(strict_types=1);

require_once dirname(__DIR__) . '/src/FFI.php';

echo \IcdApi\FFI::scopeHeader($argv[1] ?? null);
