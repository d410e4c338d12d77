<?php

declare(strict_types=1);

namespace IcdApi;

/**
 * A failed icdapi call. getStatus() (also getCode()) is the library's IcdStatus, one of the
 * constants below; getHttpStatus() is the HTTP status the API answered, 0 when there was no answer.
 * The message comes from the library and never holds the client secret or a token.
 */
class IcdException extends \RuntimeException
{
    public const OK = 0;
    /** NULL or NUL byte where a value is needed, invalid UTF-8, a bad option, a URI outside the API. */
    public const INVALID_ARGUMENT = 1;
    /** The token endpoint refused the credentials, or the API still answers 401 with a new token. */
    public const AUTH = 2;
    /** The API answered a non-2xx status: see getHttpStatus(). */
    public const HTTP = 3;
    /** DNS, connect, TLS, a reset or cut connection, a body over max_response_bytes. */
    public const NETWORK = 4;
    /** The call's deadline (timeout_ms, retries included) passed. */
    public const TIMEOUT = 5;
    /** A 2xx body that is not JSON, or a malformed token response. */
    public const PARSE = 6;
    /** A bug in the library: please report it. */
    public const INTERNAL = 7;
    /**
     * The API answered 2xx but said in the body that it could not do the job (a search or
     * autocode with "error": true): the message quotes its errorMessage, getHttpStatus() is the
     * 2xx status.
     */
    public const API = 8;
    /** A call cancelled before it finished (the C API's asynchronous calls; PHP has none). */
    public const CANCELLED = 9;

    private const NAMES = [
        self::OK => 'OK',
        self::INVALID_ARGUMENT => 'INVALID_ARGUMENT',
        self::AUTH => 'AUTH',
        self::HTTP => 'HTTP',
        self::NETWORK => 'NETWORK',
        self::TIMEOUT => 'TIMEOUT',
        self::PARSE => 'PARSE',
        self::INTERNAL => 'INTERNAL',
        self::API => 'API',
        self::CANCELLED => 'CANCELLED',
    ];

    private int $httpStatus;

    public function __construct(string $message, int $status, int $httpStatus = 0, ?\Throwable $previous = null)
    {
        parent::__construct($message, $status, $previous);
        $this->httpStatus = $httpStatus;
    }

    /** The IcdStatus code: one of the constants of this class. */
    public function getStatus(): int
    {
        return $this->getCode();
    }

    /** The HTTP status of the failed call (e.g. 404), 0 if it got no HTTP answer. */
    public function getHttpStatus(): int
    {
        return $this->httpStatus;
    }

    /** The name of the status, e.g. "HTTP"; "UNKNOWN(n)" for a code this binding does not know. */
    public function getStatusName(): string
    {
        return self::NAMES[$this->getCode()] ?? 'UNKNOWN(' . $this->getCode() . ')';
    }
}
