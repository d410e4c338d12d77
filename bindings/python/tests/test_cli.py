"""The icdapi console script, run as a user runs it (the installed script, a process per run)
against the stand-in: each subcommand's output, code-csv on real CSV, exit statuses, no tracebacks."""

import csv
import io
import json
import os
import pty
import subprocess
import sys
from collections import Counter
from typing import Dict, List, Optional, Tuple

import pytest
from conftest import StandIn, clean_env

SCRIPT = os.path.join(os.path.dirname(sys.executable), "icdapi")
ENTITY_1A00 = "http://id.who.int/icd/release/11/2026-01/mms/257068234"


def icdapi_run(standin: Optional[StandIn], *args: str, env: Optional[Dict[str, str]] = None,
               cwd: Optional[str] = None) -> Tuple[int, str, str]:
    """Runs the console script; returns (exit status, stdout, stderr) and checks that stderr
    never holds a traceback."""
    environment = clean_env(standin.env() if standin else {})
    environment.update(env or {})
    result = subprocess.run([SCRIPT, *args], capture_output=True, env=environment, cwd=cwd, timeout=120)
    stdout, stderr = result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    assert "Traceback" not in stderr, stderr
    return result.returncode, stdout, stderr


def api_requests(standin: StandIn, part: str) -> List[Dict[str, object]]:
    return [e for e in standin.api_log() if part in e["path"]]


# -- search, code, autocode ------------------------------------------------------------------------


def test_search_prints_plain_titles(standin: StandIn) -> None:
    status, out, err = icdapi_run(standin, "search", "cholera")
    assert (status, err) == (0, "")
    assert out == "1A00\tCholera\n"
    request = api_requests(standin, "/search")[0]
    assert request["query"]["highlightingEnabled"] == ["false"]  # type: ignore[index]


def test_search_limit_cuts_locally(standin: StandIn) -> None:
    status, everything, _ = icdapi_run(standin, "search", "malaria")
    assert status == 0 and len(everything.splitlines()) == 7
    status, out, _ = icdapi_run(standin, "search", "malaria", "--limit", "2")
    assert status == 0 and out.splitlines() == everything.splitlines()[:2]
    for line in out.splitlines():
        code, title = line.split("\t")
        assert code.startswith("1F4") and "<" not in title
    assert all("limit" not in json.dumps(e["query"]) for e in api_requests(standin, "/search"))


def test_search_json_language_and_release(standin: StandIn) -> None:
    status, out, _ = icdapi_run(standin, "--language", "fr", "search", "choléra", "--json", "--release", "2024-01")
    assert status == 0
    answer = json.loads(out)
    assert answer["destinationEntities"][0]["title"] == "Choléra"
    request = api_requests(standin, "/search")[0]
    assert request["path"] == "/icd/release/11/2024-01/mms/search"
    assert request["headers"]["accept-language"] == "fr"  # type: ignore[index]


def test_code_prints_code_title_and_entity_uri(standin: StandIn) -> None:
    status, out, _ = icdapi_run(standin, "code", "1A00")
    assert (status, out) == (0, "1A00\tCholera\t%s\n" % ENTITY_1A00)
    status, out, _ = icdapi_run(standin, "code", "1A00", "--json", "--language", "zh")
    assert status == 0 and json.loads(out)["title"]["@value"] == "霍乱"


def test_autocode_prints_code_title_and_matching_text(standin: StandIn) -> None:
    status, out, _ = icdapi_run(standin, "autocode", "classical cholera")
    assert (status, out) == (0, "1A00\tCholera\tclassical cholera\n")
    status, out, err = icdapi_run(standin, "autocode", "xyzzy plugh")
    assert (status, out) == (0, "") and "no ICD-11 code matches" in err
    status, out, _ = icdapi_run(standin, "autocode", "fièvre typhoïde", "--language", "fr", "--json")
    assert status == 0 and json.loads(out)["theCode"] == "1A07"


def test_local_deployment(standin: StandIn) -> None:
    standin.admin("config", {"local": True})
    status, out, _ = icdapi_run(None, "--local", standin.url, "code", "1A00")
    assert (status, out) == (0, "1A00\tCholera\t%s\n" % ENTITY_1A00)
    assert standin.stats()["token_requests"] == 0


def test_cache_dir_answers_a_second_run_without_the_network(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    cache = os.path.join(str(tmp_path), "cache")
    assert icdapi_run(standin, "code", "1A00", "--cache-dir", cache)[0] == 0
    asked = len(standin.api_log())
    assert asked >= 2 and os.listdir(cache)
    status, out, _ = icdapi_run(standin, "code", "1A00", "--cache-dir", cache)
    assert (status, out) == (0, "1A00\tCholera\t%s\n" % ENTITY_1A00)
    assert len(standin.api_log()) == asked


# -- exit statuses -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [[], ["search"], ["frobnicate"], ["search", "x", "--limit", "0"],
                                  ["search", "x", "--limit", "many"], ["code-csv", "in.csv"], ["--bogus"]])
def test_bad_usage_is_exit_2(standin: StandIn, args: List[str]) -> None:
    status, out, err = icdapi_run(standin, *args)
    assert status == 2 and out == "" and "usage:" in err


def test_errors_are_exit_1_with_the_message(standin: StandIn) -> None:
    status, out, err = icdapi_run(standin, "code", "ZZ99")
    assert (status, out) == (1, "") and err.startswith("icdapi: ") and "ZZ99" in err and "404" in err
    status, _, err = icdapi_run(standin, "search", "cholera", env={"ICD_CLIENT_SECRET": "wrong"})
    assert status == 1 and "credentials" in err.lower() and "wrong" not in err
    status, _, err = icdapi_run(None, "search", "cholera")
    assert status == 1 and "ICD_CLIENT_ID" in err
    status, _, err = icdapi_run(standin, "search", "%")
    assert status == 1 and "could not do the search" in err
    status, _, err = icdapi_run(None, "--local", "http://127.0.0.1:9", "code", "1A00")
    assert status == 1 and err.startswith("icdapi: ")


# -- code-csv ------------------------------------------------------------------------------------------

ROWS = [
    ["id", "diagnosis", "note"],
    ["1", "cholera", "plain"],
    ["2", "Malaria, unspecified", "a comma, in the text"],
    ["3", "", "a blank cell"],
    ["4", "cholera", "a duplicate"],
    ["5", "dysenterie bacillaire", "fails on the server"],
    ["6", "typhoid fever", 'quotes "inside", fièvre typhoïde and\na newline'],
    ["7", "   ", "blank too"],
    ["8", "xyzzy plugh", "no match"],
    ["9", "霍乱", "Chinese, no match in English"],
    ["10", "Malaria, unspecified", "a duplicate"],
    ["11", "", ""],
]


def write_csv(path: str, rows: List[List[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def read_csv(text: str) -> List[Dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_code_csv(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source, target = os.path.join(str(tmp_path), "in.csv"), os.path.join(str(tmp_path), "out.csv")
    write_csv(source, ROWS)
    standin.admin("fault", {"match": "searchText=dysenterie", "kind": "status", "status": 500, "count": 0})
    status, out, err = icdapi_run(standin, "code-csv", source, "--column", "diagnosis", "--output", target)
    assert status == 1 and out == ""
    assert "1 of 11 rows failed" in err
    assert "icdapi: 11 rows: 5 matched, 2 no match, 3 blank, 1 failed\n" in err
    assert sorted(os.listdir(str(tmp_path))) == ["in.csv", "out.csv"]
    with open(target, encoding="utf-8", newline="") as f:
        text = f.read()
    rows = read_csv(text)
    assert list(rows[0]) == ["id", "diagnosis", "note", "icd_code", "icd_title", "icd_uri", "icd_match_score", "icd_error",
                             "icd_match_level", "icd_match_type", "icd_status"]
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 12)]  # every row, in its place
    by_id = {r["id"]: r for r in rows}
    assert by_id["1"]["icd_code"] == "1A00" and by_id["1"]["icd_title"] == "Cholera"
    assert by_id["1"]["icd_uri"] == ENTITY_1A00 and by_id["1"]["icd_match_score"] == "1.0"
    # The match level and type as the stand-in's autocode gave them (1 for a match below 1.0).
    assert (by_id["1"]["icd_match_level"], by_id["1"]["icd_match_type"], by_id["1"]["icd_status"]) == ("0", "0", "matched")
    assert by_id["6"]["icd_match_level"] in ("0", "1") and by_id["6"]["icd_match_type"] == "0"
    assert by_id["4"] == dict(by_id["1"], id="4", note="a duplicate")
    assert by_id["2"]["icd_code"] == "1F4Z" and by_id["2"]["icd_title"] == "Malaria, unspecified"
    assert by_id["2"]["note"] == "a comma, in the text"
    assert by_id["6"]["icd_code"] == "1A07" and by_id["6"]["note"] == 'quotes "inside", fièvre typhoïde and\na newline'
    for blank in ("3", "7", "8", "9", "11"):  # blank cells, no match: empty columns, no error
        assert [by_id[blank][c] for c in ("icd_code", "icd_title", "icd_uri", "icd_match_score", "icd_error")] == [""] * 5
    # ... but the status tells them apart.
    assert [by_id[i]["icd_status"] for i in ("3", "7", "8", "9", "11", "5")] == [
        "blank", "blank", "no match", "no match", "blank", "failed"]
    failed = by_id["5"]
    assert failed["icd_code"] == "" and "500" in failed["icd_error"]
    assert failed["diagnosis"] == "dysenterie bacillaire" and failed["note"] == "fails on the server"
    assert all(not r["icd_error"] for r in rows if r["id"] != "5")
    # Each distinct text asked once (the failing one with the library's retries), blanks never.
    asked = Counter(e["query"]["searchText"][0] for e in api_requests(standin, "/autocode"))  # type: ignore[index]
    assert asked.pop("dysenterie bacillaire") == 3  # 1 + max_retries 2
    assert asked == {"cholera": 1, "Malaria, unspecified": 1, "typhoid fever": 1, "xyzzy plugh": 1, "霍乱": 1}
    # Titles fetched once per distinct entity.
    entities = Counter(e["path"] for e in standin.api_log() if "/autocode" not in e["path"])
    assert entities and set(entities.values()) == {1}
    # Quoting and UTF-8 as the csv module writes them.
    assert '"quotes ""inside"", fièvre typhoïde and\na newline"' in text and "霍乱" in text
    assert '"Malaria, unspecified"' in text


def test_code_csv_to_stdout_exit_0_json_and_bom(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source = os.path.join(str(tmp_path), "in.csv")
    with open(source, "w", newline="", encoding="utf-8-sig") as f:  # as Excel saves UTF-8
        csv.writer(f).writerows([["text"], ["choléra"], ["cholera"]])
    status, out, err = icdapi_run(standin, "code-csv", source, "--column", "text", "--language", "fr")
    assert (status, err) == (0, "icdapi: 2 rows: 2 matched, 0 no match, 0 blank, 0 failed\n")
    rows = read_csv(out)
    assert [(r["text"], r["icd_code"], r["icd_title"]) for r in rows] == [
        ("choléra", "1A00", "Choléra"), ("cholera", "1A00", "Choléra")]
    status, out, _ = icdapi_run(standin, "code-csv", source, "--column", "text", "--json")
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [(line["text"], line["icd_code"]) for line in lines] == [("choléra", "1A00"), ("cholera", "1A00")]


def test_code_csv_usage_and_file_errors(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source = os.path.join(str(tmp_path), "in.csv")
    write_csv(source, [["a", "b"], ["1", "2"]])
    status, _, err = icdapi_run(standin, "code-csv", source, "--column", "diagnosis")
    assert status == 2 and "no column 'diagnosis'" in err and "a, b" in err
    status, _, err = icdapi_run(standin, "code-csv", os.path.join(str(tmp_path), "missing.csv"), "--column", "a")
    assert status == 1 and "cannot read" in err
    open(os.path.join(str(tmp_path), "empty.csv"), "w").close()
    status, _, err = icdapi_run(standin, "code-csv", os.path.join(str(tmp_path), "empty.csv"), "--column", "a")
    assert status == 1 and "empty" in err
    status, _, err = icdapi_run(standin, "code-csv", source, "--column", "a", "--output",
                                os.path.join(str(tmp_path), "no", "such", "dir.csv"))
    assert status == 1 and "cannot write" in err
    assert standin.api_log() == []
    # Refused credentials stop the run: one message, not one per row, and no output file.
    target = os.path.join(str(tmp_path), "out.csv")
    status, _, err = icdapi_run(standin, "code-csv", source, "--column", "a", "--output", target,
                                env={"ICD_CLIENT_SECRET": "wrong"})
    assert status == 1 and err.count("\n") == 1 and not os.path.exists(target)


def run_on_a_terminal(standin: StandIn, args: List[str]) -> Tuple[int, bytes]:
    """Runs the script with stderr on a pseudo-terminal (stdout to a pipe); returns what the
    terminal received."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen([SCRIPT, *args], stdout=subprocess.DEVNULL, stderr=secondary,
                               env=clean_env(standin.env()))
    os.close(secondary)
    received = b""
    while True:
        try:
            chunk = os.read(primary, 4096)
        except OSError:  # EIO: the process closed the terminal
            break
        if not chunk:
            break
        received += chunk
    os.close(primary)
    return process.wait(60), received


def test_code_csv_progress_bar_only_on_a_terminal(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source = os.path.join(str(tmp_path), "in.csv")
    write_csv(source, [["text"]] + [["cholera"], ["malaria"], [""]] * 20)
    status, shown = run_on_a_terminal(standin, ["code-csv", source, "--column", "text"])
    assert status == 0
    assert b"60/60 rows" in shown and b"[####" in shown and b"Traceback" not in shown
    status, _, err = icdapi_run(standin, "code-csv", source, "--column", "text")
    assert (status, err) == (0, "icdapi: 60 rows: 40 matched, 0 no match, 20 blank, 0 failed\n")  # no progress bar
