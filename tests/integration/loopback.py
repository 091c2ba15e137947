"""What the loopback HTTP/1.1 servers of the integration tests share: a listener on
127.0.0.1 that serves each connection in a task, and reading one request."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import anyio.abc


@contextlib.asynccontextmanager
async def listening(
    handle: Callable[[anyio.abc.SocketStream], Awaitable[None]],
) -> AsyncIterator[str]:
    """Serve each connection to a fresh port on 127.0.0.1 with `handle`, in its own task.

    Args:
        handle: serves one connection.

    Yields:
        The base URL, ``http://127.0.0.1:<port>``. On exit every connection task is
        cancelled and the listener closed.
    """
    listener = await anyio.create_tcp_listener(local_host="127.0.0.1")
    async with listener, anyio.create_task_group() as group:
        port = listener.extra(anyio.abc.SocketAttribute.local_port)
        group.start_soon(listener.serve, handle)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            group.cancel_scope.cancel()


async def read_request(
    stream: anyio.abc.ByteReceiveStream, buffer: bytes = b""
) -> tuple[bytes, bytes, bytes]:
    """Read one HTTP/1.1 request (its head, then a `Content-Length` body) from `stream`.

    Args:
        stream: the connection.
        buffer: what was read from it already, past the previous request.

    Returns:
        ``(head, body, rest)``: the head without its blank line, the body, and what was
        read past it (the start of the next request, if the client pipelines).

    Raises:
        anyio.EndOfStream: the client closed the connection (maybe mid-request).
        anyio.BrokenResourceError: the connection broke.
        OSError: the socket failed.
    """
    while b"\r\n\r\n" not in buffer:
        buffer += await stream.receive(65536)
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    length = 0
    for line in head.lower().split(b"\r\n"):
        if line.startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(buffer) < length:
        buffer += await stream.receive(65536)
    return head, buffer[:length], buffer[length:]
