"""The converter's value hooks, and the errors that say what did not fit.

Timestamps (epoch seconds, offsets, the machine's own time zone), numbers, booleans, strings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import cattrs
import pytest

import dyte_async._convert as convert
import dyte_async.models as models
from dyte_async._convert import make_converter, structure
from dyte_async.errors import ResponseDecodeError
from dyte_async.models import Livestream, LivestreamSession

UTC = timezone.utc


@pytest.fixture(autouse=True)
def own_converter(monkeypatch: pytest.MonkeyPatch) -> cattrs.Converter:
    """This test's own converter: every hook is made for it, none is reused from another test."""
    conv = make_converter()
    monkeypatch.setattr(convert, "converter", conv)
    return conv


# -- timestamps ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1689422288, datetime(2023, 7, 15, 11, 58, 8, tzinfo=UTC)),
        (1689422288.404, datetime(2023, 7, 15, 11, 58, 8, 404000, tzinfo=UTC)),
        (-86400, datetime(1969, 12, 31, tzinfo=UTC)),
    ],
)
def test_epoch_timestamps_are_utc(raw: float, expected: datetime) -> None:
    when = structure({"id": "s", "started_time": raw}, LivestreamSession).started_time

    assert when == expected
    assert when is not None
    assert when.tzinfo is UTC


@pytest.mark.parametrize(
    ("raw", "offset"),
    [
        ("2023-07-15T17:28:08+05:30", timedelta(hours=5, minutes=30)),
        ("2023-07-15T04:58:08-07:00", timedelta(hours=-7)),
        ("2023-07-15T11:58:08+00:00", timedelta(0)),
        ("2023-07-15T11:58:08z", timedelta(0)),
        (" 2023-07-15T11:58:08Z ", timedelta(0)),
        ("2023-07-15T11:58:08", timedelta(0)),
    ],
)
def test_timestamps_with_offsets_keep_them(raw: str, offset: timedelta) -> None:
    when = structure({"id": "s", "started_time": raw}, LivestreamSession).started_time

    assert when == datetime(2023, 7, 15, 11, 58, 8, tzinfo=UTC)
    assert when is not None
    assert when.utcoffset() == offset


def test_datetimes_pass_through_and_naive_ones_are_utc() -> None:
    aware = datetime(2023, 7, 15, 17, 28, 8, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    naive = datetime(2023, 7, 15, 11, 58, 8)

    assert structure({"id": "s", "started_time": aware}, LivestreamSession).started_time is aware
    when = structure({"id": "s", "started_time": naive}, LivestreamSession).started_time
    assert when == naive.replace(tzinfo=UTC)
    assert when is not None
    assert when.tzinfo is UTC


_LOCAL_TZ = """
import json, time
import dyte_async._convert as convert
from dyte_async.models import LivestreamSession

assert time.localtime(0).tm_gmtoff != 0, "TZ was not applied"
out = []
iso = ("2023-07-15T11:58:08", "2023-07-15T11:58:08Z", "2023-07-15T17:28:08+05:30")
moments = (0, 1689422288.5, *iso)
for raw in moments:
    when = convert.structure({"id": "s", "started_time": raw}, LivestreamSession).started_time
    out.append([when.timestamp(), when.utcoffset().total_seconds()])
print(json.dumps(out))
"""


@pytest.mark.parametrize("tz", ["IST-5:30", "PST+8", "NZST-12"])
def test_decoding_does_not_depend_on_the_local_time_zone(tz: str) -> None:
    env = {**os.environ, "TZ": tz, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    run = subprocess.run(
        [sys.executable, "-c", _LOCAL_TZ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == [
        [0.0, 0.0],
        [1689422288.5, 0.0],
        [1689422288.0, 0.0],
        [1689422288.0, 0.0],
        [1689422288.0, 19800.0],
    ]


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [None, [], "text", 1])
def test_structure_of_a_non_object_names_the_class_and_the_type(data: Any) -> None:
    with pytest.raises(ResponseDecodeError, match=rf"for Livestream, got {type(data).__name__}"):
        structure(data, Livestream)


def test_decode_errors_say_what_did_not_fit() -> None:
    with pytest.raises(ResponseDecodeError, match=r"cannot decode Livestream: missing field 'id'"):
        structure({}, Livestream)
    with pytest.raises(
        ResponseDecodeError, match=r"Livestream: Livestream.status: not a LivestreamStatus: bool"
    ):
        structure({"id": "a", "status": True}, Livestream)
    with pytest.raises(ResponseDecodeError) as caught:
        structure({"id": "a", "status": True}, Livestream)
    assert isinstance(caught.value.__cause__, ValueError)


def test_a_bare_key_error_is_a_missing_field() -> None:
    class Broken(Mapping[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise KeyError

        def __iter__(self) -> Any:
            return iter(["id"])

        def __len__(self) -> int:
            return 1

    with pytest.raises(ResponseDecodeError, match=r"cannot decode Livestream: missing field$"):
        structure(Broken(), Livestream)


# -- numbers, booleans, strings -----------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [(3, 3), (3.0, 3), ("3", 3), ("-2.0", -2)])
def test_integers_from_whole_numbers(raw: Any, expected: int) -> None:
    value = structure({"count": raw}, models.LivestreamAnalytics).count
    assert value == expected
    assert type(value) is int


@attrs.frozen
class Strict:
    """Not a model of ours: every field strict, so the hooks' own errors show."""

    count: int = 0
    total_ingest_seconds: float = 0


@pytest.mark.parametrize("raw", [2.5, "2.5", True, None, "x"])
def test_integers_of_anything_else_are_decode_errors(raw: Any) -> None:
    with pytest.raises(ResponseDecodeError):
        structure({"count": raw}, Strict)
    # In a model a count is informational (issue 12): its default, never an error.
    assert structure({"count": raw}, models.LivestreamAnalytics).count == 0


@pytest.mark.parametrize(("raw", "expected"), [(7, 7), (2.5, 2.5), ("2.5", 2.5), ("1e3", 1000.0)])
def test_numbers_keep_their_value(raw: Any, expected: float) -> None:
    value = structure({"total_ingest_seconds": raw}, models.LivestreamAnalytics)
    assert value.total_ingest_seconds == expected
    assert type(value.total_ingest_seconds) is type(expected)


@pytest.mark.parametrize(
    ("raw", "expected"), [("YES", True), ("no", False), ("", False), (2.0, True), (0.0, False)]
)
def test_more_booleans(raw: Any, expected: bool) -> None:
    assert structure({"id": "l", "disabled": raw}, Livestream).disabled is expected


@pytest.mark.parametrize("raw", [True, [], {}, None])
def test_strings_of_anything_but_strings_and_numbers_are_decode_errors(raw: Any) -> None:
    with pytest.raises(ResponseDecodeError, match=f"not a string: {type(raw).__name__}$"):
        structure({"id": raw}, Livestream)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (True, r"TypeError: a bool is not a number$"),
        (None, "not a number: NoneType"),
        ([1], "not a number: list"),
        ("x", "could not convert string to float"),
    ],
)
def test_numbers_of_anything_else_are_decode_errors(raw: Any, message: str) -> None:
    with pytest.raises(ResponseDecodeError, match=message):
        structure({"total_ingest_seconds": raw}, Strict)
    analytics = structure({"total_ingest_seconds": raw}, models.LivestreamAnalytics)
    assert analytics.total_ingest_seconds == 0


def test_float_ids_are_strings_too() -> None:
    assert structure({"id": 1.5}, Livestream).id == "1.5"
