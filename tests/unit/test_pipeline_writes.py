"""Duplicate-safe writes: non-idempotent POSTs retried only when they cannot have arrived.

`livestreams.start` also recovers: after an ambiguous failure it asks `get_active` and
returns the livestream it finds instead of starting a second one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import httpx
import pytest

from dyte_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncDyte,
    AuthenticationError,
    DyteError,
    InternalServerError,
    RetryPolicy,
)

pytestmark = pytest.mark.anyio

START = "/meetings/m1/livestreams"
ACTIVE = "/meetings/m1/active-livestream"
EXISTING = {"id": "ls-existing", "status": "LIVE", "meeting_id": "m1"}
CREATED = {"id": "ls-new", "status": "INVOKED"}


def ok(data: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json={"success": True, "data": data})


def err(status: int, **headers: str) -> httpx.Response:
    body = {"success": False, "error": {"code": status, "message": f"error {status}"}}
    return httpx.Response(status, json=body, headers=headers)


DROPPED = httpx.RemoteProtocolError("Server disconnected without sending a response.")

# Failures after which a write may have happened on the server.
AMBIGUOUS: list[Any] = [
    httpx.RemoteProtocolError("Server disconnected without sending a response."),
    httpx.ReadTimeout("read timed out"),
    httpx.WriteTimeout("write timed out"),
    httpx.ReadError("connection reset by peer"),
    err(500),
    err(502),
    err(504),
]
# Failures that prove it did not.
UNSENT: list[Any] = [
    httpx.ConnectError("[Errno 111] Connection refused"),
    httpx.ConnectTimeout("connect timed out"),
    httpx.PoolTimeout("no connection available"),
    err(429),
]


def ident(value: Any) -> str:
    return str(value.status_code) if isinstance(value, httpx.Response) else type(value).__name__


# --- livestreams.start ----------------------------------------------------------------------


async def test_start_after_a_dropped_connection_returns_the_active_livestream(make, router) -> None:
    post = router.post(START).mock(side_effect=[DROPPED, ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(return_value=ok(EXISTING))
    async with make() as dyte:
        livestream = await dyte.livestreams.start("m1", name="town")
    assert livestream.id == "ls-existing"
    assert post.call_count == 1  # exactly one POST reached the server
    assert get.call_count == 1
    stats = dyte.stats()
    assert stats.recovered == 1
    assert stats.retries == 0


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=ident)
async def test_start_after_any_ambiguous_failure_recovers(make, router, failure) -> None:
    post = router.post(START).mock(side_effect=[failure, ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(return_value=ok(EXISTING))
    async with make() as dyte:
        livestream = await dyte.livestreams.start("m1")
    assert livestream.id == "ls-existing"
    assert (post.call_count, get.call_count) == (1, 1)


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=ident)
async def test_start_retries_when_nothing_is_active(make, router, clock, failure) -> None:
    post = router.post(START).mock(side_effect=[failure, ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(return_value=err(404))
    async with make() as dyte:
        livestream = await dyte.livestreams.start("m1")
    assert livestream.id == "ls-new"
    assert livestream.meeting_id == "m1"
    assert (post.call_count, get.call_count) == (2, 1)
    assert clock.slept == [0.5]
    assert dyte.stats().retries == 1


@pytest.mark.parametrize("failure", UNSENT, ids=ident)
async def test_start_retries_at_once_when_nothing_was_sent(make, router, failure) -> None:
    post = router.post(START).mock(side_effect=[failure, ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(return_value=ok(EXISTING))
    async with make(rate_limit=None) as dyte:
        livestream = await dyte.livestreams.start("m1")
    assert livestream.id == "ls-new"
    assert (post.call_count, get.call_count) == (2, 0)


@pytest.mark.parametrize("status", [503, 408])
async def test_start_is_not_retried_after_other_server_errors(make, router, status) -> None:
    post = router.post(START).mock(side_effect=[err(status), ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(return_value=ok(EXISTING))
    async with make() as dyte:
        with pytest.raises(DyteError) as info:
            await dyte.livestreams.start("m1")
    assert getattr(info.value, "status_code", None) == status
    assert (post.call_count, get.call_count) == (1, 0)


async def test_start_fails_with_the_original_error_when_recovery_cannot_tell(make, router) -> None:
    post = router.post(START).mock(side_effect=[DROPPED, ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(return_value=err(401))
    async with make() as dyte:
        with pytest.raises(APIConnectionError) as info:
            await dyte.livestreams.start("m1")
    assert info.value.__cause__ is DROPPED
    assert isinstance(info.value.__context__, AuthenticationError)
    assert (post.call_count, get.call_count) == (1, 1)  # never a second POST on a guess


async def test_start_recovery_retries_its_own_read(make, router) -> None:
    post = router.post(START).mock(side_effect=[err(502), ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(side_effect=[err(503), ok(EXISTING)])
    async with make() as dyte:
        livestream = await dyte.livestreams.start("m1")
    assert livestream.id == "ls-existing"
    assert (post.call_count, get.call_count) == (1, 2)


async def test_start_recovers_even_without_retries_left(make, router) -> None:
    post = router.post(START).mock(side_effect=[DROPPED, ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(return_value=ok(EXISTING))
    async with make(retry=RetryPolicy.none()) as dyte:
        livestream = await dyte.livestreams.start("m1")
    assert livestream.id == "ls-existing"
    assert (post.call_count, get.call_count) == (1, 1)


async def test_start_without_retries_left_raises_when_nothing_is_active(make, router) -> None:
    post = router.post(START).mock(side_effect=[DROPPED, ok(CREATED, 201)])
    router.get(ACTIVE).mock(return_value=err(404))
    async with make(retry=RetryPolicy.none()) as dyte:
        with pytest.raises(APIConnectionError) as info:
            await dyte.livestreams.start("m1")
    assert info.value.__cause__ is DROPPED
    assert post.call_count == 1


async def test_start_with_repeated_ambiguous_failures_checks_each_time(make, router) -> None:
    post = router.post(START).mock(side_effect=[err(500), httpx.ReadTimeout("t"), err(504)])
    get = router.get(ACTIVE).mock(return_value=err(404))
    async with make() as dyte:
        with pytest.raises(InternalServerError) as info:
            await dyte.livestreams.start("m1")
    assert info.value.status_code == 504
    assert (post.call_count, get.call_count) == (3, 3)


async def test_start_timeout_during_recovery_raises_the_original_error(make, router) -> None:
    post = router.post(START).mock(side_effect=[httpx.ReadTimeout("read timed out")])
    get = router.get(ACTIVE).mock(side_effect=httpx.ReadTimeout("read timed out"))
    async with make(retry=RetryPolicy(max_retries=5, jitter=0.0)) as dyte:
        with pytest.raises(APITimeoutError) as info:
            await dyte.livestreams.start("m1", timeout=1.0)
    assert isinstance(info.value.__cause__, httpx.ReadTimeout)
    assert post.call_count == 1
    assert get.call_count >= 1


async def test_start_behind_the_httpx_aiohttp_transport_mapping(make) -> None:
    """httpx-aiohttp reports a dropped connection as ConnectTimeout; it is not "unsent"."""
    posts: list[str] = []
    gets: list[str] = []
    failures = ["dropped", "refused"]

    def handler(request: httpx.Request) -> httpx.Response:
        # A plain MockTransport: respx would re-chain the exception to its own error.
        if request.method == "GET":
            gets.append(request.url.path)
            return ok(EXISTING)
        posts.append(request.url.path)
        failure = failures.pop(0) if failures and len(posts) in (1, 2) else None
        if failure == "dropped":
            origin: Exception = aiohttp.ServerDisconnectedError()
            raise httpx.ConnectTimeout("Server disconnected") from origin
        if failure == "refused":
            origin = aiohttp.ClientConnectorError(
                aiohttp.client_reqrep.ConnectionKey("h", 1, True, True, None, None, None),
                ConnectionRefusedError(111, "refused"),
            )
            raise httpx.ConnectError("Cannot connect to host h:1") from origin
        return ok(CREATED, 201)

    async with make(transport=httpx.MockTransport(handler)) as dyte:
        # Dropped: ambiguous, so recovered by a read, never a second POST.
        assert (await dyte.livestreams.start("m1")).id == "ls-existing"
        assert (len(posts), len(gets)) == (1, 1)
        # Refused (aiohttp's connector error): provably unsent, so simply retried.
        assert (await dyte.livestreams.start("m1")).id == "ls-new"
        assert (len(posts), len(gets)) == (3, 1)


# --- the other non-idempotent writes --------------------------------------------------------

Call = Callable[[AsyncDyte], Awaitable[Any]]

WRITES: list[tuple[str, str, Call, Any]] = [
    ("livestreams.create", "/livestreams", lambda d: d.livestreams.create(name="obs"), CREATED),
    (
        "meetings.create",
        "/meetings",
        lambda d: d.meetings.create(title="Town hall"),
        {"id": "m1", "title": "Town hall"},
    ),
    (
        "participants.add",
        "/meetings/m1/participants",
        lambda d: d.participants.add(
            "m1", preset_name="livestream_viewer", custom_participant_id="u1"
        ),
        {"id": "p1", "token": "tok", "custom_participant_id": "u1"},
    ),
]


@pytest.mark.parametrize("failure", AMBIGUOUS, ids=ident)
@pytest.mark.parametrize(("name", "path", "call", "data"), WRITES, ids=[w[0] for w in WRITES])
async def test_writes_are_not_retried_after_an_ambiguous_failure(
    make, router, clock, name, path, call, data, failure
) -> None:
    route = router.post(path).mock(side_effect=[failure, ok(data, 201)])
    async with make() as dyte:
        with pytest.raises(DyteError) as info:
            await call(dyte)
    assert route.call_count == 1
    assert clock.slept == []
    if isinstance(failure, Exception):
        assert info.value.__cause__ is failure
        assert isinstance(info.value, APIConnectionError)
    else:
        assert isinstance(info.value, InternalServerError)


@pytest.mark.parametrize("failure", UNSENT, ids=ident)
@pytest.mark.parametrize(("name", "path", "call", "data"), WRITES, ids=[w[0] for w in WRITES])
async def test_writes_are_retried_when_nothing_was_sent(
    make, router, name, path, call, data, failure
) -> None:
    route = router.post(path).mock(side_effect=[failure, ok(data, 201)])
    async with make(rate_limit=None) as dyte:
        await call(dyte)
    assert route.call_count == 2


async def test_idempotent_posts_are_retried_after_ambiguous_failures(make, router) -> None:
    route = router.post("/meetings/m1/active-livestream/stop").mock(
        side_effect=[DROPPED, ok({"message": "Stopped live stream successfully"})]
    )
    async with make() as dyte:
        assert await dyte.livestreams.stop("m1") == "Stopped live stream successfully"
    assert route.call_count == 2


async def test_start_recovery_respects_the_policy_statuses(make, router) -> None:
    post = router.post(START).mock(side_effect=[err(500), ok(CREATED, 201)])
    get = router.get(ACTIVE).mock(return_value=err(404))
    policy = RetryPolicy(jitter=0.0, retry_statuses=frozenset({503}))
    async with make(retry=policy) as dyte:
        with pytest.raises(InternalServerError):
            await dyte.livestreams.start("m1")
    # Still asked (the answer may be there), but 500 is not retried under this policy.
    assert (post.call_count, get.call_count) == (1, 1)
