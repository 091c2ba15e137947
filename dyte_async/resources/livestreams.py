"""`dyte.livestreams`: start, stop, read and list livestreams and their sessions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, overload

import attrs

from dyte_async._checks import check_livestream_name
from dyte_async._convert import (
    details_from,
    list_items,
    livestream_details_items,
    session_items,
    structure,
)
from dyte_async._pagination import AsyncPaginator
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
from dyte_async._response import Envelope
from dyte_async._writes import Settle
from dyte_async.errors import (
    InvalidArgumentError,
    LivestreamErroredError,
    NotFoundError,
    ResponseDecodeError,
)
from dyte_async.models import (
    Livestream,
    LivestreamAnalytics,
    LivestreamDayAnalytics,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
)
from dyte_async.resources._base import Resource, segment, without_none

if TYPE_CHECKING:
    from dyte_async.webhooks import WebhookEvent

__all__ = ["Livestreams"]

_SORT_ORDERS = {"ASC": "ASC", "DSC": "DSC", "DESC": "DSC"}

# A stop's retry that finds nothing live: the lost first attempt stopped it.
_STOPPED = Settle(statuses=frozenset({404}), meaning="the livestream was already stopped")

TimeArg = datetime | str | int | float | None


def _livestreams(data: Any) -> list[Livestream]:
    return [structure(item, Livestream) for item in list_items(data, "livestreams")]


def _sessions(data: Any) -> list[LivestreamSession]:
    return [structure(item, LivestreamSession) for item in session_items(data)]


class Livestreams(Resource):
    """Livestream endpoints (`dyte.livestreams`). Every method takes a per-call `timeout=`.

    The waits (`wait_until_live`, `wait_for_status`, `watch`, `wait_until_live_many`) share
    one poller per client: concurrent waits on a meeting share its polls, and waits on many
    meetings share one poll of the organization's list (see `dyte_async._poller`).
    """

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(pipeline)
        self._poller = Poller(pipeline)

    # -- a meeting's livestream ------------------------------------------------------------

    async def start(
        self,
        meeting_id: str,
        *,
        name: str | None = None,
        video_config: Mapping[str, int] | None = None,
        timeout: float | None = None,
    ) -> Livestream:
        """Start livestreaming a meeting (`POST /meetings/{meeting_id}/livestreams`).

        Never starts two: after an ambiguous failure (read timeout, dropped connection,
        500/502/504) the client asks `get_active(meeting_id)` and returns the livestream it
        finds; only when there is none does it send the POST again. If that POST then
        answers 409 (already active), the first one took effect after all: the active
        livestream is read and returned (logged at INFO).

        Args:
            meeting_id: the meeting.
            name: optional name (letters, digits, `-`, `_`).
            video_config: optional `{"height": ..., "width": ...}` in pixels.
            timeout: seconds for the whole call.

        Returns:
            The new `Livestream` (status INVOKED or OFFLINE until it goes LIVE).

        Raises:
            InvalidArgumentError: a bad `name` or `meeting_id` (nothing sent).
            ConflictError, NotFoundError, ...: the server's refusal.
        """
        path = f"/meetings/{segment(meeting_id, 'meeting_id')}/livestreams"
        check_livestream_name(name)
        body = without_none({"name": name, "video_config": dict(video_config or {}) or None})
        active_path = f"/meetings/{segment(meeting_id, 'meeting_id')}/active-livestream"

        async def active(deadline: float) -> Envelope:
            return await self._pipeline.send("GET", active_path, deadline=deadline)

        async def recover(deadline: float) -> Envelope | None:
            try:
                return await active(deadline)
            except NotFoundError:
                return None

        settle = Settle(statuses=frozenset({409}), meaning="a livestream is active", resolve=active)
        envelope = await self._pipeline.send(
            "POST",
            path,
            json=body,
            timeout=timeout,
            idempotent=False,
            recover=recover,
            settle=settle,
        )
        return _with_meeting(structure(envelope.data, Livestream), meeting_id)

    async def get_active(self, meeting_id: str, *, timeout: float | None = None) -> Livestream:
        """The meeting's active livestream (`GET /meetings/{meeting_id}/active-livestream`).

        Raises:
            NotFoundError: the meeting has no active livestream.
        """
        path = f"/meetings/{segment(meeting_id, 'meeting_id')}/active-livestream"
        envelope = await self._pipeline.send("GET", path, timeout=timeout)
        return _with_meeting(structure(envelope.data, Livestream), meeting_id)

    async def stop(self, meeting_id: str, *, timeout: float | None = None) -> str:
        """Stop livestreaming a meeting (`POST /meetings/{meeting_id}/active-livestream/stop`).

        A stop retried after an attempt that may have taken effect (read timeout, dropped
        connection, 5xx) that then answers 404 did stop the livestream: it returns `""`
        (logged at INFO). A 404 to the first attempt is still `NotFoundError`.

        Returns:
            The server's message, e.g. "Stopped live stream successfully"; `""` when the
            answer has none (`{"data": {}}`: the spec does not require one).

        Raises:
            NotFoundError: nothing was live.
        """
        path = f"/meetings/{segment(meeting_id, 'meeting_id')}/active-livestream/stop"
        envelope = await self._pipeline.send("POST", path, timeout=timeout, settle=_STOPPED)
        data = envelope.data
        if isinstance(data, Mapping) and isinstance(data.get("message"), str):
            return str(data["message"])
        if isinstance(data, str):
            return data
        return ""

    def list_for_meeting(
        self, meeting_id: str, *, per_page: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[LivestreamDetails]:
        """A meeting's livestreams with their sessions (`GET /meetings/{meeting_id}/livestream`)."""
        path = f"/meetings/{segment(meeting_id, 'meeting_id')}/livestream"
        return self._paginate(path, livestream_details_items, per_page=per_page, timeout=timeout)

    # -- the organization's livestreams ---------------------------------------------------

    def list(
        self,
        *,
        status: LivestreamStatus | str | None = None,
        exclude_meetings: bool | None = None,
        start_time: TimeArg = None,
        end_time: TimeArg = None,
        sort_order: Literal["ASC", "DESC", "DSC"] | None = None,
        per_page: int | None = None,
        timeout: float | None = None,
    ) -> AsyncPaginator[Livestream]:
        """All livestreams of the organization (`GET /livestreams`), lazily paged.

        Args:
            status: only livestreams in this status.
            exclude_meetings: leave out livestreams of meetings.
            start_time, end_time: a time range. Datetimes are sent as ISO 8601 with their
                offset; a naive datetime is taken as UTC (not local time) and sent with
                ``+00:00``.
            sort_order: "ASC" or "DESC" (sent as the spec's "DSC").
            per_page: page size.
        """
        order = None
        if sort_order is not None:
            order = _SORT_ORDERS.get(str(sort_order).upper())
            if order is None:
                raise InvalidArgumentError(f"sort_order must be ASC or DESC, got {sort_order!r}")
        params = {
            "status": str(status) if status is not None else None,
            "exclude_meetings": exclude_meetings,
            "start_time": start_time,
            "end_time": end_time,
            "sort_order": order,
        }
        return self._paginate(
            "/livestreams", _livestreams, params=params, per_page=per_page, timeout=timeout
        )

    async def create(self, *, name: str | None = None, timeout: float | None = None) -> Livestream:
        """Create an independent livestream, e.g. for OBS (`POST /livestreams`).

        Sent once: retried only when the request cannot have reached the server.
        """
        check_livestream_name(name)
        envelope = await self._pipeline.send(
            "POST",
            "/livestreams",
            json=without_none({"name": name}),
            timeout=timeout,
            idempotent=False,
        )
        return structure(envelope.data, Livestream)

    async def get(self, livestream_id: str, *, timeout: float | None = None) -> LivestreamDetails:
        """A livestream with its sessions (`GET /livestreams/{livestream_id}`)."""
        path = f"/livestreams/{segment(livestream_id, 'livestream_id')}"
        envelope = await self._pipeline.send("GET", path, timeout=timeout)
        return details_from(envelope.data)

    async def get_active_session(
        self, livestream_id: str, *, timeout: float | None = None
    ) -> LivestreamDetails:
        """A livestream with its active session.

        `GET /livestreams/{livestream_id}/active-livestream-session`.
        """
        path = f"/livestreams/{segment(livestream_id, 'livestream_id')}/active-livestream-session"
        envelope = await self._pipeline.send("GET", path, timeout=timeout)
        return details_from(envelope.data)

    async def get_session(
        self, livestream_session_id: str, *, timeout: float | None = None
    ) -> LivestreamSession:
        """One livestream session (`GET /livestreams/sessions/{livestream_session_id}`)."""
        path = f"/livestreams/sessions/{segment(livestream_session_id, 'livestream_session_id')}"
        envelope = await self._pipeline.send("GET", path, timeout=timeout)
        items = session_items(envelope.data)
        if len(items) != 1:
            raise ResponseDecodeError(f"expected one livestream session, got {len(items)}")
        return structure(items[0], LivestreamSession)

    def list_for_session(
        self, session_id: str, *, per_page: int | None = None, timeout: float | None = None
    ) -> AsyncPaginator[LivestreamSession]:
        """Livestream sessions of a meeting session (`GET /sessions/{id}/livestream-sessions`)."""
        path = f"/sessions/{segment(session_id, 'session_id')}/livestream-sessions"
        return self._paginate(path, _sessions, per_page=per_page, timeout=timeout)

    # -- Dyte only: key and switch ---------------------------------------------------------

    async def reset_stream_key(
        self, livestream_id: str, *, timeout: float | None = None
    ) -> Livestream:
        """Give a livestream a new stream key (Dyte only).

        `POST /livestreams/{livestream_id}/reset-stream-key`.
        """
        return await self._livestream_call("POST", livestream_id, "reset-stream-key", timeout)

    async def enable(self, livestream_id: str, *, timeout: float | None = None) -> Livestream:
        """Enable a livestream (`PUT /livestreams/{id}/enable`; Dyte only)."""
        return await self._livestream_call("PUT", livestream_id, "enable", timeout)

    async def disable(self, livestream_id: str, *, timeout: float | None = None) -> Livestream:
        """Disable a livestream (`PUT /livestreams/{id}/disable`; Dyte only)."""
        return await self._livestream_call("PUT", livestream_id, "disable", timeout)

    async def _livestream_call(
        self, method: str, livestream_id: str, action: str, timeout: float | None
    ) -> Livestream:
        path = f"/livestreams/{segment(livestream_id, 'livestream_id')}/{action}"
        envelope = await self._pipeline.send(method, path, timeout=timeout)
        return structure(envelope.data, Livestream)

    # -- waiting on status -------------------------------------------------------------------

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

        if isinstance(event, LivestreamStatusUpdate):
            self._poller.wake(meeting_id=event.meeting_id, livestream_id=event.stream_id)

    # -- analytics --------------------------------------------------------------------------

    async def analytics_overall(
        self,
        *,
        start_time: TimeArg = None,
        end_time: TimeArg = None,
        timeout: float | None = None,
    ) -> LivestreamAnalytics:
        """Totals over livestreams (`GET /analytics/livestreams/overall`).

        Args:
            start_time, end_time: Dyte takes ISO 8601 (pass datetimes); RealtimeKit takes
                Unix seconds (pass ints). Datetimes are sent with their offset; a naive
                datetime is taken as UTC (not local time) and sent with ``+00:00``.
        """
        envelope = await self._pipeline.send(
            "GET",
            "/analytics/livestreams/overall",
            params={"start_time": start_time, "end_time": end_time},
            timeout=timeout,
        )
        data = envelope.data
        if isinstance(data, list):  # the spec's example wraps the object in a list
            if len(data) != 1:
                raise ResponseDecodeError(f"expected one analytics object, got {len(data)}")
            data = data[0]
        return structure(data, LivestreamAnalytics)

    async def analytics_daywise(
        self,
        *,
        start_time: TimeArg = None,
        end_time: TimeArg = None,
        timeout: float | None = None,
    ) -> tuple[LivestreamDayAnalytics, ...]:
        """Totals per day (`GET /analytics/livestreams/daywise`).

        Args:
            start_time, end_time: as for `analytics_overall`: ISO 8601 datetimes (a naive
                one is taken as UTC and sent with ``+00:00``) or Unix seconds.
        """
        envelope = await self._pipeline.send(
            "GET",
            "/analytics/livestreams/daywise",
            params={"start_time": start_time, "end_time": end_time},
            timeout=timeout,
        )
        return tuple(
            structure(item, LivestreamDayAnalytics) for item in list_items(envelope.data, "days")
        )


def _with_meeting(livestream: Livestream, meeting_id: str) -> Livestream:
    """The start answer omits `meeting_id`; we know it, so fill it in."""
    if livestream.meeting_id is None:
        return attrs.evolve(livestream, meeting_id=meeting_id)
    return livestream
