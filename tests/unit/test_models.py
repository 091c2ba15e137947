"""The attrs models and the one converter: open enums, the spec's odd value shapes, secrets."""

from __future__ import annotations

import copy
import pickle
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyte_async import (
    Livestream,
    LivestreamDetails,
    LivestreamSession,
    LivestreamStatus,
    Meeting,
    MeetingStatus,
    Page,
    Participant,
    ResponseDecodeError,
)
from dyte_async._convert import structure
from tests import spec_examples as ex

UTC = timezone.utc
KNOWN_STATUSES = {"LIVE", "IDLE", "ERRORED", "INVOKED", "OFFLINE"}


def livestream(**fields: Any) -> Livestream:
    return structure({"id": "ls-1", **fields}, Livestream)


# --- LivestreamStatus ---------------------------------------------------------------------


def test_every_documented_status_is_a_known_member() -> None:
    assert {s.value for s in LivestreamStatus} == KNOWN_STATUSES
    for value in KNOWN_STATUSES:
        status = LivestreamStatus(value)
        assert status is LivestreamStatus[value]
        assert status.known
        assert status == value


def test_an_unknown_status_is_kept_equal_to_its_string() -> None:
    status = LivestreamStatus("STARTING")
    assert status == "STARTING"
    assert str(status) == "STARTING"
    assert isinstance(status, str)
    assert isinstance(status, LivestreamStatus)
    assert not status.known
    assert status != LivestreamStatus.LIVE


def test_an_unknown_status_decodes_without_error() -> None:
    ls = livestream(status="LIVESTREAMING")
    assert ls.status == "LIVESTREAMING"
    assert not ls.status.known
    assert not ls.is_live


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_status_string_decodes_and_round_trips(value: str) -> None:
    ls = livestream(status=value)
    assert ls.status == value
    assert str(ls.status) == value
    assert ls.status.known == (value in KNOWN_STATUSES)
    assert ls.is_live == (value == "LIVE")


def test_models_with_an_unknown_status_pickle_copy_and_hash() -> None:
    ls = livestream(status="STARTING", stream_key="sk-secret")
    assert pickle.loads(pickle.dumps(ls)) == ls
    assert copy.deepcopy(ls) == ls
    assert hash(ls.status) == hash(LivestreamStatus("STARTING"))
    assert {ls.status} == {LivestreamStatus("STARTING")}


@given(st.text())
def test_any_meeting_status_string_decodes(value: str) -> None:
    meeting = structure({"id": "m-1", "status": value}, Meeting)
    assert meeting.status == value
    assert meeting.status is not None
    assert meeting.status.known == (value in {"ACTIVE", "INACTIVE"})


def test_meeting_status_members() -> None:
    assert MeetingStatus("INACTIVE") is MeetingStatus.INACTIVE
    assert MeetingStatus.ACTIVE.known


# --- value shapes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (False, False),
        (True, True),
        ("false", False),
        ("true", True),
        ("TRUE", True),
        (" False ", False),
        ("0", False),
        ("1", True),
        (0, False),
        (1, True),
        (None, False),
    ],
)
def test_disabled_is_a_bool_from_a_bool_or_the_schemas_string(raw: Any, expected: bool) -> None:
    assert livestream(disabled=raw).disabled is expected


def test_disabled_defaults_to_false_when_absent() -> None:
    assert livestream().disabled is False


@pytest.mark.parametrize("raw", ["maybe", "disabled", [], {}])
def test_an_unreadable_disabled_is_false(raw: Any) -> None:
    # Informational (issue 12): the spec's inline schemas type it as a string.
    assert livestream(disabled=raw).disabled is False


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.integers(min_value=-(10**12), max_value=10**12),
        st.floats(allow_nan=False, allow_infinity=False, width=64),
    ),
    st.booleans(),
)
def test_session_seconds_are_numbers_from_numbers_or_strings(value: float, as_string: bool) -> None:
    raw: Any = repr(value) if as_string else value
    session = structure(
        {"id": "s-1", "ingest_seconds": raw, "viewer_seconds": raw}, LivestreamSession
    )
    assert session.ingest_seconds == float(value)
    assert session.viewer_seconds == float(value)


@pytest.mark.parametrize("raw", ["sixty", True, [60], {"s": 60}])
def test_unreadable_seconds_are_none(raw: Any) -> None:
    session = structure({"id": "s-1", "ingest_seconds": raw}, LivestreamSession)
    assert session.ingest_seconds is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023-07-15T11:58:08.404Z", datetime(2023, 7, 15, 11, 58, 8, 404000, tzinfo=UTC)),
        ("2023-07-15T07:08:39.000Z", datetime(2023, 7, 15, 7, 8, 39, tzinfo=UTC)),
        ("2019-08-24T14:15:22Z", datetime(2019, 8, 24, 14, 15, 22, tzinfo=UTC)),
        ("2023-07-15T11:58:08", datetime(2023, 7, 15, 11, 58, 8, tzinfo=UTC)),
        (
            "2023-07-15T17:28:08+05:30",
            datetime(2023, 7, 15, 17, 28, 8, tzinfo=timezone(timedelta(hours=5, minutes=30))),
        ),
    ],
)
def test_timestamps_decode_to_aware_datetimes(raw: str, expected: datetime) -> None:
    ls = livestream(created_at=raw)
    assert ls.created_at == expected
    assert ls.created_at is not None
    assert ls.created_at.tzinfo is not None
    assert ls.created_at.utcoffset() == expected.utcoffset()


@settings(max_examples=100, deadline=None)
@given(
    st.datetimes(
        min_value=datetime(1970, 1, 2),
        max_value=datetime(2200, 1, 1),
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(hours=-7)), timezone(timedelta(hours=9, minutes=30))]
        ),
    )
)
def test_any_iso_timestamp_round_trips(moment: datetime) -> None:
    session = structure({"id": "s-1", "started_time": moment.isoformat()}, LivestreamSession)
    assert session.started_time == moment
    z_form = moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"
    assert (
        structure({"id": "s-1", "started_time": z_form}, LivestreamSession).started_time == moment
    )


@pytest.mark.parametrize("raw", ["yesterday", "2023-13-45T00:00:00Z", [], True])
def test_an_unreadable_timestamp_is_none(raw: Any) -> None:
    assert livestream(created_at=raw).created_at is None


def test_null_timestamps_and_messages_stay_none() -> None:
    session = structure(ex.LIVESTREAM_SESSION_200["data"], LivestreamSession)
    assert session.invoked_time is None
    assert session.stopped_time is None
    assert session.err_message is None


def test_unknown_fields_are_ignored() -> None:
    ls = livestream(status="LIVE", brand_new_field={"nested": [1, 2]}, another=None)
    assert ls == Livestream(id="ls-1", status=LivestreamStatus.LIVE)
    meeting = structure(ex.MEETING_X_EXAMPLE, Meeting)  # has the unknown `waiting_room`
    assert meeting.id == "7f951e37-492b-45dd-8256-7f1660341c17"


@pytest.mark.parametrize("model", [Livestream, LivestreamSession, Meeting, Participant])
def test_a_missing_id_is_a_decode_error_naming_the_field(model: type[Any]) -> None:
    with pytest.raises(ResponseDecodeError, match="id"):
        structure({"status": "LIVE"}, model)


@pytest.mark.parametrize("data", [None, [], "text", 1])
def test_a_non_object_is_a_decode_error(data: Any) -> None:
    with pytest.raises(ResponseDecodeError):
        structure(data, Livestream)


def test_numeric_ids_are_read_as_strings() -> None:
    assert structure({"id": 42}, Livestream).id == "42"


def test_every_example_livestream_decodes() -> None:
    bodies = [
        ex.START_LIVESTREAM_201["data"],
        ex.ACTIVE_LIVESTREAM_200["data"],
        ex.CREATE_LIVESTREAM_201["data"],
        ex.RESET_STREAM_KEY_200["data"],
        ex.DISABLE_LIVESTREAM_200["data"],
        ex.LIVESTREAM_BASE_X_EXAMPLE,
        ex.RTK_CREATE_LIVESTREAM_201["data"],
        *ex.ALL_LIVESTREAMS_200["data"],
    ]
    decoded = [structure(body, Livestream) for body in bodies]
    assert [ls.id for ls in decoded] == [body["id"] for body in bodies]
    assert all(ls.status.known for ls in decoded)


# --- frozen, slots, repr -----------------------------------------------------------------


@pytest.mark.parametrize(
    "obj",
    [
        Livestream(id="a"),
        LivestreamSession(id="s"),
        LivestreamDetails(livestream=Livestream(id="a")),
        Meeting(id="m"),
        Participant(id="p"),
        Page(items=(1, 2)),
    ],
    ids=lambda o: type(o).__name__,
)
def test_models_are_frozen_with_slots(obj: Any) -> None:
    assert attrs.has(type(obj))
    assert not hasattr(obj, "__dict__")
    field = attrs.fields(type(obj))[0].name
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        setattr(obj, field, None)


def test_stream_keys_and_tokens_are_not_in_repr() -> None:
    stream_key = ex.START_LIVESTREAM_201["data"]["stream_key"]
    ls = structure(ex.START_LIVESTREAM_201["data"], Livestream)
    assert ls.stream_key == stream_key
    participant = structure(ex.ADD_PARTICIPANT_201["data"], Participant)
    assert participant.token == ex.PARTICIPANT_TOKEN
    details = LivestreamDetails(livestream=ls)
    page = Page(items=(ls,), total_count=1)
    for text in (repr(ls), str(ls), repr(details), repr(page)):
        assert stream_key not in text
        assert "7088bba8-f522-49a8-b59b-3cd0e946bbb0" in text  # the rest is still shown
    for text in (repr(participant), str(participant)):
        assert ex.PARTICIPANT_TOKEN not in text
        assert "mary@example.com" in text


def test_details_session_is_the_first_or_none() -> None:
    first, second = LivestreamSession(id="s-1"), LivestreamSession(id="s-2")
    assert (
        LivestreamDetails(livestream=Livestream(id="a"), sessions=(first, second)).session == first
    )
    assert LivestreamDetails(livestream=Livestream(id="a")).session is None


def test_page_is_a_sized_iterable_of_its_items() -> None:
    page = Page(items=("a", "b", "c"), total_count=7, start_offset=1, end_offset=3)
    assert len(page) == 3
    assert list(page) == ["a", "b", "c"]
    assert page.page_no == 1


def test_string_seconds_keep_full_float_precision() -> None:
    session = structure({"id": "s", "viewer_seconds": "116.11599994199997"}, LivestreamSession)
    assert session.viewer_seconds == 116.11599994199997
