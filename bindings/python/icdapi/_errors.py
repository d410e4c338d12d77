"""icdapi.Status and icdapi.IcdError: the native library's status codes and its failures."""

import enum
from typing import Any, Tuple

__all__ = ["Status", "IcdError"]


class Status(enum.IntEnum):
    """What a call came to: the native library's IcdStatus, with the same numbers."""

    OK = 0
    #: None where a value is needed, text that is not UTF-8, an unknown option, a bad option
    #: value, a URI outside the configured API.
    INVALID_ARGUMENT = 1
    #: The token endpoint refused the credentials, or the API still answers 401 with a new token.
    AUTH = 2
    #: The API answered a non-2xx status (see IcdError.http_status).
    HTTP = 3
    #: DNS, connect, TLS, a reset or cut connection, a body over max_response_bytes.
    NETWORK = 4
    #: The call's deadline (option timeout_ms, retries included) passed.
    TIMEOUT = 5
    #: A 2xx body that is not JSON, or a malformed token response.
    PARSE = 6
    #: A bug in the library (a caught panic): please report it.
    INTERNAL = 7
    #: The API answered 2xx but said in the body that it could not do the job (a search or an
    #: autocode with "error": true); the message quotes its errorMessage.
    API = 8
    #: The call was cancelled before it finished: an AsyncClient call whose client was closed
    #: while it ran. (A cancelled asyncio task raises asyncio.CancelledError instead.)
    CANCELLED = 9


class IcdError(Exception):
    """A call that failed: ``str(error)`` is the library's message (what happened and what to
    do), ``status`` an :class:`icdapi.Status`, ``http_status`` the HTTP status of the answer
    (0 when none came)."""

    status: Status
    http_status: int

    def __init__(self, message: str, status: Status, http_status: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.http_status = http_status

    def __repr__(self) -> str:
        return "IcdError(%r, status=Status.%s, http_status=%d)" % (str(self), self.status.name, self.http_status)

    def __reduce__(self) -> Tuple[Any, ...]:
        # Picklable (Dask, multiprocessing send errors between processes): the default would
        # call IcdError(message) and lose status and http_status.
        return (IcdError, (str(self), self.status, self.http_status))
