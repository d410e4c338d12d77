#!/usr/bin/env python3
"""Self-test of the ICD API stand-in: start it as the other test suites do, talk to it over loopback.

Run: python3 -m unittest tools/standin/test_standin.py -v   (or python3 tools/standin/test_standin.py)
"""

import base64
import http.client
import json
import os
import queue
import select
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from urllib.parse import urlencode

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "icd_standin.py")
# Byte copies of the responses recorded from the live API (shared/fixtures/recorded, with their
# provenance in SOURCES.md), kept beside the stand-in so that the comparison always runs.
RECORDED = os.path.join(HERE, "recorded")
CLIENT = {"client_id": "standin-client", "client_secret": "standin-secret"}
TOKEN_FORM = urlencode(dict(CLIENT, grant_type="client_credentials", scope="icdapi_access"))
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def start_standin(*args):
    """Start the stand-in as tests in other languages do; return (process, host, port, scheme)."""
    proc = subprocess.Popen([sys.executable, SERVER, "--port", "0", "--quiet", *args],
                            stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    line = proc.stdout.readline().strip() if ready else ""
    if not line.startswith("LISTENING "):
        proc.kill()
        raise RuntimeError("stand-in did not start: %r" % line)
    scheme, rest = line.split()[1].split("://")
    host, port = rest.rsplit(":", 1)
    return proc, host, int(port), scheme


def stop_standin(proc):
    proc.terminate()
    proc.wait(5)
    proc.stdout.close()


def recorded(name):
    path = os.path.join(RECORDED, name)
    if not os.path.exists(path):
        raise unittest.SkipTest("recorded fixtures not found at " + RECORDED)
    with open(path, "rb") as f:
        return f.read()


class StandinCase(unittest.TestCase):
    args = ()

    @classmethod
    def setUpClass(cls):
        cls.proc, cls.host, cls.port, cls.scheme = start_standin(*cls.args)

    @classmethod
    def tearDownClass(cls):
        stop_standin(cls.proc)

    def setUp(self):
        self.admin("POST", "reset")

    def connection(self):
        if self.scheme == "https":
            return http.client.HTTPSConnection(self.host, self.port, timeout=10,
                                               context=ssl._create_unverified_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=10)

    def request(self, method, target, headers=None, body=None, conn=None):
        """One request; returns (status, headers, body bytes)."""
        own = conn is None
        conn = conn or self.connection()
        try:
            conn.request(method, target, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.headers, resp.read()
        finally:
            if own:
                conn.close()

    def admin(self, method, name, payload=None):
        body = None if payload is None else json.dumps(payload)
        status, _, data = self.request(method, "/_admin/" + name, body=body)
        self.assertLess(status, 300, data)
        return json.loads(data)

    def get_token(self):
        status, _, data = self.request("POST", "/connect/token", FORM, TOKEN_FORM)
        self.assertEqual(status, 200, data)
        return json.loads(data)["access_token"]

    def api(self, target, token=None, lang="en", extra=None, method="GET", body=None):
        headers = {"Accept": "application/json", "API-Version": "v2", "Accept-Language": lang}
        if token:
            headers["Authorization"] = "Bearer " + token
        headers.update(extra or {})
        return self.request(method, target, headers, body)

    def api_json(self, target, token, lang="en", **kw):
        status, headers, data = self.api(target, token, lang, **kw)
        self.assertEqual(status, 200, data)
        return json.loads(data)


class CloudTest(StandinCase):
    # -- token endpoint

    def test_token_form_and_shape(self):
        status, headers, data = self.request("POST", "/connect/token", FORM, TOKEN_FORM)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json; charset=utf-8")
        self.assertIn("no-store", headers["Cache-Control"])
        reply = json.loads(data)
        self.assertEqual((reply["expires_in"], reply["token_type"]), (3600, "Bearer"))
        parts = reply["access_token"].split(".")
        self.assertEqual(len(parts), 3)
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=="))
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        self.assertEqual(header, {"alg": "RS256", "typ": "JWT"})
        self.assertEqual(payload["client_id"], "standin-client")
        self.assertNotEqual(reply["access_token"], self.get_token())  # fresh every time

    def test_token_basic_auth(self):
        basic = base64.b64encode(b"standin-client:standin-secret").decode()
        status, _, data = self.request("POST", "/connect/token", dict(FORM, Authorization="Basic " + basic),
                                       "grant_type=client_credentials&scope=icdapi_access")
        self.assertEqual(status, 200, data)

    def test_token_errors(self):
        status, _, data = self.request("POST", "/connect/token", FORM,
                                       "client_id=&client_secret=&grant_type=client_credentials&scope=icdapi_access")
        self.assertEqual((status, data), (400, recorded("token_error_400_invalid_client.json")))
        status, _, data = self.request("POST", "/connect/token", {"Content-Type": "application/json"},
                                       json.dumps(dict(CLIENT, grant_type="client_credentials")))
        self.assertEqual((status, json.loads(data)), (400, {"error": "invalid_request"}))
        status, _, data = self.request("POST", "/connect/token", FORM, urlencode(dict(CLIENT, grant_type="password")))
        self.assertEqual((status, json.loads(data)), (400, {"error": "unsupported_grant_type"}))
        self.assertEqual(self.admin("GET", "stats")["tokens_issued"], 0)

    # -- authentication and required headers

    def test_401_without_token(self):
        for token in (None, "not-a-token"):
            status, headers, data = self.api("/icd/release/11/2023-01/mms/codeinfo/1F4Z", token)
            self.assertEqual(status, 401)
            self.assertEqual(data, recorded("error_401_unauthorized_body.txt"))
            self.assertEqual(headers["WWW-Authenticate"], "Bearer")
            self.assertIsNone(headers.get("Content-Type"))
        self.assertEqual(self.admin("GET", "stats")["api_401"], 2)

    def test_400_without_api_version(self):
        token = self.get_token()
        status, _, data = self.request("GET", "/icd/release/11/2024-01/mms", {"Authorization": "Bearer " + token})
        self.assertEqual(status, 400)
        self.assertIn(b"API-Version", data)
        status, _, _ = self.api("/icd/release/11/2024-01/mms", token, extra={"API-Version": "v1"})
        self.assertEqual(status, 400)

    def test_success_headers_and_languages(self):
        token = self.get_token()
        status, headers, data = self.api("/icd/release/11/2024-01/mms", token)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(headers["Api-Version"], "v2.6.0")
        self.assertEqual(headers["Cache-Control"], "public,max-age=36000")
        self.assertEqual(headers["Vary"], "Accept, Accept-Language, API-Version")
        self.assertEqual(json.loads(data)["child"][0], "http://id.who.int/icd/release/11/2024-01/mms/1435254666")
        for lang in ("xx", "de"):  # unknown, and German before 2026-01
            self.assertEqual(self.api("/icd/release/11/2024-01/mms", token, lang)[0], 404)
        self.assertEqual(self.api("/icd/release/11/2026-01/mms", token, "de")[0], 200)
        self.assertEqual(self.api("/icd/release/11/2017-01/mms", token)[0], 404)
        self.assertEqual(self.api("/icd/release/11/2024-01/xyz", token)[0], 404)
        self.assertEqual(self.api("/nowhere", token)[0], 404)

    # -- data endpoints

    def test_search_cholera_en_fr(self):
        token = self.get_token()
        found = self.api_json("/icd/release/11/2024-01/mms/search?q=cholera", token)
        first = found["destinationEntities"][0]
        self.assertEqual((first["theCode"], first["title"]), ("1A00", "<em class='found'>Cholera</em>"))
        self.assertEqual(first["id"], "http://id.who.int/icd/release/11/2024-01/mms/257068234")
        self.assertFalse(found["error"])
        found = self.api_json("/icd/release/11/2024-01/mms/search?q=cholera&highlightingEnabled=false", token, "fr")
        self.assertEqual(found["destinationEntities"][0]["title"], "Choléra")
        found = self.api_json("/icd/release/11/2024-01/mms/search", token, method="POST",
                              body="q=paludisme%20falc%25", extra=FORM, lang="fr")
        self.assertEqual([e["theCode"] for e in found["destinationEntities"]], ["1F40"])
        # The search parameters live in the query (OpenAPI); a JSON body is ignored.
        found = self.api_json("/icd/release/11/2024-01/mms/search?q=malaria", token, method="POST",
                              body=json.dumps({"q": "cholera"}), extra={"Content-Type": "application/json"})
        self.assertEqual(len(found["destinationEntities"]), 7)
        checked = self.api_json("/icd/release/11/2024-01/codedit", token, method="POST",
                                body=json.dumps({"causes": [{"code": "1A00"}, {"code": "ZZ99"}]}),
                                extra={"Content-Type": "application/json"})
        self.assertEqual(checked["report"], "Codes found: 1A00")
        self.assertEqual(sorted(checked), ["issueIds", "report", "tabularReport"])
        failed = self.api_json("/icd/release/11/2024-01/mms/search?q=", token)
        self.assertTrue(failed["error"])
        self.assertTrue(failed["errorMessage"])

    def test_codeinfo_matches_recordings(self):
        token = self.get_token()
        for code, name in (("1F4Z", "codeinfo_1F4Z_mms_2023-01.json"), ("FB32.5", "codeinfo_FB32.5_mms_2023-01.json")):
            want = json.loads(recorded(name))
            got = self.api_json("/icd/release/11/2023-01/mms/codeinfo/%s?flexiblemode=false" % code, token)
            self.assertEqual(got["code"], want["code"])
            self.assertEqual(got["stemId"].replace("2023-01", "2022-02"), want["stemId"])
            # asked for the release the recording names, the answer is byte for byte the recording
            status, _, data = self.api("/icd/release/11/2022-02/mms/codeinfo/%s?flexiblemode=false" % code, token)
            self.assertEqual(data, recorded(name))
        self.assertEqual(self.api("/icd/release/11/2023-01/mms/codeinfo/ZZ99", token)[0], 404)

    def test_codeinfo_percent_encoded_amp_and_slash(self):
        token = self.get_token()
        for raw, code in (("1A00%26XN6P4", "1A00&XN6P4"), ("1A00%2F1A01", "1A00/1A01")):
            got = self.api_json("/icd/release/11/2024-01/mms/codeinfo/" + raw, token)
            self.assertEqual((got["code"], got["stemCode"]), (code, "1A00"))
            self.assertTrue(got["stemId"].endswith("/mms/257068234"))
        # an unencoded slash is a path separator, as on the real server
        self.assertEqual(self.api("/icd/release/11/2024-01/mms/codeinfo/1A00/1A01", token)[0], 404)
        entry = self.admin("GET", "log")["requests"][1]
        self.assertEqual(entry["target"], "/icd/release/11/2024-01/mms/codeinfo/1A00%26XN6P4")
        self.assertEqual(entry["path"], "/icd/release/11/2024-01/mms/codeinfo/1A00&XN6P4")

    def test_entity_and_following_child_uris(self):
        token = self.get_token()
        status, _, data = self.api("/icd/release/11/2022-02/mms/1439886552", token)
        self.assertEqual(data, recorded("mms_entity_1439886552_malaria_2023-01.json"))
        malaria = self.api_json("/icd/release/11/2024-01/mms/1439886552", token, "fr")
        self.assertEqual(malaria["title"], {"@language": "fr", "@value": "Paludisme"})
        prefix = "http://id.who.int"
        for uri in malaria["child"]:
            self.assertTrue(uri.startswith(prefix + "/icd/release/11/2024-01/mms/"))
            child = self.api_json(uri[len(prefix):], token)
            self.assertEqual(child["parent"], [malaria["@id"]])
            self.assertTrue(child["code"].startswith("1F4"))
        parent = self.api_json(malaria["parent"][0][len(prefix):], token)
        self.assertIn(malaria["@id"], parent["child"])

    def test_other_endpoints(self):
        token = self.get_token()
        coded = self.api_json("/icd/release/11/2024-01/mms/autocode?searchText=Cholera", token)
        self.assertEqual((coded["theCode"], coded["matchScore"]), ("1A00", 1.0))
        missed = self.api_json("/icd/release/11/2024-01/mms/autocode?searchText=xyzzy", token)
        self.assertIsNone(missed["theCode"])
        looked = self.api_json("/icd/release/11/2024-01/mms/lookup?foundationUri="
                               "http%3A%2F%2Fid.who.int%2Ficd%2Fentity%2F257068234", token)
        self.assertEqual(looked["code"], "1A00")
        self.assertEqual(self.api_json("/icd/entity/257068234", token, "fr")["title"]["@value"], "Choléra")
        self.assertEqual(len(self.api_json("/icd/release/11/mms", token)["release"]), 9)
        self.assertEqual(self.api_json("/icd/release/10/2019/A00", token, "fr")["title"]["@value"], "Choléra")
        self.assertEqual(self.api("/icd/release/10/2019/Z99", token)[0], 404)

    def test_search_parameters_shape_the_answer(self):
        token = self.get_token()
        base = "/icd/release/11/2024-01/mms/search?q=malaria&highlightingEnabled=false"
        flat = self.api_json(base + "&medicalCodingMode=false", token)["destinationEntities"]
        self.assertIn("Malaria", [e["title"] for e in flat])
        self.assertTrue(all("<em" not in e["title"] for e in flat))
        self.assertTrue(all(e["descendants"] == [] for e in flat))
        nested = self.api_json(base + "&medicalCodingMode=false&flatResults=false&somethingNew=1", token)
        tops = nested["destinationEntities"]
        self.assertEqual([e["title"] for e in tops], ["Malaria"], "the categories nest in their block")
        self.assertEqual(len(tops[0]["descendants"]), len(flat) - 1)
        self.assertTrue(all(d["theCode"].startswith("1F4") for d in tops[0]["descendants"]))
        self.assertEqual(self.api_json(base + "&chapterFilter=15", token)["destinationEntities"], [])
        self.assertEqual(len(self.api_json(base + "&chapterFilter=01;15", token)["destinationEntities"]), 7)
        wildcards = self.api_json("/icd/release/11/2024-01/mms/search?q=%25", token)
        self.assertEqual((wildcards["error"], wildcards["errorMessage"]), (True, "The search text (q) is empty."))

    def test_release_list_and_icd10_shapes(self):
        token = self.get_token()
        listing = self.api_json("/icd/release/11/mms", token)
        self.assertEqual(sorted(listing), ["@context", "@id", "latestRelease", "release", "title"])
        self.assertEqual(listing["release"][0], "http://id.who.int/icd/release/11/2026-01/mms")
        self.assertEqual(listing["latestRelease"], listing["release"][0])
        for code, kind, parent in (("A00.0", "category", "A00"), ("A00-A09", "block", "I"), ("I", "chapter", None)):
            entity = self.api_json("/icd/release/10/2016/" + code, token)
            self.assertEqual((entity["code"], entity["classKind"]), (code, kind))
            self.assertEqual(entity["@id"], "http://id.who.int/icd/release/10/2016/" + code)
            want = "http://id.who.int/icd/release/10/2016" + ("/" + parent if parent else "")
            self.assertEqual(entity["parent"], [want])
            self.assertTrue(entity["browserUrl"].startswith("https://icd.who.int/browse10/2016/en"))
        self.assertEqual(self.api("/icd/release/10/2019/A00", token, "es")[0], 404, "ICD-10: en and fr only")

    def test_serving_only_chosen_releases(self):
        token = self.get_token()
        self.admin("POST", "config", {"releases": ["2024-01", "2023-01"]})
        listing = self.api_json("/icd/release/11/mms", token)
        self.assertEqual(listing["release"], ["http://id.who.int/icd/release/11/2024-01/mms",
                                              "http://id.who.int/icd/release/11/2023-01/mms"])
        self.assertEqual(self.api("/icd/release/11/2026-01/mms/search?q=cholera", token)[0], 404)
        self.assertEqual(self.api("/icd/release/11/2024-01/mms/search?q=cholera", token)[0], 200)
        self.assertEqual(self.api_json("/icd/entity", token)["releaseId"], "2024-01")
        status, _, _ = self.request("POST", "/_admin/config", body=json.dumps({"releases": ["1999"]}))
        self.assertEqual(status, 400)
        self.admin("POST", "reset")
        self.assertEqual(len(self.api_json("/icd/release/11/mms", token)["release"]), 9)

    def test_escaped_non_ascii_on_demand(self):
        token = self.get_token()
        target = "/icd/release/11/2024-01/mms/257068234"
        self.assertIn("Choléra".encode(), self.api(target, token, "fr")[2])
        self.admin("POST", "config", {"escape_non_ascii": True})
        data = self.api(target, token, "fr")[2]
        self.assertIn(b"Chol\\u00e9ra", data)
        self.assertEqual(json.loads(data)["title"]["@value"], "Choléra")

    # -- test support

    def test_fault_status_with_retry_after_is_used_up(self):
        token = self.get_token()
        self.admin("POST", "fault", {"match": "/2024-01/mms", "kind": "status", "status": 429, "retry_after": "2"})
        status, headers, _ = self.api("/icd/release/11/2024-01/mms", token)
        self.assertEqual((status, headers["Retry-After"]), (429, "2"))
        self.assertEqual(self.api("/icd/release/11/2024-01/mms", token)[0], 200)

    def test_fault_drop_and_reset(self):
        for kind in ("drop", "reset"):
            self.admin("POST", "fault", {"match": "/icd/", "kind": kind})
            with self.assertRaises((http.client.HTTPException, OSError)):
                self.api("/icd/release/10")
        statuses = [(r["fault"], r["status"]) for r in self.admin("GET", "log")["requests"]]
        self.assertEqual(statuses, [("drop", None), ("reset", None)])

    def test_fault_truncate_huge_header_hang(self):
        token = self.get_token()
        self.admin("POST", "fault", [{"match": "/icd/", "kind": "truncate"},
                                     {"match": "/icd/", "kind": "huge_header", "bytes": 5000},
                                     {"match": "/icd/", "kind": "hang", "seconds": 0.3}])
        with self.assertRaises(http.client.IncompleteRead):
            self.api("/icd/release/10", token)
        status, headers, _ = self.api("/icd/release/10", token)
        self.assertEqual((status, len(headers["X-Huge"])), (200, 5000))
        started = time.monotonic()
        self.assertEqual(self.api("/icd/release/10", token)[0], 200)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)

    def test_fault_echo_delay_and_any_token(self):
        self.admin("POST", "fault", {"match": "/connect/token", "kind": "echo", "status": 502, "delay_ms": 300})
        started = time.monotonic()
        status, _, data = self.request("POST", "/connect/token", FORM, TOKEN_FORM)
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(status, 502)
        text = data.decode("utf-8")
        self.assertTrue(text.startswith("POST /connect/token\n"), text)
        self.assertIn(TOKEN_FORM, text)
        # any_token: the API takes a token it never issued (and the log shows which).
        self.assertEqual(self.api("/icd/release/10", "made-up")[0], 401)
        self.admin("POST", "config", {"any_token": True, "expires_in": 3600.5})
        self.assertEqual(self.api("/icd/release/10", "made-up")[0], 200)
        self.assertEqual(self.admin("GET", "log")["requests"][-1]["headers"]["authorization"], "Bearer made-up")
        status, _, data = self.request("POST", "/connect/token", FORM, TOKEN_FORM)
        self.assertEqual(json.loads(data)["expires_in"], 3600.5)

    def test_log_records_headers_and_keep_alive(self):
        token = self.get_token()
        conn = self.connection()
        for _ in range(2):  # both on one connection
            self.assertEqual(self.api("/icd/release/11/2024-01/mms?x=1&y=", token)[0], 200)
            headers = {"API-Version": "v2", "Authorization": "Bearer " + token}
            self.request("GET", "/icd/release/10", headers, conn=conn)
        conn.close()
        log = self.admin("GET", "log")["requests"]
        self.assertEqual([r["seq"] for r in log], [1, 2, 3, 4, 5])
        self.assertTrue(log[0]["token_issued"])
        self.assertIn("grant_type=client_credentials", log[0]["body"])
        self.assertEqual(log[1]["headers"]["authorization"], "Bearer " + token)
        self.assertEqual(log[1]["headers"]["api-version"], "v2")
        self.assertEqual(log[1]["query"], {"x": ["1"], "y": [""]})
        self.assertEqual(log[1]["status"], 200)

    def test_revoke_and_expiry_config(self):
        token = self.get_token()
        self.admin("POST", "revoke")
        self.assertEqual(self.api("/icd/release/10", token)[0], 401)
        self.assertEqual(self.api("/icd/release/10", self.get_token())[0], 200)
        self.admin("POST", "config", {"expires_in": 0, "cache_control": None})
        body = urlencode(dict(CLIENT, grant_type="client_credentials"))  # no scope: all allowed scopes
        status, _, data = self.request("POST", "/connect/token", FORM, body)
        self.assertEqual(json.loads(data)["expires_in"], 0)
        self.assertEqual(self.api("/icd/release/10", json.loads(data)["access_token"])[0], 401)
        self.admin("POST", "config", {"expires_in": 5})
        status, headers, _ = self.api("/icd/release/10", self.get_token())
        self.assertEqual(status, 200)
        self.assertIsNone(headers.get("Cache-Control"))
        stats = self.admin("GET", "stats")
        self.assertGreaterEqual(stats.pop("connections"), 1)
        self.assertEqual(stats, {"tokens_issued": 4, "token_requests": 4, "api_requests": 4, "api_401": 2})

    def test_connections_are_counted(self):
        before = self.admin("GET", "stats")["connections"]  # this admin request's own connection
        conn = self.connection()
        try:
            for _ in range(3):  # three requests, one kept-alive connection
                self.assertEqual(self.request("GET", "/_admin/health", conn=conn)[0], 200)
        finally:
            conn.close()
        self.assertEqual(self.admin("GET", "stats")["connections"], before + 2)  # + the one above + this one


class LocalTest(StandinCase):
    args = ("--local",)

    def test_no_token_but_accept_required(self):
        self.assertEqual(self.api("/icd/release/11/2024-01/mms/257068234")[0], 200)
        status, _, _ = self.request("GET", "/icd/release/11/2024-01/mms/257068234", {"API-Version": "v2"})
        self.assertEqual(status, 412)
        self.assertEqual(self.request("POST", "/connect/token", FORM, "grant_type=client_credentials")[0], 404)


class StartByHandTest(unittest.TestCase):
    """scripts/standin.sh, the README's offline first hour: the environment it prints works."""

    SCRIPT = os.path.join(HERE, "..", "..", "scripts", "standin.sh")

    def printed(self, *args):
        """Starts the script; returns (process, {variable: value}) once it has printed its exports."""
        proc = subprocess.Popen(["bash", self.SCRIPT, "--port", "0", *args], stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (proc.terminate(), proc.wait(5), proc.stdout.close()))
        # select() cannot see lines already buffered by the text reader: a thread reads instead.
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
        exports, text = {}, ""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            text += line
            if line.startswith("export "):
                name, value = line[len("export "):].strip().split("=", 1)
                exports[name] = value
            elif exports and not line.strip():
                return proc, exports, text
        self.fail("standin.sh printed no exports within 10 s:\n" + text)

    def test_cloud_environment_fetches_a_token_and_answers(self):
        _, env, text = self.printed()
        self.assertIn("1A00", text)  # it says what it holds
        self.assertIn("A00.0", text)
        base = env["ICD_API_BASE"]
        self.assertEqual(env["ICD_TOKEN_ENDPOINT"], base + "/connect/token")
        host, port = base[len("http://"):].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        form = urlencode({"client_id": env["ICD_CLIENT_ID"], "client_secret": env["ICD_CLIENT_SECRET"],
                          "grant_type": "client_credentials", "scope": "icdapi_access"})
        conn.request("POST", "/connect/token", body=form, headers=FORM)
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        token = json.loads(response.read())["access_token"]
        conn.request("GET", "/icd/release/11/2026-01/mms/codeinfo/1A00",
                     headers={"Authorization": "Bearer " + token, "Accept": "application/json",
                              "API-Version": "v2", "Accept-Language": "en"})
        response = conn.getresponse()
        self.assertEqual(response.status, 200)
        self.assertIn("stemId", json.loads(response.read()))
        conn.close()

    def test_local_environment_needs_no_credentials(self):
        _, env, _ = self.printed("--local")
        self.assertEqual(set(env), {"ICD_API_BASE"})
        host, port = env["ICD_API_BASE"][len("http://"):].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        conn.request("GET", "/icd/release/10/2019/A00", headers={"Accept": "application/json", "API-Version": "v2",
                                                                  "Accept-Language": "en"})
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()


@unittest.skipUnless(shutil.which("openssl"), "openssl is needed to make a test certificate")
class TlsTest(StandinCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cert, key = os.path.join(cls.tmp.name, "cert.pem"), os.path.join(cls.tmp.name, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert], check=True, capture_output=True)
        cls.args = ("--tls-cert", cert, "--tls-key", key)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.tmp.cleanup()

    def test_https(self):
        self.assertEqual(self.scheme, "https")
        self.assertEqual(self.api("/icd/release/11/2024-01/mms", self.get_token())[0], 200)
        with socket.create_connection((self.host, self.port), timeout=5) as plain:  # plain http is refused
            plain.sendall(b"GET /_admin/health HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertNotIn(b'"ok"', plain.recv(1000))


if __name__ == "__main__":
    unittest.main(verbosity=2)


class CommandLineTest(unittest.TestCase):
    def test_releases_and_escapes_from_the_command_line(self):
        proc, host, port, _ = start_standin("--local", "--releases", "2024-01", "--escape-non-ascii")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            headers = {"Accept": "application/json", "API-Version": "v2", "Accept-Language": "fr"}
            conn.request("GET", "/icd/release/11/mms", headers=headers)
            listing = json.loads(conn.getresponse().read())
            self.assertEqual(listing["release"], ["http://id.who.int/icd/release/11/2024-01/mms"])
            conn.request("GET", "/icd/release/11/2024-01/mms/257068234", headers=headers)
            self.assertIn(b"Chol\\u00e9ra", conn.getresponse().read())
            conn.close()
        finally:
            stop_standin(proc)
        bad = subprocess.run([sys.executable, SERVER, "--releases", "1999"], capture_output=True, text=True)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("--releases takes some of", bad.stderr)
