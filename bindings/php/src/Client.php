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
 *     $hit = $icd->searchArray('cholera')['destinationEntities'][0];
 */
final class Client
{
    private ?CData $handle;

    /** @var array{\FFI\CType, \FFI\CType, \FFI\CType, \FFI\CType}|null element types of getMany()'s C arrays */
    private static ?array $batchTypes = null;

    private function __construct(CData $handle)
    {
        $this->handle = $handle;
    }

    /**
     * A client of the WHO cloud API. Both null: the credentials are read from the environment
     * variables ICD_CLIENT_ID and ICD_CLIENT_SECRET. ICD_API_BASE and ICD_TOKEN_ENDPOINT, when set,
     * replace the default URLs. No network I/O happens here: the token is fetched on first use.
     *
     * @throws IcdException INVALID_ARGUMENT for missing or empty credentials or a bad URL
     */
    public static function cloud(?string $clientId = null, ?string $clientSecret = null): self
    {
        self::checkNoNul($clientId, 'clientId');
        self::checkNoNul($clientSecret, 'clientSecret');
        return self::wrap(FFI::instance()->icd_client_new($clientId, $clientSecret));
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

    /** The version of the native library, e.g. "0.2.0". */
    public static function version(): string
    {
        return FFI::instance()->icd_version();
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
     */
    public function get(string $pathOrUri): string
    {
        return $this->request('icd_get', ['pathOrUri' => $pathOrUri]);
    }

    /** POST a JSON body to a path or URI (as for get()); answers of POST are never cached. */
    public function post(string $pathOrUri, string $jsonBody): string
    {
        return $this->request('icd_post', ['pathOrUri' => $pathOrUri, 'jsonBody' => $jsonBody]);
    }

    /**
     * Searches the configured release and linearization. A trailing '%' asks for a wildcard
     * match. The API answers 200 even for a search it could not run: check "error" in the answer.
     */
    public function search(string $query): string
    {
        return $this->request('icd_search', ['query' => $query]);
    }

    /** Code information, e.g. codeInfo('1A00'); postcoordinated codes ('&', '/') arrive intact. */
    public function codeInfo(string $code): string
    {
        return $this->request('icd_codeinfo', ['code' => $code]);
    }

    /** Automatic coding of a diagnostic text. */
    public function autocode(string $text): string
    {
        return $this->request('icd_autocode', ['text' => $text]);
    }

    /** The entity of the configured linearization that holds a Foundation entity. */
    public function lookup(string $foundationUri): string
    {
        return $this->request('icd_lookup', ['foundationUri' => $foundationUri]);
    }

    // ---- many requests at once ------------------------------------------------------------

    /**
     * GETs many paths or URIs concurrently (at most setConcurrency() at a time, 8 by default), with
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

    /** @return array<string, mixed> */
    public function getArray(string $pathOrUri): array
    {
        return self::decode($this->get($pathOrUri));
    }

    /** @return array<string, mixed> */
    public function postArray(string $pathOrUri, string|array $jsonBody): array
    {
        if (is_array($jsonBody)) {
            $jsonBody = json_encode($jsonBody, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE);
        }
        return self::decode($this->post($pathOrUri, $jsonBody));
    }

    /** @return array<string, mixed> */
    public function searchArray(string $query): array
    {
        return self::decode($this->search($query));
    }

    /** @return array<string, mixed> */
    public function codeInfoArray(string $code): array
    {
        return self::decode($this->codeInfo($code));
    }

    /** @return array<string, mixed> */
    public function autocodeArray(string $text): array
    {
        return self::decode($this->autocode($text));
    }

    /** @return array<string, mixed> */
    public function lookupArray(string $foundationUri): array
    {
        return self::decode($this->lookup($foundationUri));
    }

    // ---- options --------------------------------------------------------------------------

    /**
     * Sets one option by its name (see the library's header for the table): language, release,
     * linearization, api_version, api_base, token_endpoint, timeout_ms, max_retries,
     * cache_entries, max_response_bytes, user_agent, proxy, ca_file, log, concurrency,
     * token_cache_file, cache_dir, cache_dir_max_bytes.
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

    /** @param array<string, string> $args named only for the messages of checkNoNul */
    private function request(string $function, array $args): string
    {
        foreach ($args as $name => $value) {
            self::checkNoNul($value, $name);
        }
        $ffi = FFI::instance();
        $body = $ffi->$function($this->handle(), ...array_values($args));
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
     * icd_get_many_detailed over $pathsOrUris. The C array of strings points into buffers owned here (not
     * PHP strings, whose lifetime FFI does not promise across the call), freed in `finally`, as
     * are the bodies the library returns, once copied into PHP strings.
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
        [$pathType, $bodyType, $statusType, $httpStatusType] = self::$batchTypes ??=
            [$ffi->type('const char *'), $ffi->type('char *'), $ffi->type('enum IcdStatus'), $ffi->type('int')];
        $paths = $ffi->new(\FFI::arrayType($pathType, [$count])); // zeroed: a refused element stays NULL
        $bodies = $ffi->new(\FFI::arrayType($bodyType, [$count]));
        $statuses = $ffi->new(\FFI::arrayType($statusType, [$count]));
        $httpStatuses = $ffi->new(\FFI::arrayType($httpStatusType, [$count]));
        $owned = [];
        try {
            foreach ($values as $i => $value) {
                if (isset($refusals[$i])) {
                    continue;
                }
                $length = strlen($value);
                $buffer = $ffi->new('char[' . ($length + 1) . ']', false);
                $owned[] = $buffer;
                if ($length > 0) {
                    \FFI::memcpy($buffer, $value, $length);
                }
                $buffer[$length] = "\0";
                $paths[$i] = $ffi->cast('const char *', $buffer);
            }
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
            foreach ($owned as $buffer) {
                \FFI::free($buffer);
            }
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
