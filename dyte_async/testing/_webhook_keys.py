"""The fake's webhook key pair: generated on first use, and the key it serves.

Deliveries are signed by `dyte_async.webhooks.signed_headers`, which loads each private
key once (`load_private_key` is cached), so signing costs only the RSA operation.
"""

from __future__ import annotations

from typing import Literal

from dyte_async.webhooks._crypto import generate_keypair, load_private_key, load_public_key
from dyte_async.webhooks._signing import signed_headers

__all__ = ["WebhookKeys"]


class WebhookKeys:
    """The RSA key pair a `FakeDyte` signs webhooks with, and the key it serves.

    A 2048-bit key takes some tens of milliseconds to generate, so it is made only when
    first needed: a webhook is registered, the key is read, or
    `GET /.well-known/webhooks.json` is asked.

    Args:
        keypair: `(private_pem, public_pem)` to use (e.g. one cached for a whole test
            session); None: generate one on first use.

    Raises:
        WebhookKeyError: a key cannot be loaded.
        ValueError: the public key is not the private key's.
        ConfigurationError: `cryptography` is not installed.
    """

    __slots__ = ("_keypair", "served")

    def __init__(self, keypair: tuple[str, str] | None = None) -> None:
        if keypair is not None:
            private_pem, public_pem = keypair
            private = load_private_key(private_pem).public_key().public_numbers()
            if private != load_public_key(public_pem).public_numbers():
                raise ValueError("webhook_keypair: the public key does not match the private key")
        self._keypair = keypair
        #: a PEM served instead of the pair's public key (None: serve the pair's).
        self.served: str | None = None

    @property
    def generated(self) -> bool:
        """True once the key pair exists (given or generated)."""
        return self._keypair is not None

    def keypair(self) -> tuple[str, str]:
        """Return `(private_pem, public_pem)`, generating the pair on first call."""
        if self._keypair is None:
            self._keypair = generate_keypair()
        return self._keypair

    def served_pem(self) -> str:
        """The PEM answered at `GET /.well-known/webhooks.json`."""
        return self.served if self.served is not None else self.keypair()[1]

    def signed_headers(
        self,
        body: bytes,
        *,
        flavor: Literal["dyte", "realtimekit"],
        delivery_id: str | None = None,
        webhook_id: str | None = None,
    ) -> dict[str, str]:
        """What `dyte_async.webhooks.signed_headers(body, private_pem, ...)` returns."""
        return signed_headers(
            body,
            self.keypair()[0],
            flavor=flavor,
            delivery_id=delivery_id,
            webhook_id=webhook_id,
        )
