"""Cancellation storms: the client stays fully usable; httpcore's own pool does not.

The storm is HAZARDS.md 1's recipe: tasks cancelled by anyio cancel scopes after 0-10 ms
while requests are in flight or waiting for a connection, against a server answering after
0, 5 or 50 ms. Raw httpx's pool ends up with every connection "active" and no request
(httpcore issue 1093); our guarded transport (a semaphore in front of the pool, and a
watchdog that rebuilds a leaking pool) and AsyncDyte come out of any storm with the next
calls served.
"""

from __future__ import annotations

import random
import time

import anyio
import httpx
import pytest

from dyte_async._transport import GuardedHTTPCoreTransport
from tests.integration.test_concurrency import MEETING, client, serve

pytestmark = pytest.mark.anyio

DELAYS = (0.0, 0.005, 0.05)


def busy_connections(pool: object) -> int:
    connections = pool.connections  # type: ignore[attr-defined]
    return len([c for c in connections if not (c.is_idle() or c.is_closed())])


async def storm(get: object, *, tasks: int = 20, seconds: float) -> None:
    rng = random.Random(7)

    async def one() -> None:
        with anyio.move_on_after(rng.uniform(0, 0.01)):
            await get()  # type: ignore[operator]

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with anyio.create_task_group() as group:
            for _ in range(tasks):
                group.start_soon(one)


async def test_httpcore_pool_is_poisoned_by_cancellation(anyio_backend: str) -> None:
    """The upstream bug, reproduced with raw httpx: the reason for the watchdog."""
    async with (
        serve(DELAYS) as (base, _),
        httpx.AsyncClient(
            limits=httpx.Limits(max_connections=10), timeout=httpx.Timeout(2.0, pool=3.0)
        ) as raw,
    ):
        pool = raw._transport._pool  # type: ignore[attr-defined]
        deadline = time.monotonic() + 8
        while busy_connections(pool) < 10 and time.monotonic() < deadline:
            await storm(lambda: raw.get(base + "/"), seconds=0.2)
        leaked = busy_connections(pool)
        # No request is in flight, yet connections are busy: leaked for good.
        assert leaked >= 1, repr(pool)
        if leaked == 10:
            assert "Requests: 0 active, 0 queued | Connections: 10 active" in repr(pool)
            with pytest.raises(httpx.PoolTimeout):
                await raw.get(base + "/", timeout=httpx.Timeout(2.0, pool=0.3))


async def test_guarded_transport_survives_the_storm(anyio_backend: str) -> None:
    """The same storm on our guarded transport: its semaphore keeps requests out of the
    pool's queue, so no connection leaks, and a leak the watchdog saw was repaired."""
    transport = GuardedHTTPCoreTransport(limits=httpx.Limits(max_connections=10))
    async with (
        serve(DELAYS) as (base, _),
        httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(2.0, pool=3.0)) as raw,
    ):
        await storm(lambda: raw.get(base + "/"), seconds=2)
        # Nothing is in flight: every busy connection would be a leak left unrepaired.
        assert sum(busy_connections(pool) for pool in transport.pools) == 0
        with anyio.fail_after(5):
            for _ in range(20):
                response = await raw.get(base + "/")
                assert response.status_code == 200


@pytest.mark.parametrize("http_backend", ["auto", "httpcore"])
async def test_client_survives_the_hazard_storm(anyio_backend: str, http_backend: str) -> None:
    async with (
        serve(DELAYS) as (base, _),
        client(base, max_concurrency=10, rate_limit=None, http_backend=http_backend) as dyte,
    ):
        await storm(lambda: dyte.livestreams.get_active(MEETING), seconds=2)
        await expect_50_prompt_calls(dyte)


@pytest.mark.parametrize("http_backend", ["auto", "httpcore"])
async def test_client_survives_repeated_storms_of_hundreds_of_calls(
    anyio_backend: str, http_backend: str
) -> None:
    rng = random.Random(2000)
    async with (
        serve(DELAYS) as (base, server),
        client(base, rate_limit=None, http_backend=http_backend) as dyte,
    ):
        async with anyio.create_task_group() as group:  # a busy client: 100 connections
            for _ in range(100):
                group.start_soon(dyte.livestreams.get_active, MEETING)
        for _ in range(5):
            before = server.requests
            async with anyio.create_task_group() as group:
                for _ in range(400):
                    group.start_soon(dyte.livestreams.get_active, MEETING)
                # Cancel only once calls are really in flight (reached the server), however
                # long the machine takes to get 400 tasks going, then at a random moment.
                with anyio.fail_after(10):
                    while True:
                        if server.requests > before:
                            break
                        await anyio.sleep(0.001)
                await anyio.sleep(rng.uniform(0.0, 0.05))
                group.cancel_scope.cancel()
            assert server.requests > before
        await expect_50_prompt_calls(dyte)
        transport = dyte._transport
        if isinstance(transport, GuardedHTTPCoreTransport):
            # Our pipeline keeps requests out of the pool's queue; any leak left is repaired
            # by the next request's check (nothing is in flight now).
            await dyte.livestreams.get_active(MEETING)
            assert busy_connections(transport.pool) == 0


async def expect_50_prompt_calls(dyte: object) -> None:
    results = []

    async def one() -> None:
        results.append(await dyte.livestreams.get_active(MEETING, timeout=5))  # type: ignore[attr-defined]

    with anyio.fail_after(5):
        async with anyio.create_task_group() as group:
            for _ in range(50):
                group.start_soon(one)
    assert len(results) == 50
