"""icdapi.AsyncClient: Client's methods as coroutines over icd_start, cancelled with their task."""

import asyncio
import threading
import time
from typing import Any

import pytest
from conftest import SECRET, StandIn

import icdapi
from icdapi import AsyncClient, IcdError, Status


def async_client(standin: StandIn, **options: Any) -> AsyncClient:
    return AsyncClient(standin.client_id, SECRET, api_base=standin.url,
                       token_endpoint=standin.url + "/connect/token", **options)


def test_coroutines_give_what_the_synchronous_methods_give(standin: StandIn) -> None:
    async def main() -> None:
        async with async_client(standin) as client:
            with standin.client() as sync:
                pairs = [
                    (client.get("/icd/release/11/2026-01/mms/257068234"), sync.get("/icd/release/11/2026-01/mms/257068234")),
                    (client.get_text("/icd/entity/257068234", include="ancestor"),
                     sync.get_text("/icd/entity/257068234", include="ancestor")),
                    (client.search("cholera", flatResults=True), sync.search("cholera", flatResults=True)),
                    (client.autocode("cholera"), sync.autocode("cholera")),
                    (client.codeinfo("1A00"), sync.codeinfo("1A00")),
                    (client.lookup("http://id.who.int/icd/entity/257068234"),
                     sync.lookup("http://id.who.int/icd/entity/257068234")),
                    (client.entity_by_code("1A00"), sync.entity_by_code("1A00")),
                    (client.icd10("A00.0"), sync.icd10("A00.0")),
                    (client.post("/icd/release/11/2026-01/codedit", {"code": "1A00"}),
                     sync.post("/icd/release/11/2026-01/codedit", {"code": "1A00"})),
                ]
                got = await asyncio.gather(*(coroutine for coroutine, _ in pairs))
                for (_, expected), answer in zip(pairs, got):
                    # Each search has an id of its own; everything else is the same.
                    for each in (answer, expected):
                        if isinstance(each, dict):
                            each.pop("uniqueSearchId", None)
                    assert answer == expected
                many = await client.get_many(["/icd/release/11/2026-01/mms/257068234", "/icd/entity/nope"])
                assert many[0]["code"] == "1A00"
                assert isinstance(many[1], IcdError) and many[1].http_status == 404
    asyncio.run(main())
    assert any("flatResults=true" in entry["target"] for entry in standin.api_log())


def test_failures_raise_icd_error_in_the_coroutine(standin: StandIn) -> None:
    async def main() -> None:
        async with async_client(standin) as client:
            with pytest.raises(IcdError) as unknown:
                await client.codeinfo("NOPE")
            assert (unknown.value.status, unknown.value.http_status) == (Status.HTTP, 404)
            assert "404" in str(unknown.value)
            with pytest.raises(IcdError) as empty:
                await client.search(" ")
            assert empty.value.status == Status.INVALID_ARGUMENT
            with pytest.raises(IcdError) as other_host:
                await client.get("https://example.org/x")
            assert other_host.value.status == Status.INVALID_ARGUMENT
            with pytest.raises(TypeError):
                await client.codeinfo(42)  # type: ignore[arg-type]
    asyncio.run(main())


def test_the_callback_hands_the_result_to_the_loop_s_thread(standin: StandIn) -> None:
    async def main() -> None:
        async with async_client(standin) as client:
            loop_thread = threading.get_ident()
            answer = await client.codeinfo("1A00")
            assert answer["code"] == "1A00"
            assert threading.get_ident() == loop_thread
            # No Python thread was started for the call.
            assert threading.active_count() == 1
    asyncio.run(main())


def test_cancelling_the_task_cancels_the_native_call(standin: StandIn) -> None:
    async def main() -> None:
        async with async_client(standin, async_threads=1) as client:
            await client.codeinfo("1A00")  # the token, first
            standin.admin("fault", {"match": "/codeinfo/1A01", "kind": "hang", "seconds": 10})
            task = asyncio.ensure_future(client.codeinfo("1A01"))
            await asyncio.sleep(0.3)
            assert not task.done()
            started = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            # With one library thread, the next call runs only once the cancelled exchange let
            # go of it: long before the server's 10 s.
            assert (await client.codeinfo("1A00"))["code"] == "1A00"
            assert time.monotonic() - started < 3
            # asyncio.wait_for's timeout cancels the same way.
            standin.admin("fault", {"match": "/codeinfo/1A02", "kind": "hang", "seconds": 10})
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(client.codeinfo("1A02"), 0.3)
            assert (await client.codeinfo("1A00"))["code"] == "1A00"
            client.set_option("async_threads", 16)
    asyncio.run(main())


def test_close_cancels_the_calls_in_flight(standin: StandIn) -> None:
    async def main() -> None:
        client = async_client(standin)
        await client.codeinfo("1A00")
        standin.admin("fault", {"match": "/codeinfo/1A01", "kind": "hang", "seconds": 10, "count": 0})
        tasks = [asyncio.ensure_future(client.codeinfo("1A01")) for _ in range(3)]
        await asyncio.sleep(0.3)
        started = time.monotonic()
        client.close()
        assert client.closed and "closed" in repr(client)
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
        assert time.monotonic() - started < 3
        for outcome in outcomes:
            assert isinstance(outcome, IcdError) and outcome.status == Status.CANCELLED, outcome
            assert "freed" in str(outcome)
        with pytest.raises(ValueError):
            await client.codeinfo("1A00")
        client.close()  # twice: harmless
    asyncio.run(main())


def test_many_calls_share_the_library_s_threads(standin: StandIn) -> None:
    async def main() -> None:
        async with async_client(standin, cache_entries=0) as client:
            await client.codeinfo("1A00")
            standin.admin("config", {"delay_ms": 200})
            started = time.monotonic()
            answers = await asyncio.gather(*(client.codeinfo("1A00") for _ in range(48)))
            took = time.monotonic() - started
            assert all(answer["code"] == "1A00" for answer in answers)
            # 48 calls of 200 ms, 16 at a time (async_threads): about three rounds.
            assert 0.55 < took < 5, took
            assert threading.active_count() == 1
    asyncio.run(main())


def test_async_client_is_exported_with_the_same_constructor() -> None:
    assert icdapi.AsyncClient is AsyncClient and "AsyncClient" in icdapi.__all__
    with pytest.raises(TypeError):
        AsyncClient(client_id=42)  # type: ignore[arg-type]
    local = AsyncClient.local("http://127.0.0.1:9", language="fr")
    assert local.get_option("language") == "fr"
    local.close()


EXIT_SCRIPT = """
import asyncio, socket, sys, icdapi
server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(16)  # never answers
client = icdapi.AsyncClient.local("http://127.0.0.1:%d" % server.getsockname()[1])
async def main():
    task = asyncio.ensure_future(client.get("/icd/entity"))
    await asyncio.sleep(0.2)
    if sys.argv[1] == "keep":
        global kept; kept = task
asyncio.run(main())
print("exiting")
"""


@pytest.mark.parametrize("how", ["leave", "keep"])
def test_a_program_that_exits_with_calls_in_flight_exits_cleanly(how: str) -> None:
    # The library's thread must not call back into a finalizing interpreter (which would end it
    # in the middle of the callback and abort the process): open clients are closed at exit.
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", EXIT_SCRIPT, how], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout.strip()) == (0, "exiting"), done.stderr
