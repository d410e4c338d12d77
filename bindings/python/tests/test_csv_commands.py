"""Death certificates from Python (Client.doris, Client.codedit, check_certificate) and the CSV
commands' shared reader and writer (icdapi.csvio) as users meet them: code-deaths, encodings,
malformed rows, a server that goes away halfway and the run resumed with --skip.

The stand-in's certificate rule is NOT WHO's DORIS (tools/standin/README.md): the lowest used line
of Part 1 gives the underlying cause. These tests check what the library and the command do with
certificates and answers, never that a cause of death is right."""

import csv
import io
import os
import subprocess
import time
from collections import Counter
from typing import Any, Dict, List

import pytest
from conftest import StandIn, clean_env
from test_cli import SCRIPT, icdapi_run, run_on_a_terminal

import icdapi

DEATHS = [
    ["id", "sex", "causeOfDeathCodeA", "causeOfDeathCodeB", "causeOfDeathCodePart2", "intervalA"],
    ["1", "1", "1A00", "1F40", "", "P2D"],
    ["2", "2", "1A00", "", "", ""],
    ["3", "1", "1A00", "1F40", "", "P2D"],      # the same certificate as row 1: asked once
    ["4", "", "", "", "1A00", ""],              # Part 2 only: the stand-in's rule rejects it
    ["5", "1", "", "", "", "P1D"],              # no cause: blank, nothing asked
    ["6", "male", "1A00", "", "", ""],          # the API answers 400: a failed row in its place
    ["7", "1", " 1A00 ", "", "", ""],           # blanks around a value are trimmed
]


def write_rows(path: str, rows: List[List[str]], encoding: str = "utf-8") -> None:
    with open(path, "w", newline="", encoding=encoding) as f:
        csv.writer(f).writerows(rows)


def read_rows(path: str) -> List[Dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def doris_log(standin: StandIn) -> List[Dict[str, object]]:
    return [e for e in standin.api_log() if e["path"].endswith("/doris")]


# -- the Client methods --------------------------------------------------------------------------


def test_doris_and_codedit_from_python(client: icdapi.Client, standin: StandIn) -> None:
    answer = client.doris(causeOfDeathCodeA="1A00", causeOfDeathCodeC="1F40", sex=2, intervalA="P3D", dateBirth=None)
    assert (answer["code"], answer["stemCode"], answer["reject"]) == ("1F40", "1F40", False)
    assert standin.api_log()[-1]["target"] == (
        "/icd/release/11/2026-01/doris?causeOfDeathCodeA=1A00&causeOfDeathCodeC=1F40&sex=2&intervalA=P3D")
    rejected = client.doris(causeOfDeathCodePart2="1A00")  # a result, not an exception
    assert rejected["reject"] is True and "No cause of death in Part 1" in rejected["error"]
    check = client.codedit(causeOfDeathCodeA="ZZ99", sex=1, maternalDeathWasPregnant=1)
    assert check["issueIds"] == "U1,C0,S1"
    assert standin.api_log()[-1]["path"] == "/icd/release/11/2026-01/codedit"


@pytest.mark.parametrize("fields, why", [
    ({"causeOfDeathCodeA1": "1A00"}, "did you mean causeOfDeathCodeA?"),
    ({"causeOfDeathCodeA": "1A00", "Sex": 1}, "did you mean sex?"),
    ({"sex": 1}, "no cause of death"),
    ({}, "no cause of death"),
    ({"causeOfDeathCodeA": None}, "no cause of death"),
])
def test_bad_certificates_raise_before_anything_is_sent(client: icdapi.Client, standin: StandIn,
                                                       fields: Dict[str, Any], why: str) -> None:
    for method in (client.doris, client.codedit):
        with pytest.raises(icdapi.IcdError) as caught:
            method(**fields)
        assert caught.value.status == icdapi.Status.INVALID_ARGUMENT and why in str(caught.value)
    with pytest.raises(icdapi.IcdError, match=why.replace("?", r"\?")):
        icdapi.check_certificate(fields)
    assert standin.log() == []


def test_certificate_fields_and_checks_without_a_client() -> None:
    assert len(icdapi.CERTIFICATE_FIELDS) == 40 and icdapi.CERTIFICATE_FIELDS[0] == "sex"
    assert "mannerOfDeathPlaceOfOccuranceExternalCause" in icdapi.CERTIFICATE_FIELDS
    icdapi.check_certificate([("causeOfDeathCodeA", "1A00"), ("sex", "1")])
    with pytest.raises(icdapi.IcdError, match="given twice"):
        icdapi.check_certificate([("causeOfDeathCodeA", "1A00"), ("causeOfDeathCodeA", "1A01")])
    with pytest.raises(TypeError):
        icdapi.check_certificate({"causeOfDeathCodeA": ["1A00"]})


# -- code-deaths ---------------------------------------------------------------------------------


def test_code_deaths(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source, target = os.path.join(str(tmp_path), "deaths.csv"), os.path.join(str(tmp_path), "out.csv")
    write_rows(source, DEATHS)
    status, out, err = icdapi_run(standin, "code-deaths", source, "--ignore-column", "id", "--output", target)
    assert (status, out) == (1, "")  # a failed row: exit 1, every row written
    assert "icdapi: 7 rows: 4 matched, 1 no match, 1 blank, 1 failed\n" in err
    rows = read_rows(target)
    assert list(rows[0]) == DEATHS[0] + ["ucod_code", "ucod_uri", "ucod_stem_code", "ucod_reject", "ucod_error",
                                         "ucod_warning", "icd_error", "icd_status"]
    assert [r["id"] for r in rows] == [str(i) for i in range(1, 8)]
    by_id = {r["id"]: r for r in rows}
    assert (by_id["1"]["ucod_code"], by_id["1"]["ucod_stem_code"], by_id["1"]["ucod_reject"]) == ("1F40", "1F40", "false")
    assert by_id["1"]["ucod_uri"] == "http://id.who.int/icd/release/11/2026-01/mms/579583286"
    assert by_id["3"] == dict(by_id["1"], id="3")
    assert (by_id["2"]["ucod_code"], by_id["2"]["icd_status"]) == ("1A00", "matched")
    rejected = by_id["4"]
    assert (rejected["ucod_reject"], rejected["ucod_code"], rejected["icd_status"]) == ("true", "", "no match")
    assert "No cause of death in Part 1" in rejected["ucod_error"]
    assert rejected["ucod_warning"] == "Sex is not given (field sex)." and rejected["icd_error"] == ""
    assert [by_id["5"][c] for c in ("ucod_code", "ucod_reject", "icd_error", "icd_status")] == ["", "", "", "blank"]
    failed = by_id["6"]
    assert failed["icd_status"] == "failed" and "400" in failed["icd_error"] and "not valid for sex" in failed["icd_error"]
    assert failed["sex"] == "male" and failed["ucod_code"] == ""
    assert by_id["7"]["ucod_code"] == "1A00"
    # Each distinct certificate asked once (empty cells left out, values trimmed), no cause never.
    asked = Counter(e["target"] for e in doris_log(standin))
    assert sorted(asked.values()) == [1] * 5  # rows 1 (and 3), 2, 4, 6, 7
    assert "/icd/release/11/2026-01/doris?causeOfDeathCodeA=1A00&sex=2" in asked  # row 2: no empty fields sent
    assert "/icd/release/11/2026-01/doris?causeOfDeathCodeA=1A00&sex=1" in asked  # row 7: trimmed


def test_code_deaths_bad_columns_stop_before_anything_is_sent(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source = os.path.join(str(tmp_path), "deaths.csv")
    write_rows(source, [["id", "sex", "causeOfDeathCodeA1"], ["1", "1", "1A00"]])
    status, out, err = icdapi_run(standin, "code-deaths", source, "--ignore-column", "id")
    assert (status, out) == (2, "")
    assert "line 1 (the header)" in err and "\"causeOfDeathCodeA1\"" in err and "did you mean causeOfDeathCodeA?" in err
    assert "--ignore-column" in err
    status, _, err = icdapi_run(standin, "code-deaths", source)  # the id column, not ignored
    assert status == 2 and "\"id\" is not a death certificate field" in err
    write_rows(source, [["sex", "intervalA"], ["1", "P1D"]])
    status, _, err = icdapi_run(standin, "code-deaths", source)
    assert status == 2 and "no cause of death" in err
    write_rows(source, [["causeOfDeathCodeA", "causeOfDeathCodeA"], ["1A00", "1A01"]])
    status, _, err = icdapi_run(standin, "code-deaths", source)
    assert status == 2 and "given twice" in err
    status, _, err = icdapi_run(standin, "code-deaths", source, "--ignore-column", "nope")
    assert status == 2 and "--ignore-column nope" in err
    assert standin.log() == []


def test_code_deaths_ignored_columns_are_copied(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source = os.path.join(str(tmp_path), "deaths.csv")
    write_rows(source, [["causeOfDeathCodeA", "note", "registry"], ["1A00", "keep me", "R1"]])
    status, out, err = icdapi_run(standin, "code-deaths", source, "--ignore-column", "note", "--ignore-column", "registry")
    assert status == 0, err
    row = list(csv.DictReader(io.StringIO(out, newline="")))[0]
    assert (row["note"], row["registry"], row["ucod_code"]) == ("keep me", "R1", "1A00")
    assert doris_log(standin)[0]["target"] == "/icd/release/11/2026-01/doris?causeOfDeathCodeA=1A00"


# -- the shared reader and writer ----------------------------------------------------------------


def test_latin1_files_need_the_encoding_option(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source = os.path.join(str(tmp_path), "latin1.csv")
    write_rows(source, [["id", "text"], ["1", "cholera"], ["2", "choléra à Paris"]], encoding="latin-1")
    for command in (["code-csv", source, "--column", "text"], ["code-deaths", source]):
        status, out, err = icdapi_run(standin, *command)
        assert (status, out) == (1, "")
        assert "line 3" in err and "not valid utf-8" in err and "--encoding latin-1" in err, err
    assert standin.log() == []
    status, out, err = icdapi_run(standin, "code-csv", source, "--column", "text", "--encoding", "latin-1")
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [(r["text"], r["icd_code"]) for r in rows] == [("cholera", "1A00"), ("choléra à Paris", rows[1]["icd_code"])]
    assert rows[1]["text"] == "choléra à Paris"  # written back as UTF-8
    status, _, err = icdapi_run(standin, "code-csv", source, "--column", "text", "--encoding", "klingon")
    assert status == 2 and "unknown encoding 'klingon'" in err


@pytest.mark.parametrize("text, line, why", [
    ('id,text\n1,cholera\n2,"malaria\n3,typhoid\n', 3, "never closed (an unterminated quote)"),
    ("id,text\n1,cholera\n2,malaria,extra\n", 3, "3 fields where the header has 2"),
    ("id,text\n1,cholera\n2\n", 3, "1 field"),
    ('id,text\n1,"chol\nera",x\n2,malaria\n', 2, "a quote left open on line 2"),
])
def test_malformed_rows_are_errors_naming_the_line(standin: StandIn, tmp_path: "os.PathLike[str]",
                                                   text: str, line: int, why: str) -> None:
    source = os.path.join(str(tmp_path), "bad.csv")
    with open(source, "w", newline="", encoding="utf-8") as f:
        f.write(text)
    status, out, err = icdapi_run(standin, "code-csv", source, "--column", "text")
    assert (status, out) == (1, "")
    assert ("line %d:" % line) in err and why in err, err
    assert standin.log() == []  # checked before anything is sent


def test_blank_lines_are_skipped_and_a_bom_accepted(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source = os.path.join(str(tmp_path), "in.csv")
    with open(source, "w", newline="", encoding="utf-8-sig") as f:
        f.write("causeOfDeathCodeA\r\n1A00\r\n\r\n1F40\r\n")
    status, out, err = icdapi_run(standin, "code-deaths", source)
    assert status == 0, err
    assert [r["ucod_code"] for r in csv.DictReader(io.StringIO(out, newline=""))] == ["1A00", "1F40"]


@pytest.mark.parametrize("command", ["code-deaths", "code-csv"])
def test_a_server_gone_halfway_keeps_every_finished_row_and_the_run_resumes(
        tmp_path: "os.PathLike[str]", command: str) -> None:
    count = 2400
    source, target = os.path.join(str(tmp_path), "in.csv"), os.path.join(str(tmp_path), "out.csv")
    if command == "code-deaths":
        rows = [["id", "causeOfDeathCodeA", "intervalA"]] + [[str(i), "1A00", "P%dD" % i] for i in range(1, count + 1)]
        args = [command, source, "--ignore-column", "id", "--output", target]
    else:
        rows = [["id", "text"]] + [[str(i), "cholera %d" % i] for i in range(1, count + 1)]
        args = [command, source, "--column", "text", "--output", target]
    write_rows(source, rows)
    first = StandIn()
    try:
        first.admin("config", {"delay_ms": 15})  # slow enough to stop it halfway
        process = subprocess.Popen([SCRIPT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=clean_env(first.env()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.exists(target) and len(read_rows(target)) >= 600:
                break
            time.sleep(0.05)
        first.stop()  # the server goes away mid-run
        out, err_bytes = process.communicate(timeout=120)
    finally:
        first.stop()
    err = err_bytes.decode()
    assert process.returncode == 1 and "Traceback" not in err
    written = read_rows(target)
    assert 600 <= len(written) < count
    assert [r["id"] for r in written] == [str(i) for i in range(1, len(written) + 1)]  # in order, none lost
    assert sum(r["icd_status"] == "failed" for r in written) <= 16  # only what was in flight, if anything
    assert ("%d of %d rows are written to %s" % (len(written), count, target)) in err, err
    assert ("--skip %d" % len(written)) in err

    second = StandIn()
    try:
        status, _, err = icdapi_run(second, *args, "--skip", str(len(written)))
    finally:
        second.stop()
    assert status == 0, err
    assert ("icdapi: %d rows:" % (count - len(written))) in err
    resumed = read_rows(target)  # appended, the header once
    assert [r["id"] for r in resumed] == [str(i) for i in range(1, count + 1)]
    with open(target, encoding="utf-8") as f:
        assert f.read().count("icd_status") == 1


def test_code_deaths_progress_bar_on_a_terminal(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    source = os.path.join(str(tmp_path), "deaths.csv")
    write_rows(source, [["causeOfDeathCodeA", "sex"]] + [["1A00", "1"], ["1F40", "2"], ["", "1"]] * 20)
    status, shown = run_on_a_terminal(standin, ["code-deaths", source])
    assert status == 0
    assert b"60/60 rows" in shown and b"[####" in shown and b"Traceback" not in shown
    assert b"60 rows: 40 matched, 0 no match, 20 blank, 0 failed" in shown
