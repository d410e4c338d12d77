"""Fixtures of the Python suite: the local stand-in of the WHO ICD API as a child process (with its
/_admin endpoints), clients pointed at it, and the environment a command-line run gets.

Run by bindings/python/run-tests.sh, which installs the package into a venv first; nothing here
touches the network beyond 127.0.0.1.
"""

import itertools
import json
import os
import subprocess
import sys
import urllib.request
from typing import Any, Dict, Iterator, List, Optional

import pytest

import icdapi

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
STANDIN = os.path.join(ROOT, "tools", "standin", "icd_standin.py")
SECRET = "standin-secret"
# Each test gets credentials of its own (the stand-in is told to accept them): the library shares
# a token between the clients of a process with the same credentials, and a test that counts
# token fetches must start from none.
_client_ids = itertools.count(1)


class StandIn:
    """tools/standin/icd_standin.py on a free loopback port."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, STANDIN, "--port", "0", "--quiet", *args],
                                        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        line = self.process.stdout.readline()  # type: ignore[union-attr]
        if not line.startswith("LISTENING "):
            self.process.kill()
            raise RuntimeError("the stand-in did not start: %r" % line)
        self.url = line.split()[1]
        self.client_id = "standin-client"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)

    def admin(self, name: str, data: Any = None) -> Any:
        request = urllib.request.Request(
            self.url + "/_admin/" + name, method="GET" if data is None else "POST",
            data=None if data is None else json.dumps(data).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as answer:
            return json.loads(answer.read())

    def new_test(self) -> None:
        """A clean slate: no log, stats, faults or delays, and credentials no client used yet."""
        self.admin("reset", {})
        self.client_id = "python-test-%d-%d" % (os.getpid(), next(_client_ids))
        self.admin("config", {"client_id": self.client_id})

    def log(self) -> List[Dict[str, Any]]:
        return self.admin("log")["requests"]  # type: ignore[no-any-return]

    def api_log(self) -> List[Dict[str, Any]]:
        """The logged requests to the API (not the token endpoint)."""
        return [entry for entry in self.log() if entry["path"].startswith("/icd/")]

    def stats(self) -> Dict[str, int]:
        return self.admin("stats")  # type: ignore[no-any-return]

    def env(self) -> Dict[str, str]:
        """The environment scripts/standin.sh tells a user to paste."""
        return {"ICD_CLIENT_ID": self.client_id, "ICD_CLIENT_SECRET": SECRET,
                "ICD_API_BASE": self.url, "ICD_TOKEN_ENDPOINT": self.url + "/connect/token"}

    def client(self, **options: Any) -> icdapi.Client:
        return icdapi.Client(self.client_id, SECRET, api_base=self.url,
                             token_endpoint=self.url + "/connect/token", **options)


@pytest.fixture(scope="session")
def standin_process() -> Iterator[StandIn]:
    server = StandIn()
    yield server
    server.stop()


@pytest.fixture
def standin(standin_process: StandIn) -> StandIn:
    standin_process.new_test()
    return standin_process


@pytest.fixture
def client(standin: StandIn) -> Iterator[icdapi.Client]:
    with standin.client() as c:
        yield c


def clean_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """The caller's environment without anything that could point a run elsewhere or load
    another library, plus `extra`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ICD_", "ICDAPI_")) and key not in (
               "LD_LIBRARY_PATH", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy")}
    env.update(extra or {})
    return env
