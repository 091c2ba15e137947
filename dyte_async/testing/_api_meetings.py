"""Handlers of the meeting, participant and active-session endpoints (ENDPOINTS.md 4.14-4.15)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from dyte_async.testing._context import Ctx, find_meeting, ok, paged
from dyte_async.testing._params import (
    bad_request,
    check_keys,
    get_bool,
    get_str,
    object_body,
    paginate,
    query_time,
    required_str,
    string_list,
)
from dyte_async.testing._render import (
    active_session_json,
    meeting_json,
    participant_json,
    session_participant_json,
)
from dyte_async.testing._state import FakeState, Meeting, MeetingSession, Participant
from dyte_async.testing._wire import ApiError, WireResponse

__all__ = [
    "MEETING_DEFAULTS",
    "active_session",
    "add_participant",
    "create_meeting",
    "delete_participant",
    "get_meeting",
    "get_participant",
    "kick",
    "kick_all",
    "list_meetings",
    "list_participants",
    "mute",
    "mute_all",
    "refresh_token",
    "replace_meeting",
    "update_meeting",
    "update_participant",
]

MEETING_DEFAULTS: dict[str, Any] = {
    "title": None,
    "preferred_region": None,
    "record_on_start": False,
    "live_stream_on_start": False,
    "persist_chat": False,
    "summarize_on_end": False,
    "status": "ACTIVE",
}
"""The fields every meeting shows, with their values when the create body omits them."""

REGIONS = ("ap-south-1", "ap-southeast-1", "us-east-1", "eu-central-1")
BOOLEAN_FIELDS = (
    "record_on_start",
    "live_stream_on_start",
    "persist_chat",
    "summarize_on_end",
    "transcribe_on_end",
)
OBJECT_FIELDS = ("recording_config", "ai_config")
CREATE_KEYS = (
    "title",
    "preferred_region",
    *BOOLEAN_FIELDS,
    *OBJECT_FIELDS,
    "session_keep_alive_time_in_secs",
)
UPDATE_KEYS = (*CREATE_KEYS, "status")


def _meeting_fields(body: dict[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """Validate a CreateMeetingBody / UpdateMeetingBody and return the fields it sets."""
    check_keys(body, allowed)
    fields: dict[str, Any] = {}
    if "title" in body:
        fields["title"] = get_str(body, "title")
    if "preferred_region" in body:
        region = body["preferred_region"]
        if region is not None and region not in REGIONS:
            raise bad_request(f'"preferred_region" must be one of [{", ".join(REGIONS)}, null]')
        fields["preferred_region"] = region
    for key in BOOLEAN_FIELDS:
        if key in body:
            value = get_bool(body, key)
            fields[key] = False if value is None else value
    for key in OBJECT_FIELDS:
        if key in body:
            value = body[key]
            if value is not None and not isinstance(value, dict):
                raise bad_request(f'"{key}" must be of type object')
            fields[key] = value
    if "session_keep_alive_time_in_secs" in body:
        keep_alive = body["session_keep_alive_time_in_secs"]
        if isinstance(keep_alive, bool) or not isinstance(keep_alive, (int, float)):
            raise bad_request('"session_keep_alive_time_in_secs" must be a number')
        if not 60 <= keep_alive <= 600:
            raise bad_request('"session_keep_alive_time_in_secs" must be between 60 and 600')
        fields["session_keep_alive_time_in_secs"] = keep_alive
    if "status" in body:
        status = body["status"]
        if status not in ("ACTIVE", "INACTIVE"):
            raise bad_request('"status" must be one of [ACTIVE, INACTIVE]')
        fields["status"] = status
    return fields


def create_meeting(ctx: Ctx) -> WireResponse:
    """`POST /meetings`: 201 meeting."""
    fields = _meeting_fields(object_body(ctx.body), CREATE_KEYS)
    meeting = ctx.state.add_meeting({**MEETING_DEFAULTS, **fields})
    return ok(meeting_json(ctx.state, meeting), status=201)


def list_meetings(ctx: Ctx) -> WireResponse:
    """`GET /meetings`: newest first; `search` matches id or title; time range on created_at."""
    state = ctx.state
    search = (ctx.query.get("search") or "").lower()
    start = query_time(ctx.query, "start_time")
    end = query_time(ctx.query, "end_time")
    selected = []
    for meeting in state.meetings.values():
        title = meeting.fields.get("title") or ""
        if search and search not in meeting.id.lower() and search not in str(title).lower():
            continue
        created = state.wall_ms(meeting.created_at)
        if (start is not None and created < start) or (end is not None and created > end):
            continue
        selected.append(meeting)
    selected.sort(key=lambda m: (m.created_at, m.seq), reverse=True)
    page, paging = paginate(selected, *ctx.page())
    return paged([meeting_json(state, m) for m in page], paging)


def get_meeting(ctx: Ctx) -> WireResponse:
    """`GET /meetings/{meeting_id}`."""
    return ok(meeting_json(ctx.state, find_meeting(ctx)))


def update_meeting(ctx: Ctx) -> WireResponse:
    """`PATCH /meetings/{meeting_id}`: changes only the fields sent."""
    meeting = find_meeting(ctx)
    fields = _meeting_fields(object_body(ctx.body), UPDATE_KEYS)
    meeting.fields.update(fields)
    meeting.updated_at = ctx.state.now()
    return ok(meeting_json(ctx.state, meeting))


def replace_meeting(ctx: Ctx) -> WireResponse:
    """`PUT /meetings/{meeting_id}`: every field from the body or its default (status kept)."""
    meeting = find_meeting(ctx)
    fields = _meeting_fields(object_body(ctx.body), CREATE_KEYS)
    meeting.fields = {
        **MEETING_DEFAULTS,
        "status": meeting.fields.get("status", "ACTIVE"),
        **fields,
    }
    meeting.updated_at = ctx.state.now()
    return ok(meeting_json(ctx.state, meeting))


# -- participants ------------------------------------------------------------------------


def _find_participant(ctx: Ctx, meeting: Meeting) -> Participant:
    participant_id = ctx.params["participant_id"]
    participant = meeting.participants.get(participant_id)
    if participant is None:
        raise ApiError(404, f"No participant found for participant_id {participant_id}")
    return participant


def _new_token(state: FakeState) -> str:
    return "fake-participant-token." + state.new_hex(24)


def add_participant(ctx: Ctx) -> WireResponse:
    """`POST /meetings/{meeting_id}/participants`: 201 participant with `token`.

    Joins the meeting's active session at once when the meeting is running.
    """
    meeting = find_meeting(ctx)
    body = object_body(ctx.body, required=True)
    check_keys(body, ("name", "picture", "preset_name", "custom_participant_id"))
    fields = {
        "preset_name": required_str(body, "preset_name"),
        "custom_participant_id": required_str(body, "custom_participant_id"),
        "name": get_str(body, "name"),
        "picture": get_str(body, "picture"),
    }
    state = ctx.state
    now = state.now()
    participant = Participant(
        id=state.new_id(),
        meeting_id=meeting.id,
        fields=fields,
        created_at=now,
        updated_at=now,
        token=_new_token(state),
    )
    meeting.participants[participant.id] = participant
    state.join(meeting, participant)
    return ok(participant_json(state, participant, with_token=True), status=201)


def list_participants(ctx: Ctx) -> WireResponse:
    """`GET /meetings/{meeting_id}/participants`: in the order they were added."""
    meeting = find_meeting(ctx)
    page, paging = paginate(list(meeting.participants.values()), *ctx.page())
    return paged([participant_json(ctx.state, p) for p in page], paging)


def get_participant(ctx: Ctx) -> WireResponse:
    """`GET /meetings/{meeting_id}/participants/{participant_id}`."""
    meeting = find_meeting(ctx)
    return ok(participant_json(ctx.state, _find_participant(ctx, meeting)))


def update_participant(ctx: Ctx) -> WireResponse:
    """`PATCH /meetings/{meeting_id}/participants/{participant_id}`: name, picture, preset_name."""
    meeting = find_meeting(ctx)
    participant = _find_participant(ctx, meeting)
    body = object_body(ctx.body)
    check_keys(body, ("name", "picture", "preset_name"))
    for key in ("name", "picture"):
        if key in body:
            participant.fields[key] = get_str(body, key)
    preset_name = get_str(body, "preset_name")
    if preset_name is not None:
        participant.fields["preset_name"] = preset_name
    participant.updated_at = ctx.state.now()
    return ok(participant_json(ctx.state, participant, with_token=True))


def delete_participant(ctx: Ctx) -> WireResponse:
    """`DELETE /meetings/{meeting_id}/participants/{participant_id}` (also leaves the session)."""
    meeting = find_meeting(ctx)
    participant = _find_participant(ctx, meeting)
    del meeting.participants[participant.id]
    session = meeting.active_session
    if session is not None:
        session.peers.pop(participant.id, None)
    preset_name = participant.fields["preset_name"]
    preset_id = next(
        (p.id for p in ctx.state.presets.values() if p.body.get("name") == preset_name),
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-dyte-preset:{preset_name}")),
    )
    return ok(
        {
            "custom_participant_id": participant.fields["custom_participant_id"],
            "preset_id": preset_id,
            "created_at": ctx.state.iso(participant.created_at),
            "updated_at": ctx.state.iso(ctx.state.now()),
        }
    )


def refresh_token(ctx: Ctx) -> WireResponse:
    """`POST /meetings/{meeting_id}/participants/{participant_id}/token`: `{token}`."""
    meeting = find_meeting(ctx)
    participant = _find_participant(ctx, meeting)
    participant.token = _new_token(ctx.state)
    return ok({"token": participant.token})


# -- active session ----------------------------------------------------------------------


def _running(ctx: Ctx) -> tuple[Meeting, MeetingSession]:
    meeting_id = ctx.params["meeting_id"]
    meeting = ctx.state.meetings.get(meeting_id)
    session = None if meeting is None else meeting.active_session
    if meeting is None or session is None:
        raise ApiError(404, f"No active session found for meeting_id {meeting_id}")
    return meeting, session


def active_session(ctx: Ctx) -> WireResponse:
    """`GET /meetings/{meeting_id}/active-session`: ActiveSession; 404 when not running."""
    meeting, session = _running(ctx)
    return ok(active_session_json(ctx.state, meeting, session))


def _targets(ctx: Ctx, meeting: Meeting, session: MeetingSession) -> list[Participant]:
    body = object_body(ctx.body)
    check_keys(body, ("participant_ids", "custom_participant_ids"))
    ids = string_list(body, "participant_ids")
    custom_ids = string_list(body, "custom_participant_ids")
    if not ids and not custom_ids:
        raise bad_request('"participant_ids" or "custom_participant_ids" is required')
    present = [meeting.participants[pid] for pid in session.peers if pid in meeting.participants]
    targets = [p for p in present if p.id in ids or p.fields["custom_participant_id"] in custom_ids]
    if not targets:
        raise ApiError(404, f"No user found with id {(ids or custom_ids)[0]}")
    return targets


def kick(ctx: Ctx) -> WireResponse:
    """`POST /meetings/{meeting_id}/active-session/kick`: removes the named participants."""
    meeting, session = _running(ctx)
    targets = _targets(ctx, meeting, session)
    for participant in targets:
        del session.peers[participant.id]
    session.updated_at = ctx.state.now()
    return ok(
        {
            "action": "kick",
            "participants": [session_participant_json(ctx.state, p) for p in targets],
        }
    )


def kick_all(ctx: Ctx) -> WireResponse:
    """`POST /meetings/{meeting_id}/active-session/kick-all`."""
    _, session = _running(ctx)
    count = len(session.peers)
    session.peers.clear()
    session.updated_at = ctx.state.now()
    return ok({"action": "kick_all", "kicked_participants_count": count})


def mute(ctx: Ctx) -> WireResponse:
    """`POST /meetings/{meeting_id}/active-session/mute`: flags the named participants muted."""
    meeting, session = _running(ctx)
    targets = _targets(ctx, meeting, session)
    for participant in targets:
        session.peers[participant.id].muted = True
    session.updated_at = ctx.state.now()
    return ok(
        {
            "action": "mute",
            "participants": [session_participant_json(ctx.state, p) for p in targets],
        }
    )


def mute_all(ctx: Ctx) -> WireResponse:
    """`POST /meetings/{meeting_id}/active-session/mute-all`; body `{allow_unmute?}`."""
    _, session = _running(ctx)
    body = object_body(ctx.body)
    check_keys(body, ("allow_unmute",))
    allow_unmute = get_bool(body, "allow_unmute")
    for peer in session.peers.values():
        peer.muted = True
        peer.allow_unmute = True if allow_unmute is None else allow_unmute
    session.updated_at = ctx.state.now()
    return ok({"action": "mute_all", "muted_participants_count": len(session.peers)})
