"""Request bodies of `dyte.presets`: merging a `Preset` or mapping with fields, and the
livestream host/viewer pair that `ensure_livestream_presets` creates."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any, Final

from dyte_async.errors import InvalidArgumentError
from dyte_async.models import JsonObject, Preset
from dyte_async.models._base import _OpenStrEnum
from dyte_async.resources._base import without_none
from dyte_async.resources._fields import NULL

__all__ = [
    "check_name",
    "livestream_host_body",
    "livestream_viewer_body",
    "merge",
    "request_body",
]


def _to_json(value: Any) -> Any:
    if value is NULL:
        return None
    if isinstance(value, JsonObject):
        return value.to_dict()
    if isinstance(value, _OpenStrEnum):
        return value.value
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    return value


def merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `patch` merged in: objects key by key, anything else replaced."""
    merged = dict(base)
    for key, value in patch.items():
        old = merged.get(key)
        if isinstance(old, dict) and isinstance(value, dict):
            merged[key] = merge(old, value)
        else:
            merged[key] = value
    return merged


def request_body(
    body: Preset | Mapping[str, Any] | None, fields: Mapping[str, Any]
) -> dict[str, Any]:
    """The JSON body of a create or update: `body` with `fields` merged over it.

    Args:
        body: a `Preset` (its `to_body()`), a mapping (typed values made JSON), or None.
        fields: keyword fields; those that are None are not sent.

    Returns:
        A new dict.

    Raises:
        InvalidArgumentError: `body` is neither a `Preset` nor a mapping.
    """
    if body is None:
        base: dict[str, Any] = {}
    elif isinstance(body, Preset):
        base = body.to_body()
    elif isinstance(body, Mapping):
        base = _to_json(body)
    else:
        raise InvalidArgumentError(f"body must be a Preset or a mapping, got {type(body).__name__}")
    return merge(base, _to_json(without_none(fields)))


def check_name(name: object, label: str = "name") -> str:
    """`name`, checked to be a non-empty string.

    Raises:
        InvalidArgumentError: it is not (the message names `label`).
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidArgumentError(f"{label} is required and must be a non-empty string")
    return name


_UI: Final[dict[str, Any]] = {
    "design_tokens": {
        "border_radius": "rounded",
        "border_width": "thin",
        "spacing_base": 4,
        "theme": "dark",
        "colors": {
            "brand": {
                "300": "#844d1c",
                "400": "#9d5b22",
                "500": "#b56927",
                "600": "#d37c30",
                "700": "#d9904f",
            },
            "background": {
                "600": "#222222",
                "700": "#1f1f1f",
                "800": "#1b1b1b",
                "900": "#181818",
                "1000": "#141414",
            },
            "danger": "#FF2D2D",
            "text": "#EEEEEE",
            "text_on_brand": "#EEEEEE",
            "success": "#62A504",
            "video_bg": "#191919",
            "warning": "#FFCD07",
        },
        "logo": "",
    }
}


def _config(*, max_streams: int) -> dict[str, Any]:
    return {
        "view_type": "WEBINAR",
        "max_video_streams": {"mobile": min(max_streams, 6), "desktop": max_streams},
        "max_screenshare_count": 1,
        "media": {
            "audio": {"enable_stereo": False, "enable_high_bitrate": True},
            "video": {"quality": "hd", "frame_rate": 30},
            "screenshare": {"quality": "hd", "frame_rate": 5},
        },
    }


def _produce(access: str) -> dict[str, Any]:
    return {kind: {"can_produce": access} for kind in ("video", "audio", "screenshare")}


def livestream_host_body(name: str = "livestream_host") -> dict[str, Any]:
    """The body `ensure_livestream_presets` creates a host preset with.

    A complete preset by Dyte v2's `Preset` schema (every required key present). The host
    is on stage and runs the show: `can_livestream` (start and stop the livestream),
    `can_accept_production_requests` (accept requests to join the stage),
    `accept_waiting_requests`, `kick_participant`, `disable_participant_audio`/`_video`/
    `_screensharing` (mute others), `pin_participant`, `can_spotlight`, and may send video,
    audio and screen share. `view_type` is `WEBINAR`: the v2 spec's enum is
    `GROUP_CALL|WEBINAR|AUDIO_ROOM` (RealtimeKit's `LIVESTREAM` is not in it), and a webinar
    is the stage-and-audience layout a livestream is made from.

    Args:
        name: the preset's name.

    Returns:
        A new dict (change it freely, e.g. before `dyte.presets.get_or_create`).
    """
    return {
        "name": name,
        "config": _config(max_streams=12),
        "permissions": {
            "accept_waiting_requests": True,
            "can_accept_production_requests": True,
            "can_edit_display_name": True,
            "can_spotlight": True,
            "is_recorder": False,
            "recorder_type": "NONE",
            "disable_participant_audio": True,
            "disable_participant_screensharing": True,
            "disable_participant_video": True,
            "kick_participant": True,
            "pin_participant": True,
            "can_record": False,
            "can_livestream": True,
            "waiting_room_type": "SKIP",
            "plugins": {
                "can_close": True,
                "can_start": True,
                "can_edit_config": True,
                "config": {"access_control": "FULL_ACCESS", "handles_view_only": False},
            },
            "connected_meetings": {
                "can_alter_connected_meetings": False,
                "can_switch_connected_meetings": False,
                "can_switch_to_parent_meeting": False,
            },
            "polls": {"can_create": True, "can_vote": True, "can_view": True},
            "media": _produce("ALLOWED"),
            "chat": {
                "public": {"can_send": True, "text": True, "files": True},
                "private": {"can_send": True, "can_receive": True, "text": True, "files": True},
            },
            "hidden_participant": False,
            "show_participant_list": True,
            "can_change_participant_permissions": True,
        },
        "ui": copy.deepcopy(_UI),
    }


def livestream_viewer_body(name: str = "livestream_viewer") -> dict[str, Any]:
    """The body `ensure_livestream_presets` creates a viewer preset with.

    A viewer watches: it may not livestream, send media (`NOT_ALLOWED`: not even a request
    to join the stage), accept stage or waiting-room requests, or moderate anyone. It may
    chat in public, see and vote in polls. It is not in the participant list and sees no one
    else's (`show_participant_list` false). `view_type` is `WEBINAR` (see
    `livestream_host_body`).

    Args:
        name: the preset's name.

    Returns:
        A new dict.
    """
    return {
        "name": name,
        "config": _config(max_streams=6),
        "permissions": {
            "accept_waiting_requests": False,
            "can_accept_production_requests": False,
            "can_edit_display_name": False,
            "can_spotlight": False,
            "is_recorder": False,
            "recorder_type": "NONE",
            "disable_participant_audio": False,
            "disable_participant_screensharing": False,
            "disable_participant_video": False,
            "kick_participant": False,
            "pin_participant": False,
            "can_record": False,
            "can_livestream": False,
            "waiting_room_type": "SKIP",
            "plugins": {
                "can_close": False,
                "can_start": False,
                "can_edit_config": False,
                "config": {"access_control": "VIEW_ONLY", "handles_view_only": True},
            },
            "connected_meetings": {
                "can_alter_connected_meetings": False,
                "can_switch_connected_meetings": False,
                "can_switch_to_parent_meeting": False,
            },
            "polls": {"can_create": False, "can_vote": True, "can_view": True},
            "media": _produce("NOT_ALLOWED"),
            "chat": {
                "public": {"can_send": True, "text": True, "files": False},
                "private": {"can_send": False, "can_receive": False, "text": False, "files": False},
            },
            "hidden_participant": False,
            "show_participant_list": False,
            "can_change_participant_permissions": False,
        },
        "ui": copy.deepcopy(_UI),
    }
