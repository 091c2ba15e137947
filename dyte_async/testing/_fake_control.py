"""The fake's state controls: statuses, meetings, sessions and participants set directly."""

from __future__ import annotations

from typing import Any

from dyte_async.testing._api_meetings import MEETING_DEFAULTS
from dyte_async.testing._render import livestream_json, meeting_json
from dyte_async.testing._state import FakeState, Livestream, Meeting
from dyte_async.testing._webhooks import WebhookSender

__all__ = ["StateControls"]


class StateControls:
    """The part of `FakeDyte` that changes its records directly (a mixin: they live on the fake)."""

    _state: FakeState
    _webhooks: WebhookSender

    def _meeting(self, meeting_id: str) -> Meeting:
        meeting = self._state.meetings.get(meeting_id)
        if meeting is None:
            raise KeyError(f"no meeting with id {meeting_id!r}")
        return meeting

    def _livestream_for(self, meeting_or_livestream_id: str) -> Livestream:
        livestream = self._state.livestreams.get(meeting_or_livestream_id)
        if livestream is not None:
            return livestream
        meeting = self._meeting(meeting_or_livestream_id)
        active = self._state.active_livestream(meeting)
        if active is None:
            raise ValueError(f"meeting {meeting.id} has no active livestream")
        return active

    def set_status(
        self, meeting_id_or_livestream_id: str, status: str, *, err_message: str | None = None
    ) -> None:
        """Force a livestream's status from now on (sticky: the timers no longer apply).

        `"IDLE"` stops it (as the stop endpoint does); `"ERRORED"` also sets the session's
        `err_message`. Any other string is accepted as is, to mimic statuses the API may add.

        Args:
            meeting_id_or_livestream_id: a livestream id, or a meeting id (its active livestream).
            status: the new status.
            err_message: the session's `err_message` (default for ERRORED: a fixed text).

        Raises:
            KeyError: for an unknown id.
            ValueError: when the meeting has no active livestream, or the livestream is
                stopped and `status` is not IDLE.
        """
        if not status:
            raise ValueError("status must be a non-empty string")
        livestream = self._livestream_for(meeting_id_or_livestream_id)
        self._state.set_status(livestream, status, err_message)
        self._webhooks.kick()

    def add_meeting(self, **fields: Any) -> dict[str, Any]:
        """Store a meeting directly, without validation (`id=` may be given).

        Args:
            **fields: meeting fields; missing ones take the API's defaults.

        Returns:
            The meeting as the API would answer it.
        """
        meeting_id = fields.pop("id", None)
        for key in ("created_at", "updated_at"):
            fields.pop(key, None)
        meeting = self._state.add_meeting(
            {**MEETING_DEFAULTS, **fields},
            meeting_id=None if meeting_id is None else str(meeting_id),
        )
        return meeting_json(self._state, meeting)

    def start_meeting(self, meeting_id: str) -> None:
        """Begin a session of the meeting (the running one is kept if there is one).

        Every participant of the meeting joins it (participants added later join when they
        are added); with `live_stream_on_start`, a livestream starts unless one is running.

        Raises:
            KeyError: for an unknown meeting.
        """
        meeting = self._meeting(meeting_id)
        state = self._state
        state.start_meeting_session(meeting)
        for participant in meeting.participants.values():
            state.join(meeting, participant)
        if meeting.fields.get("live_stream_on_start") and state.active_livestream(meeting) is None:
            state.start_livestream(meeting, name=None)
            self._webhooks.kick()

    def end_meeting(self, meeting_id: str) -> None:
        """End the meeting's session: its livestream stops and every participant leaves.

        Raises:
            KeyError: for an unknown meeting.
        """
        meeting = self._meeting(meeting_id)
        active = self._state.active_livestream(meeting)
        if active is not None:
            self._state.stop_livestream(active)
            self._webhooks.kick()
        self._state.end_meeting_session(meeting)

    def join(self, meeting_id: str, participant_id: str) -> None:
        """Put a participant of the meeting into its running session.

        Raises:
            KeyError: for an unknown meeting or participant.
            ValueError: when the meeting has no running session (see `start_meeting`).
        """
        meeting = self._meeting(meeting_id)
        participant = meeting.participants.get(participant_id)
        if participant is None:
            raise KeyError(f"no participant {participant_id!r} in meeting {meeting_id!r}")
        if meeting.active_session is None:
            raise ValueError(f"meeting {meeting_id} has no active session; call start_meeting")
        self._state.join(meeting, participant)

    def active_livestream(self, meeting_id: str) -> dict[str, Any] | None:
        """Return the meeting's running livestream as the API shows it, or None.

        Raises:
            KeyError: for an unknown meeting.
        """
        active = self._state.active_livestream(self._meeting(meeting_id))
        return None if active is None else livestream_json(self._state, active)

    def active_session(self, meeting_id: str) -> dict[str, Any] | None:
        """Return the meeting's running session, or None.

        Returns:
            `{"id", "participants": [{"id", "custom_participant_id", "muted", "allow_unmute"}]}`.

        Raises:
            KeyError: for an unknown meeting.
        """
        meeting = self._meeting(meeting_id)
        session = meeting.active_session
        if session is None:
            return None
        return {
            "id": session.id,
            "participants": [
                {
                    "id": peer.participant_id,
                    "custom_participant_id": meeting.participants[peer.participant_id].fields[
                        "custom_participant_id"
                    ],
                    "muted": peer.muted,
                    "allow_unmute": peer.allow_unmute,
                }
                for peer in session.peers.values()
                if peer.participant_id in meeting.participants
            ],
        }
