"""Shared fixtures of the unit tests: one respx router, one fake clock (the library's), a
client on both, and an environment without the variables the library reads.

Unit tests never open a socket and never sleep for real: requests go to `router` through
`httpx.MockTransport`, time is `clock` (`dyte_async.testing.FakeClock`), moved by the code
under test when it sleeps or by the test with `clock.advance(...)`. No unit test sees the
developer's `DYTE_*` variables (`no_dyte_environment`, for every test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import respx

from dyte_async import AsyncDyte, RetryPolicy
from dyte_async.testing import FakeClock

#: The default Dyte base URL, which every unit test's client talks to.
BASE = "https://api.dyte.io/v2"
#: Where `clock` starts (any value far from zero, so "time 0" bugs show).
START = 1000.0
#: The environment variables the library reads (credentials, base URL, log level, Redis).
DYTE_ENVIRONMENT = ("DYTE_ORG_ID", "DYTE_API_KEY", "DYTE_BASE_URL", "DYTE_LOG", "DYTE_REDIS_URL")

#: What `make` gives: ``make(**options)`` is an `AsyncDyte` on `router` and `clock`.
Factory = Callable[..., AsyncDyte]


@pytest.fixture(autouse=True)
def no_dyte_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every unit test runs without `DYTE_ENVIRONMENT` (a test may set one back)."""
    for name in DYTE_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def router() -> respx.MockRouter:
    """Routes under `BASE`; routes not called are not an error."""
    return respx.MockRouter(base_url=BASE, assert_all_called=False)


@pytest.fixture
def clock() -> FakeClock:
    """The library's virtual clock, starting at `START`."""
    return FakeClock(START)


@pytest.fixture
async def dyte(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[AsyncDyte]:
    """A client on `router` and `clock`, without a rate limit, opened and closed around the
    test."""
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
    )
    async with client:
        yield client


@pytest.fixture
async def make(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[Factory]:
    """Makes clients on `router` and `clock` with a jitter-free retry policy (each default
    replaceable by an option), and closes them after the test."""
    clients: list[AsyncDyte] = []

    def factory(**options: Any) -> AsyncDyte:
        options.setdefault("clock", clock)
        options.setdefault("retry", RetryPolicy(jitter=0.0))
        options.setdefault("transport", httpx.MockTransport(router.async_handler))
        client = AsyncDyte("org", "key", **options)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
