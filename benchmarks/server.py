"""A fast local HTTP/1.1 server for the benchmarks, run in its own process.

A raw asyncio protocol (no framework): every request is answered at once with one fixed,
spec-shaped `GET /meetings/{id}/active-livestream` body, over keep-alive connections.
Options: a fixed delay per answer, and a server-side rate limit (a sliding window, like
`FakeDyte(rate_limit=...)`: beyond it the answer is a 429 with `Retry-After`).

`GET /__stats` answers `{"requests": n, "rejected": n}` and `POST /__reset` zeroes them
and the window (these two are never rate limited).

Run: `python -m benchmarks.server [--port 0] [--delay-ms 0] [--rate-limit 50/1]`; it prints
`PORT <n>` on its first line, then serves until stdin closes or it gets SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import signal
import sys
import time
from collections import deque

__all__ = ["LIVESTREAM_BODY", "main"]

LIVESTREAM_BODY = json.dumps(
    {
        "success": True,
        "data": {
            "id": "61e03cb4-3d5b-4a83-8d61-6e1ad1a8f3c0",
            "name": "townhall",
            "meeting_id": "bbb03399-d0a5-4b1a-9d5c-6f3a2a3e5b11",
            "status": "LIVE",
            "ingest_server": "rtmps://live.dyte.io:443/live",
            "stream_key": "sk-5d8e0c1b2a3f4e5d6c7b8a9f0e1d2c3b",
            "playback_url": "https://stream.dyte.io/v1/playback/61e03cb4-3d5b/index.m3u8",
            "created_at": "2023-07-15T11:58:08.404Z",
            "updated_at": "2023-07-15T11:58:24.278Z",
            "disabled": False,
            "org_id": "c0ffee00-1234-4567-89ab-cdef01234567",
            "ingest_seconds": 0,
            "viewer_seconds": 0,
        },
    },
    separators=(",", ":"),
).encode()


def _response(status: bytes, body: bytes, extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body
    )


OK = _response(b"200 OK", LIVESTREAM_BODY)
RATE_LIMITED_BODY = b'{"success":false,"error":{"code":429,"message":"Too many requests"}}'


class Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.rejected = 0


class Window:
    """At most `limit` accepted requests in any `window` seconds (all clients together)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self.accepted: deque[float] = deque()

    def acquire(self, now: float) -> float | None:
        accepted = self.accepted
        while accepted and accepted[0] <= now - self.window:
            accepted.popleft()
        if len(accepted) < self.limit:
            accepted.append(now)
            return None
        return accepted[0] + self.window - now


class Http(asyncio.Protocol):
    def __init__(self, stats: Stats, window: Window | None, delay: float) -> None:
        self.stats = stats
        self.window = window
        self.delay = delay
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end]
            length = 0
            lowered = head.lower()
            at = lowered.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = lowered.find(b"\r\n", at + 2)
                length = int(lowered[at + 17 : stop if stop >= 0 else None])
            total = end + 4 + length
            if len(buffer) < total:
                break
            buffer = buffer[total:]
            self.answer(head)
        self.buffer = buffer

    def answer(self, head: bytes) -> None:
        if head.startswith(b"GET /__stats "):
            body = json.dumps(
                {"requests": self.stats.requests, "rejected": self.stats.rejected}
            ).encode()
            self.send(_response(b"200 OK", body))
            return
        if head.startswith(b"POST /__reset "):
            self.stats.requests = self.stats.rejected = 0
            if self.window is not None:
                self.window.accepted.clear()
            self.send(_response(b"200 OK", b'{"success":true,"data":{}}'))
            return
        self.stats.requests += 1
        payload = OK
        if self.window is not None:
            wait = self.window.acquire(time.monotonic())
            if wait is not None:
                self.stats.rejected += 1
                seconds = str(max(1, math.ceil(wait - 1e-9))).encode()
                payload = _response(
                    b"429 Too Many Requests",
                    RATE_LIMITED_BODY,
                    b"Retry-After: " + seconds + b"\r\n",
                )
        if self.delay > 0:
            asyncio.get_running_loop().call_later(self.delay, self.send, payload)
        else:
            self.send(payload)

    def send(self, payload: bytes) -> None:
        if self.transport is not None:
            self.transport.write(payload)


async def serve(port: int, delay: float, rate_limit: tuple[int, float] | None) -> None:
    loop = asyncio.get_running_loop()
    stats = Stats()
    window = Window(*rate_limit) if rate_limit else None
    server = await loop.create_server(
        lambda: Http(stats, window, delay), "127.0.0.1", port, backlog=4096, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"PORT {bound}", flush=True)
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_signal_handler(signal.SIGINT, done.set)
    # Stop when the parent goes away (its end of our stdin closes).
    loop.add_reader(sys.stdin.fileno(), lambda: done.set() if not sys.stdin.read(1) else None)
    async with server:
        await done.wait()


def _rate(text: str) -> tuple[int, float]:
    requests, _, per = text.partition("/")
    return int(requests), float(per or 1)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    parser.add_argument("--rate-limit", type=_rate, default=None, help="e.g. 50/1")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay_ms / 1000.0, args.rate_limit))


if __name__ == "__main__":
    main()
