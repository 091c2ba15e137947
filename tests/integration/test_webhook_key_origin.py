"""The webhook key fetch against real sockets on 127.0.0.1: no redirect, a bounded answer.

Tiny anyio servers (so they run under asyncio and trio):

- the client's key URL answers 302 to a second loopback server holding another key: the
  client refuses, and the second server never sees a request;
- the key URL answers an endless chunked body: the fetch ends well within its timeout
  with a `ResponseDecodeError`, having read little more than the 64 KiB cap.
"""

from __future__ import annotations

import functools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from dyte_async import APIConnectionError, AsyncDyte, ResponseDecodeError
from dyte_async._transport import HttpBackend
from dyte_async.webhooks import generate_keypair
from dyte_async.webhooks._keys import MAX_KEY_ANSWER_BYTES

pytestmark = pytest.mark.anyio

Answer = Callable[[anyio.abc.SocketStream], Awaitable[None]]

#: See tests/unit/test_webhook_key_origin.py: trio warns about httpx's stream generators
#: that a reader stopping early cannot close itself (trio closes them right after).
TRIO_GENERATOR_WARNING = "ignore:Async generator .*garbage collected:ResourceWarning"


@functools.cache
def other_key() -> str:
    return generate_keypair()[1]


class Server:
    """Reads one request head per connection, records its path, then runs `answer`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.paths: list[str] = []

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        reader = BufferedByteReceiveStream(stream)
        async with stream:
            try:
                head = await reader.receive_until(b"\r\n\r\n", 65536)
            except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError):
                return
            self.paths.append(head.split(b" ", 2)[1].decode("latin-1"))
            try:
                await self.answer(stream)
            except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                return  # the client hung up: what a refusing client does


@asynccontextmanager
async def serve(server: Server) -> AsyncIterator[int]:
    """Run `server` on 127.0.0.1; yield its port."""
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)
    async with listener, anyio.create_task_group() as tg:
        tg.start_soon(listener.serve, server.handle)
        try:
            yield port
        finally:
            tg.cancel_scope.cancel()


def client(port: int, backend: HttpBackend) -> AsyncDyte:
    return AsyncDyte(
        "org",
        "key",
        base_url=f"http://127.0.0.1:{port}/v2",
        http_backend=backend,
        rate_limit=None,
        timeout=20.0,
    )


def backends(anyio_backend: str) -> list[HttpBackend]:
    return ["httpcore", "aiohttp"] if anyio_backend == "asyncio" else ["httpcore"]


async def test_a_redirect_to_another_port_is_refused_and_never_followed(
    anyio_backend: str,
) -> None:
    pem = other_key().encode()

    async def key(stream: anyio.abc.SocketStream) -> None:
        await stream.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\n"
            + f"Content-Length: {len(pem)}\r\nConnection: close\r\n\r\n".encode()
            + pem
        )

    holder = Server(key)
    async with serve(holder) as other_port:
        location = f"http://127.0.0.1:{other_port}/.well-known/webhooks.json"

        async def redirect(stream: anyio.abc.SocketStream) -> None:
            await stream.send(
                b"HTTP/1.1 302 Found\r\n"
                + f"Location: {location}\r\n".encode()
                + b"Content-Length: 0\r\nConnection: close\r\n\r\n"
            )

        origin = Server(redirect)
        async with serve(origin) as port:
            for backend in backends(anyio_backend):
                async with client(port, backend) as dyte:
                    with pytest.raises(APIConnectionError) as caught:
                        await dyte.webhooks.public_key()
                message = str(caught.value)
                assert "refusing a redirect to another origin (answer 302)" in message
                assert f"fetched only from http://127.0.0.1:{port}," in message
                assert str(other_port) not in message
    assert origin.paths == ["/.well-known/webhooks.json"] * len(backends(anyio_backend))
    assert holder.paths == []


@pytest.mark.filterwarnings(TRIO_GENERATOR_WARNING)
async def test_an_endless_chunked_key_answer_ends_quickly_with_a_decode_error() -> None:
    sent: list[int] = []
    chunk = b"k" * 16384
    frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"

    async def endless(stream: anyio.abc.SocketStream) -> None:
        await stream.send(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        with anyio.move_on_after(30):  # bounded in time and count (at most 320 MB)
            for n in range(20_000):
                await stream.send(frame)
                sent.append(n)

    server = Server(endless)
    # httpcore only: the aiohttp transport (asyncio) reads a whole answer before returning
    # it, so there the bound is the fetch's timeout until that transport is capped too.
    async with serve(server) as port, client(port, "httpcore") as dyte:
        started = time.monotonic()
        with pytest.raises(ResponseDecodeError, match="larger than 65536 bytes"):
            await dyte.webhooks.public_key(timeout=20.0)
        elapsed = time.monotonic() - started
    assert elapsed < 5.0
    assert server.paths == ["/.well-known/webhooks.json"]
    # The client stopped reading right past the cap: the server could only push what the
    # socket buffers held before its sends failed, far below its 320 MB.
    assert len(sent) * len(chunk) < 64 * MAX_KEY_ANSWER_BYTES + 16 * 1024 * 1024
