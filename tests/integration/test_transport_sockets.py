"""The transports under the pooled client over a real socket on 127.0.0.1: the forced backend,
error mapping of the aiohttp transport, the httpcore watchdog. Without a socket:
tests/unit/test_transport.py.
"""

from __future__ import annotations

import contextlib
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import anyio.abc
import anyio.lowlevel
import httpcore
import httpx
import pytest

from dyte_async import APIConnectionError, AsyncDyte
from dyte_async._transport import AiohttpTransport, GuardedHTTPCoreTransport
from tests.integration.loopback import listening, read_request

pytestmark = pytest.mark.anyio

BODY = json.dumps({"success": True, "data": {"message": "ok"}}).encode()

Handler = Callable[[anyio.abc.SocketStream, bytes], Awaitable[bool]]
"""Answers one request (its raw head and body); returns False to end the connection."""


def answer(body: bytes = BODY, status: bytes = b"200 OK", extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body
    )


@contextlib.asynccontextmanager
async def serve(
    handler: Handler, on_close: Callable[[], None] | None = None
) -> AsyncIterator[tuple[str, list[bytes]]]:
    """A one-purpose HTTP/1.1 server on 127.0.0.1; yields its URL and the requests seen.
    `on_close` runs each time the server has closed a connection."""
    seen: list[bytes] = []

    async def connection(stream: anyio.abc.SocketStream) -> None:
        try:
            await converse(stream)
        finally:
            if on_close is not None:
                on_close()

    async def converse(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            buffer = b""
            while True:
                try:
                    head, body, buffer = await read_request(stream, buffer)
                    seen.append(head + b"\r\n\r\n" + body)
                    if not await handler(stream, body):
                        return
                except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                    return

    async with listening(connection) as base:
        yield base, seen


async def ok(stream: anyio.abc.SocketStream, body: bytes) -> bool:
    await stream.send(answer())
    return True


async def hang_up(stream: anyio.abc.SocketStream, body: bytes) -> bool:
    return False  # read the request, close without a word


async def never_answer(stream: anyio.abc.SocketStream, body: bytes) -> bool:
    await anyio.sleep_forever()
    return False  # pragma: no cover


async def garbage(stream: anyio.abc.SocketStream, body: bytes) -> bool:
    await stream.send(b"this is not HTTP\r\n\r\n")
    return False


async def unhurried(stream: anyio.abc.SocketStream, body: bytes) -> bool:
    for _ in range(20):  # let other connections' requests overlap this one, no real time
        await anyio.lowlevel.checkpoint()
    await stream.send(answer())
    return True


def dyte(base: str, **options: object) -> AsyncDyte:
    return AsyncDyte("org", "key", base_url=base + "/v2", **options)  # type: ignore[arg-type]


def limits(n: int = 10) -> httpx.Limits:
    return httpx.Limits(max_connections=n, max_keepalive_connections=n)


# -- choosing the backend --------------------------------------------------------------------


async def test_forced_httpcore_on_asyncio(anyio_backend: str) -> None:
    async with serve(ok) as (base, _), dyte(base, http_backend="httpcore") as client:
        assert isinstance(client._transport, GuardedHTTPCoreTransport)
        assert await client.livestreams.stop("m") == "ok"


# -- the aiohttp transport -------------------------------------------------------------------


@pytest.fixture
def asyncio_only(anyio_backend: str) -> None:
    if anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")


async def send(transport: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport) as client:
        return await client.send(request)


@pytest.mark.usefixtures("asyncio_only")
async def test_aiohttp_transport_sends_and_receives() -> None:
    async def echo_gzip(stream: anyio.abc.SocketStream, body: bytes) -> bool:
        await stream.send(
            answer(gzip.compress(body), status=b"201 Created", extra=b"Content-Encoding: gzip\r\n")
        )
        return True

    async with serve(echo_gzip) as (base, seen):
        transport = AiohttpTransport(limits=limits(3))
        async with httpx.AsyncClient(transport=transport) as client:
            response = await client.post(
                base + "/x?a=1", json={"name": "town hall"}, headers={"X-Test": "1"}
            )
            assert transport.session is not None
            assert transport.session.connector is not None
            assert transport.session.connector.limit == 3
    assert response.status_code == 201
    assert response.reason_phrase == "Created"
    assert response.json() == {"name": "town hall"}  # gzip decoded by httpx
    assert response.http_version == "HTTP/1.1"
    head = seen[0].lower()
    assert head.startswith(b"post /x?a=1 http/1.1")
    assert b"x-test: 1" in head
    assert b"content-type: application/json" in head
    assert transport.session is None  # closed with the client


@pytest.mark.usefixtures("asyncio_only")
async def test_aiohttp_refused_connection_is_connect_error() -> None:
    with anyio.fail_after(5):
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        await listener.aclose()  # nobody listens there now
        with pytest.raises(httpx.ConnectError):
            await send(
                AiohttpTransport(limits=limits()),
                httpx.Request("GET", f"http://127.0.0.1:{port}/"),
            )


@pytest.mark.usefixtures("asyncio_only")
@pytest.mark.parametrize(
    ("handler", "expected"),
    [(hang_up, httpx.RemoteProtocolError), (garbage, httpx.RemoteProtocolError)],
)
async def test_aiohttp_failures_after_sending_are_not_connect_errors(
    handler: Handler, expected: type[Exception]
) -> None:
    # httpx-aiohttp 0.2 maps a dropped connection to ConnectTimeout ("never sent"), which
    # would let the pipeline resend a POST that may have been acted on.
    async with serve(handler) as (base, _):
        with pytest.raises(expected) as caught:
            await send(AiohttpTransport(limits=limits()), httpx.Request("POST", base + "/"))
    assert not isinstance(caught.value, (httpx.ConnectError, httpx.ConnectTimeout))


@pytest.mark.usefixtures("asyncio_only")
async def test_aiohttp_read_timeout_comes_from_the_request_timeout() -> None:
    async with serve(never_answer) as (base, _):
        request = httpx.Request("GET", base + "/", extensions={"timeout": {"read": 0.2}})
        with anyio.fail_after(5), pytest.raises(httpx.ReadTimeout):
            await send(AiohttpTransport(limits=limits()), request)


@pytest.mark.usefixtures("asyncio_only")
async def test_a_dropped_post_is_not_resent_by_the_client() -> None:
    async with serve(hang_up) as (base, seen), dyte(base, http_backend="aiohttp") as client:
        with pytest.raises(APIConnectionError) as caught:
            await client._pipeline.send("POST", "/meetings", json={}, idempotent=False)
    assert len(seen) == 1  # ambiguous: the server may have acted, so no second POST
    assert b"content-type" in seen[0].lower()  # httpx's own, once
    assert b"octet-stream" not in seen[0]
    assert isinstance(caught.value.__cause__, httpx.RemoteProtocolError)


# -- the guarded httpcore transport ----------------------------------------------------------


def leak_a_connection(transport: GuardedHTTPCoreTransport, base: str) -> None:
    """What httpcore issue 1093 leaves behind: a connection "connecting" for no request."""
    url = httpx.URL(base)
    pool = transport.pool
    origin = httpcore.Origin(url.raw_scheme, url.raw_host, url.port or 80)
    pool._connections.append(pool.create_connection(origin))


async def test_watchdog_replaces_a_pool_with_a_leaked_connection(anyio_backend: str) -> None:
    transport = GuardedHTTPCoreTransport(limits=limits(2))
    async with serve(ok) as (base, _), httpx.AsyncClient(transport=transport) as client:
        assert (await client.get(base + "/")).status_code == 200
        old_pool = transport.pool
        leak_a_connection(transport, base)
        assert (await client.get(base + "/")).status_code == 200
        assert transport.rebuilds == 1
        assert transport.pool is not old_pool
        assert old_pool.connections == []  # the old pool was closed, leak and all


async def test_watchdog_repairs_a_leak_while_another_request_is_in_flight(
    anyio_backend: str,
) -> None:
    transport = GuardedHTTPCoreTransport(limits=limits(2))
    arrived = [anyio.Event(), anyio.Event()]

    async def answer_both_together(stream: anyio.abc.SocketStream, body: bytes) -> bool:
        arrived[len(seen) - 1].set()
        await arrived[1].wait()
        await stream.send(answer())
        return True

    async with (
        serve(answer_both_together) as (base, seen),
        httpx.AsyncClient(transport=transport, timeout=10) as client,
    ):
        results: list[int] = []

        async def get() -> None:
            results.append((await client.get(base + "/")).status_code)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                group.start_soon(get)
                await arrived[0].wait()  # the first request holds one connection ...
                leak_a_connection(transport, base)  # ... and a leak takes the other
                group.start_soon(get)  # the leak is found, the pool replaced, then sent
        assert results == [200, 200]
        assert transport.rebuilds == 1
        assert len(seen) == 2


async def test_no_rebuild_when_the_pool_is_merely_busy(anyio_backend: str) -> None:
    transport = GuardedHTTPCoreTransport(limits=limits(3))
    async with (
        serve(unhurried) as (base, seen),
        httpx.AsyncClient(transport=transport, timeout=10) as client,
        anyio.create_task_group() as group,
    ):
        for _ in range(30):  # 10x the pool: they wait for a place, legitimately
            group.start_soon(client.get, base + "/")
    assert len(seen) == 30
    assert transport.rebuilds == 0


async def test_the_pool_replaces_connections_the_server_closed(anyio_backend: str) -> None:
    async def ok_then_close(stream: anyio.abc.SocketStream, body: bytes) -> bool:
        await stream.send(answer())
        return False

    closed: list[anyio.Event] = [anyio.Event() for _ in range(5)]

    def on_close() -> None:
        next(event for event in closed if not event.is_set()).set()

    transport = GuardedHTTPCoreTransport(limits=limits(2))
    async with (
        serve(ok_then_close, on_close) as (base, seen),
        httpx.AsyncClient(transport=transport) as client,
    ):
        for done in closed:
            assert (await client.get(base + "/")).status_code == 200
            with anyio.fail_after(5):
                await done.wait()  # the server has closed that connection
    assert len(seen) == 5
    assert transport.rebuilds == 0


@pytest.mark.usefixtures("asyncio_only")
async def test_aiohttp_urls_are_parsed_once_per_url() -> None:
    transport = AiohttpTransport(limits=limits())
    async with serve(ok) as (base, seen):
        for path in ("/v2/a?x=1", "/v2/a?x=1", "/v2/a?x=1", "/v2/b"):
            response = await transport.handle_async_request(httpx.Request("GET", base + path))
            assert response.json() == {"success": True, "data": {"message": "ok"}}
        info = transport._url.cache_info()
        await transport.aclose()
    assert (info.hits, info.misses) == (2, 2)
    assert [line.split(b"\r\n")[0] for line in seen] == [
        b"GET /v2/a?x=1 HTTP/1.1",
        b"GET /v2/a?x=1 HTTP/1.1",
        b"GET /v2/a?x=1 HTTP/1.1",
        b"GET /v2/b HTTP/1.1",
    ]
