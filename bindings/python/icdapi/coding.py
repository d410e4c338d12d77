"""Coding many texts at once: what ``icdapi code-csv`` and examples/python/dask_autocode.py share.

A :class:`Coder` autocodes texts in batches with :meth:`icdapi.Client.get_many` (duplicates and
texts already coded are asked once), then fetches the matched entities' titles in the client's
language the same way. Each text comes back as a :class:`Coded` — the columns that
``code-csv`` appends to a row::

    coder = icdapi.coding.Coder(client)
    for coded in coder.code(["cholera", "", "cholera", "malaria"]):
        print(coded.code, coded.title)
"""

import re
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Sequence, Union
from urllib.parse import quote

from ._client import JSON, Client, convert_value
from ._errors import IcdError, Status
from .csvio import BLANK, FAILED, MATCHED, NO_MATCH, STATUS_COLUMN, UNREACHABLE

__all__ = ["CSV_COLUMNS", "Coded", "Coder", "coded_row"]

#: The columns code-csv appends to the input's: the five of 0.2, then (0.3) the match level and
#: type as the API gave them, and the status (so that readers of the first five keep working).
CSV_COLUMNS = ("icd_code", "icd_title", "icd_uri", "icd_match_score", "icd_error", "icd_match_level",
               "icd_match_type", STATUS_COLUMN)

#: Texts per get_many batch: large enough to keep the library's `concurrency` requests in flight,
#: small enough that progress moves and a failure costs little.
DEFAULT_BATCH = 200

# Failures no other row would escape: the run stops with the error rather than writing it in
# every row.
_FATAL = (Status.AUTH, Status.INVALID_ARGUMENT, Status.INTERNAL)
_UNREACHABLE = UNREACHABLE


class Coded(NamedTuple):
    """One text's outcome, as the code-csv columns: empty for a blank text or no match;
    ``error`` filled when coding it failed; ``status`` one of csvio's statuses."""

    code: str = ""
    title: str = ""
    uri: str = ""
    match_score: str = ""
    error: str = ""
    match_level: str = ""
    match_type: str = ""
    status: str = NO_MATCH


UNMATCHED = Coded()
BLANK_TEXT = Coded(status=BLANK)


def coded_row(row: Sequence[str], width: int, coded: Coded) -> List[str]:
    """An input row (padded to the header's width) followed by the code-csv columns."""
    return list(row) + [""] * (width - len(row)) + list(coded)


def _score(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value)  # as the API wrote it: the shortest text that reads back as the same number


def _title(entity: JSON) -> str:
    title = entity.get("title")
    if isinstance(title, dict):
        title = title.get("@value")
    return title if isinstance(title, str) else ""


def _row_error(error: IcdError) -> str:
    """An item's error for a row: the batch's item number means nothing to the reader."""
    return re.sub(r"^item \d+: ", "", str(error))


class Coder:
    """Autocodes texts with one client, in batches, remembering every text it coded.

    ``params`` are autocode parameters (``matchThreshold=0.8``, ...), converted as the client's
    keyword parameters are. ``progress(done, total)`` is called after each batch of a
    :meth:`code` call with the number of distinct texts coded so far and to code. Threads may
    share a Coder (a new text that two of them meet at the same moment may be asked twice).
    """

    def __init__(self, client: Client, batch_size: int = DEFAULT_BATCH,
                 progress: Optional[Callable[[int, int], None]] = None, **params: Union[str, bool, int, float, None]) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.client = client
        self.batch_size = batch_size
        self.progress = progress
        self.known: Dict[str, Coded] = {}
        #: Texts whose last try could not reach the API (not remembered: asked again next time).
        self.unreachable: Dict[str, Coded] = {}
        release = client.get_option("release")
        linearization = client.get_option("linearization")
        self._prefix = "/icd/release/11/%s/%s/autocode?searchText=" % (quote(release, safe=""), quote(linearization, safe=""))
        self._suffix = "".join("&%s=%s" % (quote(name, safe=""), quote(convert_value(value, "parameter " + name), safe=""))
                               for name, value in params.items() if value is not None)

    def code(self, texts: Iterable[str]) -> List[Coded]:
        """One :class:`Coded` per text, in order. Texts are stripped; blank ones are not sent.
        Raises IcdError when no text could be coded at all: refused credentials or options, or
        a whole batch without an answer from the API."""
        keys = [text.strip() for text in texts]
        todo = list(dict.fromkeys(key for key in keys if key and key not in self.known))
        for key in todo:
            self.unreachable.pop(key, None)
        for start in range(0, len(todo), self.batch_size):
            self._code_batch(todo[start:start + self.batch_size])
            if self.progress:
                self.progress(min(start + self.batch_size, len(todo)), len(todo))
        return [(self.known.get(key) or self.unreachable[key]) if key else BLANK_TEXT for key in keys]

    def _code_batch(self, texts: List[str]) -> None:
        answers = self.client.get_many([self._prefix + quote(text, safe="") + self._suffix for text in texts])
        errors = [answer for answer in answers if isinstance(answer, IcdError)]
        fatal = next((e for e in errors if e.status in _FATAL), None)
        if fatal is None and errors and len(errors) == len(answers) and all(e.status in _UNREACHABLE for e in errors):
            fatal = errors[0]
        if fatal is not None:
            raise IcdError(_row_error(fatal), fatal.status, fatal.http_status)

        matched: Dict[str, JSON] = {}
        for text, answer in zip(texts, answers):
            if isinstance(answer, IcdError):
                failed = Coded(error=_row_error(answer), status=FAILED)
                if answer.status in _UNREACHABLE:
                    self.unreachable[text] = failed
                else:
                    self.known[text] = failed
            elif answer.get("error") is True:  # get_many returns such answers as they came
                self.known[text] = Coded(error="the API could not code it: %s" % answer.get("errorMessage"),
                                         status=FAILED)
            elif not answer.get("linearizationURI"):
                self.known[text] = UNMATCHED
            else:
                matched[text] = answer

        uris = list(dict.fromkeys(answer["linearizationURI"] for answer in matched.values()))
        entities = dict(zip(uris, self.client.get_many(uris))) if uris else {}
        for text, answer in matched.items():
            entity = entities[answer["linearizationURI"]]
            coded = Coded(code=answer.get("theCode") or "", uri=answer["linearizationURI"],
                          match_score=_score(answer.get("matchScore")), match_level=_score(answer.get("matchLevel")),
                          match_type=_score(answer.get("matchType")), status=MATCHED)
            if isinstance(entity, IcdError):
                coded = coded._replace(error="its title: %s" % _row_error(entity), status=FAILED)
            else:
                coded = coded._replace(title=_title(entity))
            self.known[text] = coded
