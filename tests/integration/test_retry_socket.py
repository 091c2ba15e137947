"""Retries, recovery, deadlines and the rate limit over a real socket on 127.0.0.1.

A tiny scripted HTTP/1.1 server (anyio, so it runs under asyncio and trio) answers each
request with the next scripted action for its method and path: an answer, a dropped
connection (closed right after reading the request), or a stall. Every test runs with
httpx's own transport and, on asyncio, with our aiohttp transport; the dropped-connection
test also with the httpx-aiohttp package's transport, which reports a drop as a
`ConnectTimeout`.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import attrs
import httpx
import pytest
import respx
from anyio.streams.buffered import BufferedByteReceiveStream

from dyte_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncDyte,
    InternalServerError,
    RateLimit,
    RetryPolicy,
)
from dyte_async._transport import HttpBackend

pytestmark = pytest.mark.anyio

FAST = RetryPolicy(initial_backoff=0.02, max_backoff=0.05)
API_KEY = "sk_live_integration_secret_0123"
STREAM_KEY = "stream_key_integration_secret_4567"
EXISTING = {"id": "ls-existing", "status": "LIVE", "stream_key": STREAM_KEY}
CREATED = {"id": "ls-new", "status": "INVOKED", "stream_key": STREAM_KEY}


# --- the scripted server --------------------------------------------------------------------


@attrs.frozen
class Action:
    kind: str  # "answer", "drop" or "stall"
    status: int = 200
    body: Any = None
    headers: tuple[tuple[str, str], ...] = ()
    seconds: float = 0.0
    sent: anyio.Event | None = None  # set once the answer is on the wire


def answer(status: int, data: Any = None, **headers: str) -> Action:
    if 200 <= status < 300:
        body: Any = {"success": True, "data": data}
    else:
        body = {"success": False, "error": {"code": status, "message": f"error {status}"}}
    return Action("answer", status, body, tuple(headers.items()))


DROP = Action("drop")


def stall(seconds: float = 5.0) -> Action:
    return Action("stall", seconds=seconds)


class ScriptedServer:
    """Answers requests from per-route scripts; the last action of a script repeats."""

    def __init__(self) -> None:
        self.scripts: dict[tuple[str, str], deque[Action]] = {}
        self.received: list[tuple[str, str, float]] = []
        self.headers_seen: list[bytes] = []

    def on(self, method: str, path: str, *actions: Action) -> None:
        self.scripts[(method, "/v2" + path)] = deque(actions)

    def count(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.received if (m, p) == (method, "/v2" + path))

    def times(self, method: str, path: str) -> list[float]:
        return [t for m, p, t in self.received if (m, p) == (method, "/v2" + path)]

    def _next(self, method: str, path: str) -> Action:
        script = self.scripts.get((method, path))
        if not script:
            return answer(404)
        return script.popleft() if len(script) > 1 else script[0]

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        reader = BufferedByteReceiveStream(stream)
        async with stream:
            while True:
                try:
                    head = await reader.receive_until(b"\r\n\r\n", 65536)
                except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:])
                }
                length = int(headers.get("content-length", "0"))
                if length:
                    await reader.receive_exactly(length)
                self.headers_seen.append(head)
                path = target.split("?", 1)[0]
                self.received.append((method, path, time.monotonic()))
                action = self._next(method, path)
                if action.kind == "drop":
                    return  # close without a word, the request fully read
                if action.kind == "stall":
                    await anyio.sleep(action.seconds)
                    return
                payload = json.dumps(action.body).encode()
                extra = "".join(f"{k}: {v}\r\n" for k, v in action.headers)
                await stream.send(
                    (
                        f"HTTP/1.1 {action.status} Status\r\n"
                        "Content-Type: application/json\r\n"
                        f"Content-Length: {len(payload)}\r\n{extra}\r\n"
                    ).encode()
                    + payload
                )
                if action.sent is not None:
                    action.sent.set()


@asynccontextmanager
async def serve(server: ScriptedServer) -> AsyncIterator[str]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    try:
        async with anyio.create_task_group() as tg:
            tg.start_soon(listener.serve, server.handle)
            try:
                yield f"http://127.0.0.1:{port}/v2"
            finally:
                tg.cancel_scope.cancel()
    finally:
        await listener.aclose()


async def closed_port() -> int:
    """A port on 127.0.0.1 with nothing listening (connections are refused)."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = int(listener.extra(anyio.abc.SocketAttribute.local_port))
    await listener.aclose()
    return port


# --- clients --------------------------------------------------------------------------------


@pytest.fixture(
    params=[("asyncio", "httpcore"), ("asyncio", "aiohttp"), ("trio", "httpcore")],
    ids=["asyncio-httpcore", "asyncio-aiohttp", "trio-httpcore"],
)
def stack(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(async library, client transport): aiohttp runs on asyncio only."""
    library, transport = request.param
    return str(library), str(transport)


@pytest.fixture
def anyio_backend(stack: tuple[str, str]) -> str:
    return stack[0]


@pytest.fixture
def http_backend(stack: tuple[str, str]) -> HttpBackend:
    return "aiohttp" if stack[1] == "aiohttp" else "httpcore"


def client(base_url: str, http_backend: HttpBackend, **options: Any) -> AsyncDyte:
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 5.0)
    return AsyncDyte("org", API_KEY, base_url=base_url, http_backend=http_backend, **options)


# --- tests ----------------------------------------------------------------------------------


async def test_server_errors_are_retried_until_success(http_backend) -> None:
    server = ScriptedServer()
    server.on(
        "GET", "/meetings/m1/active-livestream", answer(503), answer(502), answer(200, EXISTING)
    )
    async with serve(server) as url, client(url, http_backend) as dyte:
        livestream = await dyte.livestreams.get_active("m1")
    assert livestream.id == "ls-existing"
    assert server.count("GET", "/meetings/m1/active-livestream") == 3
    assert dyte.stats().retries == 2


async def test_retries_stop_at_max_retries(http_backend) -> None:
    server = ScriptedServer()
    server.on("GET", "/meetings/m1/active-livestream", answer(503))
    async with serve(server) as url, client(url, http_backend) as dyte:
        with pytest.raises(InternalServerError):
            await dyte.livestreams.get_active("m1")
    assert server.count("GET", "/meetings/m1/active-livestream") == 3


async def test_start_after_a_dropped_connection_returns_the_active_livestream(
    http_backend, caplog
) -> None:
    caplog.set_level(logging.DEBUG)
    server = ScriptedServer()
    server.on("POST", "/meetings/m1/livestreams", DROP, answer(201, CREATED))
    server.on("GET", "/meetings/m1/active-livestream", answer(200, EXISTING))
    async with serve(server) as url, client(url, http_backend) as dyte:
        livestream = await dyte.livestreams.start("m1", name="town")
    assert livestream.id == "ls-existing"
    assert server.count("POST", "/meetings/m1/livestreams") == 1  # exactly one POST
    assert server.count("GET", "/meetings/m1/active-livestream") == 1
    assert dyte.stats().recovered == 1
    # The server did see the credentials; no log record did.
    basic = base64.b64encode(f"org:{API_KEY}".encode()).decode()
    assert basic.encode() in server.headers_seen[0]
    assert any(r.name == "dyte_async" for r in caplog.records)
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert API_KEY not in text
        assert basic not in text
        assert STREAM_KEY not in text


async def test_start_after_a_drop_behind_httpx_aiohttp(http_backend) -> None:
    if http_backend != "aiohttp":
        pytest.skip("runs once, on asyncio")
    httpx_aiohttp = pytest.importorskip("httpx_aiohttp")
    server = ScriptedServer()
    server.on("POST", "/meetings/m1/livestreams", DROP, answer(201, CREATED))
    server.on("GET", "/meetings/m1/active-livestream", answer(200, EXISTING))
    async with serve(server) as url:
        transport = httpx_aiohttp.AiohttpTransport()
        async with AsyncDyte("org", API_KEY, base_url=url, transport=transport, retry=FAST) as dyte:
            livestream = await dyte.livestreams.start("m1")
    assert livestream.id == "ls-existing"
    assert server.count("POST", "/meetings/m1/livestreams") == 1


async def test_start_after_a_drop_with_nothing_active_starts_once_more(http_backend) -> None:
    server = ScriptedServer()
    server.on("POST", "/meetings/m1/livestreams", DROP, answer(201, CREATED))
    server.on("GET", "/meetings/m1/active-livestream", answer(404))
    async with serve(server) as url, client(url, http_backend) as dyte:
        livestream = await dyte.livestreams.start("m1")
    assert livestream.id == "ls-new"
    assert server.count("POST", "/meetings/m1/livestreams") == 2
    assert server.count("GET", "/meetings/m1/active-livestream") == 1


async def test_other_writes_are_not_retried_after_a_drop(http_backend) -> None:
    server = ScriptedServer()
    server.on("POST", "/meetings", DROP, answer(201, {"id": "m1"}))
    async with serve(server) as url, client(url, http_backend) as dyte:
        with pytest.raises(APIConnectionError) as info:
            await dyte.meetings.create(title="Town hall")
    assert isinstance(info.value.__cause__, httpx.TransportError)
    assert server.count("POST", "/meetings") == 1


async def test_a_refused_connection_is_retried_even_for_writes(http_backend) -> None:
    url = f"http://127.0.0.1:{await closed_port()}/v2"
    async with client(url, http_backend) as dyte:
        with pytest.raises(APIConnectionError) as info:
            await dyte.livestreams.start("m1")
        assert dyte.stats().requests == 3
        with pytest.raises(APIConnectionError):
            await dyte.meetings.create(title="Town hall")
        assert dyte.stats().requests == 6
    assert isinstance(info.value.__cause__, httpx.ConnectError)
    assert not isinstance(info.value, httpx.HTTPError)


async def test_a_real_read_timeout_ends_the_call_at_its_deadline(http_backend) -> None:
    server = ScriptedServer()
    server.on("GET", "/meetings/m1/active-livestream", stall())
    async with serve(server) as url, client(url, http_backend) as dyte:
        began = time.monotonic()
        with pytest.raises(APITimeoutError) as info:
            await dyte.livestreams.get_active("m1", timeout=0.3)
        elapsed = time.monotonic() - began
    assert 0.25 <= elapsed < 1.0
    assert isinstance(info.value, TimeoutError)
    assert server.count("GET", "/meetings/m1/active-livestream") == 1


async def test_a_stalled_attempt_is_retried_within_the_deadline(http_backend) -> None:
    server = ScriptedServer()
    server.on("GET", "/meetings/m1/active-livestream", stall(), answer(200, EXISTING))
    server.on("POST", "/meetings/m1/livestreams", stall(), answer(201, CREATED))
    async with serve(server) as url, client(url, http_backend, attempt_timeout=0.2) as dyte:
        began = time.monotonic()
        livestream = await dyte.livestreams.get_active("m1", timeout=1.5)
        assert livestream.id == "ls-existing"
        # A stalled start is a read timeout: ambiguous, so recovered by a read.
        livestream = await dyte.livestreams.start("m1", timeout=1.5)
        elapsed = time.monotonic() - began
    assert livestream.id == "ls-existing"
    assert server.count("POST", "/meetings/m1/livestreams") == 1
    assert server.count("GET", "/meetings/m1/active-livestream") == 3
    assert elapsed < 1.5


async def test_a_429_pauses_every_caller_of_the_client(http_backend) -> None:
    server = ScriptedServer()
    limited = anyio.Event()
    first = attrs.evolve(answer(429, **{"Retry-After": "0.3"}), sent=limited)
    server.on("GET", "/meetings/a/active-livestream", first, answer(200, EXISTING))
    server.on("GET", "/meetings/b/active-livestream", answer(200, EXISTING))
    async with (
        serve(server) as url,
        client(url, http_backend) as dyte,
        anyio.create_task_group() as tg,
    ):
        tg.start_soon(dyte.livestreams.get_active, "a")
        await limited.wait()
        await anyio.sleep(0.02)  # the 429 has reached the client
        tg.start_soon(dyte.livestreams.get_active, "b")
    first_a, second_a = server.times("GET", "/meetings/a/active-livestream")
    (b,) = server.times("GET", "/meetings/b/active-livestream")
    assert second_a - first_a >= 0.29
    assert b - first_a >= 0.29  # b never saw the 429, yet waited for it
    assert dyte.stats().rate_limited == 1


async def test_the_rate_limit_holds_on_the_wire(http_backend) -> None:
    server = ScriptedServer()
    server.on("GET", "/meetings/m1/active-livestream", answer(503), answer(200, EXISTING))
    limit = RateLimit(3, per=0.25)
    async with (
        serve(server) as url,
        client(url, http_backend, rate_limit=limit) as dyte,
        anyio.create_task_group() as tg,
    ):
        for _ in range(8):
            tg.start_soon(dyte.livestreams.get_active, "m1")
    times = sorted(server.times("GET", "/meetings/m1/active-livestream"))
    assert len(times) == 9  # one 503, retried
    margin = 0.03  # arrivals are shifted by scheduling and the loopback
    for i in range(len(times) - 3):
        assert times[i + 3] - times[i] >= 0.25 - margin
    assert dyte.stats().limiter_wait_seconds > 0


# --- the deadline on real time (moved from tests/unit: it needs the event loop's clock) -------


async def test_deadline_during_a_slow_attempt_is_prompt(anyio_backend: str) -> None:
    """The whole-call deadline is also enforced on real time around each attempt."""
    arrived: list[httpx.Request] = []

    async def stall(request: httpx.Request) -> httpx.Response:
        arrived.append(request)
        await anyio.sleep(10)
        return httpx.Response(200, json={"success": True, "data": {"id": "ls1"}})

    router = respx.MockRouter(base_url="https://api.dyte.io/v2", assert_all_called=False)
    router.get("/meetings/m1/active-livestream").mock(side_effect=stall)
    async with AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        retry=RetryPolicy(jitter=0.0),
    ) as dyte:
        began = time.monotonic()
        with pytest.raises(APITimeoutError, match="in flight"):
            await dyte.livestreams.get_active("m1", timeout=0.05)
        assert time.monotonic() - began < 1.0
    assert len(arrived) == 1
