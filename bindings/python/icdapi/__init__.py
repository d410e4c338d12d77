"""icdapi: the WHO ICD API (ICD-11 and ICD-10) from Python, over the native icdapi library.

    import icdapi
    with icdapi.Client() as client:          # ICD_CLIENT_ID / ICD_CLIENT_SECRET from the environment
        hits = client.search("cholera", highlightingEnabled=False)
        print(hits["destinationEntities"][0]["theCode"])

One token for every thread and call, kept-alive connections, retries, a response cache, batches
(``get_many``), and the GIL released while the library works; ``AsyncClient`` for asyncio
(``await client.search("cholera")``, no thread per call). Failures raise
:class:`icdapi.IcdError` with a :class:`icdapi.Status`. See bindings/python/README.md.
"""

from typing import Tuple

from ._async import AsyncClient
from ._client import JSON, Client, check_certificate
from ._errors import IcdError, Status
from ._ffi import LIB as _LIB

__all__ = ["CERTIFICATE_FIELDS", "Client", "AsyncClient", "IcdError", "Status", "JSON", "OPTION_NAMES", "__version__", "check_certificate"]

#: The version of the native library in this package (icd_version()), e.g. "0.3.0".
__version__: str = _LIB.icd_version().decode("ascii")

#: The 40 death certificate fields that Client.doris and Client.codedit take, in the order of
#: WHO's OpenAPI file (the library's own list: icd_certificate_field).
def _certificate_fields() -> Tuple[str, ...]:
    names: "list[str]" = []
    while True:
        name = _LIB.icd_certificate_field(len(names))
        if name is None:
            return tuple(names)
        names.append(name.decode("ascii"))


CERTIFICATE_FIELDS = _certificate_fields()
#: The name of every option of the native library (icd_option_names()), in the order of its
#: documentation: each is a keyword of ``Client`` and a name for ``set_option``/``get_option``.
OPTION_NAMES: Tuple[str, ...] = tuple(_LIB.icd_option_names().decode("ascii").split(","))
