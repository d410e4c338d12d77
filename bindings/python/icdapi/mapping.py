"""ICD-10 <-> ICD-11 through WHO's mapping tables, for ``icdapi map`` and ``icdapi map-csv``:
the targets of a code as (code, title, table), each distinct code looked up once per run.

The tables are read by the native library (the option mapping_tables: WHO's mapping.zip or its
unpacked directory); nothing here touches the network.
"""

import re
from typing import Dict, List, NamedTuple, Tuple

from ._client import JSON, Client
from .csvio import BLANK, MATCHED, NO_MATCH, Outcome

__all__ = ["MAP_COLUMNS", "Mapper", "Target", "WHERE_WHO_PUBLISHES"]

#: The columns map-csv appends (before the status column csvio adds).
MAP_COLUMNS = ["map_code", "map_title", "map_table", "map_count"]
WHERE_WHO_PUBLISHES = "https://icdcdn.who.int/static/releasefiles/{release}/mapping.zip"
# WHO's titles in the tables carry their depth as leading dashes ("- - Cholera"); a target's title
# is given without them.
_DEPTH_DASHES = re.compile(r"^(?:-\s*)+")


class Target(NamedTuple):
    code: str
    title: str
    table: str


class Mapper:
    """Looks codes up in one direction ("icd10": ICD-10 -> ICD-11, "icd11": ICD-11 -> ICD-10)."""

    def __init__(self, client: Client, source: str) -> None:
        self.lookup = client.map_icd10_to_icd11 if source == "icd10" else client.map_icd11_to_icd10
        self.target = "icd11" if source == "icd10" else "icd10"
        self.known: Dict[str, List[Target]] = {}
        # map-csv's outcome per cell as written: a column of 100,000 codes holds few distinct ones.
        self.outcomes: Dict[Tuple[str, bool], Outcome] = {}

    def rows(self, code: str) -> List[JSON]:
        """The tables' rows for a code, as the library gives them."""
        return self.lookup(code)

    def targets(self, code: str) -> List[Target]:
        key = code.strip().upper()
        found = self.known.get(key)
        if found is None:
            found = [self.target_of(row) for row in self.lookup(key)] if key else []
            self.known[key] = found
        return found

    def target_of(self, row: JSON) -> Target:
        title = _DEPTH_DASHES.sub("", str(row.get(self.target + "Title") or "")).strip()
        return Target(str(row.get(self.target + "Code") or "").strip(), title, str(row.get("table") or ""))

    def outcome(self, code: str, every: bool) -> Outcome:
        """A map-csv row: the first target (all of them, as further rows, with `every`)."""
        known = self.outcomes.get((code, every))
        if known is None:
            known = self.outcomes[(code, every)] = self._outcome(code, every)
        return known

    def _outcome(self, code: str, every: bool) -> Outcome:
        if not code.strip():
            return Outcome(("", "", "", "0"), BLANK)
        found = self.targets(code)
        if not found:
            return Outcome(("", "", "", "0"), NO_MATCH)
        count = str(len(found))
        cells = [(t.code, t.title, t.table, count) for t in found]
        return Outcome(cells[0], MATCHED, more=tuple(cells[1:]) if every else ())
