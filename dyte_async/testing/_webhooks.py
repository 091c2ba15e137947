"""Signed webhooks from the fake: `livestreaming.statusUpdate` on every status change.

Livestream statuses are computed from the clock when read (`_state`), so nothing fires when
a status changes. `WebhookSender.deliver` looks instead: it compares each livestream
session's status history up to now with what it saw last time, and every change it had
not seen becomes one delivery per matching webhook, signed as the services sign (the
headers of `dyte_async.webhooks.signed_headers`), POSTed to the webhook's URL or handed
to its callback. `running()` looks every `poll_interval` seconds, and at once when
`kick()` says the state changed.

Delivery rules (ENDPOINTS.md section 8):

- a delivery succeeds on a 2xx answer within `timeout` seconds (Dyte: 3 s);
- `"dyte"` flavour: any other outcome (3xx, 4xx, 5xx, no answer, a network error) is
  retried, up to `max_retries` times (Dyte: "retry up to 5 times");
- `"realtimekit"` flavour: 5xx, no answer and network errors are retried; another non-2xx
  answer fails the delivery at once;
- retries keep the delivery id (`dyte-uuid` / `rtk-uuid`), as the services do;
- retries wait `retry_delay` real seconds, doubled each time up to 1 s (the services do
  not document their delays; these are short, for tests);
- a callback that raises (or outlives `timeout`) counts as a network error.

Deliveries of one webhook go out one at a time, in the order of the changes; different
webhooks are served concurrently.

The parts: the records (`_webhook_targets`), finding changes (`_webhook_changes`), signed
bodies (`_webhook_payloads`), sending with retries (`_webhook_send`); `WebhookSender`
here registers, looks and runs them.
"""

from __future__ import annotations

import contextlib
import random
import threading
import uuid
from collections.abc import AsyncIterator, Collection, Iterable

import anyio
import sniffio

from dyte_async.testing._state import FakeState
from dyte_async.testing._webhook_changes import ChangeTracker
from dyte_async.testing._webhook_payloads import signed_delivery
from dyte_async.testing._webhook_send import Clients, send_all
from dyte_async.testing._webhook_targets import (
    KNOWN_EVENTS,
    LIVESTREAM_STATUS_UPDATE,
    WebhookCallback,
    WebhookDelivery,
    WebhookFlavor,
    WebhookTarget,
    check_url,
)

# WebhookDelivery is re-exported for `dyte_async.testing`; the rest lives in the parts.
__all__ = ["WebhookDelivery", "WebhookSender"]


class WebhookSender:
    """The fake's webhooks: registrations, finding changes, signing and delivering.

    Args:
        state: the fake's records (and its clock and key pair).
        seed: seed of webhook and delivery ids (None: random).
    """

    def __init__(self, state: FakeState, *, seed: int | None = None) -> None:
        self._state = state
        self._rng = random.Random(None if seed is None else f"{seed}/webhooks")
        self.targets: dict[str, WebhookTarget] = {}
        #: every delivery, oldest first.
        self.deliveries: list[WebhookDelivery] = []
        self._tracker = ChangeTracker()
        self._lock: tuple[str, anyio.Lock] | None = None
        self._wake: anyio.Event | None = None
        self._runner_thread: int | None = None
        self._runner_clients: Clients | None = None
        self._runners = 0

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    # -- registration -------------------------------------------------------------------

    def add(
        self,
        url: str | None,
        *,
        callback: WebhookCallback | None,
        flavor: WebhookFlavor,
        events: Iterable[str],
        statuses: Collection[str] | None,
        max_retries: int,
        retry_delay: float,
        timeout: float,
        allow_remote: bool,
        webhook_id: str | None,
    ) -> WebhookTarget:
        """Register a webhook (see `FakeDyte.add_webhook`)."""
        if (url is None) == (callback is None):
            raise ValueError("give exactly one of url and callback")
        if url is not None:
            check_url(url, allow_remote=allow_remote)
        if flavor not in ("dyte", "realtimekit"):
            raise ValueError(f"flavor must be 'dyte' or 'realtimekit', got {flavor!r}")
        names = frozenset([events] if isinstance(events, str) else events)
        unknown = sorted(names - KNOWN_EVENTS)
        if unknown or not names:
            raise ValueError(f"unknown or no events {unknown}: use names of {sorted(KNOWN_EVENTS)}")
        if isinstance(statuses, str):
            statuses = (statuses,)
        if max_retries < 0 or retry_delay < 0 or not timeout > 0:
            raise ValueError("max_retries and retry_delay must be >= 0, timeout > 0")
        target_id = webhook_id if webhook_id is not None else self._new_id()
        if target_id in self.targets:
            raise ValueError(f"a webhook with id {target_id!r} exists")
        self._state.webhook_keys.keypair()  # generate now, not on the first delivery
        target = WebhookTarget(
            id=target_id,
            url=url,
            callback=callback,
            flavor=flavor,
            events=names,
            statuses=None if statuses is None else frozenset(statuses),
            since=self._state.now(),
            max_retries=max_retries,
            retry_delay=float(retry_delay),
            timeout=float(timeout),
        )
        self.targets[target.id] = target
        if url is not None and self._runner_clients is not None:
            # Make the HTTP client now: the first one imports httpcore (100-200 ms), which
            # would otherwise delay the first delivery.
            self._runner_clients.get(url)
        self.kick()
        return target

    def remove(self, webhook_id: str) -> None:
        """Unregister a webhook (deliveries in flight finish).

        Raises:
            KeyError: for an unknown id.
        """
        if webhook_id not in self.targets:
            raise KeyError(f"no webhook with id {webhook_id!r}")
        del self.targets[webhook_id]

    # -- finding what to send -----------------------------------------------------------

    def kick(self) -> None:
        """Say the state may have changed: a running sender looks now.

        From another thread than the sender's, this does nothing: the sender's next regular
        look (every `poll_interval`) finds the change.
        """
        wake = self._wake
        if wake is not None and threading.get_ident() == self._runner_thread:
            wake.set()

    def _collect(self) -> list[WebhookDelivery]:
        if not self.targets:
            return []
        found: list[WebhookDelivery] = []
        for change in self._tracker.collect(self._state):
            for target in list(self.targets.values()):
                if target.wants(LIVESTREAM_STATUS_UPDATE, change.status, change.at):
                    found.append(signed_delivery(self._state, target, change, self._new_id()))
        self.deliveries.extend(found)
        return found

    # -- sending ------------------------------------------------------------------------

    def _get_lock(self) -> anyio.Lock:
        # One lock per event loop library: a fake may serve an asyncio test, then a trio one.
        library = sniffio.current_async_library()
        if self._lock is None or (self._lock[0] != library and not self._lock[1].locked()):
            self._lock = (library, anyio.Lock())
        return self._lock[1]

    async def deliver(self, clients: Clients | None = None) -> list[WebhookDelivery]:
        """Find the changes not reported yet and deliver them; return those deliveries.

        Waits for a delivery round already under way (so that each webhook gets its
        deliveries in order), then delivers what is due now, retries included.
        """
        async with self._get_lock():
            found = self._collect()
            if not found:
                return found
            own = clients is None
            used = Clients() if clients is None else clients
            try:
                by_target: dict[str, list[WebhookDelivery]] = {}
                for delivery in found:
                    by_target.setdefault(delivery.webhook_id, []).append(delivery)
                async with anyio.create_task_group() as tg:
                    for webhook_id, deliveries in by_target.items():
                        # (no await since `_collect`: every target is still registered)
                        target = self.targets[webhook_id]
                        tg.start_soon(send_all, target, deliveries, used)
            finally:
                if own:
                    await used.aclose()
            return found

    # -- in the background --------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self, poll_interval: float = 0.02) -> AsyncIterator[None]:
        """Deliver in the background while the block runs.

        Looks for changes every `poll_interval` real seconds (clock-driven changes, also
        with a `FakeClock` advanced by hand), and at once after `kick()`. Leaving the block
        stops the deliveries in flight (they stay `done=False`) and closes the HTTP clients.
        Nested blocks share the outer one's sender.
        """
        if not poll_interval > 0:
            raise ValueError("poll_interval must be > 0")
        if self._runners:
            self._runners += 1
            try:
                yield
            finally:
                self._runners -= 1
            return
        clients = Clients()
        for target in self.targets.values():
            if target.url is not None:
                clients.get(target.url)  # now rather than on the first delivery (see `add`)
        raised: BaseException | None = None
        self._runners += 1
        self._runner_thread = threading.get_ident()
        self._runner_clients = clients
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._run, clients, poll_interval)
                try:
                    yield
                except BaseException as exc:  # re-raised as itself, not in a group
                    raised = exc
                finally:
                    tg.cancel_scope.cancel()
        finally:
            self._runners -= 1
            self._wake = None
            self._runner_thread = None
            self._runner_clients = None
            await clients.aclose()
        if raised is not None:
            raise raised

    async def _run(self, clients: Clients, poll_interval: float) -> None:
        while True:
            self._wake = anyio.Event()  # before looking: a kick during the round counts
            await self.deliver(clients)  # (no webhooks: returns at once)
            with anyio.move_on_after(poll_interval):
                await self._wake.wait()
