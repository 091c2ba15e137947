"""`dyte.webhooks`: the service's webhook public key (fetched, cached) and verification with it.

```python
body = await request.body()                       # the raw bytes, not re-serialised JSON
event = await dyte.webhooks.verify_and_parse(body, request.headers)
```

The key is fetched on first use and kept, only from `key_url` itself (redirects are
refused, https unless loopback or `allow_insecure_http`), and only if it is an RSA key of
at least 2048 bits. When a signature does not match the cached key,
the key is fetched again (the service may have rotated it) and the check repeated, at most
once per `refresh_interval` seconds (default 60, on the client's `Clock`) so that forged
requests cannot turn the receiver into a flood of key fetches.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import anyio
import httpx

from dyte_async._pipeline import Pipeline, logger
from dyte_async.errors import (
    APIConnectionError,
    APIStatusError,
    ConfigurationError,
    ResponseDecodeError,
    WebhookSignatureError,
)
from dyte_async.resources._base import Resource
from dyte_async.webhooks._crypto import load_public_key, require_cryptography
from dyte_async.webhooks._events import WebhookEvent, parse_event
from dyte_async.webhooks._keys import DYTE_WEBHOOK_KEY_URL, check_key_url, fetch_public_key
from dyte_async.webhooks._signature import (
    Body,
    as_bytes,
    mismatch_error,
    signatures_from,
    verify_with_key,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

__all__ = ["DEFAULT_REFRESH_INTERVAL", "Webhooks"]

#: Least seconds between two key fetches caused by verification failures.
DEFAULT_REFRESH_INTERVAL = 60.0

_REFRESH_FAILED = (APIConnectionError, APIStatusError, ResponseDecodeError)


class Webhooks(Resource):
    """Webhook helpers bound to a client (`dyte.webhooks`).

    Args:
        pipeline: the client's pipeline (for its `Clock` and default timeout).
        get_http: returns the client's pooled `httpx.AsyncClient`.
        key_url: where the public key is served; Dyte's by default. A client derives it
            from its base URL with `dyte_async.webhooks.webhook_key_url`.
        refresh_interval: least seconds between refreshes caused by failed verifications.
        allow_insecure_http: allow a plain-http `key_url` to a host other than loopback.

    Raises:
        ConfigurationError: an unsafe or malformed `key_url`, or a negative interval.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        get_http: Callable[[], httpx.AsyncClient],
        key_url: str = DYTE_WEBHOOK_KEY_URL,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
        allow_insecure_http: bool = False,
    ) -> None:
        super().__init__(pipeline)
        if not refresh_interval >= 0:
            raise ConfigurationError(f"refresh_interval must be >= 0, got {refresh_interval!r}")
        self._get_http = get_http
        self._key_url = check_key_url(key_url, allow_insecure_http=allow_insecure_http)
        self._refresh_interval = float(refresh_interval)
        self._lock = anyio.Lock()
        self._pem: str | None = None
        self._fetched_at: float | None = None
        self._fetches = 0

    @property
    def key_url(self) -> str:
        """The URL the public key is fetched from."""
        return self._key_url

    @property
    def fetches(self) -> int:
        """How many times the key was fetched (attempts, failed ones included)."""
        return self._fetches

    async def _fetch_locked(self, timeout: float | None) -> str:
        self._fetches += 1
        self._fetched_at = self._pipeline.clock.now()
        pem = await fetch_public_key(
            self._get_http,
            self._key_url,
            timeout=self._pipeline.timeout if timeout is None else timeout,
        )
        try:
            load_public_key(pem)  # cache only a key that can verify
        except WebhookSignatureError as exc:  # WebhookKeyError
            raise ResponseDecodeError(f"{self._key_url}: {exc}") from None
        if self._pem is not None and pem != self._pem:
            logger.info("webhook public key changed (fetched from %s)", self._key_url)
        self._pem = pem
        return pem

    async def public_key(self, *, refresh: bool = False, timeout: float | None = None) -> str:
        """The service's webhook public key (PEM), fetched on first use and cached.

        Concurrent callers share one fetch. Call it at startup to warm the cache, so that
        the first delivery does not wait for the fetch (Dyte wants an answer within 3 s).

        Args:
            refresh: fetch again even when a key is cached (not rate-limited).
            timeout: seconds for the fetch; the client's default timeout when None.

        Returns:
            The PEM text of the public key.

        Raises:
            ConfigurationError: the `cryptography` package (extra `webhooks`) is missing.
            ClientClosedError: the client is closed.
            APITimeoutError, APIConnectionError: the fetch failed on the network, or the
                key URL answered a redirect (never followed: the key comes only from
                `key_url`).
            APIStatusError: the key URL answered an error status.
            ResponseDecodeError: the answer holds no usable RSA public key (not PEM, not
                RSA, or shorter than 2048 bits), or is larger than 64 KiB.
        """
        require_cryptography()
        if self._pem is not None and not refresh:
            return self._pem
        async with self._lock:
            if self._pem is not None and not refresh:
                return self._pem  # another caller fetched it while we waited
            return await self._fetch_locked(timeout)

    def _matches(
        self,
        pem: str,
        body: bytes,
        signatures: list[tuple[str, bytes]],
        allow_reserialized: bool,
    ) -> bool:
        key: RSAPublicKey = load_public_key(pem)
        return verify_with_key(key, body, signatures, allow_reserialized=allow_reserialized)

    async def _key_after_failure(
        self, used: str, timeout: float | None
    ) -> tuple[str | None, BaseException | None]:
        """A newer key to try after `used` failed, if one may be had now."""
        async with self._lock:
            if self._pem is not None and self._pem != used:
                return self._pem, None  # someone refreshed while we checked
            clock = self._pipeline.clock
            if (
                self._fetched_at is not None
                and clock.now() - self._fetched_at < self._refresh_interval
            ):
                return None, None
            try:
                return await self._fetch_locked(timeout), None
            except _REFRESH_FAILED as exc:
                logger.warning("refreshing the webhook public key failed: %s", exc)
                return None, exc

    async def verify(
        self,
        body: Body,
        headers: Mapping[str, str] | None,
        *,
        allow_reserialized: bool = False,
        timeout: float | None = None,
    ) -> None:
        """Check a delivery's signature with the service's key; return quietly if genuine.

        Uses the cached key. When the signature does not match, the key is fetched again
        (at most once per `refresh_interval`) and the check repeated with the new key.

        Args:
            body: the raw request body, exactly as received.
            headers: the request headers (`dyte-signature` or `rtk-signature`).
            allow_reserialized: also accept a signature over `JSON.stringify` of the
                parsed body (Dyte's sample verifier); off by default.
            timeout: seconds for a key fetch, when one is needed.

        Raises:
            WebhookSignatureError: no signature header, not base64, or no match (also
                after a refresh, or when a refresh was not allowed yet or failed).
            ConfigurationError: the `cryptography` package (extra `webhooks`) is missing.
            ClientClosedError: the client is closed.
            APITimeoutError, APIConnectionError, APIStatusError, ResponseDecodeError:
                no key is cached and fetching the first one failed (answer 5xx: the
                sender will retry).
        """
        require_cryptography()
        data = as_bytes(body)
        signatures = signatures_from(headers)  # a missing header needs no key
        pem = await self.public_key(timeout=timeout)
        if self._matches(pem, data, signatures, allow_reserialized):
            return
        newer, failure = await self._key_after_failure(pem, timeout)
        if (
            newer is not None
            and newer != pem
            and self._matches(newer, data, signatures, allow_reserialized)
        ):
            return
        raise mismatch_error(signatures) from failure

    async def verify_and_parse(
        self,
        body: Body,
        headers: Mapping[str, str] | None,
        *,
        allow_reserialized: bool = False,
        timeout: float | None = None,
    ) -> WebhookEvent:
        """`verify` the delivery, then `parse_event` it (with its delivery id).

        Args:
            body: the raw request body, exactly as received.
            headers: the request headers.
            allow_reserialized: as for `verify`.
            timeout: seconds for a key fetch, when one is needed.

        Returns:
            The typed event (`LivestreamStatusUpdate`, or `GenericEvent` for others).

        Raises:
            WebhookSignatureError: as for `verify`.
            WebhookPayloadError: the signature is good but the body is not a known shape.
            ConfigurationError, ClientClosedError, APIConnectionError, APIStatusError,
                ResponseDecodeError: as for `verify`.
        """
        await self.verify(body, headers, allow_reserialized=allow_reserialized, timeout=timeout)
        return parse_event(as_bytes(body), headers)

    def __repr__(self) -> str:
        state = "cached" if self._pem is not None else "not fetched"
        return f"<Webhooks key_url={self._key_url} key={state}>"
