"""The transports under the pooled client, without a socket: the backend choice, timeouts,
the read answer. Over a real socket on 127.0.0.1: tests/integration/test_transport_sockets.py.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import httpx
import pytest

from dyte_async import AsyncDyte, ConfigurationError
from dyte_async._transport import resolve_backend
from dyte_async._transport._aiohttp import _client_timeout, _read_response

pytestmark = pytest.mark.anyio

BODY = json.dumps({"success": True, "data": {"message": "ok"}}).encode()


def dyte(base: str, **options: object) -> AsyncDyte:
    return AsyncDyte("org", "key", base_url=base + "/v2", **options)  # type: ignore[arg-type]


# -- choosing the backend --------------------------------------------------------------------


def test_an_unknown_backend_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="http_backend"):
        AsyncDyte("org", "key", http_backend="urllib3")  # type: ignore[arg-type]


async def test_auto_picks_aiohttp_on_asyncio_and_httpcore_on_trio(anyio_backend: str) -> None:
    expected = "aiohttp" if anyio_backend == "asyncio" else "httpcore"
    assert resolve_backend("auto") == expected
    assert resolve_backend("httpcore") == "httpcore"


async def test_aiohttp_is_refused_outside_asyncio(anyio_backend: str) -> None:
    # aiohttp is a hard dependency: only the event loop decides.
    if anyio_backend == "asyncio":
        assert resolve_backend("aiohttp") == "aiohttp"
        return
    with pytest.raises(ConfigurationError, match="needs asyncio"):
        resolve_backend("aiohttp")


async def test_forcing_aiohttp_on_trio_is_a_clear_error(anyio_backend: str) -> None:
    if anyio_backend != "trio":
        pytest.skip("trio only")
    client = dyte("http://127.0.0.1:9", http_backend="aiohttp")
    with pytest.raises(ConfigurationError, match="needs asyncio"):
        async with client:
            pass  # pragma: no cover
    await client.aclose()


async def test_transport_and_http_client_win_over_the_backend(anyio_backend: str) -> None:
    mock = httpx.MockTransport(lambda request: httpx.Response(200, content=BODY))
    async with dyte("http://127.0.0.1:9", transport=mock, http_backend="httpcore") as client:
        assert client._transport is mock  # the transport it was given, used as is
        assert await client.livestreams.stop("m") == "ok"
    async with (
        httpx.AsyncClient(transport=mock) as mine,
        dyte("http://127.0.0.1:9", http_client=mine, http_backend="aiohttp") as client,
    ):
        assert client._get_http() is mine
        assert await client.livestreams.stop("m") == "ok"


def test_import_dyte_async_does_not_import_aiohttp() -> None:
    code = (
        "import sys, dyte_async; "
        "print(sorted(m for m in ('aiohttp', 'httpx_aiohttp') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- the aiohttp transport's timeouts -------------------------------------------------------


def test_request_timeouts_map_to_aiohttp_timeouts() -> None:
    timeout = _client_timeout({"connect": 1.0, "read": 2.0, "write": 3.0, "pool": 4.0})
    assert (timeout.total, timeout.connect, timeout.sock_connect, timeout.sock_read) == (
        None,
        4.0,
        1.0,
        2.0,
    )


# --- the read answer: what `httpx.Response(content=...)` makes --------------------


@pytest.mark.parametrize("encoding", [None, "gzip"])
async def test_a_read_answer_is_what_httpx_would_have_made(encoding: str | None) -> None:
    request = httpx.Request("GET", "https://api.example/v2/x")
    raw = [(b"Content-Type", b"application/json"), (b"X-Request-Id", b"r1")]
    body = BODY
    if encoding:
        raw.append((b"Content-Encoding", encoding.encode()))
        body = gzip.compress(BODY)
    extensions = {"http_version": b"HTTP/1.1", "reason_phrase": b"OK"}
    fast = _read_response(200, raw, body, request, dict(extensions))
    slow = httpx.Response(200, headers=raw, content=body, request=request, extensions=extensions)
    assert fast.content == slow.content == BODY
    assert fast.json() == slow.json()
    assert fast.headers.raw == slow.headers.raw
    assert (fast.is_stream_consumed, fast.is_closed) == (True, True)
    assert (fast.status_code, fast.reason_phrase, fast.http_version) == (200, "OK", "HTTP/1.1")
    assert fast.request is request
    assert await fast.aread() == BODY  # already read: nothing more happens
    await fast.aclose()
