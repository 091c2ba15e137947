"""What the webhook key tests share: the key URL, a delivery body, a secret that must never
be quoted, and a strong and a weak key pair (made once per run)."""

from __future__ import annotations

import functools

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from dyte_async.webhooks import DYTE_WEBHOOK_KEY_URL, generate_keypair

KEY_URL = DYTE_WEBHOOK_KEY_URL
BODY = b'{"event":"livestreaming.statusUpdate","streamId":"s-1","status":"LIVE"}'
SECRET = "hunter2-location-secret"


@functools.cache
def strong() -> tuple[str, str]:
    """A 2048-bit pair made by the library."""
    return generate_keypair()


@functools.cache
def weak() -> tuple[str, str]:
    """A 1024-bit pair, made with `cryptography` itself (`generate_keypair` refuses it)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem
