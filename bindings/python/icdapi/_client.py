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


def certificate_array(fields: Union[Mapping[str, Any], Sequence[Tuple[str, Any]]]) -> Any:
    """A death certificate's fields — a mapping, or (name, value) pairs — as the library's
    NULL-ended array of names and values (None values left out). An empty certificate is an
    empty array, which the library refuses with the list of cause fields to fill."""
    texts: List[bytes] = []
    for name, value in (fields.items() if isinstance(fields, Mapping) else fields):
        if value is not None:
            what = "certificate field %s" % name
            texts += [_text(name, "a certificate field name"), _text(convert_value(value, what), what)]
    return (ctypes.c_char_p * (len(texts) + 1))(*texts, None)


def check_certificate(fields: Union[Mapping[str, Any], Sequence[Tuple[str, Any]]]) -> None:
    """Checks a certificate as Client.doris does, sending nothing: an unknown field (the message
    names the closest), a field twice or no cause of death raises IcdError (INVALID_ARGUMENT).
    Takes a mapping or (name, value) pairs (which can hold a name twice, as a CSV header can)."""
    if LIB.icd_certificate_check(certificate_array(fields)) != Status.OK:
        raise _last_error()


class Client:
    """A client of the WHO ICD API (ICD-11 and ICD-10), over the native icdapi library.

    ``Client()`` reads ICD_CLIENT_ID and ICD_CLIENT_SECRET from the environment (and
    ICD_API_BASE, ICD_TOKEN_ENDPOINT when set); ``Client(client_id, client_secret)`` takes them
    as arguments. Any option of the library can be given as a keyword (``language="fr"``,
    ``release="2024-01"``, ``timeout_ms=5000``, ``cache_dir="/var/cache/icd"``; None leaves the
    default). No network I/O happens until the first call.

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

    # -- navigation and maps (0.3) ----------------------------------------------------------------

    def describe(self, code_or_uri: str, **params: Value) -> JSON:
        """What the API knows of a code, a URI or a postcoordinated combination
        (``describe("1A00&XN8P1", simplify=True)``): code=, or uri= for an argument starting with
        http:// or https://; keyword parameters after it."""
        return self._parsed(self._call_with(LIB.icd_describe, _text(code_or_uri, "code_or_uri"), params))

    def releases(self) -> JSON:
        """The releases the API serves for the client's linearization ("release",
        "latestRelease"), as it answers. (The option release also takes "latest".)"""
        return self._parsed(self._call(LIB.icd_releases))

    def parents(self, code_or_uri: str) -> List[JSON]:
        """The parents of an entity (a code, postcoordinated or not, or a URI), each a dict
        {"uri", "code", "title", "classKind"} with the title in the client's language."""
        return self._listed(LIB.icd_parents, code_or_uri)

    def children(self, code_or_uri: str) -> List[JSON]:
        """The children of an entity, in the API's order, as parents() gives them."""
        return self._listed(LIB.icd_children, code_or_uri)

    def ancestors(self, code_or_uri: str) -> List[JSON]:
        """The ancestors of an entity up to its chapter, nearest first, each once (an entity may
        have several parents), as parents() gives them."""
        return self._listed(LIB.icd_ancestors, code_or_uri)

    def map_icd10_to_icd11(self, icd10_code: str) -> List[JSON]:
        """The rows of WHO's ICD-10 -> ICD-11 mapping tables for a code ("table": "one" or
        "multiple", the table's columns, "icd11Uri", "foundationUri"); [] when none. No network:
        the option mapping_tables names WHO's mapping.zip or the directory it was unpacked into."""
        return self._listed(LIB.icd_map_icd10_to_icd11, icd10_code, "icd10_code")

    def map_icd11_to_icd10(self, icd11_code: str) -> List[JSON]:
        """The rows of WHO's ICD-11 -> ICD-10 table for a code; [] when none. As
        map_icd10_to_icd11."""
        return self._listed(LIB.icd_map_icd11_to_icd10, icd11_code, "icd11_code")

    def _listed(self, function: Any, argument: str, what: str = "code_or_uri") -> List[JSON]:
        listed: List[JSON] = json.loads(self._call(function, _text(argument, what)))
        return listed

    def doris(self, **certificate: Value) -> JSON:
        """The underlying cause of death of a death certificate (WHO's DORIS), e.g.
        ``doris(causeOfDeathCodeA="1A00", sex=1, intervalA="P3D")``: the fields are those of
        WHO's API (``icdapi.CERTIFICATE_FIELDS``), checked before anything is sent: an unknown
        name (the message names the closest: causeOfDeathCodeA1 -> causeOfDeathCodeA) or no cause
        of death raises IcdError (INVALID_ARGUMENT). Returns the answer: stemCode, stemURI, code,
        uri, report, tabularReport, reject, error, warning. A rejected certificate
        (``"reject": True``, ``"error"`` saying why) is an answer, not an exception."""
        return self._parsed(self._call(LIB.icd_doris, certificate_array(certificate)))

    def codedit(self, **certificate: Value) -> JSON:
        """The check of a death certificate (WHO's CoDEdit): the same fields and checks as doris;
        returns report, tabularReport, issueIds."""
        return self._parsed(self._call(LIB.icd_codedit, certificate_array(certificate)))

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
