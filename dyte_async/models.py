"""Typed results: attrs classes, frozen, with slots, built by `dyte_async._convert`.

No I/O here and nothing of ours is imported. Secrets (`stream_key`, `token`) are kept
out of `repr()`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

__all__ = [
    "Livestream",
    "LivestreamAnalytics",
    "LivestreamDayAnalytics",
    "LivestreamDetails",
    "LivestreamSession",
    "LivestreamStatus",
    "Meeting",
    "MeetingStatus",
    "Page",
    "Participant",
]

T = TypeVar("T")


class _OpenStrEnum(str, enum.Enum):
    """A string enum that keeps values it does not know instead of raising.

    `LivestreamStatus("STARTING")` gives a member-like value equal to `"STARTING"` whose
    `.known` is False, so a status the API adds later never breaks decoding.
    """

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value
        member._value_ = value
        return member

    @property
    def known(self) -> bool:
        """True when the value is one the library knows by name."""
        return self._name_ in type(self).__members__

    def __str__(self) -> str:
        return str(self.value)


class LivestreamStatus(_OpenStrEnum):
    """Status of a livestream.

    The spec's enums list LIVE, IDLE, ERRORED and INVOKED; its examples and the webhook
    docs also use OFFLINE. Any other value is kept as an unknown member.
    """

    LIVE = "LIVE"
    IDLE = "IDLE"
    ERRORED = "ERRORED"
    INVOKED = "INVOKED"
    OFFLINE = "OFFLINE"


class MeetingStatus(_OpenStrEnum):
    """Status of a meeting: users cannot join an INACTIVE meeting."""

    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"


@attrs.frozen(kw_only=True)
class Livestream:
    """A livestream: where to push (ingest) and where to watch (playback).

    Attributes:
        id: the livestream id.
        status: its `LivestreamStatus` (unknown values are kept).
        name: its name, if any.
        meeting_id: the meeting it streams, or None for an independent livestream.
        ingest_server: the RTMP(S) server URL for an encoder.
        stream_key: the stream key (a secret: not in repr).
        playback_url: the HLS playback URL.
        created_at, updated_at: aware datetimes, when the API sent them.
        disabled: whether the livestream is disabled.
        org_id: the organization id, when sent.
        ingest_seconds, viewer_seconds: totals, when the API sent them.
    """

    id: str
    status: LivestreamStatus = LivestreamStatus.INVOKED
    name: str | None = None
    meeting_id: str | None = None
    ingest_server: str | None = None
    stream_key: str | None = attrs.field(default=None, repr=False)
    playback_url: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    disabled: bool = False
    org_id: str | None = None
    ingest_seconds: float | None = None
    viewer_seconds: float | None = None

    @property
    def is_live(self) -> bool:
        """True when the status is LIVE."""
        return self.status is LivestreamStatus.LIVE


@attrs.frozen(kw_only=True)
class LivestreamSession:
    """One run of a livestream, from start to stop, with its usage totals.

    Attributes:
        id: the livestream session id.
        livestream_id: the livestream it belongs to.
        err_message: why it failed, when it did.
        invoked_time, started_time, stopped_time: aware datetimes (stopped_time is None while live).
        ingest_seconds, viewer_seconds: numbers (the API sends strings or numbers).
    """

    id: str
    livestream_id: str | None = None
    err_message: str | None = None
    invoked_time: datetime | None = None
    started_time: datetime | None = None
    stopped_time: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    ingest_seconds: float | None = None
    viewer_seconds: float | None = None


@attrs.frozen(kw_only=True)
class LivestreamDetails:
    """A livestream together with its sessions (newest first, as the API orders them).

    Attributes:
        livestream: the `Livestream`.
        sessions: its `LivestreamSession`s.
    """

    livestream: Livestream
    sessions: tuple[LivestreamSession, ...] = ()

    @property
    def session(self) -> LivestreamSession | None:
        """The first (current) session, or None when there is none."""
        return self.sessions[0] if self.sessions else None


@attrs.frozen(kw_only=True)
class LivestreamAnalytics:
    """Totals over livestreams in a time range."""

    count: int = 0
    total_ingest_seconds: float = 0
    total_viewer_seconds: float = 0


@attrs.frozen(kw_only=True)
class LivestreamDayAnalytics:
    """Totals over livestreams for one day."""

    date: str | None = None
    count: int = 0
    total_ingest_seconds: float = 0
    total_viewer_seconds: float = 0


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


@attrs.frozen(kw_only=True)
class Page(Generic[T]):
    """One page of a list endpoint.

    Attributes:
        items: the items of this page.
        total_count: the total over all pages, when the API said.
        start_offset, end_offset: 1-based inclusive offsets of this page's items.
        page_no: the page number asked for (1-based).
    """

    items: tuple[T, ...]
    total_count: int | None = None
    start_offset: int | None = None
    end_offset: int | None = None
    page_no: int = 1

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)
