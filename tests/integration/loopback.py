"""What the loopback HTTP/1.1 servers of the integration tests share: reading one request."""

from __future__ import annotations

import anyio.abc


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
