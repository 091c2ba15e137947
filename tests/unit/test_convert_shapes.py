"""The spec's odd shapes, schema and example both, as `_convert`'s helpers read them.

ENDPOINTS.md 4.4-4.10: paging at the top or inside `data`, list items as a list or one
object, livestream details in three shapes, a meeting's livestreams in two.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import cattrs
import pytest

import dyte_async._convert as convert
from dyte_async._convert import (
    details_from,
    list_items,
    livestream_details_items,
    make_converter,
    paging_from,
    session_items,
)
from dyte_async.errors import ResponseDecodeError
from dyte_async.models import LivestreamDetails
from tests import spec_examples as ex

UTC = timezone.utc


@pytest.fixture(autouse=True)
def own_converter(monkeypatch: pytest.MonkeyPatch) -> cattrs.Converter:
    """This test's own converter: every hook is made for it, none is reused from another test."""
    conv = make_converter()
    monkeypatch.setattr(convert, "converter", conv)
    return conv


# -- the spec's odd shapes: schema and example both ---------------------------------------------


def test_paging_is_found_at_the_top_or_inside_data() -> None:
    assert paging_from(ex.MEETING_LIVESTREAMS_200)["total_count"] == 1  # example: top level
    assert paging_from(ex.MEETING_LIVESTREAMS_200_SCHEMA)["total_count"] == 1  # schema: in data
    assert paging_from(ex.SESSION_LIVESTREAM_SESSIONS_200)["end_offset"] == 1
    assert paging_from({"data": [1]}) == {}
    assert paging_from({"paging": "none"}) == {}
    assert paging_from({"data": {"paging": 3}}) == {}
    assert paging_from({"paging": {"a": 1}, "data": {"paging": {"b": 2}}}) == {"a": 1}


def test_list_items_take_every_shape() -> None:
    assert list_items([1, 2]) == [1, 2]
    assert list_items({"items": [1], "other": [2]}, "items") == [1]
    assert list_items({"items": {"id": 1}}, "items") == [{"id": 1}]
    assert list_items({"items": None}, "items") == []
    assert list_items({"b": [2]}, "a", "b") == [2]
    # The schema's single object for a list endpoint, with its paging inside.
    (item,) = list_items(ex.ALL_LIVESTREAMS_200_SCHEMA["data"])
    assert "paging" not in item
    assert item["id"] == "3fd739f4-3c41-456e-bfba-6ebd51e16d2d"
    assert list_items({"paging": {"total_count": 0}}) == []
    assert list_items({}) == []


@pytest.mark.parametrize(
    ("data", "match"),
    [("x", "expected a list, got str"), ({"items": 3}, "expected a list under 'items'")],
)
def test_list_items_of_another_shape_are_a_decode_error(data: Any, match: str) -> None:
    with pytest.raises(ResponseDecodeError, match=match):
        list_items(data, "items")


def test_session_items_take_the_example_and_the_schema_shape() -> None:
    (example,) = session_items(ex.SESSION_LIVESTREAM_SESSIONS_200["data"])
    (schema,) = session_items(ex.SESSION_LIVESTREAM_SESSIONS_200_SCHEMA["data"])
    assert example["viewer_seconds"] == 116.11599994199997
    assert schema["id"] == ex.LIVESTREAM_SESSION_200["data"]["id"]
    assert session_items({"sessions": [{"id": 1}]}) == [{"id": 1}]
    assert session_items({"session": {"id": 2}}) == [{"id": 2}]


def _ids(details: LivestreamDetails) -> tuple[str, tuple[str, ...]]:
    return details.livestream.id, tuple(s.id for s in details.sessions)


LS_ID = "b60ef3da-fbbb-441b-9168-8235b0035248"
SESSION_ID = "cf55a850-c3fd-46b5-b5d2-25b3b9aa1686"


@pytest.mark.parametrize(
    "data",
    [
        ex.LIVESTREAM_200["data"],  # example: {livestream, sessions: [...]}
        ex.LIVESTREAM_200_SCHEMA["data"],  # schema: {livestream, session: {}}
        ex.ACTIVE_LIVESTREAM_SESSION_200["data"],
        ex.ACTIVE_LIVESTREAM_SESSION_200_SCHEMA["data"],
        ex.MEETING_LIVESTREAMS_200_SCHEMA["data"],  # {livestreams: [one], sessions: {}}
    ],
)
def test_details_take_every_documented_shape(data: Any) -> None:
    details = details_from(data)

    assert _ids(details) == (LS_ID, (SESSION_ID,))
    assert details.session is not None
    assert details.session.started_time == datetime(2023, 7, 15, 7, 8, 39, tzinfo=UTC)
    assert details.session.ingest_seconds in (60, 118)


def test_flat_details_are_a_livestream_without_sessions() -> None:
    details = details_from(ex.LIVESTREAM_200_RTMP_GUIDE["data"])

    assert details.livestream.status == "OFFLINE"
    assert details.sessions == ()
    assert details_from({"livestream": ex.LIVESTREAM_BASE_X_EXAMPLE}).sessions == ()
    assert details_from({"livestream": {"id": "a"}, "sessions": None}).sessions == ()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([1], "expected a JSON object, got list"),
        ({"livestreams": []}, "expected one livestream, got 0"),
        ({"livestreams": [{"id": "a"}, {"id": "b"}]}, "expected one livestream, got 2"),
        ({"livestream": "a"}, "expected a JSON object for Livestream"),
        ({"livestream": {"id": "a"}, "sessions": [1]}, "expected a JSON object for LivestreamSe"),
    ],
)
def test_details_of_another_shape_are_a_decode_error(data: Any, match: str) -> None:
    with pytest.raises(ResponseDecodeError, match=match):
        details_from(data)


def test_a_meetings_livestreams_take_the_example_and_the_schema_shape() -> None:
    (example,) = livestream_details_items(ex.MEETING_LIVESTREAMS_200["data"])
    (schema,) = livestream_details_items(ex.MEETING_LIVESTREAMS_200_SCHEMA["data"])

    assert _ids(example) == _ids(schema) == (LS_ID, (SESSION_ID,))
    assert example.livestream.disabled is schema.livestream.disabled is False
    assert schema.sessions[0].viewer_seconds == 42.5
    assert livestream_details_items({"livestreams": []}) == []


def test_sessions_go_to_the_livestream_they_name() -> None:
    data = {
        "livestreams": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
        "sessions": [
            {"id": "s1", "livestream_id": "b"},
            {"id": "s2", "livestream_id": "a"},
            {"id": "s3", "livestream_id": "b"},
        ],
    }

    items = livestream_details_items(data)

    assert [_ids(d) for d in items] == [("a", ("s2",)), ("b", ("s1", "s3")), ("c", ())]
    # With one livestream, every session is its own, named or not.
    (only,) = livestream_details_items({"livestreams": [{"id": "a"}], "sessions": data["sessions"]})
    assert _ids(only) == ("a", ("s1", "s2", "s3"))


def test_livestream_and_livestreams_together_are_the_schema_shape() -> None:
    data = {"livestream": {"id": "x"}, "livestreams": [{"id": "a"}], "sessions": {"id": "s"}}

    (details,) = livestream_details_items(data)

    assert _ids(details) == ("a", ("s",))
