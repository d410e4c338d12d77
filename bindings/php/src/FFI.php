<?php

declare(strict_types=1);

namespace IcdApi;

use FFI\CData;

/**
 * The one FFI instance of the process, created on first use and kept.
 *
 * When preloading (opcache.preload with preload.php, or ffi.preload) created the scope "ICDAPI",
 * FFI::scope() hands the declarations out without parsing anything; otherwise the PHP-ready header is parsed
 * with FFI::cdef() and the library loaded from the first of:
 *   1. the environment variable ICDAPI_LIB (a path to the shared library);
 *   2. lib/<rid>/ inside this package, <rid> this platform's runtime identifier (linux-x64,
 *      linux-arm64, linux-musl-x64, win-x64, osx-arm64, osx-x64; see runtimeIdentifier()): the
 *      release package (icdapi-php-<version>.zip) carries one library per platform there;
 *   3. lib/ inside this package (where a package made by hand keeps a copy of the library);
 *   4. target/release/ of the icdapi source tree, when this package is used from it;
 *   5. the bare file name, which lets the dynamic loader search (LD_LIBRARY_PATH, ld.so.cache, ...).
 *
 * @internal
 */
final class FFI
{
    public const SCOPE = 'ICDAPI';

    private static ?\FFI $instance = null;

    /** @var array{\FFI\CType, \FFI\CType}|null `char` and `const char *`, see stringArray() */
    private static ?array $stringTypes = null;

    public static function instance(): \FFI
    {
        if (self::$instance === null && !class_exists(\FFI::class, false)) {
            throw new \RuntimeException(
                'icdapi: PHP\'s FFI extension is not loaded in this ' . PHP_SAPI . ' PHP: enable it '
                . '(extension=ffi; Debian\'s php-cli and php-fpm ship it in conf.d/20-ffi.ini)'
            );
        }
        return self::$instance ??= self::scope() ?? self::cdef();
    }

    /**
     * A C array of `count($strings) + $nulls` pointers to NUL-terminated copies of $strings (a
     * null element stays a NULL pointer, and so do the $nulls at the end), and the buffers behind
     * it, which the caller hands to release() in a `finally` once the call is over. The copies are
     * buffers of our own because FFI promises nothing about the lifetime of a PHP string's bytes
     * across a call. Every type comes from CTypes made once: an array made from a type string
     * ("char *[$n]") leaks about 100 bytes per element read until the request ends.
     *
     * @param list<?string> $strings without NUL bytes (the caller checks)
     * @return array{CData, list<CData>}
     */
    public static function stringArray(array $strings, int $nulls = 0): array
    {
        $ffi = self::instance();
        [$charType, $pointerType] = self::$stringTypes ??= [$ffi->type('char'), $ffi->type('const char *')];
        $array = $ffi->new(\FFI::arrayType($pointerType, [max(1, count($strings) + $nulls)])); // zeroed: NULLs
        $buffers = [];
        try {
            foreach ($strings as $i => $string) {
                if ($string === null) {
                    continue;
                }
                $length = strlen($string);
                $buffer = $ffi->new(\FFI::arrayType($charType, [$length + 1]), false); // zeroed: NUL-terminated
                $buffers[] = $buffer;
                if ($length > 0) {
                    \FFI::memcpy($buffer, $string, $length);
                }
                $array[$i] = $ffi->cast($pointerType, $buffer);
            }
        } catch (\Throwable $e) {
            self::release($buffers);
            throw $e;
        }
        return [$array, $buffers];
    }

    /** @param list<CData> $buffers from stringArray() */
    public static function release(array $buffers): void
    {
        foreach ($buffers as $buffer) {
            \FFI::free($buffer);
        }
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
        $candidates = [self::packageLibraryPath(), $package . '/lib/' . $name];
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
     * This platform's runtime identifier, as .NET names platforms and as the release package names
     * its lib/<rid>/ folders: from the OS family (PHP_OS_FAMILY), the machine (php_uname('m'):
     * x86_64, AMD64 on Windows, aarch64, arm64 on macOS) and, on Linux, the C library (glibc or
     * musl, as on Alpine). A platform without a build still gets a name (e.g. linux-s390x,
     * linux-musl-arm64), which the error then gives.
     */
    public static function runtimeIdentifier(string $osFamily, string $machine, string $cLibrary): string
    {
        $arch = match (strtolower($machine)) {
            'x86_64', 'amd64', 'x64' => 'x64',
            'aarch64', 'arm64', 'armv8', 'armv8l' => 'arm64',
            default => strtolower($machine),
        };
        return match ($osFamily) {
            'Windows' => "win-$arch",
            'Darwin' => "osx-$arch",
            'Linux' => $cLibrary === 'musl' ? "linux-musl-$arch" : "linux-$arch",
            default => strtolower($osFamily) . "-$arch",
        };
    }

    /** The runtime identifier of the platform this PHP runs on (see runtimeIdentifier()). */
    public static function currentRuntimeIdentifier(): string
    {
        return self::runtimeIdentifier(PHP_OS_FAMILY, php_uname('m'), PHP_OS_FAMILY === 'Linux' ? self::linuxCLibrary() : '');
    }

    /** Where this package keeps the library for this platform: lib/<rid>/<file>. */
    public static function packageLibraryPath(): string
    {
        return self::packageLibraryPathFor(PHP_OS_FAMILY, php_uname('m'), PHP_OS_FAMILY === 'Linux' ? self::linuxCLibrary() : '');
    }

    /** Where this package keeps the library of a platform: lib/<rid>/ and the file's name there. */
    public static function packageLibraryPathFor(string $osFamily, string $machine, string $cLibrary): string
    {
        return dirname(__DIR__) . '/lib/' . self::runtimeIdentifier($osFamily, $machine, $cLibrary) . '/'
            . self::libraryFileName($osFamily);
    }

    /**
     * The C library this PHP is linked with on Linux: "musl" when musl's dynamic loader is mapped
     * into the process (Alpine's ld-musl-*.so.1, which is also its libc), else "glibc". The maps
     * are this process's own, so a musl installed beside glibc (Debian's musl-tools) does not count.
     */
    public static function linuxCLibrary(): string
    {
        $maps = @file_get_contents('/proc/self/maps');
        if (is_string($maps) && $maps !== '') {
            return preg_match('~/(ld-musl-[^/\s]*\.so\.1|libc\.musl-[^/\s]*\.so\.1)$~m', $maps) === 1 ? 'musl' : 'glibc';
        }
        // No /proc (a chroot): the loader this PHP binary asks for.
        $binary = @file_get_contents(PHP_BINARY, false, null, 0, 4096);
        return is_string($binary) && str_contains($binary, '/lib/ld-musl-') ? 'musl' : 'glibc';
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
        $header = self::readHeader();
        try {
            return \FFI::cdef($header, $library);
        } catch (\FFI\Exception $e) {
            throw new \RuntimeException(self::loadFailure($library, $e->getMessage()), 0, $e);
        }
    }

    /**
     * Why the library could not be loaded and what to do, in terms of where this PHP runs: under
     * PHP-FPM, whose default clear_env=yes hides the server's environment from the workers, the
     * advice is the pool's env[...] line; advice already followed (ICDAPI_LIB set) is not repeated.
     */
    public static function loadFailure(string $library, string $reason): string
    {
        $fpm = PHP_SAPI === 'fpm-fcgi';
        if (str_contains($reason, 'ffi.enable')) {
            return "icdapi: this PHP refuses FFI ($reason): outside the command line PHP's default "
                . 'ffi.enable=preload lets only preloaded code use FFI. In php.ini, set opcache.enable=1 and '
                . 'opcache.preload=' . dirname(__DIR__) . '/preload.php (with opcache.preload_user=www-data '
                . 'when the server starts as root); see "PHP-FPM" in the README of the icdapi package.';
        }
        $why = $reason;
        if (!str_contains($library, '/')) {
            $why = 'the dynamic loader did not find it';
        } elseif (!file_exists($library)) {
            $why = 'no such file';
        } elseif (!is_readable($library)) {
            $user = function_exists('posix_geteuid') ? (posix_getpwuid(posix_geteuid())['name'] ?? 'uid ' . posix_geteuid()) : 'this process';
            $why = "the file is not readable by $user, the user this PHP runs as";
        }
        $fromEnv = getenv('ICDAPI_LIB');
        if (is_string($fromEnv) && $fromEnv !== '') {
            // The advice "set ICDAPI_LIB" was followed: the value is what is wrong.
            return "icdapi: cannot load the native library \"$library\" that ICDAPI_LIB names: $why. "
                . ($fpm ? 'Correct the env[ICDAPI_LIB] line of this PHP-FPM pool' : 'Correct ICDAPI_LIB')
                . ' to name the libicdapi.so you built (cargo build --release writes target/release/libicdapi.so) '
                . 'or installed (make install: /usr/local/lib/libicdapi.so)' . ($fpm ? ', then reload php-fpm.' : '.');
        }
        // What this package looked for: the platform's name and the file it would hold.
        $package = self::packageLibraryPath() . ' (this platform is ' . self::currentRuntimeIdentifier() . ')';
        if ($fpm) {
            return "icdapi: cannot load the native library \"$library\" ($why), and ICDAPI_LIB is not set in "
                . "this PHP-FPM worker: php-fpm's default clear_env=yes gives workers an empty environment, so "
                . 'a variable exported to the server does not reach PHP. Add the line '
                . '"env[ICDAPI_LIB] = /path/to/libicdapi.so" to the pool\'s configuration (or set clear_env = no), '
                . "or copy the library to $package; then reload php-fpm.";
        }
        return "icdapi: cannot load the native library \"$library\" ($why). Set the environment variable "
            . "ICDAPI_LIB to the path of libicdapi.so, copy the library to $package, or install it "
            . '(make install, then ldconfig) where the dynamic loader looks.';
    }

    private static function readHeader(): string
    {
        $header = @file_get_contents(self::headerPath());
        if ($header === false) {
            throw new \RuntimeException('icdapi: cannot read ' . self::headerPath());
        }
        return $header;
    }

    private static function libraryFileName(string $osFamily = PHP_OS_FAMILY): string
    {
        return match ($osFamily) {
            'Windows' => 'icdapi.dll',
            'Darwin' => 'libicdapi.dylib',
            default => 'libicdapi.so',
        };
    }
}
