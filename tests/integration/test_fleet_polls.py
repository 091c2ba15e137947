"""Shared polls across the fleet: the waits of several clients (processes) on one
organization cost the requests of one client, a change seen by one reaches the others at
once, no stream key is stored in Redis, and Redis down means each polls on its own.
Real Redis, real time, asyncio (redis-py)."""

from __future__ import annotations

import contextlib
import json
import sys
import time

import anyio
import pytest
import redis

from dyte_async import AsyncDyte, WaitTimeoutError
from dyte_async._fleet._backlog import SharedBacklog
from dyte_async._fleet._reads import SharedReads
from dyte_async.testing import FakeDyte
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

ACTIVE = "GET /meetings/{meeting_id}/active-livestream"


async def wait_a_while(client: AsyncDyte, meeting: str, seconds: float) -> None:
    with pytest.raises(WaitTimeoutError):
        await client.livestreams.wait_until_live(meeting, poll_interval=0.3, timeout=seconds)


async def polls_of(redis_url: str | None, clients: int, seconds: float = 2.0) -> int:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, _ = started(fake)
    key = f"polls-{time.time_ns()}"
    async with contextlib.AsyncExitStack() as stack:
        members = [
            await stack.enter_async_context(member(fake, redis_url, key)) for _ in range(clients)
        ]
        async with anyio.create_task_group() as group:
            for client in members:
                group.start_soon(wait_a_while, client, meeting, seconds)
    return fake.count(ACTIVE)


async def test_four_clients_waiting_on_one_meeting_cost_about_one(
    redis_server: RedisServer,
) -> None:
    alone = await polls_of(redis_server.url, 1)
    shared = await polls_of(redis_server.url, 4)
    apart = await polls_of(None, 4)
    assert apart >= 3 * alone  # without Redis each polls on its own
    assert shared <= alone * 1.5 + 1  # with Redis: about one client's polls


async def test_a_change_seen_by_one_client_wakes_the_others(redis_server: RedisServer) -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, _ = started(fake)
    key = f"change-{time.time_ns()}"
    async with (
        member(fake, redis_server.url, key) as fast,
        member(fake, redis_server.url, key) as slow,
    ):
        woke: dict[str, float] = {}

        async def wait(name: str, client: AsyncDyte, interval: float) -> None:
            await client.livestreams.wait_until_live(meeting, poll_interval=interval, timeout=20)
            woke[name] = time.monotonic()

        async with anyio.create_task_group() as group:
            group.start_soon(wait, "slow", slow, 30.0)
            await anyio.sleep(0.3)  # slow has polled (OFFLINE) and sleeps for 30 s
            group.start_soon(wait, "fast", fast, 0.2)
            await anyio.sleep(0.3)
            fake.set_status(meeting, "LIVE")
            changed = time.monotonic()
        assert woke["fast"] - changed < 1.0
        assert woke["slow"] - changed < 1.5  # woken by fast's read, not after 30 s


async def test_no_stream_key_is_stored_in_redis(redis_server: RedisServer) -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, _ = started(fake)
    fake.set_status(meeting, "LIVE")
    stream_key = (fake.active_livestream(meeting) or {}).get("stream_key")
    assert stream_key
    key = f"secret-{time.time_ns()}"
    async with (
        member(fake, redis_server.url, key) as one,
        member(fake, redis_server.url, key) as other,
    ):
        first = await one.livestreams.wait_until_live(meeting, poll_interval=5, timeout=5)
        second = await other.livestreams.wait_until_live(meeting, poll_interval=5, timeout=5)
    assert first.stream_key == stream_key  # read by this process itself
    assert second.stream_key is None  # from the fleet's store: the key is never stored
    assert second.playback_url == first.playback_url
    with redis.Redis.from_url(redis_server.url) as admin:  # a test's own, blocking client
        for name in admin.scan_iter(match="{" + key + "}*"):
            if admin.type(name) == b"hash":
                values = admin.hvals(name)
                assert all(stream_key.encode() not in v for v in values)


@COREDIS_REFUSED
async def test_redis_down_each_client_polls_on_its_own(own_redis_server: RedisServer) -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, _ = started(fake)
    async with member(fake, own_redis_server.url, f"down-{time.time_ns()}") as client:
        own_redis_server.stop()
        async with anyio.create_task_group() as group:
            group.start_soon(
                lambda: client.livestreams.wait_until_live(meeting, poll_interval=0.1, timeout=10)
            )
            await anyio.sleep(0.5)
            fake.set_status(meeting, "LIVE")
        reads = client.livestreams._poller.reader
        assert isinstance(reads, SharedReads)
        assert reads.direct >= 2  # straight to the API, no hang


WAITER = """
import asyncio, json, sys, time
from dyte_async import AsyncDyte, RateLimit, WaitTimeoutError

async def main():
    base_url, redis_url, key, start, seconds, *meetings = sys.argv[1:]
    async with AsyncDyte("fake-org-id", "fake-api-key", base_url=base_url,
                         rate_limit=RateLimit(1000, per=1),
                         redis=None if redis_url == "-" else redis_url,
                         rate_limit_key=key) as dyte:
        await asyncio.sleep(max(0.0, float(start) - time.time()))
        waiting = dyte.livestreams.wait_until_live_many(
            meetings, timeout=float(seconds), poll_interval=0.5)
        live = 0
        try:
            async for _ in waiting:
                live += 1
        except WaitTimeoutError:
            pass
        reader = dyte.livestreams._poller.reader
        reads = {k: getattr(reader, k, 0) for k in ("sent", "shared")}
        print(json.dumps({"live": live, **reads}), flush=True)

asyncio.run(main())
"""


async def fleet_list_reads(
    redis_url: str | None, processes: int, meetings: int
) -> tuple[int, int, dict[str, int]]:
    """List reads while `processes` processes wait on `meetings` meetings between them for
    5 s, half going LIVE after 1 s; and how many waits saw LIVE. (The existence checks of
    the meetings, one each wherever they are waited on, are not list reads.)"""
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    ids = [started(fake)[0] for _ in range(meetings)]
    key = f"list-{time.time_ns()}"
    seen: list[int] = []
    reads = {"sent": 0, "shared": 0}
    async with fake.serve() as base_url:
        start = time.time() + 5.0  # every process imported and ready by then

        async def run(share: list[str]) -> None:
            argv = [base_url, redis_url or "-", key, str(start), "5", *share]
            done = await anyio.run_process([sys.executable, "-c", WAITER, *argv], check=True)
            result = json.loads(done.stdout)
            seen.append(result["live"])
            for name in reads:
                reads[name] += result[name]

        async def go_live() -> None:
            await anyio.sleep(start - time.time() + 1.0)
            for meeting in ids[::2]:
                fake.set_status(meeting, "LIVE")

        with anyio.fail_after(90):
            async with anyio.create_task_group() as group:
                for i in range(processes):
                    group.start_soon(run, ids[i::processes])
                group.start_soon(go_live)
    return fake.count("GET /livestreams"), sum(seen), reads


async def test_four_processes_waiting_on_many_meetings_share_the_list(
    redis_server: RedisServer,
) -> None:
    alone, live_alone, _ = await fleet_list_reads(redis_server.url, 1, 40)
    shared, live_shared, reads = await fleet_list_reads(redis_server.url, 4, 40)
    assert live_alone == live_shared == 20  # every LIVE meeting reached its wait
    # Four processes on their own read the list about four times as often as one (less on
    # a loaded machine, whose slow processes back off): the benchmark measures it. Shared,
    # most of their polls are answered by the others' reads, and the list costs about
    # what it costs one process.
    assert reads["shared"] >= reads["sent"]
    assert shared <= alone * 2 + 2


async def test_a_garbled_stored_answer_is_read_again_not_raised(
    redis_server: RedisServer,
) -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, _ = started(fake)
    fake.set_status(meeting, "LIVE")
    key = f"garbled-{time.time_ns()}"
    async with (
        member(fake, redis_server.url, key) as one,
        member(fake, redis_server.url, key) as other,
    ):
        await one.livestreams.wait_until_live(meeting, poll_interval=5, timeout=5)
        with redis.Redis.from_url(redis_server.url) as admin:  # blocking, the test's own
            for name in admin.scan_iter(match="{" + key + "}:read:*"):
                if admin.type(name) == b"hash":
                    admin.hset(name, "v", "{not json")
        live = await other.livestreams.wait_until_live(meeting, poll_interval=5, timeout=5)
    assert live.status == "LIVE"
    reads = other.livestreams._poller.reader
    assert isinstance(reads, SharedReads)
    assert reads.direct == 1  # the garbled answer was not used, nor raised


async def test_a_dead_holder_of_a_read_delays_the_others_only_until_its_lock_expires(
    redis_server: RedisServer,
) -> None:
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    meeting, _ = started(fake)
    fake.set_status(meeting, "LIVE")
    key = f"dead-{time.time_ns()}"
    async with member(fake, redis_server.url, key) as client:
        reads = client.livestreams._poller.reader
        assert isinstance(reads, SharedReads)
        lock = reads._keys(f"/meetings/{meeting}/active-livestream", None)[1]
        with redis.Redis.from_url(redis_server.url) as admin:
            # As if a process took the read's lock and died before answering.
            admin.set(lock, "a-dead-process", px=1500)
        began = time.monotonic()
        live = await client.livestreams.wait_until_live(meeting, poll_interval=0.5, timeout=10)
        waited = time.monotonic() - began
    assert live.status == "LIVE"
    assert 1.0 <= waited < 1.5 + 0.5 + 1.0  # the lock's life, one interval, some slack
    assert reads.sent == 1  # read once the lock expired, by this process


CHECK = "GET /meetings/{meeting_id}"


def backlog_key(key: str) -> str:
    return "{" + key + "}:backlog"


def backlog_of(client: AsyncDyte) -> SharedBacklog:
    backlog = client.livestreams._poller.backlog
    assert isinstance(backlog, SharedBacklog)
    return backlog


async def test_the_fleets_backlog_is_the_sum_of_its_members_fresh_counts(
    redis_server: RedisServer,
) -> None:
    fake = FakeDyte(rate_limit=None)
    key = f"backlog-{time.time_ns()}"
    with redis.Redis.from_url(redis_server.url) as admin:
        seconds, micros = admin.time()
        now_ms = seconds * 1000 + micros // 1000
        admin.hset(backlog_key(key), "dead", f"50:{now_ms - 60_000}")  # a minute old
        admin.hset(backlog_key(key), "garbled", "not a count")
        async with (
            member(fake, redis_server.url, key) as one,
            member(fake, redis_server.url, key) as two,
        ):
            assert await backlog_of(one).total(3) == 3  # the stale and garbled are dropped
            assert set(admin.hkeys(backlog_key(key))) == {backlog_of(one)._field.encode()}
            assert await backlog_of(two).total(4) == 7
            assert await backlog_of(one).total(0) == 4  # nothing left here: out of the sum
            assert set(admin.hkeys(backlog_key(key))) == {backlog_of(two)._field.encode()}
            assert await backlog_of(two).total(2) == 2
        assert 0 < admin.pttl(backlog_key(key)) <= 6_000  # gone when nobody renews it


@pytest.mark.parametrize("shared", [False, True])
async def test_existence_checks_wait_while_the_fleet_has_many_to_check(
    redis_server: RedisServer, shared: bool
) -> None:
    """Four meetings to check are few for one process (6 a round): checked at once. With
    10 more left elsewhere in the fleet, they are many: checked after the grace (30 s)."""
    fake = FakeDyte(go_live_after=None, rate_limit=None)
    ids = [started(fake)[0] for _ in range(4)]
    key = f"checks-{time.time_ns()}"
    with redis.Redis.from_url(redis_server.url) as admin:
        if shared:
            seconds, micros = admin.time()
            admin.hset(backlog_key(key), "other", f"10:{seconds * 1000 + micros // 1000}")
        async with member(fake, redis_server.url, key) as client:
            client.livestreams._poller.checks_per_round = 6
            with pytest.raises(WaitTimeoutError):
                async for _ in client.livestreams.wait_until_live_many(
                    ids, timeout=1.0, poll_interval=0.2
                ):
                    pass
    assert fake.count(CHECK) == (0 if shared else 4)


async def test_during_a_shared_polls_outage_the_backlog_does_not_ask_redis(
    redis_server: RedisServer,
) -> None:
    fake = FakeDyte(rate_limit=None)
    key = f"backlog-outage-{time.time_ns()}"
    async with member(fake, redis_server.url, key) as client:
        reads = client.livestreams._poller.reader
        assert isinstance(reads, SharedReads)
        reads.outage.failed(OSError("a read failed"))  # one outage for the shared polls
        assert await backlog_of(client).total(5) == 5
    with redis.Redis.from_url(redis_server.url) as admin:
        assert not admin.exists(backlog_key(key))  # Redis was not asked


@COREDIS_REFUSED
async def test_redis_down_each_process_goes_by_its_own_backlog(
    own_redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    fake = FakeDyte(rate_limit=None)
    async with member(fake, own_redis_server.url, f"backlog-down-{time.time_ns()}") as client:
        own_redis_server.stop()
        with anyio.fail_after(5):
            assert await backlog_of(client).total(7) == 7
            assert await backlog_of(client).total(5) == 5  # not asked again at once
        reads = client.livestreams._poller.reader
        assert isinstance(reads, SharedReads)
        assert reads.outage.down  # the shared reads skip Redis too
    warnings = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "polls on its own" in warnings[0].getMessage()
