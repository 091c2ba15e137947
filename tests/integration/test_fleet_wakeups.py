"""Webhook wake-ups across the fleet: an event handed to one client (`notify`) wakes a wait
in another client of the same fleet, in another OS process too, long before its next poll.
Real Redis, real time, asyncio (redis-py)."""

from __future__ import annotations

import json
import logging
import sys
import time

import anyio
import pytest
from anyio.streams.text import TextReceiveStream

from dyte_async import AsyncDyte, LivestreamStatus
from dyte_async._fleet._wakeups import Wakeups
from dyte_async.testing import FakeDyte
from dyte_async.webhooks import LivestreamStatusUpdate, WebhookMeeting
from tests.integration.fleet import (  # noqa: F401 (an autouse fixture)
    COREDIS_LEFTOVERS,
    collect_leftovers,
    member,
    started,
)
from tests.redis_server import RedisServer

pytestmark = [pytest.mark.anyio, COREDIS_LEFTOVERS]

# coredis (trio) leaves the exception of a refused connect unretrieved in its task group:
# pytest reports it as "unraisable", which says nothing of our code.
COREDIS_REFUSED = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def event(meeting_id: str, stream_id: str) -> LivestreamStatusUpdate:
    return LivestreamStatusUpdate(
        event="livestreaming.statusUpdate",
        stream_id=stream_id,
        status=LivestreamStatus.LIVE,
        meeting=WebhookMeeting(id=meeting_id),
    )


def wakeups_of(client: AsyncDyte) -> Wakeups:
    wakeups = client._wakeups
    assert wakeups is not None
    return wakeups


async def listening(wakeups: Wakeups) -> None:
    with anyio.fail_after(5):
        while not wakeups.listening:  # noqa: ASYNC110 (another task's state, no event)
            await anyio.sleep(0.01)


async def test_a_webhook_in_one_client_wakes_a_wait_in_another(redis_server: RedisServer) -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, stream = started(fake)
    key = f"wake-{time.time_ns()}"
    async with (
        member(fake, redis_server.url, key) as web,
        member(fake, redis_server.url, key) as waiter,
    ):
        woke: list[float] = []

        async def wait() -> None:
            await waiter.livestreams.wait_until_live(meeting, poll_interval=30, timeout=20)
            woke.append(time.monotonic())

        async with anyio.create_task_group() as group:
            group.start_soon(wait)
            await listening(wakeups_of(waiter))
            await anyio.sleep(0.2)  # its first poll saw the livestream not LIVE yet
            fake.set_status(meeting, "LIVE")
            sent = time.monotonic()
            web.livestreams.notify(event(meeting, stream))
        assert woke[0] - sent < 2.0  # not 30 s: woken, then one poll
        assert wakeups_of(web).published == 1
        assert wakeups_of(waiter).received == 1
    assert not wakeups_of(waiter).listening  # nothing left behind by the closed client


async def test_nothing_listens_without_waits_and_own_messages_are_skipped(
    redis_server: RedisServer,
) -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, stream = started(fake)
    async with member(fake, redis_server.url, f"own-{time.time_ns()}") as client:
        wakeups = wakeups_of(client)
        assert not wakeups.listening
        async with anyio.create_task_group() as group:
            group.start_soon(
                lambda: client.livestreams.wait_until_live(meeting, poll_interval=30, timeout=20)
            )
            await listening(wakeups)
            with anyio.fail_after(5):
                while fake.count() == 0:  # noqa: ASYNC110 (the wait's first poll)
                    await anyio.sleep(0.01)
            before = fake.count()
            client.livestreams.notify(event(meeting, stream))  # wakes locally, publishes too
            await anyio.sleep(0.3)
            assert wakeups.received == 0  # its own message is not heard again
            assert fake.count() - before == 1  # one poll, not two
            fake.set_status(meeting, "LIVE")
            client.livestreams.notify(event(meeting, stream))
        await anyio.sleep(0.1)
        assert not wakeups.listening  # the last wait ended: the listener stopped


class _Logged(logging.Handler):
    """Sets `event` when a record whose message holds `text` is logged."""

    def __init__(self, text: str) -> None:
        super().__init__(logging.WARNING)
        self.text = text
        self.event = anyio.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if self.text in record.getMessage():
            self.event.set()


@COREDIS_REFUSED
async def test_redis_down_never_blocks_notify_or_the_waits(own_redis_server: RedisServer) -> None:
    warned = _Logged("webhook wake-ups")
    logger = logging.getLogger("dyte_async")
    logger.addHandler(warned)
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, stream = started(fake)
    try:
        async with member(fake, own_redis_server.url, f"down-{time.time_ns()}") as client:
            own_redis_server.stop()
            async with anyio.create_task_group() as group:
                group.start_soon(
                    lambda: client.livestreams.wait_until_live(
                        meeting, poll_interval=0.2, timeout=10
                    )
                )
                await anyio.sleep(0.3)
                began = time.monotonic()
                client.livestreams.notify(event(meeting, stream))
                assert time.monotonic() - began < 0.05  # notify never waits for Redis
                fake.set_status(meeting, "LIVE")
            # The publish fails in the background: on a loaded machine, after the wait has
            # already seen LIVE by polling. Its WARNING must come all the same.
            with anyio.fail_after(5):
                await warned.event.wait()
    finally:
        logger.removeHandler(warned)


WAITER = """
import asyncio, json, sys, time
from dyte_async import AsyncDyte, RateLimit

async def main():
    base_url, redis_url, key, meeting = sys.argv[1:5]
    async with AsyncDyte("fake-org-id", "fake-api-key", base_url=base_url,
                         rate_limit=RateLimit(1000, per=1), redis=redis_url,
                         rate_limit_key=key) as dyte:
        wait = asyncio.ensure_future(
            dyte.livestreams.wait_until_live(meeting, poll_interval=30, timeout=30))
        while not dyte._wakeups.listening:
            await asyncio.sleep(0.01)
        print("listening", flush=True)
        await wait
        print(json.dumps({"woke": time.time()}), flush=True)

asyncio.run(main())
"""


async def test_a_webhook_wakes_a_wait_in_another_process(redis_server: RedisServer) -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, stream = started(fake)
    key = f"proc-{time.time_ns()}"
    async with fake.serve() as base_url, member(fake, redis_server.url, key) as web:
        process = await anyio.open_process(
            [sys.executable, "-c", WAITER, base_url, redis_server.url, key, meeting]
        )
        async with process:
            assert process.stdout is not None
            with anyio.fail_after(30):
                lines = TextReceiveStream(process.stdout)
                buffer = ""
                while "listening" not in buffer:
                    buffer += await lines.receive()
                await anyio.sleep(0.3)
                fake.set_status(meeting, "LIVE")
                sent = time.time()
                web.livestreams.notify(event(meeting, stream))
                while "woke" not in buffer:
                    buffer += await lines.receive()
                await process.wait()
        woke = json.loads(buffer[buffer.index("{") :].splitlines()[0])["woke"]
        assert woke - sent < 5.0  # its poll interval is 30 s (generous: a loaded machine)
