<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use IcdApi\FFI;
use PHPUnit\Framework\TestCase;

/**
 * How the binding finds its header and library: the generated PHP header, ICDAPI_LIB, the source
 * tree, and the preloaded scope "ICDAPI" (opcache.preload with preload.php, or ffi.preload).
 * Each case runs in a child PHP, since a process loads the library once.
 */
final class FfiLoadingTest extends TestCase
{
    private const PROBE = <<<'PHP'
        echo IcdApi\Client::version(), "\n";
        try {
            IcdApi\Client::local('http://127.0.0.1:9')->codeInfo('1A00');
        } catch (IcdApi\IcdException $e) {
            echo $e->getStatusName(), "\n";
        }
        // getMany() builds C arrays with FFI::new(), FFI::memcpy() and FFI::free() as well.
        echo implode(',', array_column(IcdApi\Client::local('http://127.0.0.1:9')->getMany(['/icd/x', null]), 'status')), "\n";
        PHP;

    public function testTheCommittedPhpHeaderIsCurrent(): void
    {
        [$status, , $stderr] = self::runTool(['tools/make-php-header.php', '--check']);
        $this->assertSame(0, $status, "bindings/php/icdapi.php.h is stale: run php bindings/php/tools/make-php-header.php\n$stderr");
    }

    public function testThePhpHeaderHasEveryFunctionAndNoPreprocessorLine(): void
    {
        $c = (string) file_get_contents(StandIn::repoRoot() . '/include/icdapi.h');
        $php = (string) file_get_contents(FFI::headerPath());
        preg_match_all('/\b(icd_\w+)\s*\(/', $c, $m);
        foreach (array_unique($m[1]) as $function) {
            $this->assertMatchesRegularExpression('/\b' . $function . '\s*\(/', $php, "$function is missing");
        }
        $this->assertDoesNotMatchRegularExpression('/^\s*#/m', $php);
        $this->assertStringNotContainsString('extern', $php);
        // Strings the caller frees must stay `char *`: PHP FFI copies a `const char *` return
        // into a PHP string and the pointer, needed by icd_free_string, is lost.
        foreach (['icd_get', 'icd_post', 'icd_search', 'icd_codeinfo', 'icd_autocode', 'icd_lookup'] as $function) {
            $this->assertMatchesRegularExpression('/(?<!const )char \*' . $function . '\(/', $php);
        }
    }

    public function testTheLibraryOfTheSourceTreeIsFoundWithoutIcdapiLib(): void
    {
        [$status, $stdout, $stderr] = PhpProcess::run('echo IcdApi\FFI::libraryPath();', ['ICDAPI_LIB' => '']);
        $this->assertSame(0, $status, $stderr);
        $this->assertSame(realpath(StandIn::repoRoot() . '/target/release/libicdapi.so'), $stdout);
    }

    public function testIcdapiLibChoosesTheLibrary(): void
    {
        $dir = sys_get_temp_dir() . '/icdapi-php-test-' . getmypid();
        @mkdir($dir);
        $copy = "$dir/libicdapi-copy.so";
        copy(FFI::libraryPath(), $copy);
        try {
            [$status, $stdout, $stderr] = PhpProcess::run(
                self::PROBE . 'echo str_contains(file_get_contents("/proc/self/maps"), "libicdapi-copy.so") ? "copy" : "other", "\n";',
                ['ICDAPI_LIB' => $copy]
            );
            $this->assertSame(0, $status, $stderr);
            $this->assertStringEndsWith("NETWORK\n4,1\ncopy\n", $stdout);
        } finally {
            @unlink($copy);
            @rmdir($dir);
        }
    }

    public function testAMissingLibraryIsExplained(): void
    {
        [$status, $stdout, $stderr] = PhpProcess::run(
            'try { IcdApi\Client::version(); } catch (RuntimeException $e) { echo $e->getMessage(); }',
            ['ICDAPI_LIB' => '/nonexistent/libicdapi.so']
        );
        $this->assertSame(0, $status, $stderr);
        // ICDAPI_LIB was set: the message says its value is wrong, not to set it.
        $this->assertStringContainsString('"/nonexistent/libicdapi.so" that ICDAPI_LIB names: no such file. Correct ICDAPI_LIB', $stdout);
        $this->assertStringNotContainsString('Set ', $stdout);
        $this->assertStringNotContainsString('clear_env', $stdout, 'PHP-FPM advice belongs to PHP-FPM (FpmTest)');
    }

    public function testNoLibraryAnywhereIsExplainedOnTheCommandLine(): void
    {
        if (str_contains((string) shell_exec('/sbin/ldconfig -p 2>/dev/null'), 'libicdapi.so ')) {
            $this->markTestSkipped('an installed libicdapi.so is found by the dynamic loader');
        }
        // The package alone, outside the source tree: nothing names or holds a library.
        $copy = sys_get_temp_dir() . '/icdapi-php-nolib-' . getmypid();
        PhpProcess::copyPackage($copy);
        try {
            [$status, $stdout, $stderr] = PhpProcess::run(
                'try { IcdApi\Client::version(); } catch (RuntimeException $e) { echo $e->getMessage(); }',
                ['ICDAPI_LIB' => ''],
                [],
                [],
                "$copy/tests/bootstrap.php"
            );
        } finally {
            exec('rm -rf ' . escapeshellarg($copy));
        }
        $this->assertSame(0, $status, $stderr);
        $this->assertStringStartsWith('icdapi: cannot load the native library "libicdapi.so" (the dynamic loader did not find it)', $stdout);
        $this->assertStringContainsString("Set the environment variable ICDAPI_LIB to the path of libicdapi.so, copy the library to $copy/lib/linux-x64/libicdapi.so (this platform is linux-x64)", $stdout);
        $this->assertStringContainsString('make install, then ldconfig', $stdout);
        $this->assertStringNotContainsString('clear_env', $stdout);
    }

    public function testFfiPreloadWithAScopeHeader(): void
    {
        $header = tempnam(sys_get_temp_dir(), 'icdapi-scope-');
        try {
            [$status, $stdout, $stderr] = self::runTool(['tools/make-scope-header.php', FFI::libraryPath()]);
            $this->assertSame(0, $status, $stderr);
            $this->assertStringStartsWith("#define FFI_SCOPE \"ICDAPI\"\n#define FFI_LIB \"" . FFI::libraryPath() . "\"\n", $stdout);
            file_put_contents($header, $stdout);
            // A bad ICDAPI_LIB proves that the scope is used: FFI::cdef() is never reached.
            [$status, $stdout, $stderr] = PhpProcess::run(
                self::PROBE . 'echo get_class(FFI::scope("ICDAPI")), "\n";',
                ['ICDAPI_LIB' => '/nonexistent/libicdapi.so'],
                ['-d', 'ffi.preload=' . $header]
            );
            $this->assertSame(0, $status, $stderr);
            $this->assertSame("VERSION\nNETWORK\n4,1\nFFI\n", str_replace(\IcdApi\Client::version(), 'VERSION', $stdout));
        } finally {
            @unlink($header);
        }
    }

    public function testOpcachePreloadWithPreloadPhp(): void
    {
        // opcache.preload refuses to run as root without opcache.preload_user, and FFI::load()
        // refuses to work with opcache.preload_user: as root, the child runs as nobody, on a copy
        // of the package and the library that nobody can read wherever the checkout lives.
        $prefix = [];
        $package = dirname(__DIR__);
        $library = FFI::libraryPath();
        $copy = null;
        if (function_exists('posix_geteuid') && posix_geteuid() === 0) {
            $setpriv = trim((string) shell_exec('command -v setpriv'));
            if ($setpriv === '') {
                $this->markTestSkipped('running as root and setpriv is missing');
            }
            $prefix = [$setpriv, '--reuid=65534', '--regid=65534', '--clear-groups'];
            $copy = sys_get_temp_dir() . '/icdapi-php-preload-' . getmypid();
            PhpProcess::copyPackage($copy);
            copy($library, "$copy/libicdapi.so");
            chmod($copy, 0755);
            $package = $copy;
            $library = "$copy/libicdapi.so";
        }
        try {
            [$status, $stdout, $stderr] = PhpProcess::run(
                'echo class_exists("IcdApi\\\\Client", false) ? "preloaded" : "not preloaded", "\n";' . self::PROBE,
                ['ICDAPI_LIB' => $library, 'TMPDIR' => sys_get_temp_dir()],
                ['-d', 'opcache.enable_cli=1', '-d', "opcache.preload=$package/preload.php"],
                $prefix,
                "$package/tests/bootstrap.php"
            );
        } finally {
            if ($copy !== null) {
                exec('rm -rf ' . escapeshellarg($copy));
            }
        }
        $this->assertSame(0, $status, $stdout . $stderr);
        $this->assertSame("preloaded\n" . \IcdApi\Client::version() . "\nNETWORK\n4,1\n", $stdout);
    }

    /**
     * Under a web SAPI (php-cgi standing in for php-fpm), where the default ffi.enable=preload
     * lets only preloaded code use FFI: opcache.preload with preload.php works; ffi.preload alone
     * does not (the binding's classes are not preloaded), as the README says.
     */
    public function testUnderAWebSapiOpcachePreloadIsTheWay(): void
    {
        $cgi = trim((string) shell_exec('command -v php-cgi'));
        if ($cgi === '') {
            $this->markTestSkipped('php-cgi is not installed (scripts/test.sh installs it)');
        }
        $copy = sys_get_temp_dir() . '/icdapi-php-cgi-' . getmypid();
        PhpProcess::copyPackage($copy);
        copy(FFI::libraryPath(), "$copy/libicdapi.so");
        file_put_contents("$copy/page.php", "<?php
" . self::PROBE);
        $scopeHeader = "$copy/icdapi-scope.h";
        [, $header] = self::runTool(['tools/make-scope-header.php', "$copy/libicdapi.so"]);
        file_put_contents($scopeHeader, $header);
        file_put_contents("$copy/unloaded.php", "<?php
require __DIR__ . '/src/IcdException.php';
"
            . "require __DIR__ . '/src/FFI.php';
require __DIR__ . '/src/Client.php';
" . self::PROBE);
        exec('chmod -R a+rX ' . escapeshellarg($copy));
        // As root, opcache.preload needs preload_user, which FFI::load() refuses: run as nobody.
        $prefix = posix_geteuid() === 0 ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'] : [];
        $run = function (array $ini, string $page, ?array $as = null) use ($prefix, $cgi, $copy): array {
            $prefix = $as ?? $prefix;
            $command = [...$prefix, $cgi, '-q', '-d', 'ffi.enable=preload', ...$ini, "$copy/$page"];
            $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes, null,
                ['ICDAPI_LIB' => "$copy/libicdapi.so", 'PATH' => getenv('PATH')]);
            $stdout = stream_get_contents($pipes[1]);
            $stderr = stream_get_contents($pipes[2]);
            return [proc_close($process), $stdout . $stderr];
        };
        try {
            [$status, $output] = $run(['-d', 'opcache.enable=1', '-d', "opcache.preload=$copy/preload.php"], 'page.php');
            $this->assertSame(0, $status, $output);
            $this->assertSame(\IcdApi\Client::version() . "\nNETWORK\n4,1\n", $output);
            if (posix_geteuid() === 0) {
                // Started as root, as php-fpm is: opcache.preload_user is required and FFI::load()
                // refused; preload.php falls back to preloading the classes alone.
                [$status, $output] = $run(['-d', 'opcache.enable=1', '-d', "opcache.preload=$copy/preload.php",
                    '-d', 'opcache.preload_user=nobody'], 'page.php', []);
                $this->assertSame(0, $status, $output);
                $this->assertSame(\IcdApi\Client::version() . "\nNETWORK\n4,1\n", $output);
            }
            [, $output] = $run(['-d', "ffi.preload=$scopeHeader"], 'unloaded.php');
            $this->assertStringContainsString('FFI API is restricted by "ffi.enable"', $output);
            // The message says what to do about it: preloading, not the library's path.
            $this->assertStringContainsString("opcache.preload=$copy/preload.php", $output);
            $this->assertStringNotContainsString('ICDAPI_LIB', $output);
        } finally {
            exec('rm -rf ' . escapeshellarg($copy));
        }
    }

    /** @param list<string> $args a script under bindings/php and its arguments */
    private static function runTool(array $args): array
    {
        $command = [PHP_BINARY, dirname(__DIR__) . '/' . array_shift($args), ...$args];
        $process = proc_open($command, [1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
        $stdout = stream_get_contents($pipes[1]);
        $stderr = stream_get_contents($pipes[2]);
        return [proc_close($process), (string) $stdout, (string) $stderr];
    }
}
