"""`--redis-url` through the command line's entry point: the run's requests are paced by the
fleet's window in Redis (its key holds their slots afterwards)."""

from __future__ import annotations

import subprocess
import sys

import anyio
import pytest
import redis.asyncio

from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_the_cli_joins_the_fleet_with_redis_url(redis_server: RedisServer) -> None:
    argv = [
        sys.executable, "-m", "dyte_async", "--redis-url", redis_server.url,
        "--rate-limit", "50/60", "meetings", "list", "--fake",
    ]  # fmt: skip
    done = await anyio.run_process(argv, check=False, stderr=subprocess.PIPE)
    assert done.returncode == 0, done.stderr.decode()
    admin = redis.asyncio.Redis.from_url(redis_server.url)
    try:
        keys = [k async for k in admin.scan_iter(match="{dyte-ratelimit:*}:slots")]
        counts = [await admin.zcard(k) for k in keys]
    finally:
        await admin.aclose()
    assert any(count >= 1 for count in counts)  # the run's request held a slot there
