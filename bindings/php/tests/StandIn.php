<?php

declare(strict_types=1);

namespace IcdApi\Tests;

/**
 * The local stand-in of the WHO ICD API (tools/standin/icd_standin.py) as a child process, with
 * its /_admin endpoints: log, stats, reset, revoke, fault, config.
 */
final class StandIn
{
    public const CLIENT_ID = 'standin-client';
    public const CLIENT_SECRET = 'standin-secret';

    /** @var resource */
    private $process;
    private string $stderrFile;
    public readonly string $url;
    /** The client id the stand-in accepts now: see newTest(). */
    public string $clientId = self::CLIENT_ID;

    /** @param list<string> $args extra command-line arguments, e.g. ['--local'] */
    public function __construct(array $args = [])
    {
        $script = self::repoRoot() . '/tools/standin/icd_standin.py';
        if (!is_file($script)) {
            throw new \RuntimeException("the stand-in is missing: $script");
        }
        $this->stderrFile = tempnam(sys_get_temp_dir(), 'icd-standin-err-');
        $process = proc_open(
            ['python3', $script, '--port', '0', '--quiet', ...$args],
            [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $this->stderrFile, 'a']],
            $pipes
        );
        if ($process === false) {
            throw new \RuntimeException('cannot start python3 ' . $script);
        }
        $this->process = $process;
        $line = self::readLine($pipes[1], 15.0);
        fclose($pipes[1]); // it prints nothing else on stdout
        if (!preg_match('~^LISTENING (https?://\S+)$~', trim($line), $m)) {
            $this->stop();
            throw new \RuntimeException("the stand-in did not start: \"$line\" " . @file_get_contents($this->stderrFile));
        }
        $this->url = $m[1];
    }

    public function __destruct()
    {
        $this->stop();
    }

    public function stop(): void
    {
        if (is_resource($this->process)) {
            proc_terminate($this->process); // SIGTERM: the stand-in shuts down cleanly
            proc_close($this->process);
        }
        if (is_file($this->stderrFile)) {
            @unlink($this->stderrFile);
        }
    }

    public static function repoRoot(): string
    {
        return dirname(__DIR__, 3);
    }

    /** @return array<string, mixed> */
    public function admin(string $method, string $name, ?array $body = null): array
    {
        $context = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\n",
            'content' => $body === null ? '' : json_encode($body, JSON_THROW_ON_ERROR),
            'ignore_errors' => true,
            'timeout' => 10,
        ]]);
        $answer = file_get_contents($this->url . '/_admin/' . $name, false, $context);
        if ($answer === false) {
            throw new \RuntimeException("stand-in /_admin/$name did not answer");
        }
        return json_decode($answer, true, 512, JSON_THROW_ON_ERROR);
    }

    /**
     * Clears log, stats, faults, revocations and configuration; the stand-in then accepts
     * $clientId (with CLIENT_SECRET).
     */
    public function reset(): void
    {
        $this->admin('POST', 'reset');
        $this->admin('POST', 'config', ['client_id' => $this->clientId]);
    }

    /**
     * Before each test: new credentials, then reset(). Clients of one process with the same
     * credentials share their token, so without it a token fetched by one test would serve the
     * next, and no test could count the tokens it causes.
     */
    public function newTest(): void
    {
        static $tests = 0;
        $this->clientId = self::CLIENT_ID . '-' . ++$tests;
        $this->reset();
    }

    /** @param array<string, mixed> $fault e.g. ['match' => 'codeinfo', 'kind' => 'non_json'] */
    public function fault(array $fault): void
    {
        $this->admin('POST', 'fault', $fault);
    }

    /** @return array{tokens_issued: int, token_requests: int, api_requests: int, api_401: int} */
    public function stats(): array
    {
        return $this->admin('GET', 'stats');
    }

    /** @return list<array<string, mixed>> every request since the last reset */
    public function log(): array
    {
        return $this->admin('GET', 'log')['requests'];
    }

    /** @return array<string, mixed> the last request under /icd/ */
    public function lastApiRequest(): array
    {
        $api = array_values(array_filter($this->log(), static fn (array $r): bool => str_starts_with($r['path'], '/icd')));
        if ($api === []) {
            throw new \RuntimeException('the stand-in saw no API request');
        }
        return $api[count($api) - 1];
    }

    /** @param resource $stream */
    private static function readLine($stream, float $seconds): string
    {
        $deadline = microtime(true) + $seconds;
        $line = '';
        while (!str_contains($line, "\n") && ($left = $deadline - microtime(true)) > 0) {
            $read = [$stream];
            $write = $except = null;
            if (stream_select($read, $write, $except, (int) $left, (int) (fmod($left, 1.0) * 1e6)) < 1) {
                break;
            }
            $chunk = fread($stream, 256);
            if ($chunk === false || $chunk === '') {
                break; // exited
            }
            $line .= $chunk;
        }
        return $line;
    }
}
