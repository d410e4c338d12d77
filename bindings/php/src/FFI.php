<?php

declare(strict_types=1);

namespace IcdApi;

/**
 * The one FFI instance of the process, created on first use and kept.
 *
 * When preloading (opcache.preload with preload.php, or ffi.preload) created the scope "ICDAPI",
 * FFI::scope() hands the declarations out without parsing anything; otherwise the PHP-ready header is parsed
 * with FFI::cdef() and the library loaded from the first of:
 *   1. the environment variable ICDAPI_LIB (a path to the shared library);
 *   2. lib/ inside this package (where an installed package keeps a copy of the library);
 *   3. target/release/ of the icdapi source tree, when this package is used from it;
 *   4. the bare file name, which lets the dynamic loader search (LD_LIBRARY_PATH, ld.so.cache, ...).
 *
 * @internal
 */
final class FFI
{
    public const SCOPE = 'ICDAPI';

    private static ?\FFI $instance = null;

    public static function instance(): \FFI
    {
        return self::$instance ??= self::scope() ?? self::cdef();
    }

    /** The path of the PHP-ready header (no preprocessor lines). */
    public static function headerPath(): string
    {
        return dirname(__DIR__) . '/icdapi.php.h';
    }

    /** The library file that instance() loads when no preloaded scope exists. */
    public static function libraryPath(): string
    {
        $fromEnv = getenv('ICDAPI_LIB');
        if (is_string($fromEnv) && $fromEnv !== '') {
            return $fromEnv;
        }
        $name = self::libraryFileName();
        $package = dirname(__DIR__);
        $candidates = [$package . '/lib/' . $name];
        if (is_file($package . '/../../include/icdapi.h')) { // bindings/php of the source tree
            $candidates[] = $package . '/../../target/release/' . $name;
        }
        foreach ($candidates as $candidate) {
            if (is_file($candidate)) {
                return realpath($candidate) ?: $candidate;
            }
        }
        return $name;
    }

    /**
     * The header with the two lines FFI::load() and ffi.preload look for first: FFI_SCOPE
     * "ICDAPI" and FFI_LIB, the library to load (by default the one instance() would load).
     */
    public static function scopeHeader(?string $library = null): string
    {
        $library ??= self::libraryPath();
        if (strpbrk($library, "\"\r\n") !== false) {
            // FFI reads the FFI_LIB string up to the next quote, without escapes.
            throw new \RuntimeException("icdapi: FFI_LIB cannot hold a quote or a line break: $library");
        }
        return sprintf("#define FFI_SCOPE \"%s\"\n#define FFI_LIB \"%s\"\n%s", self::SCOPE, $library, self::readHeader());
    }

    /**
     * Loads the declarations into the scope "ICDAPI", for opcache.preload: see preload.php.
     * FFI::load() reads a file, so the scope header goes to a temporary one, removed once loaded.
     */
    public static function preload(): \FFI
    {
        $file = tempnam(sys_get_temp_dir(), 'icdapi-ffi-');
        if ($file === false || file_put_contents($file, self::scopeHeader()) === false) {
            throw new \RuntimeException('icdapi: cannot write a temporary header for FFI::load()');
        }
        try {
            $ffi = \FFI::load($file);
        } catch (\FFI\Exception $e) {
            throw new \RuntimeException(
                "icdapi: FFI::load() failed: {$e->getMessage()}. A server started as root needs "
                . 'opcache.preload_user, with which FFI::load() refuses to work: set ffi.preload to '
                . 'a header written by tools/make-scope-header.php instead.',
                0,
                $e
            );
        } finally {
            @unlink($file);
        }
        if ($ffi === null) {
            throw new \RuntimeException('icdapi: FFI::load() failed to preload ' . self::libraryPath());
        }
        return $ffi; // not kept: what preloading creates does not outlive it, only the scope does
    }

    private static function scope(): ?\FFI
    {
        try {
            return \FFI::scope(self::SCOPE);
        } catch (\FFI\Exception) {
            return null; // not preloaded: the usual case
        }
    }

    private static function cdef(): \FFI
    {
        $library = self::libraryPath();
        try {
            return \FFI::cdef(self::readHeader(), $library);
        } catch (\FFI\Exception $e) {
            throw new \RuntimeException(
                "icdapi: cannot load the native library \"$library\": {$e->getMessage()}. "
                . 'Set ICDAPI_LIB to the path of the library, or, where ffi.enable=preload '
                . '(PHP-FPM, Apache), configure opcache.preload with preload.php of this package.',
                0,
                $e
            );
        }
    }

    private static function readHeader(): string
    {
        $header = @file_get_contents(self::headerPath());
        if ($header === false) {
            throw new \RuntimeException('icdapi: cannot read ' . self::headerPath());
        }
        return $header;
    }

    private static function libraryFileName(): string
    {
        return match (PHP_OS_FAMILY) {
            'Windows' => 'icdapi.dll',
            'Darwin' => 'libicdapi.dylib',
            default => 'libicdapi.so',
        };
    }
}
