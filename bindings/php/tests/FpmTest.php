<?php

declare(strict_types=1);

namespace IcdApi\Tests;

use PHPUnit\Framework\TestCase;

/**
 * PHP-FPM as users deploy it: Debian's nginx and php-fpm, started on loopback with exactly the
 * files of bindings/php/deploy/ (only paths and the port replaced), the application installed by
 * Composer from a path repository, the page of deploy/public/ serving 1,000 requests against
 * the stand-in. Then the library-load and credential errors as a worker sees them.
 *
 * Everything — configuration, pid files, sockets, logs, the application — lives in one temporary
 * directory. As root (as CI runs), the masters start as root and the workers run as www-data, as
 * Debian's packages expect; otherwise everything runs as the current user, whose name then also
 * replaces www-data in the deploy files (php-fpm cannot hand its socket to another user).
 */
final class FpmTest extends TestCase
{
    private const REQUESTS = 1000;
    private const CONCURRENCY = 4;
    private const WARM_UP = 100;
    private const UNKNOWN_EVERY = 50; // every 50th page asks for a code that does not exist

    private static string $dir;
    private static StandIn $standIn;
    /** @var list<resource> started processes, stopped in tearDownAfterClass */
    private static array $processes = [];
    private static int $port;
    private static int $probePort;
    private static int $fpmPid;

    public static function setUpBeforeClass(): void
    {
        foreach (['nginx' => self::nginx(), 'php-fpm' => self::phpFpm(), 'composer' => self::which('composer')] as $name => $path) {
            if ($path === null) {
                self::fail("$name is missing: bindings/php/run-tests.sh installs it (apt-get install nginx php-fpm composer)");
            }
        }
        self::$standIn = new StandIn();
        self::$dir = sys_get_temp_dir() . '/icdapi-fpm-' . bin2hex(random_bytes(6));
        try {
            self::layOut();
            self::$fpmPid = self::startFpm('deploy', self::$dir . '/etc/php-fpm.conf', self::$dir . '/etc/conf.d', self::$dir . '/run/php/icdapi-app.sock');
            self::startFpm('probe', self::$dir . '/etc/probe-fpm.conf', self::$dir . '/etc/probe-conf.d', self::$dir . '/run/probe-nolib.sock');
            self::startNginx();
        } catch (\Throwable $e) {
            self::tearDownAfterClass(); // PHPUnit does not call it when this method fails
            throw $e;
        }
    }

    public static function tearDownAfterClass(): void
    {
        foreach (array_reverse(self::$processes) as $process) {
            $pid = proc_get_status($process)['pid'];
            posix_kill($pid, SIGQUIT); // graceful: masters stop their workers
            $deadline = microtime(true) + 10;
            while (proc_get_status($process)['running'] && microtime(true) < $deadline) {
                usleep(20000);
            }
            if (proc_get_status($process)['running']) {
                proc_terminate($process, SIGKILL);
            }
            proc_close($process);
        }
        self::$processes = [];
        if (isset(self::$dir) && is_dir(self::$dir)) {
            if (getenv("KEEP_FPM_DIR") === false) { exec("rm -rf " . escapeshellarg(self::$dir)); }
        }
        if (isset(self::$standIn)) {
            self::$standIn->stop();
        }
    }

    // ---- the application under load -------------------------------------------------------

    public function testAThousandPagesOneTokenAnswersReusedMemoryFlat(): void
    {
        $titles = self::codesAndTitles();
        $codes = array_keys($titles);
        $workers = self::workers(self::$fpmPid);
        $this->assertCount(4, $workers, 'pm = static, pm.max_children = 4');
        if (posix_geteuid() === 0) {
            foreach ($workers as $pid) {
                $this->assertSame('www-data', posix_getpwuid(fileowner("/proc/$pid"))['name'], 'workers run as the pool\'s user');
            }
        }

        $targets = [];
        for ($i = 0; $i < self::REQUESTS; $i++) {
            $targets[] = $i % self::UNKNOWN_EVERY === self::UNKNOWN_EVERY - 1 ? 'ZZ99.' . ($i % 7) : $codes[$i % count($codes)];
        }
        $early = null;
        $pages = [];
        foreach (array_chunk($targets, self::WARM_UP, true) as $round => $chunk) {
            $pages += self::getConcurrently(self::$port, array_map(static fn (string $code): string => '/?code=' . rawurlencode($code), $chunk));
            if ($round === 0) {
                $early = self::rss($workers);
            }
        }
        $late = self::rss($workers);

        $bad = [];
        foreach ($targets as $i => $code) {
            [$status, $body] = $pages[$i];
            $page = json_decode($body, true);
            $ok = isset($titles[$code])
                ? $status === 200 && ($page['title'] ?? null) === $titles[$code] && in_array($code, $page['search'] ?? [], true)
                : $status === 404 && ($page['error'] ?? null) === 'HTTP' && str_contains($page['message'] ?? '', '404');
            if (!$ok) {
                $bad[] = "page $i ($code): HTTP $status " . substr($body, 0, 300);
            }
        }
        $this->assertSame([], array_slice($bad, 0, 5), count($bad) . ' of ' . self::REQUESTS . ' pages were wrong');

        $stats = self::$standIn->stats();
        $growth = array_map(static fn (int $pid): int => $late[$pid] - $early[$pid], $workers);
        $unknown = intdiv(self::REQUESTS, self::UNKNOWN_EVERY);
        fwrite(STDERR, sprintf(
            "\nFPM: %d pages (%d workers, %d at a time): %d tokens issued (%d token requests), %d API requests, "
            . "%d connections at the stand-in; worker RSS after %d pages %s KiB, after %d %s KiB (growth %s KiB)\n",
            self::REQUESTS, count($workers), self::CONCURRENCY, $stats['tokens_issued'], $stats['token_requests'],
            $stats['api_requests'], $stats['connections'], self::WARM_UP, implode('/', $early), self::REQUESTS,
            implode('/', $late), implode('/', $growth)
        ));

        $this->assertSame(1, $stats['tokens_issued'], 'one token for every worker and page (token_cache_file)');
        $this->assertSame(1, $stats['token_requests']);
        // Each known code costs three answers (code info, entity, search), fetched once by
        // whichever worker asks first and read from cache_dir by every later page — a few more
        // where workers ask at the same moment. An unknown code is never cached: its code info
        // and the release list (asked once per client, and each page has its own client).
        $distinct = 3 * count($codes);
        $this->assertGreaterThanOrEqual($distinct + 2 * $unknown, $stats['api_requests']);
        $this->assertLessThanOrEqual($distinct + 2 * $unknown + 3 * count($workers), $stats['api_requests'], 'answers reused across pages (cache_dir)');
        // The connections a worker opens outlive its pages and clients (the process-wide pool):
        // a few per worker, not one per page that asked the API.
        $this->assertLessThanOrEqual(3 * count($workers) + 2, $stats['connections'], 'connections reused across pages and clients');
        foreach ($growth as $pid => $kib) {
            $this->assertLessThanOrEqual(1024, $kib, "worker $pid grew by $kib KiB between page " . self::WARM_UP . ' and page ' . self::REQUESTS);
        }
        $this->assertStringNotContainsString('WARNING', (string) @file_get_contents(self::$dir . '/log/php-fpm-deploy.log'));
    }

    // ---- what a worker says when the library or the credentials are missing ----------------

    public function testWithoutIcdapiLibTheErrorNamesClearEnvAndThePoolLine(): void
    {
        if (str_contains((string) shell_exec('/sbin/ldconfig -p 2>/dev/null'), 'libicdapi.so ')) {
            $this->markTestSkipped('an installed libicdapi.so is found by the dynamic loader');
        }
        $message = self::probe('/nolib/load.php');
        $this->assertStringContainsString('"libicdapi.so" (the dynamic loader did not find it), and ICDAPI_LIB is not set in this PHP-FPM worker', $message);
        $this->assertStringContainsString('clear_env', $message);
        $this->assertStringContainsString('env[ICDAPI_LIB] = /path/to/libicdapi.so', $message);
        $this->assertStringContainsString('/lib/linux-x64/libicdapi.so (this platform is linux-x64)', $message, 'the package\'s lib/<rid>/ is the other way');
        $this->assertStringNotContainsString('Set the environment variable', $message, 'no advice that a worker cannot follow');
    }

    public function testAWrongIcdapiLibIsSaidToBeWrong(): void
    {
        $message = self::probe('/badlib/load.php');
        $this->assertStringContainsString('"/nonexistent/libicdapi.so" that ICDAPI_LIB names: no such file', $message);
        $this->assertStringContainsString('Correct the env[ICDAPI_LIB] line of this PHP-FPM pool', $message);
        $this->assertStringEndsWith(', then reload php-fpm.', $message);
        $this->assertStringNotContainsString('clear_env', $message, 'the variable did arrive: no advice already followed');
        $this->assertStringNotContainsString('Set ', $message);
    }

    public function testMissingCredentialsNameClearEnvAndThePoolLines(): void
    {
        $message = self::probe('/nocreds/credentials.php');
        $this->assertStringContainsString('ICD_CLIENT_ID', $message);
        $this->assertStringContainsString("lacks ICD_CLIENT_ID and ICD_CLIENT_SECRET: php-fpm's default clear_env=yes", $message);
        $this->assertStringContainsString('env[ICD_CLIENT_ID] = $ICD_CLIENT_ID, env[ICD_CLIENT_SECRET] = $ICD_CLIENT_SECRET', $message);
        $this->assertStringStartsWith('INVALID_ARGUMENT: ', $message);
    }

    // ---- the temporary installation ---------------------------------------------------------

    /** The deploy files with their paths (and the port) pointed into the temporary directory. */
    private static function deployed(string $file): string
    {
        $dir = self::$dir;
        $text = (string) file_get_contents(dirname(__DIR__) . "/deploy/$file");
        if (posix_geteuid() !== 0) {
            $text = preg_replace_callback('/^(user|listen\.owner|group|listen\.group|opcache\.preload_user) = www-data$/m', static fn (array $m): string => $m[1] . ' = '
                . (str_contains($m[1], 'group') ? posix_getgrgid(posix_getegid())['name'] : posix_getpwuid(posix_geteuid())['name']), $text);
        }
        return strtr($text, [
            '/srv/icdapi-app' => "$dir/srv/icdapi-app",
            '/var/lib/icdapi-app' => "$dir/var/lib/icdapi-app",
            '/var/cache/icdapi-app' => "$dir/var/cache/icdapi-app",
            '/run/php/icdapi-app.sock' => "$dir/run/php/icdapi-app.sock",
            '/usr/local/lib/libicdapi.so' => "$dir/usr/local/lib/libicdapi.so",
            '/opt/icdapi/bindings/php' => dirname(__DIR__),
            'listen 127.0.0.1:8080;' => 'listen 127.0.0.1:' . self::$port . ';',
        ]);
    }

    private static function layOut(): void
    {
        $dir = self::$dir;
        $root = posix_geteuid() === 0;
        foreach (['srv/icdapi-app/public', 'var/lib/icdapi-app', 'var/cache', 'run/php', 'usr/local/lib', 'etc/conf.d', 'tmp',
                  'etc/probe-conf.d', 'etc/nginx/sites-enabled', 'log', 'nginx-temp', 'probe', 'composer-home'] as $sub) {
            mkdir("$dir/$sub", 0755, true);
        }
        chmod($dir, 0755); // the workers (www-data) walk through it
        chmod("$dir/tmp", 01777);
        self::$port = self::freePort();
        self::$probePort = self::freePort();

        // The application, installed by Composer from a path repository, as the README says.
        file_put_contents("$dir/srv/icdapi-app/composer.json", self::deployed('composer.json'));
        file_put_contents("$dir/srv/icdapi-app/public/index.php", self::deployed('public/index.php'));
        [$status, $output] = self::command(['composer', 'install', '--no-interaction', '--no-progress', '--working-dir', "$dir/srv/icdapi-app"],
            ['COMPOSER_HOME' => "$dir/composer-home", 'COMPOSER_ALLOW_SUPERUSER' => '1', 'PATH' => (string) getenv('PATH'), 'HOME' => "$dir/composer-home"]);
        self::assertSame(0, $status, "composer install failed:\n$output");
        copy(\IcdApi\FFI::libraryPath(), "$dir/usr/local/lib/libicdapi.so");
        if ($root) { // the pool's user writes the token file and the cache
            chown("$dir/var/lib/icdapi-app", 'www-data');
            chown("$dir/var/cache", 'www-data');
        }
        chmod("$dir/var/lib/icdapi-app", 0700);

        // php-fpm: the global part is the test's (pid, log), the pool and the php.ini lines are deploy/'s.
        file_put_contents("$dir/etc/pool-icdapi-app.conf", self::deployed('php-fpm-pool.conf'));
        file_put_contents("$dir/etc/conf.d/50-icdapi.ini", self::deployed('php.ini'));
        file_put_contents("$dir/etc/php-fpm.conf", "[global]\npid = $dir/run/php-fpm-deploy.pid\nerror_log = $dir/log/php-fpm-deploy.log\n"
            . "daemonize = no\ninclude = $dir/etc/pool-icdapi-app.conf\n");

        // A second php-fpm, the test's own, for the errors a worker reports: FFI allowed without
        // preloading, so that each page loads the library itself.
        file_put_contents("$dir/etc/probe-conf.d/50-probe.ini", "ffi.enable = 1\nopcache.enable = 0\n");
        $pool = static fn (string $name, string $env): string => "[$name]\n" . ($root ? "user = www-data\ngroup = www-data\n"
            . "listen.owner = www-data\nlisten.group = www-data\n" : '') . "listen = $dir/run/probe-$name.sock\npm = static\n"
            . "pm.max_children = 1\n$env";
        file_put_contents("$dir/etc/probe-fpm.conf", "[global]\npid = $dir/run/php-fpm-probe.pid\nerror_log = $dir/log/php-fpm-probe.log\n"
            . "daemonize = no\n" . $pool('nolib', '') . $pool('badlib', "env[ICDAPI_LIB] = /nonexistent/libicdapi.so\n")
            . $pool('nocreds', "env[ICDAPI_LIB] = $dir/usr/local/lib/libicdapi.so\n"));
        $autoload = var_export("$dir/srv/icdapi-app/vendor/autoload.php", true);
        file_put_contents("$dir/probe/load.php", "<?php\nrequire $autoload;\ntry {\n    echo IcdApi\\Client::version();\n"
            . "} catch (RuntimeException \$e) {\n    echo \$e->getMessage();\n}\n");
        file_put_contents("$dir/probe/credentials.php", "<?php\nrequire $autoload;\ntry {\n    IcdApi\\Client::cloud();\n    echo 'created';\n"
            . "} catch (IcdApi\\IcdException \$e) {\n    echo \$e->getStatusName(), ': ', \$e->getMessage();\n}\n");

        // nginx: the main configuration is the test's (pid, logs, temporary paths, Debian's
        // snippets), the site is deploy/'s.
        file_put_contents("$dir/etc/nginx/sites-enabled/icdapi-app", self::deployed('nginx-site.conf'));
        foreach (['snippets', 'fastcgi.conf', 'fastcgi_params', 'mime.types'] as $debian) {
            symlink("/etc/nginx/$debian", "$dir/etc/nginx/$debian");
        }
        $probe = '';
        foreach (['nolib' => 'load.php', 'badlib' => 'load.php', 'nocreds' => 'credentials.php'] as $name => $script) {
            $probe .= "        location = /$name/$script {\n            include fastcgi_params;\n"
                . "            fastcgi_param SCRIPT_FILENAME $dir/probe/$script;\n            fastcgi_pass unix:$dir/run/probe-$name.sock;\n        }\n";
        }
        $temp = "$dir/nginx-temp";
        file_put_contents("$dir/etc/nginx/nginx.conf", ($root ? "user www-data;\n" : '') . "daemon off;\nworker_processes 2;\n"
            . "pid $dir/run/nginx.pid;\nerror_log $dir/log/nginx-error.log;\nevents {\n    worker_connections 256;\n}\nhttp {\n"
            . "    include mime.types;\n    access_log $dir/log/nginx-access.log;\n    client_body_temp_path $temp/body;\n"
            . "    fastcgi_temp_path $temp/fastcgi;\n    proxy_temp_path $temp/proxy;\n    uwsgi_temp_path $temp/uwsgi;\n"
            . "    scgi_temp_path $temp/scgi;\n    include $dir/etc/nginx/sites-enabled/*;\n"
            . "    server {\n        listen 127.0.0.1:" . self::$probePort . ";\n$probe    }\n}\n");
    }

    /** Starts a php-fpm master in the foreground; returns its pid once its socket is there. */
    private static function startFpm(string $name, string $config, string $scanDir, string $socket): int
    {
        // php-fpm's own environment: what a systemd unit would give it (the pool passes some on).
        $env = ['PATH' => '/usr/sbin:/usr/bin:/sbin:/bin', 'PHP_INI_SCAN_DIR' => ':' . $scanDir,
                'ICD_CLIENT_ID' => StandIn::CLIENT_ID, 'ICD_CLIENT_SECRET' => StandIn::CLIENT_SECRET,
                'ICD_API_BASE' => self::$standIn->url, 'ICD_TOKEN_ENDPOINT' => self::$standIn->url . '/connect/token',
                'TMPDIR' => self::$dir . '/tmp'];
        $process = proc_open([self::phpFpm(), '--nodaemonize', '--fpm-config', $config],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', self::$dir . "/log/php-fpm-$name.out", 'a'], 2 => ['file', self::$dir . "/log/php-fpm-$name.out", 'a']],
            $pipes, self::$dir, $env);
        self::$processes[] = $process;
        self::waitFor(static fn (): bool => file_exists($socket), "php-fpm ($name)", self::$dir . "/log/php-fpm-$name.out", $process);
        return proc_get_status($process)['pid'];
    }

    private static function startNginx(): void
    {
        $dir = self::$dir;
        $process = proc_open([self::nginx(), '-p', "$dir/etc/nginx/", '-c', "$dir/etc/nginx/nginx.conf", '-e', "$dir/log/nginx-error.log"],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$dir/log/nginx.out", 'a'], 2 => ['file', "$dir/log/nginx.out", 'a']],
            $pipes, $dir, ['PATH' => '/usr/sbin:/usr/bin:/sbin:/bin']);
        self::$processes[] = $process;
        $listening = static function (): bool {
            $socket = @stream_socket_client('tcp://127.0.0.1:' . self::$port, $errno, $error, 0.2);
            return $socket !== false && fclose($socket);
        };
        self::waitFor($listening, 'nginx', "$dir/log/nginx-error.log", $process);
    }

    /** @param resource $process */
    private static function waitFor(callable $ready, string $what, string $log, $process): void
    {
        $deadline = microtime(true) + 20;
        while (!$ready()) {
            if (!proc_get_status($process)['running'] || microtime(true) > $deadline) {
                self::fail("$what did not start:\n" . @file_get_contents($log));
            }
            usleep(20000);
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    /** code => English title, for the codes of the stand-in's data set that code info knows. */
    private static function codesAndTitles(): array
    {
        $data = json_decode((string) file_get_contents(StandIn::repoRoot() . '/tools/standin/data/icd_data.json'), true);
        $titles = [];
        foreach ($data['icd11'] as $entity) {
            if (($entity['code'] ?? '') !== '' && $entity['classKind'] !== 'chapter') {
                $titles[$entity['code']] = $entity['title']['en'];
            }
        }
        return $titles;
    }

    /**
     * GETs every path from nginx, self::CONCURRENCY at a time, each on a connection of its own.
     *
     * @param array<int, string> $paths
     * @return array<int, array{int, string}> status and body, with the keys of $paths
     */
    private static function getConcurrently(int $port, array $paths): array
    {
        $results = [];
        $queue = $paths;
        $open = []; // key => [socket, response so far]
        while ($queue !== [] || $open !== []) {
            while ($queue !== [] && count($open) < self::CONCURRENCY) {
                $key = array_key_first($queue);
                $socket = stream_socket_client("tcp://127.0.0.1:$port", $errno, $error, 5);
                if ($socket === false) {
                    self::fail("cannot connect to nginx: $error");
                }
                fwrite($socket, "GET {$queue[$key]} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
                stream_set_blocking($socket, false);
                $open[$key] = [$socket, ''];
                unset($queue[$key]);
            }
            $read = array_map(static fn (array $entry) => $entry[0], $open);
            $write = $except = null;
            if (stream_select($read, $write, $except, 30) === 0) {
                self::fail('nginx did not answer within 30 s');
            }
            foreach ($read as $socket) {
                $key = array_search($socket, array_map(static fn (array $entry) => $entry[0], $open), true);
                $chunk = fread($socket, 65536);
                if ($chunk === '' || $chunk === false) {
                    if (feof($socket) || $chunk === false) {
                        fclose($socket);
                        $results[$key] = self::parseResponse($open[$key][1]);
                        unset($open[$key]);
                    }
                    continue;
                }
                $open[$key][1] .= $chunk;
            }
        }
        return $results;
    }

    /** @return array{int, string} */
    private static function parseResponse(string $raw): array
    {
        [$head, $body] = explode("\r\n\r\n", $raw, 2) + [1 => ''];
        preg_match('~^HTTP/1\.\d (\d{3})~', $head, $m);
        if (stripos($head, "\r\nTransfer-Encoding: chunked") !== false) {
            $decoded = '';
            while (preg_match('/^([0-9a-fA-F]+)\r\n/', $body, $size) && ($length = hexdec($size[1])) > 0) {
                $decoded .= substr($body, strlen($size[0]), $length);
                $body = substr($body, strlen($size[0]) + $length + 2);
            }
            $body = $decoded;
        }
        return [(int) ($m[1] ?? 0), $body];
    }

    /** The message a probe page of the test's own php-fpm printed. */
    private static function probe(string $path): string
    {
        [$status, $body] = self::getConcurrently(self::$probePort, [$path])[0];
        self::assertSame(200, $status, $body);
        if (getenv('ICDAPI_SHOW_MESSAGES') !== false) {
            fwrite(STDERR, "\n$path: $body\n");
        }
        return $body;
    }

    /** @return list<int> the pids of the master's workers */
    private static function workers(int $master): array
    {
        $pids = [];
        foreach (glob('/proc/[0-9]*/stat') ?: [] as $stat) {
            $fields = explode(' ', (string) substr((string) @file_get_contents($stat), (int) strrpos((string) @file_get_contents($stat), ')') + 2));
            if ((int) ($fields[1] ?? 0) === $master) {
                $pids[] = (int) basename(dirname($stat));
            }
        }
        sort($pids);
        return $pids;
    }

    /**
     * @param list<int> $pids
     * @return array<int, int> pid => resident set size in KiB
     */
    private static function rss(array $pids): array
    {
        $rss = [];
        foreach ($pids as $pid) {
            preg_match('/^VmRSS:\s+(\d+) kB/m', (string) file_get_contents("/proc/$pid/status"), $m);
            $rss[$pid] = (int) $m[1];
        }
        return $rss;
    }

    private static function freePort(): int
    {
        $server = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr((string) strrchr((string) stream_socket_get_name($server, false), ':'), 1);
        fclose($server);
        return $port;
    }

    /** @return array{int, string} exit status and output (stdout and stderr) */
    private static function command(array $command, array $env): array
    {
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['redirect', 1]], $pipes, null, $env);
        $output = (string) stream_get_contents($pipes[1]);
        return [proc_close($process), $output];
    }

    private static function nginx(): ?string
    {
        return is_executable('/usr/sbin/nginx') ? '/usr/sbin/nginx' : self::which('nginx');
    }

    /** Debian's php-fpm of this PHP's version (php-fpm8.2), or any php-fpm. */
    private static function phpFpm(): ?string
    {
        $versioned = '/usr/sbin/php-fpm' . PHP_MAJOR_VERSION . '.' . PHP_MINOR_VERSION;
        return is_executable($versioned) ? $versioned : self::which('php-fpm');
    }

    private static function which(string $command): ?string
    {
        $path = trim((string) shell_exec('command -v ' . escapeshellarg($command) . ' 2>/dev/null'));
        return $path === '' ? null : $path;
    }
}
