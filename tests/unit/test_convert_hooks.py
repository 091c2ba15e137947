"""The converter's hooks one by one: `X | None`, JSON objects, preset objects, enums, sessions.

Each test decodes with a converter of its own (`own_converter`), so a hook cattrs made and
cached for one test is never what another test checks.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Optional, Union

import attrs
import cattrs
import pytest

import dyte_async._convert as convert
from dyte_async._convert import make_converter, structure
from dyte_async.errors import ResponseDecodeError
from dyte_async.models import (
    ActiveSession,
    ActiveSessionStatus,
    JsonObject,
    Livestream,
    LivestreamStatus,
    Meeting,
    Preset,
    PresetConfig,
    ViewType,
)
from tests.unit.test_convert import ACTIVE_SESSION, PRESET

UTC = timezone.utc


@pytest.fixture(autouse=True)
def own_converter(monkeypatch: pytest.MonkeyPatch) -> cattrs.Converter:
    """This test's own converter: every hook is made for it, none is reused from another test."""
    conv = make_converter()
    monkeypatch.setattr(convert, "converter", conv)
    return conv


# -- `X | None`: one lookup of X's hook ---------------------------------------------------------


@attrs.frozen
class Optionals:
    number: int | None = None
    when: Optional[datetime] = None  # noqa: UP045 - the typing.Union spelling, on purpose
    text: Union[str, None] = None  # noqa: UP007
    status: LivestreamStatus | None = None


def test_optional_fields_take_none_or_the_inner_types_value() -> None:
    assert structure({}, Optionals) == Optionals()
    assert structure({"number": None, "when": None, "text": None}, Optionals) == Optionals()
    decoded = structure({"number": "3", "when": 0, "text": 7, "status": "LIVE"}, Optionals)
    assert decoded == Optionals(
        number=3, when=datetime(1970, 1, 1, tzinfo=UTC), text="7", status=LivestreamStatus.LIVE
    )
    assert decoded.status is LivestreamStatus.LIVE
    with pytest.raises(ResponseDecodeError, match="not an integer"):
        structure({"number": 2.5}, Optionals)


@pytest.mark.parametrize("tp", [int | None, Optional[int], Union[None, int]])  # noqa: UP045, UP007
def test_the_hook_of_x_or_none_is_xs_hook_bound_once(
    own_converter: cattrs.Converter, tp: Any
) -> None:
    hook = own_converter.get_structure_hook(tp)

    # Bound to `int` when made: the type passed per value is not looked at again (cattrs'
    # own Optional handling would dispatch on it for every value).
    assert hook("3", str | None) == 3
    assert hook(None, str | None) is None


@attrs.frozen
class Unions:
    value: int | str | None = None


@attrs.frozen
class NoneLess:
    value: int | str = 0


@pytest.mark.parametrize(("cls", "tp"), [(Unions, "int | str | None"), (NoneLess, "int | str")])
def test_other_unions_are_not_taken_for_optionals(cls: type[Any], tp: str) -> None:
    with pytest.raises(ResponseDecodeError, match=rf"Unsupported type: {tp}"):
        structure({"value": "3"}, cls)


# -- `dict[str, Any]`: a JSON object, copied ----------------------------------------------------


def test_json_object_fields_are_plain_dict_copies() -> None:
    config = {"storage": {"bucket": "b"}, "n": 1}
    meeting = structure({"id": "m", "recording_config": config, "ai_config": None}, Meeting)

    assert meeting.recording_config == config
    assert type(meeting.recording_config) is dict
    assert meeting.recording_config is not config
    assert meeting.ai_config is None
    preset = structure({"id": "p", "name": "n", "ui": config}, Preset)
    assert preset.ui == config


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (Meeting, {"id": "m", "recording_config": [1]}),
        (Meeting, {"id": "m", "ai_config": "on"}),
        (ActiveSession, {"id": "s", "meta": ["x"]}),
        (Preset, {"id": "p", "name": "n", "ui": 3}),
    ],
)
def test_a_json_object_field_that_is_no_object_is_left_out(
    cls: type[Any], body: dict[str, Any]
) -> None:
    # Informational (issue 12): None, never a failed call.
    decoded = structure(body, cls)
    (name,) = (key for key in body if key not in ("id", "name"))
    assert getattr(decoded, name) is None


def test_only_dict_of_str_to_any_is_the_json_object_hook() -> None:
    @attrs.frozen
    class Counts:
        counts: dict[str, int]

    assert structure({"counts": {"a": "2"}}, Counts) == Counts(counts={"a": 2})


# -- preset objects: typed fields plus `raw` ----------------------------------------------------


def test_a_preset_object_keeps_its_json_and_a_missing_one_is_empty() -> None:
    config = structure(PRESET["config"], PresetConfig)

    assert config.raw == PRESET["config"]
    assert config.raw is not PRESET["config"]
    assert config.raw["media"] is not PRESET["config"]["media"]  # a deep copy
    assert config.max_video_streams.desktop == 9
    assert structure({"id": "p", "name": "n", "config": None}, Preset).config == PresetConfig()
    assert structure({}, JsonObject) == JsonObject()


@pytest.mark.parametrize(("value", "kind"), [("WEBINAR", "str"), (5, "int"), (["x"], "list")])
def test_a_preset_object_that_is_no_object_is_a_decode_error(value: Any, kind: str) -> None:
    with pytest.raises(
        ResponseDecodeError, match=f"expected a JSON object for PresetConfig, got {kind}"
    ):
        structure({"id": "p", "name": "n", "config": value}, Preset)


def test_a_key_called_raw_is_just_another_key() -> None:
    body = {"view_type": "WEBINAR", "raw": 5}

    config = structure(body, PresetConfig)

    assert config.raw == body
    assert config.to_dict() == body


# -- open enums ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("WEBINAR", "WEBINAR"), ("LIVESTREAM", "LIVESTREAM"), (7, "7")]
)
def test_open_enums_keep_any_string_or_number(value: Any, expected: str) -> None:
    config = structure({"view_type": value}, PresetConfig)

    assert config.view_type == expected
    assert isinstance(config.view_type, ViewType)
    assert structure({"id": "l", "status": value}, Livestream).status == expected


@pytest.mark.parametrize("value", [True, [], {"a": 1}])
def test_an_open_enum_of_another_type_is_a_decode_error(value: Any) -> None:
    # A status is strict; its message names the type, never the value.
    with pytest.raises(
        ResponseDecodeError, match=re.escape(f"not a LivestreamStatus: {type(value).__name__}")
    ):
        structure({"id": "l", "status": value}, Livestream)
    # A preset's view type is informational: None (and `raw` keeps the value).
    assert structure({"view_type": value}, PresetConfig).view_type is None


def test_a_session_status_is_a_string_only() -> None:
    assert (
        structure({"id": "s", "status": "LIVE"}, ActiveSession).status is ActiveSessionStatus.LIVE
    )
    assert structure({"id": "s", "status": "PAUSED"}, ActiveSession).status == "PAUSED"
    with pytest.raises(ResponseDecodeError, match="not a session status: int"):
        structure({"id": "s", "status": 1}, ActiveSession)


# -- active sessions: 'null' times --------------------------------------------------------------


@pytest.mark.parametrize("placeholder", ["", "null", "None", " NULL "])
def test_session_times_that_say_null_are_none(placeholder: str) -> None:
    body = dict.fromkeys(("started_at", "ended_at", "created_at", "updated_at"), placeholder)

    session = structure({"id": "s", **body}, ActiveSession)

    assert (session.started_at, session.ended_at, session.created_at, session.updated_at) == (
        None,
        None,
        None,
        None,
    )


def test_session_times_and_rooms_otherwise_decode() -> None:
    session = structure(ACTIVE_SESSION, ActiveSession)

    assert session.started_at == datetime(2022, 1, 12, 14, 21, 34, 388000, tzinfo=UTC)
    assert session.updated_at == datetime(2022, 1, 12, 14, 26, 0, 784000, tzinfo=UTC)
    (room,) = session.breakout_rooms
    assert room == ActiveSession(id="room-1", status=ActiveSessionStatus("PAUSED"))
    assert structure({"id": "s", "breakout_rooms": None}, ActiveSession).breakout_rooms == ()
    # Informational times (issue 12): None when they cannot be read.
    assert structure({"id": "s", "ended_at": 1.5j}, ActiveSession).ended_at is None
    assert structure({"id": "s", "ended_at": "never"}, ActiveSession).ended_at is None


def test_a_session_that_is_no_object_is_a_decode_error(own_converter: cattrs.Converter) -> None:
    # Breakout rooms are informational: none when they cannot be read.
    assert structure({"id": "s", "breakout_rooms": ["room-1"]}, ActiveSession).breakout_rooms == ()
    with pytest.raises(
        ResponseDecodeError, match="expected a JSON object for ActiveSession, got list"
    ):
        own_converter.structure(["s"], ActiveSession)
