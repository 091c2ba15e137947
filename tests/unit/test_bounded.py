"""Bounded reading, without sockets: the size cap (`max_response_bytes`), the incremental
inflate (`_body`), and the JSON depth limit, on a user's `http_client=` (streamed), on a
transport that hands over read answers, and in the aiohttp transport's decoder."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest
import respx

from dyte_async import (
    AsyncDyte,
    ConfigurationError,
    DyteError,
    ResponseDecodeError,
    ResponseTooLargeError,
)
from dyte_async._body import (
    DEFAULT_MAX_RESPONSE_BYTES,
    BodyCorrupt,
    BodyTooLarge,
    CappedDecoder,
    UnsupportedEncoding,
    read_capped,
)
from dyte_async._transport._aiohttp import _read_response
from dyte_async.testing import FakeClock
from tests.unit.conftest import BASE

pytestmark = [
    pytest.mark.anyio,
    # httpx's and httpcore's body generators nest: closing the outer one early, as a
    # refused body must (the stream itself is closed), leaves the inner ones to the GC,
    # which trio reports as a ResourceWarning.
    pytest.mark.filterwarnings("ignore:Async generator:ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]

CAP = 64 * 1024


class Chunks(httpx.AsyncByteStream):
    """A streamed body from `chunks` (at most `limit` of them); counts what was pulled."""

    def __init__(self, chunks: Iterable[bytes], limit: int = 100_000) -> None:
        self._chunks = chunks
        self._limit = limit
        self.pulled = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks:
            if self.pulled >= self._limit:
                return
            self.pulled += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def endless(size: int = 4096) -> Iterable[bytes]:
    while True:
        yield b"x" * size


def bomb(zeros: int = 64 * 1024 * 1024) -> Iterable[bytes]:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    for _ in range(zeros // len(block)):
        yield packer.compress(block)
    yield packer.flush()


def envelope(data: Any) -> bytes:
    return json.dumps({"success": True, "data": data}).encode()


def nested(depth: int) -> str:
    """JSON arrays nested `depth` levels (as text: `json.dumps` itself would recurse)."""
    return "[" * depth + "]" * depth


async def call_through_user_client(
    router: respx.MockRouter, clock: FakeClock, **options: Any
) -> Any:
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
        dyte = AsyncDyte("org", "key", http_client=http, clock=clock, rate_limit=None, **options)
        return await dyte.meetings.get("m-1")


# --- a user's http_client: the body is streamed and read under the cap ---------------------


@pytest.mark.parametrize("status", [200, 400, 500])
async def test_an_endless_streamed_body_is_refused_and_closed(
    router: respx.MockRouter, clock: FakeClock, status: int
) -> None:
    body = Chunks(endless())
    route = router.get("/meetings/m-1").mock(return_value=httpx.Response(status, stream=body))
    with pytest.raises(ResponseTooLargeError) as info:
        await call_through_user_client(router, clock, max_response_bytes=CAP)
    assert isinstance(info.value, ResponseDecodeError)
    assert info.value.status_code == status
    assert str(info.value) == (
        f"GET /meetings/m-1: the answer is larger than {CAP} bytes (max_response_bytes)"
    )
    assert body.pulled == CAP // 4096 + 1  # stopped at the cap, not at the end
    assert body.closed  # the connection is not handed back to the pool half-read
    assert route.call_count == 1  # never retried, not even a 500


async def test_a_streamed_gzip_bomb_is_refused_after_a_few_chunks(
    router: respx.MockRouter, clock: FakeClock
) -> None:
    body = Chunks(bomb())
    router.get("/meetings/m-1").mock(
        return_value=httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=body)
    )
    with pytest.raises(ResponseTooLargeError):
        await call_through_user_client(router, clock, max_response_bytes=CAP)
    assert body.pulled <= 8  # 64 MiB of zeros is 64 KB of gzip: refused in the first MiBs


@pytest.mark.parametrize("encoding", [None, "gzip", "deflate"])
async def test_a_streamed_body_of_exactly_the_cap_is_read(
    router: respx.MockRouter, clock: FakeClock, encoding: str | None
) -> None:
    data = {"id": "m-1", "title": ""}
    plain = envelope(data)
    data["title"] = "t" * (CAP - len(plain))
    plain = envelope(data)
    assert len(plain) == CAP
    raw = {None: plain, "gzip": gzip.compress(plain), "deflate": zlib.compress(plain)}[encoding]
    headers = {"Content-Encoding": encoding} if encoding else {}
    pieces = [raw[i : i + 1000] for i in range(0, len(raw), 1000)]
    router.get("/meetings/m-1").mock(
        return_value=httpx.Response(200, headers=headers, stream=Chunks(pieces))
    )
    meeting = await call_through_user_client(router, clock, max_response_bytes=CAP)
    assert meeting.id == "m-1"
    router.get("/meetings/m-1").mock(
        return_value=httpx.Response(200, headers=headers, stream=Chunks(pieces))
    )
    with pytest.raises(ResponseTooLargeError):
        await call_through_user_client(router, clock, max_response_bytes=CAP - 1)


async def test_a_read_answer_past_the_cap_is_refused(
    router: respx.MockRouter, clock: FakeClock
) -> None:
    # A transport that returns read answers (a fake, a mock): their length is measured.
    route = router.get("/meetings/m-1").mock(
        return_value=httpx.Response(500, content=b"y" * (CAP + 1))
    )
    dyte = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
        max_response_bytes=CAP,
    )
    async with dyte:
        with pytest.raises(ResponseTooLargeError):
            await dyte.meetings.get("m-1")
    assert route.call_count == 1


@pytest.mark.parametrize("value", [0, -1])
def test_max_response_bytes_must_be_positive(value: int) -> None:
    with pytest.raises(ConfigurationError, match="max_response_bytes"):
        AsyncDyte("org", "key", max_response_bytes=value)


def test_the_default_cap_is_4_mib() -> None:
    assert DEFAULT_MAX_RESPONSE_BYTES == 4 * 1024 * 1024


# --- JSON depth ----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize(("depth", "ok"), [(63, True), (64, False), (100_000, False)])
async def test_json_nested_too_deep_is_a_decode_error(
    router: respx.MockRouter, clock: FakeClock, status: int, depth: int, ok: bool
) -> None:
    # The object around is one level: `depth` nested arrays in it are `depth + 1` levels.
    key = "data" if status == 200 else "error"
    content = f'{{"success": {str(status == 200).lower()}, "{key}": {nested(depth)}}}'.encode()
    router.get("/meetings/m-1").mock(return_value=httpx.Response(status, content=content))
    with pytest.raises(DyteError) as info:
        await call_through_user_client(router, clock)
    if ok:  # decoded: the failure is the shape (200) or the status (400), not the depth
        assert "nested deeper" not in str(info.value)
    else:
        assert type(info.value) is ResponseDecodeError
        assert "nested deeper than 64 levels" in str(info.value)
        assert info.value.status_code == status


# --- the aiohttp transport decodes under the cap -----------------------------------------


def test_the_aiohttp_transports_decoder_refuses_a_bomb() -> None:
    request = httpx.Request("GET", BASE + "/meetings/m-1")
    raw = b"".join(bomb(16 * 1024 * 1024))
    headers = [(b"Content-Encoding", b"gzip")]
    with pytest.raises(ResponseTooLargeError, match="GET /v2/meetings/m-1"):
        _read_response(200, headers, raw, request, {}, CAP)
    ok = _read_response(200, headers, gzip.compress(b"{}"), request, {}, CAP)
    assert (ok.content, ok.headers["content-encoding"]) == (b"{}", "gzip")
    with pytest.raises(httpx.DecodingError):
        _read_response(200, headers, b"not gzip at all", request, {}, CAP)


# --- _body ----------------------------------------------------------------------------------


async def agen(pieces: Iterable[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


async def test_read_capped_decodes_every_layer_at_the_boundary() -> None:
    data = bytes(range(256)) * 400
    raw_deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    headerless = raw_deflate.compress(data) + raw_deflate.flush()
    cases = [
        (None, data),
        ("identity", data),
        ("gzip", gzip.compress(data)),
        ("x-gzip", gzip.compress(data)),
        ("deflate", zlib.compress(data)),
        ("deflate", headerless),  # raw deflate, as some servers send it (httpx reads it)
        ("deflate, gzip", gzip.compress(zlib.compress(data))),
        ("br", data),  # not ours to undo: passed through, as httpx does without brotli
    ]
    for encoding, raw in cases:
        pieces = [raw[i : i + 777] for i in range(0, len(raw), 777)]
        assert await read_capped(agen(pieces), encoding, len(data)) == data, encoding
        with pytest.raises(BodyTooLarge):
            await read_capped(agen(pieces), encoding, len(data) - 1)


async def test_read_capped_refuses_corrupt_and_unknown_encodings() -> None:
    with pytest.raises(BodyCorrupt):
        await read_capped(agen([b"\x1f\x8b not really gzip"]), "gzip", CAP)
    with pytest.raises(UnsupportedEncoding):
        await read_capped(agen([b"x"]), "br", CAP, strict=True)


def test_one_decompress_call_never_makes_more_than_the_room_left() -> None:
    decoder = CappedDecoder("gzip", CAP)
    with pytest.raises(BodyTooLarge):
        decoder.feed(gzip.compress(bytes(1024 * 1024 * 1024 // 64)))
    assert len(decoder._body) <= CAP + 1
