"""`dyte.livestreams`: start, stop, read and list livestreams and their sessions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

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
from dyte_async.errors import ResponseDecodeError
from dyte_async.models import (
    Livestream,
    LivestreamAnalytics,
    LivestreamDayAnalytics,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
)
from dyte_async.resources._base import segment, without_none
from dyte_async.resources._livestream_rules import (
    STOPPED,
    TimeArg,
    start_recovery,
    stop_message,
)
from dyte_async.resources._livestream_rules import (
    sort_order as spec_sort_order,
)
from dyte_async.resources._livestream_waits import LivestreamWaits

__all__ = ["Livestreams", "TimeArg"]


def _livestreams(data: Any) -> list[Livestream]:
    return [structure(item, Livestream) for item in list_items(data, "livestreams")]


def _sessions(data: Any) -> list[LivestreamSession]:
    return [structure(item, LivestreamSession) for item in session_items(data)]


class Livestreams(LivestreamWaits):
    """Livestream endpoints (`dyte.livestreams`). Every method takes a per-call `timeout=`.

    The waits (`wait_until_live`, `wait_for_status`, `watch`, `wait_until_live_many`) share
    one poller per client: concurrent waits on a meeting share its polls, and waits on many
    meetings share one poll of the organization's list (see `dyte_async._poller`).
    """

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
        recover, settle = start_recovery(self._pipeline, meeting_id)
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
        envelope = await self._pipeline.send("POST", path, timeout=timeout, settle=STOPPED)
        return stop_message(envelope.data)

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
        order = spec_sort_order(sort_order)
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
        data = await self._analytics("overall", start_time, end_time, timeout)
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
        data = await self._analytics("daywise", start_time, end_time, timeout)
        return tuple(structure(item, LivestreamDayAnalytics) for item in list_items(data, "days"))

    async def _analytics(
        self, kind: str, start_time: TimeArg, end_time: TimeArg, timeout: float | None
    ) -> Any:
        envelope = await self._pipeline.send(
            "GET",
            f"/analytics/livestreams/{kind}",
            params={"start_time": start_time, "end_time": end_time},
            timeout=timeout,
        )
        return envelope.data


def _with_meeting(livestream: Livestream, meeting_id: str) -> Livestream:
    """The start answer omits `meeting_id`; we know it, so fill it in."""
    if livestream.meeting_id is None:
        return attrs.evolve(livestream, meeting_id=meeting_id)
    return livestream
