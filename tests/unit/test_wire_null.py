"""Typed write fields on the wire: None is not sent, `NULL` is sent as JSON null (at any
depth), for meetings, participants and presets; `realtimekit`'s typed options."""

from __future__ import annotations

import copy
import inspect
import pickle

import pytest
import respx

import dyte_async
from dyte_async import NULL, AsyncDyte, MeetingStatus
from dyte_async._client_options import ClientOptions
from dyte_async.models import PresetPermissions
from dyte_async.resources._fields import (
    MeetingFields,
    MeetingUpdateFields,
    Null,
    ParticipantUpdateFields,
    PresetFields,
    request_fields,
    to_wire,
)
from dyte_async.resources._preset_bodies import request_body
from tests import spec_examples as ex
from tests.unit.harness import WireCase, check_wire_case, table
from tests.unit.test_presets import PRESET_ID, SPEC_PRESET, ok, sent

pytestmark = pytest.mark.anyio

MEETING_ID = "7f951e37-492b-45dd-8256-7f1660341c17"
PARTICIPANT_ID = "2b4b2a6e-7f3a-4c55-9a1e-3d9a8f1e2c10"
PARTICIPANTS = f"/meetings/{MEETING_ID}/participants"


CASES = [
    WireCase(
        id="meeting-update-sends-null-for-NULL-and-nothing-for-None",
        call=lambda d: d.meetings.update(
            MEETING_ID,
            title=NULL,
            preferred_region=None,
            ai_config={"summarization": NULL, "transcription": {"language": "en-US"}},
            status=MeetingStatus.INACTIVE,
        ),
        method="PATCH",
        path=f"/meetings/{MEETING_ID}",
        body={
            "title": None,
            "ai_config": {"summarization": None, "transcription": {"language": "en-US"}},
            "status": "INACTIVE",
        },
        answer=ex.with_data(ex.MEETING_200, status="INACTIVE", title=None),
        fields=[("title", None), ("status", MeetingStatus.INACTIVE)],
    ),
    WireCase(
        id="meeting-create-sends-null-for-NULL",
        call=lambda d: d.meetings.create(title=NULL, record_on_start=None, persist_chat=True),
        method="POST",
        path="/meetings",
        body={"title": None, "persist_chat": True},
        status=201,
        answer=ex.MEETING_200,
        fields=[("id", MEETING_ID)],
    ),
    WireCase(
        id="meeting-replace-puts-null",
        call=lambda d: d.meetings.replace(MEETING_ID, title=NULL, live_stream_on_start=False),
        method="PUT",
        path=f"/meetings/{MEETING_ID}",
        body={"title": None, "live_stream_on_start": False},
        answer=ex.MEETING_200,
        fields=[("id", MEETING_ID)],
    ),
    WireCase(
        id="participant-update-removes-the-picture-with-NULL",
        call=lambda d: d.participants.update(
            MEETING_ID, PARTICIPANT_ID, picture=NULL, name="Ann", preset_name=None
        ),
        method="PATCH",
        path=f"{PARTICIPANTS}/{PARTICIPANT_ID}",
        body={"picture": None, "name": "Ann"},
        answer=ex.with_data(ex.ADD_PARTICIPANT_201, name="Ann", picture=None),
        fields=[("name", "Ann"), ("picture", None)],
    ),
]


@table(*CASES)
async def test_null_and_none_on_the_wire(case: WireCase) -> None:
    await check_wire_case(case)


async def test_a_preset_update_sends_null_for_NULL_at_any_depth(
    router: respx.MockRouter, dyte: AsyncDyte
) -> None:
    route = router.patch(f"/presets/{PRESET_ID}").mock(return_value=ok(SPEC_PRESET))
    await dyte.presets.update(
        PRESET_ID,
        {"config": {"view_type": "WEBINAR", "max_screenshare_count": NULL}},
        ui=NULL,
        permissions={"chat": {"private": NULL}},
        name=None,
    )
    assert route.call_count == 1
    assert sent(route) == {
        "config": {"view_type": "WEBINAR", "max_screenshare_count": None},
        "ui": None,
        "permissions": {"chat": {"private": None}},
    }


def test_preset_bodies_take_typed_objects_and_NULL() -> None:
    body = request_body(None, {"permissions": PresetPermissions(can_livestream=True), "ui": NULL})
    assert body == {"permissions": {"can_livestream": True}, "ui": None}


def test_to_wire_copies_only_what_holds_NULL() -> None:
    untouched = {"a": [1, {"b": 2}]}
    assert to_wire(untouched) is untouched
    value = {"a": [1, {"b": NULL}], "c": (NULL,)}
    before = copy.deepcopy(value)
    assert to_wire(value) == {"a": [1, {"b": None}], "c": [None]}
    assert value == before  # the caller's objects are not changed
    assert request_fields({"x": None, "y": NULL, "z": 0}) == {"y": None, "z": 0}


def test_NULL_is_one_falsy_value_that_says_its_name() -> None:
    assert repr(NULL) == str(NULL) == "NULL"
    assert not NULL
    assert NULL is Null.NULL
    assert pickle.loads(pickle.dumps(NULL)) is NULL
    assert copy.deepcopy(NULL) is NULL
    assert dyte_async.NULL is NULL


@pytest.mark.parametrize(
    ("typed", "schema_keys"),
    [
        (
            MeetingFields,
            {
                "title",
                "preferred_region",
                "record_on_start",
                "live_stream_on_start",
                "recording_config",
                "ai_config",
                "persist_chat",
                "summarize_on_end",
            },
        ),
        (
            MeetingUpdateFields,
            {
                "title",
                "preferred_region",
                "record_on_start",
                "live_stream_on_start",
                "status",
                "persist_chat",
                "summarize_on_end",
                "ai_config",
            },
        ),
        (ParticipantUpdateFields, {"name", "picture", "preset_name"}),
        (PresetFields, {"name", "config", "permissions", "ui"}),
    ],
)
def test_the_field_sets_are_the_spec_request_schemas(
    typed: type[object], schema_keys: set[str]
) -> None:
    assert set(typed.__annotations__) == schema_keys
    assert not typed.__required_keys__  # type: ignore[attr-defined]


def test_realtimekit_options_are_the_constructor_options() -> None:
    params = inspect.signature(AsyncDyte.__init__).parameters
    options = {
        name
        for name, p in params.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and not name.startswith("_")
    }
    assert set(ClientOptions.__annotations__) == options
    for name in options:  # the same annotation, as written
        written = ClientOptions.__annotations__[name]
        assert getattr(written, "__forward_arg__", written) == params[name].annotation, name
