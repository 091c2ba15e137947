"""The one converter: configured once, whatever was imported first; its hooks one by one.

Decoding must not depend on import order (a `PresetConfig` decoded before
`dyte_async.resources.presets` was imported used to lose its unknown keys), so one test
decodes every model in a fresh interpreter that has imported nothing but the converter and
the models, and compares with what this process decodes.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
from datetime import timezone
from typing import Any

import attrs
import cattrs

import dyte_async.models as models
from dyte_async._convert import (
    configure_converter,
    converter,
    details_from,
    livestream_details_items,
    make_converter,
    structure,
)
from dyte_async.models import (
    ActiveSession,
    PresetConfig,
    ViewType,
)
from tests import spec_examples as ex

UTC = timezone.utc

# -- bodies shaped like the spec's examples, one or more per model ----------------------------

#: A preset by the spec's `Preset` schema, with keys the spec does not define at every depth.
PRESET: dict[str, Any] = {
    "id": "7b2c9f5e-2a5d-4c1e-9d0e-5f3b8f1a6c21",
    "name": "webinar_host",
    "future_top_level": {"a": [1, {"b": None}]},
    "config": {
        "view_type": "WEBINAR",
        "max_video_streams": {"mobile": 4, "desktop": 9},
        "max_screenshare_count": 1,
        "livestream_viewer_qualities": [360, 720],
        "media": {
            "audio": {"enable_stereo": False, "enable_high_bitrate": False},
            "video": {"quality": "hd", "frame_rate": 30, "codec": "av1"},
            "screenshare": {"quality": "vga", "frame_rate": 5},
        },
    },
    "permissions": {
        "can_livestream": True,
        "recorder_type": "TRANSCRIBER",
        "waiting_room_type": "SKIP_ON_ACCEPT",
        "stage_enabled": True,
        "plugins": {"can_close": True, "config": {"access_control": "FULL_ACCESS"}},
        "connected_meetings": {"can_alter_connected_meetings": False},
        "polls": {"can_create": True, "can_vote": True, "can_view": True},
        "media": {
            "video": {"can_produce": "ALLOWED", "max_bitrate": 2500},
            "audio": {"can_produce": "CAN_REQUEST"},
            "screenshare": {"can_produce": "NOT_ALLOWED"},
        },
        "chat": {
            "public": {"can_send": True, "text": True, "files": True},
            "private": {"can_send": True, "can_receive": True, "reactions": True},
        },
    },
    "ui": {"design_tokens": {"theme": "dark", "font": "Inter"}},
    "created_at": "2024-05-01T10:00:00.000Z",
    "updated_at": "2024-05-02T10:00:00.000Z",
}
#: components/examples/GetActiveSessionSuccessResponse, with a breakout room.
ACTIVE_SESSION: dict[str, Any] = {
    "id": "813432c7-3c5a-45e2-9acf-eef7061c7584",
    "associated_id": "6bf2b8be-04dd-4191-b602-1128921a306b",
    "type": "meeting",
    "status": "LIVE",
    "live_participants": 1,
    "max_concurrent_participants": 2,
    "minutes_consumed": 2.3434,
    "started_at": "2022-01-12T14:21:34.388Z",
    "ended_at": "null",
    "created_at": "2022-01-12T14:21:34.398Z",
    "updated_at": "2022-01-12T14:26:00.784Z",
    "meta": {"region": "ap-south-1"},
    "breakout_rooms": [{"id": "room-1", "status": "PAUSED", "ended_at": " NULL "}],
}
SESSION_PARTICIPANT: dict[str, Any] = {
    "id": "005f4e0c-4d08-4d4e-a391-a76be75cd296",
    "name": "Mark",
    "email": "mark@example.com",
    "created_at": "2023-02-01T10:51:08.030Z",
    "updated_at": "2023-02-01T10:51:08.030Z",
}

_CONFIG, _PERMISSIONS = PRESET["config"], PRESET["permissions"]
#: (model name, body): every model `structure` builds.
STRUCTURED: list[tuple[str, Any]] = [
    ("Livestream", ex.START_LIVESTREAM_201["data"]),
    ("Livestream", ex.LIVESTREAM_BASE_X_EXAMPLE),
    ("Livestream", ex.ALL_LIVESTREAMS_200_SCHEMA["data"]),
    ("LivestreamSession", ex.LIVESTREAM_SESSION_200["data"]),
    ("LivestreamSession", ex.ACTIVE_LIVESTREAM_SESSION_200_SCHEMA["data"]["session"]),
    ("LivestreamAnalytics", ex.ANALYTICS_OVERALL_200_SCHEMA["data"]),
    ("LivestreamDayAnalytics", ex.ANALYTICS_DAYWISE_200["data"][0]),
    ("LivestreamDayAnalytics", ex.ANALYTICS_DAYWISE_200_SCHEMA["data"]),
    ("Meeting", ex.MEETING_X_EXAMPLE),
    ("Meeting", {**ex.MEETING_X_EXAMPLE, "status": "ACTIVE", "recording_config": {"a": 1}}),
    ("Participant", ex.ADD_PARTICIPANT_201["data"]),
    ("Preset", PRESET),
    ("PresetSummary", {k: PRESET[k] for k in ("id", "name", "created_at", "updated_at")}),
    ("PresetConfig", _CONFIG),
    ("PresetPermissions", _PERMISSIONS),
    ("JsonObject", {"anything": [1, 2]}),
    ("MaxVideoStreams", _CONFIG["max_video_streams"]),
    ("MediaConfig", _CONFIG["media"]),
    ("AudioConfig", _CONFIG["media"]["audio"]),
    ("VideoConfig", _CONFIG["media"]["video"]),
    ("PluginPermissions", _PERMISSIONS["plugins"]),
    ("ConnectedMeetingsPermissions", _PERMISSIONS["connected_meetings"]),
    ("PollPermissions", _PERMISSIONS["polls"]),
    ("MediaPermissions", _PERMISSIONS["media"]),
    ("ProducePermission", _PERMISSIONS["media"]["video"]),
    ("ChatPermissions", _PERMISSIONS["chat"]),
    ("PublicChatPermissions", _PERMISSIONS["chat"]["public"]),
    ("PrivateChatPermissions", _PERMISSIONS["chat"]["private"]),
    ("ActiveSession", ACTIVE_SESSION),
    ("SessionParticipant", SESSION_PARTICIPANT),
    ("ModerationResult", {"action": "kick", "participants": [SESSION_PARTICIPANT], "count": 1}),
]
#: (helper name, body): the details shapes, decoded by `details_from`/`livestream_details_items`.
DETAILS: list[tuple[str, Any]] = [
    ("details_from", ex.LIVESTREAM_200["data"]),
    ("details_from", ex.LIVESTREAM_200_SCHEMA["data"]),
    ("details_from", ex.ACTIVE_LIVESTREAM_SESSION_200["data"]),
    ("details_from", ex.LIVESTREAM_200_RTMP_GUIDE["data"]),
    ("livestream_details_items", ex.MEETING_LIVESTREAMS_200["data"]),
    ("livestream_details_items", ex.MEETING_LIVESTREAMS_200_SCHEMA["data"]),
]

_FRESH = """
import base64, json, pickle, sys

import dyte_async._convert as convert
import dyte_async.models as models

before = sorted(name for name in sys.modules if name.startswith("dyte_async"))
cases = json.loads(sys.stdin.read())
decoded = [convert.structure(body, getattr(models, name)) for name, body in cases["structured"]]
decoded += [getattr(convert, name)(body) for name, body in cases["details"]]
print(json.dumps({"before": before, "decoded": base64.b64encode(pickle.dumps(decoded)).decode()}))
"""


def _normal_path() -> list[Any]:
    # The package as a program uses it: client, resources and all.
    import dyte_async.resources.active_sessions
    import dyte_async.resources.presets  # noqa: F401

    out: list[Any] = [structure(body, getattr(models, name)) for name, body in STRUCTURED]
    helpers = {"details_from": details_from, "livestream_details_items": livestream_details_items}
    out += [helpers[name](body) for name, body in DETAILS]
    return out


def test_every_model_decodes_the_same_in_a_fresh_interpreter() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    run = subprocess.run(
        [sys.executable, "-c", _FRESH],
        input=json.dumps({"structured": STRUCTURED, "details": DETAILS}),
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout.splitlines()[-1])
    # Nothing but the package's core, the converter and the models was imported.
    loaded = set(answer["before"])
    assert {"dyte_async._convert", "dyte_async.models"} <= loaded
    assert not {m for m in loaded if m.startswith(("dyte_async.resources", "dyte_async._poller"))}
    fresh = pickle.loads(base64.b64decode(answer["decoded"]))  # our own child's output

    normal = _normal_path()

    assert fresh == normal
    by_name = dict(zip([name for name, _ in STRUCTURED], fresh[: len(STRUCTURED)], strict=True))
    config = by_name["PresetConfig"]
    assert config.raw == _CONFIG  # not {}: the hook that keeps the JSON was there
    assert config.view_type is ViewType.WEBINAR
    assert config.media.video.raw["codec"] == "av1"
    preset = by_name["Preset"]
    assert preset.to_dict() == PRESET
    assert preset.permissions.recorder_type == "TRANSCRIBER"
    assert by_name["ActiveSession"].ended_at is None
    assert by_name["ActiveSession"].breakout_rooms[0].ended_at is None


def test_the_fresh_interpreter_cases_cover_every_model() -> None:
    built = {name for name, _ in STRUCTURED} | {"LivestreamDetails"}
    model_classes = {
        name for name in models.__all__ if attrs.has(getattr(models, name)) and name != "Page"
    }
    assert model_classes - built == set()


# -- one converter, configured by one function --------------------------------------------------


def test_make_converter_gives_an_independent_converter_configured_the_same() -> None:
    conv = make_converter()

    assert conv is not converter
    for name, body in STRUCTURED:
        cls = getattr(models, name)
        assert conv.structure(body, cls) == converter.structure(body, cls), name


def test_configure_converter_sets_up_any_converter() -> None:
    conv = cattrs.Converter(forbid_extra_keys=False)
    configure_converter(conv)

    config = conv.structure(_CONFIG, PresetConfig)

    assert config.raw == _CONFIG
    assert config.view_type is ViewType.WEBINAR
    assert conv.structure(ACTIVE_SESSION, ActiveSession) == structure(ACTIVE_SESSION, ActiveSession)
