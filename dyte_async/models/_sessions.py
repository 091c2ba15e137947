"""A meeting's active session and what a kick or mute did: attrs classes, frozen, with slots.

Built by `dyte_async._convert` (which reads the spec's `'null'` timestamps as None); no I/O.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from dyte_async.models._base import INFORMATIONAL, _OpenStrEnum
from dyte_async.models._serialize import Serializable

__all__ = ["ActiveSession", "ActiveSessionStatus", "ModerationResult", "SessionParticipant"]


class ActiveSessionStatus(_OpenStrEnum):
    """Status of a meeting's session."""

    LIVE = "LIVE"
    ENDED = "ENDED"


@attrs.frozen(kw_only=True)
class ActiveSession(Serializable):
    """The running session of a meeting (`GET /meetings/{meeting_id}/active-session`).

    Attributes:
        id: the session id.
        associated_id: the meeting id.
        meeting_display_name: the meeting's title.
        type: `meeting`, `livestream` or `participant`.
        status: `ActiveSessionStatus` (LIVE or ENDED; unknown values kept).
        live_participants: participants in the session now.
        max_concurrent_participants: the most there were at once.
        minutes_consumed: participant minutes so far.
        organization_id: the organization's id.
        started_at, ended_at, created_at, updated_at: aware datetimes (None when not sent;
            the spec's example sends `ended_at: 'null'`, read as None).
        meta: extra data of the session, when sent.
        breakout_rooms: sessions of the breakout rooms.
    """

    id: str
    associated_id: str | None = None
    meeting_display_name: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    type: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    status: ActiveSessionStatus | None = None
    live_participants: int | None = attrs.field(default=None, metadata=INFORMATIONAL)
    max_concurrent_participants: int | None = attrs.field(default=None, metadata=INFORMATIONAL)
    minutes_consumed: float | None = attrs.field(default=None, metadata=INFORMATIONAL)
    organization_id: str | None = None
    started_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    ended_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    created_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    updated_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    meta: dict[str, Any] | None = attrs.field(default=None, metadata=INFORMATIONAL)
    breakout_rooms: tuple[ActiveSession, ...] = attrs.field(default=(), metadata=INFORMATIONAL)

    @property
    def is_live(self) -> bool:
        """True when the status is LIVE."""
        return self.status is ActiveSessionStatus.LIVE


@attrs.frozen(kw_only=True)
class SessionParticipant(Serializable):
    """A participant named in a kick or mute answer (the spec's `SessionParticipant`)."""

    id: str
    custom_participant_id: str | None = None
    user_id: str | None = None
    name: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    display_name: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    email: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    picture: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    preset_name: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    created_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    updated_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)


@attrs.frozen(kw_only=True)
class ModerationResult(Serializable):
    """What a kick or mute did.

    Attributes:
        action: the server's name for it (e.g. `kick`, `mute_all`), when sent.
        participants: the participants acted on (`kick` and `mute` name them).
        count: how many were acted on: `kicked_participants_count`/`muted_participants_count`
            for the `*_all` calls, else the number of `participants`; None when not said.
    """

    action: str | None = None
    participants: tuple[SessionParticipant, ...] = ()
    count: int | None = None
