"""Meetings and their participants: attrs classes, frozen, with slots.

Built by `dyte_async._convert`; no I/O here. Participant tokens are kept out of `repr()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from dyte_async.models._base import _OpenStrEnum

__all__ = ["Meeting", "MeetingStatus", "Participant"]


class MeetingStatus(_OpenStrEnum):
    """Status of a meeting: users cannot join an INACTIVE meeting."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


@attrs.frozen(kw_only=True)
class Meeting:
    """A meeting. `live_stream_on_start` meetings start livestreaming when they start."""

    id: str
    title: str | None = None
    preferred_region: str | None = None
    status: MeetingStatus | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    record_on_start: bool = False
    live_stream_on_start: bool = False
    persist_chat: bool = False
    summarize_on_end: bool = False
    transcribe_on_end: bool | None = None
    session_keep_alive_time_in_secs: float | None = None
    recording_config: dict[str, Any] | None = None
    ai_config: dict[str, Any] | None = None


@attrs.frozen(kw_only=True)
class Participant:
    """A participant of a meeting; `token` (secret, not in repr) is what a front end joins with."""

    id: str
    custom_participant_id: str | None = None
    preset_name: str | None = None
    name: str | None = None
    picture: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    token: str | None = attrs.field(default=None, repr=False)
