"""Waiting on livestream status: deadlines, gentle backoff, and many waiters sharing polls.

One `Poller` per client (`dyte.livestreams`) serves every wait of that client.

What is polled
    A meeting is watched either on its own (``GET /meetings/{id}/active-livestream``, a 404
    meaning "no active livestream yet") or through the organization's list
    (``GET /livestreams?status=LIVE``, pages of `LIST_PAGE_SIZE`, newest first, walked until
    every meeting waited on is found or the pages end). The list is used for meetings whose
    waiters only want LIVE (or ERRORED) when more than `LIST_THRESHOLD` such meetings are
    waited on *and* the list costs fewer requests than one poll per meeting (its cost is
    its number of LIVE pages, from the last `total_count`, plus one page of ERRORED).
    Otherwise each meeting is polled on its own.

    Errors in list mode: each list round also reads the newest page of
    ``GET /livestreams?status=ERRORED``; a livestream there whose meeting is waited on is
    confirmed with one ``GET /meetings/{id}/active-livestream`` (an old errored livestream of
    the same meeting is then remembered as stale and never confirmed again). If a list
    request fails for good (not a transient error), this poller falls back to per-meeting
    polls.

Meetings that do not exist
    A 404 of the active livestream says "nothing active" whether the meeting has no
    livestream yet or does not exist at all. So the first time a meeting is seen with
    nothing active, its existence is confirmed once with ``GET /meetings/{id}`` (through
    the pipeline, within the wait's deadline). A 404 there ends every wait on the meeting
    with a `NotFoundError` naming it (`wait_until_live_many` reports it as it does an
    ERRORED meeting); a transient failure leaves the question open for the next poll that
    sees nothing active; other failures (401, 403, ...) end the waits as a failed poll does.
    A meeting seen with a livestream, or confirmed, is remembered as existing by the
    poller (the `KNOWN_MEETINGS` most recently seen), so later waits skip the check.

    Cost: one ``GET /meetings/{id}`` per meeting per poller (again only after a transient
    failure, or once the meeting was forgotten), and only for meetings seen with nothing
    active before they are known to exist; a meeting found LIVE at once costs nothing
    more. Concurrent waits on a meeting share the check (it is part of the shared poll,
    and at most one check of a meeting is in flight).

    In list mode absence from the LIVE list is all there is to see, and every starting
    livestream shows it, so checks wait until they are few: after a round that read the
    whole list, the meetings never seen with a livestream are checked when at most
    `EXISTS_CHECKS_PER_ROUND` (100) are left to check (a small batch at once; in a large
    one, when most others are LIVE, which is when an unknown meeting would hold the wait
    up), or else those waited on for `EXISTS_CHECK_GRACE` (30 s). A round checks 100 at
    most, `EXISTS_CHECK_CONCURRENCY` (10) at a time, so it takes at most ten more round
    trips. So 300 meetings going LIVE within a round or two cost no check, and a large
    batch about 100 checks plus one per meeting still not LIVE after 30 s. A failed
    check ends that round's checks.

Coalescing, with no background task
    Every wait registers a `_Waiter` on the meetings it watches; every meeting has one
    source of observations (its own poll loop, or the shared list). A poll loop has no task
    of its own: it is driven by one of its waiters (the first to come), which sleeps until
    the loop is due, polls, and publishes the result to every waiter of the meetings. When
    the driver leaves (its wait ended, failed or was cancelled) it hands the loop over to
    a waiter blocked on it. So any number of waits on one meeting cost one request per
    interval (plus one existence check in all), and nothing outlives the waits.

Timing
    The first poll of a loop is immediate. The next comes after the smallest
    `poll_interval` of its waiters; while nothing changes the interval grows by
    `backoff` (1.25x) per poll up to `max_backoff` (2x) times `poll_interval`, and it
    drops back to `poll_interval` on any change, so a change is seen within one *current*
    interval. Each interval is shortened by a random share of up to `jitter` (10 %), which
    spreads many clients' polls without ever making an interval longer.

    Every poll is one `Pipeline.send` with the wait's deadline (capped by the client's
    timeout), so retries, the rate limiter and the deadline apply. A poll that still fails
    with a transient error (5xx, 408, 429, network, timeout, a garbled body) does not end
    the wait; the next one is tried an interval later. Other errors (401, 403, 400, ...)
    end the waits with that error.

    Deadlines are read on the client's clock and kept in one heap per poller, not in a
    timer per wait: a driver never sleeps past the earliest deadline of any wait, and on
    the real clock a watchdog runs beside each poll in flight; a wait registering with an
    earlier deadline than every sleeper wakes one of them. So an injected `FakeClock` sees
    deadlines kept exactly, and 10,000 waits cost no timers.

`Poller.wake()` makes the loops concerned poll now (the hook webhooks will call).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import math
import random
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from types import TracebackType
from typing import Any, Final, Generic, TypeVar, cast
from urllib.parse import quote

import anyio
import attrs

from dyte_async._clock import SystemClock
from dyte_async._convert import (
    details_from,
    list_items,
    livestream_details_items,
    paging_from,
    structure,
)
from dyte_async._pipeline import Pipeline, logger
from dyte_async.errors import (
    APIConnectionError,
    APIStatusError,
    DyteError,
    InvalidArgumentError,
    LivestreamErroredError,
    NotFoundError,
    ResponseDecodeError,
    WaitTimeoutError,
)
from dyte_async.models import Livestream, LivestreamStatus
from dyte_async.resources._base import int_or_none

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_WAIT_TIMEOUT",
    "EXISTS_CHECKS_PER_ROUND",
    "EXISTS_CHECK_CONCURRENCY",
    "EXISTS_CHECK_GRACE",
    "KNOWN_MEETINGS",
    "LIST_PAGE_SIZE",
    "LIST_THRESHOLD",
    "LivestreamWaitMany",
    "LivestreamWatch",
    "Poller",
]

DEFAULT_WAIT_TIMEOUT: Final = 300.0
"""Seconds a wait lasts by default."""
DEFAULT_POLL_INTERVAL: Final = 2.0
"""Seconds between polls by default (before backoff)."""
LIST_PAGE_SIZE: Final = 100
"""`per_page` of list polls: the largest page we ask the API for."""
LIST_THRESHOLD: Final = 3
"""List polling is used only when more meetings than this are waited on."""
MAX_LIST_PAGES: Final = 1000
"""Pages one list round reads at most; beyond, meetings are polled one by one."""
LIST_PAGE_CONCURRENCY: Final = 16
"""List pages read at once (so a long list does not take every connection of the client)."""
ERROR_DETAIL_GRACE: Final = 5.0
"""Seconds allowed to fetch an ERRORED session's message, even past the wait's deadline."""
EXISTS_CHECK_CONCURRENCY: Final = 10
"""Meeting existence checks (``GET /meetings/{id}``) one list round runs at once."""
EXISTS_CHECKS_PER_ROUND: Final = 100
"""Existence checks one list round runs at most (the others wait for later rounds)."""
EXISTS_CHECK_GRACE: Final = 30.0
"""Seconds a meeting may be missing from the list before it is checked, while too many are."""
KNOWN_MEETINGS: Final = 100_000
"""Meetings a poller remembers as existing (beyond, the least recently seen are forgotten)."""

_LIVE: Final = LivestreamStatus.LIVE
_ERRORED: Final = LivestreamStatus.ERRORED
LIVE_ONLY: Final = frozenset({LivestreamStatus.LIVE})
"""The targets of `wait_until_live`."""
_LIST_STATUSES: Final = frozenset({_LIVE, _ERRORED})
# Statuses a livestream reports once stopped (when the active-livestream read says 404).
_ACTIVE_STATUSES: Final = frozenset(
    {LivestreamStatus.LIVE, LivestreamStatus.INVOKED, LivestreamStatus.ERRORED}
)
_TRANSIENT_STATUSES: Final = frozenset({408, 425, 429})

_T = TypeVar("_T")


def _is_transient(exc: DyteError) -> bool:
    """True for failures a later poll may not see: network, timeouts, 5xx, 408, 429, bodies."""
    if isinstance(exc, (APIConnectionError, ResponseDecodeError)):
        return True
    if isinstance(exc, APIStatusError):
        return exc.status_code >= 500 or exc.status_code in _TRANSIENT_STATUSES
    return False


def _q(value: str) -> str:
    return quote(value, safe="")


def _for_meeting(livestream: Livestream, meeting_id: str) -> Livestream:
    if livestream.meeting_id is None:
        return attrs.evolve(livestream, meeting_id=meeting_id)
    return livestream


def _same(a: Livestream | None, b: Livestream | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.id == b.id and a.status == b.status


def _take(items: Iterable[Livestream], wanted: set[str], found: dict[str, Livestream]) -> None:
    for livestream in items:
        meeting_id = livestream.meeting_id
        if meeting_id in wanted and meeting_id not in found:
            found[meeting_id] = livestream


def normalize_statuses(
    statuses: LivestreamStatus | str | Iterable[LivestreamStatus | str],
) -> frozenset[LivestreamStatus]:
    """The target statuses of a wait as a set (one status or an iterable of them).

    Raises:
        InvalidArgumentError: no status, or one that is not a string.
    """
    items: Iterable[Any] = (statuses,) if isinstance(statuses, str) else statuses
    out: set[LivestreamStatus] = set()
    for item in items:
        if not isinstance(item, str) or not item:
            raise InvalidArgumentError(f"a status must be a non-empty string, got {item!r}")
        out.add(LivestreamStatus(item.upper()))
    if not out:
        raise InvalidArgumentError("wait_for_status needs at least one status")
    return LIVE_ONLY if out == LIVE_ONLY else frozenset(out)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _deadline_after(now: float, timeout: float | None) -> float:
    if timeout is None:
        return math.inf
    if not _is_number(timeout) or not timeout > 0:
        raise InvalidArgumentError(f"timeout must be a positive number or None, got {timeout!r}")
    return now + timeout


def _check_interval(poll_interval: float) -> float:
    if not _is_number(poll_interval) or not 0 < poll_interval < math.inf:
        raise InvalidArgumentError(
            f"poll_interval must be a positive finite number, got {poll_interval!r}"
        )
    return float(poll_interval)


# -- the records ---------------------------------------------------------------------------


class _Waiter:
    """One wait (or iterator): its deadline, what it needs, and how to wake it."""

    __slots__ = (
        "deadline",
        "dirty",
        "error",
        "event",
        "full",
        "inactive",
        "interval",
        "meetings",
        "queued",
        "sleep_scope",
    )

    def __init__(self, *, deadline: float, interval: float, full: bool, inactive: bool) -> None:
        self.deadline = deadline
        self.interval = interval
        #: needs every status of its meetings (so: per-meeting polls, never the list)
        self.full = full
        #: a 404 should be resolved to the meeting's latest (stopped) livestream
        self.inactive = inactive
        self.meetings: dict[str, _Meeting] = {}
        #: meetings whose observation changed since the waiter last looked (may repeat, and
        #: may name a meeting it has left: readers check)
        self.dirty: list[_Meeting] = []
        #: in the poller's deadline heap
        self.queued = False
        self.error: DyteError | None = None
        self.event = anyio.Event()
        self.sleep_scope: anyio.CancelScope | None = None

    def kick(self) -> None:
        """Make the waiter look again (wakes it if blocked or sleeping as a driver)."""
        self.event.set()
        scope = self.sleep_scope
        if scope is not None:
            scope.cancel()

    def notify(self, meeting: _Meeting) -> None:
        self.dirty.append(meeting)
        self.kick()


class _Meeting:
    """What is known about one meeting's livestream, and who waits on it."""

    __slots__ = (
        "eligible",
        "err_message",
        "exists",
        "id",
        "livestream",
        "missing",
        "n_full",
        "n_inactive",
        "observed",
        "since",
        "single",
        "source",
        "waiters",
    )

    def __init__(self, meeting_id: str, *, since: float, exists: bool = False) -> None:
        self.id = meeting_id
        #: when the first of its current waiters came (the clock's reading)
        self.since = since
        #: the meeting is known to exist (seen with a livestream, or `GET /meetings/{id}` said so)
        self.exists = exists
        #: `GET /meetings/{id}` said 404: the error every wait on the meeting ends with
        self.missing: NotFoundError | None = None
        self.waiters: dict[_Waiter, None] = {}
        self.n_full = 0
        self.n_inactive = 0
        self.eligible = False
        self.observed = False
        self.livestream: Livestream | None = None
        self.err_message: str | None = None
        self.source: _Source | None = None
        self.single: _SingleSource | None = None


class _Source:
    """A poll loop: its schedule and its driver. Subclasses say what one poll does."""

    __slots__ = (
        "driver",
        "idle",
        "interval",
        "last_end",
        "last_error",
        "next_due",
        "polling",
        "rewake",
    )

    def __init__(self, next_due: float) -> None:
        self.driver: _Waiter | None = None
        #: waiters of this loop blocked right now (candidates to take the loop over)
        self.idle: dict[_Waiter, None] = {}
        self.interval: float | None = None
        self.next_due = next_due
        self.last_end = -math.inf
        self.last_error: DyteError | None = None
        self.polling = False
        self.rewake = False

    def waiters(self) -> Iterable[_Waiter]:
        raise NotImplementedError

    async def poll(self, poller: Poller, deadline: float) -> bool:
        """One round; True when an observation changed."""
        raise NotImplementedError


class _SingleSource(_Source):
    """Polls one meeting's active livestream."""

    __slots__ = ("inactive_known", "meeting")

    def __init__(self, meeting: _Meeting, next_due: float) -> None:
        super().__init__(next_due)
        self.meeting = meeting
        self.inactive_known = False

    def waiters(self) -> Iterable[_Waiter]:
        return self.meeting.waiters

    async def poll(self, poller: Poller, deadline: float) -> bool:
        meeting = self.meeting
        try:
            try:
                livestream: Livestream | None = await poller.read_active(meeting.id, deadline)
                self.inactive_known = False
            except NotFoundError:
                exists = await poller.confirm(meeting, deadline)
                if exists is not True:
                    # False: it does not exist (its waiters were told); None: it is being
                    # checked by another poll right now (the next poll knows).
                    return exists is False
                if meeting.n_inactive == 0:
                    livestream = None
                elif self.inactive_known:
                    return False
                else:
                    livestream = await poller.read_latest(meeting, deadline)
                    self.inactive_known = True
            err_message = None
            if (
                livestream is not None
                and livestream.status == _ERRORED
                and not (meeting.observed and _same(meeting.livestream, livestream))
            ):
                err_message = await poller.err_message(livestream, deadline)
        except DyteError as exc:
            poller.failed(self, (meeting,), exc, listing=False)
            return False
        self.last_error = None
        return poller.publish(meeting, livestream, err_message)


class _ListSource(_Source):
    """Polls the organization's LIVE (and newest ERRORED) livestreams for many meetings."""

    __slots__ = ("meetings", "pages", "refs", "stale")

    def __init__(self) -> None:
        super().__init__(0.0)
        self.meetings: dict[str, _Meeting] = {}
        #: waiters of the meetings in the list, with how many of their meetings are in it
        self.refs: dict[_Waiter, int] = {}
        #: LIVE pages of the last round (the list's cost, with one ERRORED page)
        self.pages = 1
        #: ERRORED livestreams known not to be the current one of their meeting
        self.stale: set[str] = set()

    def waiters(self) -> Iterable[_Waiter]:
        return self.refs

    def cost(self) -> float:
        """Requests per round: the LIVE pages and one ERRORED page."""
        if self.pages > MAX_LIST_PAGES:
            return math.inf  # the list cannot be read whole: poll meetings one by one
        return max(1, self.pages) + 1

    async def poll(self, poller: Poller, deadline: float) -> bool:
        wanted = set(self.meetings)
        if not wanted:
            return False
        found: dict[str, Livestream] = {}
        self.last_error = None
        try:
            complete = await self._walk(poller, wanted, found, deadline)
        except DyteError as exc:
            poller.failed(self, (), exc, listing=True)
            return False
        changed = False
        for meeting_id, livestream in found.items():
            meeting = self.meetings.get(meeting_id)
            if meeting is not None:
                changed |= poller.publish(meeting, livestream, None)
        missing = {m for m in wanted if m not in found and m in self.meetings}
        if complete:
            for meeting_id in missing:
                meeting = self.meetings.get(meeting_id)
                current = meeting.livestream if meeting is not None else None
                if meeting is not None and current is not None and current.status == _LIVE:
                    changed |= poller.publish(meeting, None, None)  # dropped out of LIVE
        if missing:
            changed |= await self._errored(poller, missing, deadline)
        if complete and missing:
            changed |= await self._check(poller, missing, deadline)
        poller.rebalance()
        return changed

    async def _walk(
        self, poller: Poller, wanted: set[str], found: dict[str, Livestream], deadline: float
    ) -> bool:
        """Read LIVE pages into `found`; True when every page was read.

        Page 1 tells how many LIVE livestreams there are; the other pages are then read
        `LIST_PAGE_CONCURRENCY` at a time, so a round of up to 17 pages takes two round trips.
        """
        items, paging = await poller.read_list(_LIVE, 1, deadline)
        _take(items, wanted, found)
        total = int_or_none(paging.get("total_count"))
        if total is None:
            self.pages = 1
            if not items or len(found) == len(wanted) or len(items) < poller.page_size:
                return True
            return await self._walk_on(
                poller, wanted, found, deadline, int_or_none(paging.get("end_offset"))
            )
        size = len(items)
        pages = self.pages = math.ceil(total / size) if items else 1
        if pages <= 1 or len(found) == len(wanted):
            return True
        results: dict[int, list[Livestream]] = {}
        totals: list[int] = []
        errors: list[DyteError] = []
        read = 1
        while read < min(pages, MAX_LIST_PAGES):
            last = min(pages, MAX_LIST_PAGES)
            numbers = iter(range(read + 1, last + 1))

            async def worker(numbers: Iterator[int]) -> None:
                # Pages go out in increasing order (livestreams going LIVE meanwhile push
                # the others towards later pages, which are read later).
                for page_no in numbers:
                    try:
                        results[page_no], paging = await poller.read_list(_LIVE, page_no, deadline)
                    except DyteError as exc:
                        errors.append(exc)
                        continue
                    grown = int_or_none(paging.get("total_count"))
                    if grown is not None:
                        totals.append(grown)

            async with anyio.create_task_group() as tg:
                for _ in range(min(LIST_PAGE_CONCURRENCY, last - read)):
                    tg.start_soon(worker, numbers)
            for page_no in sorted(results):
                _take(results.pop(page_no), wanted, found)
            read = last
            if len(found) == len(wanted):
                return True
            # When the list grew while it was read, read the pages it grew by too.
            pages = max(pages, math.ceil(max(totals, default=0) / size))
            self.pages = pages
        if errors and len(found) < len(wanted):
            poller.failed(self, (), errors[0], listing=True)
            return False
        return read >= pages

    async def _walk_on(
        self,
        poller: Poller,
        wanted: set[str],
        found: dict[str, Livestream],
        deadline: float,
        last_end: int | None,
    ) -> bool:
        """Without a `total_count`: read pages one by one until a short or empty one."""
        for page_no in range(2, MAX_LIST_PAGES + 1):
            items, paging = await poller.read_list(_LIVE, page_no, deadline)
            start = int_or_none(paging.get("start_offset"))
            if not items or (last_end is not None and start is not None and start <= last_end):
                return True  # the end, or a server that ignores page_no
            self.pages = page_no
            _take(items, wanted, found)
            if len(found) == len(wanted) or len(items) < poller.page_size:
                return True
            last_end = int_or_none(paging.get("end_offset"))
        return False

    async def _errored(self, poller: Poller, missing: set[str], deadline: float) -> bool:
        try:
            items, _ = await poller.read_list(_ERRORED, 1, deadline)
        except DyteError as exc:
            poller.failed(self, (), exc, listing=True)
            return False
        suspects: dict[str, str] = {}
        for livestream in items:
            meeting_id = livestream.meeting_id
            if (
                meeting_id in missing
                and meeting_id not in suspects
                and livestream.id not in self.stale
            ):
                suspects[meeting_id] = livestream.id
        if not suspects:
            return False
        results: list[bool] = []

        async def confirm(meeting_id: str, livestream_id: str) -> None:
            results.append(await self._confirm(poller, meeting_id, livestream_id, deadline))

        if len(suspects) == 1:
            ((meeting_id, livestream_id),) = suspects.items()
            await confirm(meeting_id, livestream_id)
        else:
            async with anyio.create_task_group() as tg:
                for meeting_id, livestream_id in suspects.items():
                    tg.start_soon(confirm, meeting_id, livestream_id)
        return any(results)

    async def _check(self, poller: Poller, missing: set[str], deadline: float) -> bool:
        """Make sure meetings never seen with a livestream exist: each once, a batch a round.

        Absence from the LIVE list is what every starting livestream shows, so while more
        than `Poller.checks_per_round` meetings are left to check, only those waited on for
        `Poller.check_grace` are (most livestreams go LIVE sooner, and then need no check).
        A round checks at most `checks_per_round` meetings (those in the list the longest
        first), `Poller.check_concurrency` at a time. A failed check ends the round's
        batch: a transient failure leaves the meeting to a later round, others end the
        waits on the meeting (as a failed poll does).
        """
        unknown = [
            meeting
            for meeting_id, meeting in self.meetings.items()
            if meeting_id in missing and poller.unconfirmed(meeting)
        ]
        if len(unknown) > poller.checks_per_round:
            ripe = poller.clock.now() - poller.check_grace
            unknown = [meeting for meeting in unknown if meeting.since <= ripe]
        batch = unknown[: max(0, poller.checks_per_round)]
        if not batch:
            return False
        todo = iter(batch)
        changed = stop = False

        async def worker() -> None:
            nonlocal changed, stop
            for meeting in todo:
                if stop:
                    return
                try:
                    exists = await poller.confirm(meeting, deadline)
                except DyteError as exc:
                    stop = True
                    poller.failed(self, (meeting,), exc, listing=False)
                    return
                changed |= exists is False

        if len(batch) == 1:
            await worker()
        else:
            async with anyio.create_task_group() as tg:
                for _ in range(min(poller.check_concurrency, len(batch))):
                    tg.start_soon(worker)
        return changed

    async def _confirm(
        self, poller: Poller, meeting_id: str, livestream_id: str, deadline: float
    ) -> bool:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return False
        try:
            try:
                current: Livestream | None = await poller.read_active(meeting_id, deadline)
            except NotFoundError:
                current = None
            err_message = None
            if current is not None and current.status == _ERRORED:
                err_message = await poller.err_message(current, deadline)
        except DyteError as exc:
            poller.failed(self, (meeting,), exc, listing=False)
            return False
        if current is None or current.id != livestream_id:
            self.stale.add(livestream_id)
        if meeting.waiters:
            return poller.publish(meeting, current, err_message)
        return False


# -- the poller ----------------------------------------------------------------------------


class Poller:
    """Every wait on livestream status of one client (see the module docstring).

    Args:
        pipeline: the client's request path (and its clock).
        rand: random numbers in [0, 1) for the jitter.

    Attributes:
        jitter: each interval is shortened by a random share of up to this.
        backoff: factor by which the interval grows per poll without change.
        max_backoff: the interval grows to at most this many times `poll_interval`.
        list_threshold: list polling needs more than this many meetings waited on.
        page_size: `per_page` of list requests.
        check_concurrency: meeting existence checks one list round runs at once.
        checks_per_round: meeting existence checks one list round runs at most.
        check_grace: seconds before meetings missing from the list are checked while
            more than `checks_per_round` are.
        known_meetings: meetings remembered as existing, at most.
    """

    def __init__(self, pipeline: Pipeline, *, rand: Callable[[], float] = random.random) -> None:
        self.pipeline = pipeline
        self.clock = pipeline.clock
        self.jitter = 0.1
        self.backoff = 1.25
        self.max_backoff = 2.0
        self.list_threshold = LIST_THRESHOLD
        self.page_size = LIST_PAGE_SIZE
        self.check_concurrency = EXISTS_CHECK_CONCURRENCY
        self.checks_per_round = EXISTS_CHECKS_PER_ROUND
        self.check_grace = EXISTS_CHECK_GRACE
        self.known_meetings = KNOWN_MEETINGS
        self._rand = rand
        # Deadlines of all waits, earliest first (entries of finished waits are dropped
        # lazily). Drivers sleep at most until the earliest, and expire what is due.
        self._deadlines: list[tuple[float, int, _Waiter]] = []
        self._timed = 0  # registered waiters with a deadline
        self._seq = itertools.count()
        # With the real clock a poll takes real time: while one is in flight, a watchdog
        # expires the waits whose deadline falls inside it. (With an injected clock a
        # request takes no time, and a sleeping watchdog would move the clock itself.)
        self._watchdog = isinstance(self.clock, SystemClock)
        # Sleeping drivers and watchdogs, by when they wake (a heap; finished ones are
        # dropped lazily): a wait registering with an earlier deadline wakes one of them.
        self._wakers: dict[int, anyio.CancelScope] = {}
        self._waker_times: list[tuple[float, int]] = []
        self._meetings: dict[str, _Meeting] = {}
        self._by_livestream: dict[str, _Meeting] = {}
        self._list = _ListSource()
        self._list_on = False
        self._list_disabled = False
        self._eligible = 0
        # Meetings known to exist, least recently seen first (bounded by `known_meetings`),
        # and the meetings whose `GET /meetings/{id}` is in flight.
        self._known: dict[str, None] = {}
        self._checking: set[str] = set()

    # -- introspection (tests, benchmarks) --------------------------------------------------

    @property
    def meetings_watched(self) -> int:
        """Meetings with at least one wait on them."""
        return len(self._meetings)

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
        sources: list[_Source] = []
        if meeting_id is not None:
            meeting = self._meetings.get(meeting_id)
            if meeting is not None and meeting.source is not None:
                sources.append(meeting.source)
        elif livestream_id is not None:
            known = self._by_livestream.get(livestream_id)
            if known is not None:
                if known.source is not None:
                    sources.append(known.source)
            else:
                for meeting in list(self._meetings.values()):
                    if meeting.livestream is None and meeting.source is not None:
                        sources.append(meeting.source)
        else:
            sources.extend(m.source for m in list(self._meetings.values()) if m.source is not None)
        now = self.clock.now()
        for source in dict.fromkeys(sources):
            if source.polling:
                source.rewake = True
            source.next_due = min(source.next_due, now)
            self._interrupt(source)

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
        deadline = _deadline_after(self.clock.now(), timeout)
        waiter = _Waiter(
            deadline=deadline,
            interval=_check_interval(poll_interval),
            full=not statuses <= _LIST_STATUSES,
            inactive=not statuses <= _ACTIVE_STATUSES,
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
                    if livestream.status == _ERRORED:
                        raise errored_error(meeting, livestream)
                if not await self.next(waiter):
                    raise self._timeout(meeting, statuses, timeout)
        finally:
            self.unregister_all(waiter)

    def _timeout(
        self,
        meeting: _Meeting,
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

    # -- registration and placement -----------------------------------------------------

    def register(self, waiter: _Waiter, meeting_ids: Iterable[str]) -> None:
        """Subscribe `waiter` to the meetings (creating their records as needed)."""
        meeting_ids = list(meeting_ids)
        if meeting_ids and not waiter.meetings and waiter.deadline < math.inf:
            self._timed += 1
            if not waiter.queued:
                waiter.queued = True
                heapq.heappush(self._deadlines, (waiter.deadline, next(self._seq), waiter))
            self._wake_by(waiter.deadline)
        for meeting_id in meeting_ids:
            meeting = self._meetings.get(meeting_id)
            if meeting is None:
                meeting = self._meetings[meeting_id] = _Meeting(
                    meeting_id, since=self.clock.now(), exists=self._recall(meeting_id)
                )
            if waiter in meeting.waiters:
                continue
            meeting.waiters[waiter] = None
            waiter.meetings[meeting_id] = meeting
            if waiter.full:
                meeting.n_full += 1
            if waiter.inactive:
                meeting.n_inactive += 1
            if meeting.source is self._list:
                self._list.refs[waiter] = self._list.refs.get(waiter, 0) + 1
            self._place(meeting)
            source = meeting.source
            if source is not None and source.interval is not None:
                self._tighten(source, waiter.interval)
        self.rebalance()

    def unregister(self, waiter: _Waiter, meeting: _Meeting) -> None:
        """Unsubscribe `waiter` from one meeting (forgetting the meeting when none is left)."""
        if waiter not in meeting.waiters:
            return
        del meeting.waiters[waiter]
        waiter.meetings.pop(meeting.id, None)
        if not waiter.meetings and waiter.deadline < math.inf:
            self._timed -= 1
            self._compact()
        if waiter.full:
            meeting.n_full -= 1
        if waiter.inactive:
            meeting.n_inactive -= 1
        if meeting.source is self._list:
            self._unref(waiter)
        if meeting.waiters:
            self._place(meeting)
            return
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

    def unregister_all(self, waiter: _Waiter) -> None:
        """Unsubscribe `waiter` from every meeting."""
        for meeting in list(waiter.meetings.values()):
            self.unregister(waiter, meeting)
        self.rebalance()

    def _compact(self) -> None:
        """Drop the heap entries of finished waits once they outnumber the live ones."""
        heap = self._deadlines
        if len(heap) <= 64 or len(heap) <= 2 * self._timed:
            return
        kept = []
        for entry in heap:
            if entry[2].meetings:
                kept.append(entry)
            else:
                entry[2].queued = False
        heapq.heapify(kept)
        heap[:] = kept  # in place: a caller may hold the list

    def _next_deadline(self, now: float) -> float:
        """Kick the waits whose deadline passed; the earliest deadline still to come."""
        heap = self._deadlines
        while heap and heap[0][0] <= now:
            _, _, waiter = heapq.heappop(heap)
            waiter.queued = False
            if waiter.meetings:
                waiter.kick()
        while heap and not heap[0][2].meetings:  # finished waits
            heapq.heappop(heap)[2].queued = False
        return heap[0][0] if heap else math.inf

    @contextlib.contextmanager
    def _waking_at(self, when: float) -> Iterator[anyio.CancelScope]:
        """A cancel scope around a sleep until `when`, known to `_wake_by`."""
        key = next(self._seq)
        with anyio.CancelScope() as scope:
            self._wakers[key] = scope
            heapq.heappush(self._waker_times, (when, key))
            try:
                yield scope
            finally:
                del self._wakers[key]
                times = self._waker_times
                if len(times) > 2 * len(self._wakers) + 32:  # drop the finished ones
                    times[:] = [t for t in times if t[1] in self._wakers]
                    heapq.heapify(times)

    def _wake_by(self, deadline: float) -> None:
        """Make sure a sleeping driver or watchdog wakes by `deadline`."""
        times = self._waker_times
        while times and times[0][1] not in self._wakers:
            heapq.heappop(times)
        if times and times[0][0] > deadline:
            self._wakers[times[0][1]].cancel()  # it sleeps again, until `deadline` at most

    def _unref(self, waiter: _Waiter) -> None:
        refs = self._list.refs
        count = refs.get(waiter, 0) - 1
        if count > 0:
            refs[waiter] = count
        else:
            refs.pop(waiter, None)

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

    def _place(self, meeting: _Meeting) -> None:
        eligible = bool(meeting.waiters) and meeting.n_full == 0
        if eligible != meeting.eligible:
            meeting.eligible = eligible
            self._eligible += 1 if eligible else -1
        to_list = eligible and self._list_on
        if to_list:
            if meeting.source is not self._list:
                self._move(meeting, to_list=True)
        elif meeting.source is None or meeting.source is self._list:
            self._move(meeting, to_list=False)

    def _move(self, meeting: _Meeting, *, to_list: bool) -> None:
        lst = self._list
        old = meeting.source
        now = self.clock.now()
        waiters = list(meeting.waiters)
        if old is lst:
            del lst.meetings[meeting.id]
            for waiter in waiters:
                self._unref(waiter)
        if to_list:
            if not lst.meetings:
                lst.next_due = now
                lst.interval = None
                lst.stale.clear()
            lst.meetings[meeting.id] = meeting
            for waiter in waiters:
                lst.refs[waiter] = lst.refs.get(waiter, 0) + 1
            meeting.source = lst
        else:
            single = meeting.single
            if single is None:
                # A meeting leaving the list keeps the list's schedule; a new one polls now.
                single = meeting.single = _SingleSource(
                    meeting, now if old is None else old.next_due
                )
            meeting.source = single
        if old is not None:
            for waiter in waiters:
                waiter.kick()  # it may have to drive the new loop

    def _tighten(self, source: _Source, interval: float) -> None:
        """A new waiter wants a shorter interval than the loop is using: bring it forward."""
        current = source.interval
        if current is not None and interval < current:
            source.interval = interval
            due = source.last_end + interval
            if due < source.next_due:
                source.next_due = due
                self._interrupt(source)

    @staticmethod
    def _interrupt(source: _Source) -> None:
        driver = source.driver
        if driver is not None and driver.sleep_scope is not None:
            driver.sleep_scope.cancel()

    # -- the loop every waiter runs -----------------------------------------------------

    def _sources(self, waiter: _Waiter) -> list[_Source]:
        out: dict[_Source, None] = {}
        for meeting in waiter.meetings.values():
            if meeting.source is not None:
                out[meeting.source] = None
        return list(out)

    async def next(self, waiter: _Waiter) -> bool:
        """Drive or wait until the waiter has news (True) or its deadline passed (False)."""
        claimed: list[_Source] = []
        mine: list[_Source] = []
        try:
            while not waiter.dirty and waiter.error is None:
                now = self.clock.now()
                if now >= waiter.deadline:
                    return False
                mine = self._sources(waiter)
                if not mine:
                    return True
                for source in [s for s in claimed if s not in mine]:
                    claimed.remove(source)
                    if source.driver is waiter:
                        source.driver = None
                        self._hand_over(source, waiter)
                drive: list[_Source] = []
                for source in mine:
                    if source.driver is None:
                        source.driver = waiter
                        claimed.append(source)
                    if source.driver is waiter:
                        drive.append(source)
                if drive:
                    await self._round(waiter, drive, now)
                else:
                    await self._block(waiter, mine)
            return True
        finally:
            for source in claimed:
                if source.driver is waiter:
                    source.driver = None
            for source in dict.fromkeys([*claimed, *mine]):
                if source.driver is None:
                    self._hand_over(source, waiter)

    @staticmethod
    def _hand_over(source: _Source, leaving: _Waiter) -> None:
        for waiter in source.idle:
            if waiter is not leaving:
                waiter.kick()
                return

    async def _round(self, waiter: _Waiter, drive: list[_Source], now: float) -> None:
        due = [s for s in drive if s.next_due <= now]
        if not due:
            # Sleep until a loop is due or a wait's deadline comes (whoever it belongs to).
            wake_at = min(min(s.next_due for s in drive), self._next_deadline(now))
            with self._waking_at(wake_at) as scope:
                waiter.sleep_scope = scope
                try:
                    await self.clock.sleep(wake_at - now)
                finally:
                    waiter.sleep_scope = None
            self._next_deadline(self.clock.now())
            return
        deadline = min(waiter.deadline, now + self.pipeline.timeout)
        if len(due) == 1 and not self._watchdog:
            await self._run(due[0], deadline)
            return
        async with anyio.create_task_group() as tg:
            if self._watchdog:
                tg.start_soon(self._expire_during_poll)
            if len(due) == 1:
                await self._run(due[0], deadline)
            else:
                async with anyio.create_task_group() as polls:
                    for source in due:
                        polls.start_soon(self._run, source, deadline)
            tg.cancel_scope.cancel()

    async def _expire_during_poll(self) -> None:
        """While a poll is in flight (real clock), end the waits whose deadline comes."""
        while True:
            now = self.clock.now()
            next_deadline = self._next_deadline(now)
            with self._waking_at(next_deadline):
                if next_deadline == math.inf:
                    await anyio.sleep_forever()
                await self.clock.sleep(next_deadline - now)

    async def _block(self, waiter: _Waiter, mine: list[_Source]) -> None:
        event = waiter.event
        if not event.is_set():
            for source in mine:
                source.idle[waiter] = None
            try:
                await event.wait()
            finally:
                for source in mine:
                    source.idle.pop(waiter, None)
        waiter.event = anyio.Event()

    async def _run(self, source: _Source, deadline: float) -> None:
        source.polling = True
        try:
            changed = await source.poll(self, deadline)
        finally:
            source.polling = False
        now = self.clock.now()
        base = min([w.interval for w in list(source.waiters())], default=DEFAULT_POLL_INTERVAL)
        if changed or source.interval is None:
            interval = base
        else:
            interval = min(source.interval * self.backoff, base * self.max_backoff)
        source.interval = interval
        source.last_end = now
        if source.rewake:
            source.rewake = False
            source.next_due = now
        else:
            source.next_due = now + interval * (1.0 - self.jitter * self._rand())

    # -- reads ------------------------------------------------------------------------------

    async def read_active(self, meeting_id: str, deadline: float) -> Livestream:
        """`GET /meetings/{id}/active-livestream` (raises `NotFoundError` when none)."""
        envelope = await self.pipeline.send(
            "GET", f"/meetings/{_q(meeting_id)}/active-livestream", deadline=deadline
        )
        return _for_meeting(structure(envelope.data, Livestream), meeting_id)

    # -- does the meeting exist? --------------------------------------------------------------

    def unconfirmed(self, meeting: _Meeting) -> bool:
        """True when the meeting's existence is unknown and no check of it is in flight."""
        if meeting.exists or meeting.missing is not None:
            return False
        if meeting.id in self._known:
            self.known(meeting)
            return False
        return meeting.id not in self._checking

    async def confirm(self, meeting: _Meeting, deadline: float) -> bool | None:
        """Make sure a meeting seen with nothing active exists (`GET /meetings/{id}`, once).

        Returns:
            True when it exists (known already, or confirmed now); False when it does not
            (`missing` is set and its waiters are woken); None when a check of it is in
            flight in another poll.

        Raises:
            DyteError: the check failed (not with 404); after a transient failure the next
                poll that sees nothing active checks again.
        """
        if not self.unconfirmed(meeting):
            if meeting.missing is not None:
                return False
            return True if meeting.exists else None
        meeting_id = meeting.id
        self._checking.add(meeting_id)
        try:
            await self.pipeline.send("GET", f"/meetings/{_q(meeting_id)}", deadline=deadline)
        except NotFoundError as exc:
            self.gone(meeting, exc)
            return False
        finally:
            self._checking.discard(meeting_id)
        self.known(meeting)
        return True

    def _recall(self, meeting_id: str) -> bool:
        """True when the meeting is remembered as existing (it becomes the most recent)."""
        known = self._known
        if meeting_id not in known:
            return False
        del known[meeting_id]
        known[meeting_id] = None
        return True

    def known(self, meeting: _Meeting) -> None:
        """Remember that the meeting exists (for this record and later waits on it)."""
        meeting.exists = True
        known = self._known
        known.pop(meeting.id, None)
        known[meeting.id] = None
        while len(known) > max(0, self.known_meetings):
            del known[next(iter(known))]

    def gone(self, meeting: _Meeting, exc: NotFoundError) -> None:
        """The meeting does not exist: every wait on it ends with a `NotFoundError`."""
        logger.info("meeting %s does not exist: %s", meeting.id, exc)
        meeting.missing = NotFoundError(
            f"meeting {meeting.id} does not exist ({exc.message})",
            status_code=exc.status_code,
            code=exc.code,
            request_id=exc.request_id,
            body=exc.body,
            headers=exc.headers,
            method=exc.method,
            url=exc.url,
        )
        for waiter in list(meeting.waiters):
            waiter.notify(meeting)

    async def read_latest(self, meeting: _Meeting, deadline: float) -> Livestream | None:
        """The meeting's latest livestream, stopped or not (after a 404 of the active one)."""
        known = meeting.livestream
        try:
            if known is not None:
                envelope = await self.pipeline.send(
                    "GET", f"/livestreams/{_q(known.id)}", params={"per_page": 1}, deadline=deadline
                )
                return _for_meeting(details_from(envelope.data).livestream, meeting.id)
            envelope = await self.pipeline.send(
                "GET",
                f"/meetings/{_q(meeting.id)}/livestream",
                params={"per_page": 1},
                deadline=deadline,
            )
        except NotFoundError:
            return None
        data = envelope.data
        if isinstance(data, Mapping) and "livestream" in data and not data["livestream"]:
            return None  # the meeting never streamed
        items = livestream_details_items(data)
        if not items:
            return None
        latest = items[0].livestream
        for details in items[1:]:
            created = details.livestream.created_at
            if created is not None and (latest.created_at is None or created > latest.created_at):
                latest = details.livestream
        return _for_meeting(latest, meeting.id)

    async def read_list(
        self, status: LivestreamStatus, page_no: int, deadline: float
    ) -> tuple[list[Livestream], Mapping[str, Any]]:
        """One page of `GET /livestreams?status=...`, newest first."""
        envelope = await self.pipeline.send(
            "GET",
            "/livestreams",
            params={
                "status": str(status),
                "sort_order": "DSC",
                "per_page": self.page_size,
                "page_no": page_no,
            },
            deadline=deadline,
        )
        items = [structure(x, Livestream) for x in list_items(envelope.data, "livestreams")]
        return items, paging_from(envelope.body)

    async def err_message(self, livestream: Livestream, deadline: float) -> str | None:
        """The errored session's `err_message`, best effort (None when it cannot be read)."""
        now = self.clock.now()
        deadline = min(max(deadline, now + ERROR_DETAIL_GRACE), now + self.pipeline.timeout)
        livestream_id = _q(livestream.id)
        for path in (
            f"/livestreams/{livestream_id}/active-livestream-session",
            f"/livestreams/{livestream_id}",
        ):
            try:
                envelope = await self.pipeline.send("GET", path, deadline=deadline)
                sessions = details_from(envelope.data).sessions
            except DyteError as exc:
                logger.info(
                    "livestream %s: reading the error message failed: %s", livestream.id, exc
                )
                continue
            if sessions and sessions[0].err_message:  # the newest session: the one that failed
                return sessions[0].err_message
        return None

    # -- results ----------------------------------------------------------------------------

    def publish(
        self, meeting: _Meeting, livestream: Livestream | None, err_message: str | None
    ) -> bool:
        """Record an observation; wake the meeting's waiters when it changed."""
        if livestream is not None and not meeting.exists:
            self.known(meeting)  # a meeting with a livestream exists
        old = meeting.livestream
        if livestream is not None:
            self._by_livestream[livestream.id] = meeting
        if old is not None and (livestream is None or livestream.id != old.id):
            self._by_livestream.pop(old.id, None)
        if meeting.observed and _same(old, livestream):
            meeting.livestream = livestream  # the freshest copy of the same state
            return False
        meeting.observed = True
        meeting.livestream = livestream
        meeting.err_message = err_message
        for waiter in list(meeting.waiters):  # a copy: a dropped iterator may leave meanwhile
            waiter.notify(meeting)
        return True

    def failed(
        self, source: _Source, meetings: Iterable[_Meeting], exc: DyteError, *, listing: bool
    ) -> None:
        """A poll failed: transient errors wait for the next poll, others end the waits."""
        if _is_transient(exc):
            source.last_error = exc
            logger.info("livestream poll failed, polling again later: %s", exc)
            return
        if listing:
            logger.warning(
                "listing livestreams failed (%s); waiting with per-meeting polls instead", exc
            )
            self._list_disabled = True
            self.rebalance()
            return
        for meeting in meetings:
            for waiter in list(meeting.waiters):
                waiter.error = exc
                waiter.kick()


def _shown(meeting_ids: Collection[str]) -> str:
    """Meeting ids for a message: the first ten, and how many in all."""
    ids = list(itertools.islice(meeting_ids, 10))
    more = f", ... ({len(meeting_ids)} in all)" if len(meeting_ids) > 10 else ""
    return ", ".join(ids) + more


def errored_error(meeting: _Meeting, livestream: Livestream) -> LivestreamErroredError:
    """The error a wait raises for a meeting seen ERRORED."""
    detail = f": {meeting.err_message}" if meeting.err_message else ""
    return LivestreamErroredError(
        f"livestream {livestream.id} of meeting {meeting.id} errored{detail}",
        livestream=livestream,
        err_message=meeting.err_message,
    )


# -- iterators ------------------------------------------------------------------------------


_Self = TypeVar("_Self", bound="_Registration")


class _Registration:
    """What the waits' iterators share: a waiter registered with the poller while they run.

    `aclose()` (also on leaving `async with`, or when the object is collected) unregisters
    it, so nothing stays behind whatever way the iteration ends.
    """

    __slots__ = ("_closed", "_poller", "_waiter")

    def __init__(self, poller: Poller) -> None:
        self._poller = poller
        self._waiter: _Waiter | None = None
        self._closed = False

    def _release(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            self._poller.unregister_all(waiter)

    def _on_close(self) -> None:
        """What a subclass drops when it is closed (beyond the registration)."""

    async def aclose(self) -> None:
        """Stop waiting (nothing stays registered)."""
        self._closed = True
        self._on_close()
        self._release()

    async def __aenter__(self: _Self) -> _Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at loop shutdown there is nothing to tidy
            self._release()


class LivestreamWatch(_Registration):
    """`dyte.livestreams.watch(...)`: yields the livestream each time its status changes.

    An async iterator (`async for ls in watch`), also an async context manager; `aclose()`
    ends it. It holds no task: polling happens while a `__anext__` is awaited (and, when
    other waits share the meeting, through theirs).
    """

    __slots__ = ("_interval", "_last", "_meeting_id")

    def __init__(self, poller: Poller, meeting_id: str, *, poll_interval: float) -> None:
        super().__init__(poller)
        self._meeting_id = meeting_id
        self._interval = _check_interval(poll_interval)
        self._last: tuple[str, LivestreamStatus] | None = None

    def __aiter__(self) -> LivestreamWatch:
        return self

    async def __anext__(self) -> Livestream:
        if self._closed:
            raise StopAsyncIteration
        poller = self._poller
        waiter = self._waiter
        if waiter is None:
            waiter = self._waiter = _Waiter(
                deadline=math.inf, interval=self._interval, full=True, inactive=True
            )
            poller.register(waiter, (self._meeting_id,))
        meeting = waiter.meetings[self._meeting_id]
        try:
            while True:
                error = waiter.error or meeting.missing
                if error is not None:
                    self._closed = True
                    raise error.with_traceback(None)
                waiter.dirty.clear()
                livestream = meeting.livestream
                if livestream is not None and (livestream.id, livestream.status) != self._last:
                    self._last = (livestream.id, livestream.status)
                    return livestream
                await poller.next(waiter)
        except BaseException:
            # Cancelled or failed: leave nothing registered; a later `__anext__` re-registers.
            self._release()
            raise


class LivestreamWaitMany(_Registration, Generic[_T]):
    """`dyte.livestreams.wait_until_live_many(...)`: yields each livestream as it goes LIVE.

    An async iterator, also an async context manager; `aclose()` ends it. Meetings seen
    ERRORED are yielded as `LivestreamErroredError` values with `yield_errors=True`, and
    meetings that do not exist as `NotFoundError` values; otherwise they are collected and
    raised once every other meeting is LIVE (one error, naming them all: a `NotFoundError`
    when a meeting does not exist, chaining the `LivestreamErroredError` of errored ones,
    if any, as its `__cause__`). At the deadline it raises `WaitTimeoutError` with
    `.pending`.
    """

    __slots__ = (
        "_deadline",
        "_errored",
        "_interval",
        "_missing",
        "_pending",
        "_ready",
        "_timeout",
        "_yield_errors",
    )

    def __init__(
        self,
        poller: Poller,
        meeting_ids: Iterable[str],
        *,
        timeout: float | None,
        poll_interval: float,
        yield_errors: bool,
    ) -> None:
        super().__init__(poller)
        self._pending: dict[str, None] = dict.fromkeys(meeting_ids)
        self._timeout = timeout
        self._deadline = _deadline_after(poller.clock.now(), timeout)
        self._interval = _check_interval(poll_interval)
        self._yield_errors = yield_errors
        self._ready: deque[Livestream | LivestreamErroredError | NotFoundError] = deque()
        self._errored: list[LivestreamErroredError] = []
        self._missing: list[tuple[str, NotFoundError]] = []

    @property
    def pending(self) -> tuple[str, ...]:
        """Meeting ids not LIVE yet (nor ERRORED, nor found not to exist)."""
        return tuple(self._pending)

    def __aiter__(self) -> LivestreamWaitMany[_T]:
        return self

    async def __anext__(self) -> _T:
        poller = self._poller
        while True:
            if self._ready:
                return cast(_T, self._ready.popleft())
            if self._closed:
                raise StopAsyncIteration
            if not self._pending:
                self._finish()
            waiter = self._waiter
            if waiter is None:
                waiter = self._waiter = _Waiter(
                    deadline=self._deadline, interval=self._interval, full=False, inactive=False
                )
                poller.register(waiter, self._pending)
                waiter.dirty.extend(waiter.meetings.values())
            try:
                error = waiter.error
                if error is not None:
                    self._closed = True
                    raise error.with_traceback(None)
                self._collect(waiter)
                if self._ready or not self._pending:
                    continue
                if not await poller.next(waiter):
                    self._expire()
            except BaseException:
                self._release()
                raise

    def _collect(self, waiter: _Waiter) -> None:
        dirty, waiter.dirty = waiter.dirty, []
        for meeting in dict.fromkeys(dirty):
            if meeting.id not in self._pending:
                continue
            missing = meeting.missing
            if missing is not None:
                self._resolve(waiter, meeting)
                if self._yield_errors:
                    self._ready.append(missing)
                else:
                    self._missing.append((meeting.id, missing))
                continue
            livestream = meeting.livestream
            if livestream is None:
                continue
            if livestream.status == _LIVE:
                self._resolve(waiter, meeting)
                self._ready.append(livestream)
            elif livestream.status == _ERRORED:
                self._resolve(waiter, meeting)
                error = errored_error(meeting, livestream)
                if self._yield_errors:
                    self._ready.append(error)
                else:
                    self._errored.append(error)

    def _resolve(self, waiter: _Waiter, meeting: _Meeting) -> None:
        del self._pending[meeting.id]
        self._poller.unregister(waiter, meeting)
        self._poller.rebalance()

    def _errored_error(self) -> LivestreamErroredError | None:
        errored = self._errored
        if not errored:
            return None
        if len(errored) == 1:
            return errored[0]
        first = errored[0]
        names = "; ".join(str(e) for e in errored)
        return LivestreamErroredError(
            f"{len(errored)} livestreams errored: {names}",
            livestream=first.livestream,
            err_message=first.err_message,
        )

    def _errors(self) -> DyteError | None:
        """The error for the meetings that errored or do not exist (None: there are none)."""
        errored = self._errored_error()
        missing = self._missing
        if not missing:
            return errored
        if len(missing) == 1 and errored is None:
            return missing[0][1]
        first = missing[0][1]
        if len(missing) == 1:
            message, method, url = first.message, first.method, first.url
        else:
            message = f"{len(missing)} meetings do not exist: {_shown([m for m, _ in missing])}"
            method = url = ""  # several requests: none names them all
        if errored is not None:
            message += f"; also {len(self._errored)} livestream(s) errored"
        error = NotFoundError(
            message,
            status_code=first.status_code,
            code=first.code,
            request_id=first.request_id,
            body=first.body,
            headers=first.headers,
            method=method,
            url=url,
        )
        error.__cause__ = errored
        return error

    def _finish(self) -> None:
        self._closed = True
        self._release()
        error = self._errors()
        if error is not None:
            raise error
        raise StopAsyncIteration

    def _expire(self) -> None:
        self._closed = True
        waiter = self._waiter
        last_error = None
        if waiter is not None:
            for meeting in waiter.meetings.values():
                if meeting.source is not None and meeting.source.last_error is not None:
                    last_error = meeting.source.last_error
                    break
        self._release()
        pending = tuple(self._pending)
        errors = self._errors()
        also = []
        if self._errored:
            also.append(f"{len(self._errored)} errored")
        if self._missing:
            also.append(f"{len(self._missing)} not found")
        extra = f"; also {', '.join(also)}" if also else ""
        timeout = self._timeout if self._timeout is not None else math.inf
        error = WaitTimeoutError(
            f"{len(pending)} meeting(s) not LIVE after {timeout:g} s: {_shown(pending)}{extra}",
            pending=pending,
        )
        raise error from (errors if errors is not None else last_error)

    def _on_close(self) -> None:
        self._ready.clear()
