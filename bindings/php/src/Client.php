<?php

declare(strict_types=1);

namespace IcdApi;

use FFI\CData;

/**
 * A client of the WHO ICD API (cloud, with OAuth2 client credentials) or of WHO's local
 * deployment (the whoicd/icd-api container, no credentials).
 *
 * Each request method returns the API's JSON answer: as a string (get, search, ...) or decoded
 * into an associative array (getArray, searchArray, ...). Every failure throws IcdException,
 * except the failure of one item of getMany(), which is reported in its result. The native
 * client is freed when the object is destroyed, or earlier by close().
 *
 *     $icd = Client::cloud();                     // ICD_CLIENT_ID / ICD_CLIENT_SECRET
 *     $icd->setLanguage('fr');
 *     $hit = $icd->searchArray('cholera', ['highlightingEnabled' => false])['destinationEntities'][0];
 *
 * Query parameters: get, search, autocode and codeInfo (and their ...Array twins) take a last
 * argument $params, name => value, appended in order to the request's query and percent-encoded
 * by the library: true/false become "true"/"false", ints their decimal text, floats the shortest
 * plain decimal text that reads back as the same float (0.75, 0.30000000000000004 for 0.1 + 0.2,
 * 100000000000000000000 for 1e20, 2 for 2.0; never an exponent), strings go as they are and null
 * values are left out. A key that is not a non-empty string (a list given by mistake), a value of
 * another type, INF or NAN, a NUL byte or invalid UTF-8 throws IcdException INVALID_ARGUMENT
 * before anything is sent.
 */
final class Client
{
    private ?CData $handle;

    /** @var array{\FFI\CType, \FFI\CType, \FFI\CType}|null element types of getMany()'s C arrays */
    private static ?array $batchTypes = null;

    private function __construct(CData $handle)
    {
        $this->handle = $handle;
    }

    /**
     * A client of the WHO cloud API. Both null: the credentials are read from the environment
     * variables ICD_CLIENT_ID and ICD_CLIENT_SECRET. ICD_API_BASE and ICD_TOKEN_ENDPOINT, when set,
     * replace the default URLs. No network I/O happens here: the token is fetched on first use.
     * Under PHP-FPM, whose default clear_env=yes hides the server's environment from workers, the
     * message of a missing variable names the pool's env[...] line that passes it.
     *
     * @throws IcdException INVALID_ARGUMENT for missing or empty credentials or a bad URL
     */
    public static function cloud(?string $clientId = null, ?string $clientSecret = null): self
    {
        self::checkNoNul($clientId, 'clientId');
        self::checkNoNul($clientSecret, 'clientSecret');
        $handle = FFI::instance()->icd_client_new($clientId, $clientSecret);
        if ($handle === null && $clientId === null && $clientSecret === null) {
            throw self::withEnvironmentHint(self::lastError(), ['ICD_CLIENT_ID', 'ICD_CLIENT_SECRET']);
        }
        return self::wrap($handle);
    }

    /**
     * A client of a local deployment of the API, e.g. "http://localhost:8080": no token, no
     * credentials.
     *
     * @throws IcdException INVALID_ARGUMENT for a URL that is not http(s)://host[:port][/prefix]
     */
    public static function local(string $baseUrl): self
    {
        self::checkNoNul($baseUrl, 'baseUrl');
        return self::wrap(FFI::instance()->icd_client_new_local($baseUrl));
    }

    /**
     * Under PHP-FPM, whose default clear_env=yes hides the server's environment from its workers,
     * a variable the library read and did not find is explained with the pool's env[...] line.
     *
     * @param list<string> $variables
     */
    private static function withEnvironmentHint(IcdException $e, array $variables): IcdException
    {
        $unset = array_values(array_filter($variables, static fn (string $name): bool => in_array(getenv($name), [false, ''], true)));
        if (PHP_SAPI !== 'fpm-fcgi' || $unset === []) {
            return $e;
        }
        $lines = implode(', ', array_map(static fn (string $name): string => "env[$name] = \$$name", $unset));
        return new IcdException(
            $e->getMessage() . '. This PHP-FPM worker\'s environment lacks ' . implode(' and ', $unset)
            . ": php-fpm's default clear_env=yes hides the server's environment from workers; pass them "
            . "with the pool's $lines lines (or set clear_env = no), then reload php-fpm",
            $e->getStatus(),
            $e->getHttpStatus()
        );
    }

    /** The version of the native library, e.g. "0.3.0". */
    public static function version(): string
    {
        return FFI::instance()->icd_version();
    }

    /**
     * The name of every option the native library takes (setOption()), in the order of its
     * documentation: ['language', 'release', ...]. Each has a typed setter here too
     * (setLanguage(), ..., setTimeoutMs()).
     *
     * @return list<string>
     */
    public static function optionNames(): array
    {
        return explode(',', FFI::instance()->icd_option_names());
    }

    public function __destruct()
    {
        $this->close();
    }

    /** Frees the native client now; later calls on this object throw INVALID_ARGUMENT. */
    public function close(): void
    {
        if ($this->handle !== null) {
            $handle = $this->handle;
            $this->handle = null;
            FFI::instance()->icd_client_free($handle);
        }
    }

    /** Two PHP objects must never own the same native client: it would be freed twice. */
    private function __clone()
    {
    }

    public function __serialize(): array
    {
        throw new \LogicException('an IcdApi\Client cannot be serialized');
    }

    public function __unserialize(array $data): void
    {
        throw new \LogicException('an IcdApi\Client cannot be unserialized');
    }

    // ---- requests, raw JSON ---------------------------------------------------------------

    /**
     * GET a path ("/icd/release/11/2026-01/mms/257068234", query string allowed), an
     * http://id.who.int/... URI from an answer's "@id", or a URI under the configured api_base.
     * $params are added to the query the path may already hold (see the class's doc). The answer
     * comes as it came, even one with "error": true (never cached).
     *
     * @param array<string, string|int|float|bool|\Stringable|null> $params e.g. ['include' => 'ancestor']
     */
    public function get(string $pathOrUri, array $params = []): string
    {
        return $this->request('icd_get', ['pathOrUri' => $pathOrUri], $params);
    }

    /** POST a JSON body to a path or URI (as for get()); answers of POST are never cached. */
    public function post(string $pathOrUri, string $jsonBody): string
    {
        return $this->request('icd_post', ['pathOrUri' => $pathOrUri, 'jsonBody' => $jsonBody]);
    }

    /**
     * Searches the configured release and linearization. A trailing '%' asks for a wildcard
     * match. $params after q, e.g. ['highlightingEnabled' => false, 'flatResults' => true,
     * 'chapterFilter' => '01;02']. A search the API could not run (it answers 200 with
     * "error": true) throws IcdException API quoting its errorMessage, with the 2xx HTTP status.
     *
     * @param array<string, string|int|float|bool|\Stringable|null> $params
     */
    public function search(string $query, array $params = []): string
    {
        return $this->request('icd_search', ['query' => $query], $params);
    }

    /**
     * Code information, e.g. codeInfo('1A00'); postcoordinated codes ('&', '/') arrive intact.
     * $params after the code, e.g. ['flexiblemode' => true, 'convertToTerminalCodes' => true].
     *
     * @param array<string, string|int|float|bool|\Stringable|null> $params
     */
    public function codeInfo(string $code, array $params = []): string
    {
        return $this->request('icd_codeinfo', ['code' => $code], $params);
    }

    /**
     * Automatic coding of a diagnostic text. $params after searchText, e.g.
     * ['matchThreshold' => 0.75]. "error": true in the answer throws IcdException API, as for search().
     *
     * @param array<string, string|int|float|bool|\Stringable|null> $params
     */
    public function autocode(string $text, array $params = []): string
    {
        return $this->request('icd_autocode', ['text' => $text], $params);
    }

    /**
     * The linearization entity of a code, in one call: the code info, then its stemId followed,
     * in the client's language and release. A postcoordinated code ("1A00&XN6P4") gives its
     * stem's entity. An unknown code throws IcdException HTTP with getHttpStatus() 404.
     */
    public function entityByCode(string $code): string
    {
        return $this->request('icd_entity_by_code', ['code' => $code]);
    }

    /**
     * ICD-10: a category ("A00.0"), a block ("A00-A09") or a chapter ("I") of the release
     * setIcd10Release() chose (2019 by default). The API serves ICD-10 in English and French only.
     */
    public function icd10(string $code): string
    {
        return $this->request('icd_icd10', ['code' => $code]);
    }

    /** The entity of the configured linearization that holds a Foundation entity. */
    public function lookup(string $foundationUri): string
    {
        return $this->request('icd_lookup', ['foundationUri' => $foundationUri]);
    }

    // ---- many requests at once ------------------------------------------------------------

    /**
     * GETs many paths or URIs concurrently (at most setConcurrency() at a time, 16 by default), with
     * one token, the client's connections and its caches, and returns every answer: in the order
     * and with the keys of $pathsOrUris, one ['body' => ?string, 'status' => int,
     * 'http_status' => int] each. 'status' is IcdException::OK or the item's failure (a constant
     * of IcdException), 'body' the JSON text, null unless the item succeeded. 'http_status' is the
     * HTTP status of the item's last answer: 200 for a success, e.g. 404 (with HTTP) for an
     * unknown code or 503 for an unavailable server, 0 when no answer came (an item refused before
     * any request, a network failure, a timeout) — so that each item tells "no such code" from
     * "try again later". One failed item fails only itself: nothing is thrown for it.
     *
     * $firstError receives an IcdException about the first failed item, in the array's order — its
     * message starts with "item N: ", N the item's position from 0 (not its key), and
     * getHttpStatus() is that item's HTTP status — or null when all succeeded. The library gives
     * the error message of that first failure only.
     *
     * An element that is null or holds a NUL byte is not requested: its item fails with
     * INVALID_ARGUMENT and 'http_status' 0, like a URI on another host. An empty array returns []
     * without a request.
     *
     * @param array<array-key, ?string> $pathsOrUris each as for get()
     * @param-out IcdException|null $firstError
     * @return array<array-key, array{body: ?string, status: int, http_status: int}>
     * @throws \TypeError for an element that is neither a string nor null
     * @throws IcdException INVALID_ARGUMENT for a closed client
     */
    public function getMany(array $pathsOrUris, ?IcdException &$firstError = null): array
    {
        [$results, $firstError] = $this->fetchMany($pathsOrUris, null);
        return $results;
    }

    /**
     * getMany() with each body decoded as by getArray(): ['body' => ?array, 'status' => int,
     * 'http_status' => int]. A body PHP cannot decode into an array fails its item with PARSE
     * ('http_status' stays 200: the API did answer).
     *
     * @param array<array-key, ?string> $pathsOrUris
     * @param-out IcdException|null $firstError
     * @return array<array-key, array{body: ?array<string, mixed>, status: int, http_status: int}>
     */
    public function getManyArrays(array $pathsOrUris, ?IcdException &$firstError = null): array
    {
        [$results, $firstError] = $this->fetchMany($pathsOrUris, self::decode(...));
        return $results;
    }

    // ---- requests, decoded ----------------------------------------------------------------

    /**
     * @param array<string, string|int|float|bool|\Stringable|null> $params
     * @return array<string, mixed>
     */
    public function getArray(string $pathOrUri, array $params = []): array
    {
        return self::decode($this->get($pathOrUri, $params));
    }

    /** @return array<string, mixed> */
    public function postArray(string $pathOrUri, string|array $jsonBody): array
    {
        if (is_array($jsonBody)) {
            $jsonBody = json_encode($jsonBody, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        }
        return self::decode($this->post($pathOrUri, $jsonBody));
    }

    /**
     * @param array<string, string|int|float|bool|\Stringable|null> $params
     * @return array<string, mixed>
     */
    public function searchArray(string $query, array $params = []): array
    {
        return self::decode($this->search($query, $params));
    }

    /**
     * @param array<string, string|int|float|bool|\Stringable|null> $params
     * @return array<string, mixed>
     */
    public function codeInfoArray(string $code, array $params = []): array
    {
        return self::decode($this->codeInfo($code, $params));
    }

    /**
     * @param array<string, string|int|float|bool|\Stringable|null> $params
     * @return array<string, mixed>
     */
    public function autocodeArray(string $text, array $params = []): array
    {
        return self::decode($this->autocode($text, $params));
    }

    /** @return array<string, mixed> */
    public function entityByCodeArray(string $code): array
    {
        return self::decode($this->entityByCode($code));
    }

    /** @return array<string, mixed> */
    public function icd10Array(string $code): array
    {
        return self::decode($this->icd10($code));
    }

    /** @return array<string, mixed> */
    public function lookupArray(string $foundationUri): array
    {
        return self::decode($this->lookup($foundationUri));
    }

    // ---- options --------------------------------------------------------------------------

    /**
     * Sets one option by its name (see the library's header for the table; optionNames() lists
     * them): language, release, linearization, api_version, api_base, token_endpoint, timeout_ms,
     * max_retries, cache_entries, max_response_bytes, user_agent, proxy, ca_file, log,
     * concurrency, token_cache_file, cache_dir, cache_dir_max_bytes, icd10_release.
     *
     * @throws IcdException INVALID_ARGUMENT for an unknown name or a bad value; the option is then unchanged
     */
    public function setOption(string $name, string $value): void
    {
        self::checkNoNul($name, 'name');
        self::checkNoNul($value, 'value');
        $ffi = FFI::instance();
        if ($ffi->icd_client_set_option($this->handle(), $name, $value) !== IcdException::OK) {
            throw self::lastError();
        }
    }

    /**
     * The current value of an option, as text in the form setOption() takes: "2026-01" for
     * "release", "30000" for "timeout_ms", "" for an option not set (proxy, ca_file,
     * token_cache_file, cache_dir). The credentials are not options and cannot be read back.
     *
     * @throws IcdException INVALID_ARGUMENT for an unknown name
     */
    public function getOption(string $name): string
    {
        return $this->request('icd_client_get_option', ['name' => $name]);
    }

    /** Accept-Language of every request: "en" (default), "fr", "es", "ar", "zh", "ru", ... */
    public function setLanguage(string $language): void
    {
        $this->setOption('language', $language);
    }

    /** ICD-11 release used by search, codeInfo, autocode and lookup, e.g. "2026-01". */
    public function setRelease(string $release): void
    {
        $this->setOption('release', $release);
    }

    /** ICD-10 release used by icd10(): "2019" (default), "2016", "2010", "2008". */
    public function setIcd10Release(string $release): void
    {
        $this->setOption('icd10_release', $release);
    }

    /** "mms" (default) or "icf". */
    public function setLinearization(string $linearization): void
    {
        $this->setOption('linearization', $linearization);
    }

    /** The API-Version header, "v2" by default. */
    public function setApiVersion(string $apiVersion): void
    {
        $this->setOption('api_version', $apiVersion);
    }

    /** Where requests go, "https://id.who.int" by default; switches to the token issued for the new pair. */
    public function setApiBase(string $url): void
    {
        $this->setOption('api_base', $url);
    }

    /** The OAuth2 token URL of a cloud client; switches to the token issued for the new pair. */
    public function setTokenEndpoint(string $url): void
    {
        $this->setOption('token_endpoint', $url);
    }

    /** Deadline of one whole call in milliseconds, retries and token fetch included (30000). */
    public function setTimeoutMs(int $milliseconds): void
    {
        $this->setOption('timeout_ms', (string) $milliseconds);
    }

    /** Retries of 429, 500, 502, 503, 504 and cut connections, 0 to 10 (2). */
    public function setMaxRetries(int $retries): void
    {
        $this->setOption('max_retries', (string) $retries);
    }

    /** Size of the in-memory response cache in entries (1024); 0 disables it. */
    public function setCacheEntries(int $entries): void
    {
        $this->setOption('cache_entries', (string) $entries);
    }

    /** Larger answers fail with NETWORK (32 MiB). */
    public function setMaxResponseBytes(int $bytes): void
    {
        $this->setOption('max_response_bytes', (string) $bytes);
    }

    public function setUserAgent(string $userAgent): void
    {
        $this->setOption('user_agent', $userAgent);
    }

    /** "http://host:port", or null for no proxy at all (not even HTTPS_PROXY / ALL_PROXY). */
    public function setProxy(?string $proxy): void
    {
        $this->setOption('proxy', $proxy ?? 'none');
    }

    /** A PEM bundle to trust instead of the system's certificate store. */
    public function setCaFile(string $path): void
    {
        $this->setOption('ca_file', $path);
    }

    /** true: one line per request, retry and token fetch on stderr (never secrets or tokens). */
    public function setLog(bool $enabled): void
    {
        $this->setOption('log', $enabled ? 'debug' : 'off');
    }

    /** How many items of getMany() are in flight at once, 1 to 64 (8). */
    public function setConcurrency(int $concurrency): void
    {
        $this->setOption('concurrency', (string) $concurrency);
    }

    /**
     * A file through which processes with the same credentials, token endpoint and API share one
     * token (cloud clients only): PHP-FPM workers, CLI runs. Created 0600 on first use; null or ''
     * turns it off. Refused (INVALID_ARGUMENT) when its directory does not exist, or when the file
     * exists and is a symlink, is owned by another user or is accessible to others.
     */
    public function setTokenCacheFile(?string $path): void
    {
        $this->setOption('token_cache_file', $path ?? '');
    }

    /**
     * A directory (created 0700) where answers about fixed releases (/icd/release/11/{release}/...,
     * /icd/release/10/{release}/...) are kept across requests, runs and processes; null or ''
     * turns it off (the default).
     */
    public function setCacheDir(?string $directory): void
    {
        $this->setOption('cache_dir', $directory ?? '');
    }

    /** The size the cache directory is kept under, at least 65536 (256 MiB). */
    public function setCacheDirMaxBytes(int $bytes): void
    {
        $this->setOption('cache_dir_max_bytes', (string) $bytes);
    }

    // ---- plumbing -------------------------------------------------------------------------

    /**
     * Calls $function (or, with parameters, its _with form) and copies the string it returns.
     *
     * @param array<string, string> $args named only for the messages of checkNoNul
     * @param array<array-key, mixed> $params query parameters, as the public methods take them
     */
    private function request(string $function, array $args, array $params = []): string
    {
        foreach ($args as $name => $value) {
            self::checkNoNul($value, $name);
        }
        $pairs = self::queryParameters($params);
        $handle = $this->handle();
        $ffi = FFI::instance();
        if ($pairs === []) {
            $body = $ffi->$function($handle, ...array_values($args));
        } else {
            [$array, $buffers] = FFI::stringArray($pairs, 1); // name, value, ..., NULL
            try {
                $body = $ffi->{$function . '_with'}($handle, ...[...array_values($args), $array]);
            } finally {
                FFI::release($buffers);
            }
        }
        if ($body === null) {
            throw self::lastError(); // read before any other icd_ call can overwrite it
        }
        try {
            return \FFI::string($body);
        } finally {
            $ffi->icd_free_string($body);
        }
    }

    /**
     * name => value as the flat list name, value, name, value, ... the library takes; null values
     * left out. Checked here, so that a mistake is told in PHP's terms before anything is sent.
     *
     * @param array<array-key, mixed> $params
     * @return list<string>
     */
    private static function queryParameters(array $params): array
    {
        $pairs = [];
        foreach ($params as $name => $value) {
            if (!is_string($name) || $name === '') {
                throw new IcdException(sprintf(
                    'query parameters are name => value: key %s is not a parameter name (write '
                    . "['highlightingEnabled' => false], not a list); nothing was sent",
                    var_export($name, true)
                ), IcdException::INVALID_ARGUMENT);
            }
            if ($value === null) {
                continue;
            }
            $text = match (true) {
                is_string($value) => $value,
                is_bool($value) => $value ? 'true' : 'false',
                is_int($value) => (string) $value,
                is_float($value) => self::plainDecimal($value, $name),
                $value instanceof \Stringable => (string) $value,
                default => throw new IcdException(sprintf(
                    "query parameter '%s' is %s: pass a string, int, float, bool or null; nothing was sent",
                    $name,
                    get_debug_type($value)
                ), IcdException::INVALID_ARGUMENT),
            };
            foreach (['name' => $name, 'value' => $text] as $what => $string) {
                if (str_contains($string, "\0")) {
                    throw new IcdException("the $what of query parameter '$name' contains a NUL byte; nothing was sent", IcdException::INVALID_ARGUMENT);
                }
                if (preg_match('//u', $string) !== 1) {
                    throw new IcdException("the $what of query parameter '$name' is not valid UTF-8; nothing was sent", IcdException::INVALID_ARGUMENT);
                }
            }
            $pairs[] = $name;
            $pairs[] = $text;
        }
        return $pairs;
    }

    /**
     * The shortest decimal text that reads back as the same float, without an exponent:
     * 0.75, 0.30000000000000004 (0.1 + 0.2), 100000000000000000000 (1e20), 0.000001 (1e-6),
     * 2 (2.0). Independent of the precision and serialize_precision settings and of the locale.
     */
    private static function plainDecimal(float $value, string $name): string
    {
        if (!is_finite($value)) {
            throw new IcdException("query parameter '$name' is " . var_export($value, true) . ': not a number the API can take; nothing was sent', IcdException::INVALID_ARGUMENT);
        }
        if ($value == 0.0) {
            return '0'; // -0.0 too
        }
        for ($digits = 1; $digits <= 17; $digits++) {
            $scientific = sprintf('%.' . ($digits - 1) . 'e', $value);
            if ((float) str_replace(',', '.', $scientific) === $value) {
                break;
            }
        }
        preg_match('/^(-?)(\d)(?:[.,](\d+))?e([-+]\d+)$/', $scientific, $m);
        [, $sign, $first, $rest, $exponent] = $m;
        $mantissa = rtrim($first . $rest, '0');
        $exponent = (int) $exponent;
        $length = strlen($mantissa);
        if ($exponent >= $length - 1) {
            return $sign . $mantissa . str_repeat('0', $exponent - $length + 1);
        }
        if ($exponent >= 0) {
            return $sign . substr($mantissa, 0, $exponent + 1) . '.' . substr($mantissa, $exponent + 1);
        }
        return $sign . '0.' . str_repeat('0', -$exponent - 1) . $mantissa;
    }

    /**
     * icd_get_many_detailed over $pathsOrUris. The C array of strings points into buffers of
     * FFI::stringArray(), released in `finally`, as are the bodies the library returns, once
     * copied into PHP strings.
     *
     * @param array<array-key, mixed> $pathsOrUris
     * @param (\Closure(string): array<string, mixed>)|null $decode turns a body into the item's value
     * @return array{array<array-key, array{body: mixed, status: int, http_status: int}>, ?IcdException}
     */
    private function fetchMany(array $pathsOrUris, ?\Closure $decode): array
    {
        $handle = $this->handle();
        $keys = array_keys($pathsOrUris);
        $values = array_values($pathsOrUris);
        $count = count($values);
        $refusals = []; // position => why the binding did not pass the element on
        foreach ($values as $i => $value) {
            if ($value === null) {
                $refusals[$i] = 'the path or URI is null';
            } elseif (!is_string($value)) {
                throw new \TypeError(sprintf(
                    'IcdApi\Client::getMany(): element %s of $pathsOrUris must be a string or null, %s given',
                    var_export($keys[$i], true),
                    get_debug_type($value)
                ));
            } elseif (str_contains($value, "\0")) {
                $refusals[$i] = 'the path or URI contains a NUL byte';
            }
        }
        if ($count === 0) {
            return [[], null];
        }

        $ffi = FFI::instance();
        // Array types built from cached element types: an array created from a type string
        // ("char *[$count]") leaks about 100 bytes per element read, until the request ends.
        [$bodyType, $statusType, $httpStatusType] = self::$batchTypes ??=
            [$ffi->type('char *'), $ffi->type('enum IcdStatus'), $ffi->type('int')];
        $bodies = $ffi->new(\FFI::arrayType($bodyType, [$count]));
        $statuses = $ffi->new(\FFI::arrayType($statusType, [$count]));
        $httpStatuses = $ffi->new(\FFI::arrayType($httpStatusType, [$count]));
        // A refused element stays a NULL pointer: the library fails its item alone.
        [$paths, $owned] = FFI::stringArray(array_map(
            static fn (int $i): ?string => isset($refusals[$i]) ? null : $values[$i],
            array_keys($values)
        ));
        try {
            $succeeded = $ffi->icd_get_many_detailed($handle, $paths, $count, $bodies, $statuses, $httpStatuses);
            // Read before any other icd_ call can overwrite it: the first failed item.
            $nativeError = $succeeded < $count ? self::lastError() : null;

            $results = [];
            $firstError = null;
            for ($i = 0; $i < $count; $i++) {
                $body = null;
                $text = $bodies[$i];
                if ($text !== null) {
                    $bodies[$i] = null;
                    try {
                        $body = \FFI::string($text);
                    } finally {
                        $ffi->icd_free_string($text);
                    }
                }
                $reason = $refusals[$i] ?? null;
                $status = $reason !== null ? IcdException::INVALID_ARGUMENT : (int) $statuses[$i];
                $httpStatus = $reason !== null ? 0 : (int) $httpStatuses[$i]; // refused here: never requested
                if ($status === IcdException::OK && $body === null) {
                    [$status, $reason] = [IcdException::INTERNAL, 'icdapi reported success without a body'];
                }
                if ($status === IcdException::OK && $decode !== null) {
                    try {
                        $body = $decode($body);
                    } catch (IcdException $e) {
                        [$status, $reason, $httpStatus] = [$e->getStatus(), $e->getMessage(), $e->getHttpStatus()];
                    }
                }
                if ($status !== IcdException::OK) {
                    $body = null;
                    if ($firstError === null) {
                        $firstError = $reason === null && $nativeError !== null
                            ? $nativeError
                            : new IcdException("item $i: " . ($reason ?? 'icdapi failed without recording an error'), $status, $httpStatus);
                    }
                }
                $results[$keys[$i]] = ['body' => $body, 'status' => $status, 'http_status' => $httpStatus];
            }
            return [$results, $firstError];
        } finally {
            FFI::release($owned);
            for ($i = 0; $i < $count; $i++) { // left only if copying was cut short
                if ($bodies[$i] !== null) {
                    $ffi->icd_free_string($bodies[$i]);
                }
            }
        }
    }

    private function handle(): CData
    {
        return $this->handle ?? throw new IcdException(
            'this IcdApi\Client has been closed',
            IcdException::INVALID_ARGUMENT
        );
    }

    private static function wrap(?CData $handle): self
    {
        return $handle === null ? throw self::lastError() : new self($handle);
    }

    /** The error the library recorded for this thread's last call. */
    private static function lastError(): IcdException
    {
        $ffi = FFI::instance();
        $status = (int) $ffi->icd_last_error_code();
        $message = $ffi->icd_last_error_message();
        $httpStatus = $ffi->icd_last_http_status();
        if ($status === IcdException::OK) {
            return new IcdException('icdapi failed without recording an error', IcdException::INTERNAL, $httpStatus);
        }
        return new IcdException($message, $status, $httpStatus);
    }

    /**
     * A C string ends at its first NUL byte: a PHP string holding one would reach the library cut
     * short, so it is refused here with the status the library gives a bad argument.
     */
    private static function checkNoNul(?string $value, string $name): void
    {
        if ($value !== null && str_contains($value, "\0")) {
            throw new IcdException("$name contains a NUL byte", IcdException::INVALID_ARGUMENT);
        }
    }

    /** @return array<string, mixed> */
    private static function decode(string $json): array
    {
        try {
            $decoded = json_decode($json, true, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new IcdException('the answer is not JSON PHP can decode: ' . $e->getMessage(), IcdException::PARSE, 200, $e);
        }
        if (!is_array($decoded)) {
            throw new IcdException('the answer is JSON but not an object or array', IcdException::PARSE, 200);
        }
        return $decoded;
    }
}
