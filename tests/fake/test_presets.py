"""Presets: stored as sent, unique names, deep-merge on PATCH."""

from __future__ import annotations

import pytest

from dyte_async.resources._preset_bodies import livestream_host_body, livestream_viewer_body
from dyte_async.testing import FakeDyte
from tests.fake import shapes as spec
from tests.fake.conftest import conforms, in_process

pytestmark = pytest.mark.anyio

HOST = {
    **livestream_host_body("livestream_host"),
    "x_unknown_key": {"kept": [1, 2]},
}
VIEWER = livestream_viewer_body("viewer")


async def test_preset_round_trip(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        created = await client.post("/presets", json=HOST)
        preset = created.json()["data"]
        fetched = await client.get(f"/presets/{preset['id']}")
        listed = await client.get("/presets")
    assert created.status_code == 200  # the spec's code for this create
    assert {k: v for k, v in preset.items() if k not in ("id", "created_at", "updated_at")} == HOST
    assert fetched.json()["data"] == preset
    conforms(
        listed.json(), {"success": True, "data": [spec.PRESET_LIST_ITEM], "paging": spec.PAGING}
    )


async def test_duplicate_name_is_409(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        await client.post("/presets", json=HOST)
        again = await client.post("/presets", json=HOST)
        other = (await client.post("/presets", json=VIEWER)).json()["data"]
        rename = await client.patch(f"/presets/{other['id']}", json={"name": HOST["name"]})
        nameless = await client.post("/presets", json={"config": {}})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == 409
    assert rename.status_code == 409
    assert nameless.status_code == 400
    assert nameless.json()["error"]["message"] == 'BAD_REQUEST: "name" is required'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "only-a-name"}, '"config" is required'),
        (
            {**VIEWER, "config": {**VIEWER["config"], "view_type": "STAGE"}},
            '"config.view_type" must be one of [GROUP_CALL, WEBINAR, AUDIO_ROOM]',
        ),
        (
            {
                **VIEWER,
                "config": {
                    **VIEWER["config"],
                    "media": {**VIEWER["config"]["media"], "video": {"quality": "hd"}},
                },
            },
            '"config.media.video.frame_rate" is required',
        ),
        (
            {**VIEWER, "permissions": {**VIEWER["permissions"], "can_livestream": "yes"}},
            '"permissions.can_livestream" must be a boolean',
        ),
        ({**VIEWER, "name": 5}, '"name" must be a string'),
    ],
)
async def test_preset_bodies_are_checked_against_the_spec(
    fake: FakeDyte, body: dict[str, object], message: str
) -> None:
    async with in_process(fake) as client:
        created = await client.post("/presets", json=body)
    assert created.status_code == 400
    assert created.json()["error"]["message"] == f"BAD_REQUEST: {message}"
    assert fake._state.presets == {}


async def test_patch_deep_merges_and_delete(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        preset = (await client.post("/presets", json=HOST)).json()["data"]
        patched = await client.patch(
            f"/presets/{preset['id']}",
            json={"config": {"max_screenshare_count": 2}, "ui": {"design_tokens": {"x": 1}}},
        )
        deleted = await client.delete(f"/presets/{preset['id']}")
        gone = await client.get(f"/presets/{preset['id']}")
    data = patched.json()["data"]
    assert data["config"] == {**HOST["config"], "max_screenshare_count": 2}
    assert data["ui"]["design_tokens"] == {**HOST["ui"]["design_tokens"], "x": 1}
    assert data["x_unknown_key"] == {"kept": [1, 2]}
    assert deleted.json()["data"]["id"] == preset["id"]
    assert gone.status_code == 404
