#!/usr/bin/env python3
"""Local stand-in for the WHO ICD API (token endpoint + /icd/ API), for tests and demos.

Standard library only (Debian's python3 3.11). Tests start it as a subprocess and read the one
line `LISTENING http://127.0.0.1:PORT` from stdout; it binds to loopback only, never calls out,
and serves until SIGTERM/SIGINT. It copies the real API where clients trip: form-only token
requests, a plain-text 401, the required API-Version header, http://id.who.int URIs in every
answer, 200 on failed searches, percent-encoded `&` and `/` in codes, per-release languages.
The data set (data/icd_data.json) is a small consistent subset of ICD-11 MMS and ICD-10.
Searches take the API's parameters (highlightingEnabled=false: plain titles without
<em class='found'>; flatResults=false: hits nested in their ancestors' "descendants";
chapterFilter, subtreesFilter, medicalCodingMode, includeKeywordResult) and ignore unknown ones,
as WHO does; a query of wildcards only ("%") answers 200 with "error": true, as does the fault
json_error_200 for any request. GET /icd/release/11/{lin} lists the releases served (all, or
those of --releases) with latestRelease; /icd/release/10/{release}/{code} serves ICD-10
categories, blocks, chapters. Entities list every parent (one of the data set has several: ICD-11
is a DAG) and their children; .../describe?code=|uri= answers a PostcoordinationSet.
GET /icd/release/11/{release}/doris and /codedit take a death certificate's fields as the query
and answer in the OpenAPI file's shapes, by a simple rule that is NOT WHO's DORIS
(CERTIFICATE_RULE below, also in README.md): the underlying cause is the first cause of the lowest
used line of Part 1; no cause in Part 1, or an unknown code, is a rejection.

    python3 icd_standin.py [--host 127.0.0.1] [--port 0] [--client-id ID] [--client-secret S]
                           [--expires-in 3600] [--local] [--tls-cert PEM --tls-key PEM] [--quiet]
                           [--releases 2024-01[,...]] [--escape-non-ascii]

Test support, JSON in and out, no auth, never logged or faulted:
  GET  /_admin/health   {"ok":true}
  GET  /_admin/log      {"requests":[{seq, method, target (raw), path (decoded), query (parse_qs),
                         headers (lower-case names), body, status (null if none was sent),
                         token_issued, fault (kind applied or null)}]} - every non-admin request
  GET  /_admin/stats    {"tokens_issued","token_requests","api_requests" (paths under /icd/),"api_401",
                        "connections" (TCP connections accepted, admin ones included)}
  GET  /_admin/config   current configuration;  GET /_admin/faults  faults still queued
  POST /_admin/config   any of expires_in, cache_control (null: no header), delay_ms,
                        token_delay_ms, client_id, client_secret, local, escape_non_ascii
                        (\u00e9 escapes for non-ASCII in JSON answers), releases (a list of the
                        ICD-11 releases served, as --releases; null: all)
  POST /_admin/revoke   every token issued so far answers 401 from now on
  POST /_admin/reset    clears log, stats, faults and revocations; config back to the command line
  POST /_admin/fault    {"match": substring of the request target ("" = any), "kind": ...,
                         "count": N (default 1; 0 or less = until reset), "headers": {extra}, ...}
                        or a list of such objects. First matching fault wins. Kinds:
      status (status, retry_after, body, content_type) | hang (seconds=30, then answers normally)
      non_json | large (bytes=10 MiB) | drop | reset (TCP RST) | truncate (half the body)
      huge_header (bytes=100000, header X-Huge) | redirect (location, status=302)
      token_no_expiry (token answer without expires_in) | json_error_200 (message)
"""

import argparse
import base64
import difflib
import http.server
import ipaddress
import json
import os
import re
import secrets
import signal
import socket
import ssl
import struct
import sys
import threading
import time
import traceback
import unicodedata
import uuid
from urllib.parse import parse_qs, quote, unquote

WHO = "http://id.who.int"  # answers always name the real host; clients must rewrite URIs
API_VERSION = "v2.6.0"
JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
TOKEN_TYPE = "application/json; charset=utf-8"
TOKEN_CACHE = "no-store, no-cache, max-age=0"
VARY = "Accept, Accept-Language, API-Version"
# Byte copy of the recorded 401 body (shared/fixtures/recorded/error_401_unauthorized_body.txt).
UNAUTHORIZED = (b"Authentication failed. The request must include a valid and non-expired bearer "
                b"token in the Authorization header.\n")
NO_TRANSLATION = " [No translation available]"

ICD11_RELEASES = ["2026-01", "2025-01", "2024-01", "2023-01", "2022-02", "2021-05", "2020-09",
                  "2019-04", "2018"]  # newest first, as the API lists them
ICD10_RELEASES = ["2019", "2016", "2010", "2008"]
ICD10_LANGUAGES = {"en", "fr"}  # the API serves ICD-10 in English and French only
ICD11_LANGUAGES = {"ar", "cs", "en", "es", "fr", "kk", "la", "pt", "ru", "sk", "sv", "tr", "uz", "zh"}
LINEARIZATIONS = {  # icf exists (top level, search) but the data set holds no ICF entity
    "mms": {"en": "ICD-11 for Mortality and Morbidity Statistics",
            "fr": "CIM-11 pour les statistiques de mortalité et de morbidité",
            "es": "CIE-11 para estadísticas de mortalidad y morbilidad"},
    "icf": {"en": "International Classification of Functioning, Disability and Health",
            "fr": "Classification internationale du fonctionnement, du handicap et de la santé"},
}
FOUNDATION_TITLE = {"en": "ICD-11 Foundation", "fr": "Fondation de la CIM-11"}
ICD10_TITLE = {"en": "International Statistical Classification of Diseases and Related Health "
                     "Problems 10th Revision",
               "fr": "Classification statistique internationale des maladies et des problèmes de "
                     "santé connexes, 10e révision"}
CTX = "http://id.who.int/icd/contexts/"
RESIDUALS = ("other", "unspecified")
FAULT_KINDS = {"status", "hang", "non_json", "large", "drop", "reset", "truncate", "huge_header",
               "redirect", "token_no_expiry", "json_error_200"}


# The stand-in's rule for death certificates (GET .../doris and .../codedit). It is NOT WHO's
# DORIS: no selection or modification rules, only enough to give clients real answers to read.
CERTIFICATE_RULE = """\
- The underlying cause is the first cause of the lowest used line of Part 1 (E, then D, C, B, A):
  causeOfDeathCode{line} (comma-separated codes, the first taken, a postcoordinated code kept
  whole as "code" with its stem as "stemCode"), or else causeOfDeathUri{line}. Part 2 never
  gives the underlying cause.
- Rejected ("reject": true, "error" saying why, no code): no cause in Part 1, or a code or URI
  that the data set does not hold.
- "warning": "Sex is not given (field sex)." when sex is missing; otherwise null.
- A value of an integer field (sex, surgeryWasPerformed, ...) that is not an integer: 400.
- codedit: issueIds lists C0 (no cause in Part 1), U1 (an unknown code or URI), S1 (sex 1 and
  maternalDeathWasPregnant 1); report and tabularReport say the same in words ("No issue found.").
- Unknown parameters are ignored, as WHO's API does."""
INTEGER_FIELDS = ("sex", "surgeryWasPerformed", "autopsyWasRequested", "autopsyFindings", "mannerOfDeath",
                  "mannerOfDeathPlaceOfOccuranceExternalCause", "fetalOrInfantDeathMultiplePregnancy",
                  "fetalOrInfantDeathStillborn", "fetalOrInfantDeathDeathWithin24h",
                  "fetalOrInfantDeathBirthWeight", "fetalOrInfantDeathPregnancyWeeks",
                  "fetalOrInfantDeathAgeMother", "maternalDeathWasPregnant", "maternalDeathTimeFromPregnancy",
                  "maternalDeathPregnancyContribute")


def languages_11(release):
    # 2018 was published in English only; German arrived (as prerelease) with 2026-01.
    if release == "2018":
        return {"en"}
    return ICD11_LANGUAGES | ({"de"} if release == "2026-01" else set())


def release_date(release):
    # Two dates are known; the others are placeholders (the first of the release's month).
    return {"2018": "2018-06-18", "2025-01": "2025-01-24"}.get(release, release + "-01")


class ApiError(Exception):
    """An answer other than 200 from the API routes: plain text, like the real API."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status, self.message = status, message


class Answer:
    def __init__(self, status, body=b"", content_type=None, headers=None):
        self.status, self.body, self.content_type = status, body, content_type
        self.headers = list(headers or [])
        self.token_issued = False


# ----------------------------------------------------------------------------------------------
# Texts and search


def lst(texts, lang):
    """JSON-LD language-specific text; a missing translation is answered as the live API does."""
    if lang in texts:
        return {"@language": lang, "@value": texts[lang]}
    return {"@language": lang, "@value": texts["en"] + NO_TRANSLATION}


def foundation_uri(eid):
    # A residual ("123/other") has no foundation entity of its own: it points at its parent's.
    return f"{WHO}/icd/entity/{eid.split('/')[0]}"


def index_terms(e, lang):
    """(property, text) pairs that search and autocode match: the title, then the synonyms."""
    title = e["title"].get(lang, e["title"]["en"])
    return [("Title", title)] + [("Synonym", s) for s in e.get("synonyms", {}).get(lang, [])]


def fold_map(text):
    """Accent- and case-folded text plus, per folded char, the index of its source char.

    Folding is what lets "cholera" find "Choléra"; the map puts highlights back on the original.
    """
    out, where = [], []
    for i, ch in enumerate(text):
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        for c in base.casefold():
            out.append(c)
            where.append(i)
    return "".join(out), where


def fold(text):
    return fold_map(text)[0]


def match_spans(text, words):
    """Spans (in `text`) matching every query word, or None. `word%` = word-prefix wildcard."""
    folded, where = fold_map(text)
    spans = []
    for word in words:
        prefix = word.endswith("%")
        needle = fold(word.rstrip("%"))
        if not needle:
            continue
        pos = folded.find(needle)
        while prefix and pos > 0 and folded[pos - 1].isalnum():
            pos = folded.find(needle, pos + 1)
        if pos < 0:
            return None
        end = pos + len(needle)
        while prefix and end < len(folded) and folded[end].isalnum():
            end += 1
        spans.append((where[pos], where[end - 1] + 1))
    merged = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(text, spans):
    out, last = [], 0
    for start, end in spans:
        out += [text[last:start], "<em class='found'>", text[start:end], "</em>"]
        last = end
    return "".join(out + [text[last:]])


def pv_score(text, query, spans):
    if fold(text) == fold(query.replace("%", "")):
        return 1.0
    covered = sum(end - start for start, end in spans)
    return round(0.3 + 0.6 * covered / max(len(text), 1), 4)


def similarity(query, term):
    a, b = fold(query).strip(), fold(term)
    if a == b:
        return 1.0
    ratio = difflib.SequenceMatcher(None, a, b).ratio()
    if all(w in b for w in a.split()):
        ratio = max(ratio, 0.8 + 0.2 * ratio)  # every word present: a good match whatever the order
    return round(ratio, 4)


def truthy(value, default):
    if value is None or value == "":
        return default
    return str(value).strip().lower() in ("true", "1", "yes")


# ----------------------------------------------------------------------------------------------
# The data set


class Catalog:
    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        self.icd11 = {e["id"]: e for e in data["icd11"]}
        self.children = {i: [] for i in self.icd11}
        self.chapters = []
        for e in data["icd11"]:  # file order is code order, so children come out sorted
            (self.children[e["parent"]] if e["parent"] else self.chapters).append(e["id"])
        for e in data["icd11"]:  # ICD-11 is a DAG: an entity listed under more than one parent
            for other in e.get("otherParents", []):
                self.children[other].append(e["id"])
        self.by_code = {e["code"].upper(): e for e in data["icd11"]
                        if e.get("code") and e["classKind"] != "chapter"}
        self.icd10 = {e["code"].upper(): e for e in data["icd10"]}
        self.children10 = {c: [] for c in self.icd10}
        self.chapters10 = []
        for e in data["icd10"]:
            (self.children10[e["parent"].upper()] if e["parent"] else self.chapters10).append(e["code"])

    def parents(self, eid):
        """Every parent, the primary first (the one `ancestors` and `chapter` follow)."""
        e = self.icd11[eid]
        return ([e["parent"]] if e["parent"] else []) + e.get("otherParents", [])

    def ancestors(self, eid):
        out, parent = [], self.icd11[eid]["parent"]
        while parent:
            out.append(parent)
            parent = self.icd11[parent]["parent"]
        return out

    def descendants(self, eid):
        out = []
        for kid in self.children[eid]:
            out += [kid] + self.descendants(kid)
        return out

    def chapter(self, eid):
        top = ([eid] + self.ancestors(eid))[-1]
        return self.icd11[top].get("code")

    def foundation_ids(self):
        return [i for i in self.icd11 if "/" not in i]


# ----------------------------------------------------------------------------------------------
# Shared state: configuration, tokens, request log, statistics, faults — all behind one lock.


class State:
    def __init__(self, defaults):
        self.lock = threading.Lock()
        self.defaults = dict(defaults)
        self.config = dict(defaults)
        self.tokens = {}  # token -> {"expires": monotonic deadline, "revoked": bool}
        self.log, self.faults, self.seq = [], [], 0
        self.stats = self._zero_stats()

    @staticmethod
    def _zero_stats():
        return {"tokens_issued": 0, "token_requests": 0, "api_requests": 0, "api_401": 0, "connections": 0}

    def reset(self):
        with self.lock:
            self.config = dict(self.defaults)
            self.log, self.faults, self.seq = [], [], 0
            self.stats = self._zero_stats()
            for record in self.tokens.values():
                record["revoked"] = False

    def snapshot(self):
        with self.lock:
            return dict(self.config)

    def configure(self, changes):
        with self.lock:
            self.config.update(changes)
            return dict(self.config)

    def issue_token(self, client_id, expires_in):
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT"}
        payload = {"nbf": now, "exp": now + expires_in, "iss": "https://icdaccessmanagement.who.int",
                   "aud": ["https://icdaccessmanagement.who.int/resources", "icdapi"],
                   "client_id": client_id, "scope": ["icdapi_access"], "jti": secrets.token_hex(16)}
        token = ".".join([b64url(compact(header)), b64url(compact(payload)),
                          b64url(secrets.token_bytes(256))])  # random "signature": never verified
        with self.lock:
            self.tokens[token] = {"expires": time.monotonic() + expires_in, "revoked": False}
            self.stats["tokens_issued"] += 1
        return token

    def token_valid(self, token):
        with self.lock:
            record = self.tokens.get(token)
            return bool(record) and not record["revoked"] and time.monotonic() < record["expires"]

    def revoke_all(self):
        with self.lock:
            for record in self.tokens.values():
                record["revoked"] = True
            return len(self.tokens)

    def begin(self, entry, counter):
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            self.log.append(entry)
            if counter:
                self.stats[counter] += 1

    def count_connection(self):
        with self.lock:
            self.stats["connections"] += 1

    def finish(self, entry, status, counted_401):
        with self.lock:
            entry["status"] = status
            if counted_401 and status == 401:
                self.stats["api_401"] += 1

    def take_fault(self, target):
        with self.lock:
            for fault in self.faults:
                if fault["match"] in target:
                    if fault["remaining"] > 0:  # 0 or less when queued = never used up
                        fault["remaining"] -= 1
                        if fault["remaining"] == 0:
                            self.faults.remove(fault)
                    return dict(fault)
        return None

    def read(self, what):
        with self.lock:
            return json.loads(json.dumps(getattr(self, what)))  # deep copy taken under the lock


def compact(obj, ascii_only=False):
    return json.dumps(obj, ensure_ascii=ascii_only, separators=(",", ":")).encode("utf-8")


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


CONFIG_TYPES = {"expires_in": int, "delay_ms": int, "token_delay_ms": int, "client_id": str,
                "client_secret": str, "cache_control": (str, type(None)), "local": bool,
                "escape_non_ascii": bool, "releases": (list, type(None))}


# ----------------------------------------------------------------------------------------------
# HTTP


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every answer carries Content-Length
    server_version = "icd-standin/1"
    timeout = 300  # idle keep-alive connections give their thread back eventually
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK hold the body back ~40 ms on every keep-alive request.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        self.state.count_connection()
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()  # here, in the connection's thread, not in accept()

    def log_message(self, fmt, *args):
        if not self.server.quiet:
            sys.stderr.write("%s - [%s] %s\n" % (self.address_string(), self.log_date_time_string(),
                                                 fmt % args))

    def do_GET(self):
        self.handle_request()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    @property
    def state(self):
        return self.server.state

    @property
    def catalog(self):
        return self.server.catalog

    # -- plumbing -------------------------------------------------------------------------------

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send_answer(self, answer, truncate=False):
        self.send_response(answer.status)
        if answer.content_type:
            self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if truncate:  # promise the whole body, deliver half, hang up
            self.wfile.write(answer.body[: len(answer.body) // 2])
            self.hang_up()
        else:
            self.wfile.write(answer.body)

    def hang_up(self, reset=False):
        self.close_connection = True
        if reset:  # linger 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        else:
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.connection.close()

    def json_answer(self, obj):
        config = self.state.snapshot()
        headers = [("Api-Version", API_VERSION), ("Vary", VARY)]
        if config["cache_control"] is not None:
            headers.append(("Cache-Control", config["cache_control"]))
        return Answer(200, compact(obj, config["escape_non_ascii"]), JSON_TYPE, headers)

    # -- dispatch -------------------------------------------------------------------------------

    def handle_request(self):
        target = self.path
        path, _, query = target.partition("?")
        body = self.read_body()
        if path == "/_admin" or path.startswith("/_admin/"):
            return self.send_answer(self.admin(path, body))

        is_token = path == "/connect/token"
        is_api = path == "/icd" or path.startswith("/icd/")
        entry = {"seq": 0, "method": self.command, "target": target, "path": unquote(path),
                 "query": parse_qs(query, keep_blank_values=True),
                 "headers": {}, "body": body.decode("utf-8", "replace"), "status": None,
                 "token_issued": False, "fault": None}
        for name, value in self.headers.items():
            name = name.lower()
            seen = entry["headers"].get(name)
            entry["headers"][name] = value if seen is None else seen + ", " + value
        self.state.begin(entry, "token_requests" if is_token else "api_requests" if is_api else None)

        fault = self.state.take_fault(target)
        kind = fault["kind"] if fault else None
        entry["fault"] = kind
        if kind in ("drop", "reset"):
            return self.hang_up(reset=kind == "reset")
        if kind == "hang":
            time.sleep(float(fault.get("seconds", 30)))
        answer = self.fault_answer(fault) if fault else None
        if answer is None:
            try:
                answer = self.route(path, query, body, omit_expiry=kind == "token_no_expiry")
            except ApiError as err:
                headers = [("Api-Version", API_VERSION)] if is_api else []
                answer = Answer(err.status, err.message.encode("utf-8"), TEXT_TYPE, headers)
            except Exception:  # a stand-in bug: say so loudly, but still answer the client
                traceback.print_exc()
                answer = Answer(500, b"icd_standin internal error (see its stderr)", TEXT_TYPE)
        if kind == "huge_header":
            answer.headers.append(("X-Huge", "x" * int(fault.get("bytes", 100000))))

        config = self.state.snapshot()
        delay = config["token_delay_ms"] if is_token else config["delay_ms"] if is_api else 0
        if delay > 0:
            time.sleep(delay / 1000)
        entry["token_issued"] = answer.token_issued
        self.state.finish(entry, answer.status, counted_401=is_api)
        self.send_answer(answer, truncate=kind == "truncate")

    def fault_answer(self, fault):
        """The canned answer of a fault that replaces the real one, or None."""
        kind, extra = fault["kind"], list(fault.get("headers", {}).items())
        if kind == "status":
            status = int(fault.get("status", 500))
            if fault.get("retry_after") is not None:
                extra.append(("Retry-After", str(fault["retry_after"])))
            body = fault.get("body")
            if body is None:
                body = "%d %s" % (status, self.responses.get(status, ("Error",))[0])
            return Answer(status, body.encode("utf-8"), fault.get("content_type", TEXT_TYPE), extra)
        if kind == "non_json":
            return Answer(200, b"<html><head><title>Service Unavailable</title></head><body>"
                               b"<h1>The service is temporarily unavailable.</h1></body></html>",
                          "text/html; charset=utf-8", extra)
        if kind == "large":
            size = int(fault.get("bytes", 10 * 1024 * 1024))
            head, tail = b'{"padding":"', b'"}'
            body = head + b"x" * max(0, size - len(head) - len(tail)) + tail
            return Answer(200, body, JSON_TYPE, extra)
        if kind == "redirect":
            return Answer(int(fault.get("status", 302)), b"", None,
                          extra + [("Location", fault["location"])])
        if kind == "json_error_200":
            message = fault.get("message", "An error occurred while processing the request.")
            return Answer(200, compact({"error": True, "errorMessage": message}), JSON_TYPE, extra)
        return None

    def route(self, path, query, body, omit_expiry):
        if path == "/connect/token" and not self.state.snapshot()["local"]:
            return self.token(body, omit_expiry)
        segments = [unquote(s) for s in path.split("/")[1:]]  # split first: %2F stays inside a segment
        if len(segments) > 1 and segments[-1] == "":
            segments.pop()
        if segments and segments[0] == "icd":
            return self.api(segments[1:], query, body)
        raise ApiError(404, "Not found: %s" % unquote(path))

    # -- token endpoint -------------------------------------------------------------------------

    def token(self, body, omit_expiry):
        config = self.state.snapshot()

        def error(code):
            return Answer(400, compact({"error": code}), TOKEN_TYPE,
                          [("Cache-Control", TOKEN_CACHE), ("Pragma", "no-cache")])

        # Same order of checks as the real server (IdentityServer): request shape, client, grant.
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if self.command != "POST" or content_type != "application/x-www-form-urlencoded":
            return error("invalid_request")
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        client_id, secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization") or ""
        if auth[:6].lower() == "basic ":
            try:
                pair = base64.b64decode(auth[6:].strip(), validate=True).decode("utf-8")
                client_id, _, secret = (unquote(p.replace("+", " ")) for p in pair.partition(":"))
            except ValueError:
                return error("invalid_client")
        if not client_id or client_id != config["client_id"] or secret != config["client_secret"]:
            return error("invalid_client")
        if form.get("grant_type") != "client_credentials":
            return error("unsupported_grant_type")
        if "scope" in form and set(form["scope"].split()) != {"icdapi_access"}:
            return error("invalid_scope")  # a missing scope gets every allowed scope, as for real
        token = self.state.issue_token(client_id, config["expires_in"])
        reply = {"access_token": token, "expires_in": config["expires_in"], "token_type": "Bearer"}
        if omit_expiry:
            del reply["expires_in"]
        answer = Answer(200, compact(reply), TOKEN_TYPE,
                        [("Cache-Control", TOKEN_CACHE), ("Pragma", "no-cache")])
        answer.token_issued = True
        return answer

    # -- API ------------------------------------------------------------------------------------

    def api(self, segs, query, body):
        config = self.state.snapshot()
        if config["local"]:
            accept = (self.headers.get("Accept") or "").lower()
            if "json" not in accept and "*/*" not in accept:
                raise ApiError(412, "Precondition Failed: the Accept header must accept application/json.")
        else:
            auth = self.headers.get("Authorization") or ""
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
            if not token or not self.state.token_valid(token):
                return Answer(401, UNAUTHORIZED, None,  # no Content-Type: the real 401 has none
                              [("WWW-Authenticate", "Bearer"), ("Api-Version", API_VERSION)])
        if (self.headers.get("API-Version") or "").strip().lower() != "v2":
            raise ApiError(400, "The API-Version header is required: send 'API-Version: v2'. "
                                "Requests without it (and API-Version v1) are not supported.")
        params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if self.command == "POST" and segs and segs[-1] == "search":
            # The OpenAPI file puts every search parameter in the query; a form body is taken too,
            # any other body (JSON, say) is ignored, as the real API ignores it.
            if (self.headers.get("Content-Type") or "").startswith("application/x-www-form-urlencoded"):
                params.update(self.body_params(body))
        elif self.command == "POST" and len(segs) == 4 and segs[:2] == ["release", "11"] and segs[3] == "codedit":
            return self.codedit(segs[2], body)
        elif self.command != "GET":
            raise ApiError(405, "Method %s is not allowed here." % self.command)
        if len(segs) == 4 and segs[:2] == ["release", "11"] and segs[3] in ("doris", "codedit"):
            return self.certificate(segs[2], segs[3], params)

        if segs[:1] == ["entity"]:
            return self.foundation(segs[1:], params)
        if segs[:2] == ["release", "11"]:
            return self.icd11(segs[2:], params)
        if segs[:2] == ["release", "10"]:
            return self.icd10(segs[2:])
        raise ApiError(404, "Not found.")

    def body_params(self, body):
        text = body.decode("utf-8", "replace").strip()
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}

    def codedit(self, release, body):
        """POST /icd/release/11/{release}/codedit: a death certificate (JSON) checked by the
        DORIS coding-edit rules; the answer has the DeathCertificateCheckResult shape. The stand-in
        only reports which codes of its data set the certificate mentions."""
        if release not in self.served_releases():
            raise ApiError(404, "Release not found: %s" % release)
        if not (self.headers.get("Content-Type") or "").startswith(("application/json", "text/json")):
            raise ApiError(415, "Unsupported Media Type: the death certificate is JSON.")
        try:
            certificate = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ApiError(400, "The death certificate is not valid JSON.")
        if not isinstance(certificate, dict):
            raise ApiError(400, "The death certificate must be a JSON object.")
        known = {e["code"] for e in self.catalog.icd11.values() if e.get("code")}
        found = sorted(known & set(re.findall(r"[0-9A-Z]{2}[0-9A-Z]{2}(?:\.[0-9A-Z]+)?", json.dumps(certificate))))
        report = "Codes found: %s" % (", ".join(found) if found else "none")
        return self.json_answer({"report": report, "tabularReport": report, "issueIds": ""})

    # -- death certificates: GET .../doris and .../codedit ---------------------------------------

    def certificate(self, release, endpoint, params):
        """GET /icd/release/11/{release}/doris or /codedit with the certificate's fields as the
        query, answered in the shapes of the OpenAPI file (UnderlyingCauseOfDeath,
        DeathCertificateCheckResult). This is NOT DORIS: see CERTIFICATE_RULE. Like WHO's API, it
        ignores parameters it does not know (the library checks names before sending)."""
        if release not in self.served_releases():
            raise ApiError(404, "Release not found: %s" % release)
        self.language(languages_11(release))
        for name in INTEGER_FIELDS:  # ASP.NET's model binding refuses what is not an int32
            value = params.get(name, "").strip()
            if value and not re.fullmatch(r"[+-]?\d{1,9}", value):
                raise ApiError(400, "The value '%s' is not valid for %s." % (params[name], name))
        base = f"{WHO}/icd/release/11/{release}/mms"
        causes, issues = [], []  # causes: (line, code, stem entity) of Part 1, lowest line first
        for line in "EDCBA":
            for code, entity in self.line_causes(params, line, base, issues):
                causes.append((line, code, entity))
        part2 = self.line_causes(params, "Part2", base, issues)
        sex = params.get("sex", "").strip()
        if not causes:
            issues.append(("C0", "No cause of death in Part 1 (lines A to E)."))
        if sex == "1" and params.get("maternalDeathWasPregnant", "").strip() == "1":
            issues.append(("S1", "A male (sex 1) is reported pregnant."))
        if endpoint == "codedit":
            report = "\n".join("%s: %s" % issue for issue in issues) or "No issue found."
            return self.json_answer({"report": report, "tabularReport": report,
                                     "issueIds": ",".join(i for i, _ in issues)})
        warning = None if sex else "Sex is not given (field sex)."
        unknown = [text for i, text in issues if i == "U1"]
        if unknown or not causes:
            error = " ".join(unknown) if unknown else "No cause of death in Part 1 (lines A to E)."
            return self.json_answer({"stemCode": None, "stemURI": None, "code": None, "uri": None,
                                     "report": "Rejected: " + error, "tabularReport": "Rejected\t" + error,
                                     "reject": True, "error": error, "warning": warning})
        line, code, entity = causes[0]
        stem_uri = f"{base}/{entity['id']}"
        rest = code[len(code.split("&")[0]):]
        table = "\n".join("%s\t%s" % (l, c) for l, c, _ in causes) + "".join("\nPart2\t%s" % c for c, _ in part2)
        return self.json_answer({
            "stemCode": entity["code"], "stemURI": stem_uri, "code": code, "uri": stem_uri + rest,
            "report": "Underlying cause: %s (the lowest used line of Part 1, line %s)." % (code, line),
            "tabularReport": table, "reject": False, "error": None, "warning": warning})

    def line_causes(self, params, line, base, issues):
        """The causes of one line, [(code as written, stem entity)], from causeOfDeathCode{line}
        (comma-separated codes) or else causeOfDeathUri{line} (comma-separated URIs); an unknown
        code or URI is an issue U1."""
        out = []
        for code in filter(None, (c.strip() for c in params.get("causeOfDeathCode" + line, "").split(","))):
            entity = self.catalog.by_code.get(re.split(r"[&/]", code)[0].upper())
            if entity is None:
                issues.append(("U1", "Unknown code %s on line %s." % (code, line)))
            else:
                out.append((code, entity))
        for uri in filter(None, (u.strip() for u in params.get("causeOfDeathUri" + line, "").split(","))):
            found = re.search(r"/(\d+(?:/other|/unspecified)?)(?:&.*)?$", uri)
            entity = self.catalog.icd11.get(found.group(1)) if found else None
            if entity is None or not entity.get("code"):
                issues.append(("U1", "Unknown URI %s on line %s." % (uri, line)))
            else:
                out.append((entity["code"], entity))
        return out

    def served_releases(self):
        """The ICD-11 releases this server holds, newest first: all of them, or those chosen with
        --releases / the admin config "releases" (as a local container holds those of include=)."""
        chosen = self.state.snapshot()["releases"]
        return [r for r in ICD11_RELEASES if chosen is None or r in chosen]

    def language(self, available):
        """Most preferred Accept-Language tag (primary subtag); 404 if the release lacks it."""
        best, best_q = "en", -1.0
        for part in (self.headers.get("Accept-Language") or "").split(","):
            tag, _, weight = part.strip().partition(";")
            try:
                q = float(weight.strip()[2:]) if weight.strip().startswith("q=") else 1.0
            except ValueError:
                q = 0.0
            if tag and q > best_q:
                best, best_q = tag.split("-")[0].lower(), q
        lang = "en" if best == "*" else best
        if lang not in available:
            raise ApiError(404, "Requested language (%s) is not available in this release." % lang)
        return lang

    # -- ICD-11 linearizations ------------------------------------------------------------------

    def icd11(self, segs, params):
        if segs and segs[0] in LINEARIZATIONS:  # /release/11/{lin}[/{id}[/{residual}]]
            lin, rest = segs[0], segs[1:]
            lang = self.language(languages_11(self.served_releases()[0]))
            if not rest:
                return self.multi_version(f"/{lin}", lst(LINEARIZATIONS[lin], lang), "TopLevel")
            entity = self.find_entity(lin, rest)
            return self.multi_version(f"/{lin}/{entity['id']}", lst(entity["title"], lang),
                                      "LinearizationEntity")
        if len(segs) < 2 or segs[0] not in self.served_releases():
            raise ApiError(404, "Release not found: %s" % (segs[0] if segs else ""))
        release, lin, rest = segs[0], segs[1], segs[2:]
        if lin not in LINEARIZATIONS:
            raise ApiError(404, "Linearization not found: %s" % lin)
        lang = self.language(languages_11(release))
        base = f"{WHO}/icd/release/11/{release}/{lin}"
        if not rest:
            return self.json_answer({
                "@context": CTX + "contextForTopLevel.json", "@id": base,
                "title": lst(LINEARIZATIONS[lin], lang), "releaseId": release,
                "availableLanguages": sorted(languages_11(release)), "releaseDate": release_date(release),
                "child": [f"{base}/{c}" for c in self.catalog.chapters] if lin == "mms" else [],
                "browserUrl": f"https://icd.who.int/browse/{release}/{lin}/{lang}"})
        ids = list(self.catalog.icd11) if lin == "mms" else []
        codable = [i for i in ids if self.catalog.icd11[i]["classKind"] == "category"]
        if rest == ["search"]:  # medical coding mode (the default) finds only entities with a code
            coding_mode = truthy(params.get("medicalCodingMode"), True)
            return self.json_answer(self.search(codable if coding_mode else ids, params, lang, base))
        if rest == ["autocode"]:
            return self.json_answer(self.autocode(codable, params, lang, base))
        if rest == ["lookup"]:
            return self.lookup(release, lin, params, lang)
        if len(rest) == 2 and rest[0] == "codeinfo":
            return self.codeinfo(base, lin, rest[1])
        if rest == ["describe"]:
            return self.describe(base, lin, params, lang)
        entity = self.find_entity(lin, rest)
        include = params.get("include", "")
        return self.json_answer(self.linearization_entity(release, lin, entity, lang, include))

    def find_entity(self, lin, rest):
        eid = "/".join(rest)
        residual_ok = len(rest) == 1 or (len(rest) == 2 and rest[1] in RESIDUALS)
        if lin != "mms" or not rest[0].isdigit() or not residual_ok or eid not in self.catalog.icd11:
            raise ApiError(404, "Entity not found: %s" % eid)
        return self.catalog.icd11[eid]

    def multi_version(self, tail, title, context, family="11"):
        """Which releases hold `tail` (a linearization or an entity), newest first."""
        releases = [f"{WHO}/icd/release/{family}/{r}{tail}"
                    for r in (self.served_releases() if family == "11" else ICD10_RELEASES)]
        return self.json_answer({"@context": f"{CTX}contextFor{context}.json",
                                 "@id": f"{WHO}/icd/release/{family}{tail}", "title": title,
                                 "release": releases, "latestRelease": releases[0]})

    def linearization_entity(self, release, lin, e, lang, include):
        cat, eid = self.catalog, e["id"]
        base = f"{WHO}/icd/release/11/{release}/{lin}"
        d = {"@context": CTX + "contextForLinearizationEntity.json", "@id": f"{base}/{eid}",
             "parent": [f"{base}/{p}" for p in cat.parents(eid)] or [base]}
        if cat.children[eid]:
            d["child"] = [f"{base}/{k}" for k in cat.children[eid]]
        if release <= "2022-02":  # older releases answered with the old browser's URL form
            escaped = re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(),
                             quote(foundation_uri(eid), safe=""))
            d["browserUrl"] = f"https://icd.who.int/browse11/l-m/{lang}#/{escaped}"
        else:
            d["browserUrl"] = f"https://icd.who.int/browse/{release}/{lin}/{lang}#{eid}"
        d["code"] = e.get("code", "")
        if "/" not in eid:  # residual categories have no foundation entity of their own
            d["source"] = foundation_uri(eid)
        d["classKind"] = e["classKind"]
        for key in ("blockId", "codeRange"):
            if key in e:
                d[key] = e[key]
        if "postcoordinationScale" in e:
            d["postcoordinationScale"] = [{
                "@id": f"{base}/{eid}/postcoordinationScale/{s['axis']}",
                "axisName": f"{WHO}/icd/schema/{s['axis']}", "requiredPostcoordination": "false",
                "allowMultipleValues": "AllowAlways",
                "scaleEntity": [f"{base}/{x}" for x in s["scaleEntity"]]} for s in e["postcoordinationScale"]]
        if "foundationChildElsewhere" in e:
            d["foundationChildElsewhere"] = [{
                "label": lst(t["label"], lang), "foundationReference": foundation_uri(t["foundation"]),
                "linearizationReference": f"{base}/{t['linearization']}"}
                for t in e["foundationChildElsewhere"]]
        self.add_texts(d, e, lang)
        if "relatedEntitiesInPerinatalChapter" in e:
            d["relatedEntitiesInPerinatalChapter"] = [
                foundation_uri(x) for x in e["relatedEntitiesInPerinatalChapter"]]
        if "codingNote" in e:
            d["codingNote"] = lst(e["codingNote"], lang)
        if e.get("synonyms"):
            d["indexTerm"] = [{"label": {"@language": lang, "@value": t}} for _, t in index_terms(e, lang)]
        if "ancestor" in include:
            d["ancestor"] = [f"{base}/{a}" for a in cat.ancestors(eid)]
        if "descendant" in include:
            d["descendant"] = [f"{base}/{x}" for x in cat.descendants(eid)]
        return d

    @staticmethod
    def add_texts(d, e, lang):
        d["title"] = lst(e["title"], lang)
        if "definition" in e:
            d["definition"] = lst(e["definition"], lang)
        if "inclusion" in e:
            d["inclusion"] = [{"label": lst(t, lang)} for t in e["inclusion"]]
        if "fullySpecifiedName" in e:
            d["fullySpecifiedName"] = lst(e["fullySpecifiedName"], lang)

    def codeinfo(self, base, lin, code):
        stem = self.catalog.by_code.get(code.upper())
        parts = re.split(r"[&/]", code)
        composite = stem is None and len(parts) > 1
        if composite:  # postcoordinated: the stand-in knows only the stem, the first code
            stem = self.catalog.by_code.get(parts[0].upper())
        if lin != "mms" or stem is None:
            raise ApiError(404, "The code %s could not be found in this release." % code)
        info = {"@context": CTX + "contextForCodeInfo.json", "@id": f"{base}/codeinfo/{quote(code, safe='')}",
                "code": code}
        if composite:
            info["stemCode"] = stem["code"]
        info["stemId"] = f"{base}/{stem['id']}"
        return self.json_answer(info)

    def describe(self, base, lin, params, lang):
        """GET .../describe?code= or ?uri= (a PostcoordinationSet). The stand-in knows stems only:
        a combination ("1A00&XN8P1", or URIs joined by &) is described as its stem with the
        other parts under otherPostcoordination, where flexiblemode puts values of unknown axes."""
        code, uri = params.get("code"), params.get("uri")
        if not code and not uri:
            raise ApiError(400, "Either the code or the uri parameter is required.")
        parts = [p for p in re.split(r"[&/]" if code else r"[&]", (code or uri).strip()) if p]
        if uri:
            found = re.search(r"/(?:entity|mms)/(\d+(?:/(?:other|unspecified))?)$", parts[0])
            stem = self.catalog.icd11.get(found.group(1)) if found else None
        else:
            stem = self.catalog.by_code.get(parts[0].upper())
        if lin != "mms" or stem is None:
            raise ApiError(404, "%s could not be found in this release." % (code or uri))
        entity = {"code": stem["code"], "linearizationUri": f"{base}/{stem['id']}",
                  "foundationUri": foundation_uri(stem["id"]), "label": lst(stem["title"], lang)["@value"]}
        if len(parts) == 1:
            return self.json_answer(dict(entity, postcoordinationValues=[]))
        others = [{"code": p} if code else {"linearizationUri": p} for p in parts[1:]]
        return self.json_answer({
            "code": code or None, "linearizationUri": None if code else uri, "foundationUri": None,
            "label": " & ".join([entity["label"]] + parts[1:]), "stemCode": entity["code"],
            "stemLinearizationUri": entity["linearizationUri"], "stemFoundationUri": entity["foundationUri"],
            "stemLabel": entity["label"],
            "postcoordinationValues": [{"axisName": f"{WHO}/icd/schema/otherPostcoordination", "values": others}]})

    def lookup(self, release, lin, params, lang):
        uri = params.get("foundationUri")
        if not uri:
            raise ApiError(400, "The foundationUri parameter is required.")
        found = re.search(r"/entity/(\d+)$", uri.strip())
        eid = found.group(1) if found else None
        if lin != "mms" or eid not in self.catalog.icd11:
            raise ApiError(404, "No entity of this linearization is derived from %s" % uri)
        # A grouping without a code maps to its "unspecified" residual, as the real endpoint does.
        if not self.catalog.icd11[eid].get("code") and eid + "/unspecified" in self.catalog.icd11:
            eid += "/unspecified"
        return self.json_answer(self.linearization_entity(release, lin, self.catalog.icd11[eid], lang, ""))

    # -- search and autocode (linearization and foundation share them) --------------------------

    def in_filters(self, eid, params):
        cat = self.catalog
        chapters = {c.strip() for c in re.split(r"[;,]", params.get("chapterFilter", "")) if c.strip()}
        if chapters and cat.chapter(eid) not in chapters:
            return False
        roots = {m.group(1) for u in params.get("subtreesFilter", "").split(",")
                 for m in [re.search(r"(\d+(?:/(?:other|unspecified))?)/?$", u.strip())] if m}
        return not roots or bool(roots & ({eid} | set(cat.ancestors(eid))))

    def search(self, ids, params, lang, base):
        q = (params.get("q") or "").strip()
        result = {"destinationEntities": [], "error": False, "errorMessage": None, "resultChopped": False,
                  "wordSuggestionsChopped": False, "guessType": 0, "uniqueSearchId": str(uuid.uuid4()),
                  "words": None}
        words = [w for w in q.split() if w.strip("%")]
        if not words:  # the real API answers 200 and reports the failure in the body
            result.update(destinationEntities=None, error=True, errorMessage="The search text (q) is empty.")
            return result
        marks = truthy(params.get("highlightingEnabled"), True)
        foundation = base is None
        hits = []
        for eid in ids:
            e = self.catalog.icd11[eid]
            if not self.in_filters(eid, params):
                continue
            terms = index_terms(e, lang)
            pvs = []
            for prop, text in terms:
                spans = match_spans(text, words)
                if spans is not None:
                    score = round(pv_score(text, q, spans) * (1 if prop == "Title" else 0.9), 4)
                    pvs.append((score, prop, highlight(text, spans) if marks else text))
            code = fold(e.get("code") or "") if not foundation else ""
            code_hit = code and any(code.startswith(fold(w[:-1])) if w.endswith("%") else code == fold(w)
                                    for w in words)
            if not pvs and not code_hit:
                continue
            pvs.sort(key=lambda p: -p[0])
            score = max([p[0] for p in pvs] + ([1.0] if code_hit else []))
            title_pv = next((p for p in pvs if p[1] == "Title"), None)
            uri = foundation_uri(eid) if foundation else f"{base}/{eid}"
            hits.append((-score, e.get("code") or "", eid, {
                "id": uri, "title": title_pv[2] if title_pv else terms[0][1], "stemId": uri,
                "isLeaf": not self.catalog.children[eid],
                "postcoordinationAvailability": e.get("postcoordination", 0),
                "hasCodingNote": "codingNote" in e, "hasMaternalChapterLink": False,
                "hasPerinatalChapterLink": "relatedEntitiesInPerinatalChapter" in e,
                "matchingPVs": [{"propertyId": prop, "label": label, "score": s, "important": s == 1.0,
                                 "foundationUri": foundation_uri(eid), "propertyValueType": 0}
                                for s, prop, label in pvs],
                "propertiesTruncated": False, "isResidualOther": eid.endswith("/other"),
                "isResidualUnspecified": eid.endswith("/unspecified"), "chapter": self.catalog.chapter(eid),
                "theCode": None if foundation else e.get("code"), "score": score,
                "titleIsASearchResult": title_pv is not None,
                "titleIsTopScore": title_pv is not None and title_pv[0] == pvs[0][0],
                "entityType": 0, "important": score == 1.0, "descendants": []}))
        hits.sort(key=lambda h: (h[0], h[1]))
        result["destinationEntities"] = [h[3] for h in hits]
        if not truthy(params.get("flatResults"), True):
            result["destinationEntities"] = self.nest(hits)
        if truthy(params.get("includeKeywordResult"), False):
            stem = fold(words[-1].rstrip("%"))
            texts = [text for i in ids for _, text in index_terms(self.catalog.icd11[i], lang)]
            seen = sorted({w.strip(",.()[]").lower() for t in texts for w in t.split()
                           if fold(w).startswith(stem)})
            result["words"] = [{"label": w, "dontChangeResult": False} for w in seen]
        return result

    def nest(self, hits):
        """flatResults=false: each hit goes into the "descendants" of its nearest ancestor that is
        a hit too; only the others stay at the top, as the API nests its hierarchical results."""
        entries = {eid: entry for _, _, eid, entry in hits}
        top = []
        for _, _, eid, entry in hits:
            parent = next((a for a in self.catalog.ancestors(eid) if a in entries), None)
            (entries[parent]["descendants"] if parent else top).append(entry)
        return top

    def autocode(self, ids, params, lang, base):
        text = (params.get("searchText") or "").strip()
        try:
            threshold = float(params.get("matchThreshold") or 0.75)
        except ValueError:
            raise ApiError(400, "matchThreshold must be a number between 0 and 1.")
        best = None
        for eid in ids if text else []:
            e = self.catalog.icd11[eid]
            if not self.in_filters(eid, params):
                continue
            for prop, term in index_terms(e, lang):
                score, is_title = similarity(text, term), prop == "Title"
                if best is None or (score, is_title) > (best[0], best[2]):
                    best = (score, term, is_title, eid)
        if best is None or best[0] < threshold:  # schema: numbers and enums are never null
            return {"searchText": text, "matchingText": None, "theCode": None, "foundationURI": None,
                    "linearizationURI": None, "matchLevel": 0, "matchScore": 0, "matchType": 0,
                    "isTitle": False}
        score, term, is_title, eid = best
        e = self.catalog.icd11[eid]
        if base is None:  # the foundation endpoint still names the MMS entity and its code
            base = f"{WHO}/icd/release/11/{self.served_releases()[0]}/mms"
        return {"searchText": text, "matchingText": term, "theCode": e.get("code") or None,
                "foundationURI": foundation_uri(eid), "linearizationURI": f"{base}/{eid}",
                "matchLevel": 0 if score == 1.0 else 1, "matchScore": score, "matchType": 0,
                "isTitle": is_title}

    # -- Foundation -----------------------------------------------------------------------------

    def foundation(self, segs, params):
        release = params.get("releaseId") or self.served_releases()[0]
        if release not in self.served_releases():
            raise ApiError(404, "Release not found: %s" % release)
        lang = self.language(languages_11(release))
        ids = self.catalog.foundation_ids()
        if not segs:
            return self.json_answer({
                "@context": CTX + "contextForTopLevel.json", "@id": f"{WHO}/icd/entity",
                "title": lst(FOUNDATION_TITLE, lang), "releaseId": release,
                "availableLanguages": sorted(languages_11(release)), "releaseDate": release_date(release),
                "child": [foundation_uri(c) for c in self.catalog.chapters],
                "browserUrl": f"https://icd.who.int/browse/{release}/foundation/{lang}",
                "supportedLinearizations": sorted(LINEARIZATIONS),
                "allReleases": [f"{WHO}/icd/entity?releaseId={r}" for r in self.served_releases()]})
        if segs == ["search"]:
            return self.json_answer(self.search(ids, params, lang, None))
        if segs == ["autocode"]:
            return self.json_answer(self.autocode(ids, params, lang, None))
        if len(segs) != 1 or segs[0] not in ids:
            raise ApiError(404, "Entity not found: %s" % "/".join(segs))
        eid, e = segs[0], self.catalog.icd11[segs[0]]
        d = {"@context": CTX + "contextForFoundationEntity.json", "@id": foundation_uri(eid),
             "parent": [foundation_uri(p) for p in self.catalog.parents(eid)] or [f"{WHO}/icd/entity"]}
        kids = [k for k in self.catalog.children[eid] if "/" not in k]  # residuals are MMS-only
        if kids:
            d["child"] = [foundation_uri(k) for k in kids]
        d["browserUrl"] = f"https://icd.who.int/browse/{release}/foundation/{lang}#{eid}"
        self.add_texts(d, e, lang)
        if e.get("synonyms", {}).get(lang):
            d["synonym"] = [{"label": {"@language": lang, "@value": s}} for s in e["synonyms"][lang]]
        include = params.get("include", "")
        if "ancestor" in include:
            d["ancestor"] = [foundation_uri(a) for a in self.catalog.ancestors(eid)]
        if "descendant" in include:
            d["descendant"] = [foundation_uri(x) for x in self.catalog.descendants(eid) if "/" not in x]
        return self.json_answer(d)

    # -- ICD-10 ---------------------------------------------------------------------------------

    def icd10(self, segs):
        lang = self.language(ICD10_LANGUAGES)
        if not segs:
            return self.multi_version("", lst(ICD10_TITLE, lang), "TopLevel", family="10")
        if len(segs) == 1 and segs[0] not in ICD10_RELEASES:  # /10/{code}: releases holding it
            e = self.icd10_entity(segs[0])
            return self.multi_version("/" + e["code"], lst(e["title"], lang), "TopLevel", family="10")
        if segs[0] not in ICD10_RELEASES or len(segs) > 2:
            raise ApiError(404, "Not found.")
        release, base = segs[0], f"{WHO}/icd/release/10/{segs[0]}"
        if len(segs) == 1:
            return self.json_answer({
                "@context": CTX + "contextForTopLevel.json", "@id": base, "title": lst(ICD10_TITLE, lang),
                "releaseId": release,
                "child": [f"{base}/{c}" for c in self.catalog.chapters10],
                "browserUrl": f"https://icd.who.int/browse10/{release}/{lang}"})
        e = self.icd10_entity(segs[1])
        d = {"@context": CTX + "contextForIcd10Entity.json", "@id": f"{base}/{e['code']}",
             "parent": [f"{base}/{e['parent']}" if e["parent"] else base]}
        kids = self.catalog.children10[e["code"].upper()]
        if kids:
            d["child"] = [f"{base}/{k}" for k in kids]
        d["browserUrl"] = f"https://icd.who.int/browse10/{release}/{lang}#/{e['code']}"
        d["code"], d["classKind"] = e["code"], e["classKind"]
        self.add_texts(d, e, lang)
        return self.json_answer(d)

    def icd10_entity(self, code):
        e = self.catalog.icd10.get(code.upper())
        if e is None:
            raise ApiError(404, "ICD-10 code not found: %s" % code)
        return e

    # -- admin ----------------------------------------------------------------------------------

    def admin(self, path, body):
        def reply(obj, status=200):
            return Answer(status, compact(obj), JSON_TYPE, [("Cache-Control", "no-store")])

        name, method = path[len("/_admin/"):].strip("/"), self.command
        routes = {("health", "GET"), ("log", "GET"), ("stats", "GET"), ("config", "GET"), ("faults", "GET"),
                  ("reset", "POST"), ("config", "POST"), ("revoke", "POST"), ("fault", "POST")}
        if (name, method) not in routes:
            allowed = sorted(m for n, m in routes if n == name)
            if allowed:
                return reply({"error": "use " + " or ".join(allowed)}, 405)
            return reply({"error": "unknown admin endpoint"}, 404)
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError:
            return reply({"error": "the body is not JSON"}, 400)
        state = self.state
        if name == "health":
            return reply({"ok": True})
        if name == "log":
            return reply({"requests": state.read("log")})
        if name == "stats":
            return reply(state.read("stats"))
        if name == "faults":
            return reply({"faults": state.read("faults")})
        if name == "reset":
            state.reset()
            return reply({"ok": True})
        if name == "revoke":
            return reply({"ok": True, "revoked": state.revoke_all()})
        if name == "config":
            if method == "POST":
                for key, value in data.items():
                    wanted = CONFIG_TYPES.get(key)
                    bool_for_int = wanted is int and isinstance(value, bool)  # bool is an int in Python
                    if wanted is None or not isinstance(value, wanted) or bool_for_int:
                        return reply({"error": "bad config entry: %s" % key}, 400)
                    if key == "releases" and value is not None and (
                            not value or not set(value) <= set(ICD11_RELEASES)):
                        return reply({"error": "releases: a non-empty list of " + ", ".join(ICD11_RELEASES)}, 400)
                return reply({"ok": True, "config": state.configure(data)})
            return reply(state.snapshot())
        faults = data if isinstance(data, list) else [data]
        for fault in faults:
            if not isinstance(fault, dict) or fault.get("kind") not in FAULT_KINDS:
                return reply({"error": "kind must be one of " + ", ".join(sorted(FAULT_KINDS))}, 400)
            if fault["kind"] == "redirect" and not fault.get("location"):
                return reply({"error": "a redirect fault needs a location"}, 400)
            if not isinstance(fault.get("count", 1), int) or not isinstance(fault.get("headers", {}), dict):
                return reply({"error": "count must be an integer and headers an object"}, 400)
        with state.lock:
            for fault in faults:
                fault = dict(fault, match=str(fault.get("match", "")), count=fault.get("count", 1))
                fault["remaining"] = fault["count"]
                state.faults.append(fault)
            queued = len(state.faults)
        return reply({"ok": True, "queued": queued})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a hanging answer must never keep the process alive
    block_on_close = False
    # socketserver's default backlog is 5: dozens of threads reconnecting at once (after resets,
    # say) overflow it, and each dropped SYN costs the client a 1 s retransmission.
    request_queue_size = 256

    def server_bind(self):
        # HTTPServer.server_bind would call getfqdn(), a reverse DNS lookup: skip it.
        http.server.socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address):
        # Clients that hang up, reset or fail TLS are routine in these tests: one line, no trace.
        error = sys.exc_info()[1]
        if isinstance(error, (OSError, ssl.SSLError)):
            if not self.quiet:
                sys.stderr.write("%s - connection error: %r\n" % (client_address[0], error))
        else:
            super().handle_error(request, client_address)


class Server6(Server):
    address_family = socket.AF_INET6


def loopback_host(host):
    if host == "localhost":
        return "127.0.0.1"
    try:
        if ipaddress.ip_address(host).is_loopback:
            return host
    except ValueError:
        pass
    sys.exit("icd_standin: --host must be a loopback address (127.0.0.0/8 or ::1), not %r" % host)


def environment_to_paste(url, args, catalog):
    """What a person starting the stand-in by hand needs: what it serves and how to point at it."""
    icd11 = ", ".join(e["code"] for e in catalog.by_code.values())
    icd10 = ", ".join(e["code"] for e in catalog.icd10.values())
    chosen = [r.strip() for r in (args.releases or "").split(",")]
    served = [r for r in ICD11_RELEASES if not args.releases or r in chosen]
    lines = [
        "",
        "The local stand-in of the WHO ICD API is serving %s until you press Ctrl-C." % url,
        "It answers like WHO's API (same paths, headers, errors, JSON-LD) from a small data set:",
        "  ICD-11 MMS codes %s," % icd11,
        "    in releases %s, languages %s;" % (", ".join(served), ", ".join(sorted(ICD11_LANGUAGES))),
        "  ICD-10 %s, releases %s, languages %s." % (icd10, ", ".join(ICD10_RELEASES),
                                                      ", ".join(sorted(ICD10_LANGUAGES))),
        "Paste this into the shell where you run your program:",
        "",
    ]
    if args.local:
        lines += ["export ICD_API_BASE=%s" % url,
                  "# a local deployment: create the client with icd_client_new_local(NULL) (or the",
                  "# binding's local client), which reads ICD_API_BASE; no credentials are needed"]
    else:
        lines += ["export ICD_CLIENT_ID=%s" % args.client_id,
                  "export ICD_CLIENT_SECRET=%s" % args.client_secret,
                  "export ICD_API_BASE=%s" % url,
                  "export ICD_TOKEN_ENDPOINT=%s/connect/token" % url]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description="Local stand-in for the WHO ICD API (tests and demos).")
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port; 0 picks a free one (default)")
    parser.add_argument("--client-id", default="standin-client")
    parser.add_argument("--client-secret", default="standin-secret")
    parser.add_argument("--expires-in", type=int, default=3600, help="token lifetime in seconds")
    parser.add_argument("--local", action="store_true", help="act like WHO's local container: no token")
    parser.add_argument("--tls-cert", help="PEM certificate: serve https")
    parser.add_argument("--tls-key", help="PEM private key for --tls-cert")
    parser.add_argument("--quiet", action="store_true", help="no access log on stderr")
    parser.add_argument("--print-env", action="store_true",
                        help="after LISTENING, print what the stand-in holds and the environment to paste "
                             "into another shell (scripts/standin.sh, for people rather than tests)")
    parser.add_argument("--escape-non-ascii", action="store_true",
                        help="write non-ASCII characters in JSON answers as \\u escapes (\\u00e9 for é), "
                             "as some servers do; the admin config escape_non_ascii switches it too")
    parser.add_argument("--releases", help="serve only these ICD-11 releases (comma-separated, e.g. "
                                           "2024-01), as a local container started with include= does")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    releases = None
    if args.releases is not None:
        releases = [r.strip() for r in args.releases.split(",") if r.strip()]
        unknown = [r for r in releases if r not in ICD11_RELEASES]
        if unknown or not releases:
            parser.error("--releases takes some of " + ", ".join(ICD11_RELEASES))

    host = loopback_host(args.host)
    server = (Server6 if ":" in host else Server)((host, args.port), Handler)
    server.quiet = args.quiet
    here = os.path.dirname(os.path.abspath(__file__))
    server.catalog = Catalog(os.path.join(here, "data", "icd_data.json"))
    server.state = State({"expires_in": args.expires_in, "cache_control": "public,max-age=36000",
                          "delay_ms": 0, "token_delay_ms": 0, "client_id": args.client_id,
                          "client_secret": args.client_secret, "local": args.local,
                          "escape_non_ascii": args.escape_non_ascii, "releases": releases})
    scheme = "http"
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        scheme = "https"

    def stop(signum, frame):
        raise KeyboardInterrupt  # unwinds serve_forever() in this (the main) thread

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    port = server.server_address[1]
    url = "%s://%s:%d" % (scheme, "[%s]" % host if ":" in host else host, port)
    print("LISTENING " + url, flush=True)
    if args.print_env:
        print(environment_to_paste(url, args, server.catalog), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
