"""No secret in any exception, over a real socket on 127.0.0.1, with the real backends:
aiohttp on asyncio (whose errors carry the request headers) and httpcore on asyncio and
trio (whose errors may quote the server's bytes).

A raw server answers every request with one canned misbehaviour; the scan of
`tests/unit/test_secrets_chain.py` then looks for the API key, the Basic value, the
bearer token and the stream key anywhere in the exception chain.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.abc
import pytest

from dyte_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncDyte,
    DyteError,
    ResponseDecodeError,
    RetryPolicy,
)
from dyte_async._transport import HttpBackend
from tests.unit.test_secrets_chain import API_KEY, BASIC, BEARER, ORG, STREAM_KEY, leaks

pytestmark = pytest.mark.anyio

Handler = Callable[[anyio.abc.SocketStream, bytes], Awaitable[None]]


def echo(head: bytes) -> str:
    """What a careless server says back: the request's headers and the stream key."""
    return f"{head.decode('latin-1')} stream_key={STREAM_KEY} 'stream_key': '{STREAM_KEY}'"


async def malformed_status_line(stream: anyio.abc.SocketStream, head: bytes) -> None:
    await stream.send(b"HTTP/1.1 2x0 " + echo(head).replace("\r\n", " ").encode() + b"\r\n\r\n")


async def malformed_header(stream: anyio.abc.SocketStream, head: bytes) -> None:
    line = echo(head).replace("\r\n", " ").replace(":", "=").encode()
    await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" + line + b"\r\n\r\nhello")


async def not_json(stream: anyio.abc.SocketStream, head: bytes) -> None:
    body = ("{" + echo(head)).encode()
    await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


async def error_echo(stream: anyio.abc.SocketStream, head: bytes) -> None:
    body = echo(head).encode()
    await stream.send(
        b"HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body) + body
    )


async def cut_short(stream: anyio.abc.SocketStream, head: bytes) -> None:
    await stream.send(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + echo(head).encode())


async def stall(stream: anyio.abc.SocketStream, head: bytes) -> None:
    await anyio.sleep(3)


async def serve_once(stream: anyio.abc.SocketStream, handler: Handler) -> None:
    async with stream:
        head = b""
        with anyio.move_on_after(5):
            while b"\r\n\r\n" not in head and len(head) < 65536:
                try:
                    head += await stream.receive()
                except (anyio.EndOfStream, anyio.BrokenResourceError):
                    return
        await handler(stream, head)


@asynccontextmanager
async def serve(handler: Handler) -> AsyncIterator[str]:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    try:
        async with anyio.create_task_group() as tg:

            async def handle(stream: anyio.abc.SocketStream) -> None:
                await serve_once(stream, handler)

            tg.start_soon(listener.serve, handle)
            try:
                yield f"http://127.0.0.1:{port}/v2"
            finally:
                tg.cancel_scope.cancel()
    finally:
        await listener.aclose()


@pytest.fixture(
    params=[("asyncio", "aiohttp"), ("asyncio", "httpcore"), ("trio", "httpcore")],
    ids=["asyncio-aiohttp", "asyncio-httpcore", "trio-httpcore"],
)
def stack(request: pytest.FixtureRequest) -> tuple[str, str]:
    if request.param[1] == "aiohttp":
        pytest.importorskip("aiohttp")
    return str(request.param[0]), str(request.param[1])


@pytest.fixture
def anyio_backend(stack: tuple[str, str]) -> str:
    return stack[0]


@pytest.fixture(params=["dyte", "realtimekit"])
def make(request: pytest.FixtureRequest, stack: tuple[str, str]) -> Callable[[str], AsyncDyte]:
    backend: HttpBackend = "aiohttp" if stack[1] == "aiohttp" else "httpcore"
    options: dict[str, Any] = {
        "http_backend": backend,
        "retry": RetryPolicy(max_retries=0),
        "timeout": 1.0,
    }

    def factory(base_url: str) -> AsyncDyte:
        if request.param == "dyte":
            return AsyncDyte(ORG, API_KEY, base_url=base_url, **options)
        return AsyncDyte.realtimekit("acc", "app", BEARER + "\n", base_url=base_url, **options)

    return factory


CASES: list[tuple[Handler, type[DyteError]]] = [
    (malformed_status_line, APIConnectionError),
    (malformed_header, APIConnectionError),
    (not_json, ResponseDecodeError),
    (error_echo, APIStatusError),
    (cut_short, APIConnectionError),
    (stall, APITimeoutError),
]


@pytest.mark.parametrize(("handler", "raised"), CASES, ids=[c[0].__name__ for c in CASES])
async def test_no_secret_in_the_chain(make, handler, raised) -> None:
    async with serve(handler) as base:
        dyte = make(base)
        async with dyte:
            with pytest.raises(DyteError) as info:
                await dyte.livestreams.get_active("m1")
    assert isinstance(info.value, raised)
    assert leaks(info.value, (API_KEY, BASIC, BEARER, STREAM_KEY)) == set()


async def test_no_secret_when_the_connection_is_refused(make) -> None:
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    await listener.aclose()
    async with make(f"http://127.0.0.1:{port}/v2") as dyte:
        with pytest.raises(APIConnectionError) as info:
            await dyte.livestreams.get_active("m1")
    assert leaks(info.value) == set()
