"""`Poller`: wires the waits to their sources (per meeting or the list) and runs them."""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable, Collection, Iterable

from dyte_async._clock import Clock
from dyte_async._pipeline import Pipeline, logger
from dyte_async._poller._deadlines import Deadlines
from dyte_async._poller._driver import Driver, interrupt
from dyte_async._poller._existence import Backlog, Existence
from dyte_async._poller._listing import ListSource
from dyte_async._poller._reader import Reader
from dyte_async._poller._reads import is_transient, is_unreadable, same
from dyte_async._poller._settings import (
    ACTIVE_STATUSES,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    ERRORED,
    EXISTS_CHECK_CONCURRENCY,
    EXISTS_CHECK_GRACE,
    EXISTS_CHECKS_PER_ROUND,
    LIST_PAGE_SIZE,
    LIST_STATUSES,
    LIST_THRESHOLD,
    check_interval,
    deadline_after,
)
from dyte_async._poller._single import SingleSource
from dyte_async._poller._source import PollerHooks, Source
from dyte_async._poller._state import Meeting, Waiter
from dyte_async.errors import DyteError, LivestreamErroredError, WaitTimeoutError
from dyte_async.models import Livestream, LivestreamStatus

__all__ = ["Poller", "errored_error"]


def errored_error(meeting: Meeting, livestream: Livestream) -> LivestreamErroredError:
    """The error a wait raises for a meeting seen ERRORED."""
    detail = f": {meeting.err_message}" if meeting.err_message else ""
    return LivestreamErroredError(
        f"livestream {livestream.id} of meeting {meeting.id} errored{detail}",
        livestream=livestream,
        err_message=meeting.err_message,
    )


class Poller:
    """Every wait on livestream status of one client (see `dyte_async._poller`).

    Args:
        pipeline: the client's request path (and its clock).
        rand: random numbers in [0, 1) for the jitter.

    Attributes:
        jitter: each interval is shortened by a random share of up to this.
        backoff: factor by which the interval grows per poll without change.
        max_backoff: the interval grows to at most this many times `poll_interval`.
        rand: random numbers in [0, 1) for the jitter.
        list_threshold: list polling needs more than this many meetings waited on.
        page_size: `per_page` of list requests.
        check_concurrency: meeting existence checks one list round runs at once.
        checks_per_round: meeting existence checks one list round runs at most.
        check_grace: seconds before meetings missing from the list are checked while
            more than `checks_per_round` are.
        existence: the meetings known to exist (`existence.limit`: how many at most).
        backlog: the fleet's count of meetings left to check (`redis=`; None: alone): the
            threshold and cap of existence checks apply to the fleet's total.
        deadlines: the deadlines of the waits.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        rand: Callable[[], float] = random.random,
        hooks: PollerHooks | None = None,
        reader: Reader | None = None,
        backlog: Backlog | None = None,
    ) -> None:
        self.pipeline = pipeline
        #: where the polls send their reads (the fleet's shared reads, or the pipeline)
        self.reader: Reader = pipeline if reader is None else reader
        #: told when the first meeting is waited on and when the last one is done
        self.hooks = hooks
        self.clock: Clock = pipeline.clock
        self.jitter: float = 0.1
        self.backoff: float = 1.25
        self.max_backoff: float = 2.0
        self.rand = rand
        self.list_threshold = LIST_THRESHOLD
        self.page_size = LIST_PAGE_SIZE
        self.check_concurrency = EXISTS_CHECK_CONCURRENCY
        self.checks_per_round = EXISTS_CHECKS_PER_ROUND
        self.check_grace = EXISTS_CHECK_GRACE
        self.existence: Existence = Existence(pipeline)
        #: the fleet's count of meetings left to check (None: this process alone)
        self.backlog: Backlog | None = backlog
        self.deadlines: Deadlines = Deadlines(self.clock)
        #: `await next(waiter)`: drive or wait until the waiter has news (True) or its
        #: deadline passed (False). The driver's own method: a blocked wait holds no extra frame.
        self.next: Callable[[Waiter], Awaitable[bool]] = Driver(self).next
        self._meetings: dict[str, Meeting] = {}
        self._by_livestream: dict[str, Meeting] = {}
        self._list = ListSource()
        self._list_on = False
        self._list_disabled = False
        self._eligible = 0  # meetings the list may serve

    @property
    def list_mode(self) -> bool:
        """True while meetings waited on for LIVE are served by the organization's list."""
        return self._list_on

    def is_idle(self) -> bool:
        """True when nothing waits (no registration is left behind)."""
        return not self._meetings and not self._list.meetings and not self._list.refs

    # -- the hook for webhooks ---------------------------------------------------------------

    def wake(self, meeting_id: str | None = None, livestream_id: str | None = None) -> None:
        """Make the polls concerned happen now (e.g. on a `livestreaming.statusUpdate`).

        A meeting id wakes that meeting's poll (nothing when it is not waited on); else a
        livestream id wakes the poll of the meeting it was seen on or, when it was not seen
        yet, the polls of the meetings whose livestream is not known (the list among them).
        With neither, every poll is woken.
        """
        now = self.clock.now()
        for source in dict.fromkeys(self._to_wake(meeting_id, livestream_id)):
            if source.polling:
                source.rewake = True
            source.next_due = min(source.next_due, now)
            interrupt(source)

    def _to_wake(self, meeting_id: str | None, livestream_id: str | None) -> list[Source]:
        meetings: list[Meeting | None]
        if meeting_id is not None:
            meetings = [self._meetings.get(meeting_id)]
        elif livestream_id is not None:
            known = self._by_livestream.get(livestream_id)
            if known is not None:
                meetings = [known]
            else:
                meetings = [m for m in self._meetings.values() if m.livestream is None]
        else:
            meetings = list(self._meetings.values())
        return [m.source for m in meetings if m is not None and m.source is not None]

    # -- the waits ------------------------------------------------------------------------

    async def wait_for(
        self,
        meeting_id: str,
        statuses: frozenset[LivestreamStatus],
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Livestream:
        """Wait until the meeting's livestream is in one of `statuses` (see `Livestreams`)."""
        deadline = deadline_after(self.clock.now(), timeout)
        waiter = Waiter(
            deadline=deadline,
            interval=check_interval(poll_interval),
            full=not statuses <= LIST_STATUSES,
            inactive=not statuses <= ACTIVE_STATUSES,
        )
        self.register(waiter, (meeting_id,))
        meeting = waiter.meetings[meeting_id]
        try:
            while True:
                error = waiter.error or meeting.missing
                if error is not None:
                    raise error.with_traceback(None)
                waiter.dirty.clear()
                livestream = meeting.livestream
                if livestream is not None:
                    if livestream.status in statuses:
                        return livestream
                    if livestream.status == ERRORED:
                        raise errored_error(meeting, livestream)
                if not await self.next(waiter):
                    raise self._timeout(meeting, statuses, timeout)
        finally:
            self.unregister_all(waiter)

    def _timeout(
        self,
        meeting: Meeting,
        statuses: Collection[LivestreamStatus],
        timeout: float | None,
    ) -> WaitTimeoutError:
        livestream = meeting.livestream
        status = livestream.status if livestream is not None else None
        if status is not None:
            seen = f"last status {status}"
        elif meeting.observed:
            seen = "no active livestream"
        elif meeting.source is self._list:
            seen = "not in the organization's LIVE livestreams"
        else:
            seen = "no answer yet"
        source = meeting.source
        last_error = source.last_error if source is not None else None
        if last_error is not None:
            seen += f"; last poll failed: {last_error}"
        wanted = " or ".join(sorted(str(s) for s in statuses))
        error = WaitTimeoutError(
            f"meeting {meeting.id}: livestream not {wanted} after {timeout or 0:g} s ({seen})",
            last_status=status,
            pending=(meeting.id,),
        )
        error.__cause__ = last_error
        return error

    # -- registration -----------------------------------------------------------------------

    def register(self, waiter: Waiter, meeting_ids: Iterable[str]) -> None:
        """Subscribe `waiter` to the meetings (creating their records as needed)."""
        meeting_ids = list(meeting_ids)
        if meeting_ids and not waiter.meetings and waiter.deadline < math.inf:
            self.deadlines.add(waiter)
        for meeting_id in meeting_ids:
            self._subscribe(waiter, meeting_id)
        self.rebalance()

    def _subscribe(self, waiter: Waiter, meeting_id: str) -> None:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            if not self._meetings and self.hooks is not None:
                self.hooks.busy()
            meeting = self._meetings[meeting_id] = Meeting(
                meeting_id, since=self.clock.now(), exists=self.existence.recall(meeting_id)
            )
        if waiter in meeting.waiters:
            return
        meeting.waiters[waiter] = None
        waiter.meetings[meeting_id] = meeting
        meeting.n_full += int(waiter.full)
        meeting.n_inactive += int(waiter.inactive)
        if meeting.source is self._list:
            self._list.ref(waiter)
        self._place(meeting)
        source = meeting.source
        if source is not None and source.interval is not None:
            self._tighten(source, waiter.interval)

    def unregister(self, waiter: Waiter, meeting: Meeting) -> None:
        """Unsubscribe `waiter` from one meeting (forgetting the meeting when none is left)."""
        if waiter not in meeting.waiters:
            return
        del meeting.waiters[waiter]
        waiter.meetings.pop(meeting.id, None)
        if not waiter.meetings and waiter.deadline < math.inf:
            self.deadlines.drop()
        meeting.n_full -= int(waiter.full)
        meeting.n_inactive -= int(waiter.inactive)
        if meeting.source is self._list:
            self._list.unref(waiter)
        if meeting.waiters:
            self._place(meeting)
        else:
            self._forget(meeting)

    def _forget(self, meeting: Meeting) -> None:
        del self._meetings[meeting.id]
        if meeting.eligible:
            meeting.eligible = False
            self._eligible -= 1
        if meeting.source is self._list:
            del self._list.meetings[meeting.id]
            if not self._list.meetings:
                self._list.stale.clear()
        if meeting.livestream is not None:
            self._by_livestream.pop(meeting.livestream.id, None)
        meeting.source = None
        if not self._meetings and self.hooks is not None:
            self.hooks.idle()

    def unregister_all(self, waiter: Waiter) -> None:
        """Unsubscribe `waiter` from every meeting."""
        for meeting in list(waiter.meetings.values()):
            self.unregister(waiter, meeting)
        self.rebalance()

    # -- placement: the list or a poll per meeting --------------------------------------------

    def rebalance(self) -> None:
        """Turn list polling on or off by the number of meetings and the list's cost."""
        limit = max(self.list_threshold, self._list.cost())
        if self._list_disabled:
            want = False
        elif self._list_on:
            want = self._eligible >= limit
        else:
            want = self._eligible > limit
        if want == self._list_on:
            return
        self._list_on = want
        for meeting in list(self._meetings.values()):
            self._place(meeting)

    def _place(self, meeting: Meeting) -> None:
        eligible = bool(meeting.waiters) and meeting.n_full == 0
        if eligible != meeting.eligible:
            meeting.eligible = eligible
            self._eligible += 1 if eligible else -1
        if eligible and self._list_on:
            if meeting.source is not self._list:
                self._move(meeting, to_list=True)
        elif meeting.source is None or meeting.source is self._list:
            self._move(meeting, to_list=False)

    def _move(self, meeting: Meeting, *, to_list: bool) -> None:
        old = meeting.source
        waiters = list(meeting.waiters)
        if old is self._list:
            del self._list.meetings[meeting.id]
            for waiter in waiters:
                self._list.unref(waiter)
        if to_list:
            self._to_list(meeting, waiters)
        else:
            single = meeting.single
            if single is None:
                # A meeting leaving the list keeps the list's schedule; a new one polls now.
                due = self.clock.now() if old is None else old.next_due
                single = meeting.single = SingleSource(meeting, due)
            meeting.source = single
        if old is not None:
            for waiter in waiters:
                waiter.kick()  # it may have to drive the new loop

    def _to_list(self, meeting: Meeting, waiters: list[Waiter]) -> None:
        lst = self._list
        if not lst.meetings:
            lst.next_due = self.clock.now()
            lst.interval = None
            lst.stale.clear()
        lst.meetings[meeting.id] = meeting
        for waiter in waiters:
            lst.ref(waiter)
        meeting.source = lst

    def _tighten(self, source: Source, interval: float) -> None:
        """A new waiter wants a shorter interval than the loop is using: bring it forward."""
        current = source.interval
        if current is not None and interval < current:
            source.interval = interval
            due = source.last_end + interval
            if due < source.next_due:
                source.next_due = due
                interrupt(source)

    # -- results ----------------------------------------------------------------------------

    def publish(
        self, meeting: Meeting, livestream: Livestream | None, err_message: str | None
    ) -> bool:
        """Record an observation; wake the meeting's waiters when it changed."""
        meeting.readable()
        if livestream is not None and not meeting.exists:
            self.existence.known(meeting)  # a meeting with a livestream exists
        old = meeting.livestream
        if livestream is not None:
            self._by_livestream[livestream.id] = meeting
        if old is not None and (livestream is None or livestream.id != old.id):
            self._by_livestream.pop(old.id, None)
        if meeting.observed and same(old, livestream):
            meeting.livestream = livestream  # the freshest copy of the same state
            return False
        meeting.observed = True
        meeting.livestream = livestream
        meeting.err_message = err_message
        meeting.notify_all()
        return True

    def failed(
        self, source: Source, meetings: Iterable[Meeting], exc: DyteError, *, listing: bool
    ) -> None:
        """A poll failed: transient errors wait for the next poll, others end the waits.

        An answer that cannot be read (`ResponseDecodeError`) is tolerated like a transient
        error until the meetings concerned have seen nothing but such failures for longer
        than the client's `timeout` (counted per meeting on the client's clock, from the
        first unreadable answer since the last readable one); then it ends their waits.

        Args:
            source: the source whose round failed.
            meetings: the meetings the failed read was about (for a list read: those it
                should have shown).
            exc: the failure.
            listing: the failed read was a list read (a refusal falls back to per-meeting
                polls instead of ending the waits).
        """
        if is_transient(exc):
            source.last_error = exc
            logger.info("livestream poll failed, polling again later: %s", exc)
            return
        if is_unreadable(exc):
            source.last_error = exc
            self._unreadable(meetings, exc)
            return
        if listing:
            logger.warning(
                "listing livestreams failed (%s); waiting with per-meeting polls instead", exc
            )
            self._list_disabled = True
            self.rebalance()
            return
        for meeting in meetings:
            meeting.fail_all(exc)

    def _unreadable(self, meetings: Iterable[Meeting], exc: DyteError) -> None:
        """Note an unreadable answer; end the waits of meetings unreadable for too long."""
        now = self.clock.now()
        limit = self.pipeline.timeout
        for meeting in list(meetings):
            lasted = meeting.unreadable(now)
            if lasted >= limit:
                logger.warning(
                    "meeting %s: no readable answer for %g s, giving up: %s",
                    meeting.id,
                    lasted,
                    exc,
                )
                meeting.fail_all(exc)
            else:
                logger.info("livestream poll answer unreadable, polling again later: %s", exc)
