"""Typed results: attrs classes, frozen, with slots, built by `dyte_async._convert`.

No I/O here and nothing else of ours is imported. Secrets (`stream_key`, `token`) are kept
out of `repr()`. One module per part of the API:

- `_livestreams`: `Livestream`, its sessions, details and analytics;
- `_meetings`: `Meeting` and `Participant`;
- `_presets`: `Preset` and its parts, each a `JsonObject` that keeps the JSON it came from;
- `_sessions`: a meeting's `ActiveSession` and what a kick or mute did;
- `_base`: the open string enum every status and kind is made from, and `Page`.
"""

from __future__ import annotations

from dyte_async.models._base import Page
from dyte_async.models._livestreams import (
    Livestream,
    LivestreamAnalytics,
    LivestreamDayAnalytics,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
)
from dyte_async.models._meetings import (
    Meeting,
    MeetingStatus,
    Participant,
)
from dyte_async.models._presets import (
    AudioConfig,
    ChatPermissions,
    ConnectedMeetingsPermissions,
    JsonObject,
    MaxVideoStreams,
    MediaConfig,
    MediaPermissions,
    PluginPermissions,
    PollPermissions,
    Preset,
    PresetConfig,
    PresetPermissions,
    PresetSummary,
    PrivateChatPermissions,
    ProduceAccess,
    ProducePermission,
    PublicChatPermissions,
    RecorderType,
    VideoConfig,
    VideoQuality,
    ViewType,
    WaitingRoomType,
)
from dyte_async.models._sessions import (
    ActiveSession,
    ActiveSessionStatus,
    ModerationResult,
    SessionParticipant,
)

__all__ = [
    "ActiveSession",
    "ActiveSessionStatus",
    "AudioConfig",
    "ChatPermissions",
    "ConnectedMeetingsPermissions",
    "JsonObject",
    "Livestream",
    "LivestreamAnalytics",
    "LivestreamDayAnalytics",
    "LivestreamDetails",
    "LivestreamSession",
    "LivestreamStatus",
    "MaxVideoStreams",
    "MediaConfig",
    "MediaPermissions",
    "Meeting",
    "MeetingStatus",
    "ModerationResult",
    "Page",
    "Participant",
    "PluginPermissions",
    "PollPermissions",
    "Preset",
    "PresetConfig",
    "PresetPermissions",
    "PresetSummary",
    "PrivateChatPermissions",
    "ProduceAccess",
    "ProducePermission",
    "PublicChatPermissions",
    "RecorderType",
    "SessionParticipant",
    "VideoConfig",
    "VideoQuality",
    "ViewType",
    "WaitingRoomType",
]
