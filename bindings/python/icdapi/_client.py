"""icdapi.Client: the native client, one method per call of the C API."""

import ctypes
import decimal
import json
import math
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _ffi
from ._errors import IcdError, Status
from ._ffi import LIB

_free_string = LIB.icd_free_string

__all__ = ["Client", "JSON"]

#: A parsed answer: the API answers JSON objects.
JSON = Dict[str, Any]

#: What a keyword parameter or an option value may be (None: left out).
Value = Union[str, bool, int, float, None]


def _status(code: int) -> Status:
    try:
        return Status(code)
    except ValueError:  # a newer library with a status this package does not know yet
        return Status.INTERNAL


def _last_error() -> IcdError:
    """The calling thread's last native error as an IcdError."""
    code, message, http_status = _ffi.last_error()
    return IcdError(message or "icdapi: the call failed without a message", _status(code), http_status)


def _text(value: Any, what: str) -> bytes:
    """A str argument as the NUL-terminated UTF-8 the library takes."""
    if not isinstance(value, str):
        raise TypeError("%s must be str, not %s" % (what, type(value).__name__))
    if "\0" in value:
        raise IcdError("%s holds a NUL character, which C strings cannot carry: remove it" % what,
                       Status.INVALID_ARGUMENT)
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise IcdError("%s is not valid Unicode text (%s): it cannot be sent as UTF-8" % (what, err.reason),
                       Status.INVALID_ARGUMENT) from None


def _plain_decimal(number: float) -> str:
    """0.75 -> "0.75", 1e-07 -> "0.0000001", 1e+16 -> "10000000000000000": the API's parameters
    are plain decimals, never exponent notation."""
    text = repr(number)
    if "e" in text or "E" in text:
        text = format(decimal.Decimal(text), "f")
    return text


def convert_value(value: Any, what: str) -> str:
    """A parameter or option value as text: True/False -> "true"/"false", ints in decimal,
    floats in plain decimal notation, strings as they are."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise IcdError("%s is %r, which is not a number the API takes: pass a finite number" % (what, value),
                           Status.INVALID_ARGUMENT)
        return _plain_decimal(value)
    raise TypeError("%s must be str, bool, int or float, not %s" % (what, type(value).__name__))


def _option(name: str, value: Any) -> Tuple[bytes, bytes]:
    what = "option %s" % name
    return _text(name, "the option name"), _text(convert_value(value, what), what)


def _params(params: Mapping[str, Any]) -> Any:
    """Keyword parameters as the library's NULL-ended array of names and values (None values left
    out), or None when there is nothing to send. (The ctypes array keeps the bytes it points
    into alive.)"""
    texts: List[bytes] = []
    for name, value in params.items():
        if value is None:
            continue
        what = "parameter %s" % name
        texts.append(_text(name, "a parameter name"))
        texts.append(_text(convert_value(value, what), what))
    if not texts:
        return None
    return (ctypes.c_char_p * (len(texts) + 1))(*texts, None)


class Client:
    """A client of the WHO ICD API (ICD-11 and ICD-10), over the native icdapi library.

    ``Client()`` reads ICD_CLIENT_ID and ICD_CLIENT_SECRET from the environment (and
    ICD_API_BASE, ICD_TOKEN_ENDPOINT when set); ``Client(client_id, client_secret)`` takes them
    as arguments. Any option of the library can be given as a keyword (``language="fr"``,
    ``release="2024-01"``, ``timeout_ms=5000``, ``cache_dir="/var/cache/icd"``; None leaves the
    default): language, release, linearization, api_version, api_base, token_endpoint,
    timeout_ms, max_retries, cache_entries, max_response_bytes, user_agent, proxy, ca_file, log,
    concurrency, token_cache_file, cache_dir, cache_dir_max_bytes, icd10_release
    (``icdapi.OPTION_NAMES``). No network I/O happens until the first call.

    One client may be shared by any number of threads: they share one token, one connection
    pool and one cache, and the GIL is released while the library works. ``close()`` (or the
    ``with`` statement) frees the native client; calls after it raise ValueError.
    """

    def __init__(self, client_id: Optional[str] = None, client_secret: Optional[str] = None,
                 **options: Value) -> None:
        for value, what in ((client_id, "client_id"), (client_secret, "client_secret")):
            if value is not None and not isinstance(value, str):
                raise TypeError("%s must be str or None, not %s" % (what, type(value).__name__))
        self._setup(lambda: LIB.icd_client_new(
            None if client_id is None else _text(client_id, "client_id"),
            None if client_secret is None else _text(client_secret, "client_secret")), options)

    @classmethod
    def local(cls, base_url: Optional[str] = None, **options: Value) -> "Client":
        """A client of WHO's ICD-API local deployment (the whoicd/icd-api container), which needs
        no token and no credentials: ``Client.local("http://localhost:8080")``. None reads
        ICD_API_BASE. Options as for ``Client``."""
        if base_url is not None and not isinstance(base_url, str):
            raise TypeError("base_url must be str or None, not %s" % type(base_url).__name__)
        client = cls.__new__(cls)
        client._setup(lambda: LIB.icd_client_new_local(
            None if base_url is None else _text(base_url, "base_url")), options)
        return client

    def _setup(self, create: Any, options: Mapping[str, Value]) -> None:
        self._handle: Optional[int] = None
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._busy = 0
        # Options are checked before the native client exists, so that a TypeError leaks nothing.
        settings = [_option(name, value) for name, value in options.items() if value is not None]
        handle = create()
        if not handle:
            raise _last_error()
        for name, value in settings:
            if LIB.icd_client_set_option(handle, name, value) != Status.OK:
                error = _last_error()
                LIB.icd_client_free(handle)
                raise error
        self._handle = handle

    # -- life cycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the native client (and wipes its secret). Calls under way on other threads are
        waited for; later calls raise ValueError. Closing twice is harmless."""
        with self._lock:
            handle, self._handle = self._handle, None
            if handle is None:
                return
            while self._busy:
                self._idle.wait()
        LIB.icd_client_free(handle)

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._handle is None

    def __enter__(self) -> "Client":
        self._enter()
        self._leave()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown, or a half-built client: nothing left to free
            pass

    def __reduce__(self) -> Any:
        raise TypeError("an icdapi.Client cannot be pickled or copied: create one in each process "
                        "(token_cache_file shares the token between them)")

    def __repr__(self) -> str:
        return "<icdapi.Client %s>" % ("closed" if self.closed else "open")

    def _enter(self) -> int:
        with self._lock:
            if self._handle is None:
                raise ValueError("this icdapi.Client is closed: create a new one")
            self._busy += 1
            return self._handle

    def _leave(self) -> None:
        with self._lock:
            self._busy -= 1
            if not self._busy and self._handle is None:  # close() is waiting for the last call
                self._idle.notify_all()

    def _call(self, function: Any, *args: Any) -> str:
        """Calls a native function that returns an owned string, with the handle first. (The path
        every request takes: kept to a few Python calls, as _enter/_leave inlined.)"""
        with self._lock:
            handle = self._handle
            if handle is None:
                raise ValueError("this icdapi.Client is closed: create a new one")
            self._busy += 1
        try:
            owned = function(handle, *args)
            if not owned:
                raise _last_error()
            try:
                return owned.value.decode("utf-8")  # type: ignore[no-any-return]
            finally:
                _free_string(owned)
        finally:
            with self._lock:
                self._busy -= 1
                if not self._busy and self._handle is None:  # close() is waiting for the last call
                    self._idle.notify_all()

    def _call_with(self, function: Any, argument: bytes, params: Mapping[str, Any]) -> str:
        return self._call(function, argument, _params(params) if params else None)

    @staticmethod
    def _parsed(text: str) -> JSON:
        answer: JSON = json.loads(text)
        return answer

    # -- options ---------------------------------------------------------------------------------

    def set_option(self, name: str, value: Union[str, bool, int, float]) -> None:
        """Sets one option of the library (language, release, linearization, timeout_ms,
        max_retries, cache_entries, cache_dir, token_cache_file, icd10_release, concurrency, log,
        proxy, ca_file, ...). Values are converted as keyword parameters are (5000 -> "5000",
        True -> "true"). An unknown name or a bad value raises IcdError (INVALID_ARGUMENT) and
        changes nothing. Thread-safe."""
        if value is None:
            raise TypeError("option %s: the value is None; pass text (\"\" turns off the options that "
                            "can be off, such as cache_dir)" % name)
        name_text, value_text = _option(name, value)
        handle = self._enter()
        try:
            if LIB.icd_client_set_option(handle, name_text, value_text) != Status.OK:
                raise _last_error()
        finally:
            self._leave()

    def get_option(self, name: str) -> str:
        """The current value of an option, as text in the form set_option takes ("" when not
        set). The credentials are not options and cannot be read back."""
        return self._call(LIB.icd_client_get_option, _text(name, "the option name"))

    # -- requests --------------------------------------------------------------------------------

    def get_text(self, path_or_uri: str, **params: Value) -> str:
        """GET a path ("/icd/release/11/2026-01/mms/257068234"), an @id URI from an answer
        ("http://id.who.int/icd/..."), or a URI under api_base; keyword parameters are appended
        to its query. Returns the JSON text. A URI on another host raises IcdError
        (INVALID_ARGUMENT): the token goes nowhere else."""
        return self._call_with(LIB.icd_get_with, _text(path_or_uri, "path_or_uri"), params)

    def get(self, path_or_uri: str, **params: Value) -> JSON:
        """As get_text, parsed."""
        return self._parsed(self.get_text(path_or_uri, **params))

    def post(self, path_or_uri: str, body: Union[str, Dict[str, Any], List[Any]]) -> JSON:
        """POST a JSON body (a dict or list, serialised; or JSON text) to a path or URI, e.g. a
        death certificate to "/icd/release/11/2026-01/codedit". Returns the parsed answer."""
        if isinstance(body, (dict, list)):
            text = json.dumps(body, ensure_ascii=False)
        elif isinstance(body, str):
            text = body
        else:
            raise TypeError("body must be a dict, a list or JSON text (str), not %s" % type(body).__name__)
        answer = self._call(LIB.icd_post, _text(path_or_uri, "path_or_uri"), _text(text, "body"))
        return self._parsed(answer)

    def search(self, query: str, **params: Value) -> JSON:
        """Searches the release and linearization of the client's options, e.g.
        ``search("cholera", flatResults=True, highlightingEnabled=False)``. A search the API
        could not run (its "error": true) raises IcdError with Status.API."""
        return self._parsed(self._call_with(LIB.icd_search_with, _text(query, "query"), params))

    def autocode(self, text: str, **params: Value) -> JSON:
        """Codes a diagnostic text, e.g. ``autocode("cholera", matchThreshold=0.75)``: the answer
        holds theCode, matchingText, matchScore, linearizationURI (null ones when nothing
        matched). "error": true raises IcdError with Status.API."""
        return self._parsed(self._call_with(LIB.icd_autocode_with, _text(text, "text"), params))

    def codeinfo(self, code: str, **params: Value) -> JSON:
        """The code info of a code ("1A00", or postcoordinated "1A00&XN6Y3"); an unknown code
        raises IcdError with Status.HTTP and http_status 404."""
        return self._parsed(self._call_with(LIB.icd_codeinfo_with, _text(code, "code"), params))

    def lookup(self, foundation_uri: str) -> JSON:
        """The linearization entity of a Foundation entity URI."""
        return self._parsed(self._call(LIB.icd_lookup, _text(foundation_uri, "foundation_uri")))

    def entity_by_code(self, code: str) -> JSON:
        """The linearization entity of a code, in the client's language and release, in one
        call (its code info, then its stemId)."""
        return self._parsed(self._call(LIB.icd_entity_by_code, _text(code, "code")))

    def icd10(self, code: str) -> JSON:
        """An ICD-10 category ("A00.0"), block ("A00-A09") or chapter ("I") of the release in the
        option icd10_release (default "2019")."""
        return self._parsed(self._call(LIB.icd_icd10, _text(code, "code")))

    def get_many(self, paths_or_uris: Sequence[str]) -> List[Union[JSON, IcdError]]:
        """GETs many paths or URIs at once (at most the option concurrency in flight, default 16)
        on one token. Returns, in order, the parsed answer of each, or the IcdError of an item
        that failed; one failing item fails only itself. The first failure carries the library's
        message; the others a message naming their status (fetch one alone for its details)."""
        if isinstance(paths_or_uris, (str, bytes)):
            raise TypeError("paths_or_uris must be a sequence of str, not a single %s" % type(paths_or_uris).__name__)
        items = list(paths_or_uris)
        count = len(items)
        refused: Dict[int, IcdError] = {}
        texts: List[Optional[bytes]] = []
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise TypeError("paths_or_uris[%d] must be str, not %s" % (i, type(item).__name__))
            try:
                texts.append(_text(item, "paths_or_uris[%d]" % i))
            except IcdError as err:  # sent as NULL: the library fails that item alone
                refused[i] = err
                texts.append(None)
        if not count:
            return []
        paths = (ctypes.c_char_p * count)(*texts)
        bodies = (_ffi.OwnedString * count)()
        statuses = (ctypes.c_int * count)()
        http_statuses = (ctypes.c_int * count)()
        handle = self._enter()
        try:
            succeeded = LIB.icd_get_many_detailed(handle, paths, count, bodies, statuses, http_statuses)
            first_failure = None if succeeded == count else _last_error()
        finally:
            self._leave()
        results: List[Union[JSON, IcdError]] = []
        for i in range(count):
            text = _ffi.take_string(bodies[i])
            if text is not None:
                results.append(json.loads(text))
                continue
            if i in refused:
                error = refused[i]
            elif first_failure is not None:
                error = first_failure
            else:
                status, http = _status(statuses[i]), http_statuses[i]
                error = IcdError(
                    "item %d: failed with Status.%s%s (a batch keeps the library's message of its first "
                    "failure only: fetch this item alone to read its own)"
                    % (i, status.name, ", HTTP status %d" % http if http else ""), status, http)
            first_failure = None  # the library's message describes the first failed item only
            results.append(error)
        return results
