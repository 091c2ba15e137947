"""Livestreams, their sessions and their analytics: attrs classes, frozen, with slots.

Built by `dyte_async._convert`; no I/O here. Stream keys are kept out of `repr()`.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from dyte_async.models._base import INFORMATIONAL, _OpenStrEnum
from dyte_async.models._serialize import SECRET, Serializable

__all__ = [
    "Livestream",
    "LivestreamAnalytics",
    "LivestreamDayAnalytics",
    "LivestreamDetails",
    "LivestreamSession",
    "LivestreamStatus",
]


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


@attrs.frozen(kw_only=True)
class Livestream(Serializable):
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
    name: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    meeting_id: str | None = None
    ingest_server: str | None = None
    stream_key: str | None = attrs.field(default=None, repr=False, metadata={SECRET: True})
    playback_url: str | None = None
    created_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    updated_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    disabled: bool = attrs.field(default=False, metadata=INFORMATIONAL)
    org_id: str | None = None
    ingest_seconds: float | None = attrs.field(default=None, metadata=INFORMATIONAL)
    viewer_seconds: float | None = attrs.field(default=None, metadata=INFORMATIONAL)

    @property
    def is_live(self) -> bool:
        """True when the status is LIVE."""
        return self.status is LivestreamStatus.LIVE


@attrs.frozen(kw_only=True)
class LivestreamSession(Serializable):
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
    err_message: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    invoked_time: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    started_time: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    stopped_time: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    created_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    updated_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    ingest_seconds: float | None = attrs.field(default=None, metadata=INFORMATIONAL)
    viewer_seconds: float | None = attrs.field(default=None, metadata=INFORMATIONAL)


@attrs.frozen(kw_only=True)
class LivestreamDetails(Serializable):
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
class LivestreamAnalytics(Serializable):
    """Totals over livestreams in a time range."""

    count: int = attrs.field(default=0, metadata=INFORMATIONAL)
    total_ingest_seconds: float = attrs.field(default=0, metadata=INFORMATIONAL)
    total_viewer_seconds: float = attrs.field(default=0, metadata=INFORMATIONAL)


@attrs.frozen(kw_only=True)
class LivestreamDayAnalytics(Serializable):
    """Totals over livestreams for one day."""

    date: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    count: int = attrs.field(default=0, metadata=INFORMATIONAL)
    total_ingest_seconds: float = attrs.field(default=0, metadata=INFORMATIONAL)
    total_viewer_seconds: float = attrs.field(default=0, metadata=INFORMATIONAL)
