"""Redis failing under a fleet limit: stopped, restarted, silent, or a member process killed
while it holds slots. No call hangs; calls go on under the local fallback with one WARNING;
the fleet limit resumes when Redis answers; a dead process's slots expire by themselves.
Real time and real processes, asyncio only (redis-py)."""

from __future__ import annotations

import logging
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import anyio
import anyio.abc
import httpx
import pytest

from dyte_async import AsyncDyte, RateLimit
from dyte_async._ratelimit import LimiterTimeout
from dyte_async._ratelimit._redis import RedisLimiter
from tests.integration.fleet import (  # noqa: F401 (an autouse fixture)
    COREDIS_LEFTOVERS,
    collect_leftovers,
    fleet_limiter,
)
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.anyio, COREDIS_LEFTOVERS]

# coredis (trio) leaves the exception of a refused connect unretrieved in its task group:
# pytest reports it as "unraisable", which says nothing of our code.
COREDIS_REFUSED = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

OK = {"success": True, "data": {"id": "m", "title": "t"}}


def client_on(url: str, sent: list[float] | None = None) -> AsyncDyte:
    def respond(request: httpx.Request) -> httpx.Response:
        if sent is not None:
            sent.append(time.monotonic())
        return httpx.Response(200, json=OK)

    return AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(respond),
        rate_limit=RateLimit(50, per=1),
        redis=url,
        rate_limit_key=f"outage-{time.time_ns()}",
        timeout=5,
    )


async def timed_get(client: AsyncDyte) -> float:
    began = time.monotonic()
    await client.meetings.get("m")
    return time.monotonic() - began


@COREDIS_REFUSED
async def test_redis_stopped_then_back(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    async with client_on(own_redis_server.url) as client:
        limiter = client._pipeline.limiter
        assert isinstance(limiter, RedisLimiter)
        await client.meetings.get("m")
        assert limiter.redis_calls >= 1
        assert client.stats().limiter_fallbacks == 0

        own_redis_server.stop()
        durations = [await timed_get(client) for _ in range(5)]
        assert max(durations) < 2.5  # never waits past Redis's own short timeout (1 s)
        # A spare slot granted before the outage may serve a call or two; then the fallback.
        fallbacks = client.stats().limiter_fallbacks
        assert 3 <= fallbacks <= 5
        assert limiter.in_outage
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "pacing this process alone" in warnings[0].getMessage()
        assert "25 requests" not in warnings[0].getMessage()  # fleet_size_hint=1: all of it

        own_redis_server.start()
        await anyio.sleep(2.1)  # the fallback asks Redis again after 2 s
        calls = limiter.redis_calls
        await client.meetings.get("m")
        assert limiter.redis_calls > calls
        assert ", fleet," in repr(limiter)  # not in the outage any more
        assert client.stats().limiter_fallbacks == fallbacks
        assert any("answers again" in r.getMessage() for r in caplog.records)
        assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


@COREDIS_REFUSED
async def test_a_fallback_keeps_its_share_of_the_limit(own_redis_server: RedisServer) -> None:
    own_redis_server.stop()
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(lambda request: httpx.Response(200, json=OK)),
        rate_limit=RateLimit(8, per=1),
        redis=own_redis_server.url,
        fleet_size_hint=4,
        timeout=0.9,
        max_retries=0,
    )
    async with client:
        results = []
        for _ in range(3):
            try:
                await client.meetings.get("m")
                results.append("ok")
            except Exception as error:  # the third waits past its timeout under 2/s
                results.append(type(error).__name__)
    assert results[:2] == ["ok", "ok"]
    assert results[2] != "ok"


@pytest.fixture
async def silent_redis() -> AsyncIterator[str]:
    """A listener that accepts and reads but never answers (a hung Redis)."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")

    async def swallow(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            try:
                while await stream.receive():
                    pass
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return

    async with listener, anyio.create_task_group() as group:
        group.start_soon(listener.serve, swallow)
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        yield f"redis://127.0.0.1:{port}/0"
        group.cancel_scope.cancel()


@COREDIS_REFUSED
async def test_a_silent_redis_never_hangs_a_call(silent_redis: str) -> None:
    async with client_on(silent_redis) as client:
        first = await timed_get(client)
        then = [await timed_get(client) for _ in range(3)]
        assert first < 2.5
        assert max(then) < 0.2
        assert client.stats().limiter_fallbacks == 4


WORKER = """
import asyncio, sys, time
import redis.asyncio
from dyte_async import RateLimit
from tests.integration.fleet import (  # noqa: F401 (an autouse fixture)
    COREDIS_LEFTOVERS,
    collect_leftovers,
    fleet_limiter,
)

async def main():
    async with fleet_limiter(sys.argv[1], sys.argv[2], RateLimit(3, per=0.2),
                             lease_margin=0.3) as limiter:
        for _ in range(3):
            await limiter.acquire_slot(deadline=time.monotonic() + 0.5)
        print("held", flush=True)
        await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_killed_process_slots_expire_by_themselves(redis_server: RedisServer) -> None:
    key = f"crash-{time.time_ns()}"
    process = subprocess.Popen(  # noqa: ASYNC220 (read one line, then killed)
        [sys.executable, "-c", WORKER, redis_server.url, key],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        held_at = time.monotonic()
    finally:
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
    async with fleet_limiter(redis_server.url, key, RateLimit(3, per=0.2)) as limiter:
        with pytest.raises(LimiterTimeout):  # its slots still count
            await limiter.acquire_slot(deadline=time.monotonic() + 0.05)
        slot = await limiter.acquire_slot(deadline=time.monotonic() + 5)
        # Lease: its deadline (0.5 s) + per (0.2) + margin (0.3) after the grant.
        assert 0.5 <= time.monotonic() - held_at < 2.5
        limiter.release(slot)


async def test_an_unexpected_failure_of_the_worker_never_strands_a_caller(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(**_: object) -> object:
        raise RuntimeError("a bug, not an outage")

    key = f"bug-{time.time_ns()}"
    async with fleet_limiter(redis_server.url, key, RateLimit(3, per=1)) as limiter:
        limiter._script = broken
        with anyio.fail_after(5):
            slot = await limiter.acquire_slot(deadline=time.monotonic() + 5)
        limiter.release(slot)
        assert limiter.fallbacks == 1
        assert any("RuntimeError" in r.getMessage() for r in caplog.records)
