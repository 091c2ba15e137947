"""The delivery headers both services send, read case-insensitively from any mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "DELIVERY_ID_HEADERS",
    "SIGNATURE_HEADERS",
    "WEBHOOK_ID_HEADERS",
    "delivery_id",
    "first_header",
    "header",
    "webhook_id",
]

#: Signature headers, Dyte's first: base64 RSA-SHA256 (PKCS#1 v1.5) of the body.
SIGNATURE_HEADERS: Final = ("dyte-signature", "rtk-signature")
#: Unique id of one delivery (the same on the sender's retries): for de-duplication.
DELIVERY_ID_HEADERS: Final = ("dyte-uuid", "rtk-uuid")
#: Id of the webhook (the subscription) that sent the delivery.
WEBHOOK_ID_HEADERS: Final = ("dyte-webhook-id", "rtk-webhook-id")


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """The value of header `name` (any case), or None when absent.

    Works with plain dicts of any key case as well as with the case-insensitive
    header objects of Starlette, httpx, aiohttp or Werkzeug.

    Args:
        headers: the request headers, or None.
        name: the header name, lower case.

    Returns:
        The value, or None.
    """
    if not headers:
        return None
    value: object = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                value = candidate
                break
    if isinstance(value, bytes):  # raw ASGI-style values
        value = value.decode("latin-1")
    return value if isinstance(value, str) else None


def first_header(headers: Mapping[str, str] | None, names: tuple[str, ...]) -> str | None:
    """The first of `names` present (and not blank) in `headers`, stripped."""
    for name in names:
        value = header(headers, name)
        if value is not None and value.strip():
            return value.strip()
    return None


def delivery_id(headers: Mapping[str, str] | None) -> str | None:
    """The delivery id (`dyte-uuid` or `rtk-uuid`), to ignore the sender's retries.

    Args:
        headers: the request headers.

    Returns:
        The id, or None when neither header is present.
    """
    return first_header(headers, DELIVERY_ID_HEADERS)


def webhook_id(headers: Mapping[str, str] | None) -> str | None:
    """The id of the webhook subscription (`dyte-webhook-id` or `rtk-webhook-id`).

    Args:
        headers: the request headers.

    Returns:
        The id, or None when neither header is present.
    """
    return first_header(headers, WEBHOOK_ID_HEADERS)
