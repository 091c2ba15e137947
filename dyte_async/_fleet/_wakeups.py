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

redis-py runs on asyncio only: under trio nothing is published or heard.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any, Protocol

import anyio
import sniffio

from dyte_async._fleet._link import Link, redis_errors

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

    def wake_list(self) -> None:
        """Make the organization's list poll happen now."""
        ...


def _on_asyncio() -> bool:
    try:
        return sniffio.current_async_library() == "asyncio"
    except sniffio.AsyncLibraryNotFoundError:
        return False


class Wakeups:
    """The fleet's webhook wake-ups for one client (see the module docstring).

    Args:
        link: the fleet's Redis and key.
    """

    def __init__(self, link: Link) -> None:
        self._link = link
        self.channel: str = "{" + link.key + "}:wake"
        #: bumped by every webhook: the fleet's shared reads stored before it are stale
        self.epoch_key: str = "{" + link.key + "}:epoch"
        self._bump: Any = link.redis.register_script(_BUMP_AND_PUBLISH)
        self._member = uuid.uuid4().hex
        self._target: Wakeable | None = None
        self._listener: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()
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
        """The first wait began: listen to the channel (asyncio only)."""
        if self._listener is None and _on_asyncio():
            self._listener = asyncio.get_running_loop().create_task(self._listen())

    def idle(self) -> None:
        """The last wait ended: stop listening."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()

    # -- publishing ------------------------------------------------------------------------

    def publish(self, meeting_id: str | None, livestream_id: str | None) -> None:
        """A webhook: every member (this one too) wakes its waits on this meeting or
        livestream, after the fleet's shared reads are marked stale (the epoch bumped).

        Returns at once; the message is sent by a short task (bounded by the link's
        timeout), which then wakes this member's own waits (at once under trio, or when
        Redis fails).
        """
        if not _on_asyncio():
            self._wake_here(meeting_id, livestream_id)
            return
        message = json.dumps({"m": meeting_id, "s": livestream_id, "from": self._member})
        task = asyncio.get_running_loop().create_task(
            self._send(message, epoch=True, then=(meeting_id, livestream_id))
        )
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    def _wake_here(self, meeting_id: str | None, livestream_id: str | None) -> None:
        if self._target is not None:
            self._target.wake(meeting_id=meeting_id, livestream_id=livestream_id)

    def changed(self, meeting_id: str | None, listing: bool) -> None:
        """Tell the other members a shared read changed (`SharedReads`): their waits on the
        meeting (or on the organization's list) look at it now.

        Args:
            meeting_id: the meeting whose active livestream changed, or None.
            listing: the organization's list changed.
        """
        if meeting_id is not None:
            self._send_soon({"m": meeting_id, "s": None})
        elif listing:
            self._send_soon({"list": True})

    def _send_soon(self, fields: dict[str, Any]) -> None:
        if not _on_asyncio():
            return
        message = json.dumps({**fields, "from": self._member})
        task = asyncio.get_running_loop().create_task(self._send(message))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(
        self,
        message: str,
        *,
        epoch: bool = False,
        then: tuple[str | None, str | None] | None = None,
    ) -> None:
        try:
            with anyio.fail_after(self._link.timeout):
                if epoch:
                    await self._bump(keys=[self.epoch_key], args=[self.channel, message])
                else:
                    await self._link.redis.publish(self.channel, message)
        except redis_errors() as error:
            self._failed("publish", error)
        else:
            self.published += 1
            self._recovered()
        finally:
            if then is not None:
                self._wake_here(*then)

    # -- listening -------------------------------------------------------------------------

    async def _listen(self) -> None:
        while True:
            try:
                await self._subscribed()
            except Exception as error:  # a background task never dies of Redis's answers
                self._failed("listen", error)
            self.listening = False
            await anyio.sleep(_RECONNECT_AFTER)

    async def _subscribed(self) -> None:
        pubsub = self._link.redis.pubsub(ignore_subscribe_messages=True)
        try:
            with anyio.fail_after(self._link.timeout):
                await pubsub.subscribe(self.channel)
            self.listening = True
            self._recovered()
            while True:
                message = await pubsub.get_message(timeout=_READ_SLICE)
                if message is not None:
                    self._heard(message.get("data"))
        finally:
            self.listening = False
            closing = asyncio.ensure_future(pubsub.aclose())  # type: ignore[no-untyped-call]
            closing.add_done_callback(_retrieve)

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
            if self._target is None:
                return
            if message.get("list") is True:
                self._target.wake_list()
            elif meeting_id or livestream_id:
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
        if self._sending and _on_asyncio():
            with anyio.move_on_after(self._link.timeout):
                await asyncio.gather(*self._sending, return_exceptions=True)

    def __repr__(self) -> str:
        return f"Wakeups({self.channel!r}, listening={self.listening})"


def _retrieve(future: asyncio.Future[Any]) -> None:
    """Read a finished background close's outcome, so asyncio never logs it as lost."""
    if not future.cancelled():
        future.exception()
