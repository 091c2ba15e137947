"""A misbehaving HTTP/1.1 server on 127.0.0.1 and the meters the bounded-reading tests use.

`MisbehavingServer(kind, status)` answers every request with one kind of bad body:

- "endless": a chunked body of `x` that never ends (bounded here: `ENDLESS_LIMIT` bytes
  or `SERVER_SECONDS`, whichever comes first);
- "bomb": 1 MB of gzip holding 1 GiB of zeros, compressed lazily, 1 MiB at a time;
- "deep": JSON nested `DEEP` levels (`{"data": [[[...]]]}`);

and a path ending in `/ok` with a small valid answer, on the same connection.

`Meter` measures, around one call, the growth of the process's resident memory (peak,
from the kernel's high-water mark reset before the call and a sampler), the longest gap
between the ticks of a task that sleeps 5 ms (how long the event loop was blocked), and
the call's duration. Nothing here imports dyte_async: the same probe runs on any version.
"""

from __future__ import annotations

import contextlib
import struct
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import anyio.abc
from anyio.streams.buffered import BufferedByteReceiveStream

ENDLESS_LIMIT = 8 * 1024**3
SERVER_SECONDS = 60.0
BOMB_ZEROS = 1024**3
DEEP = 100_000
_CHUNK = 64 * 1024
OK_BODY = b'{"success": true, "data": {"id": "ok", "title": "fine"}}'


def bomb_chunks() -> Iterator[bytes]:
    """A gzip stream of `BOMB_ZEROS` zeros (about 1 MB), one piece per MiB of zeros.

    After a full flush a deflate compressor starts afresh, so the same MiB of zeros
    compresses to the same bytes every time: one piece is made and repeated, then a
    final block and the gzip trailer (CRC-32 and length of the zeros).
    """
    zeros = bytes(1024 * 1024)
    count = BOMB_ZEROS // len(zeros)
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    yield packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)  # with the gzip header
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = raw.compress(zeros) + raw.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(zeros)
    for _ in range(count - 2):
        yield piece
        crc = zlib.crc32(zeros, crc)
    last = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    crc = zlib.crc32(zeros, crc)
    yield last.compress(zeros) + last.flush() + struct.pack("<II", crc, BOMB_ZEROS & 0xFFFFFFFF)


def _chunked(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


class MisbehavingServer:
    """Answers every request on 127.0.0.1 with one kind of bad body (module docstring)."""

    def __init__(self, kind: str, status: int = 200) -> None:
        self.kind = kind
        self.status = status
        self.port = 0
        self.sent = 0
        #: connections accepted (a refused body's connection must not be reused).
        self.connections = 0

    def _head(self, extra: str = "") -> bytes:
        return (
            f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n{extra}\r\n"
        ).encode("ascii")

    async def _answer(self, stream: anyio.abc.SocketStream) -> None:
        started = time.monotonic()
        if self.kind == "deep":
            body = b'{"data": ' + b"[" * DEEP + b"]" * DEEP + b"}"
            await stream.send(self._head(f"Content-Length: {len(body)}\r\n") + body)
            return
        if self.kind == "bomb":
            head = self._head("Transfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n")
            await stream.send(head)
            for piece in bomb_chunks():
                if time.monotonic() - started > SERVER_SECONDS:
                    return
                await stream.send(_chunked(piece))
                self.sent += len(piece)
            await stream.send(b"0\r\n\r\n")
            return
        await stream.send(self._head("Transfer-Encoding: chunked\r\n"))
        piece = _chunked(b"x" * _CHUNK)
        while self.sent < ENDLESS_LIMIT and time.monotonic() - started < SERVER_SECONDS:
            await stream.send(piece)
            self.sent += _CHUNK

    async def _handle(self, stream: anyio.abc.SocketStream) -> None:
        """Answer requests on one connection: `.../ok` well (then the next request), any
        other path with the bad body (then the connection ends)."""
        self.connections += 1
        reader = BufferedByteReceiveStream(stream)
        async with stream:
            try:
                while True:
                    head = await reader.receive_until(b"\r\n\r\n", 65536)
                    if head.split(b" ", 2)[1].endswith(b"/ok"):
                        body = OK_BODY
                        await stream.send(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                            b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                        )
                        continue
                    await self._answer(stream)
                    return
            except (anyio.EndOfStream, anyio.IncompleteRead, anyio.BrokenResourceError, OSError):
                return

    @asynccontextmanager
    async def running(self) -> AsyncIterator[MisbehavingServer]:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = listener.extra(anyio.abc.SocketAttribute.local_port)
        streams: list[anyio.abc.SocketStream] = []

        async def accept(tg: anyio.abc.TaskGroup) -> None:
            while True:
                stream = await listener.listeners[0].accept()  # type: ignore[attr-defined]
                streams.append(stream)
                tg.start_soon(self._handle, stream)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(accept, tg)
                try:
                    yield self
                finally:
                    tg.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                for stream in streams:  # a handler cancelled before it ran left it open
                    await stream.aclose()
                await listener.aclose()


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0  # pragma: no cover - Linux has both fields


def _reset_peak() -> None:
    # Resets VmHWM (Linux >= 4.0); if not allowed, the sampler still measures.
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


class Meter:
    """RSS growth (MB), the longest event-loop stall (s) and the duration (s) of a block."""

    def __init__(self) -> None:
        self.rss_growth_mb = 0.0
        self.stall = 0.0
        self.duration = 0.0

    @asynccontextmanager
    async def measure(self) -> AsyncIterator[Meter]:
        _reset_peak()
        start_rss = _status_kb("VmRSS")
        peak = start_rss
        done = anyio.Event()

        async def tick() -> None:
            nonlocal peak
            last = time.monotonic()
            while not done.is_set():
                await anyio.sleep(0.005)
                now = time.monotonic()
                self.stall = max(self.stall, now - last)
                last = now
                peak = max(peak, _status_kb("VmRSS"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(tick)
            started = time.monotonic()
            try:
                yield self
            finally:
                self.duration = time.monotonic() - started
                done.set()
        peak = max(peak, _status_kb("VmHWM"))
        self.rss_growth_mb = (peak - start_rss) / 1024

    def __str__(self) -> str:
        return (
            f"RSS +{self.rss_growth_mb:.0f} MB, stall {self.stall * 1000:.0f} ms, "
            f"call {self.duration:.2f} s"
        )
