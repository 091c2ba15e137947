"""Tolerant decoding: informational fields never fail a call, strict ones fail without quoting.

Runs on every supported Python (the timestamps especially: 3.10's `fromisoformat` takes only
0, 3 or 6 fraction digits).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dyte_async._convert import parse_datetime, structure
from dyte_async.errors import ResponseDecodeError
from dyte_async.models import (
    ActiveSession,
    Livestream,
    LivestreamAnalytics,
    LivestreamDayAnalytics,
    LivestreamSession,
    Meeting,
    Participant,
    PresetSummary,
    SessionParticipant,
)
from dyte_async.models._base import TOLERANT

UTC = timezone.utc
SECRET = "sk-live-0123456789abcdef-SECRET"

# -- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize("digits", range(13))
def test_any_number_of_fraction_digits(digits: int) -> None:
    fraction = "123456789012"[:digits]
    text = f"2023-07-15T11:58:08{'.' + fraction if digits else ''}Z"
    micro = int(fraction[:6].ljust(6, "0")) if digits else 0

    assert parse_datetime(text) == datetime(2023, 7, 15, 11, 58, 8, micro, tzinfo=UTC)
    assert structure({"id": "l", "created_at": text}, Livestream).created_at == parse_datetime(text)


@pytest.mark.parametrize(
    ("suffix", "offset"),
    [
        ("Z", timedelta(0)),
        ("z", timedelta(0)),
        ("", timedelta(0)),
        ("+00:00", timedelta(0)),
        ("+05:30", timedelta(hours=5, minutes=30)),
        ("+0530", timedelta(hours=5, minutes=30)),
        ("+05", timedelta(hours=5)),
        ("-08:00", timedelta(hours=-8)),
        ("-03:30:15", -timedelta(hours=3, minutes=30, seconds=15)),
        (" +01:00", timedelta(hours=1)),
    ],
)
def test_any_offset(suffix: str, offset: timedelta) -> None:
    parsed = parse_datetime(f"2023-07-15T11:58:08.4041234{suffix}")

    assert parsed == datetime(2023, 7, 15, 11, 58, 8, 404123, tzinfo=timezone(offset))
    assert parsed.utcoffset() == offset


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2023-07-15", datetime(2023, 7, 15, tzinfo=UTC)),
        ("2023-07-15 11:58", datetime(2023, 7, 15, 11, 58, tzinfo=UTC)),
        ("2023-07-15t11:58:08,5Z", datetime(2023, 7, 15, 11, 58, 8, 500000, tzinfo=UTC)),
        (" 2023-07-15T11:58:08Z ", datetime(2023, 7, 15, 11, 58, 8, tzinfo=UTC)),
    ],
)
def test_other_iso_forms(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "yesterday", "2023-13-45T00:00:00Z", "2023-07-15T25:00:00Z", "2023-07-15T11:58:08+25:00"],
)
def test_what_is_no_date_says_so_without_quoting_it(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601") as caught:
        parse_datetime(text)
    assert text.strip() == "" or text not in str(caught.value)


@given(
    st.datetimes(
        min_value=datetime(1971, 1, 1),
        max_value=datetime(9998, 12, 31),
        timezones=st.just(UTC)
        | st.builds(
            timezone,
            st.timedeltas(-timedelta(hours=23), timedelta(hours=23)).map(
                lambda d: timedelta(minutes=d // timedelta(minutes=1))
            ),
        ),
    ),
    st.integers(0, 6),
)
def test_every_isoformat_round_trips(value: datetime, extra: int) -> None:
    text = value.isoformat(timespec="microseconds")
    date_part, _, rest = text.partition(".")
    padded = f"{date_part}.{rest[:6]}{'7' * extra}{rest[6:]}"

    assert parse_datetime(text) == value
    assert parse_datetime(padded) == value


# -- informational fields: kept as their default, with a DEBUG line -----------------------------

MODELS: list[tuple[type[Any], dict[str, Any]]] = [
    (Livestream, {"id": "l"}),
    (LivestreamSession, {"id": "s"}),
    (LivestreamAnalytics, {}),
    (LivestreamDayAnalytics, {}),
    (Meeting, {"id": "m"}),
    (Participant, {"id": "p"}),
    (ActiveSession, {"id": "s"}),
    (SessionParticipant, {"id": "p"}),
    (PresetSummary, {"id": "p"}),
]
TOLERANT_FIELDS = [
    pytest.param(cls, base, field, id=f"{cls.__name__}.{field.name}")
    for cls, base in MODELS
    for field in attrs.fields(cls)
    if field.metadata.get(TOLERANT)
]
UNREADABLE: list[Any] = [{"secret": SECRET}, [SECRET], f"not-a-value-{SECRET}"]


@pytest.mark.parametrize(("cls", "base", "field"), TOLERANT_FIELDS)
def test_an_unreadable_informational_field_is_its_default(
    cls: type[Any], base: dict[str, Any], field: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dyte_async.decode")
    default = field.default  # no informational field has a factory default
    for raw in UNREADABLE:
        if field.type in (str, str | None) and isinstance(raw, str):
            continue  # a string is a fine name
        if field.type == dict[str, Any] | None and isinstance(raw, dict):
            continue  # an object is a fine `meta`
        decoded = structure({**base, field.name: raw}, cls)
        assert getattr(decoded, field.name) == default
    lines = [r.getMessage() for r in caplog.records if r.name == "dyte_async.decode"]
    assert any(line.startswith(f"{cls.__name__}.{field.name}: a JSON ") for line in lines)
    assert all(SECRET not in line for line in lines)


def test_the_prism_shapes_decode() -> None:
    participant = structure(
        {"id": "p1", "created_at": "dolor sit amet", "updated_at": "in", "name": 5},
        SessionParticipant,
    )
    assert (participant.id, participant.created_at, participant.name) == ("p1", None, "5")
    livestream = structure(
        {"id": "l1", "stream_key": SECRET, "disabled": "ullamco", "status": "LIVE"}, Livestream
    )
    assert (livestream.stream_key, livestream.disabled) == (SECRET, False)
    assert structure({"id": "l1", "disabled": "true"}, Livestream).disabled is True


# -- strict fields: a decode error naming the field and the type, never the value --------------

STRICT = [
    (Livestream, {"id": "l"}, "stream_key"),
    (Livestream, {"id": "l"}, "playback_url"),
    (Livestream, {"id": "l"}, "ingest_server"),
    (Livestream, {"id": "l"}, "meeting_id"),
    (Livestream, {"id": "l"}, "status"),
    (Livestream, {}, "id"),
    (Participant, {"id": "p"}, "token"),
    (Participant, {"id": "p"}, "custom_participant_id"),
    (Meeting, {"id": "m"}, "status"),
    (ActiveSession, {"id": "s"}, "status"),
    (SessionParticipant, {"id": "p"}, "user_id"),
]


@pytest.mark.parametrize(("cls", "base", "name"), STRICT)
@pytest.mark.parametrize("raw", [{"key": SECRET}, [SECRET]])
def test_an_unreadable_strict_field_fails_without_quoting_it(
    cls: type[Any], base: dict[str, Any], name: str, raw: Any
) -> None:
    with pytest.raises(ResponseDecodeError, match=rf"{cls.__name__}\.{name}: ") as caught:
        structure({**base, name: raw}, cls)
    error = caught.value
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    for exc in chain:
        assert SECRET not in str(exc)
        assert SECRET not in repr(exc)
        assert all(SECRET not in repr(arg) for arg in exc.args)


# -- schema-shaped answers: strict fields as the schema types them, the rest anything ----------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)
IDS = st.text(min_size=1, max_size=12)


def _schema_shaped(cls: type[Any], strict: dict[str, Any]) -> Any:
    informational = {
        field.name: JSON for field in attrs.fields(cls) if field.metadata.get(TOLERANT)
    }
    return st.fixed_dictionaries(strict, optional=informational)


@pytest.mark.parametrize(
    ("cls", "strict"),
    [
        (
            Livestream,
            {
                "id": IDS,
                "status": st.sampled_from(["LIVE", "IDLE", "ERRORED", "INVOKED", "OFFLINE"]),
                "meeting_id": IDS | st.none(),
                "ingest_server": st.text(max_size=20),
                "stream_key": st.text(max_size=20),
                "playback_url": st.text(max_size=20),
            },
        ),
        (SessionParticipant, {"id": IDS}),
        (Participant, {"id": IDS, "custom_participant_id": IDS, "token": st.text(max_size=20)}),
        (Meeting, {"id": IDS, "status": st.sampled_from(["ACTIVE", "INACTIVE"])}),
        (ActiveSession, {"id": IDS, "status": st.sampled_from(["LIVE", "ENDED"])}),
    ],
)
def test_schema_shaped_objects_always_decode(cls: type[Any], strict: dict[str, Any]) -> None:
    @settings(max_examples=60, deadline=None)
    @given(_schema_shaped(cls, strict))
    def check(data: dict[str, Any]) -> None:
        decoded = structure(data, cls)
        for name in strict:
            assert getattr(decoded, name) == data[name]

    check()
