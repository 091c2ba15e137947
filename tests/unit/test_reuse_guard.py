"""`GuardedStream` under httpcore's real pool, over scripted in-memory connections.

A scripted server answers each request with its answer and, when told, extra bytes:
in the same read (they reach h11's buffer) or as a socket that turns readable between
the pool's own check and the write of the next request (the race httpcore's
`has_expired` leaves open). The next request must go, once, on a new connection and get
its own answer; a clean connection must be reused. No socket, no clock.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import pytest

from dyte_async._transport._reuse import GuardedBackend, GuardedStream

pytestmark = pytest.mark.anyio


def answer(text: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text)


class Connection(httpcore.AsyncNetworkStream):
    """One scripted connection: each request complete (a head) gets `reply(path)`, plus
    `extra` after the first answer; `readable` says what `is_readable` answers, in turn."""

    def __init__(self, number: int, extra: bytes, readable: Iterator[bool]) -> None:
        self.number = number
        self.extra = extra
        self.readable = readable
        self.incoming = bytearray()
        self.requests: list[bytes] = []
        self.closed = False

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        assert not self.closed
        if not buffer:  # the end of a request without body
            return
        path = buffer.split(b" ", 2)[1]
        self.requests.append(path)
        self.incoming += answer(b"conn %d: %s" % (self.number, path))
        if len(self.requests) == 1:
            self.incoming += self.extra

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = bytes(self.incoming[:max_bytes])
        del self.incoming[:max_bytes]
        assert data, "read with nothing to read"
        return data

    async def aclose(self) -> None:
        self.closed = True

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return self  # pragma: no cover

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return next(self.readable, False)
        return None


class Server(httpcore.AsyncNetworkBackend):
    """Opens scripted connections: the first one with `extra` and `readable`."""

    def __init__(self, extra: bytes = b"", readable: Iterable[bool] = ()) -> None:
        self.extra = extra
        self.readable = iter(readable)
        self.connections: list[Connection] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        first = not self.connections
        connection = Connection(
            len(self.connections) + 1,
            self.extra if first else b"",
            self.readable if first else iter(()),
        )
        self.connections.append(connection)
        return connection

    async def sleep(self, seconds: float) -> None:  # pragma: no cover
        raise AssertionError("no sleep")


async def get(pool: httpcore.AsyncConnectionPool, path: str) -> bytes:
    response = await pool.request("GET", "http://api.test" + path)
    return response.content


async def three_calls(server: Server) -> list[bytes]:
    async with httpcore.AsyncConnectionPool(network_backend=GuardedBackend(server)) as pool:
        return [await get(pool, f"/{n}") for n in (1, 2, 3)]


async def test_a_clean_connection_is_reused(anyio_backend: str) -> None:
    server = Server()
    assert await three_calls(server) == [b"conn 1: /1", b"conn 1: /2", b"conn 1: /3"]
    assert len(server.connections) == 1


@pytest.mark.parametrize("extra", [answer(b"stolen"), b"JUNK", answer(b"stolen")[:20]])
async def test_bytes_read_past_an_answer_retire_its_connection(
    extra: bytes, anyio_backend: str
) -> None:
    server = Server(extra=extra)
    assert await three_calls(server) == [b"conn 1: /1", b"conn 2: /2", b"conn 2: /3"]
    first, second = server.connections
    assert first.requests == [b"/1"]
    assert first.closed
    assert second.requests == [b"/2", b"/3"]


async def test_a_socket_turning_readable_after_the_pools_check(anyio_backend: str) -> None:
    # The pool's has_expired() sees nothing (False) when it hands out the connection; a
    # moment later, as the request is about to be written, the socket is readable.
    server = Server(readable=[False, False, True])
    assert await three_calls(server) == [b"conn 1: /1", b"conn 2: /2", b"conn 2: /3"]
    first, _ = server.connections
    assert first.requests == [b"/1"]
    assert first.closed


async def test_a_fresh_connection_is_never_refused(anyio_backend: str) -> None:
    # Bytes before the first request cannot be another call's answer; refusing them
    # could loop on a server that speaks first.
    server = Server(readable=[True])
    async with httpcore.AsyncConnectionPool(network_backend=GuardedBackend(server)) as pool:
        assert await get(pool, "/1") == b"conn 1: /1"


async def test_a_spoiled_stream_says_readable(anyio_backend: str) -> None:
    inner = Connection(1, b"JUNK", iter(()))
    stream = GuardedStream(inner)
    await stream.write(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert stream.get_extra_info("is_readable") is False
    await stream.read(65536)
    assert stream.spoiled
    assert stream.get_extra_info("is_readable") is True
    with pytest.raises(httpcore.ConnectionNotAvailable):
        await stream.write(b"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert inner.requests == [b"/1"]
