"""icdapi: the WHO ICD API (ICD-11 and ICD-10) from Python, over the native icdapi library.

    import icdapi
    with icdapi.Client() as client:          # ICD_CLIENT_ID / ICD_CLIENT_SECRET from the environment
        hits = client.search("cholera", highlightingEnabled=False)
        print(hits["destinationEntities"][0]["theCode"])

One token for every thread and call, kept-alive connections, retries, a response cache, batches
(``get_many``), and the GIL released while the library works. Failures raise
:class:`icdapi.IcdError` with a :class:`icdapi.Status`. See bindings/python/README.md.
"""

from typing import Tuple

from ._client import JSON, Client
from ._errors import IcdError, Status
from ._ffi import LIB as _LIB

__all__ = ["Client", "IcdError", "Status", "JSON", "OPTION_NAMES", "__version__"]

#: The version of the native library in this package (icd_version()), e.g. "0.3.0".
__version__: str = _LIB.icd_version().decode("ascii")

#: The name of every option of the native library (icd_option_names()), in the order of its
#: documentation: each is a keyword of ``Client`` and a name for ``set_option``/``get_option``.
OPTION_NAMES: Tuple[str, ...] = tuple(_LIB.icd_option_names().decode("ascii").split(","))
