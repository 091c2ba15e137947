"""Bounded reading over a real socket: endless bodies, a gzip bomb, deeply nested JSON.

A server on 127.0.0.1 (`bounded_server.MisbehavingServer`) answers a `meetings.get` with
a bad body; the call must fail with a typed error within its timeout, the process must
not grow by more than 200 MB, and the event loop must never stall for 2 s. Every probe
runs on asyncio with both transports and on trio with httpcore (aiohttp is asyncio-only);
after it, a second call must work on a new connection (the cut one was not pooled).
Measured before bounded reading: an endless body grew the process by GBs until the
deadline, the bomb was inflated whole (GBs, the loop frozen for seconds), nested JSON
raised a bare RecursionError.
"""

from __future__ import annotations

import logging

import pytest

from dyte_async import (
    AsyncDyte,
    ResponseDecodeError,
    ResponseTooLargeError,
    RetryPolicy,
)
from tests.integration.bounded_server import Meter, MisbehavingServer

pytestmark = [
    pytest.mark.anyio,
    # httpcore's body generators nest (pool stream -> connection stream -> receive): closing
    # the outer one early, as a refused body must, leaves the inner ones to the GC, which
    # trio reports. The connection itself is closed (httpcore closes it when the stream
    # is closed before the end of the body).
    pytest.mark.filterwarnings("ignore:Async generator 'httpcore.:ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

TIMEOUT = 20.0
MAX_RSS_MB = 200
MAX_STALL = 2.0
MARGIN = 5.0


@pytest.fixture(params=["aiohttp", "httpcore"])
def http_backend(request: pytest.FixtureRequest, anyio_backend: str) -> str:
    if request.param == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


async def probe(kind: str, status: int, http_backend: str) -> tuple[BaseException, Meter]:
    """One `meetings.get` against a server misbehaving as `kind`; its error and figures."""
    server = MisbehavingServer(kind, status)
    meter = Meter()
    async with server.running():
        client = AsyncDyte(
            "org",
            "key",
            base_url=f"http://127.0.0.1:{server.port}/v2",
            timeout=TIMEOUT,
            http_backend=http_backend,  # type: ignore[arg-type]
            rate_limit=None,
            retry=RetryPolicy(max_retries=2, initial_backoff=0.01, max_backoff=0.02),
        )
        async with client, meter.measure():
            with pytest.raises(ResponseDecodeError) as info:
                await client.meetings.get("m-1")
            # The next call works: the refused answer's bytes reach no one.
            assert (await client.meetings.get("ok")).id == "ok"
    logging.getLogger(__name__).warning("%s %s %s: %s", kind, status, http_backend, meter)
    assert meter.rss_growth_mb < MAX_RSS_MB, str(meter)
    assert meter.stall < MAX_STALL, str(meter)
    assert meter.duration < TIMEOUT + MARGIN, str(meter)
    if kind != "deep":  # a body cut short: its connection was closed, never pooled
        assert server.connections == 2
    return info.value, meter


@pytest.mark.parametrize("status", [200, 400, 500])
async def test_an_endless_body_is_refused_at_the_cap(status: int, http_backend: str) -> None:
    error, meter = await probe("endless", status, http_backend)
    assert isinstance(error, ResponseTooLargeError)
    assert error.status_code == status
    assert "GET /meetings/m-1" in str(error)
    # Refused at 4 MiB, not at the deadline; and not retried (a 500 would be).
    assert meter.duration < TIMEOUT / 2, str(meter)


async def test_a_gzip_bomb_is_refused_without_inflating_it(http_backend: str) -> None:
    error, meter = await probe("bomb", 200, http_backend)
    assert isinstance(error, ResponseTooLargeError)
    assert meter.duration < TIMEOUT / 2, str(meter)


@pytest.mark.parametrize("status", [200, 400])
async def test_deeply_nested_json_is_a_decode_error(status: int, http_backend: str) -> None:
    error, _ = await probe("deep", status, http_backend)
    assert type(error) is ResponseDecodeError
    assert error.status_code == status
    assert "nested deeper than 64 levels" in str(error)
