<?php

declare(strict_types=1);

namespace IcdApi\Tests;

/** A child PHP, for what a test cannot see in its own process: stderr, ini settings, a fresh FFI. */
final class PhpProcess
{
    /**
     * A copy of the package (the classes, the header, preload.php, the test bootstrap) in $copy,
     * outside the source tree: what a user's vendor/ directory holds.
     */
    public static function copyPackage(string $copy): void
    {
        $package = dirname(__DIR__);
        foreach (['src/Client.php', 'src/FFI.php', 'src/IcdException.php', 'tests/bootstrap.php', 'preload.php', 'icdapi.php.h'] as $file) {
            @mkdir(dirname("$copy/$file"), 0755, true);
            copy("$package/$file", "$copy/$file");
        }
    }

    /**
     * Runs $code (PHP without the opening tag) after the test bootstrap.
     *
     * @param array<string, string> $env added to this process's environment
     * @param list<string> $phpArgs e.g. ['-d', 'ffi.preload=...']
     * @param list<string> $prefix a command to run PHP with, e.g. setpriv
     * @param string|null $bootstrap the autoloader to require first; null: this directory's
     * @return array{int, string, string} exit status, stdout, stderr
     */
    public static function run(string $code, array $env = [], array $phpArgs = [], array $prefix = [], ?string $bootstrap = null): array
    {
        $bootstrap = var_export($bootstrap ?? __DIR__ . '/bootstrap.php', true);
        $command = [...$prefix, PHP_BINARY, ...$phpArgs, '-r', "require $bootstrap;\n$code"];
        $process = proc_open(
            $command,
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes,
            null,
            array_merge(getenv(), $env)
        );
        if ($process === false) {
            throw new \RuntimeException('cannot start ' . PHP_BINARY);
        }
        // Both pipes at once, so that neither fills up while the other is read.
        $out = ['', ''];
        $open = [1 => $pipes[1], 2 => $pipes[2]];
        while ($open !== []) {
            $read = array_values($open);
            $write = $except = null;
            stream_select($read, $write, $except, 30);
            foreach ($open as $i => $pipe) {
                if (in_array($pipe, $read, true)) {
                    $chunk = fread($pipe, 65536);
                    if ($chunk === '' || $chunk === false) {
                        fclose($pipe);
                        unset($open[$i]);
                    } else {
                        $out[$i - 1] .= $chunk;
                    }
                }
            }
        }
        return [proc_close($process), $out[0], $out[1]];
    }

    /**
     * Runs several child PHPs at the same time (after the test bootstrap), and waits for all.
     *
     * @param list<string> $codes PHP without the opening tag, one per child
     * @param list<array<string, string>> $envs added to this process's environment, one per child
     * @return list<array{int, string, string}> per child: exit status, stdout, stderr
     */
    public static function runConcurrently(array $codes, array $envs): array
    {
        $bootstrap = var_export(__DIR__ . '/bootstrap.php', true);
        $children = [];
        try {
            foreach ($codes as $i => $code) {
                // Output to files: nothing to drain while the others run.
                $files = [tmpfile(), tmpfile()];
                $process = proc_open(
                    [PHP_BINARY, '-r', "require $bootstrap;\n$code"],
                    [0 => ['file', '/dev/null', 'r'], 1 => $files[0], 2 => $files[1]],
                    $pipes,
                    null,
                    array_merge(getenv(), $envs[$i] ?? [])
                );
                if ($process === false) {
                    throw new \RuntimeException('cannot start ' . PHP_BINARY);
                }
                $children[] = [$process, $files];
            }
            $results = [];
            while ($children !== []) {
                [$process, $files] = array_shift($children);
                $status = proc_close($process);
                $output = array_map(static function ($file): string {
                    rewind($file);
                    return (string) stream_get_contents($file);
                }, $files);
                $results[] = [$status, $output[0], $output[1]];
            }
            return $results;
        } finally {
            foreach ($children as [$process]) { // only after a failure
                proc_terminate($process);
                proc_close($process);
            }
        }
    }
}
