"""The 0.3 navigation methods of icdapi.Client against the stand-in: describe, releases,
release="latest", parents/children/ancestors, and WHO's mapping tables (synthetic, in WHO's
layout, as a zip and a directory)."""

import os
from typing import Any

import pytest
from conftest import StandIn
from mapping_tables import MMS, tables, write_directory, write_zip

import icdapi
from icdapi import Client, IcdError, Status


def test_describe_codes_combinations_uris_and_parameters(client: Client, standin: StandIn) -> None:
    assert client.describe("1A00")["label"] == "Cholera"
    combined = client.describe("1A00&XN8P1", flexiblemode=True)
    assert (combined["code"], combined["stemCode"]) == ("1A00&XN8P1", "1A00")
    assert standin.api_log()[-1]["target"].endswith("/describe?code=1A00%26XN8P1&flexiblemode=true")
    assert client.describe(MMS + "/135352227/other")["code"] == "1A0Y"
    assert standin.api_log()[-1]["query"]["uri"] == [MMS + "/135352227/other"]
    client.set_option("language", "fr")
    assert client.describe("1A00")["label"] == "Choléra"
    with pytest.raises(IcdError) as failure:
        client.describe("ZZ99")
    assert (failure.value.status, failure.value.http_status) == (Status.HTTP, 404)
    with pytest.raises(TypeError):
        client.describe(None)  # type: ignore[arg-type]


def test_releases_and_the_latest_release(standin: StandIn) -> None:
    standin.admin("config", {"releases": ["2024-01", "2023-01"]})
    with standin.client(release="latest") as client:
        assert client.releases()["latestRelease"] == "http://id.who.int/icd/release/11/2024-01/mms"
        assert client.get_option("release") == "latest"
        assert client.codeinfo("1A00")["code"] == "1A00"
        client.search("cholera")
        paths = [entry["path"] for entry in standin.api_log()]
        assert paths.count("/icd/release/11/mms") == 1, paths
        assert "/icd/release/11/2024-01/mms/search" in paths
        with pytest.raises(IcdError) as failure:
            client.codeinfo("ZZ99")
        assert 'release "latest" is 2024-01' in str(failure.value)


def test_parents_children_and_ancestors(client: Client) -> None:
    assert client.parents("1A00") == [{"uri": MMS + "/135352227", "code": "",
                                       "title": "Bacterial intestinal infections", "classKind": "block"}]
    ancestors = client.ancestors("1A00&XN8P1")
    assert [a["uri"] for a in ancestors] == [MMS + "/135352227", MMS + "/588616678", MMS + "/1435254666"]
    assert ancestors[-1]["code"] == "01" and ancestors[-1]["classKind"] == "chapter"
    # Several parents, one diamond: each ancestor once, at its nearest level.
    assert [a["uri"] for a in client.ancestors("FB32.5")] == [
        MMS + "/1473673350", MMS + "/135352227", MMS + "/588616678", MMS + "/1435254666"]
    children = client.children(MMS + "/1439886552")
    assert [c["code"] for c in children] == ["1F40", "1F41", "1F42", "1F43", "1F44", "1F45", "1F4Z"]
    assert client.children("1A00") == []
    client.set_option("language", "fr")
    assert client.parents("1A00")[0]["title"] == "Infections intestinales bactériennes"
    with pytest.raises(IcdError) as failure:
        client.ancestors("ZZ99")
    assert failure.value.http_status == 404


def test_mapping_tables_from_a_zip_or_a_directory(tmp_path: Any, standin: StandIn) -> None:
    zipped = write_zip(str(tmp_path / "mapping.zip"), tables())
    unpacked = write_directory(str(tmp_path / "unpacked"), tables())
    for path in (zipped, unpacked):
        with icdapi.Client.local("http://127.0.0.1:9", mapping_tables=path) as client:
            assert client.get_option("mapping_tables") == path
            rows = client.map_icd10_to_icd11(" a00.0")
            assert [(r["table"], r["icd11Code"]) for r in rows] == [("one", "1A00"), ("multiple", "1A00&XN8P1")]
            assert rows[1]["icd11Title"] == "Choléra, « biovar »"
            assert rows[0]["foundationUri"] == "http://id.who.int/icd/entity/257068234"
            assert client.map_icd11_to_icd10("1F4Z")[0]["icd10Code"] == "B54"
            assert client.map_icd10_to_icd11("Z99") == []
    with icdapi.Client.local("http://127.0.0.1:9") as client:
        with pytest.raises(IcdError) as failure:
            client.map_icd10_to_icd11("A00")
        assert failure.value.status == Status.INVALID_ARGUMENT
        assert "icdcdn.who.int/static/releasefiles" in str(failure.value)
        os.remove(os.path.join(unpacked, "11To10MapToOneCategory.txt"))
        client.set_option("mapping_tables", str(tmp_path))
        with pytest.raises(IcdError) as failure:
            client.map_icd11_to_icd10("1A00")
        assert failure.value.status == Status.PARSE
        assert "11To10MapToOneCategory.txt" in str(failure.value)
