"""Records as the API shows them: the field names and JSON types of the spec's examples."""

from __future__ import annotations

from typing import Any

from dyte_async.testing._state import (
    FakeState,
    Livestream,
    LivestreamSession,
    Meeting,
    MeetingSession,
    Participant,
    Preset,
)

__all__ = [
    "INGEST_SERVER",
    "PLAYBACK_URL",
    "VIEWER_FACTOR",
    "active_session_json",
    "livestream_json",
    "meeting_json",
    "participant_json",
    "preset_json",
    "preset_list_item",
    "session_json",
    "session_participant_json",
    "session_seconds",
]

INGEST_SERVER = "rtmps://fake-ingest.dyte.invalid:443/app/"
PLAYBACK_URL = "https://fake-playback.dyte.invalid/{id}/index.m3u8"
VIEWER_FACTOR = 1.5
"""`viewer_seconds` is `ingest_seconds * VIEWER_FACTOR`."""


def livestream_json(state: FakeState, livestream: Livestream) -> dict[str, Any]:
    """Return a livestream object (LivestreamBase fields, status as of now)."""
    now = state.now()
    session = livestream.current
    updated = max(livestream.updated_at, session.last_change_at(state.timing, now))
    return {
        "id": livestream.id,
        "name": livestream.name,
        "meeting_id": livestream.meeting_id,
        "status": session.status_at(state.timing, now),
        "ingest_server": INGEST_SERVER,
        "stream_key": livestream.stream_key,
        "playback_url": PLAYBACK_URL.format(id=livestream.id),
        "created_at": state.iso(livestream.created_at),
        "updated_at": state.iso(updated),
        "disabled": livestream.disabled,
    }


def session_seconds(state: FakeState, session: LivestreamSession) -> tuple[int, float]:
    """Return `(ingest_seconds, viewer_seconds)`: seconds LIVE so far, and a fixed multiple."""
    ingest = round(session.live_seconds(state.timing, state.now()))
    return ingest, ingest * VIEWER_FACTOR


def session_json(state: FakeState, session: LivestreamSession) -> dict[str, Any]:
    """Return a livestream session object (ENDPOINTS.md 3.3)."""
    now = state.now()
    first_live = session.first_live_at(state.timing, now)
    ingest, viewer = session_seconds(state, session)
    return {
        "id": session.id,
        "livestream_id": session.livestream_id,
        "err_message": session.err_message,
        "invoked_time": state.iso(session.invoked_at),
        "started_time": None if first_live is None else state.iso(first_live),
        "stopped_time": None if session.stopped_at is None else state.iso(session.stopped_at),
        "created_at": state.iso(session.invoked_at),
        "updated_at": state.iso(session.last_change_at(state.timing, now)),
        "ingest_seconds": ingest,
        "viewer_seconds": viewer,
    }


def meeting_json(state: FakeState, meeting: Meeting) -> dict[str, Any]:
    """Return a meeting object (Meeting + recording_config/ai_config when set)."""
    return {
        "id": meeting.id,
        **meeting.fields,
        "created_at": state.iso(meeting.created_at),
        "updated_at": state.iso(meeting.updated_at),
    }


def participant_json(
    state: FakeState, participant: Participant, *, with_token: bool = False
) -> dict[str, Any]:
    """Return a participant object, with its `token` when `with_token`."""
    body: dict[str, Any] = {
        "id": participant.id,
        "name": participant.fields.get("name"),
        "picture": participant.fields.get("picture"),
        "custom_participant_id": participant.fields["custom_participant_id"],
        "preset_name": participant.fields["preset_name"],
        "created_at": state.iso(participant.created_at),
        "updated_at": state.iso(participant.updated_at),
    }
    if with_token:
        body["token"] = participant.token
    return body


def session_participant_json(state: FakeState, participant: Participant) -> dict[str, Any]:
    """Return a SessionParticipant object (kick/mute answers)."""
    return {
        "id": participant.id,
        "name": participant.fields.get("name"),
        "picture": participant.fields.get("picture"),
        "custom_participant_id": participant.fields["custom_participant_id"],
        "created_at": state.iso(participant.created_at),
        "updated_at": state.iso(participant.updated_at),
    }


def active_session_json(
    state: FakeState, meeting: Meeting, session: MeetingSession
) -> dict[str, Any]:
    """Return an ActiveSession object."""
    now = state.now()
    end = now if session.ended_at is None else session.ended_at
    return {
        "id": session.id,
        "associated_id": meeting.id,
        "meeting_display_name": meeting.fields.get("title") or "",
        "type": "meeting",
        "status": "LIVE" if session.ended_at is None else "ENDED",
        "live_participants": len(session.peers),
        "max_concurrent_participants": session.max_concurrent,
        "minutes_consumed": round((end - session.started_at) / 60.0, 4),
        "organization_id": state.org_id,
        "started_at": state.iso(session.started_at),
        "ended_at": None if session.ended_at is None else state.iso(session.ended_at),
        "created_at": state.iso(session.started_at),
        "updated_at": state.iso(session.updated_at),
        "breakout_rooms": [],
    }


def preset_json(state: FakeState, preset: Preset) -> dict[str, Any]:
    """Return a preset: its stored body (unknown keys included) plus id and timestamps."""
    return {
        **preset.body,
        "id": preset.id,
        "created_at": state.iso(preset.created_at),
        "updated_at": state.iso(preset.updated_at),
    }


def preset_list_item(state: FakeState, preset: Preset) -> dict[str, Any]:
    """Return a PresetListItem (what `GET /presets` lists)."""
    return {
        "id": preset.id,
        "name": preset.body.get("name"),
        "created_at": state.iso(preset.created_at),
        "updated_at": state.iso(preset.updated_at),
    }
