"""What the send path says: its errors' messages and attributes, its recovery log lines, and
what it hands the `recover` hook."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import respx

from dyte_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncDyte,
    ClientClosedError,
    DyteError,
    InternalServerError,
    RateLimit,
    RetryPolicy,
)
from dyte_async._response import Envelope
from dyte_async.testing import FakeClock
from tests.unit.conftest import START

pytestmark = pytest.mark.anyio

PATH = "/meetings/m1/livestreams"
DONE = Envelope(data={"id": "ls1"}, body={"success": True}, status_code=200)


def err(status: int) -> httpx.Response:
    body = {"success": False, "error": {"code": status, "message": f"error {status}"}}
    return httpx.Response(status, json=body)


@pytest.fixture
async def dyte(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[AsyncDyte]:
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        retry=RetryPolicy(jitter=0.0),
        rate_limit=None,
    )
    yield client
    await client.aclose()


def info(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "dyte_async" and r.levelno == logging.INFO
    ]


async def test_recover_gets_the_calls_deadline_and_its_answer_is_logged(
    dyte: AsyncDyte, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    router.post(PATH).mock(side_effect=httpx.ReadTimeout("timed out"))
    deadlines: list[float] = []

    async def recover(deadline: float) -> Envelope | None:
        deadlines.append(deadline)
        return DONE

    found = await dyte._pipeline.send(
        "POST", PATH, json={}, timeout=7.0, idempotent=False, recover=recover
    )
    assert found is DONE
    assert deadlines == [START + 7.0]
    assert info(caplog) == [f"POST {PATH}: recovered after ReadTimeout: the write had taken effect"]
    assert dyte.stats().recovered == 1


@pytest.mark.parametrize(
    ("cannot_tell", "described"),
    [
        (InternalServerError("boom", status_code=500, method="GET", url="/x"), "status 500"),
        (APIConnectionError("down", method="GET", url="/x"), "APIConnectionError"),
    ],
)
async def test_a_recovery_that_cannot_tell_is_logged_and_the_first_error_raised(
    dyte: AsyncDyte,
    router: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    cannot_tell: DyteError,
    described: str,
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    route = router.post(PATH).mock(return_value=err(502))

    async def recover(deadline: float) -> Envelope | None:
        raise cannot_tell

    with pytest.raises(DyteError) as caught:
        await dyte._pipeline.send("POST", PATH, json={}, idempotent=False, recover=recover)
    assert getattr(caught.value, "status_code", None) == 502
    assert route.call_count == 1
    assert info(caplog) == [
        f"POST {PATH}: not retried after status 502: the recovery check failed ({described})"
    ]
    assert dyte.stats().recovered == 0


async def test_nothing_found_means_a_transient_failure_is_retried(
    dyte: AsyncDyte, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.post(PATH).mock(
        side_effect=[
            httpx.ReadTimeout("timed out"),
            httpx.Response(201, json={"success": True, "data": {"id": "ls2"}}),
        ]
    )
    asked: list[float] = []

    async def recover(deadline: float) -> Envelope | None:
        asked.append(deadline)
        return None

    found = await dyte._pipeline.send("POST", PATH, json={}, idempotent=False, recover=recover)
    assert found.data == {"id": "ls2"}
    assert route.call_count == 2
    assert len(asked) == 1
    assert clock.slept == [0.5]
    assert dyte.stats().retries == 1


@pytest.mark.parametrize(
    ("failure", "kind", "text"),
    [
        (
            httpx.ConnectError("refused"),
            APIConnectionError,
            "connection failed (ConnectError: refused)",
        ),
        (httpx.ReadError(""), APIConnectionError, "connection failed (ReadError)"),
        (httpx.ReadTimeout("slow"), APITimeoutError, "timed out (ReadTimeout: slow)"),
    ],
)
async def test_network_errors_name_the_call_and_the_cause(
    dyte: AsyncDyte,
    router: respx.MockRouter,
    failure: Exception,
    kind: type[APIConnectionError],
    text: str,
) -> None:
    router.get("/x").mock(side_effect=failure)
    with pytest.raises(kind) as caught:
        await dyte._pipeline.send("GET", "/x")
    error = caught.value
    assert type(error) is kind
    assert str(error).startswith(f"GET /x: {text}")
    assert (error.method, error.url) == ("GET", "/x")
    assert error.__cause__ is failure


async def test_a_deadline_before_the_attempt_names_the_call(
    dyte: AsyncDyte, router: respx.MockRouter
) -> None:
    route = router.get("/x").mock(return_value=err(503))
    with pytest.raises(APITimeoutError) as caught:
        await dyte._pipeline.send("GET", "/x", timeout=0)
    error = caught.value
    assert str(error).startswith(
        "GET /x: the call's deadline passed before the attempt (attempt 1, 0.00s)"
    )
    assert (error.method, error.url) == ("GET", "/x")
    assert route.call_count == 0


async def test_a_retry_that_would_outlast_the_deadline_raises_the_last_answer(
    dyte: AsyncDyte, router: respx.MockRouter, clock: FakeClock
) -> None:
    # 1 s for the call: the first retry (0.5 s) fits, the second (1 s) does not.
    route = router.get("/x").mock(side_effect=[err(503), err(503), err(503)])
    with pytest.raises(InternalServerError):
        await dyte._pipeline.send("GET", "/x", timeout=1.0)
    assert route.call_count == 2
    assert clock.slept == [0.5]


async def test_each_recovery_and_each_budget_refusal_is_counted(
    router: respx.MockRouter, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    router.post(PATH).mock(side_effect=httpx.ReadTimeout("timed out"))
    router.get("/x").mock(return_value=err(503))

    async def recover(deadline: float) -> Envelope | None:
        return DONE

    broke = RetryPolicy(jitter=0.0, budget_ratio=0.0, budget_floor=0.0)
    async with AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        retry=broke,
        rate_limit=None,
    ) as dyte:
        for _ in range(2):
            await dyte._pipeline.send("POST", PATH, json={}, idempotent=False, recover=recover)
            with pytest.raises(InternalServerError) as caught:
                await dyte._pipeline.send("GET", "/x")
            assert (caught.value.method, caught.value.url) == ("GET", "/x")
        stats = dyte.stats()
    assert (stats.recovered, stats.retries_refused, stats.retries) == (2, 2, 0)
    assert info(caplog).count("GET /x: retry refused by the retry budget after status 503") == 2


@pytest.mark.parametrize(
    ("answer", "timeout", "why"),
    [
        (
            httpx.Response(429, headers={"Retry-After": "61"}),
            600.0,
            "the server's Retry-After exceeds the cap",
        ),
        (
            httpx.Response(503, headers={"Retry-After": "30"}),
            10.0,
            "the wait would outlast the call's deadline",
        ),
    ],
)
async def test_a_retry_that_does_not_fit_is_logged_with_its_reason(
    dyte: AsyncDyte,
    router: respx.MockRouter,
    caplog: pytest.LogCaptureFixture,
    answer: httpx.Response,
    timeout: float,
    why: str,
) -> None:
    caplog.set_level(logging.INFO, logger="dyte_async")
    router.get("/x").mock(return_value=answer)
    with pytest.raises(DyteError):
        await dyte._pipeline.send("GET", "/x", timeout=timeout)
    status = answer.status_code
    assert info(caplog) == [f"GET /x: not retried after status {status}: {why}"]


async def test_the_deadline_of_a_call(dyte: AsyncDyte) -> None:
    pipeline = dyte._pipeline
    assert pipeline.deadline(5.0) == START + 5.0
    assert pipeline.deadline(None) == START + pipeline.timeout


async def test_a_rate_limit_wait_past_the_deadline_names_the_limiter(
    router: respx.MockRouter, clock: FakeClock
) -> None:
    router.get("/x").mock(return_value=httpx.Response(200, json={"success": True, "data": {}}))
    async with AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=RateLimit(1, per=10.0),
    ) as dyte:
        await dyte._pipeline.send("GET", "/x")
        with pytest.raises(APITimeoutError, match="passed waiting for the rate limiter"):
            await dyte._pipeline.send("GET", "/x", timeout=1.0)


async def test_the_debug_line_times_the_attempt(
    router: respx.MockRouter, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dyte_async")

    def slow(request: httpx.Request) -> httpx.Response:
        clock.advance(2.0)  # the answer takes 2 s
        return httpx.Response(200, json={"success": True, "data": {}})

    router.get("/x").mock(side_effect=slow)
    async with AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
    ) as dyte:
        await dyte._pipeline.send("GET", "/x")
    debug = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.DEBUG and r.name == "dyte_async"
    ]
    assert debug == ["GET /x -> 200 (attempt 1, 2.000s)"]


async def test_an_attempt_timeout_bounds_each_attempts_httpx_timeouts(
    router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get("/x").mock(
        return_value=httpx.Response(200, json={"success": True, "data": {}})
    )
    async with AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        attempt_timeout=3.0,
        connect_timeout=5.0,
    ) as dyte:
        await dyte._pipeline.send("GET", "/x", timeout=60.0)
        await dyte._pipeline.send("GET", "/x", timeout=2.0)
    first, second = (call.request.extensions["timeout"] for call in route.calls)
    assert first == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}
    assert second == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}


async def test_a_users_client_closed_under_us_is_client_closed_error(
    router: respx.MockRouter, clock: FakeClock
) -> None:
    http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    async with AsyncDyte("org", "key", http_client=http, clock=clock) as dyte:
        await http.aclose()
        with pytest.raises(
            ClientClosedError, match=r"^this AsyncDyte client was closed during the call$"
        ) as caught:
            await dyte._pipeline.send("GET", "/x")
    assert isinstance(caught.value.__cause__, RuntimeError)
