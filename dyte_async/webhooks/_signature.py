"""Checking a delivery's signature: `dyte-signature` or `rtk-signature` over the raw body.

Both services sign with RSASSA-PKCS1-v1_5 + SHA-256 and send the signature base64-encoded.
RealtimeKit documents the signature as computed over the **raw** body ("Do not reserialize
parsed JSON before verification"). Dyte's docs say "RSA-SHA256 digest of the request
payload", but Dyte's own Node sample verifies `JSON.stringify(req.body)`: the parsed body
serialised again. Both cannot hold for every body, so `verify` checks the raw bytes and,
only with `allow_reserialized=True`, also Node's re-serialisation of the parsed body
(`dyte_async.webhooks._jsjson`). Keep the flag off unless raw-body checks fail for real
Dyte deliveries: the fallback accepts a body whose bytes differ from what was signed as
long as it parses to the same JSON.

Every failure is a `WebhookSignatureError` (`WebhookKeyError` for an unusable key), except
a missing `cryptography` package, which is a `ConfigurationError` naming the extra.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from dyte_async.errors import WebhookSignatureError
from dyte_async.webhooks._crypto import load_public_key, require_cryptography, signature_matches
from dyte_async.webhooks._headers import SIGNATURE_HEADERS, header
from dyte_async.webhooks._jsjson import js_stringify

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

__all__ = ["Body", "as_bytes", "mismatch_error", "signatures_from", "verify", "verify_with_key"]

#: What a body may be given as. Pass the raw bytes you received whenever you can.
Body = bytes | bytearray | memoryview | str

# A 16384-bit RSA signature is 2048 bytes: anything far longer is not a signature.
_MAX_SIGNATURE_CHARS = 8192


def as_bytes(body: Body) -> bytes:
    """The body as bytes (text is encoded as UTF-8).

    Raises:
        WebhookSignatureError: `body` is not bytes-like or text.
    """
    if isinstance(body, bytes):
        return body
    if isinstance(body, (bytearray, memoryview)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8", errors="surrogatepass")
    raise WebhookSignatureError(f"the webhook body must be bytes, got {type(body).__name__}")


def signatures_from(headers: Mapping[str, str] | None) -> list[tuple[str, bytes]]:
    """The decoded signatures of a delivery, with the header each came from.

    Args:
        headers: the request headers (any mapping; names are matched in any case).

    Returns:
        `(header name, signature bytes)` for each signature header present.

    Raises:
        WebhookSignatureError: no signature header, or one that is not base64.
    """
    found: list[tuple[str, bytes]] = []
    for name in SIGNATURE_HEADERS:
        value = header(headers, name)
        if value is None:
            continue
        text = value.strip()
        if not text or len(text) > _MAX_SIGNATURE_CHARS:
            raise WebhookSignatureError(f"the {name} header is empty or too long")
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise WebhookSignatureError(f"the {name} header is not base64") from None
        found.append((name, raw))
    if not found:
        raise WebhookSignatureError(
            "no webhook signature: expected a " + " or ".join(SIGNATURE_HEADERS) + " header"
        )
    return found


def _reserialized(body: bytes) -> bytes | None:
    try:
        return js_stringify(json.loads(body)).encode("utf-8")
    except Exception:  # not JSON, too deep, lone surrogates: there is no such text
        return None


def verify_with_key(
    key: RSAPublicKey,
    body: bytes,
    signatures: list[tuple[str, bytes]],
    *,
    allow_reserialized: bool = False,
) -> bool:
    """True when one of `signatures` matches `body` (or, if allowed, its re-serialisation).

    Args:
        key: the loaded public key.
        body: the raw body bytes.
        signatures: from `signatures_from`.
        allow_reserialized: also accept a signature over Node's `JSON.stringify` of the
            parsed body (Dyte's sample verifier).

    Returns:
        Whether a signature matched. Never raises.
    """
    if any(signature_matches(key, sig, body) for _, sig in signatures):
        return True
    if not allow_reserialized:
        return False
    text = _reserialized(body)
    if text is None or text == body:
        return False
    return any(signature_matches(key, sig, text) for _, sig in signatures)


def mismatch_error(signatures: list[tuple[str, bytes]]) -> WebhookSignatureError:
    """The error for signatures that do not match their body."""
    names = ", ".join(name for name, _ in signatures)
    return WebhookSignatureError(f"the webhook signature ({names}) does not match the body")


def verify(
    body: Body,
    headers: Mapping[str, str] | None,
    public_key_pem: str | bytes,
    *,
    allow_reserialized: bool = False,
) -> None:
    """Check a webhook delivery's signature; return quietly when it is genuine.

    Reads `dyte-signature` (Dyte) or `rtk-signature` (RealtimeKit): a base64
    RSA-SHA256 (PKCS#1 v1.5) signature over the raw body bytes. When both headers are
    present, one valid signature is enough.

    Args:
        body: the raw request body, exactly as received (bytes; text is UTF-8 encoded).
        headers: the request headers (any mapping; header names in any case).
        public_key_pem: the service's public key, PEM (see `dyte.webhooks.public_key()`).
        allow_reserialized: also accept a signature over `JSON.stringify` of the parsed
            body, as Dyte's Node sample computes it. Off by default: see the module docs.

    Raises:
        WebhookSignatureError: no signature header, not base64, or no signature matches
            (tampered body, another key, another algorithm such as PSS or SHA-1).
        WebhookKeyError: `public_key_pem` is not a PEM RSA public key of at least 2048
            bits (a subclass of both `WebhookSignatureError` and `ConfigurationError`).
        ConfigurationError: the `cryptography` package (extra `webhooks`) is missing.
    """
    require_cryptography()  # a missing extra is a setup error, whatever the request
    data = as_bytes(body)
    signatures = signatures_from(headers)
    key = load_public_key(public_key_pem)
    if not verify_with_key(key, data, signatures, allow_reserialized=allow_reserialized):
        raise mismatch_error(signatures)
