"""examples/python/dask_autocode.py on a LocalCluster of 2 worker processes: 2,000 rows, the same
output as `icdapi code-csv`, one token fetch in all."""

import csv
import json
import os
import random
import subprocess
import sys
from collections import Counter

from conftest import ROOT, StandIn, clean_env
from test_cli import icdapi_run

EXAMPLE = os.path.join(ROOT, "examples", "python", "dask_autocode.py")
DATA = os.path.join(ROOT, "tools", "standin", "data", "icd_data.json")


def diagnoses(count: int) -> list:
    """Texts as death certificates hold them: titles and synonyms of the stand-in's data set,
    many times over, with blanks and texts nothing matches."""
    entities = json.load(open(DATA, encoding="utf-8"))["icd11"]
    vocabulary = [e["title"]["en"] for e in entities if e.get("code")]
    vocabulary += [s for e in entities for s in e.get("synonyms", {}).get("en", [])]
    vocabulary += ["", "  ", "unknown cause", "héморрагия ✓"]
    pick = random.Random(11)
    return [pick.choice(vocabulary) for _ in range(count)]


def test_dask_example_codes_like_code_csv_with_one_token(standin: StandIn, tmp_path: "os.PathLike[str]") -> None:
    work = str(tmp_path)
    source = os.path.join(work, "certificates.csv")
    texts = diagnoses(2000)
    with open(source, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["certificate", "cause", "age"])
        writer.writerows([["C%05d" % i, text, str(20 + i % 70)] for i, text in enumerate(texts)])

    token_file = os.path.join(work, "shared", "icd-token.json")
    cache_dir = os.path.join(work, "shared", "answers")
    dask_output = os.path.join(work, "dask.csv")
    result = subprocess.run(
        [sys.executable, EXAMPLE, source, "--column", "cause", "--output", dask_output, "--workers", "2",
         "--token-cache-file", token_file, "--cache-dir", cache_dir],
        capture_output=True, text=True, env=clean_env(standin.env()), cwd=work, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "2000 rows coded" in result.stderr

    stats = standin.stats()
    assert (stats["token_requests"], stats["tokens_issued"]) == (1, 1), stats  # one fetch for both workers
    assert os.path.isfile(token_file) and os.stat(token_file).st_mode & 0o077 == 0
    assert os.listdir(cache_dir)
    distinct = {text.strip() for text in texts if text.strip()}
    asked = Counter(e["query"]["searchText"][0] for e in standin.api_log() if "/autocode" in e["path"])
    assert set(asked) == distinct
    assert max(asked.values()) <= 2  # once per worker at most: each worker remembers what it coded

    standin.new_test()
    cli_output = os.path.join(work, "cli.csv")
    status, _, err = icdapi_run(standin, "code-csv", source, "--column", "cause", "--output", cli_output)
    assert status == 0, err
    with open(dask_output, "rb") as a, open(cli_output, "rb") as b:
        assert a.read() == b.read()
    with open(cli_output, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2000 and sum(1 for row in rows if row["icd_code"]) > 1500
