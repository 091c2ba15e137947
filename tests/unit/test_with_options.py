"""`with_options` and `with_raw_response` on the httpx lane (respx): the answer's headers
and request id, retries counted, a client passed in with `http_client=`."""

from __future__ import annotations

import httpx
import pytest
import respx

from dyte_async import AsyncDyte, RetryPolicy
from dyte_async.errors import RateLimitError
from dyte_async.testing import FakeClock
from tests.unit.conftest import BASE

pytestmark = pytest.mark.anyio

LIVESTREAM = {
    "id": "ls1",
    "meeting_id": "m1",
    "status": "LIVE",
    "stream_key": "sk-secret",
    "ingest_server": "rtmp://in",
    "playback_url": "https://play",
}


def answer(status: int = 200, **headers: str) -> httpx.Response:
    body = {"success": True, "data": LIVESTREAM} if status == 200 else {"success": False}
    return httpx.Response(status, json=body, headers=headers)


async def test_raw_response_has_the_answers_headers_and_request_id(
    dyte: AsyncDyte, router: respx.MockRouter, clock: FakeClock
) -> None:
    route = router.get("/meetings/m1/active-livestream")
    route.side_effect = [
        answer(503),
        answer(200, **{"x-request-id": "req-42", "x-ratelimit-remaining": "17"}),
    ]
    raw = await dyte.with_raw_response(dyte.livestreams.get_active, "m1")
    assert raw.parsed.stream_key == "sk-secret"
    assert raw.status_code == 200
    assert raw.request_id == "req-42"
    assert raw.headers["x-ratelimit-remaining"] == "17"
    assert raw.attempts == 2
    assert raw.elapsed >= 0
    assert "sk-secret" not in repr(raw)
    assert "req-42" in repr(raw)


async def test_a_call_that_sent_nothing_has_no_answer(dyte: AsyncDyte) -> None:
    async def local() -> int:
        return 7

    raw = await dyte.with_raw_response(local)
    assert (raw.parsed, raw.status_code, raw.attempts, raw.request_id) == (7, None, 0, None)
    assert len(raw.headers) == 0


async def test_errors_are_raised_as_the_call_raises_them(
    dyte: AsyncDyte, router: respx.MockRouter
) -> None:
    router.get("/meetings/m1/active-livestream").mock(
        return_value=httpx.Response(429, json={}, headers={"x-request-id": "r-9"})
    )
    with pytest.raises(RateLimitError) as caught:
        await dyte.with_options(max_retries=0).with_raw_response(dyte.livestreams.get_active, "m1")
    assert caught.value.request_id == "r-9"


async def test_a_client_passed_in_gets_the_derived_headers_and_query(
    router: respx.MockRouter,
) -> None:
    route = router.get("/meetings/m1/active-livestream").mock(return_value=answer())
    async with httpx.AsyncClient(
        transport=httpx.MockTransport(router.async_handler), headers={"X-Own": "o"}
    ) as http:
        dyte = AsyncDyte("org", "key", http_client=http, rate_limit=None)
        tagged = dyte.with_options(headers={"X-Tag": "t"}, query={"q": 1})
        await tagged.livestreams.get_active("m1")
        await dyte.livestreams.get_active("m1")
        await dyte.aclose()
    tagged_request, plain_request = (call.request for call in route.calls)
    assert tagged_request.headers["x-tag"] == "t"
    assert tagged_request.headers["x-own"] == "o"
    assert tagged_request.headers["authorization"].startswith("Basic ")
    assert tagged_request.url.params["q"] == "1"
    assert str(tagged_request.url).startswith(BASE)
    assert "x-tag" not in plain_request.headers
    assert "q" not in plain_request.url.params


async def test_the_original_keeps_its_options(dyte: AsyncDyte) -> None:
    derived = dyte.with_options(timeout=3, max_retries=5)
    assert derived._pipeline.timeout == 3
    assert derived.retry.max_retries == 5
    assert dyte.retry.max_retries == RetryPolicy().max_retries
    assert dyte._pipeline.timeout != 3
    assert derived.with_options(attempt_timeout=1)._pipeline.attempt_timeout == 1
    assert derived.with_options()._pipeline.timeout == 3  # a derived client's own defaults


def test_the_lean_lanes_extra_headers_replace_others_whatever_their_case() -> None:
    from dyte_async._transport._lean import _with_extra

    given = {"x-app": "a", "Authorization": "Basic x", "Content-Type": "application/json"}
    merged = _with_extra(given, {"X-App": "b", "content-type": "text/plain"})
    assert merged == {"Authorization": "Basic x", "X-App": "b", "content-type": "text/plain"}
    assert _with_extra(None, {"X-A": "1"}) == {"X-A": "1"}
