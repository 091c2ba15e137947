"""`GuardedBackend`: httpcore connections that never hand one call's answer to another.

HTTP/1.1 has no request ids: a client takes as the answer to a request whatever bytes
follow it on the connection. Bytes a server (or a proxy) sends after a complete answer (a
second answer, junk, the start of one) therefore become the answer to the next request
on that connection when it is reused: one meeting's livestream, stream key included,
reaches another caller.

httpcore guards against part of this: before reusing an idle connection, its pool asks
the network stream `get_extra_info("is_readable")` (`has_expired`) and closes a readable
one (it expects only the server's close there). Two holes remain:

1. extra bytes that came in the same read as the answer's end sit in h11's buffer, not
   in the socket: the socket is not readable, and h11 parses them as the next answer (the
   usual case: a server writes its answer and the extra bytes at once);
2. the check runs when the pool assigns the connection, a few awaits before the request
   is written: bytes reaching the socket in between are taken as the answer.

`GuardedBackend` (given to each pool as its public `network_backend`) wraps httpcore's
own network streams in `GuardedStream`, which closes both, on public httpcore API only:

- it follows each answer in what it reads (`_answer_end.AnswerEnd`, h11's rules) and
  marks itself spoiled when a byte is read past the answer's end;
- a spoiled stream answers `get_extra_info("is_readable")` True, so httpcore's pool closes
  the connection as soon as the answer is closed, as it does one the server closed;
- last, when a reused connection is about to carry a request's first byte, a spoiled
  stream, or one whose socket is readable, refuses with `httpcore.ConnectionNotAvailable`
  before writing anything: the pool then sends the request on a new connection (its own
  retry for "a connection that was available but became unavailable"). No answer is
  lost, no request is sent twice.

What no client can close: bytes reaching the socket after the request was written are,
in HTTP/1.1, its answer; nothing on the wire tells them apart. The guard makes sure no
byte received before a request was sent is ever read as its answer.

Cost on the happy path: a regex search of each answer's head and a byte count, and one
`poll()` of the socket per reused request (httpcore makes the same one in `has_expired`).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from typing import Any

import httpcore

from dyte_async._transport._answer_end import AnswerEnd

__all__ = ["GuardedBackend", "GuardedStream"]


class GuardedStream(httpcore.AsyncNetworkStream):
    """httpcore's network stream, refusing to carry a request after stray bytes (module
    docstring).

    Args:
        stream: the stream httpcore's backend opened.
    """

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        #: the answer to the last request written (None: no request yet).
        self._answer: AnswerEnd | None = None
        #: requests written on this connection.
        self.requests = 0

    @property
    def spoiled(self) -> bool:
        """Bytes were read past an answer, or an answer read could not be followed."""
        answer = self._answer
        return answer is not None and answer.reading and (answer.spoiled or not answer.ended)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write `buffer`; refuse a new request on a spoiled or readable connection.

        httpcore writes a request's head first, in one piece, and reads its answer only
        after writing the whole request: a write after a read starts the next request.

        Raises:
            httpcore.ConnectionNotAvailable: a reused connection with bytes waiting (in
                the parser or the socket); nothing was written.
        """
        answer = self._answer
        if answer is None or answer.reading:
            if answer is not None and (self.spoiled or self._stream.get_extra_info("is_readable")):
                raise httpcore.ConnectionNotAvailable()
            method, _, _ = buffer.partition(b" ")
            self._answer = AnswerEnd(method)
            self.requests += 1
        await self._stream.write(buffer, timeout)

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read, following the answer in flight."""
        data = await self._stream.read(max_bytes, timeout)
        answer = self._answer
        if answer is None:  # read before any request: httpcore never does; be safe
            self._answer = answer = AnswerEnd(b"GET")
            answer.spoiled = True
        answer.feed(data)
        return data

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._stream.start_tls(ssl_context, server_hostname, timeout)
        return GuardedStream(stream)

    def get_extra_info(self, info: str) -> Any:
        """The wrapped stream's; `"is_readable"` is also True when spoiled (httpcore's pool
        then closes an idle connection instead of reusing it)."""
        if info == "is_readable" and self.spoiled:
            return True
        return self._stream.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend whose streams are wrapped in `GuardedStream`.

    Args:
        backend: the backend wrapped; default: httpcore's own for the running library
            (trio's on trio, anyio's on asyncio, as httpcore's default picks).
    """

    def __init__(self, backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._backend = backend

    def _inner(self) -> httpcore.AsyncNetworkBackend:
        if self._backend is None:
            import sniffio

            trio = sniffio.current_async_library() == "trio"
            self._backend = httpcore.TrioBackend() if trio else httpcore.AnyIOBackend()
        return self._backend

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner().connect_tcp(
            host, port, timeout=timeout, local_address=local_address, socket_options=socket_options
        )
        return GuardedStream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        stream = await self._inner().connect_unix_socket(
            path, timeout=timeout, socket_options=socket_options
        )
        return GuardedStream(stream)

    async def sleep(self, seconds: float) -> None:
        await self._inner().sleep(seconds)
