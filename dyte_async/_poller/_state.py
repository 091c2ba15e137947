"""The poller's records: one `Waiter` per wait, one `Meeting` per meeting waited on."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import anyio

from dyte_async.errors import DyteError, NotFoundError
from dyte_async.models import Livestream

if TYPE_CHECKING:
    from dyte_async._poller._single import SingleSource
    from dyte_async._poller._source import Source

__all__ = ["Meeting", "Waiter"]


class Waiter:
    """One wait (or iterator): its deadline, what it needs, and how to wake it.

    Args:
        deadline: the clock reading at which the wait ends (`math.inf`: never).
        interval: the `poll_interval` it asked for.
        full: it needs every status of its meetings (so: per-meeting polls, never the list).
        inactive: a 404 of the active livestream should be resolved to the meeting's latest
            (stopped) livestream.
    """

    __slots__ = (
        "deadline",
        "dirty",
        "error",
        "event",
        "full",
        "inactive",
        "interval",
        "meetings",
        "sleep_scope",
    )

    def __init__(self, *, deadline: float, interval: float, full: bool, inactive: bool) -> None:
        self.deadline: float = deadline
        self.interval: float = interval
        self.full: bool = full
        self.inactive: bool = inactive
        self.meetings: dict[str, Meeting] = {}
        #: meetings whose observation changed since the waiter last looked (may repeat, and
        #: may name a meeting it has left: readers check)
        self.dirty: list[Meeting] = []
        self.error: DyteError | None = None
        self.event: anyio.Event = anyio.Event()
        self.sleep_scope: anyio.CancelScope | None = None

    def kick(self) -> None:
        """Make the waiter look again (wakes it if blocked or sleeping as a driver)."""
        self.event.set()
        scope = self.sleep_scope
        if scope is not None:
            scope.cancel()

    def notify(self, meeting: Meeting) -> None:
        """The meeting's observation changed: note it and wake the waiter."""
        self.dirty.append(meeting)
        self.kick()

    def fail(self, error: DyteError) -> None:
        """End the wait with `error` (raised when the waiter next looks)."""
        self.error = error
        self.kick()


class Meeting:
    """What is known about one meeting's livestream, and who waits on it.

    Args:
        meeting_id: the meeting.
        since: when the first of its current waiters came (the clock's reading).
        exists: the meeting is known to exist (seen with a livestream, or
            ``GET /meetings/{id}`` said so).
    """

    __slots__ = (
        "eligible",
        "err_message",
        "exists",
        "failing_since",
        "id",
        "livestream",
        "missing",
        "n_full",
        "n_inactive",
        "observed",
        "since",
        "single",
        "source",
        "unreadable_at",
        "waiters",
    )

    def __init__(self, meeting_id: str, *, since: float, exists: bool = False) -> None:
        self.id: str = meeting_id
        self.since: float = since
        self.exists: bool = exists
        #: ``GET /meetings/{id}`` said 404: the error every wait on the meeting ends with
        self.missing: NotFoundError | None = None
        self.waiters: dict[Waiter, None] = {}
        #: how many of its waiters are `full` / `inactive`
        self.n_full: int = 0
        self.n_inactive: int = 0
        #: it may be served by the list (it has waiters, none of them `full`)
        self.eligible: bool = False
        #: a poll has published an observation of it
        self.observed: bool = False
        self.livestream: Livestream | None = None
        self.err_message: str | None = None
        #: when (client's clock) its polls began to fail with answers that cannot be read,
        #: without a readable answer since (None: the last answer was read)
        self.failing_since: float | None = None
        #: when the last unreadable answer about it came (-inf: none yet)
        self.unreadable_at: float = -math.inf
        #: where its observations come from now (None once it has no waiter)
        self.source: Source | None = None
        #: its own poll loop, made the first time it needs one
        self.single: SingleSource | None = None

    def notify_all(self) -> None:
        """Wake every waiter of the meeting with news of it."""
        for waiter in list(self.waiters):  # a copy: a dropped iterator may leave meanwhile
            waiter.notify(self)

    def readable(self) -> None:
        """An answer about the meeting was read: its run of unreadable answers ends."""
        self.failing_since = None

    def unreadable(self, now: float) -> float:
        """An answer about the meeting could not be read at `now`: for how long none could."""
        self.unreadable_at = now
        if self.failing_since is None:
            self.failing_since = now
        return now - self.failing_since

    def fail_all(self, error: DyteError) -> None:
        """End every wait on the meeting with `error`."""
        for waiter in list(self.waiters):
            waiter.fail(error)
