"""The request path's wire: the client we build gets its requests built cheaply, then `send`.

What goes on the wire must be what `build_request` + `send` would have sent, byte for byte;
errors must name their request; every response must be read and closed (its connection back
in the pool); a client passed in with `http_client=` still goes through `send`, with its
hooks and auth.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

from dyte_async import APIConnectionError, AsyncDyte, ClientClosedError, RateLimit, RetryPolicy
from dyte_async._request import _query, _url
from dyte_async.testing import FakeClock

pytestmark = pytest.mark.anyio

BASE = "https://api.dyte.io/v2"
LIVESTREAM = {"id": "ls1", "status": "LIVE"}


def ok(data: Any = LIVESTREAM) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data})


class Recorder:
    """A transport that keeps every request it is given and answers `ok()`."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return ok({"id": "m1", "message": "done"} if request.method != "GET" else LIVESTREAM)


def client(transport: httpx.AsyncBaseTransport, **options: Any) -> AsyncDyte:
    options.setdefault("clock", FakeClock())
    options.setdefault("retry", RetryPolicy(jitter=0.0, max_retries=0))
    return AsyncDyte("org", "key", transport=transport, **options)


async def reference(method: str, url: str, **kwargs: Any) -> httpx.Request:
    """The request `build_request` makes on a client configured as AsyncDyte configures its own."""
    dyte = client(httpx.MockTransport(Recorder().handle))
    async with dyte:
        http = dyte._get_http()
        return http.build_request(method, url, **kwargs)


@pytest.mark.parametrize(
    ("method", "path", "params", "body"),
    [
        ("GET", "/meetings/m1/active-livestream", None, None),
        ("DELETE", "/presets/p1", None, None),
        ("POST", "/meetings/m1/active-livestream/stop", None, None),
        ("POST", "/meetings/m1/livestreams", None, {"name": "x", "nested": {"ü": [1, 2.5]}}),
        ("PATCH", "/presets/p1", None, {"name": "y"}),
        (
            "GET",
            "/livestreams",
            {
                "exclude_meetings": True,
                "page_no": 2,
                "status": None,
                "start_time": dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc),
                "q": "a b&c=d/é",
            },
            None,
        ),
    ],
)
async def test_requests_are_what_build_request_would_make(
    method: str, path: str, params: dict[str, Any] | None, body: Any
) -> None:
    recorder = Recorder()
    async with client(httpx.MockTransport(recorder.handle)) as dyte:
        await dyte._pipeline.send(method, path, params=params, json=body)
    [sent] = recorder.requests
    expected = await reference(method, BASE + path, params=_query(params), json=body)
    assert sent.method == expected.method
    assert str(sent.url) == str(expected.url)
    assert sent.headers.raw == expected.headers.raw  # same headers, same order
    assert sent.content == expected.content
    if params:
        query = sent.url.params
        assert query["exclude_meetings"] == "true"
        assert query["start_time"] == "2024-05-01T12:30:00+00:00"
        assert "status" not in query


async def test_each_attempt_carries_its_own_timeouts() -> None:
    recorder = Recorder()
    async with client(httpx.MockTransport(recorder.handle), connect_timeout=2.0) as dyte:
        await dyte.livestreams.get_active("m1", timeout=7.5)
        await dyte.livestreams.get_active("m1", timeout=1.0)
    first, second = (r.extensions["timeout"] for r in recorder.requests)
    assert first == {"connect": 2.0, "read": 7.5, "write": 7.5, "pool": 7.5}
    assert second == {"connect": 1.0, "read": 1.0, "write": 1.0, "pool": 1.0}


async def test_urls_are_parsed_once() -> None:
    _url.cache_clear()
    async with client(httpx.MockTransport(Recorder().handle)) as dyte:
        for _ in range(5):
            await dyte.livestreams.get_active("m1")
    assert _url.cache_info().hits >= 4


async def test_a_transport_error_names_its_request() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")  # no request attached, as transports may do

    async with client(httpx.MockTransport(refuse)) as dyte:
        with pytest.raises(APIConnectionError) as info:
            await dyte.livestreams.get_active("m1")
    cause = info.value.__cause__
    assert isinstance(cause, httpx.ConnectError)
    assert cause.request.url == httpx.URL(BASE + "/meetings/m1/active-livestream")


class Stream(httpx.AsyncByteStream):
    """A streamed body (as httpcore's transport returns) that records being closed."""

    def __init__(
        self, chunks: list[bytes], fail_after: int | None = None, stall_after: int | None = None
    ) -> None:
        self.chunks = chunks
        self.fail_after = fail_after
        self.stall_after = stall_after
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for i, chunk in enumerate(self.chunks):
            if self.fail_after is not None and i >= self.fail_after:
                raise httpx.ReadError("connection reset")
            if self.stall_after is not None and i >= self.stall_after:
                await anyio.sleep_forever()
            await anyio.lowlevel.checkpoint()
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


class StreamingTransport(httpx.AsyncBaseTransport):
    def __init__(self, fail_after: int | None = None, stall_after: int | None = None) -> None:
        self.fail_after = fail_after
        self.stall_after = stall_after
        self.streams: list[Stream] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = httpx.Response(200, json={"success": True, "data": LIVESTREAM}).content
        stream = Stream([body[:10], body[10:]], self.fail_after, self.stall_after)
        self.streams.append(stream)
        return httpx.Response(200, headers={"Content-Type": "application/json"}, stream=stream)


async def test_a_streamed_answer_is_read_and_its_stream_closed() -> None:
    transport = StreamingTransport()
    async with client(transport) as dyte:
        livestream = await dyte.livestreams.get_active("m1")
    assert livestream.id == "ls1"
    assert [s.closed for s in transport.streams] == [True]


async def test_a_body_that_fails_midway_still_closes_its_stream() -> None:
    transport = StreamingTransport(fail_after=1)
    async with client(transport) as dyte:
        with pytest.raises(APIConnectionError, match="ReadError"):
            await dyte.livestreams.get_active("m1")
    assert [s.closed for s in transport.streams] == [True]


async def test_a_call_cancelled_while_reading_closes_its_stream() -> None:
    transport = StreamingTransport(stall_after=1)
    async with client(transport) as dyte:
        with anyio.move_on_after(0.2) as scope:
            await dyte.livestreams.get_active("m1", timeout=60)
    assert scope.cancelled_caught
    assert [s.closed for s in transport.streams] == [True]


async def test_a_call_made_in_a_cancelled_scope_sends_nothing() -> None:
    recorder = Recorder()
    async with client(httpx.MockTransport(recorder.handle)) as dyte:
        with anyio.CancelScope() as scope:
            scope.cancel()
            await dyte.livestreams.get_active("m1")
    assert scope.cancelled_caught
    assert recorder.requests == []
    assert dyte.stats().requests == 0


async def test_every_request_goes_through_the_public_send(monkeypatch: pytest.MonkeyPatch) -> None:
    # No private httpx attribute on the path (issue 13): our own client is driven through
    # `AsyncClient.send` like any other.
    sent: list[httpx.Request] = []
    real_send = httpx.AsyncClient.send

    async def counting_send(self: httpx.AsyncClient, request: httpx.Request, **kw: Any) -> Any:
        sent.append(request)
        return await real_send(self, request, **kw)

    monkeypatch.setattr(httpx.AsyncClient, "send", counting_send)
    async with client(httpx.MockTransport(Recorder().handle)) as dyte:
        assert (await dyte.livestreams.get_active("m1")).id == "ls1"
    assert [r.url.path for r in sent] == ["/v2/meetings/m1/active-livestream"]


async def test_a_client_passed_in_keeps_its_hooks_and_params() -> None:
    recorder = Recorder()
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.url.path)

    http = httpx.AsyncClient(
        transport=httpx.MockTransport(recorder.handle),
        event_hooks={"request": [hook]},
        params={"tenant": "t1"},
    )
    async with http, AsyncDyte("org", "key", http_client=http, clock=FakeClock()) as dyte:
        await dyte.livestreams.get_active("m1")
    [sent] = recorder.requests
    assert seen == ["/v2/meetings/m1/active-livestream"]
    assert sent.url.params["tenant"] == "t1"
    assert sent.headers["authorization"].startswith("Basic ")  # ours, sent per request


async def test_a_closed_client_fails_with_client_closed_error() -> None:
    dyte = client(httpx.MockTransport(Recorder().handle))
    await dyte.livestreams.get_active("m1")
    await dyte.aclose()
    with pytest.raises(ClientClosedError):
        await dyte.livestreams.get_active("m1")


async def test_the_rate_limit_slot_is_held_until_the_answer() -> None:
    clock = FakeClock()
    starts: list[float] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        starts.append(clock.now())
        await clock.sleep(2.0)  # the answer takes 2 s
        return ok()

    async with client(
        httpx.MockTransport(slow), clock=clock, rate_limit=RateLimit(1, per=1.0), timeout=600
    ) as dyte:
        await dyte.livestreams.get_active("m1")
        await dyte.livestreams.get_active("m1")
    # Counted from its start, the second could have begun at +1 s; the first answer came
    # at +2 s, so the server may have counted it then: the second waits until +3 s.
    assert starts == [1000.0, 1003.0]
