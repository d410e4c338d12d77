<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use PHPUnit\Framework\TestCase;

/**
 * The Composer package: composer.json is valid, and the package installs as the README says —
 * from a VCS repository here (from a path repository in FpmTest, which serves the application
 * Composer installed). Offline: Composer only reads the local checkout.
 */
final class ComposerTest extends TestCase
{
    public function testComposerJsonIsValid(): void
    {
        $home = sys_get_temp_dir() . '/icdapi-composer-' . bin2hex(random_bytes(6));
        mkdir($home, 0700);
        try {
            [$status, $output] = self::composer(['validate', '--strict', '--no-interaction', '--working-dir', dirname(__DIR__)], $home);
        } finally {
            exec('rm -rf ' . escapeshellarg($home));
        }
        $this->assertSame(0, $status, $output);
        $this->assertStringContainsString('composer.json is valid', $output);
    }

    public function testInstallFromAVcsRepository(): void
    {
        $root = StandIn::repoRoot();
        $commit = trim((string) shell_exec('git -C ' . escapeshellarg($root) . ' rev-parse HEAD 2>/dev/null'));
        if ($commit === '') {
            $this->markTestSkipped("$root is not a git checkout");
        }
        $dir = sys_get_temp_dir() . '/icdapi-composer-' . bin2hex(random_bytes(6));
        mkdir($dir, 0700);
        try {
            // The README's composer.json, with this checkout as the repository URL.
            file_put_contents("$dir/composer.json", json_encode([
                'repositories' => [['type' => 'package', 'package' => [
                    'name' => 'icdapi/icdapi',
                    'version' => \IcdApi\Client::version(),
                    'source' => ['type' => 'git', 'url' => $root, 'reference' => $commit],
                    'autoload' => ['psr-4' => ['IcdApi\\' => 'bindings/php/src/']],
                ]]],
                'require' => ['icdapi/icdapi' => \IcdApi\Client::version()],
            ], JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES));
            [$status, $output] = self::composer(['install', '--no-interaction', '--no-progress', '--working-dir', $dir], $dir);
            $this->assertSame(0, $status, $output);
            $this->assertFileExists("$dir/vendor/icdapi/icdapi/bindings/php/src/Client.php");

            [$status, $stdout, $stderr] = PhpProcess::run(
                'echo IcdApi\Client::version(), " ", (new ReflectionClass(IcdApi\Client::class))->getFileName();',
                ['ICDAPI_LIB' => \IcdApi\FFI::libraryPath()],
                [],
                [],
                "$dir/vendor/autoload.php"
            );
            $this->assertSame(0, $status, $stderr);
            $this->assertSame(\IcdApi\Client::version() . " $dir/vendor/icdapi/icdapi/bindings/php/src/Client.php", $stdout);
        } finally {
            exec('rm -rf ' . escapeshellarg($dir));
        }
    }

    /**
     * @param list<string> $args
     * @param string $home a temporary directory: Composer's home and cache
     * @return array{int, string} exit status, stdout and stderr together
     */
    private static function composer(array $args, string $home): array
    {
        $composer = trim((string) shell_exec('command -v composer'));
        if ($composer === '') {
            self::fail('composer is missing: bindings/php/run-tests.sh installs it (apt-get install composer)');
        }
        $process = proc_open([$composer, ...$args], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]], $pipes, null, [
            'PATH' => (string) getenv('PATH'), 'HOME' => $home, 'COMPOSER_HOME' => "$home/.composer",
            'COMPOSER_ALLOW_SUPERUSER' => '1', 'COMPOSER_NO_INTERACTION' => '1',
        ]);
        $output = (string) stream_get_contents($pipes[1]);
        return [proc_close($process), $output];
    }
}
