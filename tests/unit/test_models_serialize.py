"""`to_dict()` / `to_json()` on every result: plain JSON data, secrets redacted unless asked."""

from __future__ import annotations

import inspect
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest

import dyte_async.models as models
from dyte_async._convert import structure
from dyte_async.models import (
    ActiveSession,
    Livestream,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
    Meeting,
    ModerationResult,
    Page,
    Participant,
    Preset,
    SessionParticipant,
)
from tests import spec_examples as ex

REDACTED = "<redacted>"
STREAM_KEY = "sk_ap-south-1_AfnVpeYZjidO_fBpWKody7sDUOEfy9Zc6XAZegkR0Va"
RESULT_CLASSES = sorted(
    (
        cls
        for name in models.__all__
        if inspect.isclass(cls := getattr(models, name)) and attrs.has(cls)
    ),
    key=lambda cls: cls.__name__,
)


def test_every_result_class_is_found() -> None:
    names = {cls.__name__ for cls in RESULT_CLASSES}
    assert {"Livestream", "Meeting", "Participant", "Page", "Preset", "ActiveSession"} <= names


@pytest.mark.parametrize("cls", RESULT_CLASSES, ids=lambda cls: cls.__name__)
def test_every_result_has_to_dict_and_to_json_with_include_secrets(cls: type[Any]) -> None:
    for method in ("to_dict", "to_json"):
        parameters = inspect.signature(getattr(cls, method)).parameters
        assert parameters["include_secrets"].default is False
        assert parameters["include_secrets"].kind is inspect.Parameter.KEYWORD_ONLY


def test_a_livestream_redacts_its_stream_key_unless_asked() -> None:
    ls = structure(ex.START_LIVESTREAM_201["data"], Livestream)
    assert ls.stream_key == STREAM_KEY
    plain = ls.to_dict()
    assert plain["stream_key"] == REDACTED
    assert STREAM_KEY not in ls.to_json()
    assert ls.to_dict(include_secrets=True)["stream_key"] == STREAM_KEY
    assert json.loads(ls.to_json(include_secrets=True))["stream_key"] == STREAM_KEY
    assert plain["id"] == ls.id
    assert plain["status"] == str(ls.status)
    assert plain["playback_url"] == ls.playback_url


def test_an_absent_secret_stays_none() -> None:
    assert Livestream(id="ls").to_dict()["stream_key"] is None
    assert Participant(id="p").to_dict()["token"] is None


def test_a_participant_redacts_its_token_unless_asked() -> None:
    p = Participant(id="p1", custom_participant_id="mary", token=ex.PARTICIPANT_TOKEN)
    assert p.to_dict()["token"] == REDACTED
    assert ex.PARTICIPANT_TOKEN not in p.to_json()
    assert p.to_dict(include_secrets=True)["token"] == ex.PARTICIPANT_TOKEN


def test_datetimes_become_iso_strings_with_their_offset() -> None:
    when = datetime(2024, 5, 1, 12, 30, 5, 123000, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    plain = Livestream(id="ls", created_at=when).to_dict()
    assert plain["created_at"] == "2024-05-01T12:30:05.123000+05:30"
    assert datetime.fromisoformat(plain["created_at"]) == when
    assert plain["updated_at"] is None


def test_enums_become_their_value_known_or_not() -> None:
    assert Livestream(id="a", status=LivestreamStatus.LIVE).to_dict()["status"] == "LIVE"
    unknown = Livestream(id="a", status=LivestreamStatus("STARTING")).to_dict()["status"]
    assert unknown == "STARTING"
    assert type(unknown) is str


def test_nested_results_and_lists_are_plain_and_redacted_at_every_depth() -> None:
    ls = Livestream(id="ls", stream_key=STREAM_KEY)
    details = LivestreamDetails(livestream=ls, sessions=(LivestreamSession(id="s1"),))
    plain = details.to_dict()
    assert plain["livestream"]["stream_key"] == REDACTED
    assert plain["sessions"] == [LivestreamSession(id="s1").to_dict()]
    assert type(plain["sessions"]) is list
    page = Page(items=(ls, ls), total_count=2)
    assert [item["stream_key"] for item in page.to_dict()["items"]] == [REDACTED, REDACTED]
    assert page.to_dict(include_secrets=True)["items"][0]["stream_key"] == STREAM_KEY
    assert page.to_dict()["total_count"] == 2


def test_the_output_is_plain_json_data_a_strict_encoder_takes() -> None:
    details = LivestreamDetails(
        livestream=Livestream(id="ls", created_at=datetime(2024, 1, 1, tzinfo=timezone.utc)),
        sessions=(LivestreamSession(id="s", ingest_seconds=float("nan")),),
    )
    text = json.dumps(details.to_dict(), allow_nan=False)
    assert json.loads(text) == details.to_dict()
    assert details.to_dict()["sessions"][0]["ingest_seconds"] is None


def test_secrets_inside_free_form_objects_are_redacted() -> None:
    storage = {"type": "aws", "bucket": "b", "access_key": "AKIA123", "secret": "s3cr3t"}
    meeting = Meeting(id="m", recording_config={"storage_config": storage, "max_seconds": 60})
    plain = meeting.to_dict()["recording_config"]
    assert plain["storage_config"] == {
        "type": "aws",
        "bucket": "b",
        "access_key": REDACTED,
        "secret": REDACTED,
    }
    assert plain["max_seconds"] == 60
    assert "s3cr3t" not in meeting.to_json()
    kept = meeting.to_dict(include_secrets=True)["recording_config"]["storage_config"]
    assert kept == storage
    session = ActiveSession(id="s", meta={"refresh_token": "t0k", "design_tokens": {"x": 1}})
    assert session.to_dict()["meta"] == {"refresh_token": REDACTED, "design_tokens": {"x": 1}}


def test_to_dict_gives_new_objects() -> None:
    meeting = Meeting(id="m", recording_config={"a": {"b": 1}})
    plain = meeting.to_dict()
    plain["recording_config"]["a"]["b"] = 2
    assert meeting.recording_config == {"a": {"b": 1}}


def test_to_json_takes_an_indent() -> None:
    text = SessionParticipant(id="p").to_json(indent=2)
    assert text.startswith("{\n  ")
    assert json.loads(text)["id"] == "p"


def test_a_moderation_result_is_plain() -> None:
    result = ModerationResult(action="kick", participants=(SessionParticipant(id="p"),), count=1)
    assert result.to_dict() == {
        "action": "kick",
        "participants": [SessionParticipant(id="p").to_dict()],
        "count": 1,
    }


def test_a_preset_to_dict_is_still_its_json_and_to_json_matches() -> None:
    preset = structure({"id": "p1", "name": "host", "ui": {"design_tokens": {"a": 1}}}, Preset)
    assert preset.to_dict() == preset.to_dict(include_secrets=True)
    assert preset.to_dict()["ui"] == {"design_tokens": {"a": 1}}
    assert json.loads(preset.to_json()) == preset.to_dict()


# -- pydantic / FastAPI ------------------------------------------------------------------------


@pytest.mark.parametrize("cls", RESULT_CLASSES, ids=lambda cls: cls.__name__)
def test_every_result_is_a_pydantic_type_with_a_json_schema(cls: type[Any]) -> None:
    pydantic = pytest.importorskip("pydantic", reason="pydantic is not installed")
    adapter = pydantic.TypeAdapter(cls)
    schema = adapter.json_schema()
    assert schema["type"] == "object"
    if "raw" not in attrs.fields_dict(cls):
        assert set(schema["properties"]) == set(attrs.fields_dict(cls))


def test_pydantic_serializes_by_to_dict_and_validates_instances_only() -> None:
    pydantic = pytest.importorskip("pydantic", reason="pydantic is not installed")
    ls = structure(ex.START_LIVESTREAM_201["data"], Livestream)
    adapter = pydantic.TypeAdapter(list[Livestream])
    assert adapter.dump_python([ls], mode="json") == [ls.to_dict()]
    assert STREAM_KEY not in adapter.dump_json([ls]).decode()
    assert adapter.validate_python([ls]) == [ls]
    with pytest.raises(pydantic.ValidationError):
        adapter.validate_python([{"id": "ls"}])


def test_a_recursive_result_has_a_finite_schema() -> None:
    pydantic = pytest.importorskip("pydantic", reason="pydantic is not installed")
    schema = pydantic.TypeAdapter(ActiveSession).json_schema()
    rooms = schema["properties"]["breakout_rooms"]
    assert rooms["type"] == "array"
    assert rooms["items"] == {"type": "object", "title": "ActiveSession"}


def test_importing_the_models_does_not_import_pydantic() -> None:
    import subprocess
    import sys

    code = "import sys, dyte_async.models; print('pydantic' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
