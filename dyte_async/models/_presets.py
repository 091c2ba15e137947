"""Typed presets: attrs classes, frozen, with slots, no I/O.

A preset is a large JSON document that Dyte keeps growing (RealtimeKit already adds keys
the v2 spec does not list). So that a preset read, changed and written back loses nothing,
every object of a preset is a `JsonObject`: typed fields for the keys the spec defines, plus
`raw`, the JSON object exactly as the API sent it. `to_dict()` gives `raw` with the typed
fields laid over it, so a change made with `attrs.evolve` shows in the JSON and every key
the library does not model comes back unchanged:

```python
preset = await dyte.presets.get(preset_id)
permissions = attrs.evolve(preset.permissions, can_livestream=True)
await dyte.presets.update(preset.id, attrs.evolve(preset, permissions=permissions))
```

A typed field that is None means "not in the JSON" (it leaves `raw` as it is). The cattrs
hook that fills `raw` lives with every other hook in `dyte_async._convert`.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from dyte_async.models._base import INFORMATIONAL, _OpenStrEnum
from dyte_async.models._serialize import Serializable

__all__ = [
    "AudioConfig",
    "ChatPermissions",
    "ConnectedMeetingsPermissions",
    "JsonObject",
    "MaxVideoStreams",
    "MediaConfig",
    "MediaPermissions",
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
    "VideoConfig",
    "VideoQuality",
    "ViewType",
    "WaitingRoomType",
]

#: Field metadata key: the server sets this field; `to_dict()` never lays it over `raw`.
READ_ONLY = "dyte_async.read_only"

_SERVER_KEYS = ("id", "created_at", "updated_at")


# -- enums (open: a value the API adds later is kept, never an error) -----------------------


class ViewType(_OpenStrEnum):
    """`config.view_type` of a preset.

    Dyte v2's spec allows GROUP_CALL, WEBINAR and AUDIO_ROOM; RealtimeKit's adds LIVESTREAM
    (viewers watch the HLS stream instead of joining the call).
    """

    GROUP_CALL = "GROUP_CALL"
    WEBINAR = "WEBINAR"
    AUDIO_ROOM = "AUDIO_ROOM"
    LIVESTREAM = "LIVESTREAM"


class VideoQuality(_OpenStrEnum):
    """`quality` of video and screen share in a preset's media config."""

    HD = "hd"
    VGA = "vga"
    QVGA = "qvga"


class RecorderType(_OpenStrEnum):
    """`permissions.recorder_type`: what kind of recording peer this is, if any."""

    RECORDER = "RECORDER"
    LIVESTREAMER = "LIVESTREAMER"
    NONE = "NONE"


class WaitingRoomType(_OpenStrEnum):
    """`permissions.waiting_room_type`."""

    SKIP = "SKIP"
    ON_PRIVILEGED_USER_ENTRY = "ON_PRIVILEGED_USER_ENTRY"
    SKIP_ON_ACCEPT = "SKIP_ON_ACCEPT"


class ProduceAccess(_OpenStrEnum):
    """`can_produce` of audio, video and screen share permissions."""

    ALLOWED = "ALLOWED"
    NOT_ALLOWED = "NOT_ALLOWED"
    CAN_REQUEST = "CAN_REQUEST"


# -- the JSON-keeping base ------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, JsonObject):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return copy.deepcopy(value)


@attrs.frozen(kw_only=True)
class JsonObject(Serializable):
    """A JSON object with typed fields for the keys we know and `raw` for all of it.

    Attributes:
        raw: the object as the API sent it (every key, known or not). Do not mutate it;
            change typed fields with `attrs.evolve` and read the result with `to_dict()`.
    """

    raw: Mapping[str, Any] = attrs.field(factory=dict, repr=False, hash=False)

    def to_dict(self, *, include_secrets: bool = False) -> dict[str, Any]:
        """The JSON object: a deep copy of `raw` with the typed fields laid over it.

        A typed field that is None leaves `raw`'s value (or its absence) as it was; a nested
        object with nothing in it is not added where `raw` had no object. A preset holds no
        secret, so nothing is redacted: the result is what `to_body()` sends back.

        Args:
            include_secrets: accepted like every result's `to_dict()`; changes nothing here.

        Returns:
            A new dict, safe to change.
        """
        del include_secrets  # a preset has no secret to redact
        out = copy.deepcopy(dict(self.raw))
        for field in attrs.fields(type(self)):
            if field.name == "raw" or field.metadata.get(READ_ONLY):
                continue
            value = getattr(self, field.name)
            if value is None:
                continue
            encoded = _encode(value)
            if (
                isinstance(value, JsonObject)
                and not encoded
                and not isinstance(out.get(field.name), Mapping)
            ):
                continue
            out[field.name] = encoded
        return out


# -- config -----------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MaxVideoStreams(JsonObject):
    """How many video streams a device shows at most."""

    mobile: int | None = None
    desktop: int | None = None


@attrs.frozen(kw_only=True)
class AudioConfig(JsonObject):
    """Audio quality options."""

    enable_stereo: bool | None = None
    enable_high_bitrate: bool | None = None


@attrs.frozen(kw_only=True)
class VideoConfig(JsonObject):
    """Quality and frame rate of participant video or of screen share."""

    quality: VideoQuality | None = None
    frame_rate: int | None = None


@attrs.frozen(kw_only=True)
class MediaConfig(JsonObject):
    """`config.media`: audio, video and screen share quality."""

    audio: AudioConfig = attrs.Factory(AudioConfig)
    video: VideoConfig = attrs.Factory(VideoConfig)
    screenshare: VideoConfig = attrs.Factory(VideoConfig)


@attrs.frozen(kw_only=True)
class PresetConfig(JsonObject):
    """`config` of a preset: the kind of meeting UI and its media limits."""

    view_type: ViewType | None = None
    max_video_streams: MaxVideoStreams = attrs.Factory(MaxVideoStreams)
    max_screenshare_count: int | None = None
    media: MediaConfig = attrs.Factory(MediaConfig)


# -- permissions ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class PluginPermissions(JsonObject):
    """`permissions.plugins`. `config` is a plugin config id or an access-control object."""

    can_close: bool | None = None
    can_start: bool | None = None
    can_edit_config: bool | None = None
    config: Any = attrs.field(default=None, hash=False)


@attrs.frozen(kw_only=True)
class ConnectedMeetingsPermissions(JsonObject):
    """`permissions.connected_meetings` (breakout rooms)."""

    can_alter_connected_meetings: bool | None = None
    can_switch_connected_meetings: bool | None = None
    can_switch_to_parent_meeting: bool | None = None


@attrs.frozen(kw_only=True)
class PollPermissions(JsonObject):
    """`permissions.polls`."""

    can_create: bool | None = None
    can_vote: bool | None = None
    can_view: bool | None = None


@attrs.frozen(kw_only=True)
class ProducePermission(JsonObject):
    """Whether a participant may send one kind of media (`ALLOWED`, `CAN_REQUEST`, ...)."""

    can_produce: ProduceAccess | None = None


@attrs.frozen(kw_only=True)
class MediaPermissions(JsonObject):
    """`permissions.media`: who may send video, audio and screen share."""

    video: ProducePermission = attrs.Factory(ProducePermission)
    audio: ProducePermission = attrs.Factory(ProducePermission)
    screenshare: ProducePermission = attrs.Factory(ProducePermission)


@attrs.frozen(kw_only=True)
class PublicChatPermissions(JsonObject):
    """`permissions.chat.public`."""

    can_send: bool | None = None
    text: bool | None = None
    files: bool | None = None


@attrs.frozen(kw_only=True)
class PrivateChatPermissions(JsonObject):
    """`permissions.chat.private`."""

    can_send: bool | None = None
    can_receive: bool | None = None
    text: bool | None = None
    files: bool | None = None


@attrs.frozen(kw_only=True)
class ChatPermissions(JsonObject):
    """`permissions.chat`."""

    public: PublicChatPermissions = attrs.Factory(PublicChatPermissions)
    private: PrivateChatPermissions = attrs.Factory(PrivateChatPermissions)


@attrs.frozen(kw_only=True)
class PresetPermissions(JsonObject):
    """`permissions` of a preset, with the spec's own names.

    For a livestream: `can_livestream` lets a participant start and stop the livestream;
    `can_accept_production_requests` lets a host accept requests to join the stage;
    `kick_participant` and `disable_participant_audio`/`_video`/`_screensharing` let a host
    moderate; `media.*.can_produce` says who may send media at all.
    """

    accept_waiting_requests: bool | None = None
    can_accept_production_requests: bool | None = None
    can_edit_display_name: bool | None = None
    can_spotlight: bool | None = None
    is_recorder: bool | None = None
    recorder_type: RecorderType | None = None
    disable_participant_audio: bool | None = None
    disable_participant_screensharing: bool | None = None
    disable_participant_video: bool | None = None
    kick_participant: bool | None = None
    pin_participant: bool | None = None
    can_record: bool | None = None
    can_livestream: bool | None = None
    waiting_room_type: WaitingRoomType | None = None
    plugins: PluginPermissions = attrs.Factory(PluginPermissions)
    connected_meetings: ConnectedMeetingsPermissions = attrs.Factory(ConnectedMeetingsPermissions)
    polls: PollPermissions = attrs.Factory(PollPermissions)
    media: MediaPermissions = attrs.Factory(MediaPermissions)
    chat: ChatPermissions = attrs.Factory(ChatPermissions)
    hidden_participant: bool | None = None
    show_participant_list: bool | None = None
    can_change_participant_permissions: bool | None = None


# -- presets ----------------------------------------------------------------------------------


def _read_only() -> dict[str, bool]:
    return {READ_ONLY: True}


@attrs.frozen(kw_only=True)
class Preset(JsonObject):
    """A preset: what a participant who joins with it sees and may do.

    `raw` keeps the whole JSON; `to_dict()` gives it back with typed changes applied, and
    `to_body()` the same without the server's fields, ready to send. Equality compares the
    typed fields and `raw`.

    Attributes:
        id: the preset id.
        name: its name (what `participants.add(preset_name=...)` takes).
        config: `PresetConfig` (view type, media limits).
        permissions: `PresetPermissions`.
        ui: the UI theme (`design_tokens`, `config_diff`), as the API sent it.
        created_at, updated_at: aware datetimes, when the API sent them.
        raw: the preset's JSON as received.
    """

    id: str = attrs.field(metadata=_read_only())
    name: str
    config: PresetConfig = attrs.Factory(PresetConfig)
    permissions: PresetPermissions = attrs.Factory(PresetPermissions)
    ui: dict[str, Any] | None = attrs.field(default=None, repr=False, hash=False)
    created_at: datetime | None = attrs.field(default=None, metadata=_read_only())
    updated_at: datetime | None = attrs.field(default=None, metadata=_read_only())

    def to_body(self) -> dict[str, Any]:
        """`to_dict()` without `id`, `created_at`, `updated_at`: a body for create or update.

        Returns:
            A new dict, safe to change.
        """
        body = self.to_dict()
        for key in _SERVER_KEYS:
            body.pop(key, None)
        return body


@attrs.frozen(kw_only=True)
class PresetSummary(Serializable):
    """A preset as `GET /presets` lists it (the spec's `PresetListItem`).

    Use `dyte.presets.get(summary.id)` for the whole preset.
    """

    id: str
    name: str | None = attrs.field(default=None, metadata=INFORMATIONAL)
    created_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
    updated_at: datetime | None = attrs.field(default=None, metadata=INFORMATIONAL)
