"""Producing signed deliveries, as the services do: for tests and `FakeDyte`."""

from __future__ import annotations

import uuid
from typing import Literal

from dyte_async.webhooks._crypto import sign

__all__ = ["signed_headers"]


def signed_headers(
    body: bytes,
    private_key_pem: str | bytes,
    *,
    flavor: Literal["dyte", "realtimekit"] = "dyte",
    delivery_id: str | None = None,
    webhook_id: str | None = None,
) -> dict[str, str]:
    """The headers a service sends with `body`: signature, delivery id, webhook id.

    Args:
        body: the exact body bytes that will be sent.
        private_key_pem: the signing key (see `generate_keypair`).
        flavor: `"dyte"` for `dyte-*` headers, `"realtimekit"` for `rtk-*` ones.
        delivery_id: the delivery id; a fresh UUID when None.
        webhook_id: the webhook id; omitted when None.

    Returns:
        Header name -> value, plus `content-type: application/json`.

    Raises:
        ConfigurationError: `cryptography` is not installed.
        WebhookKeyError: the private key cannot be loaded.
        ValueError: an unknown `flavor`.
    """
    if flavor not in ("dyte", "realtimekit"):
        raise ValueError(f"flavor must be 'dyte' or 'realtimekit', got {flavor!r}")
    prefix = "dyte" if flavor == "dyte" else "rtk"
    headers = {
        "content-type": "application/json",
        f"{prefix}-signature": sign(body, private_key_pem),
        f"{prefix}-uuid": delivery_id if delivery_id is not None else str(uuid.uuid4()),
    }
    if webhook_id is not None:
        headers[f"{prefix}-webhook-id"] = webhook_id
    return headers
