"""Synthetic ICD-10 <-> ICD-11 mapping tables in WHO's layout (as mapping.zip holds them: UTF-8
with a byte-order mark, CRLF, tab-separated, the table's date as the last header column), written
as a directory or a zip for the tests and the benchmark. No row is WHO's: the codes are the
stand-in's."""

import os
import zipfile
from typing import Dict, Iterable, Tuple

MMS = "http://id.who.int/icd/release/11/2026-01/mms"
TEN_TO_ELEVEN = ["10ClassKind", "10DepthInKind", "icd10Code", "icd10Chapter", "icd10Title", "11ClassKind",
                 "11DepthInKind", "ICD-11 FoundationURI", "Linearization (releaseURI)", "icd11Code",
                 "icd11Chapter", "icd11Title"]
ELEVEN_TO_TEN = ["Linearization (release) URI", "icd11Code", "icd11Chapter", "icd11Title", "icd10Code",
                 "icd10Chapter", "icd10Title"]
DATE = "2026-Jan-17"


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    lines = ["\ufeff" + "\t".join(list(header) + [DATE])] + ["\t".join(row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def _ten(code10: str, title10: str, entity: str, code11: str, title11: str) -> Tuple[str, ...]:
    return ("category", "1", code10, "I", title10, "category", "1", "http://id.who.int/icd/entity/" + entity,
            "%s/%s" % (MMS, entity), code11, "01", title11)


def tables() -> Dict[str, str]:
    """The three files: A00.0 maps to one ICD-11 category and to a combination; B54 only in the
    'multiple' table; 1A00 and 1F4Z map back."""
    return {
        "10To11MapToOneCategory.txt": _table(TEN_TO_ELEVEN, [
            _ten("A00.0", "Cholera due to Vibrio cholerae 01, biovar cholerae", "257068234", "1A00", "Cholera"),
            _ten("A00", "Cholera", "257068234", "1A00", "Cholera"),
            _ten("A01.0", "Typhoid fever", "1528414070", "1A07", "Typhoid fever"),
        ]),
        "10To11MapToMultipleCategories.txt": _table(TEN_TO_ELEVEN, [
            _ten("A00.0", "Cholera due to Vibrio cholerae 01, biovar cholerae", "257068234", "1A00&XN8P1",
                 "Choléra, « biovar »"),
            _ten("B54", "Unspecified malaria", "1439886552", "1F4Z", "Malaria, unspecified"),
            _ten("B54", "Unspecified malaria", "1439886552", "1F4Y", "Other malaria"),
        ]),
        "11To10MapToOneCategory.txt": _table(ELEVEN_TO_TEN, [
            (MMS + "/257068234", "1A00", "01", "Cholera", "A00", "I", "Cholera"),
            (MMS + "/1439886552/unspecified", "1F4Z", "01", "Malaria, unspecified", "B54", "I",
             "Unspecified malaria"),
        ]),
    }


def synthetic(count: int) -> Dict[str, str]:
    """WHO-sized tables of `count` rows each (the benchmark's): codes S00000.0 ... map to X0000."""
    one = [_ten("S%05d.0" % i, "Synthetic condition %d" % i, str(10_000_000 + i), "X%04d" % i,
                "Synthetic category %d" % i) for i in range(count)]
    multiple = [_ten("S%05d.0" % i, "Synthetic condition %d" % i, str(20_000_000 + i), "X%04d&XA%d" % (i, i),
                     "Synthetic combination %d" % i) for i in range(0, count, 7)]
    back = [("%s/%d" % (MMS, 10_000_000 + i), "X%04d" % i, "01", "Synthetic category %d" % i, "S%05d.0" % i, "I",
             "Synthetic condition %d" % i) for i in range(count)]
    return {"10To11MapToOneCategory.txt": _table(TEN_TO_ELEVEN, one),
            "10To11MapToMultipleCategories.txt": _table(TEN_TO_ELEVEN, multiple),
            "11To10MapToOneCategory.txt": _table(ELEVEN_TO_TEN, back)}


def write_directory(directory: str, files: Dict[str, str]) -> str:
    os.makedirs(directory, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(directory, name), "w", encoding="utf-8", newline="") as f:
            f.write(text)
    return directory


def write_zip(path: str, files: Dict[str, str]) -> str:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return path
