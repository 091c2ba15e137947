"""Bytes a server sends after a complete answer never become the answer to another call.

A server on 127.0.0.1 answers `livestreams.get_active(m)` with the livestream of meeting
`m` (its stream key included) and, on the first request of a connection only, appends
something after that complete answer: a second complete answer (another meeting's
livestream, a stolen stream key), junk, the start of an answer, or a second answer sent
a moment later. The next call on the client must get its own meeting's livestream (the
connection that carried the extra bytes was not reused), never the appended bytes.

Before the fix, on the httpcore transport (trio's default) the appended answer became the
answer to the next call (another meeting's stream key), and junk turned the next call's
answer into a `RemoteProtocolError`. On the aiohttp transport (asyncio's default), an
answer sent a moment later was read while the connection sat idle in the pool, and
became the next call's answer.
"""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import anyio.abc
import pytest

from dyte_async import APIConnectionError, AsyncDyte, RetryPolicy
from tests.integration.loopback import listening, read_request

pytestmark = pytest.mark.anyio

STOLEN = "m-OTHER"


def livestream(meeting: str) -> bytes:
    """The body of `GET /meetings/{meeting}/active-livestream`."""
    data = {
        "id": f"ls-{meeting}",
        "meeting_id": meeting,
        "status": "LIVE",
        "ingest_server": "rtmps://ingest.example/live",
        "stream_key": f"sk-{meeting}",
        "playback_url": f"https://play.example/{meeting}.m3u8",
    }
    return json.dumps({"success": True, "data": data}).encode()


def answer(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body),
        body,
    )


def chunked(body: bytes) -> bytes:
    half = len(body) // 2
    return (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
        b"\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n"
        % (half, body[:half], len(body) - half, body[half:])
    )


#: What the server sends after its first answer on a connection, by name.
EXTRA: dict[str, bytes] = {
    "a second answer": answer(livestream(STOLEN)),
    "two more answers": answer(livestream(STOLEN)) * 2,
    "a second chunked answer": chunked(livestream(STOLEN)),
    "junk": b"JUNK",
    "a blank line": b"\r\n",
    "the start of an answer": answer(livestream(STOLEN))[:60],
    "an answer's head": answer(livestream(STOLEN)).partition(b"\r\n\r\n")[0] + b"\r\n\r\n",
}


class Appender:
    """Answers each request with its meeting's livestream; after the first answer (of the
    first connection), sends `extra` (at once, or `delay` seconds later); `sooner` of it
    goes at once, with the answer, even so."""

    def __init__(
        self, extra: bytes, *, first: str = "length", delay: float = 0.0, sooner: int = 0
    ) -> None:
        self.extra = extra
        self.sooner = sooner
        self.appended = False
        self.first = first
        self.delay = delay
        self.connections = 0
        self.requests: list[bytes] = []

    def first_answer(self, body: bytes) -> bytes:
        return chunked(body) if self.first == "chunked" else answer(body)

    async def handle(self, stream: anyio.abc.SocketStream) -> None:
        self.connections += 1
        buffer = b""
        async with stream:
            try:
                while True:
                    head, _, buffer = await read_request(stream, buffer)
                    path = head.split(b" ", 2)[1]
                    self.requests.append(path)
                    meeting = path.split(b"/")[3].decode()
                    if self.appended:
                        await stream.send(answer(livestream(meeting)))
                        continue
                    self.appended = True
                    reply = self.first_answer(livestream(meeting))
                    if self.delay:
                        await stream.send(reply + self.extra[: self.sooner])
                        await anyio.sleep(self.delay)
                        await stream.send(self.extra[self.sooner :])
                    else:  # one write: the extra bytes arrive with the answer
                        await stream.send(reply + self.extra)
            except (anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                return

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        async with listening(self.handle) as base:
            yield base


@pytest.fixture(params=["httpcore", "aiohttp"])
def http_backend(request: pytest.FixtureRequest, anyio_backend: str) -> str:
    if request.param == "aiohttp" and anyio_backend != "asyncio":
        pytest.skip("aiohttp runs on asyncio only")
    return str(request.param)


def dyte(base: str, http_backend: str) -> AsyncDyte:
    # No retry: the second call's first and only attempt must get its own answer.
    return AsyncDyte(
        "org",
        "key",
        base_url=base + "/v2",
        timeout=10.0,
        http_backend=http_backend,  # type: ignore[arg-type]
        rate_limit=None,
        retry=RetryPolicy(max_retries=0),
    )


#: Extra bytes after which aiohttp may reuse the connection safely: it skips blank lines
#: between answers, and each request gets a new parser (an incomplete answer is dropped).
AIOHTTP_HARMLESS = {"a blank line", "the start of an answer"}
#: Extra bytes with which aiohttp fails the first call too: its parser drops the complete
#: answer when the same read holds junk (a typed transient error; retried when allowed).
AIOHTTP_LOSES_FIRST = {"junk"}


async def three_calls(
    server: Appender, http_backend: str, extra: str, *, pause: float = 0.0
) -> None:
    """`get_active("m-1")`, then `get_active("m-2")` and `("m-3")`: each gets its own
    meeting's livestream, stream key included, or (aiohttp, junk: the first only) a typed
    transient error; never another call's."""
    aiohttp = http_backend == "aiohttp"
    async with server.running() as base, dyte(base, http_backend) as client:
        if aiohttp and extra in AIOHTTP_LOSES_FIRST:
            with pytest.raises(APIConnectionError):
                await client.livestreams.get_active("m-1")
        else:
            first = await client.livestreams.get_active("m-1")
            assert (first.meeting_id, first.stream_key) == ("m-1", "sk-m-1")
        if pause:
            await anyio.sleep(pause)
        for meeting in ("m-2", "m-3"):
            answer = await client.livestreams.get_active(meeting)
            assert answer.stream_key != f"sk-{STOLEN}", "another call's answer"
            assert (answer.meeting_id, answer.stream_key) == (meeting, f"sk-{meeting}")
    # Each request was sent once; the connection that carried the extra bytes was closed
    # after the first answer, and the next calls used a new one.
    assert server.requests == [
        b"/v2/meetings/%s/active-livestream" % m for m in (b"m-1", b"m-2", b"m-3")
    ]
    assert server.connections == (1 if aiohttp and extra in AIOHTTP_HARMLESS else 2)


@pytest.mark.parametrize("extra", list(EXTRA), ids=list(EXTRA))
async def test_bytes_after_an_answer_reach_no_one(extra: str, http_backend: str) -> None:
    await three_calls(Appender(EXTRA[extra]), http_backend, extra)


@pytest.mark.parametrize("extra", ["a second answer", "junk"])
async def test_bytes_after_a_chunked_answer_reach_no_one(extra: str, http_backend: str) -> None:
    await three_calls(Appender(EXTRA[extra], first="chunked"), http_backend, extra)


@pytest.mark.parametrize("extra", ["a second answer", "two more answers", "junk"])
async def test_bytes_sent_later_reach_no_one(extra: str, http_backend: str) -> None:
    # The extra bytes arrive after the first answer was read, before the next call: they
    # wait in the socket (httpcore), or are read and queued while the connection is idle
    # in the pool (aiohttp).
    server = Appender(EXTRA[extra], delay=0.05)
    await three_calls(server, http_backend, "later", pause=0.3)


async def test_an_answer_split_around_the_pause_reaches_no_one(http_backend: str) -> None:
    # Its start comes with the first answer (h11's buffer; aiohttp's parser), its end a
    # moment later (the socket; aiohttp completes and queues it while idle).
    server = Appender(EXTRA["a second answer"], delay=0.05, sooner=60)
    await three_calls(server, http_backend, "split", pause=0.3)


async def test_a_clean_connection_is_reused(http_backend: str) -> None:
    server = Appender(b"")
    async with server.running() as base, dyte(base, http_backend) as client:
        for meeting in ("m-1", "m-2", "m-3", "m-4"):
            answer = await client.livestreams.get_active(meeting)
            assert answer.stream_key == f"sk-{meeting}"
    assert server.connections == 1


class _Stub:
    """What `_aiohttp_reuse` reads of a pooled aiohttp connection."""

    def __init__(self, sock: socket.socket, should_close: bool = False) -> None:
        self.protocol = self
        self.transport = self
        self.should_close = should_close
        self.sock = sock

    def get_extra_info(self, name: str) -> object:
        return self.sock if name == "socket" else None


def test_aiohttp_refuses_a_pooled_connection_with_unread_bytes() -> None:
    # Bytes in the socket that the event loop has not read yet (the same loop iteration).
    from dyte_async._transport._aiohttp_reuse import waiting

    ours, theirs = socket.socketpair()
    with ours, theirs:
        assert not waiting(_Stub(ours))  # type: ignore[arg-type]
        assert waiting(_Stub(ours, should_close=True))  # type: ignore[arg-type]
        theirs.send(answer(livestream(STOLEN)))
        assert waiting(_Stub(ours))  # type: ignore[arg-type]
