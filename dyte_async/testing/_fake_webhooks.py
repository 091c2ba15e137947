"""The fake's webhook controls: its key pair, subscriptions and deliveries."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from contextlib import AbstractAsyncContextManager

from dyte_async.testing._state import FakeState
from dyte_async.testing._webhook_targets import (
    DEFAULT_STATUSES,
    LIVESTREAM_STATUS_UPDATE,
    WebhookCallback,
    WebhookDelivery,
    WebhookFlavor,
)
from dyte_async.testing._webhooks import WebhookSender

__all__ = ["WebhookControls"]


class WebhookControls:
    """The part of `FakeDyte` that sends webhooks (a mixin: the sender lives on the fake)."""

    _state: FakeState
    _webhooks: WebhookSender

    @property
    def webhook_public_key_pem(self) -> str:
        """The PEM served at `GET /.well-known/webhooks.json`.

        The fake's own public key (its pair is generated on first use), unless another was
        set: assign a PEM to serve it instead (for deliveries you sign yourself; the fake's
        own deliveries then do not verify against it), or None to serve the fake's own.
        """
        return self._state.webhook_keys.served_pem()

    @webhook_public_key_pem.setter
    def webhook_public_key_pem(self, pem: str | None) -> None:
        self._state.webhook_keys.served = pem

    @property
    def webhook_keypair(self) -> tuple[str, str]:
        """`(private_pem, public_pem)` the fake signs webhooks with (generated on first use)."""
        return self._state.webhook_keys.keypair()

    def add_webhook(
        self,
        url: str | None = None,
        *,
        callback: WebhookCallback | None = None,
        flavor: WebhookFlavor = "dyte",
        events: Iterable[str] = (LIVESTREAM_STATUS_UPDATE,),
        statuses: Collection[str] | None = DEFAULT_STATUSES,
        max_retries: int = 5,
        retry_delay: float = 0.01,
        timeout: float = 3.0,
        allow_remote: bool = False,
        webhook_id: str | None = None,
    ) -> str:
        """Subscribe a receiver to livestream status changes from now on.

        Each change found afterwards (see `deliver_webhooks`) is sent as a
        `livestreaming.statusUpdate` POST whose JSON body is signed with the fake's key
        pair (`webhook_keypair`) by `dyte_async.webhooks.signed_headers`, with a fresh
        `dyte-uuid` / `rtk-uuid` per delivery (kept on its retries) and this webhook's id.
        The Dyte body is `{"event", "streamId", "status"}`; the RealtimeKit one adds
        `manualIngest`, `playbackUrl`, `ingestServer`, `streamKey` and `meeting`.

        Success is a 2xx answer within `timeout` seconds. Failures are retried up to
        `max_retries` times, after `retry_delay` real seconds doubled each time (at most
        1 s): with `flavor="dyte"` any failure (as Dyte does: 3xx, 4xx, 5xx, no answer);
        with `"realtimekit"` only 5xx, no answer and network errors (as RealtimeKit does).
        A callback fails by raising or by outliving `timeout`.

        Args:
            url: where to POST (a loopback address unless `allow_remote`).
            callback: called with `(body, headers)` instead of POSTing (sync or async).
            flavor: `"dyte"` (`dyte-*` headers) or `"realtimekit"` (`rtk-*` headers).
            events: event names (the spec's enum); only `livestreaming.statusUpdate` is
                ever sent.
            statuses: the statuses sent (None: every change, INVOKED included).
            max_retries: retries after a failed attempt (Dyte: 5).
            retry_delay: real seconds before the first retry.
            timeout: real seconds an attempt may take (Dyte: 3).
            allow_remote: allow a URL that is not on a loopback address.
            webhook_id: the webhook id (None: a fresh uuid).

        Returns:
            The webhook id (sent as `dyte-webhook-id` / `rtk-webhook-id`).

        Raises:
            ValueError: neither or both of `url` and `callback`, a URL that is not http(s)
                or not loopback, an unknown flavor or event, a taken id, bad numbers.
        """
        target = self._webhooks.add(
            url,
            callback=callback,
            flavor=flavor,
            events=events,
            statuses=statuses,
            max_retries=max_retries,
            retry_delay=retry_delay,
            timeout=timeout,
            allow_remote=allow_remote,
            webhook_id=webhook_id,
        )
        return target.id

    def remove_webhook(self, webhook_id: str) -> None:
        """Unsubscribe a webhook (its deliveries in flight finish).

        Raises:
            KeyError: for an unknown id.
        """
        self._webhooks.remove(webhook_id)

    async def deliver_webhooks(self) -> list[WebhookDelivery]:
        """Send the status changes not sent yet, now; return those deliveries.

        The clock is read now, so with a `FakeClock` the changes its advances made due are
        found. Returns when they are done, retries included. A background sender
        (`serve()`, `sending_webhooks()`) does the same on its own; calling this as well
        waits for its round in progress, and flushes before leaving its block. (Not from
        a webhook callback: it would wait for the round that is calling it.)

        Returns:
            The deliveries made by this call, in order of change (also appended to
            `webhook_deliveries`).
        """
        return await self._webhooks.deliver()

    def sending_webhooks(self, *, poll_interval: float = 0.02) -> AbstractAsyncContextManager[None]:
        """Deliver webhooks in the background while the `async with` block runs.

        `serve()` does this on its own; use it with the in-process transport. Changes made
        through the API, `set_status`, `start_meeting` and `end_meeting` (on the event
        loop's thread) are sent at once; changes due to the clock are found within
        `poll_interval` real seconds. Leaving the block stops deliveries in flight (they
        stay `done=False`) and closes the HTTP clients.

        Raises:
            ValueError: `poll_interval` is not positive (on entering the block).
        """
        return self._webhooks.running(poll_interval)
