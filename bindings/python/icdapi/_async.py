"""icdapi.AsyncClient: the methods of Client as coroutines, over icd_start/icd_cancel.

A call is started with icd_start and its coroutine awaits a future; the library makes the call
on one of its own threads (at most the option async_threads at once in the process, default 16)
and calls back the one ctypes callback below, which hands the outcome to the future's event loop
with call_soon_threadsafe. No Python thread waits while a call runs. Cancelling the task cancels
the native call (icd_cancel); close() cancels every call still running.
"""

import asyncio
import atexit
import ctypes
import itertools
import json
import threading
import weakref
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import _ffi
from ._client import JSON, Client, Value, _last_error, _params, _status, _text
from ._errors import IcdError, Status
from ._ffi import LIB

__all__ = ["AsyncClient"]

# enum IcdCall of the C API.
_GET, _SEARCH, _AUTOCODE, _CODEINFO, _LOOKUP, _ENTITY_BY_CODE, _ICD10 = range(7)

#: The calls in flight of every AsyncClient, by the key passed as user_data: (loop, future).
#: The callback takes each out, once; a start that fails takes its own back.
_in_flight: Dict[int, Tuple[asyncio.AbstractEventLoop, "asyncio.Future[str]"]] = {}
_in_flight_lock = threading.Lock()
_keys = itertools.count(1)


def _settle(future: "asyncio.Future[str]", status: int, text: Optional[str], message: str, http_status: int) -> None:
    """On the event loop: the future gets the outcome, unless its task was cancelled meanwhile."""
    if future.done():
        return
    if status == Status.OK and text is not None:
        future.set_result(text)
    else:
        future.set_exception(IcdError(message or "icdapi: the call failed without a message",
                                      _status(status), http_status))


def _completed(user_data: Optional[int], status: int, body: Optional[int], http_status: int,
               message: Optional[bytes]) -> None:
    """The callback, on a thread of the library's (ctypes holds the GIL while it runs). Nothing
    may escape it: ctypes would only print it."""
    try:
        text = None
        if body:
            try:
                text = ctypes.string_at(body).decode("utf-8")
            finally:
                _ffi.free_address(body)
        with _in_flight_lock:
            entry = _in_flight.pop(user_data or 0, None)
        if entry is None:
            return
        loop, future = entry
        said = (message or b"").decode("utf-8", "replace")
        try:
            loop.call_soon_threadsafe(_settle, future, status, text, said, http_status)
        except RuntimeError:  # the loop was closed: nobody is waiting any more
            pass
    except BaseException:  # pragma: no cover - nothing may unwind into the library's thread
        pass


#: Kept for the life of the process: the library may call it until its last call ends.
_CALLBACK = _ffi.CALLBACK(_completed)

#: The clients not closed yet. At exit they are closed before the interpreter is finalized: a
#: library thread that called back into a finalizing interpreter would be ended in the middle of
#: the callback (and take the process with it); closing waits for every callback to return.
_open_clients: "weakref.WeakSet[AsyncClient]" = weakref.WeakSet()


@atexit.register
def _close_open_clients() -> None:
    for client in list(_open_clients):
        client.close()


class AsyncClient:
    """The methods of :class:`icdapi.Client` as coroutines for asyncio, with the same arguments
    and return values: ``await client.search("cholera")`` gives the same dict as
    ``Client.search``. The same constructor as Client (credentials, or the environment; options
    as keywords) and ``AsyncClient.local(base_url)``.

    No thread per call: the native library makes the calls on its own threads, at most the
    option ``async_threads`` at once in the process (default 16; more are queued). Cancelling
    the task (``task.cancel()``, ``asyncio.wait_for`` timing out) cancels the native call.
    ``close()`` (or ``async with``) frees the client, cancelling the calls still running: they
    raise IcdError with Status.CANCELLED. Usable from any number of event loops and threads.
    """

    def __init__(self, client_id: Optional[str] = None, client_secret: Optional[str] = None,
                 **options: Value) -> None:
        self._client = Client(client_id, client_secret, **options)
        _open_clients.add(self)

    @classmethod
    def local(cls, base_url: Optional[str] = None, **options: Value) -> "AsyncClient":
        """A client of WHO's local deployment, as ``Client.local``."""
        client = cls.__new__(cls)
        client._client = Client.local(base_url, **options)
        _open_clients.add(client)
        return client

    # -- life cycle ----------------------------------------------------------------------------

    def close(self) -> None:
        """Frees the native client, cancelling its calls still running (they raise IcdError
        with Status.CANCELLED); returns once the library is done with them. Later calls raise
        ValueError. Closing twice is harmless."""
        self._client.close()
        _open_clients.discard(self)

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._client.closed

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        self.close()

    def __reduce__(self) -> Any:
        raise TypeError("an icdapi.AsyncClient cannot be pickled or copied: create one in each process")

    def __repr__(self) -> str:
        return "<icdapi.AsyncClient %s>" % ("closed" if self.closed else "open")

    # -- options (they take no I/O: plain methods) -----------------------------------------------

    def set_option(self, name: str, value: Union[str, bool, int, float]) -> None:
        """As Client.set_option; async_threads (1 to 256) bounds the calls running at once."""
        self._client.set_option(name, value)

    def get_option(self, name: str) -> str:
        """As Client.get_option."""
        return self._client.get_option(name)

    # -- requests --------------------------------------------------------------------------------

    async def _start(self, call: int, argument: bytes, params: Any = None) -> str:
        """Starts one native call and waits for it without blocking the loop's thread."""
        loop = asyncio.get_running_loop()
        future: "asyncio.Future[str]" = loop.create_future()
        key = next(_keys)
        with _in_flight_lock:
            _in_flight[key] = (loop, future)
        handle = self._client._enter()
        try:
            call_id = LIB.icd_start(handle, call, argument, params, _CALLBACK, key)
            error = _last_error() if not call_id else None
        finally:
            self._client._leave()
        if error is not None:
            with _in_flight_lock:
                _in_flight.pop(key, None)
            raise error
        try:
            return await future
        except asyncio.CancelledError:
            self._cancel(call_id)
            raise

    def _cancel(self, call_id: int) -> None:
        try:
            handle = self._client._enter()
        except ValueError:  # closed: that cancelled every call already
            return
        try:
            LIB.icd_cancel(handle, call_id)
        finally:
            self._client._leave()

    async def get_text(self, path_or_uri: str, **params: Value) -> str:
        """As Client.get_text: the JSON text of a path or URI."""
        return await self._start(_GET, _text(path_or_uri, "path_or_uri"), _params(params) if params else None)

    async def get(self, path_or_uri: str, **params: Value) -> JSON:
        """As Client.get."""
        return _parsed(await self.get_text(path_or_uri, **params))

    async def post(self, path_or_uri: str, body: Union[str, Dict[str, Any], List[Any]]) -> JSON:
        """As Client.post. The library has no POST that does not block a thread: this one runs
        in the loop's default executor."""
        return await asyncio.get_running_loop().run_in_executor(None, self._client.post, path_or_uri, body)

    async def search(self, query: str, **params: Value) -> JSON:
        """As Client.search ("error": true raises IcdError with Status.API)."""
        return _parsed(await self._start(_SEARCH, _text(query, "query"), _params(params) if params else None))

    async def autocode(self, text: str, **params: Value) -> JSON:
        """As Client.autocode."""
        return _parsed(await self._start(_AUTOCODE, _text(text, "text"), _params(params) if params else None))

    async def codeinfo(self, code: str, **params: Value) -> JSON:
        """As Client.codeinfo (an unknown code raises IcdError, Status.HTTP, 404)."""
        return _parsed(await self._start(_CODEINFO, _text(code, "code"), _params(params) if params else None))

    async def lookup(self, foundation_uri: str) -> JSON:
        """As Client.lookup."""
        return _parsed(await self._start(_LOOKUP, _text(foundation_uri, "foundation_uri")))

    async def entity_by_code(self, code: str) -> JSON:
        """As Client.entity_by_code."""
        return _parsed(await self._start(_ENTITY_BY_CODE, _text(code, "code")))

    async def icd10(self, code: str) -> JSON:
        """As Client.icd10."""
        return _parsed(await self._start(_ICD10, _text(code, "code")))

    async def get_many(self, paths_or_uris: Sequence[str]) -> List[Union[JSON, IcdError]]:
        """As Client.get_many: in order, the parsed answer of each path or URI, or the IcdError
        of an item that failed (each with its own message here). All are in flight at once, as
        far as async_threads allows."""
        if isinstance(paths_or_uris, (str, bytes)):
            raise TypeError("paths_or_uris must be a sequence of str, not a single %s" % type(paths_or_uris).__name__)
        for i, item in enumerate(paths_or_uris):
            if not isinstance(item, str):
                raise TypeError("paths_or_uris[%d] must be str, not %s" % (i, type(item).__name__))
        outcomes = await asyncio.gather(*(self.get(item) for item in paths_or_uris), return_exceptions=True)
        results: List[Union[JSON, IcdError]] = []
        for outcome in outcomes:
            if isinstance(outcome, IcdError):
                results.append(outcome)
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                results.append(outcome)
        return results


def _parsed(text: str) -> JSON:
    answer: JSON = json.loads(text)
    return answer
