"""The lean lane (`_transport/_lean.py`) over a real socket on 127.0.0.1, asyncio only.

The client we build on asyncio sends straight to aiohttp. These check what it sends (the
same bytes as the httpx lane), that it keeps every guarantee of the httpx lane (errors
mapped the same way, writes that may have been applied never resent, the size cap and
capped inflate, cancellation), and the shared-session hazard: no request of ours leaves
without its credentials, and none that removed them (the webhook key fetch) gets them back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import anyio
import anyio.abc
import httpx
import pytest

from dyte_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncDyte,
    ClientClosedError,
    DyteError,
    NotFoundError,
    RateLimit,
    ResponseTooLargeError,
    RetryPolicy,
)
from dyte_async._pipeline import Pipeline
from dyte_async._redact import MASK
from dyte_async._transport import AiohttpTransport
from dyte_async._transport._aiohttp_reuse import GuardedConnector
from dyte_async._transport._lean import LeanLane
from tests.integration.loopback import listening, read_request

pytestmark = pytest.mark.anyio

KEY = "lean-secret-api-key-0123456789"
LIVESTREAM = {"id": "ls1", "status": "LIVE", "meeting_id": "m1", "stream_key": "sk"}
Handler = Callable[[anyio.abc.SocketStream, bytes, bytes], Awaitable[bool]]
"""Answers one request (its head and body); returns False to end the connection."""


@pytest.fixture(autouse=True)
def asyncio_only(anyio_backend: str) -> None:
    if anyio_backend != "asyncio":
        pytest.skip("the lean lane runs on asyncio only")


def answer(
    body: bytes | dict[str, Any] | None = None, status: bytes = b"200 OK", extra: bytes = b""
) -> bytes:
    if body is None:
        body = {"success": True, "data": LIVESTREAM}
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(raw)).encode() + b"\r\n" + extra + b"\r\n" + raw
    )


class Server:
    """What the server saw: request heads and bodies, connections opened and closed."""

    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.bodies: list[bytes] = []
        self.opened = 0
        self.closed = 0
        self.open_now = 0
        self.most_open = 0


@contextlib.asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[tuple[str, Server]]:
    server = Server()

    async def connection(stream: anyio.abc.SocketStream) -> None:
        server.opened += 1
        server.open_now += 1
        server.most_open = max(server.most_open, server.open_now)
        try:
            async with stream:
                buffer = b""
                while True:
                    head, body, buffer = await read_request(stream, buffer)
                    server.heads.append(head)
                    server.bodies.append(body)
                    if not await handler(stream, head, body):
                        return
        except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
            return
        finally:
            server.open_now -= 1
            server.closed += 1

    async with listening(connection) as base:
        yield base, server


async def ok(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
    await stream.send(answer())
    return True


async def hang_up(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
    return False


async def never_answer(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
    await anyio.sleep_forever()
    return False  # pragma: no cover


def client(base: str, **options: Any) -> AsyncDyte:
    options.setdefault("retry", RetryPolicy(max_retries=2, jitter=0.0, initial_backoff=0.01))
    options.setdefault("rate_limit", None)
    return AsyncDyte("org", KEY, base_url=base + "/v2", **options)


def headers_of(head: bytes) -> dict[bytes, bytes]:
    lines = head.split(b"\r\n")[1:]
    return {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(b":") for line in lines)
    }


def lane_of(dyte: AsyncDyte) -> LeanLane | None:
    return dyte._pipeline.lean


# -- which lane ------------------------------------------------------------------------------


async def test_the_client_we_build_on_asyncio_takes_the_lean_lane() -> None:
    async with serve(ok) as (base, server), client(base, max_concurrency=3) as dyte:
        livestream = await dyte.livestreams.get_active("m1")
        lane = lane_of(dyte)
        assert lane is not None
        assert lane.session is not None
        assert lane.session.connector is not None
        assert lane.session.connector.limit == 3  # max_concurrency
        assert isinstance(dyte._transport, AiohttpTransport)
        assert dyte._transport.session is lane.session
    assert livestream.id == "ls1"
    assert server.heads[0].startswith(b"GET /v2/meetings/m1/active-livestream HTTP/1.1")
    assert lane.session is None  # closed with the client


async def test_a_transport_or_client_passed_in_keeps_the_httpx_lane() -> None:
    async with serve(ok) as (base, server):
        transport = AiohttpTransport(limits=httpx.Limits(max_connections=5))
        async with client(base, transport=transport) as dyte:
            await dyte.livestreams.get_active("m1")
            assert lane_of(dyte) is None
        async with (
            httpx.AsyncClient(transport=AiohttpTransport(limits=httpx.Limits())) as http,
            client(base, http_client=http) as dyte,
        ):
            await dyte.livestreams.get_active("m1")
            assert lane_of(dyte) is None
        async with client(base, http_backend="httpcore") as dyte:
            await dyte.livestreams.get_active("m1")
            assert lane_of(dyte) is None
    assert len(server.heads) == 3


# -- the wire --------------------------------------------------------------------------------


CALLS: list[tuple[str, str, dict[str, Any] | None, Any]] = [
    ("GET", "/meetings/m1/active-livestream", None, None),
    (
        "GET",
        "/livestreams",
        {"exclude_meetings": True, "start_time": dt.datetime(2024, 5, 1, 12), "page_no": 2},
        None,
    ),
    ("GET", "/meetings", {"search": "a b&c=d/é"}, None),
    ("POST", "/meetings/m1/livestreams", None, {"name": "town hall é ✓", "n": 1.5}),
    ("POST", "/meetings/m1/active-livestream/stop", None, None),
    ("PATCH", "/meetings/m1", None, {"title": None, "record_on_start": False}),
    ("DELETE", "/meetings/m1/participants/p1", None, None),
]


async def test_the_lean_lane_sends_what_the_httpx_lane_sends() -> None:
    async with serve(ok) as (base, server):
        async with client(base) as dyte:
            assert lane_of(dyte) is not None
            for method, path, params, body in CALLS:
                await dyte._pipeline.send(method, path, params=params, json=body)
        lean = list(zip(server.heads, server.bodies, strict=True))
        server.heads.clear()
        server.bodies.clear()
        transport = AiohttpTransport(limits=httpx.Limits(max_connections=100))
        async with client(base, transport=transport) as dyte:
            assert lane_of(dyte) is None
            for method, path, params, body in CALLS:
                await dyte._pipeline.send(method, path, params=params, json=body)
        plain = list(zip(server.heads, server.bodies, strict=True))
    assert len(lean) == len(plain) == len(CALLS)
    for (lean_head, lean_body), (plain_head, plain_body) in zip(lean, plain, strict=True):
        assert lean_head.split(b"\r\n")[0] == plain_head.split(b"\r\n")[0]
        assert headers_of(lean_head) == headers_of(plain_head)
        assert lean_body == plain_body
    first = headers_of(lean[0][0])
    assert first[b"authorization"].startswith(b"Basic ")
    assert first[b"accept"] == b"application/json"
    assert first[b"user-agent"].startswith(b"dyte-async/")
    assert b"content-type" not in first
    post = headers_of(lean[3][0])
    assert post[b"content-type"] == b"application/json"
    assert json.loads(lean[3][1]) == {"name": "town hall é ✓", "n": 1.5}
    assert b"%C3%A9" in lean[2][0].split(b"\r\n")[0]  # httpx's query encoding


async def test_extra_headers_go_on_every_request_once() -> None:
    extra = {"X-Team": "live", "Accept": "application/json"}
    async with serve(ok) as (base, server), client(base, headers=extra) as dyte:
        await dyte.livestreams.get_active("m1")
        await dyte._pipeline.send("POST", "/meetings", json={})
    for head in server.heads:
        names = [line.split(b":")[0].lower() for line in head.split(b"\r\n")[1:]]
        assert names.count(b"authorization") == 1
        assert names.count(b"accept") == 1
        assert names.count(b"content-type") <= 1
        assert headers_of(head)[b"x-team"] == b"live"


# -- the shared-session hazard ---------------------------------------------------------------


async def test_no_request_leaves_without_its_credentials_whichever_lane_opened_first() -> None:
    async with serve(ok) as (base, server), client(base) as dyte:
        # The httpx lane (the webhook key fetch) opens the transport's session first.
        with contextlib.suppress(DyteError):
            await dyte.webhooks.public_key()
        await dyte.livestreams.get_active("m1")
        with contextlib.suppress(DyteError):
            await dyte.webhooks.public_key(refresh=True)
        await dyte._pipeline.send("POST", "/meetings", json={"title": "x"})
    key_fetches = [h for h in server.heads if b"/.well-known/" in h.split(b"\r\n")[0]]
    ours = [h for h in server.heads if b" /v2/" in h.split(b"\r\n")[0]]
    assert len(key_fetches) >= 2
    assert len(ours) == 2
    for head in key_fetches:  # the key's host gets no credentials
        assert b"authorization" not in headers_of(head)
        assert KEY.encode() not in head
    for head in ours:
        assert headers_of(head)[b"authorization"].startswith(b"Basic ")


async def test_a_session_without_the_constant_headers_gets_them_per_request() -> None:
    async with serve(ok) as (base, server), client(base) as dyte:
        lane = lane_of(dyte)
        assert lane is not None
        own, bare = lane.session, aiohttp.ClientSession()
        try:
            lane._session = bare  # as if something had opened a session without them
            await dyte.livestreams.get_active("m1")
            await dyte._pipeline.send("POST", "/meetings", json={"title": "x"})
        finally:
            lane._session = own  # closed with the client
            await bare.close()
    for head in server.heads:
        headers = headers_of(head)
        assert headers[b"authorization"].startswith(b"Basic ")
        assert headers[b"accept"] == b"application/json"
    assert headers_of(server.heads[1])[b"content-type"] == b"application/json"


# -- errors ----------------------------------------------------------------------------------


async def test_a_refused_connection_is_a_connect_error_retried_even_for_a_write() -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    async with client(f"http://127.0.0.1:{port}") as dyte:
        with anyio.fail_after(10), pytest.raises(APIConnectionError) as caught:
            await dyte._pipeline.send("POST", "/meetings", json={}, idempotent=False)
        assert dyte.stats().requests == 3  # never sent: a write may be retried
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert KEY not in repr(caught.value.__cause__.request.headers)


async def test_a_dropped_write_is_not_resent_and_its_error_holds_no_secret() -> None:
    async with serve(hang_up) as (base, server), client(base) as dyte:
        with pytest.raises(APIConnectionError) as caught:
            await dyte._pipeline.send("POST", "/meetings", json={}, idempotent=False)
    assert len(server.heads) == 1  # may have been applied: not resent
    cause = caught.value.__cause__
    assert isinstance(cause, httpx.RemoteProtocolError)
    assert cause.request.headers["authorization"] == MASK
    chain = f"{caught.value!r} {caught.value} {cause!r} {cause} {cause.__cause__!r}"
    assert KEY not in chain


async def test_a_dropped_read_is_sent_again() -> None:
    # By aiohttp itself (an idempotent request on a dropped connection, as on the httpx
    # lane over the same transport), or by the pipeline.
    answered: list[bool] = []

    async def drop_first(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        if not answered:
            answered.append(False)
            return False
        await stream.send(answer())
        return True

    async with serve(drop_first) as (base, server), client(base) as dyte:
        livestream = await dyte.livestreams.get_active("m1")
    assert livestream.id == "ls1"
    assert len(server.heads) >= 2


async def test_a_stop_whose_answer_was_lost_then_404_is_a_success() -> None:
    seen: list[bytes] = []

    async def lose_then_404(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        seen.append(head)
        if len(seen) == 1:
            return False  # the stop may have happened; its answer is lost
        error = {"success": False, "error": {"code": 404, "message": "no active livestream"}}
        await stream.send(answer(error, status=b"404 Not Found"))
        return True

    async with serve(lose_then_404) as (base, _), client(base) as dyte:
        await dyte.livestreams.stop("m1")
        assert dyte.stats().recovered == 1
    assert len(seen) == 2


async def test_a_404_on_the_first_attempt_stays_an_error() -> None:
    async def not_found(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        error = {"success": False, "error": {"code": 404, "message": f"no {KEY}"}}
        await stream.send(answer(error, status=b"404 Not Found", extra=b"X-Request-Id: r1\r\n"))
        return True

    async with serve(not_found) as (base, server), client(base) as dyte:
        with pytest.raises(NotFoundError) as caught:
            await dyte.livestreams.stop("m1")
    assert len(server.heads) == 1
    assert caught.value.request_id == "r1"
    assert KEY not in f"{caught.value} {caught.value!r} {caught.value.body}"


async def test_an_attempt_that_hangs_ends_at_the_call_deadline() -> None:
    async with serve(never_answer) as (base, server), client(base) as dyte:
        began = anyio.current_time()
        with anyio.fail_after(5), pytest.raises(APITimeoutError):
            await dyte.livestreams.get_active("m1", timeout=0.3)
        elapsed = anyio.current_time() - began
    assert 0.25 < elapsed < 2.0
    assert len(server.heads) >= 1


async def test_attempt_timeout_retries_a_stalled_read_within_the_call() -> None:
    stalled: list[bool] = []

    async def stall_first(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        if not stalled:
            stalled.append(True)
            await anyio.sleep_forever()
        await stream.send(answer())
        return True

    async with serve(stall_first) as (base, server), client(base, attempt_timeout=0.2) as dyte:
        with anyio.fail_after(5):
            livestream = await dyte.livestreams.get_active("m1", timeout=3)
    assert livestream.id == "ls1"
    assert len(server.heads) == 2


async def test_a_loopback_base_url_never_takes_the_environment_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The environment's proxies apply to remote hosts only (tests/integration/test_proxy.py).
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")  # nothing listens there
    async with serve(ok) as (base, server), client(base) as dyte:
        assert (await dyte.livestreams.get_active("m1")).id == "ls1"
    assert server.heads[0].startswith(b"GET /v2/")  # direct, not a proxy's absolute form


# -- compression and the size cap ------------------------------------------------------------


async def test_a_gzip_answer_is_inflated() -> None:
    raw = gzip.compress(json.dumps({"success": True, "data": LIVESTREAM}).encode())

    async def gzipped(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        await stream.send(answer(raw, extra=b"Content-Encoding: gzip\r\n"))
        return True

    async with serve(gzipped) as (base, _), client(base) as dyte:
        assert (await dyte.livestreams.get_active("m1")).status.value == "LIVE"


async def test_a_gzip_bomb_is_refused_at_the_cap_and_its_connection_closed() -> None:
    bomb = gzip.compress(b"{" + b" " * 2_000_000 + b"}")

    async def bombing(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        await stream.send(answer(bomb, extra=b"Content-Encoding: gzip\r\n"))
        return True

    async with serve(bombing) as (base, _), client(base, max_response_bytes=100_000) as dyte:
        with pytest.raises(ResponseTooLargeError) as caught:
            await dyte.livestreams.get_active("m1")
        assert dyte.stats().requests == 1  # never retried
    assert caught.value.status_code == 200
    assert "100000" in str(caught.value)


async def test_a_body_longer_than_the_cap_is_refused_and_not_pooled() -> None:
    # Long enough that it cannot all be in the client's buffers when it is refused.
    big = b'{"success": true, "data": "' + b"x" * 3_000_000 + b'"}'

    async def chunked(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        await stream.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        for start in range(0, len(big), 65536):
            piece = big[start : start + 65536]
            await stream.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        await stream.send(b"0\r\n\r\n")
        return True

    async def lengthy(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        await stream.send(answer(big))
        return True

    for handler in (chunked, lengthy):
        async with serve(handler) as (base, server):
            async with client(base, max_response_bytes=10_000) as dyte:
                for _ in range(2):
                    with anyio.fail_after(5), pytest.raises(ResponseTooLargeError):
                        await dyte.livestreams.get_active("m1")
            assert (handler.__name__, server.opened) == (handler.__name__, 2)  # not pooled


async def test_a_corrupt_gzip_body_fails_as_on_the_httpx_lane() -> None:
    async def corrupt(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        await stream.send(answer(b"not gzip at all", extra=b"Content-Encoding: gzip\r\n"))
        return True

    errors = []
    async with serve(corrupt) as (base, _):
        async with client(base) as dyte:
            with pytest.raises(DyteError) as lean:
                await dyte.livestreams.get_active("m1")
        errors.append(lean.value)
        transport = AiohttpTransport(limits=httpx.Limits(max_connections=10))
        async with client(base, transport=transport) as dyte:
            with pytest.raises(DyteError) as plain:
                await dyte.livestreams.get_active("m1")
        errors.append(plain.value)
    assert type(errors[0]) is type(errors[1]) is APIConnectionError
    assert type(errors[0].__cause__) is type(errors[1].__cause__) is httpx.DecodingError


# -- cancellation ----------------------------------------------------------------------------


async def test_a_cancellation_storm_leaves_the_lane_healthy() -> None:
    async def sometimes_slow(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        await anyio.sleep(random.choice((0.0, 0.005, 0.05)))
        await stream.send(answer())
        return True

    rng = random.Random(7)
    async with serve(sometimes_slow) as (base, server), client(base, max_concurrency=10) as dyte:

        async def impatient() -> None:
            with anyio.move_on_after(rng.uniform(0, 0.01)):
                await dyte.livestreams.get_active("m1")

        with anyio.fail_after(30):
            for _ in range(15):
                async with anyio.create_task_group() as group:
                    for _ in range(20):
                        group.start_soon(impatient)
            results = []

            async def patient() -> None:
                results.append(await dyte.livestreams.get_active("m1", timeout=10))

            async with anyio.create_task_group() as group:
                for _ in range(20):
                    group.start_soon(patient)
        lane = lane_of(dyte)
        assert lane is not None
        assert lane.session is not None
        assert lane.session.connector is not None
        assert lane.session.connector.limit == 10
    assert len(results) == 20
    assert len(server.heads) <= 15 * 20 + 20


async def test_the_rate_limit_counts_every_lean_attempt() -> None:
    async with serve(ok) as (base, server), client(base, rate_limit=RateLimit(5, 60)) as dyte:
        for _ in range(5):
            await dyte.livestreams.get_active("m1")
        with anyio.fail_after(5), pytest.raises(APITimeoutError):
            await dyte.livestreams.get_active("m1", timeout=0.5)
    assert len(server.heads) == 5


# -- the attempt without a cancel scope (nothing waits) --------------------------------------


async def test_steady_concurrent_calls_reuse_their_connections_without_a_cancel_scope(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What the benchmark's throughput rests on (measured, issue on c=10/c=100): calls that
    # find a free slot and a free token never wait in a scope, and the reuse guard keeps
    # good pooled connections (closing them would mean a new connection per request).
    taken: list[bool] = []
    attempt_now = Pipeline._attempt_now

    async def counted(self: Pipeline, *args: Any) -> Any:
        outcome = await attempt_now(self, *args)
        taken.append(outcome is not None)
        return outcome

    monkeypatch.setattr(Pipeline, "_attempt_now", counted)
    workers, calls = 10, 20
    async with (
        serve(ok) as (base, server),
        client(base, max_concurrency=workers, rate_limit=RateLimit(10_000, 1)) as dyte,
    ):

        async def worker() -> None:
            for _ in range(calls):
                await dyte.livestreams.get_active("m1")

        with anyio.fail_after(30):
            async with anyio.create_task_group() as group:
                for _ in range(workers):
                    group.start_soon(worker)
        lane = lane_of(dyte)
        assert lane is not None
        assert lane.session is not None
        connector = lane.session.connector
        assert isinstance(connector, GuardedConnector)
        assert connector.refused == 0
    assert len(server.heads) == workers * calls
    assert taken == [True] * (workers * calls)  # the fast path, every time
    assert server.opened <= workers  # each connection reused, none reopened


async def test_a_deadline_in_flight_reads_as_when_the_scope_fires() -> None:
    async with serve(never_answer) as (base, server), client(base) as dyte:
        with anyio.fail_after(5), pytest.raises(APITimeoutError) as caught:
            await dyte._pipeline.send("POST", "/meetings", json={}, idempotent=False, timeout=0.3)
        assert dyte.stats().requests == 1
    assert "deadline passed while the request was in flight" in str(caught.value)
    assert len(server.heads) == 1  # no second attempt, no recovery read


async def test_a_call_in_a_cancelled_scope_sends_nothing() -> None:
    async with serve(ok) as (base, server), client(base) as dyte:
        await dyte.livestreams.get_active("m1")  # the session is open, a connection pooled
        with anyio.CancelScope() as scope:
            scope.cancel()
            await dyte.livestreams.get_active("m1")
        assert scope.cancelled_caught
        await dyte.livestreams.get_active("m1")
    assert len(server.heads) == 2


async def test_a_deadline_past_five_seconds_is_kept_to_the_millisecond() -> None:
    # aiohttp rounds a timeout longer than 5 s up to a whole second unless told not to.
    async with serve(never_answer) as (base, _), client(base) as dyte:
        began = anyio.current_time()
        with anyio.fail_after(10), pytest.raises(APITimeoutError):
            await dyte.livestreams.get_active("m1", timeout=5.05)
        elapsed = anyio.current_time() - began
    assert 5.0 <= elapsed < 5.5


async def test_closing_the_client_ends_calls_in_flight_and_refuses_new_ones() -> None:
    async def slow(stream: anyio.abc.SocketStream, head: bytes, body: bytes) -> bool:
        await anyio.sleep(0.3)
        await stream.send(answer())
        return True

    async with serve(slow) as (base, server):
        dyte = client(base)
        await dyte.__aenter__()
        await dyte.livestreams.get_active("m1")
        errors: list[BaseException] = []

        async def call() -> None:
            try:
                await dyte.livestreams.get_active("m1")
            except DyteError as exc:
                errors.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(call)
                await anyio.sleep(0.1)  # in flight
                await dyte.aclose()
        with pytest.raises(ClientClosedError):
            await dyte.livestreams.get_active("m1")
    assert [type(e) for e in errors] == [ClientClosedError]
    assert len(server.heads) == 2
