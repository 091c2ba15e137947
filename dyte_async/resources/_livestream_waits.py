"""The livestream waits: `wait_until_live`, `wait_for_status`, `watch`, `notify`, ... .

Each checks its arguments and hands the wait to the client's poller (`dyte_async._poller`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, overload

from dyte_async._pipeline import Pipeline
from dyte_async._poller import (
    DEFAULT_POLL_INTERVAL,
    DEFAULT_WAIT_TIMEOUT,
    LIVE_ONLY,
    LivestreamWaitMany,
    LivestreamWatch,
    Poller,
    normalize_statuses,
)
from dyte_async.errors import LivestreamErroredError, NotFoundError
from dyte_async.models import Livestream, LivestreamStatus
from dyte_async.resources._base import Resource, segment

if TYPE_CHECKING:
    from dyte_async._fleet._wakeups import Wakeups
    from dyte_async._poller._existence import Backlog
    from dyte_async._poller._reader import Reader
    from dyte_async.webhooks import WebhookEvent

__all__ = ["LivestreamWaits"]


class LivestreamWaits(Resource):
    """The waiting half of `dyte.livestreams`: one poller per client serves every wait.

    Concurrent waits on a meeting share its polls, and waits on many meetings share one
    poll of the organization's list (see `dyte_async._poller`).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        wakeups: Wakeups | None = None,
        reader: Reader | None = None,
        backlog: Backlog | None = None,
        shared: LivestreamWaits | None = None,
    ) -> None:
        super().__init__(pipeline)
        if shared is not None:
            # A client made by `with_options`: its waits are served by the poller (and the
            # fleet's wake-ups) of the client it came from, so they coalesce with those.
            self._wakeups: Wakeups | None = shared._wakeups
            self._poller: Poller = shared._poller
            return
        #: the fleet's webhook wake-ups (`redis=`), or None
        self._wakeups = wakeups
        self._poller = Poller(pipeline, hooks=wakeups, reader=reader, backlog=backlog)
        if reader is not None:
            # Shared across the fleet, a quiet loop does not slow down: most of its reads
            # are answered from other processes' (nothing sent), and a process whose own
            # meetings have not changed is still the one that may see the others' change.
            self._poller.max_backoff = 1.0
        if wakeups is not None:
            wakeups.attach(self._poller)

    async def wait_until_live(
        self,
        meeting_id: str,
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Livestream:
        """Wait until the meeting's livestream is LIVE, and return it (with `playback_url`).

        Polls `GET /meetings/{meeting_id}/active-livestream`: a 404 means "not started yet"
        and the wait goes on, as it does through INVOKED, OFFLINE, IDLE and unknown statuses
        and through transient failures (5xx, 429, dropped connections: retried by the
        client within the deadline). Concurrent waits of one client share their polls, and
        waits on many meetings are served by one poll of `GET /livestreams?status=LIVE`.

        The first 404 is confirmed once with `GET /meetings/{meeting_id}` (one request per
        meeting per client, shared by concurrent waits; skipped for a meeting already seen
        with a livestream): a meeting that does not exist ends the wait at once with
        `NotFoundError` instead of waiting for the timeout. (While many meetings are waited
        on through the list, checks follow the rules of `wait_until_live_many`.)

        The first poll is immediate; the next ones come every `poll_interval`, backing off
        gently (up to twice that) while nothing changes, so a change is seen within one
        current interval.

        Args:
            meeting_id: the meeting.
            timeout: seconds to wait in all (None: no limit). Default 300.
            poll_interval: seconds between polls (before backoff). Default 2.

        Raises:
            NotFoundError: the meeting does not exist.
            LivestreamErroredError: the livestream went ERRORED (`.err_message` when the API
                has one).
            WaitTimeoutError: not LIVE in time (`.last_status`: the last status seen).
            AuthenticationError, PermissionDeniedError, ...: a poll failed for good.
        """
        segment(meeting_id, "meeting_id")
        return await self._poller.wait_for(
            meeting_id, LIVE_ONLY, timeout=timeout, poll_interval=poll_interval
        )

    async def wait_for_status(
        self,
        meeting_id: str,
        statuses: LivestreamStatus | str | Iterable[LivestreamStatus | str],
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
    ) -> Livestream:
        """Wait until the meeting's livestream is in one of `statuses`, and return it.

        As `wait_until_live`, for any target set. ERRORED raises `LivestreamErroredError`
        unless it is one of `statuses`. When the active livestream is gone (404) and a
        target is a stopped status (IDLE, OFFLINE, ...), the meeting's latest livestream is
        read instead, so `wait_for_status(meeting_id, "IDLE")` sees a stop take effect.

        Args:
            meeting_id: the meeting.
            statuses: one status or several (strings or `LivestreamStatus`).
            timeout: seconds to wait in all (None: no limit). Default 300.
            poll_interval: seconds between polls (before backoff). Default 2.

        Raises:
            InvalidArgumentError: no status given.
            NotFoundError, LivestreamErroredError, WaitTimeoutError: as for `wait_until_live`.
        """
        segment(meeting_id, "meeting_id")
        return await self._poller.wait_for(
            meeting_id,
            normalize_statuses(statuses),
            timeout=timeout,
            poll_interval=poll_interval,
        )

    def watch(
        self, meeting_id: str, *, poll_interval: float = DEFAULT_POLL_INTERVAL
    ) -> LivestreamWatch:
        """Yield the meeting's livestream each time its status changes, first value included.

        `async for ls in dyte.livestreams.watch(meeting_id): ...` runs until you break (or
        use `async with` / `aclose()`). Statuses are yielded as seen, ERRORED included
        (never raised); a livestream that is replaced by a new one is yielded too. While no
        livestream exists (404) nothing is yielded; after a stop, the stopped livestream is.
        Changes that revert between two polls are not seen, and a slow consumer gets the
        latest state, not every intermediate one.

        Args:
            meeting_id: the meeting.
            poll_interval: seconds between polls (before backoff). Default 2.

        Raises:
            NotFoundError: (from iteration) the meeting does not exist (checked as for
                `wait_until_live`).
            AuthenticationError, PermissionDeniedError, ...: (from iteration) a poll failed
                for good.
        """
        segment(meeting_id, "meeting_id")
        return LivestreamWatch(self._poller, meeting_id, poll_interval=poll_interval)

    @overload
    def wait_until_live_many(
        self,
        meeting_ids: Iterable[str],
        *,
        timeout: float | None = ...,
        poll_interval: float = ...,
        yield_errors: Literal[False] = ...,
    ) -> LivestreamWaitMany[Livestream]: ...

    @overload
    def wait_until_live_many(
        self,
        meeting_ids: Iterable[str],
        *,
        timeout: float | None = ...,
        poll_interval: float = ...,
        yield_errors: Literal[True],
    ) -> LivestreamWaitMany[Livestream | LivestreamErroredError | NotFoundError]: ...

    def wait_until_live_many(
        self,
        meeting_ids: Iterable[str],
        *,
        timeout: float | None = DEFAULT_WAIT_TIMEOUT,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        yield_errors: bool = False,
    ) -> (
        LivestreamWaitMany[Livestream]
        | LivestreamWaitMany[Livestream | LivestreamErroredError | NotFoundError]
    ):
        """Yield each meeting's livestream as it goes LIVE, in the order they do.

        `async for ls in dyte.livestreams.wait_until_live_many(ids, timeout=120): ...`.
        The cost does not grow with the number of meetings: beyond a handful, one poll of
        `GET /livestreams?status=LIVE` (pages of 100, newest first) serves them all, plus one
        page of `status=ERRORED` to notice failures; with few meetings, each is polled on
        its own when that is cheaper. Duplicate ids count once. The timeout counts from
        this call.

        Meetings that go ERRORED do not stop the others. With `yield_errors=False`
        (default) they are raised at the end, when every other meeting is LIVE, as one
        `LivestreamErroredError` (naming them all when several). With `yield_errors=True`
        each is yielded, as it is seen, as a `LivestreamErroredError` value (not raised).

        Meetings that do not exist are reported the same way, as `NotFoundError`. A meeting
        never seen with a livestream is checked once with `GET /meetings/{id}`: polled on
        its own, at its first 404; served by the list, once at most 100 meetings are left
        to check, or after 30 s (100 a round at most, 10 at a time), so meetings that go
        LIVE meanwhile need no check. At the end a `NotFoundError` naming them is raised,
        with the `LivestreamErroredError` of errored meetings, if any, as its `__cause__`;
        with `yield_errors=True` each is yielded as a `NotFoundError` value.

        Args:
            meeting_ids: the meetings.
            timeout: seconds to wait in all (None: no limit). Default 300.
            poll_interval: seconds between polls (before backoff). Default 2.
            yield_errors: yield errored and unknown meetings' errors instead of raising
                them at the end.

        Raises:
            WaitTimeoutError: (from iteration) the deadline passed; `.pending` holds the
                meeting ids not LIVE yet (an ERRORED or unknown one, if any, is the
                `__cause__`).
            NotFoundError: (from iteration, at the end) some meetings do not exist.
            LivestreamErroredError: (from iteration, at the end) as described above.
        """
        ids = [meeting_ids] if isinstance(meeting_ids, str) else list(meeting_ids)
        for meeting_id in ids:
            segment(meeting_id, "meeting_id")
        return LivestreamWaitMany(
            self._poller,
            ids,
            timeout=timeout,
            poll_interval=poll_interval,
            yield_errors=yield_errors,
        )

    def notify(self, event: WebhookEvent) -> None:
        """Wake the waits a webhook event concerns, so they poll now, not at their next turn.

        Pass each verified event (`await dyte.webhooks.verify_and_parse(...)`); only
        `livestreaming.statusUpdate` events act, others are ignored. The waits then read
        the status with one request: the event is a hint, never taken as the status itself
        (it may be late, or a replay).
        """
        from dyte_async.webhooks import LivestreamStatusUpdate

        if not isinstance(event, LivestreamStatusUpdate):
            return
        if self._wakeups is None:
            self._poller.wake(meeting_id=event.meeting_id, livestream_id=event.stream_id)
        else:  # every process of the fleet, this one included, once shared reads are stale
            self._wakeups.publish(event.meeting_id, event.stream_id)
