"""A small HTTP/1.1 server on anyio (asyncio and trio alike) for the fake's socket mode.

It speaks what API clients send: keep-alive, `Content-Length` or chunked request bodies,
one request at a time per connection (no pipelining). It is built to survive hostile
peers with bounded memory and time:

- a request head over `max_head_bytes`, a malformed request line, header or framing: a 400
  (431 for a head too large), then the connection closes; nothing a peer sends ends the
  server, and an exception in the handler answers 500 and closes only that connection;
- a body over `max_body_bytes` is refused with a 413 before any of it is read; so is the
  body of a request `screen` refuses (the fake answers its 401 without reading the body);
- `idle_timeout` closes a keep-alive connection that sends nothing, `header_timeout` one
  whose head (from its first byte) or body takes longer, `send_timeout` one that does not
  read its answer;
- past `max_connections` open connections, a new one gets a 503 and is closed.

Timeouts are real time (the fake's clock is not involved). Answering `None` from the
handler closes the connection unanswered.
"""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from email.utils import formatdate
from urllib.parse import unquote, urlsplit

import anyio
import anyio.abc
import attrs
from anyio.streams.stapled import MultiListener

from dyte_async.testing._wire import WireRequest, WireResponse, error_response, reason_phrase

__all__ = ["ServerLimits", "serve_http"]

_LOG = logging.getLogger("dyte_async.testing")
_SKIPPED_HEADERS = frozenset({"content-length", "connection", "transfer-encoding"})
_TOKEN_CHARS = frozenset(
    b"!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
)
_RECEIVE_BYTES = 65536

Handle = Callable[[WireRequest], Awaitable["WireResponse | None"]]
Screen = Callable[[WireRequest], bool]


@attrs.frozen
class ServerLimits:
    """What one connection may cost the served fake.

    Attributes:
        max_body_bytes: the largest request body accepted (413 beyond, before reading it).
        max_head_bytes: the largest request line + headers (431 beyond).
        header_timeout: seconds from a request's first byte to the end of its head, and
            again for its body.
        idle_timeout: seconds a keep-alive connection may wait for its next request.
        send_timeout: seconds an answer may take to be written (a peer not reading).
        max_connections: connections served at once (a 503 and close beyond).
    """

    max_body_bytes: int = 1024 * 1024
    max_head_bytes: int = 64 * 1024
    header_timeout: float = 10.0
    idle_timeout: float = 30.0
    send_timeout: float = 10.0
    max_connections: int = 1024

    def __attrs_post_init__(self) -> None:
        for name in ("max_body_bytes", "max_head_bytes", "max_connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("header_timeout", "idle_timeout", "send_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0")


class _Refused(Exception):
    """The request cannot be read: answer `status` with `message`, then close."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class _Closed(Exception):
    """The peer went away, or stayed silent past a timeout."""


class _Reader:
    """A receive buffer with the two reads HTTP/1.1 needs, each bounded in size."""

    def __init__(self, stream: anyio.abc.ByteStream) -> None:
        self._stream = stream
        self._buffer = bytearray()

    async def fill(self) -> None:
        """Receive at least one more byte into the buffer.

        Raises:
            _Closed: the peer closed the connection.
        """
        try:
            self._buffer += await self._stream.receive(_RECEIVE_BYTES)
        except (anyio.EndOfStream, anyio.BrokenResourceError, anyio.ClosedResourceError) as exc:
            raise _Closed from exc

    @property
    def empty(self) -> bool:
        """True when nothing is buffered."""
        return not self._buffer

    async def until(self, delimiter: bytes, limit: int, *, status: int = 400) -> bytes:
        """Return the bytes before `delimiter` (consumed), at most `limit` of them.

        Raises:
            _Refused: `status` when `limit` bytes arrived without the delimiter.
        """
        start = 0
        while True:
            index = self._buffer.find(delimiter, start)
            if index >= 0:
                if index > limit:
                    break
                data = bytes(self._buffer[:index])
                del self._buffer[: index + len(delimiter)]
                return data
            if len(self._buffer) > limit + len(delimiter):
                break
            start = max(0, len(self._buffer) - len(delimiter) + 1)
            await self.fill()
        raise _Refused(status, "request head too large" if status == 431 else "line too long")

    async def exactly(self, count: int) -> bytes:
        """Return the next `count` bytes (the caller has bounded `count`)."""
        while len(self._buffer) < count:
            await self.fill()
        data = bytes(self._buffer[:count])
        del self._buffer[:count]
        return data


def _peer_host(stream: anyio.abc.ByteStream) -> str:
    try:
        address = stream.extra(anyio.abc.SocketAttribute.remote_address)
    except anyio.TypedAttributeLookupError:
        return "unknown"
    return str(address[0]) if isinstance(address, tuple) else str(address)


async def _read_chunked(reader: _Reader, limits: ServerLimits) -> bytes:
    body = bytearray()
    while True:
        size_line = await reader.until(b"\r\n", 1024)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _Refused(400, "bad chunk size") from None
        if size < 0:
            raise _Refused(400, "bad chunk size")
        if size == 0:
            trailers = 0
            while await reader.until(b"\r\n", limits.max_head_bytes):
                trailers += 1
                if trailers > 100:
                    raise _Refused(400, "too many trailers")
            return bytes(body)
        if len(body) + size > limits.max_body_bytes:
            raise _Refused(413, "request body too large")
        body += await reader.exactly(size)
        if await reader.exactly(2) != b"\r\n":
            raise _Refused(400, "bad chunk terminator")


def _parse_head(head: bytes, client: str) -> tuple[WireRequest, bool, int | None, bool]:
    """Return the request (no body yet), keep-alive, its Content-Length, and chunked."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or parts[2] not in ("HTTP/1.0", "HTTP/1.1"):
        raise _Refused(400, "bad request line")
    method, target, version = parts
    if not method or not set(method.encode("latin-1")) <= _TOKEN_CHARS:
        raise _Refused(400, "bad request line")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or not set(name.encode("latin-1")) <= _TOKEN_CHARS:
            raise _Refused(400, "bad header line")
        if len(headers) >= 200:
            raise _Refused(431, "too many headers")
        headers.append((name.lower(), value.strip()))
    lengths = {v for k, v in headers if k == "content-length"}
    codings = [v.lower() for k, v in headers if k == "transfer-encoding"]
    chunked = bool(codings)
    if chunked and (lengths or codings != ["chunked"]):
        raise _Refused(400, "bad Transfer-Encoding")  # no smuggling games
    length: int | None = None
    if len(lengths) > 1:
        raise _Refused(400, "bad Content-Length")
    if lengths:
        raw = lengths.pop()
        if not raw.isdigit() or len(raw) > 18:
            raise _Refused(400, "bad Content-Length")
        length = int(raw)
    connection = ",".join(v for k, v in headers if k == "connection").lower()
    keep_alive = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
    try:
        split = urlsplit(target)
    except ValueError:
        raise _Refused(400, "bad request target") from None
    request = WireRequest(
        method=method.upper(),
        path=unquote(split.path) or "/",
        query_string=split.query,
        headers=tuple(headers),
        body=b"",
        client=client,
    )
    return request, keep_alive, length, chunked


async def _read_request(
    reader: _Reader, client: str, limits: ServerLimits, screen: Screen | None
) -> tuple[WireRequest, bool]:
    """Read one request; return it and whether the connection stays open afterwards."""
    if reader.empty:
        with anyio.move_on_after(limits.idle_timeout):
            await reader.fill()
        if reader.empty:
            raise _Closed
    with anyio.move_on_after(limits.header_timeout) as scope:
        head = await reader.until(b"\r\n\r\n", limits.max_head_bytes, status=431)
    if scope.cancelled_caught:
        raise _Closed
    request, keep_alive, length, chunked = _parse_head(head, client)
    if not chunked and not length:
        return request, keep_alive
    if length is not None and length > limits.max_body_bytes:
        raise _Refused(413, "request body too large")
    if screen is not None and not screen(request):
        return request, False  # answered without reading the body, then closed
    with anyio.move_on_after(limits.header_timeout) as scope:
        body = await (_read_chunked(reader, limits) if chunked else reader.exactly(length or 0))
    if scope.cancelled_caught:
        raise _Closed
    return attrs.evolve(request, body=body), keep_alive


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


async def _send(stream: anyio.abc.ByteStream, data: bytes, limits: ServerLimits) -> None:
    with anyio.move_on_after(limits.send_timeout) as scope:
        await stream.send(data)
    if scope.cancelled_caught:
        raise _Closed


async def _linger(stream: anyio.abc.ByteStream, limits: ServerLimits) -> None:
    """Half-close, then discard what the peer still sends (a body not read, a request after
    `Connection: close`) for a moment, so that closing does not reset the connection before
    the peer has read the answer. Bounded: `max_body_bytes` and two seconds at most."""
    with contextlib.suppress(Exception):
        await stream.send_eof()
    discarded = 0
    with anyio.move_on_after(min(2.0, limits.header_timeout)):
        while discarded <= limits.max_body_bytes:
            try:
                discarded += len(await stream.receive(_RECEIVE_BYTES))
            except Exception:
                return


async def _serve_connection(
    stream: anyio.abc.ByteStream, handle: Handle, limits: ServerLimits, screen: Screen | None
) -> None:
    reader = _Reader(stream)
    client = _peer_host(stream)
    while True:
        try:
            request, keep_alive = await _read_request(reader, client, limits, screen)
        except _Refused as refused:
            message = refused.message
            answer = error_response(
                refused.status, f"BAD_REQUEST: {message}" if refused.status == 400 else message
            )
            await _send(stream, _serialize(answer, keep_alive=False), limits)
            await _linger(stream, limits)
            return
        try:
            response = await handle(request)
        except Exception:  # a bug in the fake: answer it, keep the server up
            _LOG.exception("FakeDyte failed to answer %s %s", request.method, request.path)
            response = error_response(500, "FakeDyte internal error")
            keep_alive = False
        if response is None:
            return
        await _send(stream, _serialize(response, keep_alive), limits)
        if not keep_alive:
            await _linger(stream, limits)
            return


async def _guarded(
    stream: anyio.abc.ByteStream, handle: Handle, limits: ServerLimits, screen: Screen | None
) -> None:
    """Serve one connection; nothing it does (but cancellation) leaves this function."""
    try:
        await _serve_connection(stream, handle, limits, screen)
    except (_Closed, anyio.BrokenResourceError, anyio.ClosedResourceError, anyio.EndOfStream):
        pass
    except Exception:
        _LOG.exception("FakeDyte connection failed")
    finally:
        await anyio.aclose_forcefully(stream)


async def _listen(host: str, port: int) -> MultiListener[anyio.abc.SocketStream]:
    try:
        return await anyio.create_tcp_listener(local_host=host, local_port=port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if exc.errno == errno.EADDRINUSE:
            reason = "address already in use"
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {reason}") from None


@contextlib.asynccontextmanager
async def serve_http(
    handle: Handle,
    host: str,
    port: int,
    *,
    limits: ServerLimits | None = None,
    screen: Screen | None = None,
) -> AsyncIterator[tuple[str, int]]:
    """Serve `handle` on `host:port` until the context exits.

    Args:
        handle: answers each request (None: close the connection without answering).
        host: the address to bind.
        port: the port to bind (0: any free port).
        limits: the per-connection bounds (default: `ServerLimits()`).
        screen: called with a request's head (empty body) when it announces a body; False
            means "answer it without reading the body" (`handle` then sees an empty body and
            the connection closes after the answer).

    Yields:
        `(host, port)` actually bound.

    Raises:
        OSError: the address cannot be bound; the message is one line, e.g.
            `cannot listen on 127.0.0.1:8080: address already in use`.
    """
    limits = limits if limits is not None else ServerLimits()
    listener = await _listen(host, port)
    bound_port = listener.extra(anyio.abc.SocketAttribute.local_port)
    open_connections = 0
    busy = _serialize(error_response(503, "FakeDyte: too many connections"), keep_alive=False)

    async def serve_one(stream: anyio.abc.SocketStream) -> None:
        nonlocal open_connections
        if open_connections >= limits.max_connections:
            with anyio.move_on_after(1.0), contextlib.suppress(Exception):
                await stream.send(busy)
            await anyio.aclose_forcefully(stream)
            return
        open_connections += 1
        try:
            await _guarded(stream, handle, limits, screen)
        finally:
            open_connections -= 1

    # An exception from the caller's block is re-raised as itself after the task group
    # closes (task groups would wrap it in an ExceptionGroup).
    raised: BaseException | None = None

    async def accept_all(
        listener: anyio.abc.Listener[anyio.abc.SocketStream], task_group: anyio.abc.TaskGroup
    ) -> None:
        if not isinstance(listener, anyio.abc.SocketListener):  # pragma: no cover
            await listener.serve(serve_one, task_group)
            return
        while True:
            try:
                stream = await listener.accept()
            except (anyio.ClosedResourceError, anyio.BrokenResourceError):
                return
            except OSError as exc:  # e.g. out of file descriptors: wait, keep serving
                _LOG.warning("FakeDyte could not accept a connection: %s", exc)
                await anyio.sleep(0.1)
                continue
            task_group.start_soon(serve_one, stream)

    async with listener, anyio.create_task_group() as task_group:
        for one in listener.listeners:
            task_group.start_soon(accept_all, one, task_group)
        try:
            yield host, bound_port
        except BaseException as exc:
            raised = exc
        finally:
            task_group.cancel_scope.cancel()
    if raised is not None:
        raise raised
