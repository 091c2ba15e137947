"""Meetings and their participants: attrs classes, frozen, with slots.

Built by `dyte_async._convert`; no I/O here. Participant tokens are kept out of `repr()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from dyte_async.models._base import INFORMATIONAL, _OpenStrEnum
from dyte_async.models._serialize import SECRET, Serializable

__all__ = ["Meeting", "MeetingStatus", "Participant"]


class MeetingStatus(_OpenStrEnum):
    """Status of a meeting: users cannot join an INACTIVE meeting."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


@attrs.frozen(kw_only=True)
class Meeting(Serializable):
    """A meeting. `live_stream_on_start` meetings start livestreaming when they start."""

    id: str
    title: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    preferred_region: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    status: MeetingStatus | None = None
    created_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    updated_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    record_on_start: bool = attrs.field(default=False, metadata=INFORMATIONAL)
    live_stream_on_start: bool = attrs.field(default=False, metadata=INFORMATIONAL)
    persist_chat: bool = attrs.field(default=False, metadata=INFORMATIONAL)
    summarize_on_end: bool = attrs.field(default=False, metadata=INFORMATIONAL)
    transcribe_on_end: bool | None = attrs.field(default=None, metadata=INFORMATIONAL)
    session_keep_alive_time_in_secs: float | None = attrs.field(
        default=None, metadata=INFORMATIONAL
    )
    recording_config: dict[str, Any] | None = attrs.field(default=None, metadata=INFORMATIONAL)
    ai_config: dict[str, Any] | None = attrs.field(default=None, metadata=INFORMATIONAL)


@attrs.frozen(kw_only=True)
class Participant(Serializable):
    """A participant of a meeting; `token` (secret, not in repr) is what a front end joins with."""

    id: str
    custom_participant_id: str | None = None
    preset_name: str | None = None
    name: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    picture: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    created_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    updated_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    token: str | None = attrs.field(default=None, repr=False, metadata={SECRET: True})
