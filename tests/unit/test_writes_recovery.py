"""Writes never misreported: a retry's answer after an attempt that may have taken effect.

A `stop` whose first answer was lost and whose retry answers 404 did stop the livestream; a
`start` whose retry answers 409 started it; a kick or mute whose retry answers 404 removed the
participants. Each returns success and logs one INFO line; the same status to a FIRST attempt
(or after a failure that proves nothing was sent) is still the server's error.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx

from dyte_async import AsyncDyte
from dyte_async._retry import SETTLE, Failure, GiveUp, RetryPolicy, decide
from dyte_async.errors import ConflictError, NotFoundError
from dyte_async.models import Livestream, ModerationResult
from dyte_async.testing import FakeClock
from tests import spec_examples as ex

MEETING_ID = "bbb03399-5d3f-4c8e-9d02-1a2b3c4d5e6f"
STOP = f"/meetings/{MEETING_ID}/active-livestream/stop"
START = f"/meetings/{MEETING_ID}/livestreams"
ACTIVE = f"/meetings/{MEETING_ID}/active-livestream"
SESSION = f"/meetings/{MEETING_ID}/active-session"

pytestmark = pytest.mark.anyio

LOST = [
    pytest.param(httpx.ReadError("connection dropped"), id="dropped"),
    pytest.param(httpx.ReadTimeout("read timed out"), id="read-timeout"),
    pytest.param(httpx.RemoteProtocolError("server disconnected"), id="disconnected"),
    pytest.param(httpx.Response(502), id="502"),
    pytest.param(httpx.Response(500), id="500"),
    pytest.param(httpx.Response(504), id="504"),
]


def error(status: int) -> httpx.Response:
    return httpx.Response(status, json=ex.generic_error(status, "no such thing"))


@pytest.fixture
async def dyte(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[AsyncDyte]:
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
    )
    async with client:
        yield client


def info_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "dyte_async" and r.levelno == logging.INFO
    ]


# -- stop -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lost", LOST)
async def test_a_stop_whose_retry_finds_nothing_live_was_stopped(
    router: respx.MockRouter, dyte: AsyncDyte, caplog: pytest.LogCaptureFixture, lost: Any
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    route = router.post(STOP).mock(side_effect=[lost, error(404)])

    assert await dyte.livestreams.stop(MEETING_ID) == ""

    assert route.call_count == 2
    assert any(
        f"POST {STOP}: status 404 after an earlier attempt may have taken effect: "
        "the livestream was already stopped" in line
        for line in info_lines(caplog)
    )
    assert dyte.stats().recovered == 1


async def test_a_first_attempt_404_of_stop_is_still_not_found(
    router: respx.MockRouter, dyte: AsyncDyte
) -> None:
    route = router.post(STOP).mock(side_effect=[error(404)])

    with pytest.raises(NotFoundError):
        await dyte.livestreams.stop(MEETING_ID)
    assert route.call_count == 1


@pytest.mark.parametrize(
    "unsent",
    [
        pytest.param(httpx.ConnectError("refused"), id="connect-error"),
        pytest.param(httpx.Response(503), id="503-is-not-proof"),
        pytest.param(httpx.Response(429, headers={"retry-after": "0"}), id="429"),
    ],
)
async def test_a_404_after_a_failure_that_changed_nothing_is_still_not_found(
    router: respx.MockRouter, dyte: AsyncDyte, unsent: Any
) -> None:
    # A refused connection never reached the server and a 429 was not acted on. (A 503 may
    # come from a proxy that did forward the request: it counts as "may have taken effect".)
    route = router.post(STOP).mock(side_effect=[unsent, error(404)])

    if isinstance(unsent, httpx.Response) and unsent.status_code == 503:
        assert await dyte.livestreams.stop(MEETING_ID) == ""
    else:
        with pytest.raises(NotFoundError):
            await dyte.livestreams.stop(MEETING_ID)
    assert route.call_count == 2


async def test_a_stop_that_fails_again_after_a_lost_answer_still_raises(
    router: respx.MockRouter, dyte: AsyncDyte
) -> None:
    route = router.post(STOP).mock(side_effect=[httpx.ReadError("lost"), error(403)])

    with pytest.raises(Exception, match="403"):
        await dyte.livestreams.stop(MEETING_ID)
    assert route.call_count == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, ""),
        ({"message": "Stopped live stream successfully"}, "Stopped live stream successfully"),
        ({"message": 5}, ""),
        (None, ""),
        ("Stopped", "Stopped"),
        ([], ""),
    ],
)
async def test_a_stop_answered_with_success_succeeds_whatever_its_message(
    router: respx.MockRouter, dyte: AsyncDyte, data: Any, message: str
) -> None:
    router.post(STOP).respond(200, json={"success": True, "data": data})

    assert await dyte.livestreams.stop(MEETING_ID) == message


# -- start ------------------------------------------------------------------------------------


async def test_a_start_whose_retry_answers_409_is_the_active_livestream(
    router: respx.MockRouter, dyte: AsyncDyte, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    post = router.post(START).mock(side_effect=[httpx.Response(502), error(409)])
    # The recovery read right after the 502 does not see the livestream yet; the one
    # after the 409 does.
    get = router.get(ACTIVE).mock(
        side_effect=[error(404), httpx.Response(200, json=ex.ACTIVE_LIVESTREAM_200)]
    )

    livestream = await dyte.livestreams.start(MEETING_ID)

    assert isinstance(livestream, Livestream)
    assert livestream.id == ex.ACTIVE_LIVESTREAM_200["data"]["id"]
    assert (post.call_count, get.call_count) == (2, 2)
    assert any(
        f"POST {START}: status 409 after an earlier attempt may have taken effect: "
        "a livestream is active" in line
        for line in info_lines(caplog)
    )


async def test_a_start_whose_retry_after_a_dropped_connection_answers_409(
    router: respx.MockRouter, dyte: AsyncDyte
) -> None:
    post = router.post(START).mock(side_effect=[httpx.ReadError("dropped"), error(409)])
    get = router.get(ACTIVE).mock(
        side_effect=[error(404), httpx.Response(200, json=ex.ACTIVE_LIVESTREAM_200)]
    )

    livestream = await dyte.livestreams.start(MEETING_ID)

    assert livestream.status == "LIVE"
    assert (post.call_count, get.call_count) == (2, 2)


async def test_a_first_attempt_409_of_start_is_still_a_conflict(
    router: respx.MockRouter, dyte: AsyncDyte
) -> None:
    post = router.post(START).mock(side_effect=[error(409)])
    get = router.get(ACTIVE).mock(return_value=httpx.Response(200, json=ex.ACTIVE_LIVESTREAM_200))

    with pytest.raises(ConflictError):
        await dyte.livestreams.start(MEETING_ID)
    assert (post.call_count, get.call_count) == (1, 0)


async def test_a_409_whose_livestream_cannot_be_read_stays_a_conflict(
    router: respx.MockRouter, dyte: AsyncDyte, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    post = router.post(START).mock(side_effect=[httpx.Response(502), error(409)])
    get = router.get(ACTIVE).mock(return_value=error(404))

    with pytest.raises(ConflictError):
        await dyte.livestreams.start(MEETING_ID)
    assert (post.call_count, get.call_count) == (2, 2)
    assert any("status 409 stands" in line for line in info_lines(caplog))


# -- kick and mute ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "call"),
    [
        ("kick", lambda d: d.active_sessions.kick(MEETING_ID, participant_ids=["p1"])),
        ("mute", lambda d: d.active_sessions.mute(MEETING_ID, participant_ids=["p1"])),
        ("kick-all", lambda d: d.active_sessions.kick_all(MEETING_ID)),
    ],
)
@pytest.mark.parametrize("lost", LOST[:2] + LOST[3:4])
async def test_a_kick_whose_retry_finds_the_participants_gone_succeeded(
    router: respx.MockRouter,
    dyte: AsyncDyte,
    caplog: pytest.LogCaptureFixture,
    action: str,
    call: Any,
    lost: Any,
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    route = router.post(f"{SESSION}/{action}").mock(side_effect=[lost, error(404)])

    assert await call(dyte) == ModerationResult()

    assert route.call_count == 2
    assert any(
        "after an earlier attempt may have taken effect: the participants were already gone" in line
        for line in info_lines(caplog)
    )


@pytest.mark.parametrize("action", ["kick", "mute"])
async def test_a_first_attempt_404_of_a_kick_is_still_not_found(
    router: respx.MockRouter, dyte: AsyncDyte, action: str
) -> None:
    route = router.post(f"{SESSION}/{action}").mock(side_effect=[error(404)])

    with pytest.raises(NotFoundError):
        await getattr(dyte.active_sessions, action)(MEETING_ID, participant_ids=["p1"])
    assert route.call_count == 1


async def test_mute_all_has_no_settle_rule(router: respx.MockRouter, dyte: AsyncDyte) -> None:
    # Muting removes no one: a 404 after a lost answer means the session itself is gone.
    route = router.post(f"{SESSION}/mute-all").mock(
        side_effect=[httpx.ReadError("lost"), error(404)]
    )

    with pytest.raises(NotFoundError):
        await dyte.active_sessions.mute_all(MEETING_ID)
    assert route.call_count == 2


# -- the pure rule ----------------------------------------------------------------------------


def _failure(status: int, *, maybe_applied: bool = False) -> Failure:
    return Failure(
        error=NotFoundError("gone", status_code=status),
        retryable=False,
        transient=False,
        reason=f"status {status}",
        maybe_applied=maybe_applied,
    )


@pytest.mark.parametrize(
    ("status", "settled_by", "after", "expected"),
    [
        (404, frozenset({404}), True, SETTLE),
        (404, frozenset({404}), False, GiveUp("final")),
        (404, frozenset({409}), True, GiveUp("final")),
        (409, frozenset({409}), True, SETTLE),
        (404, frozenset(), True, GiveUp("final")),
    ],
)
def test_decide_settles_only_after_an_attempt_that_may_have_taken_effect(
    status: int, settled_by: frozenset[int], after: bool, expected: object
) -> None:
    decision = decide(
        _failure(status),
        attempt=1,
        policy=RetryPolicy(),
        remaining=10.0,
        budget_tokens=10.0,
        can_recover=True,
        settled_by=settled_by,
        after_maybe_applied=after,
    )
    assert decision == expected


def test_a_network_failure_has_no_status_and_recovery_keeps_maybe_applied() -> None:
    failure = Failure(
        error=ConflictError("x", status_code=409),
        retryable=False,
        transient=True,
        ambiguous=True,
        reason="status 409",
        maybe_applied=True,
    )
    assert failure.status == 409
    assert failure.after_recovery().maybe_applied is True
    assert Failure(error=ValueError("x"), retryable=True, transient=True, reason="r").status is None


# -- a connection dropped under an aiohttp transport ------------------------------------------


def dropped_under_aiohttp() -> httpx.ConnectTimeout:
    """How an aiohttp transport (ours, or httpx-aiohttp) reports a connection dropped
    mid-request: a `ConnectTimeout` caused by `ServerDisconnectedError`. The request may
    have been applied, although the class alone would say "never sent"."""
    import aiohttp

    exc = httpx.ConnectTimeout("server disconnected")
    exc.__cause__ = aiohttp.ServerDisconnectedError()
    return exc


@pytest.mark.parametrize(
    ("path", "call", "result"),
    [
        pytest.param(STOP, lambda d: d.livestreams.stop(MEETING_ID), "", id="stop"),
        pytest.param(
            f"{SESSION}/kick",
            lambda d: d.active_sessions.kick(MEETING_ID, participant_ids=["p1"]),
            ModerationResult(),
            id="kick",
        ),
    ],
)
async def test_a_write_dropped_under_aiohttp_then_404_took_effect(
    clock: FakeClock, caplog: pytest.LogCaptureFixture, path: str, call: Any, result: Any
) -> None:
    # A plain MockTransport (respx would chain its own error over the aiohttp cause): the
    # pipeline sanitizes the error, which replaces that cause, so whether the attempt may
    # have taken effect must be decided before.
    caplog.set_level(logging.INFO, logger="dyte_async")
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        if len(sent) == 1:
            raise dropped_under_aiohttp()
        return error(404)

    async with AsyncDyte(
        "org", "key", transport=httpx.MockTransport(handler), clock=clock, rate_limit=None
    ) as dyte:
        assert await call(dyte) == result
    assert sent == [f"/v2{path}", f"/v2{path}"]
    assert any("may have taken effect" in line for line in info_lines(caplog))
