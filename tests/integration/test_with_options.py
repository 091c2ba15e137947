"""`with_options` and `with_raw_response` over real sockets, on both transports: what goes
on the wire (headers, query, timeouts, attempts) and what comes back (status, headers,
request id), with the pool, limiter, poller and stats shared with the original client."""

from __future__ import annotations

import time

import anyio
import pytest

from dyte_async import AsyncDyte, ConfigurationError, RateLimit, RetryPolicy
from dyte_async.errors import APIStatusError, APITimeoutError, ClientClosedError, NotFoundError
from dyte_async.testing import FakeDyte
from tests.redis_server import RedisServer

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["aiohttp", "httpcore"])
def http_backend(request: pytest.FixtureRequest, anyio_backend: str) -> str:
    if request.param == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


def client(url: str, http_backend: str, **options: object) -> AsyncDyte:
    options.setdefault("rate_limit", None)
    return AsyncDyte(
        "fake-org-id",
        "fake-api-key",
        base_url=url,
        http_backend=http_backend,  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


def closed(client: AsyncDyte) -> bool:
    return client.is_closed


async def test_headers_and_query_go_on_the_wire_only_through_the_derived_client(
    http_backend: str,
) -> None:
    fake = FakeDyte()
    meeting = fake.add_meeting(title="opts")["id"]
    async with fake.serve() as url, client(url, http_backend, headers={"X-App": "a"}) as dyte:
        tagged = dyte.with_options(
            headers={"X-Trace": "t-1", "x-app": "b"}, query={"debug": True, "n": 3}
        )
        await tagged.meetings.get(meeting)
        await tagged.livestreams.create(name="made")  # a body: JSON headers too
        await dyte.meetings.get(meeting)
    first, second, plain = fake.requests[-3:]
    assert first.headers["x-trace"] == "t-1"
    assert first.headers["x-app"] == "b"  # replaces the client's, whatever the case
    assert first.query == {"debug": "true", "n": "3"}
    assert first.headers["authorization"] == "<redacted>"  # the client's own still sent
    assert second.headers["x-trace"] == "t-1"
    assert second.headers["content-type"] == "application/json"
    assert second.json == {"name": "made"}
    assert "x-trace" not in plain.headers
    assert plain.headers["x-app"] == "a"
    assert plain.query == {}


async def test_derived_from_derived_adds_up_and_query_replaces_the_calls_own(
    http_backend: str,
) -> None:
    fake = FakeDyte()
    async with fake.serve() as url, client(url, http_backend) as dyte:
        one = dyte.with_options(headers={"X-A": "1"}, query={"per_page": 7})
        two = one.with_options(headers={"X-B": "2"})
        async for _ in two.meetings.list(per_page=3):
            break
    last = fake.requests[-1]
    assert last.headers["x-a"] == "1"
    assert last.headers["x-b"] == "2"
    assert last.query["per_page"] == "7"


async def test_timeout_and_max_retries_apply_to_the_derived_client_only(
    http_backend: str,
) -> None:
    fake = FakeDyte()
    meeting = fake.add_meeting(title="opts")["id"]
    async with fake.serve() as url, client(url, http_backend, max_retries=3) as dyte:
        fake.fail_next(10, status=503, route="GET /meetings/{meeting_id}")
        before = fake.count()
        with pytest.raises(APIStatusError):
            await dyte.with_options(max_retries=0).meetings.get(meeting)
        assert fake.count() - before == 1  # no retry
        before = fake.count()
        with pytest.raises(APIStatusError):
            await dyte.with_options(
                retry=RetryPolicy(max_retries=1, initial_backoff=0.01)
            ).meetings.get(meeting)
        assert fake.count() - before == 2
        fake.clear_faults()
        fake.delay_next(1, 2.0, route="GET /meetings/{meeting_id}")
        with anyio.fail_after(1.5), pytest.raises(APITimeoutError):
            await dyte.with_options(timeout=0.3).meetings.get(meeting)
        assert dyte.retry.max_retries == 3  # the original keeps its own


async def test_derived_clients_share_the_pool_limiter_stats_and_close(http_backend: str) -> None:
    fake = FakeDyte()
    meeting = fake.add_meeting(title="opts")["id"]
    async with fake.serve() as url:
        dyte = client(url, http_backend, rate_limit=RateLimit(1000, per=1))
        async with dyte:
            derived = dyte.with_options(timeout=5)
            async with derived:  # opens and closes nothing of its own
                await derived.meetings.get(meeting)
            assert not closed(derived)
            await derived.meetings.get(meeting)
            assert dyte.stats().requests == 2  # one set of counters
            assert derived.stats().requests == 2
            assert derived._pipeline.limiter is dyte._pipeline.limiter
            assert derived.livestreams._poller is dyte.livestreams._poller
        assert closed(derived)
        with pytest.raises(ClientClosedError):
            await derived.meetings.get(meeting)


async def test_raw_response_gives_status_headers_request_id_and_result(
    http_backend: str,
) -> None:
    fake = FakeDyte(go_live_after=None)
    meeting = fake.add_meeting(title="raw", live_stream_on_start=True)["id"]
    fake.start_meeting(meeting)
    async with fake.serve() as url, client(url, http_backend, max_retries=2) as dyte:
        raw = await dyte.with_raw_response(dyte.livestreams.get_active, meeting)
        assert raw.parsed.meeting_id == meeting
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith("application/json")
        assert raw.attempts == 1
        assert repr(raw).startswith("<RawResponse status_code=200")
        assert "stream_key" not in repr(raw)
        fake.fail_next(1, status=503, route="GET /meetings/{meeting_id}/active-livestream")
        retried = await dyte.with_raw_response(
            dyte.with_options(
                retry=RetryPolicy(max_retries=2, initial_backoff=0.01)
            ).livestreams.get_active,
            meeting,
        )
        assert retried.attempts == 2
        assert retried.status_code == 200
        other = fake.add_meeting(title="none")["id"]
        with pytest.raises(NotFoundError):
            await dyte.with_raw_response(dyte.livestreams.get_active, other)


async def test_bad_options_are_configuration_errors() -> None:
    fake = FakeDyte()
    async with AsyncDyte(
        "o", "k", base_url="http://127.0.0.1:1/v2", transport=fake.transport()
    ) as dyte:
        for bad in (
            {"timeout": 0},
            {"timeout": float("nan")},
            {"attempt_timeout": -1.0},
            {"max_retries": 1, "retry": RetryPolicy()},
            {"max_retries": -1},
            {"headers": {"X-Bad\n": "v"}},
            {"headers": {"X-Key": "secret\r\nInjected: 1"}},
        ):
            with pytest.raises(ConfigurationError) as caught:
                dyte.with_options(**bad)
            assert "secret" not in str(caught.value)


async def test_leaving_a_derived_clients_block_leaves_the_fleet_open(
    redis_server: RedisServer,
) -> None:
    fake = FakeDyte()
    meeting = fake.add_meeting(title="opts")["id"]
    async with AsyncDyte(
        "fake-org-id",
        "fake-api-key",
        base_url="http://127.0.0.1/v2",
        transport=fake.transport(),
        rate_limit=RateLimit(1000, per=1),
        redis=redis_server.url,
        rate_limit_key=f"derived-{time.time_ns()}",
    ) as dyte:
        async with dyte.with_options(timeout=5) as derived:
            await derived.meetings.get(meeting)
        assert dyte._stack is not None  # the fleet's task group and connections still open
        await dyte.meetings.get(meeting)  # through the fleet's limiter, as before
        limiter = dyte._pipeline.limiter
        assert getattr(limiter, "redis_calls", 0) >= 1
        assert not getattr(limiter, "in_outage", False)
