"""icdapi.Client against the stand-in: every method, every error path, keyword parameters, threads,
batches, one token, non-ASCII text."""

import importlib.metadata
import json
import os
import pickle
import re
import threading
import time
from typing import Any, Callable, List

import pytest
from conftest import ROOT, SECRET, StandIn

import icdapi
from icdapi import Client, IcdError, Status

ENTITY_1A00 = "http://id.who.int/icd/release/11/2026-01/mms/257068234"
FOUNDATION_1A00 = "http://id.who.int/icd/entity/257068234"


def raises_icd(status: Status, call: Callable[[], Any], http_status: int = 0) -> IcdError:
    with pytest.raises(IcdError) as caught:
        call()
    assert caught.value.status is status, repr(caught.value)
    assert caught.value.http_status == http_status, repr(caught.value)
    assert str(caught.value)
    return caught.value


# -- package -----------------------------------------------------------------------------------


def test_version_is_the_native_library_s_and_the_crate_s() -> None:
    lib = icdapi._ffi.LIB
    assert icdapi.__version__ == lib.icd_version().decode()
    cargo = open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8").read()
    assert icdapi.__version__ == re.search(r'^version = "([^"]+)"', cargo, re.M).group(1)  # type: ignore[union-attr]
    assert importlib.metadata.version("icdapi") == icdapi.__version__


def test_every_option_of_the_library_is_documented_and_taken_as_a_keyword(standin: StandIn) -> None:
    """A new option in the library fails this test until the binding documents it (the Client
    docstring and the README list every option by name)."""
    names = icdapi.OPTION_NAMES
    assert len(names) >= 19 and names[0] == "language", names
    with open(os.path.join(ROOT, "bindings", "python", "README.md"), encoding="utf-8") as file:
        readme = file.read()
    docstring = icdapi.Client.__doc__ or ""
    undocumented = [name for name in names if "`%s`" % name not in readme or name not in docstring]
    assert undocumented == [], "options missing from README.md or Client's docstring"
    # Each is a keyword of Client: its current value given back is taken, and reads the same.
    with standin.client() as client:
        values = {name: client.get_option(name) for name in names}
    given = {name: value for name, value in values.items() if name not in ("api_base", "token_endpoint")}
    with standin.client(**given) as client:
        assert {name: client.get_option(name) for name in names} == values


def test_the_library_is_the_one_inside_the_installed_package() -> None:
    package = os.path.dirname(icdapi.__file__)
    assert icdapi._ffi._library_path().startswith(package + os.sep)
    assert os.path.isfile(os.path.join(package, "py.typed"))
    assert "site-packages" in package  # the installed wheel, not the source folder


def test_status_numbers_are_the_c_api_s() -> None:
    assert [(s.name, int(s)) for s in Status] == [
        ("OK", 0), ("INVALID_ARGUMENT", 1), ("AUTH", 2), ("HTTP", 3), ("NETWORK", 4), ("TIMEOUT", 5),
        ("PARSE", 6), ("INTERNAL", 7), ("API", 8)]


# -- creating, options, closing ------------------------------------------------------------------


def test_credentials_from_the_environment(standin: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in standin.env().items():
        monkeypatch.setenv(name, value)
    with Client() as client:
        assert client.codeinfo("1A00")["stemId"] == ENTITY_1A00
    token_request = [e for e in standin.log() if e["path"] == "/connect/token"][0]
    assert "client_id=%s" % standin.client_id in token_request["body"]


def test_missing_environment_is_an_invalid_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ICD_CLIENT_ID", raising=False)
    monkeypatch.delenv("ICD_CLIENT_SECRET", raising=False)
    error = raises_icd(Status.INVALID_ARGUMENT, Client)
    assert "ICD_CLIENT_ID" in str(error)


def test_an_id_without_a_secret_is_an_invalid_argument() -> None:
    raises_icd(Status.INVALID_ARGUMENT, lambda: Client("an-id"))
    raises_icd(Status.INVALID_ARGUMENT, lambda: Client(None, "a-secret"))


def test_options_as_keywords_reach_the_requests(standin: StandIn) -> None:
    with standin.client(language="fr", release="2024-01", timeout_ms=5000, cache_entries=0, max_retries=1,
                        cache_dir=None) as client:
        assert client.get_option("language") == "fr"
        assert client.get_option("timeout_ms") == "5000"
        assert client.get_option("cache_entries") == "0"
        assert client.get_option("cache_dir") == ""  # None left the default
        entity = client.entity_by_code("1A00")
        assert entity["title"]["@value"] == "Choléra"
    request = standin.api_log()[0]
    assert request["path"] == "/icd/release/11/2024-01/mms/codeinfo/1A00"
    assert request["headers"]["accept-language"] == "fr"


def test_set_option_converts_values_and_refuses_bad_ones(client: Client) -> None:
    client.set_option("timeout_ms", 7000)
    client.set_option("release", "2023-01")
    client.set_option("concurrency", 4)
    assert (client.get_option("timeout_ms"), client.get_option("release"), client.get_option("concurrency")) == (
        "7000", "2023-01", "4")
    error = raises_icd(Status.INVALID_ARGUMENT, lambda: client.set_option("no_such_option", "1"))
    assert "no_such_option" in str(error)
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.set_option("timeout_ms", -5))
    assert client.get_option("timeout_ms") == "7000"  # unchanged
    with pytest.raises(TypeError):
        client.set_option("timeout_ms", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.set_option(None, "1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        client.set_option("timeout_ms", [1])  # type: ignore[arg-type]
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.get_option("no_such_option"))


def test_a_bad_option_keyword_frees_the_client_and_raises(standin: StandIn) -> None:
    raises_icd(Status.INVALID_ARGUMENT, lambda: standin.client(concurrency=0))
    with pytest.raises(TypeError):
        standin.client(language=["fr"])
    with pytest.raises(TypeError):
        Client(1, "x")  # type: ignore[arg-type]


def test_a_local_client_needs_no_token(standin: StandIn) -> None:
    standin.admin("config", {"local": True})
    with Client.local(standin.url, language="es") as client:
        assert client.entity_by_code("1A00")["title"]["@value"] == "Cólera"
    assert standin.stats()["token_requests"] == 0
    assert "authorization" not in standin.api_log()[0]["headers"]
    with pytest.raises(TypeError):
        Client.local(8080)  # type: ignore[arg-type]
    raises_icd(Status.INVALID_ARGUMENT, lambda: Client.local("ftp://example"))


def every_call(client: Client) -> List[Callable[[], Any]]:
    return [
        lambda: client.get("/icd/release/11/2026-01/mms/257068234"),
        lambda: client.get_text("/icd/release/11/2026-01/mms/257068234"),
        lambda: client.post("/icd/release/11/2026-01/codedit", {"a": 1}),
        lambda: client.search("cholera"),
        lambda: client.autocode("cholera"),
        lambda: client.codeinfo("1A00"),
        lambda: client.lookup(FOUNDATION_1A00),
        lambda: client.entity_by_code("1A00"),
        lambda: client.icd10("A00"),
        lambda: client.get_many(["/icd/release/11/2026-01/mms/257068234"]),
        lambda: client.set_option("language", "en"),
        lambda: client.get_option("language"),
    ]


def test_close_twice_and_calls_after_close(standin: StandIn) -> None:
    with standin.client() as client:
        assert not client.closed
        client.search("cholera")
    assert client.closed
    client.close()
    client.close()
    for call in every_call(client):
        with pytest.raises(ValueError, match="closed"):
            call()
    with pytest.raises(ValueError):
        with client:
            pass


def test_close_waits_for_a_call_under_way(standin: StandIn) -> None:
    standin.admin("config", {"delay_ms": 500})
    client = standin.client()
    result: List[Any] = []
    worker = threading.Thread(target=lambda: result.append(client.codeinfo("1A00")))
    worker.start()
    time.sleep(0.2)
    client.close()  # must not free the native client under the running call
    worker.join()
    assert result[0]["code"] == "1A00"
    with pytest.raises(ValueError):
        client.codeinfo("1A00")


def test_a_client_cannot_be_pickled_but_an_error_can(client: Client) -> None:
    with pytest.raises(TypeError, match="each process"):
        pickle.dumps(client)
    error = pickle.loads(pickle.dumps(IcdError("gone", Status.HTTP, 404)))
    assert (str(error), error.status, error.http_status) == ("gone", Status.HTTP, 404)


# -- every method ----------------------------------------------------------------------------------


def test_get_and_get_text_take_paths_and_id_who_int_uris(client: Client, standin: StandIn) -> None:
    entity = client.get(ENTITY_1A00)
    assert entity["code"] == "1A00" and entity["@id"] == ENTITY_1A00
    text = client.get_text("/icd/release/11/2026-01/mms/257068234")
    assert isinstance(text, str) and json.loads(text)["code"] == "1A00"
    assert client.get("/icd/release/11/2026-01/mms/257068234?include=ancestor")["code"] == "1A00"
    assert standin.api_log()[0]["path"] == "/icd/release/11/2026-01/mms/257068234"


def test_keyword_parameters_booleans_numbers_and_none(client: Client, standin: StandIn) -> None:
    client.search("cholera", flatResults=True, highlightingEnabled=False, useFlexisearch=None,
                  matchThreshold=0.75, tiny=1e-07, huge=1e16, limit=10, chapterFilter="01;02")
    client.get("/icd/release/11/2026-01/mms/257068234?include=ancestor", releaseId="2026-01", flag=False)
    client.autocode("cholera", matchThreshold=0.5)
    client.codeinfo("1A00", flexiblemode=True)
    search, get, autocode, codeinfo = standin.api_log()
    assert search["query"] == {"q": ["cholera"], "flatResults": ["true"], "highlightingEnabled": ["false"],
                               "matchThreshold": ["0.75"], "tiny": ["0.0000001"], "huge": ["10000000000000000"],
                               "limit": ["10"], "chapterFilter": ["01;02"]}
    assert search["target"].endswith("&chapterFilter=01%3B02")  # encoded by the library, in order
    assert get["query"] == {"include": ["ancestor"], "releaseId": ["2026-01"], "flag": ["false"]}
    assert autocode["query"] == {"searchText": ["cholera"], "matchThreshold": ["0.5"]}
    assert codeinfo["query"] == {"flexiblemode": ["true"]}
    assert "e" not in search["query"]["tiny"][0]


def test_parameters_change_the_answer(client: Client) -> None:
    marked = client.search("cholera")["destinationEntities"][0]["title"]
    plain = client.search("cholera", highlightingEnabled=False)["destinationEntities"][0]["title"]
    assert "<em" in marked and plain == "Cholera"
    nested = client.search("malaria", flatResults=False, medicalCodingMode=False)["destinationEntities"]
    flat = client.search("malaria", flatResults=True, medicalCodingMode=False)["destinationEntities"]
    assert [hit["title"] for hit in nested] == ["<em class='found'>Malaria</em>"] and len(flat) == 8


def test_bad_parameter_values(client: Client, standin: StandIn) -> None:
    with pytest.raises(TypeError, match="flatResults"):
        client.search("cholera", flatResults=[True])  # type: ignore[arg-type]
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.search("cholera", matchThreshold=float("nan")))
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.search("cholera", **{"": "x"}))
    assert standin.api_log() == []  # nothing was sent


def test_post_takes_a_dict_a_list_or_json_text(client: Client) -> None:
    certificate = {"causeOfDeath": [{"code": "1A00"}], "note": "choléra"}
    assert "1A00" in client.post("/icd/release/11/2026-01/codedit", certificate)["report"]
    assert "1A00" in client.post("/icd/release/11/2026-01/codedit", json.dumps(certificate))["report"]
    with pytest.raises(TypeError):
        client.post("/icd/release/11/2026-01/codedit", 42)  # type: ignore[arg-type]
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.post("/icd/release/11/2026-01/codedit", "{not json"))
    raises_icd(Status.HTTP, lambda: client.post("/icd/release/11/2026-01/codedit", [1]), 400)


def test_the_helpers(client: Client) -> None:
    assert client.search("cholera", highlightingEnabled=False)["destinationEntities"][0]["theCode"] == "1A00"
    coded = client.autocode("cholera")
    assert (coded["theCode"], coded["linearizationURI"]) == ("1A00", ENTITY_1A00)
    assert client.codeinfo("1A00")["stemId"] == ENTITY_1A00
    assert client.lookup(FOUNDATION_1A00)["@id"] == ENTITY_1A00
    assert client.entity_by_code("1A00")["@id"] == ENTITY_1A00
    assert client.icd10("A00")["title"]["@value"] == "Cholera"
    client.set_option("icd10_release", "2010")
    assert "/release/10/2010/A00" in client.icd10("A00")["@id"]


# -- errors ---------------------------------------------------------------------------------------


def test_bad_credentials_are_auth(standin: StandIn) -> None:
    with icdapi.Client("nobody", "wrong", api_base=standin.url, token_endpoint=standin.url + "/connect/token") as c:
        error = raises_icd(Status.AUTH, lambda: c.search("cholera"), 400)
    assert "wrong" not in str(error)  # the secret never reaches a message


def test_an_unknown_code_is_http_404(client: Client) -> None:
    error = raises_icd(Status.HTTP, lambda: client.codeinfo("ZZ99"), 404)
    assert "ZZ99" in str(error)
    raises_icd(Status.HTTP, lambda: client.entity_by_code("ZZ99"), 404)
    raises_icd(Status.HTTP, lambda: client.icd10("Z99.9"), 404)


def test_a_search_the_api_could_not_run_is_status_api(client: Client) -> None:
    error = raises_icd(Status.API, lambda: client.search("%"), 200)
    assert "error" in str(error)
    # get returns such a body as it came
    assert client.get("/icd/release/11/2026-01/mms/search?q=%25")["error"] is True


def test_a_foreign_host_is_refused_before_anything_is_sent(client: Client, standin: StandIn) -> None:
    error = raises_icd(Status.INVALID_ARGUMENT, lambda: client.get("https://evil.example/icd/entity"))
    assert "evil.example" in str(error)
    assert standin.log() == []


def test_a_server_error_and_a_timeout(client: Client, standin: StandIn) -> None:
    client.set_option("max_retries", 0)
    standin.admin("fault", {"match": "codeinfo/1A01", "kind": "status", "status": 503})
    raises_icd(Status.HTTP, lambda: client.codeinfo("1A01"), 503)
    client.set_option("timeout_ms", 300)
    standin.admin("fault", {"match": "codeinfo/1A02", "kind": "hang", "seconds": 2})
    raises_icd(Status.TIMEOUT, lambda: client.codeinfo("1A02"))
    standin.admin("fault", {"match": "codeinfo/1A03", "kind": "non_json"})
    client.set_option("timeout_ms", 5000)
    raises_icd(Status.PARSE, lambda: client.codeinfo("1A03"), 200)


@pytest.mark.parametrize("bad", [None, 42, b"1A00", ["1A00"]])
def test_type_error_where_text_is_required(client: Client, bad: Any) -> None:
    for call in (client.get, client.get_text, client.search, client.autocode, client.codeinfo, client.lookup,
                 client.entity_by_code, client.icd10, client.get_option):
        with pytest.raises(TypeError):
            call(bad)
    with pytest.raises(TypeError):
        client.post(bad, {})
    with pytest.raises(TypeError):
        client.get_many([bad])


def test_text_that_c_cannot_carry(client: Client, standin: StandIn) -> None:
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.search("chol\0era"))
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.search("\udcff"))
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.codeinfo("1A00", include="a\0b"))
    raises_icd(Status.INVALID_ARGUMENT, lambda: client.search(""))
    assert standin.log() == []


# -- batches -----------------------------------------------------------------------------------------


def test_get_many_in_order_with_per_item_errors(client: Client) -> None:
    results = client.get_many([
        "/icd/release/11/2026-01/mms/codeinfo/1A00",
        "/icd/release/11/2026-01/mms/codeinfo/ZZ99",   # 404: the first failure
        ENTITY_1A00,
        "https://evil.example/x",                       # refused
        "/icd/release/11/2026-01/mms/codeinfo/1A0\0",   # cannot be a C string: refused here
        "/icd/release/11/2026-01/mms/codeinfo/YY99",   # 404 again
        "/icd/release/11/2026-01/mms/search?q=%25",     # "error": true comes back as it came
    ])
    ok, first, entity, foreign, nul, second, raw = results
    assert isinstance(ok, dict) and ok["code"] == "1A00"
    assert isinstance(entity, dict) and entity["@id"] == ENTITY_1A00
    assert isinstance(raw, dict) and raw["error"] is True
    assert isinstance(first, IcdError) and (first.status, first.http_status) == (Status.HTTP, 404)
    assert "ZZ99" in str(first)  # the library's own message
    assert isinstance(foreign, IcdError) and foreign.status is Status.INVALID_ARGUMENT
    assert isinstance(nul, IcdError) and nul.status is Status.INVALID_ARGUMENT and "NUL" in str(nul)
    assert isinstance(second, IcdError) and (second.status, second.http_status) == (Status.HTTP, 404)
    assert "item 5" in str(second) and "HTTP" in str(second)  # a message naming its status


def test_get_many_argument_checks(client: Client, standin: StandIn) -> None:
    assert client.get_many([]) == []
    with pytest.raises(TypeError):
        client.get_many("/icd/release/11/2026-01/mms/codeinfo/1A00")
    with pytest.raises(TypeError):
        client.get_many(["/icd/release/11/2026-01/mms/codeinfo/1A00", None])  # type: ignore[list-item]
    assert standin.log() == []


# -- threads, the GIL, one token --------------------------------------------------------------------


def test_eight_threads_on_one_client_overlap(client: Client, standin: StandIn) -> None:
    delay = 0.4
    client.search("warm-up: the token")
    standin.admin("config", {"delay_ms": int(delay * 1000)})
    answers: List[str] = []
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        answers.append(client.get("/icd/release/11/2026-01/mms/codeinfo/1A0%d" % i)["code"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    assert sorted(answers) == ["1A0%d" % i for i in range(8)]
    # One after the other they would take 8 x 0.4 = 3.2 s; side by side, about 0.4 s.
    assert wall < 4 * delay, "8 calls took %.2f s: they did not overlap" % wall
    assert standin.stats()["tokens_issued"] == 1


def test_the_gil_is_released_during_a_call(client: Client, standin: StandIn) -> None:
    client.search("warm-up: the token")
    standin.admin("config", {"delay_ms": 500})
    counted = [0]
    running = threading.Event()
    stop = threading.Event()

    def count() -> None:
        running.set()
        while not stop.is_set():
            counted[0] += 1

    def counted_during(wait: Callable[[], Any]) -> int:
        before = counted[0]
        wait()
        return counted[0] - before

    counter = threading.Thread(target=count)
    counter.start()
    running.wait()
    asleep = counted_during(lambda: time.sleep(0.5))  # time.sleep releases the GIL: the yardstick
    in_call = counted_during(lambda: client.codeinfo("1A00"))  # 0.5 s inside the library
    stop.set()
    counter.join()
    # Holding the GIL, the call would stop the counter for its whole 0.5 s (it could count for a
    # switch interval, 5 ms, at most); released, the counter runs about as long as during sleep.
    assert in_call > asleep / 4, "the counter ran %d times during the call, %d during sleep" % (in_call, asleep)


def test_one_token_for_everything(standin: StandIn) -> None:
    clients = [standin.client() for _ in range(3)]
    a, b, c = clients
    a.search("cholera", flatResults=True)
    b.autocode("cholera")
    c.codeinfo("1A00")
    a.lookup(FOUNDATION_1A00)
    b.entity_by_code("1A01")
    c.icd10("A00")
    a.post("/icd/release/11/2026-01/codedit", {"code": "1A00"})
    b.get_many(["/icd/release/11/2026-01/mms/codeinfo/1A0%d" % i for i in range(8)])
    threads = [threading.Thread(target=lambda i=i: c.get("/icd/release/11/2026-01/mms/codeinfo/1F4%d" % i))
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for client in clients:
        client.close()
    stats = standin.stats()
    assert stats["api_requests"] >= 20
    assert (stats["tokens_issued"], stats["token_requests"]) == (1, 1)


# -- non-ASCII ----------------------------------------------------------------------------------------


def test_non_ascii_round_trips(standin: StandIn) -> None:
    with standin.client(language="fr") as client:
        hit = client.search("choléra", highlightingEnabled=False)["destinationEntities"][0]
        assert (hit["theCode"], hit["title"]) == ("1A00", "Choléra")
        assert client.autocode("fièvre typhoïde")["theCode"] == "1A07"
        client.set_option("language", "zh")
        assert client.entity_by_code("1A00")["title"]["@value"] == "霍乱"
        client.get("/icd/release/11/2026-01/mms/257068234", note="naïve 霍乱 ✓")
        standin.admin("config", {"escape_non_ascii": True})  # \u escapes in the JSON: same text
        client.set_option("language", "ar")
        title = client.entity_by_code("1A01")["title"]["@value"]
        assert title and all(ord(ch) < 0x10000 for ch in title)
    paths = [e for e in standin.api_log() if e["query"].get("note")]
    assert paths[0]["query"]["note"] == ["naïve 霍乱 ✓"]
    assert standin.api_log()[0]["query"]["q"] == ["choléra"]
