"""Request bodies are checked against the spec's request schemas, nested objects included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dyte_async.testing import FakeDyte
from dyte_async.testing._schema import first_problem
from dyte_async.testing._spec import patched_spec, raw_spec, request_schema, spec_text
from tests.fake.conftest import in_process

pytestmark = pytest.mark.anyio

RECORDING = {
    "max_seconds": 600,
    "video_config": {"codec": "H264", "width": 1280, "height": 720},
    "storage_config": {"type": "aws", "access_key": "AKIA-SECRET", "secret": "s3cr3t"},
}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"title": 5}, '"title" must be a string'),
        ({"recording_config": []}, '"recording_config" must be of type object'),
        (
            {"recording_config": {"video_config": {"codec": "H265"}}},
            '"recording_config.video_config.codec" must be one of [H264, VP8]',
        ),
        (
            {"recording_config": {"max_seconds": 10}},
            '"recording_config.max_seconds" must be greater than or equal to 60',
        ),
        (
            {"recording_config": {"video_config": {"width": 1.5}}},
            '"recording_config.video_config.width" must be an integer',
        ),
        (
            {"recording_config": {"storage_config": {"bucket": "b"}}},
            '"recording_config.storage_config.type" is required',
        ),
        (
            {"recording_config": {"video_config": {"watermark": {"url": "not a uri"}}}},
            '"recording_config.video_config.watermark.url" must be a valid uri',
        ),
        (
            {"recording_config": {"nonsense": True}},
            '"recording_config.nonsense" is not allowed',
        ),
        (
            {"ai_config": {"transcription": {"keywords": ["a", 2]}}},
            '"ai_config.transcription.keywords[1]" must be a string',
        ),
        (
            {"ai_config": {"summarization": {"word_limit": 5000}}},
            '"ai_config.summarization.word_limit" must be less than or equal to 1000',
        ),
        ({"record_on_start": "yes"}, '"record_on_start" must be a boolean'),
    ],
)
async def test_meeting_bodies_are_checked_to_the_leaves(
    fake: FakeDyte, body: dict[str, Any], message: str
) -> None:
    async with in_process(fake) as client:
        created = await client.post("/meetings", json=body)
        meeting = fake.add_meeting(title="kept")
        replaced = await client.put(f"/meetings/{meeting['id']}", json=body)
    assert created.status_code == 400
    assert created.json() == {
        "success": False,
        "error": {"code": 400, "message": f"BAD_REQUEST: {message}"},
    }
    assert replaced.status_code == 400
    assert len(fake._state.meetings) == 1
    assert fake._state.meetings[meeting["id"]].fields["title"] == "kept"


async def test_a_valid_nested_meeting_body_is_stored(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        created = await client.post("/meetings", json={"title": "t", "recording_config": RECORDING})
    assert created.status_code == 201
    stored = fake._state.meetings[created.json()["data"]["id"]]
    assert stored.fields["recording_config"]["video_config"]["codec"] == "H264"


@pytest.mark.parametrize(
    ("route", "path", "body", "message"),
    [
        ("POST", "/livestreams", None, '"value" must be of type object'),
        ("POST", "/livestreams", {"name": "has space"}, "fails to match the required pattern"),
        ("POST", "/livestreams", [], '"value" must be of type object'),
        (
            "POST",
            "/meetings/{m}/livestreams",
            {"video_config": {"height": "x"}},
            "must be an integer",
        ),
        (
            "POST",
            "/meetings/{m}/participants",
            {"preset_name": "p"},
            '"custom_participant_id" is required',
        ),
        (
            "POST",
            "/meetings/{m}/participants",
            {"preset_name": "p", "custom_participant_id": "c", "picture": "nope"},
            '"picture" must be a valid uri',
        ),
        (
            "PATCH",
            "/meetings/{m}",
            {"status": "GONE"},
            '"status" must be one of [ACTIVE, INACTIVE]',
        ),
    ],
)
async def test_other_bodies_are_checked(
    fake: FakeDyte, route: str, path: str, body: Any, message: str
) -> None:
    meeting = fake.add_meeting(title="m")
    async with in_process(fake) as client:
        answer = await client.request(
            route,
            path.replace("{m}", meeting["id"]),
            content=json.dumps(body).encode(),  # `null` is sent as such
            headers={"content-type": "application/json"},
        )
    assert answer.status_code == 400
    assert message in answer.json()["error"]["message"]


def test_the_validator_handles_one_of_and_refs() -> None:
    document = {"components": {"schemas": {"S": {"type": "string", "format": "uuid"}}}}
    schema = {
        "type": "object",
        "properties": {
            "config": {
                "oneOf": [
                    {"$ref": "#/components/schemas/S"},
                    {"type": "object", "properties": {"a": {"type": "boolean"}}},
                ]
            }
        },
    }
    assert (
        first_problem(document, {"config": "8d0e3f7c-1f4c-4a8e-9d55-3f4e2d3c1b2a"}, schema) is None
    )
    assert first_problem(document, {"config": {"a": True}}, schema) is None
    assert (
        first_problem(document, {"config": 5}, schema)
        == '"config" does not match any of the allowed types'
    )
    assert first_problem(document, {"other": 1}, schema) is None  # top level: the endpoint's call
    assert (
        first_problem(document, {"other": 1}, schema, strict_top=True) == '"other" is not allowed'
    )


def test_the_shipped_spec_is_the_official_file() -> None:
    import hashlib

    import yaml  # type: ignore[import-untyped]

    text = spec_text("dyte-v2.yaml")
    assert hashlib.sha256(text.encode()).hexdigest().startswith("f62d3edd")
    assert yaml.safe_load(text) == raw_spec()


def test_every_route_with_a_body_has_a_request_schema() -> None:
    from dyte_async.testing._routes import ROUTES

    with_bodies = {r.key for r in ROUTES if request_schema(r.key) is not None}
    assert "POST /meetings" in with_bodies
    assert "POST /presets" in with_bodies
    assert patched_spec() is patched_spec()


@pytest.mark.parametrize("route", ["/analytics/livestreams/overall", "/livestreams", "/meetings"])
async def test_an_empty_date_in_the_query_is_a_400(fake: FakeDyte, route: str) -> None:
    async with in_process(fake) as client:
        answer = await client.get(f"{route}?start_time=")
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == 'BAD_REQUEST: "start_time" must be a valid date'


async def test_write_only_secrets_are_stored_but_never_returned(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        created = await client.post("/meetings", json={"title": "t", "recording_config": RECORDING})
        meeting_id = created.json()["data"]["id"]
        answers = [
            created,
            await client.get(f"/meetings/{meeting_id}"),
            await client.get("/meetings"),
            await client.patch(f"/meetings/{meeting_id}", json={"title": "u"}),
            await client.put(
                f"/meetings/{meeting_id}", json={"title": "v", "recording_config": RECORDING}
            ),
        ]
    for answer in answers:
        assert answer.status_code in (200, 201)
        assert "AKIA-SECRET" not in answer.text
        assert "s3cr3t" not in answer.text
    storage = created.json()["data"]["recording_config"]["storage_config"]
    assert storage == {"type": "aws"}
    stored = fake._state.meetings[meeting_id].fields["recording_config"]["storage_config"]
    assert stored["access_key"] == "AKIA-SECRET"  # kept, as the API keeps it


async def test_no_null_where_the_spec_says_a_non_nullable_string(fake: FakeDyte) -> None:
    async with in_process(fake) as client:
        meeting = (await client.post("/meetings", json={})).json()["data"]
        participant = (
            await client.post(
                f"/meetings/{meeting['id']}/participants",
                json={"preset_name": "p", "custom_participant_id": "c"},
            )
        ).json()["data"]
        await client.post(f"/meetings/{meeting['id']}/livestreams", json={})
        session = (await client.get(f"/meetings/{meeting['id']}/active-session")).json()["data"]
        kicked = (
            await client.post(
                f"/meetings/{meeting['id']}/active-session/mute",
                json={"participant_ids": [participant["id"]]},
            )
        ).json()["data"]
        independent = (await client.post("/livestreams", json={})).json()["data"]
    assert "title" not in meeting  # Meeting.title: a plain string in the spec
    assert "ended_at" not in session  # ActiveSession.ended_at: idem, while it runs
    assert kicked["participants"][0]["id"] == participant["id"]
    assert "picture" not in kicked["participants"][0]
    assert "name" not in independent  # POST /livestreams: `name` is a plain string
    assert meeting["preferred_region"] is None  # nullable in the spec: kept as null
