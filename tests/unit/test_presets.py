"""`dyte.presets` on the wire (respx): bodies, decoding, round trips, get-or-create races."""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import attrs
import httpx
import pytest
import respx

from dyte_async import AsyncDyte
from dyte_async.errors import (
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    NotFoundError,
    ResponseDecodeError,
)
from dyte_async.models import (
    Preset,
    PresetPermissions,
    PresetSummary,
    ProduceAccess,
    RecorderType,
    VideoQuality,
    ViewType,
    WaitingRoomType,
)
from dyte_async.resources.presets import Presets, livestream_host_body, livestream_viewer_body
from dyte_async.testing import FakeClock
from tests.unit.conftest import BASE

pytestmark = pytest.mark.anyio

T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)
PRESET_ID = "7b2c9f5e-2a5d-4c1e-9d0e-5f3b8f1a6c21"

# A preset with every key the spec's `Preset` schema requires, as `GetPresetBody` wraps it.
SPEC_PRESET: dict[str, Any] = {
    "id": PRESET_ID,
    "name": "webinar_host",
    "config": {
        "view_type": "WEBINAR",
        "max_video_streams": {"mobile": 4, "desktop": 9},
        "max_screenshare_count": 1,
        "media": {
            "audio": {"enable_stereo": False, "enable_high_bitrate": False},
            "video": {"quality": "hd", "frame_rate": 30},
            "screenshare": {"quality": "vga", "frame_rate": 5},
        },
    },
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
        "can_record": True,
        "can_livestream": False,
        "waiting_room_type": "SKIP_ON_ACCEPT",
        "plugins": {
            "can_close": True,
            "can_start": True,
            "can_edit_config": False,
            "config": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
        },
        "connected_meetings": {
            "can_alter_connected_meetings": False,
            "can_switch_connected_meetings": False,
            "can_switch_to_parent_meeting": False,
        },
        "polls": {"can_create": True, "can_vote": True, "can_view": True},
        "media": {
            "video": {"can_produce": "ALLOWED"},
            "audio": {"can_produce": "CAN_REQUEST"},
            "screenshare": {"can_produce": "NOT_ALLOWED"},
        },
        "chat": {
            "public": {"can_send": True, "text": True, "files": True},
            "private": {"can_send": True, "can_receive": True, "text": True, "files": False},
        },
        "hidden_participant": False,
        "show_participant_list": True,
        "can_change_participant_permissions": False,
    },
    "ui": {
        "design_tokens": {
            "border_radius": "rounded",
            "border_width": "thin",
            "spacing_base": 4,
            "theme": "dark",
            "colors": {
                "brand": {"300": "#844d1c", "400": "#9d5b22", "500": "#b56927"},
                "danger": "#FF2D2D",
            },
            "logo": "",
        },
        "config_diff": {},
    },
    "created_at": "2024-05-01T10:00:00.000Z",
    "updated_at": "2024-05-02T10:00:00.000Z",
}

# Keys the spec does not define, at every depth (RealtimeKit-style additions and made-up ones).
UNKNOWN = {
    "future_top_level": {"a": [1, 2, {"b": None}]},
    "config": {
        "livestream_viewer_qualities": [360, 720],
        "media": {"video": {"codec": "av1"}},
    },
    "permissions": {
        "stage_enabled": True,
        "accept_stage_requests": True,
        "media": {"video": {"max_bitrate": 2500}},
        "chat": {"private": {"reactions": True}},
        "transcription_enabled": None,
    },
    "ui": {"design_tokens": {"font": "Inter"}},
}


def merged(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(out.get(key), dict) and isinstance(value, dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def ok(data: Any, **extra: Any) -> httpx.Response:
    return httpx.Response(200, json={"success": True, "data": data, **extra})


def error(status: int, message: str) -> httpx.Response:
    return httpx.Response(
        status, json={"success": False, "error": {"code": status, "message": message}}
    )


def sent(route: respx.Route, n: int = -1) -> Any:
    return json.loads(route.calls[n].request.content)


@pytest.fixture
async def dyte(router: respx.MockRouter, clock: FakeClock) -> AsyncIterator[AsyncDyte]:
    client = AsyncDyte(
        "org",
        "key",
        transport=httpx.MockTransport(router.async_handler),
        clock=clock,
        rate_limit=None,
    )
    async with client:
        yield client


@pytest.fixture
def presets(dyte: AsyncDyte) -> Presets:
    return dyte.presets


class FakePresets:
    """A stateful `/presets` for respx: names unique (409), lists, gets."""

    def __init__(self, router: respx.MockRouter, *, unique: bool = True) -> None:
        self.items: list[dict[str, Any]] = []
        self.unique = unique
        self.posted = router.post("/presets").mock(side_effect=self.create)
        self.listed = router.get("/presets").mock(side_effect=self.list)
        self.got = router.get(url__regex=rf"{BASE}/presets/(?P<pid>[^/?]+)$").mock(
            side_effect=self.get
        )

    def add(self, body: dict[str, Any]) -> dict[str, Any]:
        n = len(self.items) + 1
        stamp = (T0 + timedelta(seconds=n)).isoformat().replace("+00:00", "Z")
        preset = {
            **body,
            "id": f"00000000-0000-4000-8000-{n:012d}",
            "created_at": stamp,
            "updated_at": stamp,
        }
        self.items.append(preset)
        return preset

    def create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        if self.unique and any(p["name"] == body["name"] for p in self.items):
            return error(409, f"Preset with name {body['name']} already exists")
        return ok(self.add(body))

    def list(self, request: httpx.Request) -> httpx.Response:
        page_no = int(request.url.params.get("page_no", 1))
        per_page = int(request.url.params.get("per_page", 20))
        start = (page_no - 1) * per_page
        page = self.items[start : start + per_page]
        summaries = [{k: p[k] for k in ("id", "name", "created_at", "updated_at")} for p in page]
        paging = {
            "total_count": len(self.items),
            "start_offset": start + 1,
            "end_offset": start + len(page),
        }
        return ok(summaries, paging=paging)

    def get(self, request: httpx.Request, pid: str) -> httpx.Response:
        for preset in self.items:
            if preset["id"] == pid:
                return ok(preset)
        return error(404, f"No preset found for preset_id {pid}")


# -- decoding ---------------------------------------------------------------------------------


async def test_get_decodes_every_typed_field_of_the_spec_schema(
    router: respx.MockRouter, presets: Presets
) -> None:
    route = router.get(f"/presets/{PRESET_ID}").mock(return_value=ok(SPEC_PRESET))

    preset = await presets.get(PRESET_ID)

    assert route.call_count == 1
    assert preset.id == PRESET_ID
    assert preset.name == "webinar_host"
    assert preset.created_at is not None
    assert preset.created_at.year == 2024
    config = preset.config
    assert config.view_type is ViewType.WEBINAR
    assert (config.max_video_streams.mobile, config.max_video_streams.desktop) == (4, 9)
    assert config.max_screenshare_count == 1
    assert config.media.video.quality is VideoQuality.HD
    assert config.media.screenshare.quality is VideoQuality.VGA
    assert config.media.audio.enable_high_bitrate is False
    perms = preset.permissions
    assert perms.can_accept_production_requests is True
    assert perms.can_livestream is False
    assert perms.recorder_type is RecorderType.NONE
    assert perms.waiting_room_type is WaitingRoomType.SKIP_ON_ACCEPT
    assert perms.media.audio.can_produce is ProduceAccess.CAN_REQUEST
    assert perms.media.screenshare.can_produce is ProduceAccess.NOT_ALLOWED
    assert perms.plugins.config == "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    assert perms.chat.private.files is False
    assert perms.polls.can_create is True
    assert preset.ui is not None
    assert preset.ui["design_tokens"]["theme"] == "dark"
    assert preset.to_dict() == SPEC_PRESET


async def test_get_keeps_enum_values_the_library_does_not_know(
    router: respx.MockRouter, presets: Presets
) -> None:
    body = merged(SPEC_PRESET, {"config": {"view_type": "LIVESTREAM"}})
    body["permissions"]["recorder_type"] = "TRANSCRIBER"
    router.get(f"/presets/{PRESET_ID}").mock(return_value=ok(body))

    preset = await presets.get(PRESET_ID)

    assert preset.config.view_type is ViewType.LIVESTREAM
    assert preset.permissions.recorder_type == "TRANSCRIBER"
    assert preset.permissions.recorder_type is not None
    assert not preset.permissions.recorder_type.known
    assert preset.to_dict()["permissions"]["recorder_type"] == "TRANSCRIBER"


async def test_get_of_a_minimal_preset_leaves_missing_objects_out_of_to_dict(
    router: respx.MockRouter, presets: Presets
) -> None:
    minimal = {"id": PRESET_ID, "name": "bare", "permissions": None}
    router.get(f"/presets/{PRESET_ID}").mock(return_value=ok(minimal))

    preset = await presets.get(PRESET_ID)

    assert preset.config.view_type is None
    assert preset.permissions.can_livestream is None
    assert preset.to_dict() == minimal


async def test_a_preset_that_is_not_the_schema_shape_is_a_decode_error(
    router: respx.MockRouter, presets: Presets
) -> None:
    router.get(f"/presets/{PRESET_ID}").mock(
        return_value=ok({**SPEC_PRESET, "permissions": "all of them"})
    )

    with pytest.raises(ResponseDecodeError, match="PresetPermissions"):
        await presets.get(PRESET_ID)


async def test_a_preset_without_an_id_is_a_decode_error(
    router: respx.MockRouter, presets: Presets
) -> None:
    router.get(f"/presets/{PRESET_ID}").mock(
        return_value=ok({k: v for k, v in SPEC_PRESET.items() if k != "id"})
    )

    with pytest.raises(ResponseDecodeError, match="id"):
        await presets.get(PRESET_ID)


# -- the endpoints ----------------------------------------------------------------------------


async def test_create_posts_the_fields_once_and_decodes_the_answer(
    router: respx.MockRouter, presets: Presets
) -> None:
    body = {k: v for k, v in SPEC_PRESET.items() if k not in ("id", "created_at", "updated_at")}
    route = router.post("/presets").mock(return_value=ok(SPEC_PRESET))

    preset = await presets.create(**body)

    assert route.call_count == 1
    assert sent(route) == body
    assert preset.id == PRESET_ID


async def test_create_accepts_typed_parts_and_a_whole_preset_to_copy(
    router: respx.MockRouter, presets: Presets
) -> None:
    route = router.post("/presets").mock(return_value=ok(SPEC_PRESET))
    original = await presets.create(name="x", permissions=PresetPermissions(can_livestream=True))
    assert sent(route) == {"name": "x", "permissions": {"can_livestream": True}}

    await presets.create(original, name="copy", ui=None)

    expected = {k: v for k, v in SPEC_PRESET.items() if k not in ("id", "created_at", "updated_at")}
    assert sent(route) == {**expected, "name": "copy"}


async def test_create_without_a_name_sends_nothing(
    router: respx.MockRouter, presets: Presets
) -> None:
    route = router.post("/presets").mock(return_value=ok(SPEC_PRESET))

    with pytest.raises(InvalidArgumentError, match="name"):
        await presets.create(config={"view_type": "WEBINAR"})
    with pytest.raises(InvalidArgumentError, match="body"):
        await presets.create(42)  # type: ignore[arg-type]

    assert route.call_count == 0


async def test_create_is_not_resent_after_an_ambiguous_failure_when_the_name_now_exists(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)

    def created_then_lost(request: httpx.Request) -> httpx.Response:
        server.create(request)  # the server acts, then the answer is lost
        return error(502, "Bad Gateway")

    server.posted.mock(side_effect=created_then_lost)

    preset = await presets.create(name="town_hall_host")

    assert server.posted.call_count == 1
    assert preset.name == "town_hall_host"
    assert [p["name"] for p in server.items] == ["town_hall_host"]


async def test_create_is_sent_again_after_an_ambiguous_failure_when_nothing_was_made(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)
    server.posted.mock(side_effect=[error(502, "Bad Gateway"), ok(SPEC_PRESET)])

    preset = await presets.create(name="webinar_host")

    assert server.posted.call_count == 2
    assert preset.id == PRESET_ID


async def test_create_conflict_is_the_callers_to_handle(
    router: respx.MockRouter, presets: Presets
) -> None:
    router.post("/presets").mock(return_value=error(409, "Preset with name x already exists"))

    with pytest.raises(ConflictError, match="already exists"):
        await presets.create(name="x")


async def test_list_walks_the_pages_of_preset_list_items(
    router: respx.MockRouter, presets: Presets
) -> None:
    items = [
        {
            "id": f"id-{n}",
            "name": f"preset_{n}",
            "created_at": "2024-05-01T10:00:00.000Z",
            "updated_at": "2024-05-01T10:00:00.000Z",
        }
        for n in range(3)
    ]
    route = router.get("/presets").mock(
        side_effect=[
            ok(items[:2], paging={"total_count": 3, "start_offset": 1, "end_offset": 2}),
            ok(items[2:], paging={"total_count": 3, "start_offset": 3, "end_offset": 3}),
        ]
    )

    found = await presets.list(per_page=2).to_list()

    assert found == [
        PresetSummary(
            id=f"id-{n}",
            name=f"preset_{n}",
            created_at=found[n].created_at,
            updated_at=found[n].updated_at,
        )
        for n in range(3)
    ]
    assert found[0].created_at is not None
    assert [dict(c.request.url.params) for c in route.calls] == [
        {"page_no": "1", "per_page": "2"},
        {"page_no": "2", "per_page": "2"},
    ]


async def test_update_patches_only_the_given_fields(
    router: respx.MockRouter, presets: Presets
) -> None:
    route = router.patch(f"/presets/{PRESET_ID}").mock(return_value=ok(SPEC_PRESET))

    preset = await presets.update(
        PRESET_ID, name="renamed", permissions={"can_livestream": True}, ui=None
    )

    assert route.call_count == 1
    assert sent(route) == {"name": "renamed", "permissions": {"can_livestream": True}}
    assert preset.id == PRESET_ID


async def test_update_with_nothing_to_change_sends_nothing(
    router: respx.MockRouter, presets: Presets
) -> None:
    route = router.patch(f"/presets/{PRESET_ID}").mock(return_value=ok(SPEC_PRESET))

    with pytest.raises(InvalidArgumentError, match="change"):
        await presets.update(PRESET_ID)

    assert route.call_count == 0


async def test_delete_sends_delete(router: respx.MockRouter, presets: Presets) -> None:
    route = router.delete(f"/presets/{PRESET_ID}").mock(return_value=ok(SPEC_PRESET))

    await presets.delete(PRESET_ID)

    assert route.call_count == 1


async def test_a_missing_preset_is_not_found(router: respx.MockRouter, presets: Presets) -> None:
    router.get(f"/presets/{PRESET_ID}").mock(
        return_value=error(404, f"No preset found for preset_id {PRESET_ID}")
    )

    with pytest.raises(NotFoundError, match="No preset found"):
        await presets.get(PRESET_ID)


@pytest.mark.parametrize("bad", ["", "..", None])
async def test_bad_preset_ids_send_nothing(
    router: respx.MockRouter, presets: Presets, bad: Any
) -> None:
    route = router.route().mock(return_value=ok(SPEC_PRESET))

    with pytest.raises(InvalidArgumentError, match="preset_id"):
        await presets.get(bad)
    with pytest.raises(InvalidArgumentError, match="preset_id"):
        await presets.update(bad, name="x")
    with pytest.raises(InvalidArgumentError, match="preset_id"):
        await presets.delete(bad)

    assert route.call_count == 0


async def test_preset_ids_are_quoted_as_one_path_segment(
    router: respx.MockRouter, presets: Presets
) -> None:
    route = router.get(url__regex=r".*/presets/a%2Fb%3Fc$").mock(return_value=ok(SPEC_PRESET))

    await presets.get("a/b?c")

    assert route.call_count == 1


# -- read, modify, write ----------------------------------------------------------------------


async def test_read_modify_write_keeps_every_unknown_key(
    router: respx.MockRouter, presets: Presets
) -> None:
    stored = merged(SPEC_PRESET, UNKNOWN)
    router.get(f"/presets/{PRESET_ID}").mock(return_value=ok(stored))
    patch = router.patch(f"/presets/{PRESET_ID}").mock(
        side_effect=lambda request: ok({**stored, **json.loads(request.content)})
    )

    preset = await presets.get(PRESET_ID)
    assert preset.to_dict() == stored
    changed = attrs.evolve(
        preset,
        name="webinar_host_v2",
        config=attrs.evolve(preset.config, view_type=ViewType.GROUP_CALL),
        permissions=attrs.evolve(
            preset.permissions,
            can_livestream=True,
            media=attrs.evolve(
                preset.permissions.media,
                audio=attrs.evolve(
                    preset.permissions.media.audio, can_produce=ProduceAccess.ALLOWED
                ),
            ),
        ),
    )
    written = await presets.update(preset.id, changed)

    expected = merged(
        stored,
        {
            "name": "webinar_host_v2",
            "config": {"view_type": "GROUP_CALL"},
            "permissions": {"can_livestream": True, "media": {"audio": {"can_produce": "ALLOWED"}}},
        },
    )
    for key in ("id", "created_at", "updated_at"):
        expected.pop(key)
    assert sent(patch) == expected
    assert written.to_dict() == {**stored, **expected}
    assert written.permissions.can_livestream is True
    assert written.raw["permissions"]["stage_enabled"] is True


async def test_to_dict_is_a_copy_and_equality_sees_unknown_keys(
    router: respx.MockRouter, presets: Presets
) -> None:
    router.get(f"/presets/{PRESET_ID}").mock(
        side_effect=[ok(SPEC_PRESET), ok(SPEC_PRESET), ok(merged(SPEC_PRESET, UNKNOWN))]
    )
    first, second, with_more = [await presets.get(PRESET_ID) for _ in range(3)]

    first.to_dict()["permissions"]["can_livestream"] = True

    assert first.permissions.can_livestream is False
    assert first.to_dict() == SPEC_PRESET
    assert first == second
    assert hash(first) == hash(second)
    assert first != with_more
    assert "raw" not in repr(first)


# -- get-or-create ----------------------------------------------------------------------------


async def test_ensure_livestream_presets_creates_both_with_livestream_permissions(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)

    host, viewer = await presets.ensure_livestream_presets()

    assert server.posted.call_count == 2
    assert sent(server.posted, 0) == livestream_host_body("livestream_host")
    assert sent(server.posted, 1) == livestream_viewer_body("livestream_viewer")
    assert host.name == "livestream_host"
    assert viewer.name == "livestream_viewer"
    hp, vp = host.permissions, viewer.permissions
    assert host.config.view_type is ViewType.WEBINAR
    assert hp.can_livestream is True
    assert hp.can_accept_production_requests is True
    assert hp.kick_participant is hp.disable_participant_audio is True
    assert hp.media.video.can_produce is ProduceAccess.ALLOWED
    assert vp.can_livestream is False
    assert vp.can_accept_production_requests is False
    assert vp.kick_participant is vp.disable_participant_audio is False
    assert vp.media.video.can_produce is ProduceAccess.NOT_ALLOWED
    assert vp.media.audio.can_produce is ProduceAccess.NOT_ALLOWED
    assert vp.polls.can_view is True


async def test_livestream_bodies_carry_every_required_key_of_the_spec() -> None:
    required_permissions = {
        "accept_waiting_requests",
        "can_accept_production_requests",
        "can_edit_display_name",
        "can_spotlight",
        "recorder_type",
        "disable_participant_audio",
        "disable_participant_screensharing",
        "disable_participant_video",
        "kick_participant",
        "pin_participant",
        "can_record",
        "can_livestream",
        "waiting_room_type",
        "plugins",
        "connected_meetings",
        "polls",
        "media",
        "chat",
        "hidden_participant",
        "show_participant_list",
        "can_change_participant_permissions",
    }
    for body in (livestream_host_body(), livestream_viewer_body()):
        assert {"name", "config", "ui"} <= body.keys()
        assert {"view_type", "max_video_streams", "max_screenshare_count", "media"} <= body[
            "config"
        ].keys()
        assert body["config"]["view_type"] in {"GROUP_CALL", "WEBINAR", "AUDIO_ROOM"}
        assert required_permissions <= body["permissions"].keys()
        tokens = body["ui"]["design_tokens"]
        assert {"border_radius", "border_width", "spacing_base", "theme", "colors", "logo"} <= (
            tokens.keys()
        )


async def test_ensure_livestream_presets_returns_existing_presets_unchanged(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)
    server.add({"name": "other"})
    server.add({"name": "livestream_viewer", "permissions": {"can_livestream": True}})
    server.add({"name": "livestream_host", "custom": 1})

    host, viewer = await presets.ensure_livestream_presets()

    assert server.posted.call_count == 0
    assert host.raw["custom"] == 1
    assert viewer.permissions.can_livestream is True


async def test_ensure_livestream_presets_takes_custom_names(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)

    host, viewer = await presets.ensure_livestream_presets(host="stage", viewer="audience")

    assert (host.name, viewer.name) == ("stage", "audience")
    assert [p["name"] for p in server.items] == ["stage", "audience"]


@pytest.mark.parametrize(
    ("host", "viewer", "match"),
    [("", "v", "host"), ("h", "  ", "viewer"), ("same", "same", "different")],
)
async def test_ensure_livestream_presets_refuses_bad_names(
    router: respx.MockRouter, presets: Presets, host: str, viewer: str, match: str
) -> None:
    server = FakePresets(router)

    with pytest.raises(InvalidArgumentError, match=match):
        await presets.ensure_livestream_presets(host=host, viewer=viewer)

    assert server.listed.call_count == 0


async def test_a_lost_create_race_returns_the_winner(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)
    winner: dict[str, Any] = {}

    def another_process_wins(request: httpx.Request) -> httpx.Response:
        winner.update(server.add({"name": "livestream_host", "by": "other process"}))
        return error(409, "Preset with name livestream_host already exists")

    server.posted.mock(side_effect=another_process_wins)

    preset = await presets.get_or_create("livestream_host", livestream_host_body())

    assert server.posted.call_count == 1
    assert preset.id == winner["id"]
    assert preset.raw["by"] == "other process"


@pytest.mark.parametrize("status", [400, 422])
async def test_a_name_taken_error_of_another_status_also_reads_the_winner(
    router: respx.MockRouter, presets: Presets, status: int
) -> None:
    server = FakePresets(router)

    def taken(request: httpx.Request) -> httpx.Response:
        server.add({"name": "host"})
        return error(status, 'BAD_REQUEST: "name" already taken')

    server.posted.mock(side_effect=taken)

    preset = await presets.get_or_create("host")

    assert preset.name == "host"


async def test_other_create_errors_are_raised(router: respx.MockRouter, presets: Presets) -> None:
    server = FakePresets(router)
    server.posted.mock(return_value=error(400, 'BAD_REQUEST: "config.view_type" is invalid'))

    with pytest.raises(BadRequestError, match="view_type"):
        await presets.get_or_create("host", config={"view_type": "NOPE"})

    assert server.posted.call_count == 1


async def test_a_conflict_that_never_shows_a_winner_ends_in_the_conflict(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)
    server.posted.mock(return_value=error(409, "Preset with name host already exists"))

    with pytest.raises(ConflictError):
        await presets.get_or_create("host")

    assert server.posted.call_count == 3
    assert server.listed.call_count == 3


async def test_get_or_create_after_an_ambiguous_failure_reads_instead_of_resending(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)

    def created_then_lost(request: httpx.Request) -> httpx.Response:
        server.create(request)
        return error(504, "Gateway Timeout")

    server.posted.mock(side_effect=created_then_lost)

    preset = await presets.get_or_create("host")

    assert server.posted.call_count == 1
    assert preset.name == "host"


async def test_with_duplicate_names_the_oldest_preset_wins(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router, unique=False)
    oldest = server.add({"name": "host", "n": 1})
    server.add({"name": "host", "n": 2})
    server.items.reverse()  # listed newest first

    preset = await presets.get_or_create("host")

    assert preset.id == oldest["id"]


async def test_a_listed_preset_deleted_before_the_read_is_skipped(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router, unique=False)
    gone = server.add({"name": "host"})
    kept = server.add({"name": "host"})
    server.got.mock(
        side_effect=lambda request, pid: (
            error(404, "No preset found") if pid == gone["id"] else ok(kept)
        )
    )

    preset = await presets.get_or_create("host")

    assert preset.id == kept["id"]


async def test_the_lookup_walks_every_page(router: respx.MockRouter, presets: Presets) -> None:
    server = FakePresets(router)
    for n in range(150):
        server.add({"name": f"p{n}"})
    server.add({"name": "host"})

    preset = await presets.get_or_create("host")

    assert preset.name == "host"
    assert server.posted.call_count == 0
    assert [c.request.url.params["page_no"] for c in server.listed.calls] == ["1", "2"]


async def test_get_or_create_name_wins_over_the_body(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)

    await presets.get_or_create("mine", {"name": "theirs", "config": {"view_type": "WEBINAR"}})

    assert sent(server.posted) == {"name": "mine", "config": {"view_type": "WEBINAR"}}


async def test_twenty_concurrent_callers_send_one_create_per_preset(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)
    results: list[tuple[Preset, Preset]] = []

    async def call() -> None:
        results.append(await presets.ensure_livestream_presets())

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(call)

    assert server.posted.call_count == 2
    assert sorted(p["name"] for p in server.items) == ["livestream_host", "livestream_viewer"]
    assert len(results) == 20
    assert {(h.id, v.id) for h, v in results} == {(server.items[0]["id"], server.items[1]["id"])}


async def test_a_failed_caller_does_not_fail_the_ones_waiting_behind_it(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)
    answers = iter([error(400, "BAD_REQUEST: try again")])

    def first_fails(request: httpx.Request) -> httpx.Response:
        return next(answers, None) or server.create(request)

    server.posted.mock(side_effect=first_fails)
    outcomes: list[str] = []

    async def call() -> None:
        try:
            preset = await presets.get_or_create("host")
        except BadRequestError:
            outcomes.append("error")
        else:
            outcomes.append(preset.name)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(call)

    assert sorted(outcomes) == ["error", "host", "host"]
    assert server.posted.call_count == 2


async def test_a_server_error_on_create_is_not_retried_blindly(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)
    server.posted.mock(return_value=error(503, "Service Unavailable"))

    with pytest.raises(InternalServerError):
        await presets.create(name="host")

    assert server.posted.call_count == 1


async def test_the_lookup_survives_a_server_that_pages_smaller_than_asked(
    router: respx.MockRouter, presets: Presets
) -> None:
    server = FakePresets(router)
    for n in range(30):
        server.add({"name": f"p{n}"})
    server.add({"name": "host"})
    pages = iter(range(1, 10))

    def clamped(request: httpx.Request) -> httpx.Response:
        page_no = next(pages)
        items = server.items[(page_no - 1) * 10 : page_no * 10]
        return ok([{"id": p["id"], "name": p["name"]} for p in items])  # no paging at all

    server.listed.mock(side_effect=clamped)

    preset = await presets.get_or_create("host")

    assert preset.name == "host"
    assert server.posted.call_count == 0
