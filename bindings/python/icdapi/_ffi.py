"""The native library, loaded with ctypes from inside the installed package.

The wheel holds the library that maturin built from the crate (``icdapi/_native/lib_native.so``;
maturin's cffi loader beside it is never imported: this package uses ctypes, from the standard
library). ``ctypes.CDLL`` releases the GIL for the length of every foreign call, so Python threads
sharing one client wait for the network side by side.

Nothing here is public: ``icdapi.Client`` is the interface.
"""

import ctypes
import os
import sys
from typing import Any, Optional

__all__ = ["LIB", "OwnedString", "take_string", "last_error"]


def _library_path() -> str:
    """The shared library maturin put in the package: lib_native.so, lib_native.dylib or _native.dll."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_native")
    if sys.platform == "win32":
        name = "_native.dll"
    elif sys.platform == "darwin":
        name = "lib_native.dylib"
    else:
        name = "lib_native.so"
    return os.path.join(folder, name)


def _load() -> ctypes.CDLL:
    path = _library_path()
    try:
        return ctypes.CDLL(path)
    except OSError as err:
        raise ImportError(
            "icdapi: cannot load its native library %s (%s). Install the package with pip "
            "(pip install ./bindings/python from an icdapi checkout, with cargo on the PATH), "
            "which builds the library into the package." % (path, err)
        ) from err


LIB = _load()



class OwnedString(ctypes.c_char_p):
    """A string the library returned and the caller frees. (ctypes turns a plain c_char_p result
    into bytes and loses the pointer; a subclass stays an object, whose .value copies the text
    without another foreign call and which icd_free_string takes back.)"""


_char_p = ctypes.c_char_p
_void_p = ctypes.c_void_p
_owned = OwnedString
_params = ctypes.POINTER(ctypes.c_char_p)


def _declare(name: str, restype: Any, *argtypes: Any) -> None:
    function = getattr(LIB, name)
    function.restype = restype
    function.argtypes = list(argtypes)


_declare("icd_version", _char_p)
_declare("icd_option_names", _char_p)
_declare("icd_last_error_code", ctypes.c_int)
_declare("icd_last_error_message", _char_p)
_declare("icd_last_http_status", ctypes.c_int)
_declare("icd_free_string", None, _owned)
_declare("icd_client_new", _void_p, _char_p, _char_p)
_declare("icd_client_new_local", _void_p, _char_p)
_declare("icd_client_free", None, _void_p)
_declare("icd_client_set_option", ctypes.c_int, _void_p, _char_p, _char_p)
_declare("icd_client_get_option", _owned, _void_p, _char_p)
_declare("icd_get_with", _owned, _void_p, _char_p, _params)
_declare("icd_post", _owned, _void_p, _char_p, _char_p)
_declare("icd_search_with", _owned, _void_p, _char_p, _params)
_declare("icd_autocode_with", _owned, _void_p, _char_p, _params)
_declare("icd_codeinfo_with", _owned, _void_p, _char_p, _params)
_declare("icd_lookup", _owned, _void_p, _char_p)
_declare("icd_entity_by_code", _owned, _void_p, _char_p)
_declare("icd_icd10", _owned, _void_p, _char_p)
_declare(
    "icd_get_many_detailed",
    ctypes.c_size_t,
    _void_p,
    ctypes.POINTER(ctypes.c_char_p),
    ctypes.c_size_t,
    ctypes.POINTER(OwnedString),
    ctypes.POINTER(ctypes.c_int),
    ctypes.POINTER(ctypes.c_int),
)


def take_string(owned: OwnedString) -> Optional[str]:
    """The text of a string the library returned, which is then freed; None for NULL."""
    if not owned:
        return None
    try:
        return owned.value.decode("utf-8")  # type: ignore[union-attr]
    finally:
        LIB.icd_free_string(owned)


def last_error() -> "tuple[int, str, int]":
    """This thread's last error: (status, message, HTTP status). Read it right after the failing
    call, on the same thread: the library keeps it per thread, like errno."""
    code = LIB.icd_last_error_code()
    message = LIB.icd_last_error_message() or b""
    return code, message.decode("utf-8", "replace"), LIB.icd_last_http_status()
