"""The two webhook-specific errors, both subclasses of the library's documented ones.

- `WebhookKeyError` (a `WebhookSignatureError` *and* a `ConfigurationError`): the public
  key given (or fetched) cannot verify anything: not PEM, not RSA, a private key. A
  receiver that catches `WebhookSignatureError` still rejects the delivery, and one that
  wants to tell "my setup is wrong" from "this request is forged" catches this first.
- `WebhookPayloadError` (a `ResponseDecodeError` *and* a `ValueError`): the body is not
  JSON, not an object, has no `event`, or a known event is missing its fields. Signature
  problems are never this error, and payload problems are never `WebhookSignatureError`.

Neither message ever holds the body, the signature or a stream key.
"""

from __future__ import annotations

from dyte_async.errors import ConfigurationError, ResponseDecodeError, WebhookSignatureError

__all__ = ["WebhookKeyError", "WebhookPayloadError"]


class WebhookKeyError(WebhookSignatureError, ConfigurationError):
    """The public (or private) key cannot be used: not PEM, not RSA, or the wrong kind."""


class WebhookPayloadError(ResponseDecodeError, ValueError):
    """A webhook body is not JSON, not an object, or not the shape of its event."""

    def __init__(self, message: str) -> None:
        # Never keep the body: RealtimeKit's payloads carry the stream key.
        super().__init__(message, status_code=None, body="")
