"""The socket server: keep-alive, concurrency, request framing, shutdown."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import httpx
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from dyte_async.testing import FakeDyte
from tests.fake.conftest import basic_auth, over_socket

pytestmark = pytest.mark.anyio


def _port(base_url: str) -> int:
    port = httpx.URL(base_url).port
    assert port is not None
    return port


async def _read_response(reader: BufferedByteReceiveStream) -> tuple[int, dict[str, str], bytes]:
    head = (await reader.receive_until(b"\r\n\r\n", 65536)).decode("latin-1").split("\r\n")
    status = int(head[0].split(" ")[1])
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.lower()] = value.strip()
    body = await reader.receive_exactly(int(headers["content-length"]))
    return status, headers, body


async def test_serve_yields_a_v2_base_url(fake: FakeDyte) -> None:
    async with fake.serve() as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v2")
        assert _port(base_url) > 0


async def test_two_hundred_requests_on_one_connection(fake: FakeDyte) -> None:
    auth = basic_auth(fake)
    async with fake.serve() as base_url:
        stream = await anyio.connect_tcp("127.0.0.1", _port(base_url))
        async with stream:
            reader = BufferedByteReceiveStream(stream)
            for index in range(200):
                request = (
                    f"GET /v2/meetings?page_no={index} HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: {auth}\r\n\r\n"
                )
                await stream.send(request.encode())
                status, headers, _ = await _read_response(reader)
                assert status == 200
                assert headers["connection"] == "keep-alive"
    assert fake.count("GET /meetings") == 200


async def test_sequential_requests_through_httpx(fake: FakeDyte) -> None:
    async with over_socket(fake, limits=httpx.Limits(max_connections=1)) as client:
        for _ in range(200):
            response = await client.get("/presets")
            assert response.status_code == 200
    assert fake.count() == 200


async def test_five_hundred_concurrent_requests_through_httpx(fake: FakeDyte) -> None:
    # httpcore's pool scans its queue for every request (quadratic in the waiters), so a small
    # pool keeps this test fast; the raw-socket test below has all 500 in flight at once.
    statuses: list[int] = []
    limits = httpx.Limits(max_connections=10)
    async with over_socket(fake, limits=limits, timeout=httpx.Timeout(30.0)) as client:

        async def one(index: int) -> None:
            response = await client.post("/meetings", json={"title": f"m{index}"})
            statuses.append(response.status_code)

        async with anyio.create_task_group() as task_group:
            for index in range(500):
                task_group.start_soon(one, index)
        listed = await client.get("/meetings", params={"per_page": 1})
    assert statuses == [201] * 500
    assert listed.json()["paging"]["total_count"] == 500


async def test_five_hundred_simultaneous_connections(fake: FakeDyte) -> None:
    auth = basic_auth(fake)
    statuses: list[int] = []
    async with fake.serve() as base_url:
        port = _port(base_url)
        opened = anyio.Event()
        streams = []

        async def one() -> None:
            stream = await anyio.connect_tcp("127.0.0.1", port)
            streams.append(stream)
            if len(streams) == 500:
                opened.set()
            await opened.wait()  # every connection is open before any request is sent
            async with stream:
                await stream.send(
                    f"GET /v2/presets HTTP/1.1\r\nAuthorization: {auth}\r\n\r\n".encode()
                )
                status, _, _ = await _read_response(BufferedByteReceiveStream(stream))
                statuses.append(status)

        with anyio.fail_after(20):
            async with anyio.create_task_group() as task_group:
                for _ in range(500):
                    task_group.start_soon(one)
    assert statuses == [200] * 500


async def test_chunked_request_body(fake: FakeDyte) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"title": '
        yield b'"chunked"}'

    async with over_socket(fake) as client:
        response = await client.post(
            "/meetings", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.status_code == 201
    assert response.json()["data"]["title"] == "chunked"
    assert fake.requests[0].json == {"title": "chunked"}


async def test_bad_request_line_gets_400_and_close(fake: FakeDyte) -> None:
    async with fake.serve() as base_url:
        stream = await anyio.connect_tcp("127.0.0.1", _port(base_url))
        async with stream:
            await stream.send(b"NONSENSE\r\n\r\n")
            reader = BufferedByteReceiveStream(stream)
            status, headers, body = await _read_response(reader)
            assert status == 400
            assert headers["connection"] == "close"
            assert b"BAD_REQUEST" in body
            with pytest.raises((anyio.EndOfStream, anyio.IncompleteRead)):
                await reader.receive_exactly(1)


async def test_http_10_closes_after_the_answer(fake: FakeDyte) -> None:
    async with fake.serve() as base_url:
        stream = await anyio.connect_tcp("127.0.0.1", _port(base_url))
        async with stream:
            await stream.send(b"GET /v2/presets HTTP/1.0\r\n\r\n")
            reader = BufferedByteReceiveStream(stream)
            status, headers, _ = await _read_response(reader)
            assert status == 401
            assert headers["connection"] == "close"
            with pytest.raises((anyio.EndOfStream, anyio.IncompleteRead)):
                await reader.receive_exactly(1)


async def test_leaving_serve_stops_the_server(fake: FakeDyte) -> None:
    async with fake.serve() as base_url, httpx.AsyncClient(base_url=base_url) as client:
        assert (await client.get("/presets")).status_code == 401
    async with httpx.AsyncClient(base_url=base_url) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get("/presets")


async def test_errors_inside_serve_propagate_unwrapped(fake: FakeDyte) -> None:
    with pytest.raises(LookupError, match="mine"):
        async with fake.serve():
            raise LookupError("mine")


async def test_idle_keep_alive_connection_does_not_block_shutdown(fake: FakeDyte) -> None:
    with anyio.fail_after(5):
        async with fake.serve() as base_url:
            stream = await anyio.connect_tcp("127.0.0.1", _port(base_url))
            await stream.send(b"GET /v2/presets HTTP/1.1\r\nHost: x\r\n\r\n")
            await _read_response(BufferedByteReceiveStream(stream))
        await stream.aclose()
