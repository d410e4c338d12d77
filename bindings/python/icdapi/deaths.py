"""Death certificates by the thousand: what ``icdapi code-deaths`` does with each chunk of rows.

A :class:`DeathCoder` asks DORIS for the underlying cause of death of many certificates at once,
on a pool of threads sharing one client (the library releases the GIL, and keeps at most its
``concurrency`` requests in flight), each distinct certificate once; it remembers the answers of
the last certificates it asked (a bounded memory: a file of any length runs in the same space).
Each certificate comes back as an :class:`icdapi.csvio.Outcome` holding the
:data:`DEATH_COLUMNS`::

    coder = DeathCoder(client)
    outcomes = coder.code([{"causeOfDeathCodeA": "1A00", "sex": "1"}, {"causeOfDeathCodeA": ""}])
"""

from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, List, Mapping, Optional, Tuple

from ._client import Client
from ._errors import IcdError, Status
from .csvio import BLANK, FAILED, MATCHED, NO_MATCH, UNREACHABLE, Outcome

__all__ = ["DEATH_COLUMNS", "DeathCoder"]

#: The columns code-deaths appends to the input's (the status column comes after them).
DEATH_COLUMNS = ("ucod_code", "ucod_uri", "ucod_stem_code", "ucod_reject", "ucod_error", "ucod_warning", "icd_error")

#: Answers kept for certificates met again: enough for the repeats of a large file, bounded.
REMEMBERED = 20000

# Failures no other row would escape: the run stops with the error.
_FATAL = (Status.AUTH, Status.INTERNAL)

Key = Tuple[Tuple[str, str], ...]


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, bool) else str(value)


def has_cause(fields: Mapping[str, str]) -> bool:
    """Whether a certificate names a cause of death (else there is nothing to ask): the library's
    own rule (icd::certificate::is_cause_field), so that such a row is "blank", not a failure."""
    return any(name.startswith(("causeOfDeathCode", "causeOfDeathUri")) and value.strip()
               for name, value in fields.items())


def outcome_of(answer: Any) -> Outcome:
    """A DORIS answer as the code-deaths columns: matched when it gives a code; a rejection (its
    error kept in ucod_error) or an answer without a code is "no match"."""
    if not isinstance(answer, dict):
        return Outcome(("",) * 6 + ("the API's answer is not a JSON object",), FAILED)
    rejected = answer.get("reject") is True
    code = _text(answer.get("code"))
    cells = (code, _text(answer.get("uri")), _text(answer.get("stemCode")), "true" if rejected else "false",
             _text(answer.get("error")), _text(answer.get("warning")), "")
    return Outcome(cells, MATCHED if code and not rejected else NO_MATCH)


def _failed(error: IcdError) -> Outcome:
    return Outcome(("",) * 6 + (str(error),), FAILED, error.status in UNREACHABLE)


class DeathCoder:
    """Asks DORIS for many certificates with one client. ``threads``: requests in flight (default:
    the client's option concurrency). Use it as a context manager, or call close()."""

    def __init__(self, client: Client, threads: Optional[int] = None) -> None:
        self.client = client
        self.threads = threads or max(int(client.get_option("concurrency")), 1)
        self.pool = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="icdapi-doris")
        self.known: "OrderedDict[Key, Outcome]" = OrderedDict()

    def close(self) -> None:
        self.pool.shutdown(wait=True)

    def __enter__(self) -> "DeathCoder":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def _ask(self, key: Key) -> Tuple[Outcome, Optional[IcdError]]:
        try:
            return outcome_of(self.client.doris(**dict(key))), None
        except IcdError as error:
            return _failed(error), error

    def code(self, certificates: List[Dict[str, str]]) -> List[Outcome]:
        """One Outcome per certificate, in order; blank values are left out, and a certificate
        without a cause is "blank" (nothing asked). Raises IcdError when the run cannot go on:
        refused credentials, or no certificate of the call reaching the API."""
        keys: List[Optional[Key]] = []
        for fields in certificates:
            kept = {name: value.strip() for name, value in fields.items() if value.strip()}
            keys.append(tuple(sorted(kept.items())) if has_cause(kept) else None)
        todo = list(dict.fromkeys(key for key in keys if key is not None and key not in self.known))
        asked = dict(zip(todo, self.pool.map(self._ask, todo)))
        errors = [error for _, error in asked.values() if error is not None]
        stop = next((error for error in errors if error.status in _FATAL), None)
        if stop is None and todo and len(errors) == len(todo) and all(e.status in UNREACHABLE for e in errors):
            stop = errors[0]
        if stop is not None:
            raise stop
        results: List[Outcome] = []
        for key in keys:
            if key is None:
                results.append(Outcome(("",) * len(DEATH_COLUMNS), BLANK))
            elif key in asked:
                results.append(asked[key][0])
            else:
                self.known.move_to_end(key)
                results.append(self.known[key])
        for key, (outcome, _) in asked.items():
            if not outcome.unreachable:  # one that could not reach the API is asked again when met again
                self.known[key] = outcome
        while len(self.known) > REMEMBERED:
            self.known.popitem(last=False)
        return results
