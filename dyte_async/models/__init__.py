"""Typed results: attrs classes, frozen, with slots, built by `dyte_async._convert`.

No I/O here and nothing else of ours is imported. Secrets (`stream_key`, `token`) are kept
out of `repr()`. One module per part of the API:

- `_livestreams`: `Livestream`, its sessions, details and analytics;
- `_meetings`: `Meeting` and `Participant`;
- `_presets`: `Preset` and its parts, each a `JsonObject` that keeps the JSON it came from;
- `_sessions`: a meeting's `ActiveSession` and what a kick or mute did;
- `_base`: the open string enum every status and kind is made from, and `Page`;
- `_serialize`: `to_dict(include_secrets=False)` / `to_json()` of every result (plain JSON
  data for a web handler or a log; stream keys, tokens and the secrets of free-form
  objects redacted unless asked).

Strict and informational fields (issue 12; ENDPOINTS-style notes)
-----------------------------------------------------------------

A field that identifies something or drives the caller's logic is **strict**: when the
server sends a value that cannot be read as its type, the call fails with a
`ResponseDecodeError` that names the class, the field and the JSON type it got, never the
value (it may be a stream key or a token). Every other field is **informational**
(metadata `INFORMATIONAL` in `_base`): a value that cannot be read leaves the field's default
(None, False, 0, empty) and logs one DEBUG line on ``dyte_async.decode``, so a write the
server answered with success always returns success. Timestamps are read with any number of
fraction digits and any offset on every Python (`dyte_async._convert.parse_datetime`).

=====================  ===========================================  ==========================
Model                  Strict (why)                                 Informational
=====================  ===========================================  ==========================
Livestream             id, meeting_id, org_id (identify it);        name, created_at,
                       status (drives waits); ingest_server,        updated_at, disabled (the
                       stream_key, playback_url (what the caller    inline schemas type it as
                       pushes to and plays)                         a string), ingest_seconds,
                                                                    viewer_seconds
LivestreamSession      id, livestream_id                            err_message, invoked_time,
                                                                    started_time, stopped_time,
                                                                    created_at, updated_at,
                                                                    ingest/viewer_seconds
LivestreamAnalytics,   (none)                                       count, totals, date
LivestreamDay...
Meeting                id; status (INACTIVE meetings cannot be      title, preferred_region,
                       joined)                                      times, the *_on_start and
                                                                    other settings echoed back,
                                                                    recording/ai config
Participant            id, custom_participant_id, preset_name       name, picture, created_at,
                       (identify), token (the front end joins       updated_at (the spec types
                       with it)                                     them as plain strings)
ActiveSession          id, associated_id, organization_id; status   display name, type, counts,
                                                                    minutes, times, meta,
                                                                    breakout_rooms
SessionParticipant     id, custom_participant_id, user_id           name, display_name, email,
                                                                    picture, preset_name,
                                                                    created_at, updated_at
ModerationResult       (none: built by `active_sessions`; a         action, participants (one
                       participant without an id is left out)       that cannot be read is left
                                                                    out), count
Preset                 id, name (required); nested objects          every optional value
                       (config, permissions, ...) must be objects   (`raw` keeps the server's
                                                                    JSON whatever it is)
PresetSummary          id                                           name, created_at,
                                                                    updated_at
=====================  ===========================================  ==========================
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
