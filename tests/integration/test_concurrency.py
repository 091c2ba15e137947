"""Many concurrent calls on one client, default settings: they queue, none fails.

Also home of `serve`, the small HTTP/1.1 server on 127.0.0.1 these integration tests
run against (anyio: the same code on asyncio and trio, in the test's own event loop).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import AsyncIterator, Sequence

import anyio
import anyio.abc
import httpx
import pytest

from dyte_async import AsyncDyte, Livestream, LivestreamStatus
from dyte_async._transport import AiohttpTransport, GuardedHTTPCoreTransport
from tests.integration.loopback import listening, read_request

pytestmark = pytest.mark.anyio

MEETING = "bbb03399-d0a5-4b1a-9d5c-6f3a2a3e5b11"
BODY = json.dumps(
    {
        "success": True,
        "data": {
            "id": "61e03cb4-3d5b-4a83-8d61-6e1ad1a8f3c0",
            "name": "townhall",
            "meeting_id": MEETING,
            "status": "LIVE",
            "ingest_server": "rtmps://live.dyte.io:443/live",
            "stream_key": "sk-secret",
            "playback_url": "https://stream.dyte.io/v1/playback/61e03cb4/index.m3u8",
            "created_at": "2023-07-15T11:58:08.404Z",
            "updated_at": "2023-07-15T11:58:24.278Z",
            "disabled": False,
        },
    }
).encode()
RESPONSE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
    + str(len(BODY)).encode()
    + b"\r\n\r\n"
    + BODY
)


class ServerStats:
    def __init__(self) -> None:
        self.requests = 0
        self.connections = 0
        self.open_connections = 0
        self.max_open_connections = 0


@contextlib.asynccontextmanager
async def serve(delays: Sequence[float] = (0.0,)) -> AsyncIterator[tuple[str, ServerStats]]:
    """Serve `RESPONSE` to every request, after a delay drawn from `delays`.

    Yields:
        The base URL (`http://127.0.0.1:<port>`) and the server's counters.
    """
    stats = ServerStats()
    rng = random.Random(1093)

    async def handle(stream: anyio.abc.SocketStream) -> None:
        stats.connections += 1
        stats.open_connections += 1
        stats.max_open_connections = max(stats.max_open_connections, stats.open_connections)
        try:
            async with stream:
                buffer = b""
                while True:
                    try:
                        _, _, buffer = await read_request(stream, buffer)
                    except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                        return
                    stats.requests += 1
                    delay = rng.choice(delays)
                    if delay:
                        await anyio.sleep(delay)
                    try:
                        await stream.send(RESPONSE)
                    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
                        return
        finally:
            stats.open_connections -= 1

    async with listening(handle) as base:
        yield base, stats


def client(base: str, **options: object) -> AsyncDyte:
    return AsyncDyte("org", "key", base_url=base + "/v2", **options)  # type: ignore[arg-type]


async def test_2000_concurrent_calls_with_default_settings_all_succeed(anyio_backend: str) -> None:
    results: list[Livestream] = []
    async with serve() as (base, server), client(base) as dyte:

        async def one() -> None:
            results.append(await dyte.livestreams.get_active(MEETING))

        began = time.monotonic()
        async with anyio.create_task_group() as group:
            for _ in range(2000):
                group.start_soon(one)
        elapsed = time.monotonic() - began
        stats = dyte.stats()
        transport = dyte._transport
        if isinstance(transport, GuardedHTTPCoreTransport):
            assert transport.rebuilds == 0  # no false alarm from the watchdog under load
    assert len(results) == 2000
    assert all(ls.status is LivestreamStatus.LIVE for ls in results)
    assert stats.requests == 2000
    assert stats.retries == 0
    assert server.requests == 2000
    # Queued by max_concurrency (100), not by opening more connections.
    assert server.max_open_connections <= 100
    assert elapsed < 20


async def test_default_transport_follows_the_event_loop(anyio_backend: str) -> None:
    async with serve() as (base, _), client(base, max_concurrency=7) as dyte:
        await dyte.livestreams.get_active(MEETING)
        transport = dyte._transport
        if anyio_backend == "asyncio":
            assert isinstance(transport, AiohttpTransport)
            assert transport.session is not None
            assert transport.session.connector is not None
            assert transport.session.connector.limit == 7  # matches max_concurrency
        else:
            assert isinstance(transport, GuardedHTTPCoreTransport)
            assert len(transport.pools) == 7  # one one-connection pool per connection


@pytest.mark.parametrize("http_backend", ["aiohttp", "httpcore"])
async def test_more_calls_than_connections_on_each_forced_backend(
    anyio_backend: str, http_backend: str
) -> None:
    if anyio_backend == "trio" and http_backend == "aiohttp":
        pytest.skip("aiohttp runs on asyncio only")
    async with serve(delays=(0.0, 0.002)) as (base, server):
        async with (
            client(base, max_concurrency=5, http_backend=http_backend, rate_limit=None) as dyte,
            anyio.create_task_group() as group,
        ):
            for _ in range(200):
                group.start_soon(dyte.livestreams.get_active, MEETING)
        assert server.requests == 200
        assert server.max_open_connections <= 5


async def test_raw_httpx_on_the_guarded_transport_queues_in_its_pool(anyio_backend: str) -> None:
    # Without our pipeline in front, requests wait in the pool (more than it has
    # connections): the pool timeout is not capped then, and nothing is rebuilt.
    transport = GuardedHTTPCoreTransport(limits=httpx.Limits(max_connections=4))
    async with (
        serve(delays=(0.001,)) as (base, server),
        httpx.AsyncClient(transport=transport, timeout=10) as raw,
        anyio.create_task_group() as group,
    ):
        for _ in range(100):
            group.start_soon(raw.get, base + "/")
    assert server.requests == 100
    assert server.max_open_connections <= 4
    assert transport.rebuilds == 0
