"""Handlers of the livestream endpoints (ENDPOINTS.md 4.1-4.13).

Where the spec's schema and its example disagree, answers take the example's shape.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timezone
from typing import Any

from dyte_async.testing._context import Ctx, find_livestream, find_meeting, ok, paged
from dyte_async.testing._params import (
    bad_request,
    check_keys,
    get_str,
    object_body,
    paginate,
    query_bool,
    query_choice,
    query_time,
)
from dyte_async.testing._render import livestream_json, session_json, session_seconds
from dyte_async.testing._state import LivestreamSession
from dyte_async.testing._wire import ApiError, WireResponse

__all__ = [
    "analytics_daywise",
    "analytics_overall",
    "create_independent",
    "disable",
    "enable",
    "get_active_for_meeting",
    "get_active_session",
    "get_livestream",
    "get_session",
    "list_all",
    "list_for_meeting",
    "list_for_meeting_session",
    "reset_stream_key",
    "start_for_meeting",
    "stop_for_meeting",
]

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9-_]*$")
STATUS_FILTER = ("LIVE", "IDLE", "ERRORED", "INVOKED", "OFFLINE")
SORT_ORDERS = ("ASC", "DSC", "DESC")


def _video_config(body: dict[str, Any]) -> dict[str, Any] | None:
    value = body.get("video_config")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request('"video_config" must be of type object')
    for key, item in value.items():
        if key not in ("height", "width"):
            raise bad_request(f'"video_config.{key}" is not allowed')
        if isinstance(item, bool) or not isinstance(item, int):
            raise bad_request(f'"video_config.{key}" must be an integer')
    return dict(value)


def _no_active(meeting_id: str) -> ApiError:
    return ApiError(404, f"No active livestream found for meeting_id {meeting_id}")


def start_for_meeting(ctx: Ctx) -> WireResponse:
    """`POST /meetings/{meeting_id}/livestreams`: 201 livestream; 409 if one is running."""
    meeting = find_meeting(ctx)
    body = object_body(ctx.body)
    check_keys(body, ("name", "video_config"))
    name = get_str(body, "name", pattern=NAME_PATTERN)
    video_config = _video_config(body)
    if ctx.state.active_livestream(meeting) is not None:
        raise ApiError(409, f"Livestream is already active for meeting_id {meeting.id}")
    livestream = ctx.state.start_livestream(meeting, name=name, video_config=video_config)
    return ok(livestream_json(ctx.state, livestream), status=201)


def get_active_for_meeting(ctx: Ctx) -> WireResponse:
    """`GET /meetings/{meeting_id}/active-livestream`: one livestream object; 404 when none."""
    meeting = find_meeting(ctx)
    livestream = ctx.state.active_livestream(meeting)
    if livestream is None:
        raise _no_active(meeting.id)
    return ok(livestream_json(ctx.state, livestream))


def stop_for_meeting(ctx: Ctx) -> WireResponse:
    """`POST /meetings/{meeting_id}/active-livestream/stop`; 404 when nothing runs."""
    meeting = find_meeting(ctx)
    livestream = ctx.state.active_livestream(meeting)
    if livestream is None:
        raise _no_active(meeting.id)
    ctx.state.stop_livestream(livestream)
    return ok({"message": "Stopped live stream successfully"})


def list_for_meeting(ctx: Ctx) -> WireResponse:
    """`GET /meetings/{meeting_id}/livestream`: the latest livestream and every session, paged.

    Shape of the spec's example: `data.livestream` (object, null when the meeting never
    streamed), `data.sessions` (array, newest first) and a top-level `paging` over sessions.
    """
    meeting = find_meeting(ctx)
    livestreams = [ctx.state.livestreams[i] for i in reversed(meeting.livestream_ids)]
    sessions = [s for ls in livestreams for s in reversed(ls.sessions)]
    page, paging = paginate(sessions, *ctx.page())
    latest = livestream_json(ctx.state, livestreams[0]) if livestreams else None
    data = {"livestream": latest, "sessions": [session_json(ctx.state, s) for s in page]}
    return paged(data, paging)


def list_all(ctx: Ctx) -> WireResponse:
    """`GET /livestreams`: PagingResponse of livestreams, with the spec's filters.

    Newest first unless `sort_order=ASC` (`DSC`, the spec's spelling, and `DESC` both mean
    newest first); `status` also accepts OFFLINE; times are ISO 8601 or Unix seconds.
    """
    state = ctx.state
    status = query_choice(ctx.query, "status", STATUS_FILTER)
    exclude_meetings = query_bool(ctx.query, "exclude_meetings")
    start = query_time(ctx.query, "start_time")
    end = query_time(ctx.query, "end_time")
    order = query_choice(ctx.query, "sort_order", SORT_ORDERS) or "DSC"
    selected = []
    for livestream in state.livestreams.values():
        created = state.wall_ms(livestream.created_at)
        if exclude_meetings and livestream.meeting_id is not None:
            continue
        if (start is not None and created < start) or (end is not None and created > end):
            continue
        if status is not None and state.status(livestream) != status:
            continue
        selected.append(livestream)
    ordered = list(selected) if order == "ASC" else list(reversed(selected))
    page, paging = paginate(ordered, *ctx.page())
    return paged([livestream_json(state, ls) for ls in page], paging)


def create_independent(ctx: Ctx) -> WireResponse:
    """`POST /livestreams`: an independent livestream (`meeting_id` null), 201."""
    body = object_body(ctx.body)
    check_keys(body, ("name",))
    name = get_str(body, "name", pattern=NAME_PATTERN)
    livestream = ctx.state.start_livestream(None, name=name)
    return ok(livestream_json(ctx.state, livestream), status=201)


def get_livestream(ctx: Ctx) -> WireResponse:
    """`GET /livestreams/{livestream_id}`: `data.livestream` + `data.sessions`, top-level paging."""
    livestream = find_livestream(ctx)
    page, paging = paginate(list(reversed(livestream.sessions)), *ctx.page())
    data = {
        "livestream": livestream_json(ctx.state, livestream),
        "sessions": [session_json(ctx.state, s) for s in page],
    }
    return paged(data, paging)


def get_active_session(ctx: Ctx) -> WireResponse:
    """`GET /livestreams/{livestream_id}/active-livestream-session`: 404 unless running."""
    livestream = find_livestream(ctx)
    if not livestream.active:
        raise ApiError(404, f"No active livestream session found for livestream_id {livestream.id}")
    return ok(
        {
            "livestream": livestream_json(ctx.state, livestream),
            "session": session_json(ctx.state, livestream.current),
        }
    )


def get_session(ctx: Ctx) -> WireResponse:
    """`GET /livestreams/sessions/{livestream-session-id}`: one session object."""
    session_id = ctx.params["livestream-session-id"]
    session = ctx.state.livestream_sessions.get(session_id)
    if session is None:
        raise ApiError(404, f"No livestream session found with id {session_id}")
    return ok(session_json(ctx.state, session))


def list_for_meeting_session(ctx: Ctx) -> WireResponse:
    """`GET /sessions/{session_id}/livestream-sessions`: `data.data` + `data.paging` (nested)."""
    session_id = ctx.params["session_id"]
    if session_id not in ctx.state.meeting_sessions:
        raise ApiError(404, f"No session found for session_id {session_id}")
    sessions = [
        s
        for s in reversed(list(ctx.state.livestream_sessions.values()))
        if s.meeting_session_id == session_id
    ]
    page, paging = paginate(sessions, *ctx.page())
    return ok({"data": [session_json(ctx.state, s) for s in page], "paging": paging})


def reset_stream_key(ctx: Ctx) -> WireResponse:
    """`POST /livestreams/{livestream_id}/reset-stream-key`: a new stream key."""
    livestream = find_livestream(ctx)
    livestream.stream_key = "sk_fake_" + ctx.state.new_hex(20)
    livestream.updated_at = ctx.state.now()
    return ok(livestream_json(ctx.state, livestream))


def _set_disabled(ctx: Ctx, disabled: bool) -> WireResponse:
    livestream = find_livestream(ctx)
    livestream.disabled = disabled
    livestream.updated_at = ctx.state.now()
    return ok({**livestream_json(ctx.state, livestream), "org_id": ctx.state.org_id})


def enable(ctx: Ctx) -> WireResponse:
    """`PUT /livestreams/{livestream_id}/enable`: LivestreamBase with `disabled: false`."""
    return _set_disabled(ctx, False)


def disable(ctx: Ctx) -> WireResponse:
    """`PUT /livestreams/{livestream_id}/disable`: LivestreamBase with `disabled: true`."""
    return _set_disabled(ctx, True)


def _sessions_in_range(ctx: Ctx) -> list[LivestreamSession]:
    start = query_time(ctx.query, "start_time")
    end = query_time(ctx.query, "end_time")
    selected = []
    for session in ctx.state.livestream_sessions.values():
        invoked = ctx.state.wall_ms(session.invoked_at)
        if (start is None or invoked >= start) and (end is None or invoked <= end):
            selected.append(session)
    return selected


def _totals(ctx: Ctx, sessions: list[LivestreamSession]) -> dict[str, int]:
    ingest = viewer = 0.0
    for session in sessions:
        session_ingest, session_viewer = session_seconds(ctx.state, session)
        ingest += session_ingest
        viewer += session_viewer
    return {
        "count": len(sessions),
        "total_ingest_seconds": round(ingest),
        "total_viewer_seconds": round(viewer),
    }


def analytics_overall(ctx: Ctx) -> WireResponse:
    """`GET /analytics/livestreams/overall`: `{count, total_ingest_seconds, total_viewer_seconds}`
    over the sessions invoked between `start_time` and `end_time` (ISO or Unix seconds)."""
    return ok(_totals(ctx, _sessions_in_range(ctx)))


def analytics_daywise(ctx: Ctx) -> WireResponse:
    """`GET /analytics/livestreams/daywise`: one `{date, count, ...}` per UTC day, oldest first."""
    by_day: dict[str, list[LivestreamSession]] = defaultdict(list)
    for session in _sessions_in_range(ctx):
        day = datetime.fromtimestamp(ctx.state.wall_ms(session.invoked_at) // 1000, tz=timezone.utc)
        by_day[day.strftime("%Y-%m-%dT00:00:00.000Z")].append(session)
    data = [{"date": day, **_totals(ctx, by_day[day])} for day in sorted(by_day)]
    return ok(data)
