"""Reading an answer's body under a size cap, inflating gzip or deflate incrementally.

One helper for every body we read (the request pipeline's answers, success and error,
and the webhook key fetch): the raw bytes are taken chunk by chunk and each
`Content-Encoding` layer is undone with a `zlib.decompressobj` whose `max_length` never
lets one call produce more than `_STEP` bytes, nor the whole body more than the cap. A
1 MB gzip answer holding 1 GiB of zeros therefore costs at most the cap in memory and a
few milliseconds of CPU before it is refused, instead of being inflated whole (httpx
inflates a whole network chunk at once).

Only gzip (`x-gzip`) and deflate are undone, as httpx does without its optional brotli
and zstandard packages (which this project does not install, so they are never asked
for). Other encodings are passed through as they are (httpx's own rule), or refused
(`strict=True`, for the webhook key).

The cap applies to the decoded body: `BodyTooLarge` as soon as it would pass it.
`send_and_read` is the pipeline's use of it: send streamed, read under the cap, close.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterable
from typing import Any, Final

import httpx

from dyte_async.errors import ResponseTooLargeError

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "BodyCorrupt",
    "BodyTooLarge",
    "CappedDecoder",
    "UnsupportedEncoding",
    "read_capped",
    "send_and_read",
]

#: `AsyncDyte(max_response_bytes=...)`'s default: the API's answers are small JSON documents
#: (a page of 100 meetings is well under 100 KB).
DEFAULT_MAX_RESPONSE_BYTES: Final = 4 * 1024 * 1024

#: Raw bytes fed at once by `feed_all`.
_FEED: Final = 64 * 1024

#: Most bytes one `decompress` call may produce (bounds the time one call holds the loop).
_STEP: Final = 256 * 1024


class BodyTooLarge(Exception):
    """The body (decoded) is larger than the cap."""


class BodyCorrupt(Exception):
    """A compressed body (gzip or deflate, as its Content-Encoding says) is corrupt."""


class UnsupportedEncoding(Exception):
    """`strict=True` and the Content-Encoding is neither identity, gzip nor deflate."""


class _Layer:
    """One Content-Encoding layer: a zlib decompressor (deflate falls back to raw deflate,
    as httpx's decoder does, when the zlib header is missing)."""

    __slots__ = ("_first", "_obj", "_raw_fallback")

    def __init__(self, encoding: str) -> None:
        gzip = encoding in ("gzip", "x-gzip")
        self._obj: Any = zlib.decompressobj(16 + zlib.MAX_WBITS if gzip else zlib.MAX_WBITS)
        self._raw_fallback = not gzip
        self._first = True

    def inflate(self, data: bytes, room: int) -> list[bytes]:
        """Inflate `data`, fewer than `room` bytes out.

        Raises:
            BodyTooLarge: `room` bytes came out (inflating stops there).
            BodyCorrupt: the data is not valid for this layer.
        """
        out: list[bytes] = []
        produced = 0
        while data and produced < room and not self._obj.eof:
            try:
                piece = self._obj.decompress(data, min(_STEP, room - produced))
            except zlib.error:
                if not (self._first and self._raw_fallback):
                    raise BodyCorrupt from None
                self._raw_fallback = False
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                continue
            self._first = False
            out.append(piece)
            produced += len(piece)
            data = self._obj.unconsumed_tail
        if produced >= room:  # this layer alone would pass the cap
            raise BodyTooLarge
        return out

    def flush(self) -> bytes:
        try:
            return bytes(self._obj.flush())
        except zlib.error:  # pragma: no cover - flush of a valid stream does not fail
            raise BodyCorrupt from None


def _layers(content_encoding: str | None, *, strict: bool) -> list[_Layer]:
    """The decoders to apply, outermost (last listed) first."""
    layers: list[_Layer] = []
    for value in (content_encoding or "").split(","):
        name = value.strip().lower()
        if name in ("", "identity"):
            continue
        if name in ("gzip", "x-gzip", "deflate"):
            layers.append(_Layer(name))
        elif strict:
            raise UnsupportedEncoding
    layers.reverse()
    return layers


class CappedDecoder:
    """Decodes a body fed chunk by chunk, refusing it once it passes `cap` bytes.

    Args:
        content_encoding: the answer's Content-Encoding header (None: identity).
        cap: the most bytes the decoded body may hold.
        strict: refuse an encoding other than identity, gzip and deflate (else it is
            passed through undecoded, as httpx does).

    Raises:
        UnsupportedEncoding: `strict` and an encoding we cannot undo.
    """

    __slots__ = ("_body", "_cap", "_layers")

    def __init__(self, content_encoding: str | None, cap: int, *, strict: bool = False) -> None:
        self._cap = cap
        self._layers = _layers(content_encoding, strict=strict)
        self._body = bytearray()

    def feed(self, chunk: bytes) -> None:
        """Decode one raw chunk into the body.

        Raises:
            BodyTooLarge: the body passed the cap.
            BodyCorrupt: a compressed layer is corrupt.
        """
        pieces = [chunk]
        for layer in self._layers:
            room = self._cap + 1 - len(self._body)
            pieces = [out for piece in pieces for out in layer.inflate(piece, room)]
        for piece in pieces:
            self._body += piece
        if len(self._body) > self._cap:
            raise BodyTooLarge

    def feed_all(self, body: bytes) -> bytes:
        """Decode a whole raw body (fed in network-chunk-sized pieces): `feed` + `finish`.

        Raises:
            BodyTooLarge: the body passed the cap.
            BodyCorrupt: a compressed layer is corrupt.
        """
        view = memoryview(body)
        for start in range(0, len(view), _FEED):
            self.feed(bytes(view[start : start + _FEED]))
        return self.finish()

    def finish(self) -> bytes:
        """The whole decoded body, once every raw chunk was fed.

        Raises:
            BodyTooLarge: the last bytes passed the cap.
            BodyCorrupt: a compressed layer is corrupt.
        """
        pieces: list[bytes] = []
        for layer in self._layers:
            room = self._cap + 1 - len(self._body)
            pieces = [out for piece in pieces for out in layer.inflate(piece, room)]
            pieces.append(layer.flush())
        for piece in pieces:
            self._body += piece
        if len(self._body) > self._cap:
            raise BodyTooLarge
        return bytes(self._body)


async def read_capped(
    chunks: AsyncIterable[bytes], content_encoding: str | None, cap: int, *, strict: bool = False
) -> bytes:
    """The decoded body of raw `chunks`, refused as soon as it passes `cap` bytes.

    The iterator is closed here (`aclose`) when reading stops early, not by the GC later.

    Args:
        chunks: the raw (still encoded) body, e.g. `httpx.Response.aiter_raw()`.
        content_encoding: the answer's Content-Encoding header.
        cap: the most bytes the decoded body may hold.
        strict: see `CappedDecoder`.

    Returns:
        The decoded body.

    Raises:
        BodyTooLarge: the decoded body passed `cap`.
        BodyCorrupt: a compressed layer is corrupt.
        UnsupportedEncoding: `strict` and an encoding we cannot undo.
    """
    decoder = CappedDecoder(content_encoding, cap, strict=strict)
    try:
        async for chunk in chunks:
            decoder.feed(chunk)
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
    return decoder.finish()


async def send_and_read(
    http: httpx.AsyncClient, request: httpx.Request, cap: int
) -> httpx.Response:
    """Send `request` on `http` (streamed), read its body under `cap` and close it.

    An answer its transport has already read (ours over aiohttp, which decodes under the
    same cap; fakes; mocks) is only measured.

    Args:
        http: the client to send with (ours, or the user's `http_client=`).
        request: the request.
        cap: the most bytes the decoded body may hold.

    Returns:
        The answer, its body read and decoded (Content-Encoding dropped when decoded here).

    Raises:
        httpx.HTTPError: the network failed, or the compressed body is corrupt
            (`httpx.DecodingError`, as httpx's own reader says).
        ResponseTooLargeError: the decoded body is larger than `cap` (the connection is
            closed mid-body, so never pooled).
    """
    streamed = await http.send(request, stream=True)
    if streamed.is_stream_consumed:
        if len(streamed.content) > cap:
            raise ResponseTooLargeError("the answer is too large", status_code=streamed.status_code)
        return streamed
    try:
        encoding = streamed.headers.get("content-encoding")
        try:
            body = await read_capped(streamed.aiter_raw(), encoding, cap)
        except BodyTooLarge:
            raise ResponseTooLargeError(
                "the answer is too large", status_code=streamed.status_code
            ) from None
        except BodyCorrupt:
            raise httpx.DecodingError(
                "the answer's compressed body is corrupt", request=request
            ) from None
    finally:
        await streamed.aclose()
    headers = [
        (name, value)
        for name, value in streamed.headers.multi_items()
        if name.lower() != "content-encoding"
    ]
    return httpx.Response(
        streamed.status_code,
        headers=headers,
        content=body,
        request=request,
        extensions=streamed.extensions,
    )
