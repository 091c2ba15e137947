"""The list source: many meetings waited on for LIVE, served by the organization's list.

Each round reads ``GET /livestreams?status=LIVE`` (pages of `Poller.page_size`, newest
first) until every meeting waited on is found or the pages end, and the newest page of
``GET /livestreams?status=ERRORED``: a livestream there whose meeting is waited on is
confirmed with one ``GET /meetings/{id}/active-livestream`` (an old errored livestream of
the meeting is then remembered as stale and never confirmed again).

Absence from the LIVE list is all there is to see, and every starting livestream shows
it, so the existence checks of meetings missing from it wait until they are few (see
`ListSource._check`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import anyio

from dyte_async._pagination import int_or_none
from dyte_async._poller._reads import err_message, read_active, read_list
from dyte_async._poller._settings import ERRORED, LIST_PAGE_CONCURRENCY, LIVE, MAX_LIST_PAGES
from dyte_async._poller._source import PollHost, Schedule
from dyte_async._poller._state import Meeting, Waiter
from dyte_async.errors import DyteError, NotFoundError
from dyte_async.models import Livestream

__all__ = ["ListSource"]


def _take(items: Iterable[Livestream], wanted: set[str], found: dict[str, Livestream]) -> None:
    """Put the first livestream of each wanted meeting in `items` into `found`."""
    for livestream in items:
        meeting_id = livestream.meeting_id
        if meeting_id in wanted and meeting_id not in found:
            found[meeting_id] = livestream


class ListSource(Schedule):
    """Polls the organization's LIVE (and newest ERRORED) livestreams for many meetings."""

    __slots__ = ("meetings", "pages", "refs", "stale")

    def __init__(self) -> None:
        super().__init__(0.0)
        self.meetings: dict[str, Meeting] = {}
        #: waiters of the meetings in the list, with how many of their meetings are in it
        self.refs: dict[Waiter, int] = {}
        #: LIVE pages of the last round (the list's cost, with one ERRORED page)
        self.pages = 1
        #: ERRORED livestreams known not to be the current one of their meeting
        self.stale: set[str] = set()

    def waiters(self) -> Iterable[Waiter]:
        return self.refs

    def cost(self) -> float:
        """Requests per round: the LIVE pages and one ERRORED page."""
        if self.pages > MAX_LIST_PAGES:
            return math.inf  # the list cannot be read whole: poll meetings one by one
        return max(1, self.pages) + 1

    def ref(self, waiter: Waiter) -> None:
        """One more of `waiter`'s meetings is in the list."""
        self.refs[waiter] = self.refs.get(waiter, 0) + 1

    def unref(self, waiter: Waiter) -> None:
        """One fewer of `waiter`'s meetings is in the list."""
        count = self.refs.get(waiter, 0) - 1
        if count > 0:
            self.refs[waiter] = count
        else:
            self.refs.pop(waiter, None)

    # -- a round ---------------------------------------------------------------------------

    async def poll(self, host: PollHost, deadline: float) -> bool:
        wanted = set(self.meetings)
        if not wanted:
            return False
        found: dict[str, Livestream] = {}
        self.last_error = None
        started = host.clock.now()
        try:
            complete = await self._walk(host, wanted, found, deadline)
        except DyteError as exc:
            host.failed(self, self._of(wanted), exc, listing=True)
            return False
        read = wanted if complete else set(found)
        changed = self._publish(host, found)
        missing = {m for m in wanted if m not in found and m in self.meetings}
        if complete:
            changed |= self._publish_gone(host, missing)
        if missing:
            changed |= await self._errored(host, missing, deadline)
        if complete and missing:
            changed |= await self._check(host, missing, deadline)
        for meeting in self._of(read):
            if meeting.unreadable_at < started:  # nothing about it failed to read this round
                meeting.readable()
        host.rebalance()
        return changed

    def _of(self, meeting_ids: Iterable[str]) -> list[Meeting]:
        """The records of those of `meeting_ids` still in the list."""
        return [m for m in map(self.meetings.get, meeting_ids) if m is not None]

    def _publish(self, host: PollHost, found: dict[str, Livestream]) -> bool:
        """Publish the LIVE livestreams found; True when one was news."""
        changed = False
        for meeting_id, livestream in found.items():
            meeting = self.meetings.get(meeting_id)
            if meeting is not None:
                changed |= host.publish(meeting, livestream, None)
        return changed

    def _publish_gone(self, host: PollHost, missing: set[str]) -> bool:
        """Meetings seen LIVE before and missing from a whole list dropped out of LIVE."""
        changed = False
        for meeting_id in missing:
            meeting = self.meetings.get(meeting_id)
            current = meeting.livestream if meeting is not None else None
            if meeting is not None and current is not None and current.status == LIVE:
                changed |= host.publish(meeting, None, None)
        return changed

    # -- the LIVE pages ---------------------------------------------------------------------

    async def _walk(
        self, host: PollHost, wanted: set[str], found: dict[str, Livestream], deadline: float
    ) -> bool:
        """Read LIVE pages into `found`; True when every page was read.

        Page 1 tells how many LIVE livestreams there are; the other pages are then read
        `LIST_PAGE_CONCURRENCY` at a time, so a round of up to 17 pages takes two round trips.
        """
        items, paging = await read_list(host.reader, LIVE, 1, host.page_size, deadline)
        _take(items, wanted, found)
        total = int_or_none(paging.get("total_count"))
        if total is None:
            self.pages = 1
            if not items or len(found) == len(wanted) or len(items) < host.page_size:
                return True
            end = int_or_none(paging.get("end_offset"))
            return await self._walk_on(host, wanted, found, deadline, end)
        size = len(items)
        self.pages = math.ceil(total / size) if items else 1
        if self.pages <= 1 or len(found) == len(wanted):
            return True
        return await self._walk_rest(host, wanted, found, deadline, size)

    async def _walk_rest(
        self,
        host: PollHost,
        wanted: set[str],
        found: dict[str, Livestream],
        deadline: float,
        size: int,
    ) -> bool:
        """Read pages 2 to `self.pages` (and those the list grows by meanwhile) into `found`."""
        pages = self.pages
        errors: list[DyteError] = []
        read = 1
        while read < min(pages, MAX_LIST_PAGES):
            last = min(pages, MAX_LIST_PAGES)
            results, totals = await self._read_pages(host, range(read + 1, last + 1), deadline)
            errors.extend(e for e in results.values() if isinstance(e, DyteError))
            for page_no in sorted(results):
                page = results[page_no]
                if not isinstance(page, DyteError):
                    _take(page, wanted, found)
            read = last
            if len(found) == len(wanted):
                return True
            # When the list grew while it was read, read the pages it grew by too.
            pages = max(pages, math.ceil(max(totals, default=0) / size))
            self.pages = pages
        if errors and len(found) < len(wanted):
            host.failed(self, self._of(wanted - set(found)), errors[0], listing=True)
            return False
        return read >= pages

    async def _read_pages(
        self, host: PollHost, numbers: range, deadline: float
    ) -> tuple[dict[int, list[Livestream] | DyteError], list[int]]:
        """Read the LIVE pages `numbers`, `LIST_PAGE_CONCURRENCY` at a time.

        Returns:
            Each page's items (or its failure), and the `total_count`s the pages gave.
        """
        results: dict[int, list[Livestream] | DyteError] = {}
        totals: list[int] = []
        todo = iter(numbers)

        async def worker() -> None:
            # Pages go out in increasing order (livestreams going LIVE meanwhile push the
            # others towards later pages, which are read later).
            for page_no in todo:
                try:
                    items, paging = await read_list(
                        host.reader, LIVE, page_no, host.page_size, deadline
                    )
                except DyteError as exc:
                    results[page_no] = exc
                    continue
                results[page_no] = items
                grown = int_or_none(paging.get("total_count"))
                if grown is not None:
                    totals.append(grown)

        async with anyio.create_task_group() as tg:
            for _ in range(min(LIST_PAGE_CONCURRENCY, len(numbers))):
                tg.start_soon(worker)
        return results, totals

    async def _walk_on(
        self,
        host: PollHost,
        wanted: set[str],
        found: dict[str, Livestream],
        deadline: float,
        last_end: int | None,
    ) -> bool:
        """Without a `total_count`: read pages one by one until a short or empty one."""
        for page_no in range(2, MAX_LIST_PAGES + 1):
            items, paging = await read_list(host.reader, LIVE, page_no, host.page_size, deadline)
            start = int_or_none(paging.get("start_offset"))
            if not items or (last_end is not None and start is not None and start <= last_end):
                return True  # the end, or a server that ignores page_no
            self.pages = page_no
            _take(items, wanted, found)
            if len(found) == len(wanted) or len(items) < host.page_size:
                return True
            last_end = int_or_none(paging.get("end_offset"))
        return False

    # -- the ERRORED page -------------------------------------------------------------------

    async def _errored(self, host: PollHost, missing: set[str], deadline: float) -> bool:
        """Read the newest ERRORED page; confirm the livestreams of meetings waited on."""
        try:
            items, _ = await read_list(host.reader, ERRORED, 1, host.page_size, deadline)
        except DyteError as exc:
            host.failed(self, (), exc, listing=True)
            return False
        suspects = self._suspects(items, missing)
        if not suspects:
            return False
        results: list[bool] = []

        async def confirm(meeting_id: str, livestream_id: str) -> None:
            results.append(await self._confirm(host, meeting_id, livestream_id, deadline))

        if len(suspects) == 1:
            ((meeting_id, livestream_id),) = suspects.items()
            await confirm(meeting_id, livestream_id)
        else:
            async with anyio.create_task_group() as tg:
                for meeting_id, livestream_id in suspects.items():
                    tg.start_soon(confirm, meeting_id, livestream_id)
        return any(results)

    def _suspects(self, items: Iterable[Livestream], missing: set[str]) -> dict[str, str]:
        """Meeting id -> its newest ERRORED livestream, for missing meetings (none stale)."""
        suspects: dict[str, str] = {}
        for livestream in items:
            meeting_id = livestream.meeting_id
            if (
                meeting_id in missing
                and meeting_id not in suspects
                and livestream.id not in self.stale
            ):
                suspects[meeting_id] = livestream.id
        return suspects

    async def _confirm(
        self, host: PollHost, meeting_id: str, livestream_id: str, deadline: float
    ) -> bool:
        """Read the meeting's active livestream (it may be the ERRORED one) and publish it."""
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return False
        try:
            try:
                current: Livestream | None = await read_active(host.reader, meeting_id, deadline)
            except NotFoundError:
                current = None
            message = None
            if current is not None and current.status == ERRORED:
                message = await err_message(host.reader, current, deadline)
        except DyteError as exc:
            host.failed(self, (meeting,), exc, listing=False)
            return False
        if current is None or current.id != livestream_id:
            self.stale.add(livestream_id)
        if meeting.waiters:
            return host.publish(meeting, current, message)
        return False

    # -- existence checks -------------------------------------------------------------------

    async def _batch(self, host: PollHost, missing: set[str]) -> list[Meeting]:
        """The meetings missing from the list to check this round (see `_check`)."""
        existence = host.existence
        unknown = [
            meeting
            for meeting_id, meeting in self.meetings.items()
            if meeting_id in missing and existence.unconfirmed(meeting)
        ]
        mine = len(unknown)
        per_round = max(0, host.checks_per_round)
        total = mine if host.backlog is None or not mine else await host.backlog.total(mine)
        if total > per_round:
            ripe = host.clock.now() - host.check_grace
            unknown = [meeting for meeting in unknown if meeting.since <= ripe]
            # The fleet's round checks `per_round` at most: this process its share of it.
            per_round = math.ceil(per_round * mine / total)
        return unknown[:per_round]

    async def _check(self, host: PollHost, missing: set[str], deadline: float) -> bool:
        """Make sure meetings never seen with a livestream exist: each once, a batch a round.

        Absence from the LIVE list is what every starting livestream shows, so while more
        than `Poller.checks_per_round` meetings are left to check, only those waited on for
        `Poller.check_grace` are (most livestreams go LIVE sooner, and then need no check).
        A round checks at most `checks_per_round` meetings (those in the list the longest
        first), `Poller.check_concurrency` at a time. With a fleet (`Poller.backlog`), the
        count and the cap are the fleet's: this process checks its share. A failed check
        ends the round's batch: a transient failure leaves the meeting to a later round,
        others end the waits on the meeting (as a failed poll does).
        """
        batch = await self._batch(host, missing)
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
                    exists = await host.existence.confirm(meeting, deadline)
                except DyteError as exc:
                    stop = True
                    host.failed(self, (meeting,), exc, listing=False)
                    return
                changed |= exists is False

        if len(batch) == 1:
            await worker()
        else:
            async with anyio.create_task_group() as tg:
                for _ in range(min(host.check_concurrency, len(batch))):
                    tg.start_soon(worker)
        return changed
