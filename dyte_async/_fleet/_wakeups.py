"""`Wakeups`: a webhook handed to one process wakes the waits of every process of the fleet.

Dyte delivers a webhook to one worker, while the wait it concerns usually runs in another.
With ``redis=``, `dyte.livestreams.notify(event)` wakes this process's waits as before and
publishes the event's ids (meeting and livestream, nothing secret) on the fleet's channel
``{<key>}:wake``; every member listening wakes the waits concerned, which then read the
status with one request (an event is a hint, never taken as the status: it may be late or
replayed). A member skips its own messages.

Listening
    A member listens only while it has waits (the poller calls `busy` when the first
    meeting is waited on and `idle` when the last one is done): one task and one Redis
    connection then, none otherwise, none after the client is closed.

Redis down
    Publishing and listening never block a call: each Redis call is bounded by the link's
    timeout, failures are logged once per outage (WARNING) and the waits go on polling at
    their own interval; listening resumes every 2 s while there are waits.

On redis-py (asyncio) or coredis (asyncio and trio). Where the fleet cannot run background
work (trio without ``async with AsyncDyte(...)``), `notify` wakes this process only.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from typing import Any, Protocol

import anyio

from dyte_async._fleet._backends import Script
from dyte_async._fleet._link import Link, redis_errors
from dyte_async.errors import ConfigurationError

__all__ = ["Wakeable", "Wakeups"]

logger = logging.getLogger("dyte_async")

_RECONNECT_AFTER = 2.0
_READ_SLICE = 0.5  # seconds one read of the channel blocks (below the socket timeout)
_MAX_MESSAGE = 4096  # bytes: ids only; anything longer is not ours

_BUMP_AND_PUBLISH = """
redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], 86400000)
return redis.call('PUBLISH', ARGV[1], ARGV[2])
"""


class Wakeable(Protocol):
    """What a wake-up reaches: the poller's `wake`."""

    def wake(self, meeting_id: str | None = None, livestream_id: str | None = None) -> None:
        """Make the polls concerned happen now."""
        ...


class Wakeups:
    """The fleet's webhook wake-ups for one client (see the module docstring).

    Args:
        link: the fleet's Redis, key and background work.
    """

    def __init__(self, link: Link) -> None:
        self._link = link
        self.channel: str = "{" + link.key + "}:wake"
        #: bumped by every webhook: the fleet's shared reads stored before it are stale
        self.epoch_key: str = "{" + link.key + "}:epoch"
        self._bump: Script | None = None
        self._member = uuid.uuid4().hex
        self._target: Wakeable | None = None
        self._wanted = False  # some wait is registered: listen
        self._running = False  # the listener runs
        self._scope: anyio.CancelScope | None = None
        self._sending = 0
        self._sent: anyio.Event | None = None  # set when nothing is being sent
        self._down = False
        #: wake-ups published, and received from other members (for statistics and tests).
        self.published: int = 0
        self.received: int = 0
        #: True once this member listens on the channel (subscribed), until it stops.
        self.listening: bool = False

    def attach(self, target: Wakeable) -> None:
        """Wake `target` (the client's poller) on wake-ups from other members."""
        self._target = target

    # -- the poller's hooks ------------------------------------------------------------------

    def busy(self) -> None:
        """The first wait began: listen to the channel (when the fleet can run it here)."""
        self._wanted = True
        if not self._running and self._link.can_spawn():
            self._running = True
            self._link.spawn(self._listen)

    def idle(self) -> None:
        """The last wait ended: stop listening."""
        self._wanted = False
        if self._scope is not None:
            self._scope.cancel()

    # -- publishing ------------------------------------------------------------------------

    def publish(self, meeting_id: str | None, livestream_id: str | None) -> None:
        """A webhook: every member (this one too) wakes its waits on this meeting or
        livestream, after the fleet's shared reads are marked stale (the epoch bumped).

        Returns at once; the message is sent in the background (bounded by the link's
        timeout), which then wakes this member's own waits (at once when the fleet cannot
        run here, or when Redis fails).
        """
        message = json.dumps({"m": meeting_id, "s": livestream_id, "from": self._member})
        if not self._send_soon(message, epoch=True, then=(meeting_id, livestream_id)):
            self._wake_here(meeting_id, livestream_id)

    def _wake_here(self, meeting_id: str | None, livestream_id: str | None) -> None:
        if self._target is not None:
            self._target.wake(meeting_id=meeting_id, livestream_id=livestream_id)

    def changed(self, meeting_id: str) -> None:
        """Tell the other members a meeting's shared read changed (`SharedReads`): their
        waits on it look at it now.

        Args:
            meeting_id: the meeting whose active livestream changed.
        """
        self._send_soon(json.dumps({"m": meeting_id, "s": None, "from": self._member}))

    def _send_soon(
        self,
        message: str,
        *,
        epoch: bool = False,
        then: tuple[str | None, str | None] | None = None,
    ) -> bool:
        """Send `message` in the background; False when the fleet cannot run here."""
        if not self._link.can_spawn():
            return False
        self._sending += 1
        if self._sent is None or self._sent.is_set():
            self._sent = anyio.Event()
        self._link.spawn(functools.partial(self._send, message, epoch=epoch, then=then))
        return True

    async def _send(
        self,
        message: str,
        *,
        epoch: bool = False,
        then: tuple[str | None, str | None] | None = None,
    ) -> None:
        try:
            with anyio.fail_after(self._link.timeout):
                redis = self._link.redis()
                if epoch:
                    if self._bump is None:
                        self._bump = redis.script(_BUMP_AND_PUBLISH)
                    await self._bump(keys=[self.epoch_key], args=[self.channel, message])
                else:
                    await redis.publish(self.channel, message)
        except _failures() as error:
            self._failed("publish", error)
        else:
            self.published += 1
            self._recovered()
        finally:
            if then is not None:
                self._wake_here(*then)
            self._sending -= 1
            if self._sending == 0 and self._sent is not None:
                self._sent.set()

    # -- listening -------------------------------------------------------------------------

    async def _listen(self) -> None:
        try:
            with anyio.CancelScope() as scope:
                self._scope = scope
                while self._wanted:
                    try:
                        await self._subscribed()
                    except Exception as error:  # never dies of Redis's answers
                        self._failed("listen", error)
                    self.listening = False
                    await anyio.sleep(_RECONNECT_AFTER)
        finally:
            self._scope = None
            self._running = False
            self.listening = False

    async def _subscribed(self) -> None:
        # Subscribing is bounded by the client's own timeouts (redis-py's socket timeout,
        # coredis's subscription timeout): a task group may live inside the block.
        async with self._link.redis().subscription(self.channel) as channel:
            try:
                self.listening = True
                self._recovered()
                while self._wanted:
                    data = await channel.next(_READ_SLICE)
                    if data is not None:
                        self._heard(data)
            finally:
                self.listening = False

    def _heard(self, data: Any) -> None:
        if isinstance(data, bytes) and len(data) <= _MAX_MESSAGE:
            try:
                message = json.loads(data)
            except ValueError:
                return
            if not isinstance(message, dict) or message.get("from") == self._member:
                return
            meeting_id, livestream_id = message.get("m"), message.get("s")
            if not all(v is None or isinstance(v, str) for v in (meeting_id, livestream_id)):
                return
            self.received += 1
            if self._target is not None and (meeting_id or livestream_id):
                self._target.wake(meeting_id=meeting_id, livestream_id=livestream_id)

    def _failed(self, what: str, error: BaseException) -> None:
        if not self._down:
            self._down = True
            logger.warning(
                "webhook wake-ups: Redis at %s did not answer (%s, on %s); waits in other "
                "processes poll at their own interval until it does",
                self._link.where,
                type(error).__name__,
                what,
            )

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            logger.info("webhook wake-ups: Redis at %s answers again", self._link.where)

    async def aclose(self) -> None:
        """Stop listening and wait (bounded) for the wake-ups being sent."""
        self.idle()
        sent = self._sent
        if self._sending and sent is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(self._link.timeout):
                await sent.wait()

    def __repr__(self) -> str:
        return f"Wakeups({self.channel!r}, listening={self.listening})"


def _failures() -> tuple[type[BaseException], ...]:
    """What ends a publish without harm: Redis failing, or the fleet not usable here."""
    return (*redis_errors(), ConfigurationError)
