<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use IcdApi\FFI;
use PHPUnit\Framework\TestCase;

/**
 * How the release package (icdapi-php-<version>.zip, one library per platform under lib/<rid>/)
 * picks its library when ICDAPI_LIB is not set: by PHP_OS_FAMILY, php_uname('m') and the C
 * library; and what it says when this platform has none.
 */
final class PlatformLibraryTest extends TestCase
{
    /** @return array<string, array{string, string, string, string}> os family, machine, C library => RID/file */
    public static function platforms(): array
    {
        return [
            'Linux x86-64, glibc' => ['Linux', 'x86_64', 'glibc', 'linux-x64/libicdapi.so'],
            'Linux ARM64, glibc' => ['Linux', 'aarch64', 'glibc', 'linux-arm64/libicdapi.so'],
            'Alpine x86-64, musl' => ['Linux', 'x86_64', 'musl', 'linux-musl-x64/libicdapi.so'],
            'Windows x64 (php_uname says AMD64)' => ['Windows', 'AMD64', '', 'win-x64/icdapi.dll'],
            'macOS Apple silicon' => ['Darwin', 'arm64', '', 'osx-arm64/libicdapi.dylib'],
            'macOS Intel' => ['Darwin', 'x86_64', '', 'osx-x64/libicdapi.dylib'],
            // No build for these: a name all the same, for the message.
            'Alpine ARM64, musl' => ['Linux', 'aarch64', 'musl', 'linux-musl-arm64/libicdapi.so'],
            'Linux s390x' => ['Linux', 's390x', 'glibc', 'linux-s390x/libicdapi.so'],
            'FreeBSD' => ['BSD', 'amd64', '', 'bsd-x64/libicdapi.so'],
        ];
    }

    /** @dataProvider platforms */
    public function testEachPlatformHasItsFolderAndFile(string $os, string $machine, string $libc, string $expected): void
    {
        $this->assertSame(dirname(__DIR__) . "/lib/$expected", FFI::packageLibraryPathFor($os, $machine, $libc));
        $this->assertSame(strstr($expected, '/', true), FFI::runtimeIdentifier($os, $machine, $libc));
    }

    public function testThisMachineIsLinuxX64WithGlibc(): void
    {
        if (PHP_OS_FAMILY !== 'Linux' || php_uname('m') !== 'x86_64') {
            $this->markTestSkipped('the suite runs on Linux x86-64');
        }
        $this->assertSame('glibc', FFI::linuxCLibrary(), 'Debian\'s PHP is linked with glibc (musl-tools beside it does not count)');
        $this->assertSame('linux-x64', FFI::currentRuntimeIdentifier());
    }

    /** A package laid out as the release zip, outside the source tree, without ICDAPI_LIB: a real load. */
    public function testTheReleaseLayoutLoadsLibRidWithoutIcdapiLib(): void
    {
        $copy = sys_get_temp_dir() . '/icdapi-php-rid-' . getmypid();
        PhpProcess::copyPackage($copy);
        @mkdir("$copy/lib/linux-x64", 0755, true);
        @mkdir("$copy/lib/win-x64", 0755, true);
        copy(StandIn::repoRoot() . '/target/release/libicdapi.so', "$copy/lib/linux-x64/libicdapi.so");
        file_put_contents("$copy/lib/win-x64/icdapi.dll", 'MZ not for this platform');
        try {
            [$status, $stdout, $stderr] = PhpProcess::run(
                'echo IcdApi\FFI::libraryPath(), "\n", IcdApi\Client::version(), "\n";'
                . 'echo str_contains(file_get_contents("/proc/self/maps"), "/lib/linux-x64/libicdapi.so") ? "mapped" : "not mapped";',
                ['ICDAPI_LIB' => ''],
                [],
                [],
                "$copy/tests/bootstrap.php"
            );
        } finally {
            exec('rm -rf ' . escapeshellarg($copy));
        }
        $this->assertSame(0, $status, $stdout . $stderr);
        $this->assertSame("$copy/lib/linux-x64/libicdapi.so\n" . \IcdApi\Client::version() . "\nmapped", $stdout);
    }

    public function testNoLibraryForThisPlatformNamesTheRidAndThePath(): void
    {
        if (str_contains((string) shell_exec('/sbin/ldconfig -p 2>/dev/null'), 'libicdapi.so ')) {
            $this->markTestSkipped('an installed libicdapi.so is found by the dynamic loader');
        }
        // Other platforms' libraries only: none fits this one.
        $copy = sys_get_temp_dir() . '/icdapi-php-norid-' . getmypid();
        PhpProcess::copyPackage($copy);
        @mkdir("$copy/lib/linux-arm64", 0755, true);
        file_put_contents("$copy/lib/linux-arm64/libicdapi.so", "\x7fELF not for this machine");
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
        $this->assertStringContainsString("copy the library to $copy/lib/linux-x64/libicdapi.so (this platform is linux-x64)", $stdout);
        $this->assertStringContainsString('Set the environment variable ICDAPI_LIB', $stdout);
    }
}
