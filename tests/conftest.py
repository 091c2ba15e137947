"""Every async test runs twice: on asyncio and on trio (anyio's pytest plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.redis_server import RedisServer


@pytest.fixture(
    params=[
        pytest.param("asyncio", id="asyncio"),
        pytest.param("trio", id="trio"),
    ]
)
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pytest_report_header() -> str:
    from tests.redis_server import redis_kind

    try:
        kind = redis_kind()
    except RuntimeError as error:
        return f"redis: {error}"
    if kind == "fakeredis":
        return "redis: fakeredis stand-in (redis-server is not installed)"
    return "redis: real redis-server"


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One Redis for the session (real `redis-server` when installed; see redis_server.py).

    Tests sharing it use keys of their own."""
    from tests.redis_server import RedisServer

    with RedisServer() as server:
        yield server


@pytest.fixture
def own_redis_server() -> Iterator[RedisServer]:
    """A Redis of this test's own, which it may stop and start again."""
    from tests.redis_server import RedisServer

    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
