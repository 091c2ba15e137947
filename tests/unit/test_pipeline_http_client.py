"""A client passed in with `http_client=`: query params and JSON bodies reach the wire exactly.

Every method with a body (POST, PATCH, PUT) and a query-heavy GET, each through a user's
`httpx.AsyncClient` over a plain transport and over respx, compared with what our own
client sends for the same call.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import respx

from dyte_async import AsyncDyte, RetryPolicy
from dyte_async.testing import FakeClock
from tests.unit.conftest import BASE

pytestmark = pytest.mark.anyio

BODY = {"name": "town hall", "nested": {"ü": [1, 2.5, None, True]}, "empty": {}}
PARAMS = {
    "exclude_meetings": True,
    "page_no": 2,
    "status": None,
    "start_time": dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc),
    "q": "a b&c=d/é",
}
WIRE_QUERY = (
    "exclude_meetings=true&page_no=2&start_time=2024-05-01T12%3A30%3A00%2B00%3A00"
    "&q=a+b%26c%3Dd%2F%C3%A9"
)
CALLS = [
    ("GET", "/livestreams", PARAMS, None),
    ("POST", "/meetings/m1/livestreams", None, BODY),
    ("PATCH", "/presets/p1", None, BODY),
    ("PUT", "/meetings/m1", None, BODY),
    ("POST", "/meetings", {"dry_run": False}, BODY),
]


def answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": {"id": "x"}})


async def send_through(
    make_client: Callable[[httpx.AsyncBaseTransport], AsyncDyte],
    method: str,
    path: str,
    params: dict[str, Any] | None,
    body: Any,
) -> httpx.Request:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    dyte = make_client(httpx.MockTransport(record))
    async with dyte:
        await dyte._pipeline.send(method, path, params=params, json=body)
    [request] = seen
    return request


def ours(transport: httpx.AsyncBaseTransport) -> AsyncDyte:
    return AsyncDyte(
        "org", "key", transport=transport, clock=FakeClock(), retry=RetryPolicy(max_retries=0)
    )


def theirs(transport: httpx.AsyncBaseTransport) -> AsyncDyte:
    http = httpx.AsyncClient(transport=transport)
    return AsyncDyte(
        "org", "key", http_client=http, clock=FakeClock(), retry=RetryPolicy(max_retries=0)
    )


@pytest.mark.parametrize(("method", "path", "params", "body"), CALLS)
async def test_a_users_client_sends_params_and_body_exactly(
    method: str, path: str, params: dict[str, Any] | None, body: Any
) -> None:
    sent = await send_through(theirs, method, path, params, body)
    reference = await send_through(ours, method, path, params, body)
    assert sent.method == method
    assert str(sent.url) == str(reference.url)
    assert sent.url.path == "/v2" + path
    if body is None:
        assert sent.content == b""
    else:
        assert json.loads(sent.content) == body
        assert sent.content == reference.content
        assert sent.headers["content-type"] == "application/json"
        assert sent.headers["content-length"] == str(len(sent.content))
    if params is PARAMS:
        assert sent.url.query.decode() == WIRE_QUERY
    elif params:
        assert sent.url.params["dry_run"] == "false"
    assert sent.headers["authorization"] == reference.headers["authorization"]


@pytest.mark.parametrize(("method", "path", "params", "body"), CALLS)
async def test_a_users_client_over_respx_sends_params_and_body_exactly(
    router: respx.MockRouter,
    method: str,
    path: str,
    params: dict[str, Any] | None,
    body: Any,
) -> None:
    route = router.route(method=method, path=path).mock(side_effect=answer)
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http,
        AsyncDyte("org", "key", http_client=http, clock=FakeClock()) as dyte,
    ):
        await dyte._pipeline.send(method, path, params=params, json=body)
    assert route.call_count == 1
    request = route.calls.last.request
    assert str(request.url).startswith(BASE + path)
    if body is not None:
        assert json.loads(request.content) == body
    if params is PARAMS:
        assert request.url.query.decode() == WIRE_QUERY


async def test_a_users_own_params_are_kept_beside_ours() -> None:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(record), params={"tenant": "t1"})
    async with http, AsyncDyte("org", "key", http_client=http, clock=FakeClock()) as dyte:
        await dyte._pipeline.send("PATCH", "/presets/p1", params={"page_no": 3}, json=BODY)
    [request] = seen
    assert dict(request.url.params) == {"tenant": "t1", "page_no": "3"}
    assert json.loads(request.content) == BODY
