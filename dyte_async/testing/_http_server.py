"""A small HTTP/1.1 server on anyio (asyncio and trio alike) for the fake's socket mode.

It speaks what API clients send: keep-alive, `Content-Length` or chunked request bodies,
one request at a time per connection (no pipelining). Anything else gets a 400 and the
connection closes. Answering `None` from the handler closes the connection unanswered.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

from dyte_async.testing._wire import WireRequest, WireResponse, error_response, reason_phrase

__all__ = ["serve_http"]

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 16 * 1024 * 1024
_SKIPPED_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})

Handle = Callable[[WireRequest], Awaitable["WireResponse | None"]]


class _BadRequest(Exception):
    """The bytes received are not an HTTP/1.x request we can read."""


class _Closed(Exception):
    """The peer went away."""


def _peer_host(stream: anyio.abc.ByteStream) -> str:
    try:
        address = stream.extra(anyio.abc.SocketAttribute.remote_address)
    except anyio.TypedAttributeLookupError:
        return "unknown"
    return str(address[0]) if isinstance(address, tuple) else str(address)


async def _read_until(reader: BufferedByteReceiveStream, delimiter: bytes, limit: int) -> bytes:
    try:
        return await reader.receive_until(delimiter, limit)
    except (anyio.IncompleteRead, anyio.EndOfStream, anyio.BrokenResourceError) as exc:
        raise _Closed from exc
    except anyio.DelimiterNotFound as exc:
        raise _BadRequest("request head too large") from exc


async def _read_exactly(reader: BufferedByteReceiveStream, count: int) -> bytes:
    try:
        return await reader.receive_exactly(count)
    except (anyio.IncompleteRead, anyio.EndOfStream, anyio.BrokenResourceError) as exc:
        raise _Closed from exc


async def _read_chunked(reader: BufferedByteReceiveStream) -> bytes:
    body = bytearray()
    while True:
        size_line = await _read_until(reader, b"\r\n", 1024)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError as exc:
            raise _BadRequest("bad chunk size") from exc
        if size == 0:
            while await _read_until(reader, b"\r\n", MAX_HEAD_BYTES):  # trailers
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise _BadRequest("request body too large")
        body += await _read_exactly(reader, size)
        if await _read_exactly(reader, 2) != b"\r\n":
            raise _BadRequest("bad chunk terminator")


async def _read_request(reader: BufferedByteReceiveStream, client: str) -> tuple[WireRequest, bool]:
    """Read one request; return it and whether the connection stays open afterwards."""
    head = await _read_until(reader, b"\r\n\r\n", MAX_HEAD_BYTES)
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest("bad request line")
    method, target, version = parts
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or line[0] in " \t":
            raise _BadRequest("bad header line")
        headers.append((name.lower(), value.strip()))
    fields = dict(headers)
    connection = fields.get("connection", "").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    if "chunked" in fields.get("transfer-encoding", "").lower():
        body = await _read_chunked(reader)
    elif "content-length" in fields:
        try:
            length = int(fields["content-length"])
        except ValueError as exc:
            raise _BadRequest("bad Content-Length") from exc
        if not 0 <= length <= MAX_BODY_BYTES:
            raise _BadRequest("bad Content-Length")
        body = await _read_exactly(reader, length) if length else b""
    else:
        body = b""
    split = urlsplit(target)
    request = WireRequest(
        method=method.upper(),
        path=unquote(split.path) or "/",
        query_string=split.query,
        headers=tuple(headers),
        body=body,
        client=client,
    )
    return request, keep_alive


def _serialize(response: WireResponse, keep_alive: bool) -> bytes:
    lines = [f"HTTP/1.1 {response.status} {reason_phrase(response.status)}"]
    lines += [f"{k}: {v}" for k, v in response.headers if k.lower() not in _SKIPPED_HEADERS]
    lines += [
        f"content-length: {len(response.body)}",
        f"connection: {'keep-alive' if keep_alive else 'close'}",
        f"date: {formatdate(usegmt=True)}",
        "server: FakeDyte",
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body


async def _serve_connection(stream: anyio.abc.ByteStream, handle: Handle) -> None:
    client = _peer_host(stream)
    reader = BufferedByteReceiveStream(stream)
    try:
        while True:
            try:
                request, keep_alive = await _read_request(reader, client)
            except _BadRequest as exc:
                answer = error_response(400, f"BAD_REQUEST: {exc}")
                await stream.send(_serialize(answer, keep_alive=False))
                return
            response = await handle(request)
            if response is None:
                return
            await stream.send(_serialize(response, keep_alive))
            if not keep_alive:
                return
    except (_Closed, anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
        return
    finally:
        await anyio.aclose_forcefully(stream)


@contextlib.asynccontextmanager
async def serve_http(handle: Handle, host: str, port: int) -> AsyncIterator[tuple[str, int]]:
    """Serve `handle` on `host:port` until the context exits.

    Args:
        handle: answers each request (None: close the connection without answering).
        host: the address to bind.
        port: the port to bind (0: any free port).

    Yields:
        `(host, port)` actually bound.
    """
    listener = await anyio.create_tcp_listener(local_host=host, local_port=port)
    bound_port = listener.extra(anyio.abc.SocketAttribute.local_port)

    async def serve_one(stream: anyio.abc.SocketStream) -> None:
        await _serve_connection(stream, handle)

    # An exception from the caller's block is re-raised as itself after the task group
    # closes (task groups would wrap it in an ExceptionGroup).
    raised: BaseException | None = None
    async with listener, anyio.create_task_group() as task_group:
        task_group.start_soon(listener.serve, serve_one, task_group)
        try:
            yield host, bound_port
        except BaseException as exc:
            raised = exc
        finally:
            task_group.cancel_scope.cancel()
    if raised is not None:
        raise raised
