"""`icdapi map` and `icdapi map-csv`, run as a user runs them (the installed script, a process per
run), on synthetic tables in WHO's layout: no stand-in, no credentials, no network."""

import csv
import io
import json
import os
from typing import Any, Dict, List

from mapping_tables import tables, write_directory, write_zip
from test_cli import icdapi_run


def read_csv(text: str) -> List[Dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_map_prints_a_line_per_row_both_ways(tmp_path: Any) -> None:
    zipped = write_zip(str(tmp_path / "mapping.zip"), tables())
    status, out, err = icdapi_run(None, "map", "--from", "icd10", " a00.0", "--mapping-tables", zipped)
    assert status == 0, err
    assert out.splitlines() == ["1A00\tCholera\tone", "1A00&XN8P1\tCholéra, « biovar »\tmultiple"]
    status, out, err = icdapi_run(None, "map", "--from", "icd11", "1F4Z", env={"ICD_MAPPING_TABLES": zipped})
    assert (status, out) == (0, "B54\tUnspecified malaria\tone\n"), err
    status, out, err = icdapi_run(None, "map", "--json", "--from", "icd10", "B54", "--mapping-tables", zipped)
    rows = json.loads(out)
    assert [r["icd11Code"] for r in rows] == ["1F4Z", "1F4Y"] and rows[0]["icd10Title"] == "Unspecified malaria"
    status, out, err = icdapi_run(None, "map", "--from", "icd10", "Z99.9", "--mapping-tables", zipped)
    assert (status, out) == (0, "") and "no row for ICD10 code 'Z99.9'" in err


def test_map_without_tables_or_with_broken_ones_says_what_to_do(tmp_path: Any) -> None:
    status, out, err = icdapi_run(None, "map", "--from", "icd10", "A00")
    assert status == 2 and out == ""
    assert "--mapping-tables" in err and "https://icdcdn.who.int/static/releasefiles/" in err
    files = tables()
    del files["11To10MapToOneCategory.txt"]
    partial = write_directory(str(tmp_path / "partial"), files)
    status, _, err = icdapi_run(None, "map", "--from", "icd11", "1A00", "--mapping-tables", partial)
    assert status == 1 and "11To10MapToOneCategory.txt" in err, err
    status, _, err = icdapi_run(None, "map", "--from", "icd9", "1A00", "--mapping-tables", partial)
    assert status == 2 and "invalid choice" in err


def test_map_csv_writes_the_first_target_or_all_of_them(tmp_path: Any) -> None:
    directory = write_directory(str(tmp_path / "mapping"), tables())
    source = tmp_path / "in.csv"
    source.write_text("id,dx\n1,A00.0\n2,b54\n3,\n4,Z99\n5,a00.0\n", encoding="utf-8")
    output = tmp_path / "out.csv"
    status, out, err = icdapi_run(None, "map-csv", str(source), "--column", "dx", "--from", "icd10",
                                  "--output", str(output), env={"ICD_MAPPING_TABLES": directory})
    assert status == 0, err
    rows = read_csv(output.read_text(encoding="utf-8"))
    assert list(rows[0]) == ["id", "dx", "map_code", "map_title", "map_table", "map_count", "icd_status"]
    assert [(r["id"], r["map_code"], r["map_table"], r["map_count"], r["icd_status"]) for r in rows] == [
        ("1", "1A00", "one", "2", "matched"),
        ("2", "1F4Z", "multiple", "2", "matched"),
        ("3", "", "", "0", "blank"),
        ("4", "", "", "0", "no match"),
        ("5", "1A00", "one", "2", "matched"),
    ]
    assert rows[0]["map_title"] == "Cholera"
    assert "5 rows: 3 matched, 1 no match, 1 blank, 0 failed" in err

    status, out, err = icdapi_run(None, "map-csv", str(source), "--column", "dx", "--from", "icd10", "--all",
                                  "--mapping-tables", directory)
    assert status == 0, err
    every = read_csv(out)
    assert [(r["id"], r["map_code"], r["map_table"]) for r in every] == [
        ("1", "1A00", "one"), ("1", "1A00&XN8P1", "multiple"),
        ("2", "1F4Z", "multiple"), ("2", "1F4Y", "multiple"),
        ("3", "", ""), ("4", "", ""),
        ("5", "1A00", "one"), ("5", "1A00&XN8P1", "multiple"),
    ]
    assert every[1]["map_title"] == "Choléra, « biovar »" and every[1]["map_count"] == "2"

    back = tmp_path / "back.csv"
    back.write_text("code\n1A00\n1F4Z\n", encoding="utf-8")
    status, out, err = icdapi_run(None, "map-csv", str(back), "--column", "code", "--from", "icd11",
                                  "--mapping-tables", directory)
    assert [(r["map_code"], r["map_title"]) for r in read_csv(out)] == [("A00", "Cholera"), ("B54", "Unspecified malaria")]


def test_map_csv_usage_errors(tmp_path: Any) -> None:
    directory = write_directory(str(tmp_path / "mapping"), tables())
    source = tmp_path / "in.csv"
    source.write_text("id,dx\n1,A00\n", encoding="utf-8")
    status, _, err = icdapi_run(None, "map-csv", str(source), "--column", "code", "--from", "icd10",
                                "--mapping-tables", directory)
    assert status == 2 and "has no column 'code'" in err
    output = tmp_path / "never.csv"
    status, _, err = icdapi_run(None, "map-csv", str(source), "--column", "dx", "--from", "icd10",
                                "--output", str(output), "--mapping-tables", str(tmp_path / "nowhere.zip"))
    assert status == 1 and "nowhere.zip" in err and "cannot be read" in err
    assert not os.path.exists(output), "nothing written when the tables cannot be read"
