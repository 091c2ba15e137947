"""How big the webhook key's answer may be, and how strong the key must be.

The answer is read up to `MAX_KEY_ANSWER_BYTES`, compressed or not (asked for identity,
inflated no further than the cap if sent anyway). RSA keys shorter than 2048 bits are
refused, fetched or given to `verify`. Where the key may come from:
test_webhook_key_origin.py.
"""

from __future__ import annotations

import tracemalloc
import zlib

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dyte_async import AsyncDyte
from dyte_async.errors import (
    APIStatusError,
    ConfigurationError,
    ResponseDecodeError,
    WebhookSignatureError,
)
from dyte_async.resources.webhooks import Webhooks
from dyte_async.testing import FakeDyte
from dyte_async.webhooks import (
    WebhookKeyError,
    generate_keypair,
    sign,
    verify,
)
from dyte_async.webhooks._keys import MAX_KEY_ANSWER_BYTES
from tests.unit.webhook_keys import BODY, KEY_URL, SECRET, strong, weak

pytestmark = pytest.mark.anyio


@pytest.fixture
def webhooks(dyte: AsyncDyte) -> Webhooks:
    return dyte.webhooks


# -- the answer's size ---------------------------------------------------------------------


async def test_an_answer_over_the_cap_is_a_decode_error(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    route = router.get(KEY_URL).mock(
        return_value=httpx.Response(200, content=b" " * (MAX_KEY_ANSWER_BYTES + 1))
    )
    with pytest.raises(ResponseDecodeError, match="larger than 65536 bytes") as caught:
        await webhooks.public_key()
    assert caught.value.body == ""
    assert caught.value.status_code == 200
    assert route.calls.last.request.headers["accept-encoding"] == "identity"


async def test_an_answer_at_the_cap_is_read(router: respx.MockRouter, webhooks: Webhooks) -> None:
    pem = strong()[1]
    padded = pem.encode() + b"\n" * (MAX_KEY_ANSWER_BYTES - len(pem))
    assert len(padded) == MAX_KEY_ANSWER_BYTES
    router.get(KEY_URL).mock(return_value=httpx.Response(200, content=padded))
    assert (await webhooks.public_key()).strip() == pem.strip()


#: Trio warns about every async generator collected before it was exhausted, and httpx's
#: own stream wrappers are generators that a reader stopping early cannot close (trio
#: then closes them itself, right after the warning). The fetch closes the one it holds.
TRIO_GENERATOR_WARNING = "ignore:Async generator 'httpx.*garbage collected:ResourceWarning"


@pytest.mark.filterwarnings(TRIO_GENERATOR_WARNING)
async def test_an_endless_answer_stops_past_the_cap(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    sent: list[int] = []
    closed: list[bool] = []

    class Endless(httpx.AsyncByteStream):
        """1 KiB chunks, up to 100 MB: far past the cap; the fetch stops long before."""

        def __aiter__(self) -> Endless:
            return self

        async def __anext__(self) -> bytes:
            if len(sent) >= 100_000:
                raise StopAsyncIteration
            sent.append(len(sent))
            return b"x" * 1024

        async def aclose(self) -> None:
            closed.append(True)

    router.get(KEY_URL).mock(return_value=httpx.Response(200, stream=Endless()))
    with pytest.raises(ResponseDecodeError, match="larger than"):
        await webhooks.public_key()
    assert len(sent) == MAX_KEY_ANSWER_BYTES // 1024 + 1
    assert closed == [True]


async def test_an_error_answer_over_the_cap_is_a_decode_error_too(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(
        return_value=httpx.Response(500, content=b"e" * (MAX_KEY_ANSWER_BYTES + 1))
    )
    with pytest.raises(ResponseDecodeError, match="larger than") as caught:
        await webhooks.public_key()
    assert caught.value.status_code == 500


async def test_an_error_answer_under_the_cap_keeps_its_status_error(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(
        return_value=httpx.Response(503, json={"error": {"code": 503, "message": "busy"}})
    )
    with pytest.raises(APIStatusError) as caught:
        await webhooks.public_key()
    assert caught.value.status_code == 503
    assert caught.value.message == "busy"
    assert caught.value.url == KEY_URL


# -- key strength --------------------------------------------------------------------------


async def test_a_1024_bit_fetched_key_is_refused_and_not_cached(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(
        side_effect=[httpx.Response(200, text=weak()[1]), httpx.Response(200, text=strong()[1])]
    )
    with pytest.raises(ResponseDecodeError, match="1024-bit RSA key: at least 2048 bits"):
        await webhooks.public_key()
    assert (await webhooks.public_key()).strip() == strong()[1].strip()


async def test_a_1024_bit_fetched_key_never_verifies_a_delivery(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    router.get(KEY_URL).mock(return_value=httpx.Response(200, text=weak()[1]))
    forged = {"dyte-signature": sign_weak(BODY)}
    with pytest.raises(ResponseDecodeError, match="2048"):
        await webhooks.verify(BODY, forged)


def sign_weak(body: bytes) -> str:
    """A signature by the weak key, made without the library (which refuses to sign)."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    key = serialization.load_pem_private_key(weak()[0].encode(), password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return base64.b64encode(key.sign(body, padding.PKCS1v15(), hashes.SHA256())).decode()


def test_verify_refuses_a_1024_bit_pem() -> None:
    headers = {"dyte-signature": sign_weak(BODY)}
    with pytest.raises(WebhookKeyError, match="1024-bit RSA key: at least 2048 bits") as caught:
        verify(BODY, headers, weak()[1])
    assert isinstance(caught.value, WebhookSignatureError)
    assert isinstance(caught.value, ConfigurationError)


async def test_a_2048_bit_key_is_accepted_fetched_and_given(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    private_pem, public_pem = strong()
    router.get(KEY_URL).mock(return_value=httpx.Response(200, text=public_pem))
    headers = {"dyte-signature": sign(BODY, private_pem)}
    verify(BODY, headers, public_pem)
    await webhooks.verify(BODY, headers)


def test_signing_with_a_1024_bit_key_is_refused() -> None:
    with pytest.raises(WebhookKeyError, match="signing key is a 1024-bit RSA key"):
        sign(BODY, weak()[0])


@pytest.mark.parametrize("size", [1024, 2047])
def test_generate_keypair_refuses_short_keys(size: int) -> None:
    with pytest.raises(ValueError, match=f"at least 2048 bits, got {size}"):
        generate_keypair(key_size=size)


def test_the_fake_signs_with_a_2048_bit_key_and_refuses_a_weak_pair() -> None:
    fake = FakeDyte()
    key = serialization.load_pem_public_key(fake.webhook_public_key_pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size >= 2048
    with pytest.raises(WebhookKeyError, match="2048"):
        FakeDyte(webhook_keypair=weak())


# -- compressed answers (asked for identity, inflated under the cap if sent anyway) ---------


class Chunks(httpx.AsyncByteStream):
    """An answer body streamed in chunks, as a socket gives it (respx reads `content=`)."""

    def __init__(self, data: bytes, size: int = 16 * 1024) -> None:
        self._parts = [data[i : i + size] for i in range(0, len(data), size)]
        self.sent = 0

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> bytes:
        if self.sent >= len(self._parts):
            raise StopAsyncIteration
        self.sent += 1
        return self._parts[self.sent - 1]


def streamed(body: bytes, encoding: str) -> httpx.Response:
    return httpx.Response(200, stream=Chunks(body), headers={"content-encoding": encoding})


def compressed(data: bytes, encoding: str) -> bytes:
    if encoding == "deflate":
        return zlib.compress(data)
    out = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return out.compress(data) + out.flush()


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "identity", ""])
async def test_a_compressed_key_is_inflated(
    router: respx.MockRouter, webhooks: Webhooks, encoding: str
) -> None:
    pem = strong()[1].encode()
    body = (
        compressed(pem, encoding.removeprefix("x-")) if encoding.endswith(("gzip", "te")) else pem
    )
    router.get(KEY_URL).mock(return_value=streamed(body, encoding))
    assert (await webhooks.public_key()).strip() == pem.decode().strip()


@pytest.mark.filterwarnings(TRIO_GENERATOR_WARNING)
@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_a_compression_bomb_stops_at_the_cap(
    router: respx.MockRouter, webhooks: Webhooks, encoding: str
) -> None:
    bomb = compressed(b"\0" * (64 * 1024 * 1024), encoding)  # 64 MiB in about 64 KiB
    assert len(bomb) < 100_000
    answer = streamed(bomb, encoding)
    router.get(KEY_URL).mock(return_value=answer)
    with pytest.raises(ResponseDecodeError, match="larger than 65536 bytes"):
        await webhooks.public_key()
    assert isinstance(answer.stream, Chunks)
    assert answer.stream.sent == 1  # the first 16 KiB chunk already inflates past the cap


@pytest.mark.filterwarnings(TRIO_GENERATOR_WARNING)
@pytest.mark.parametrize(
    ("encoding", "body", "message"),
    [
        ("br", b"\x0b\x02\x80hello\x03", "unsupported Content-Encoding"),
        (f"x-{SECRET}", b"hello", "unsupported Content-Encoding"),
        ("gzip", b"not gzip at all", "compressed body .* is corrupt"),
        ("deflate", b"not deflate either", "compressed body .* is corrupt"),
    ],
)
async def test_an_undecodable_encoding_is_a_decode_error(
    router: respx.MockRouter, webhooks: Webhooks, encoding: str, body: bytes, message: str
) -> None:
    router.get(KEY_URL).mock(return_value=streamed(body, encoding))
    with pytest.raises(ResponseDecodeError, match=message) as caught:
        await webhooks.public_key()
    assert caught.value.body == ""
    assert caught.value.__cause__ is None
    assert SECRET not in str(caught.value)  # the server's header is never quoted


async def test_a_compressed_error_answer_keeps_its_status_error(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    body = b'{"error": {"code": 503, "message": "busy"}}'
    router.get(KEY_URL).mock(
        return_value=httpx.Response(
            503,
            stream=Chunks(compressed(body, "gzip")),
            headers={
                "content-encoding": "gzip",
                "content-type": "application/json",
                "x-request-id": "req-1",
            },
        )
    )
    with pytest.raises(APIStatusError) as caught:
        await webhooks.public_key()
    exc = caught.value
    assert (exc.status_code, exc.message, exc.request_id) == (503, "busy", "req-1")
    assert (exc.method, exc.url) == ("GET", KEY_URL)
    assert "content-encoding" not in {name.lower() for name in exc.headers}


@pytest.mark.filterwarnings(TRIO_GENERATOR_WARNING)
async def test_a_bomb_is_inflated_no_further_than_the_cap(
    router: respx.MockRouter, webhooks: Webhooks
) -> None:
    # One 64 KiB network chunk of gzip holds about 64 MB of zeros: inflated whole (as
    # httpx's decoder would), the peak would be that; under the cap it stays near 64 KiB.
    bomb = compressed(b"\0" * (256 * 1024 * 1024), "gzip")
    answer = httpx.Response(
        200, stream=Chunks(bomb[: 64 * 1024], size=64 * 1024), headers={"content-encoding": "gzip"}
    )
    router.get(KEY_URL).mock(return_value=answer)
    tracemalloc.start()
    try:
        with pytest.raises(ResponseDecodeError, match="larger than") as caught:
            await webhooks.public_key()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert caught.value.status_code == 200


def test_exactly_2048_bits_is_enough() -> None:
    # A pair made here, not the cached one: the loader caches keys by PEM.
    private_pem, public_pem = generate_keypair(key_size=2048)
    verify(BODY, {"dyte-signature": sign(BODY, private_pem)}, public_pem)
