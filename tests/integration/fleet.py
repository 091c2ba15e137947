"""What the fleet tests share: a member client on a fake, a started livestream, a limiter."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from dyte_async import AsyncDyte, RateLimit
from dyte_async._clock import SYSTEM_CLOCK
from dyte_async._fleet import Fleet, Link
from dyte_async._ratelimit._redis import RedisLimiter
from dyte_async.testing import FakeDyte


def member(fake: FakeDyte, redis_url: str | None, key: str) -> AsyncDyte:
    """A client of the fleet `key` on `fake` (in-process), its limit far from binding."""
    return AsyncDyte(
        "fake-org-id",
        "fake-api-key",
        base_url="http://127.0.0.1/v2",
        transport=fake.transport(),
        rate_limit=RateLimit(1000, per=1),
        redis=redis_url,
        rate_limit_key=key,
    )


def started(fake: FakeDyte) -> tuple[str, str]:
    """A new meeting with its livestream started (OFFLINE until set): (meeting, livestream)."""
    meeting = fake.add_meeting(title="fleet", live_stream_on_start=True)["id"]
    fake.start_meeting(meeting)
    livestream = fake.active_livestream(meeting)
    assert livestream is not None
    return str(meeting), str(livestream["id"])


@contextlib.asynccontextmanager
async def fleet_limiter(
    url: str, key: str, limit: RateLimit, **options: Any
) -> AsyncIterator[RedisLimiter]:
    """A `RedisLimiter` on its own `Link` to `url`, opened as `AsyncDyte` opens one."""
    link = Link(Fleet(redis=url, key=key))
    async with contextlib.AsyncExitStack() as stack:
        await link.enter(stack)
        limiter = RedisLimiter(limit, SYSTEM_CLOCK, link=link, **options)
        try:
            yield limiter
        finally:
            await limiter.aclose()
            link.stop()
            await link.aclose()


#: coredis (the trio path) leaves anyio memory streams of its connections and subscriptions
#: for the garbage collector; their ResourceWarning says nothing of our code. The fleet
#: modules ignore it, and `collect_leftovers` collects them before a test of theirs ends, so
#: none is reported in an unrelated test later.
COREDIS_LEFTOVERS = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <function MemoryObject(Send|Receive)Stream.__del__"
    ":pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture(autouse=True)
def collect_leftovers() -> Iterator[None]:
    """Collect garbage when a fleet test ends (see `COREDIS_LEFTOVERS`)."""
    yield
    gc.collect()
