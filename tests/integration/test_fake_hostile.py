"""The served FakeDyte against hostile peers, over raw sockets on 127.0.0.1.

Each test checks the answer (or the close) and then that the server still serves.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import socket
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.abc
import httpx
import pytest

from dyte_async.testing import FakeDyte

pytestmark = pytest.mark.anyio

AUTH = "Basic " + base64.b64encode(b"org:key").decode()


def _port(base_url: str) -> int:
    port = httpx.URL(base_url).port
    assert port is not None
    return port


@contextlib.asynccontextmanager
async def served(fake: FakeDyte, **limits: Any) -> AsyncIterator[int]:
    async with fake.serve(**limits) as base_url:
        yield _port(base_url)
        # the server still answers a well-behaved client afterwards
        async with httpx.AsyncClient(base_url=base_url, headers={"authorization": AUTH}) as c:
            assert (await c.get("/presets")).status_code == 200


async def _exchange(port: int, data: bytes, *, wait: float = 5.0) -> bytes:
    """Send `data`, then read until the server closes (or `wait` seconds pass)."""
    received = b""
    with anyio.fail_after(wait):
        stream = await anyio.connect_tcp("127.0.0.1", port)
        async with stream:
            await stream.send(data)
            with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError, OSError):
                while True:
                    received += await stream.receive()
    return received


def _status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


@pytest.fixture
def fake() -> FakeDyte:
    return FakeDyte(go_live_after=None, offline_after=None, rate_limit=None, seed=5)


MALFORMED = [
    pytest.param(b"NONSENSE\r\n\r\n", 400, id="request-line"),
    pytest.param(b"GET /v2/presets HTTP/2.0\r\n\r\n", 400, id="version"),
    pytest.param(b"G@T /v2/presets HTTP/1.1\r\n\r\n", 400, id="method"),
    pytest.param(b"GET /v2/presets HTTP/1.1\r\nno colon\r\n\r\n", 400, id="header"),
    pytest.param(b"GET /v2/presets HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, id="header-name"),
    pytest.param(b"GET /v2/presets HTTP/1.1\r\n folded: x\r\n\r\n", 400, id="folded"),
    pytest.param(b"GET /v2/presets HTTP/1.1\r\nNa\x00me: x\r\n\r\n", 400, id="nul"),
    pytest.param(b"POST /v2/presets HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, id="cl-neg"),
    pytest.param(b"POST /v2/presets HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400, id="cl-text"),
    pytest.param(
        b"POST /v2/presets HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
        400,
        id="cl-twice",
    ),
    pytest.param(
        b"POST /v2/presets HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        400,
        id="cl-and-te",
    ),
    pytest.param(
        b"POST /v2/presets HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, id="te-gzip"
    ),
    pytest.param(
        b"POST /v2/presets HTTP/1.1\r\nTransfer-Encoding: chunked\r\nAuthorization: "
        + AUTH.encode()
        + b"\r\n\r\nzz\r\n",
        400,
        id="chunk-size",
    ),
    pytest.param(b"GET http://[::1 HTTP/1.1\r\n\r\n", 400, id="target"),
    pytest.param(
        b"GET /v2/presets HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n", 431, id="head-size"
    ),
    pytest.param(
        b"GET /v2/presets HTTP/1.1\r\n" + b"X: y\r\n" * 300 + b"\r\n", 431, id="header-count"
    ),
    pytest.param(
        b"POST /v2/presets HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
        400,
        id="cl-huge",
    ),
]


@pytest.mark.parametrize(("data", "status"), MALFORMED)
async def test_malformed_http_gets_a_4xx_and_a_close(
    fake: FakeDyte, data: bytes, status: int
) -> None:
    async with served(fake) as port:
        answer = await _exchange(port, data)
    assert _status(answer) == status
    assert b"connection: close" in answer


async def test_a_body_over_the_limit_is_refused_before_it_is_read(fake: FakeDyte) -> None:
    async with served(fake, max_body_bytes=1000) as port:
        # only the head is sent: an answer proves the server did not wait for the body
        head = (
            f"POST /v2/meetings HTTP/1.1\r\nAuthorization: {AUTH}\r\n"
            "Content-Length: 16777216\r\n\r\n"
        ).encode()
        answer = await _exchange(port, head)
        chunked = await _exchange(
            port,
            f"POST /v2/meetings HTTP/1.1\r\nAuthorization: {AUTH}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n800\r\n".encode()
            + b"x" * 2048
            + b"\r\n",
        )
    assert _status(answer) == 413
    assert _status(chunked) == 413
    assert fake.count("POST /meetings") == 0


async def test_refused_credentials_are_answered_without_reading_the_body(
    fake: FakeDyte,
) -> None:
    strict = FakeDyte(strict_auth=True, rate_limit=None)
    async with served(fake) as port, strict.serve() as strict_url:
        no_auth = await _exchange(
            port, b"POST /v2/meetings HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n"
        )
        wrong = await _exchange(
            _port(strict_url),
            f"POST /v2/meetings HTTP/1.1\r\nAuthorization: {AUTH}\r\n"
            "Content-Length: 1000000\r\n\r\n".encode(),
        )
    assert _status(no_auth) == 401
    assert _status(wrong) == 401
    assert b"connection: close" in wrong
    assert [r.status for r in strict.requests] == [401]
    assert strict.requests[0].json is None


async def test_a_refused_body_sent_in_full_still_gets_its_answer(fake: FakeDyte) -> None:
    # The client sends the whole body before reading: the server discards it while closing,
    # so the client reads the 401 instead of a connection reset.
    async with served(fake) as port:
        base_url = f"http://127.0.0.1:{port}/v2"
        async with httpx.AsyncClient(base_url=base_url) as client:
            response = await client.post("/meetings", content=b"x" * 500_000)
    assert response.status_code == 401


@pytest.mark.parametrize("depth", [65, 100_000])
async def test_deeply_nested_json_is_a_400(fake: FakeDyte, depth: int) -> None:
    body = b"[" * depth + b"]" * depth
    async with served(fake) as port:
        base_url = f"http://127.0.0.1:{port}/v2"
        async with httpx.AsyncClient(base_url=base_url, headers={"authorization": AUTH}) as c:
            served_answer = await c.post("/meetings", content=body)
            unauthenticated = await c.post(
                "/meetings", content=body, headers={"authorization": "Basic !"}
            )
    assert served_answer.status_code == 400
    assert "nests deeper than 64 levels" in served_answer.json()["error"]["message"]
    assert unauthenticated.status_code == 401
    async with httpx.AsyncClient(
        transport=fake.transport(), base_url=fake.base_url, headers={"authorization": AUTH}
    ) as client:
        in_process = await client.post("/meetings", content=body)
    assert in_process.status_code == 400
    assert fake.requests[-1].json is None


async def test_an_idle_connection_is_closed(fake: FakeDyte) -> None:
    async with served(fake, idle_timeout=0.3) as port:
        with anyio.fail_after(5):
            stream = await anyio.connect_tcp("127.0.0.1", port)
            async with stream:
                with pytest.raises((anyio.EndOfStream, anyio.BrokenResourceError)):
                    await stream.receive()


async def test_an_idle_keep_alive_connection_is_closed_after_its_answers(
    fake: FakeDyte,
) -> None:
    async with served(fake, idle_timeout=0.3) as port:
        with anyio.fail_after(5):
            stream = await anyio.connect_tcp("127.0.0.1", port)
            async with stream:
                await stream.send(
                    f"GET /v2/presets HTTP/1.1\r\nAuthorization: {AUTH}\r\n\r\n".encode()
                )
                received = b""
                with contextlib.suppress(anyio.EndOfStream, anyio.BrokenResourceError):
                    while True:
                        received += await stream.receive()
    assert _status(received) == 200
    assert b"connection: keep-alive" in received


@pytest.mark.parametrize(
    "partial",
    [b"GET /v2/presets HTTP/1.1\r\nHost: x\r\n", b"POST /v2/presets HTTP/1.1\r\n"],
)
async def test_a_head_that_never_ends_is_cut_off(fake: FakeDyte, partial: bytes) -> None:
    async with served(fake, header_timeout=0.3, idle_timeout=10) as port:
        answer = await _exchange(port, partial)
    assert answer == b""


async def test_a_slow_drip_of_header_bytes_is_cut_off(fake: FakeDyte) -> None:
    async with served(fake, header_timeout=0.3, idle_timeout=10) as port:
        with anyio.fail_after(5):
            stream = await anyio.connect_tcp("127.0.0.1", port)
            async with stream:
                await stream.send(b"GET /v2/presets HTTP/1.1\r\n")
                with pytest.raises((anyio.BrokenResourceError, OSError)):  # noqa: PT012
                    for _ in range(100):
                        await stream.send(b"X-Drip: 1\r\n")
                        await anyio.sleep(0.05)


async def test_a_body_that_never_arrives_is_cut_off(fake: FakeDyte) -> None:
    async with served(fake, header_timeout=0.3, idle_timeout=10) as port:
        head = f"POST /v2/meetings HTTP/1.1\r\nAuthorization: {AUTH}\r\nContent-Length: 100\r\n\r\n"
        answer = await _exchange(port, head.encode() + b"{")
    assert answer == b""
    assert fake.count("POST /meetings") == 0


async def test_connections_past_the_limit_get_a_503(fake: FakeDyte) -> None:
    async with served(fake, max_connections=3) as port:
        held = [await anyio.connect_tcp("127.0.0.1", port) for _ in range(3)]
        try:
            await anyio.sleep(0.1)  # let the server take them
            answer = await _exchange(port, b"")
        finally:
            for stream in held:
                await stream.aclose()
        await anyio.sleep(0.1)
    assert _status(answer) == 503


async def test_a_failing_handler_answers_500_and_the_server_lives_on(
    fake: FakeDyte, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = fake._handle

    async def handle(request: Any) -> Any:
        if request.path.endswith("/boom"):
            raise RuntimeError("boom")
        return await real(request)

    monkeypatch.setattr(fake, "_handle", handle)
    with caplog.at_level(logging.ERROR, logger="dyte_async.testing"):
        async with served(fake) as port:
            answer = await _exchange(port, b"GET /v2/boom HTTP/1.1\r\n\r\n")
    assert _status(answer) == 500
    assert "FakeDyte failed to answer GET /v2/boom" in caplog.text


async def test_a_busy_port_is_a_one_line_os_error(fake: FakeDyte) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match="address already in use") as caught:
            async with fake.serve(port=port):
                pass  # pragma: no cover
    assert str(caught.value).endswith(f"cannot listen on 127.0.0.1:{port}: address already in use")
    assert "\n" not in str(caught.value)


async def test_many_unauthenticated_large_bodies_are_never_buffered(fake: FakeDyte) -> None:
    # The attack: forty 16 MiB bodies before authentication. Now each is refused on
    # its head (413 past the limit, 401 within it) and nothing is kept.
    async with served(fake) as port, anyio.create_task_group() as group:
        answers: list[int] = []

        async def one() -> None:
            answer = await _exchange(
                port, b"POST /v2/meetings HTTP/1.1\r\nContent-Length: 16777216\r\n\r\n"
            )
            answers.append(_status(answer))

        for _ in range(40):
            group.start_soon(one)
    assert answers == [413] * 40
